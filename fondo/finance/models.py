"""Tables of the finance shell (issue 4): stored finance cases and their Monte Carlo runs.

A case row keeps the request exactly as the engine read it (energy filled from a yield
study when one was named) and the engine's whole answer (``metrics``, ``tranches``,
``cashflows``), so that a case can be shown, exported and re-run without recomputing.
A few headline figures are also columns (unit-carrying names) for listing and sorting.
A Monte Carlo run is a long task: its row points at the job and holds the summary once
the task has finished (one row per job: a re-delivered task rewrites the same row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fondo.orm import Base, JobState, UTCDateTime, _enum, utcnow

#: Request fields the shell keeps in their own columns and does not hand to the engine.
SHELL_FIELDS = ("name", "project_id", "study_id")


class FinanceCase(Base):
    """A finance case: one project's cash flows, capital stack and returns."""

    __tablename__ = "finance_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    study_id: Mapped[int | None] = mapped_column(ForeignKey("yield_studies.id"))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    capacity_mw: Mapped[float] = mapped_column(Float)
    capex_usd: Mapped[float] = mapped_column(Float)
    npv_usd: Mapped[float | None] = mapped_column(Float)
    project_irr_after_tax: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FinanceMonteCarloRun(Base):
    """A Monte Carlo run of a stored case (a Celery task with a job row)."""

    __tablename__ = "finance_montecarlo_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("finance_cases.id"), index=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.PENDING)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
