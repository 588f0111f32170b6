"""Tables of screenings: one row per screening run.
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

from fondo.geometry import Geometry
from fondo.orm import Base, JobState, Technology, UTCDateTime, _enum, utcnow


class ScreeningRun(Base):
    """A screening of a corridor or polygon at a resolution, for one technology."""

    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    geometry: Mapped[Any | None] = mapped_column(Geometry())
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    resolution_km: Mapped[float] = mapped_column(Float)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.PENDING)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"))
    cell_count: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cells_file: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

