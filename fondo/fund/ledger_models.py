"""Tables of the LP ledger, the allocations of projects' tranches and the concentration
limits (issue 11). Money columns are exact decimals (:class:`fondo.fund.money.ExactDecimal`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fondo.fund.money import RATE_SCALE, ExactDecimal
from fondo.orm import Base, UTCDateTime, _enum, utcnow


class LedgerEntryKind(str, enum.Enum):
    """What moved between an LP and the fund."""

    CAPITAL_CALL = "capital_call"  #: the LP paid capital in (reduces its unfunded commitment)
    MANAGEMENT_FEE = "management_fee"  #: the LP paid the manager's fee (also drawn on commitment)
    DISTRIBUTION = "distribution"  #: the fund paid the LP


class TrancheKind(str, enum.Enum):
    """The part of a project's capital stack an allocation takes."""

    EQUITY = "equity"
    DEBT = "debt"


class HolderKind(str, enum.Enum):
    """Who holds an allocation: the fund itself or a co-investor beside it."""

    FUND = "fund"
    CO_INVESTOR = "co_investor"


class LimitDimension(str, enum.Enum):
    """What a concentration limit groups the fund's allocations by."""

    STATE = "state"  #: the project's INEGI state key
    CORRIDOR = "corridor"  #: the project's corridor id
    TECHNOLOGY = "technology"  #: pv, wind
    PROJECT = "project"  #: a single project (key = project id)


class LedgerEntry(Base):
    """One capital call, management fee or distribution of one LP, in the LP's currency.

    ``amount_fund_currency`` is ``amount / fx_rate`` rounded half-even to the fund
    currency's minor unit; ``fx_rate`` (units of the LP's currency per unit of the fund's)
    and its date are stated on every entry (1 and the entry's date when the currencies
    are the same).
    """

    __tablename__ = "fund_ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    limited_partner_id: Mapped[int] = mapped_column(
        ForeignKey("limited_partners.id", ondelete="CASCADE"), index=True)
    kind: Mapped[LedgerEntryKind] = mapped_column(_enum(LedgerEntryKind, "ledger_entry_kind"))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))
    effective_date: Mapped[date] = mapped_column(Date)
    fx_rate: Mapped[Decimal] = mapped_column(ExactDecimal(24, RATE_SCALE))
    fx_rate_date: Mapped[date] = mapped_column(Date)
    fx_source: Mapped[str | None] = mapped_column(String(200))
    amount_fund_currency: Mapped[Decimal] = mapped_column(ExactDecimal())
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Allocation(Base):
    """A share of one tranche of a project's capital stack, held by the fund or a co-investor.

    ``tranche`` names the tranche of the project's finance case whose flows the holder
    receives (``amount`` over that tranche's invested amount); ``start_year`` is the
    calendar year of the case's model year 0 (the fund's vintage year when absent).
    """

    __tablename__ = "fund_allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    tranche_kind: Mapped[TrancheKind] = mapped_column(_enum(TrancheKind, "tranche_kind"))
    tranche: Mapped[str | None] = mapped_column(String(100))
    holder_kind: Mapped[HolderKind] = mapped_column(_enum(HolderKind, "holder_kind"))
    co_investor_name: Mapped[str | None] = mapped_column(String(200))
    limited_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("limited_partners.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))
    fx_rate: Mapped[Decimal] = mapped_column(ExactDecimal(24, RATE_SCALE))
    fx_rate_date: Mapped[date] = mapped_column(Date)
    fx_source: Mapped[str | None] = mapped_column(String(200))
    amount_fund_currency: Mapped[Decimal] = mapped_column(ExactDecimal())
    start_year: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConcentrationLimit(Base):
    """At most ``max_fraction`` of the fund's commitments in one group of ``dimension``.

    ``key`` names one group (a state key, a corridor id, a technology, a project id); no
    key applies the limit to every group of the dimension. A warning is given from
    ``warn_at × max_fraction`` on (0.9: at 90 % of the limit).
    """

    __tablename__ = "fund_concentration_limits"
    __table_args__ = (UniqueConstraint("fund_id", "dimension", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    dimension: Mapped[LimitDimension] = mapped_column(_enum(LimitDimension, "limit_dimension"))
    key: Mapped[str | None] = mapped_column(String(64))
    max_fraction: Mapped[float] = mapped_column(Float)
    warn_at: Mapped[float] = mapped_column(Float, default=0.9)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
