"""Tables of the fund: the fund, its limited partners, its projects and candidate sites.

Rows created by ``fondo seed --demo`` carry ``is_demo = true`` and say so wherever shown.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Date,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fondo.fund.money import RATE_SCALE, ExactDecimal
from fondo.geometry import Geometry
from fondo.orm import Base, Technology, UTCDateTime, _enum, utcnow


class PipelineStage(str, enum.Enum):
    """Stages a project moves through in the fund's pipeline (issue 11), in order, plus
    ``dropped`` (left the pipeline, with its reason in the project's history).

    The moves and the gates that guard them are :mod:`fondo.fund.transitions` and
    :mod:`fondo.fund.gates`.
    """

    ORIGINATION = "origination"
    SCREENING = "screening"
    DUE_DILIGENCE = "due_diligence"
    CONSULTATION = "consultation"
    FINANCIAL_CLOSE = "financial_close"
    CONSTRUCTION = "construction"
    OPERATION = "operation"
    DROPPED = "dropped"


class LimitedPartnerKind(str, enum.Enum):
    """Kinds of investor a limited partner is (issue 11)."""

    PENSION_FUND = "pension_fund"
    DEVELOPMENT_FINANCE_INSTITUTION = "development_finance_institution"
    DEVELOPMENT_BANK = "development_bank"
    OTHER = "other"


class Fund(Base):
    """The fund (a limited partnership), its target size and the terms of its waterfall.

    The waterfall terms are :class:`finance.portfolio.WaterfallTerms`' (fractions, not
    percent); the management fee is charged on total commitments for
    ``management_fee_years`` years from ``vintage_year``; ``discount_rate`` discounts the
    projected flows into the net asset value.
    """

    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    target_size_usd: Mapped[float | None] = mapped_column(Float)
    vintage_year: Mapped[int | None] = mapped_column(Integer)
    preferred_return_rate: Mapped[float] = mapped_column(
        Float, default=0.08, server_default=text("0.08"))
    carried_interest_rate: Mapped[float] = mapped_column(
        Float, default=0.2, server_default=text("0.2"))
    catch_up_rate: Mapped[float] = mapped_column(
        Float, default=1.0, server_default=text("1.0"))
    management_fee_rate: Mapped[float] = mapped_column(
        Float, default=0.02, server_default=text("0.02"))
    management_fee_years: Mapped[int] = mapped_column(
        Integer, default=10, server_default=text("10"))
    discount_rate: Mapped[float] = mapped_column(
        Float, default=0.08, server_default=text("0.08"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    limited_partners: Mapped[list[LimitedPartner]] = relationship(back_populates="fund")
    projects: Mapped[list[Project]] = relationship(back_populates="fund")


class LimitedPartner(Base):
    """An investor's commitment to the fund, in its own currency (an exact decimal).

    ``kind`` is a :class:`LimitedPartnerKind` value. A commitment in another currency than
    the fund's states the rate that fixes its fund-currency value (units of the LP's
    currency per unit of the fund's) and the rate's date: the LP's share of the fund is
    its commitment at that rate over all commitments.
    """

    __tablename__ = "limited_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    kind: Mapped[str] = mapped_column(String(64))  # pension fund, DFI, development bank, ...
    commitment_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    commitment_currency: Mapped[str] = mapped_column(String(3))
    fx_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(24, RATE_SCALE))
    fx_rate_date: Mapped[date | None] = mapped_column(Date)
    fx_source: Mapped[str | None] = mapped_column(String(200))
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
    """A solar or wind park the fund develops or holds.

    ``version`` is the optimistic lock (issue 11 item 9): SQLAlchemy adds ``WHERE version =
    <read>`` to every UPDATE and increments it, so a writer that read an older row changes
    nothing (:mod:`fondo.fund.projects` turns that into a 409 with the current version).
    Linked yield studies are :class:`ProjectStudy`; finance cases and consultations point
    at the project from their own tables.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    capacity_ac_mw: Mapped[float | None] = mapped_column(Float)
    capacity_dc_mw: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[PipelineStage] = mapped_column(
        _enum(PipelineStage, "pipeline_stage"), default=PipelineStage.ORIGINATION
    )
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    state_key: Mapped[str | None] = mapped_column(String(2))
    municipality_key: Mapped[str | None] = mapped_column(String(5))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    fund: Mapped[Fund | None] = relationship(back_populates="projects")
    site: Mapped[Site | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class ProjectTransition(Base):
    """One move of a project between stages: who, when, why, and the gates as evaluated.

    Append-only in the code (no update or delete path); the project's history is these rows
    in ``id`` order. The first row of a project created through the API is its creation
    (``from_stage`` null).
    """

    __tablename__ = "project_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    from_stage: Mapped[PipelineStage | None] = mapped_column(_enum(PipelineStage, "pipeline_stage"))
    to_stage: Mapped[PipelineStage] = mapped_column(_enum(PipelineStage, "pipeline_stage"))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(320))  # e-mail of the user, or "cli" / "demo"
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    gates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectStudy(Base):
    """A yield study linked to a project, and its approval for financial close (who, when).

    The ``yield_studies`` table is the studies feature's and is not changed: the link and the
    approval live here.
    """

    __tablename__ = "project_studies"
    __table_args__ = (UniqueConstraint("project_id", "study_id",
                                       name="uq_project_studies_project_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("yield_studies.id"))
    linked_by: Mapped[str] = mapped_column(String(320))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(320))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approval_note: Mapped[str | None] = mapped_column(Text)


class Site(Base):
    """A candidate site: a point or a polygon drawn or dropped by an officer."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    technology: Mapped[Technology] = mapped_column(_enum(Technology, "technology"))
    corridor_id: Mapped[str | None] = mapped_column(ForeignKey("corridors.id"))
    geometry: Mapped[Any] = mapped_column(Geometry())
    area_km2: Mapped[float | None] = mapped_column(Float)
    #: The last site check (``fondo.screening.service.check_site_request``'s answer) plus
    #: ``checked_at`` and ``checked_by``; the due-diligence gate reads it.
    check_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)



# The LP ledger, allocations and limits (issue 11) live in their own module; importing it
# here registers their tables with the fund's (fondo.models lists this module).
from fondo.fund.ledger_models import (  # noqa: E402,F401
    Allocation,
    ConcentrationLimit,
    LedgerEntry,
)
