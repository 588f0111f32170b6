"""Tables of the fund: the fund, its limited partners, its projects and candidate sites.

Rows created by ``fondo seed --demo`` carry ``is_demo = true`` and say so wherever shown.
"""

from __future__ import annotations

import enum
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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fondo.geometry import Geometry
from fondo.orm import Base, Technology, UTCDateTime, _enum, utcnow


class PipelineStage(str, enum.Enum):
    """Stages a project moves through in the fund's pipeline."""

    SCREENING = "screening"
    DEVELOPMENT = "development"
    CONSULTATION = "consultation"
    FINANCING = "financing"
    CONSTRUCTION = "construction"
    OPERATION = "operation"
    WITHDRAWN = "withdrawn"


class Fund(Base):
    """The fund (a limited partnership) and its target size."""

    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    target_size_usd: Mapped[float | None] = mapped_column(Float)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    limited_partners: Mapped[list[LimitedPartner]] = relationship(back_populates="fund")
    projects: Mapped[list[Project]] = relationship(back_populates="fund")


class LimitedPartner(Base):
    """An investor's commitment to the fund, in its own currency."""

    __tablename__ = "limited_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    kind: Mapped[str] = mapped_column(String(64))  # pension fund, DFI, development bank, ...
    commitment_amount: Mapped[float] = mapped_column(Float)
    commitment_currency: Mapped[str] = mapped_column(String(3))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    fund: Mapped[Fund] = relationship(back_populates="limited_partners")


class LimitedPartnerUser(Base):
    """An investor user who acts for a limited partner (and so sees its fund's cases).

    Many-to-many: an LP has several people, and one person may act for the same
    institution's commitments to several funds.
    """

    __tablename__ = "limited_partner_users"

    limited_partner_id: Mapped[int] = mapped_column(
        ForeignKey("limited_partners.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Project(Base):
    """A solar or wind park the fund develops or holds."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    capacity_ac_mw: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[PipelineStage] = mapped_column(
        _enum(PipelineStage, "pipeline_stage"), default=PipelineStage.SCREENING
    )
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    state_key: Mapped[str | None] = mapped_column(String(2))
    municipality_key: Mapped[str | None] = mapped_column(String(5))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    fund: Mapped[Fund | None] = relationship(back_populates="projects")
    site: Mapped[Site | None] = relationship()


class Site(Base):
    """A candidate site: a point or a polygon drawn or dropped by an officer."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    geometry: Mapped[Any] = mapped_column(Geometry())
    area_km2: Mapped[float | None] = mapped_column(Float)
    check_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

