"""Tables of yield studies: one row per stored study.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from fondo.orm import Base, JobState, Technology, UTCDateTime, _enum, utcnow


class YieldStudy(Base):
    """A stored energy-yield study of a site (PV or wind)."""

    __tablename__ = "yield_studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hourly_file: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.PENDING)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"))
    energy_p50_mwh: Mapped[float | None] = mapped_column(Float)
    energy_p90_mwh: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

