"""Case inputs of the finance engine: the project, its capital stack and FX paths.

`CaseInputs.from_dict` parses the request of ``POST /api/v1/finance/cases`` (issue 4;
its field names are a fixed contract) into frozen dataclasses and validates them.
Every rejection raises :class:`FinanceInputError`, a ``ValueError`` whose ``field``
names the offending request field (``"capex_usd"``, ``"tranches[2].target_dscr"``) so
the shell can answer with a problem-details document naming it.

Conventions
-----------
* Money is nominal US dollars unless a name says otherwise; rates are fractions per
  year (``discount_rate=0.08``), never percent.
* Year 0 is the first construction year. With ``construction_years = C`` the CAPEX
  falls in years ``0 … C-1`` and operation runs in years ``C … C+life_years-1``; with
  ``C = 1`` operation runs in years ``1 … life_years`` as the contract states.
* Prices and costs are given in money of the first operating year ("year-1 money") and
  escalate from there: operating year ``k = 1, 2, …`` carries the factor
  ``(1 + escalation)**(k-1)``. The real LCOE, by contrast, is in year-0 money (SAM's
  convention: nominal costs deflated to model year 0).
* A debt tranche lives in its own currency: its principal is fixed in that currency
  (``amount``, or ``share`` × CAPEX converted at the spot of financial close, model year
  0), it is drawn, accrues interest and is repaid in that currency, and each payment is
  converted to US dollars at the FX path of the year it is paid, so FX moves show in the
  project's coverage ratios.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from finance.tax import (
    DEPRECIATION_METHODS,
    ISR_RATE,
    PTU_RATE,
    RENEWABLE_FIRST_YEAR_DEDUCTION,
    STRAIGHT_LINE_RATE_ELECTRICITY,
)

__all__ = [
    "FinanceInputError",
    "FxPathInputs",
    "TrancheInputs",
    "CaseInputs",
    "TRANCHE_KINDS",
    "EQUITY_KINDS",
    "DEBT_KINDS",
    "CURRENCIES",
    "USD_INFLATION_TARGET",
    "DSRA_MONTHS_CONVENTION",
    "SHARE_SUM_TOLERANCE",
    "DEFAULT_MAX_TOTAL_GEARING",
]

#: Kinds of tranche the capital stack may hold.
TRANCHE_KINDS = ("equity", "first_loss_equity", "senior_debt", "concessional_debt", "guarantee")
#: Kinds that hold the project's equity (their ``share`` values must sum to one).
EQUITY_KINDS = ("equity", "first_loss_equity")
#: Kinds that lend money to the project.
DEBT_KINDS = ("senior_debt", "concessional_debt")
#: Currencies a tranche may be denominated in (ISO 4217).
CURRENCIES = ("USD", "MXN", "CAD")

#: Long-run US inflation the real LCOE deflates by when no ``inflation_rate`` is given:
#: 2 % a year. Source: Federal Open Market Committee, *Statement on Longer-Run Goals and
#: Monetary Policy Strategy* (January 2012, reaffirmed yearly). [1/year]
USD_INFLATION_TARGET = 0.02

#: Debt service reserve account size when none is given: six months of senior debt
#: service, the usual covenant. Source: E. R. Yescombe, *Principles of Project Finance*,
#: 2nd ed., Academic Press (2014), chapter on reserve accounts. [months]
DSRA_MONTHS_CONVENTION = 6.0

#: Most debt of every rank (senior and concessional, at COD, interest during construction
#: included) as a fraction of CAPEX when a case gives no ``max_total_gearing``: 90 %, the
#: highest debt:equity ratio (90:10) Yescombe reports for projects with a contracted
#: revenue stream; power projects with a PPA usually close at 80:20 or less.
#: Source: E. R. Yescombe, *Principles of Project Finance*, 2nd ed., Academic Press (2014),
#: §12.5 "Debt:equity ratio". [-]
DEFAULT_MAX_TOTAL_GEARING = 0.90

#: Tolerance on "equity shares sum to one" (and senior debt shares). [-]
SHARE_SUM_TOLERANCE = 1e-9
#: Relative tolerance on CAPEX components summing to ``capex_usd``. [-]
CAPEX_COMPONENT_TOLERANCE = 1e-9

_FX_MODES = ("flat", "parity", "path")
_SIZING_BASES = ("p50", "p90")
_REPAYMENTS = ("sculpted", "annuity")
_MAX_LIFE_YEARS = 100


class FinanceInputError(ValueError):
    """A finance case input is missing or out of range.

    Parameters
    ----------
    field : str
        The request field at fault, e.g. ``"capex_usd"`` or ``"tranches[1].covers"``.
    message : str
        What is wrong, in one sentence.
    """

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --------------------------------------------------------------------------- parsing


def _number(d: Mapping[str, Any], key: str, default: Any = ..., *, prefix: str = "") -> Any:
    name = f"{prefix}{key}"
    if key not in d or d[key] is None:
        if default is ...:
            raise FinanceInputError(name, "is required")
        return default
    value = d[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise FinanceInputError(name, f"must be a number, got {d[key]!r}") from None
    value = float(value)
    if not math.isfinite(value):
        raise FinanceInputError(name, f"must be finite, got {value!r}")
    return value


def _integer(d: Mapping[str, Any], key: str, default: Any = ..., *, prefix: str = "") -> Any:
    value = _number(d, key, default, prefix=prefix)
    if value is None:
        return None
    if value != int(value):
        raise FinanceInputError(f"{prefix}{key}", f"must be a whole number of years, got {value!r}")
    return int(value)


def _text(d: Mapping[str, Any], key: str, default: Any = ..., *, prefix: str = "") -> Any:
    name = f"{prefix}{key}"
    if key not in d or d[key] is None:
        if default is ...:
            raise FinanceInputError(name, "is required")
        return default
    if not isinstance(d[key], str):
        raise FinanceInputError(name, f"must be a string, got {d[key]!r}")
    return d[key]


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise FinanceInputError(name, f"must be one of {', '.join(allowed)}; got {value!r}")
    return value


# --------------------------------------------------------------------------- FX


@dataclass(frozen=True)
class FxPathInputs:
    """How one currency's exchange rate against the US dollar evolves.

    Parameters
    ----------
    currency : str
        ISO code of the currency (``"MXN"``, ``"CAD"``).
    spot_per_usd : float
        Spot rate at year 0. [currency/USD]
    mode : str
        ``"flat"`` (the spot in every year), ``"parity"`` (forward by covered
        interest-rate parity, ``F_t = S (1 + i_ccy)**t / (1 + i_usd)**t``) or ``"path"``
        (``path_per_usd`` given year by year).
    interest_rate : float
        Currency's interest rate for ``"parity"``. [1/year]
    usd_interest_rate : float
        US dollar interest rate for ``"parity"``. [1/year]
    path_per_usd : tuple of float
        Explicit path for ``"path"``, one value per model year from year 0; the last
        value is held if the path is short. [currency/USD]
    volatility : float
        Annual log-volatility used by the Monte Carlo. [1/sqrt(year)]
    """

    currency: str
    spot_per_usd: float
    mode: str = "flat"
    interest_rate: float = 0.0
    usd_interest_rate: float = 0.0
    path_per_usd: tuple[float, ...] = ()
    volatility: float = 0.0

    @classmethod
    def from_dict(cls, currency: str, d: Mapping[str, Any]) -> "FxPathInputs":
        prefix = f"fx.{currency}."
        if not isinstance(d, Mapping):
            raise FinanceInputError(f"fx.{currency}", "must be an object")
        mode = _choice(_text(d, "mode", "flat", prefix=prefix), _FX_MODES, prefix + "mode")
        path: tuple[float, ...] = ()
        if mode == "path":
            raw = d.get("path_per_usd")
            if not isinstance(raw, (list, tuple)) or not raw:
                raise FinanceInputError(prefix + "path_per_usd", "must be a non-empty list")
            try:
                path = tuple(float(x) for x in raw)
            except (TypeError, ValueError):
                raise FinanceInputError(prefix + "path_per_usd", "must hold numbers") from None
            if not all(math.isfinite(x) and x > 0 for x in path):
                raise FinanceInputError(prefix + "path_per_usd", "must hold positive finite rates")
            spot = _number(d, "spot_per_usd", path[0], prefix=prefix)
        else:
            spot = _number(d, "spot_per_usd", prefix=prefix)
        if spot <= 0:
            raise FinanceInputError(prefix + "spot_per_usd", f"must be > 0, got {spot}")
        fx = cls(
            currency=currency,
            spot_per_usd=spot,
            mode=mode,
            interest_rate=_number(d, "interest_rate", 0.0, prefix=prefix),
            usd_interest_rate=_number(d, "usd_interest_rate", 0.0, prefix=prefix),
            path_per_usd=path,
            volatility=_number(d, "volatility", 0.0, prefix=prefix),
        )
        for key in ("interest_rate", "usd_interest_rate"):
            if getattr(fx, key) <= -1:
                raise FinanceInputError(prefix + key, "must be > -1")
        if fx.volatility < 0:
            raise FinanceInputError(prefix + "volatility", "must be >= 0")
        return fx


# --------------------------------------------------------------------------- tranches


@dataclass(frozen=True)
class TrancheInputs:
    """One tranche of the capital stack.

    Parameters
    ----------
    name : str
        Unique name, e.g. ``"FinDev Canada concessional"``.
    kind : str
        One of :data:`TRANCHE_KINDS`.
    currency : str
        ``"USD"``, ``"MXN"`` or ``"CAD"``; the tranche's amounts and returns are
        reported in it.
    rate : float
        Nominal interest rate of a debt tranche, in its currency. [1/year]
    tenor_years : int or None
        Years of debt service from the commercial operation date, grace included.
    grace_years : int
        Interest-only years at the start of the tenor.
    target_dscr : float or None
        Senior debt: the debt service coverage ratio the sculpted repayment holds. [-]
    max_gearing : float or None
        Senior debt: the most debt (at COD, interest during construction included) as a
        fraction of CAPEX. [-]
    share : float or None
        Equity kinds: fraction of the project's equity. Concessional debt: principal as
        a fraction of CAPEX. Senior debt (several tranches): fraction of senior debt
        service. [-]
    covers : str or None
        Guarantee: name of the debt tranche whose debt service it covers.
    coverage : float or None
        Guarantee: fraction of the covered tranche's scheduled debt service it pays when
        the project falls short. [-]
    fee : float
        Debt: up-front fee as a fraction of principal, paid at financial close.
        Guarantee: annual fee as a fraction of the guaranteed outstanding balance. [-]
    discount_rate : float or None
        Rate at which the tranche's NPV is reported, in its currency; defaults to the
        case ``discount_rate``. [1/year]
    amount : float or None
        Concessional debt: principal in the tranche currency (instead of ``share``).
    hurdle_rate : float
        Equity kinds: preferred return accrued on unreturned capital before residual
        cash is shared (0 = return of capital first). [1/year]
    repayment : str
        ``"sculpted"`` (senior default) or ``"annuity"`` (concessional default).
    sizing_basis : str or None
        Senior debt: size on ``"p50"`` or ``"p90"`` CFADS; defaults to the case's.
    """

    name: str
    kind: str
    currency: str = "USD"
    rate: float = 0.0
    tenor_years: int | None = None
    grace_years: int = 0
    target_dscr: float | None = None
    max_gearing: float | None = None
    share: float | None = None
    covers: str | None = None
    coverage: float | None = None
    fee: float = 0.0
    discount_rate: float | None = None
    amount: float | None = None
    hurdle_rate: float = 0.0
    repayment: str = "sculpted"
    sizing_basis: str | None = None

    @property
    def is_equity(self) -> bool:
        return self.kind in EQUITY_KINDS

    @property
    def is_debt(self) -> bool:
        return self.kind in DEBT_KINDS

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], index: int = 0) -> "TrancheInputs":
        p = f"tranches[{index}]."
        if not isinstance(d, Mapping):
            raise FinanceInputError(f"tranches[{index}]", "must be an object")
        kind = _choice(_text(d, "kind", prefix=p), TRANCHE_KINDS, p + "kind")
        currency = _choice(_text(d, "currency", "USD", prefix=p), CURRENCIES, p + "currency")
        name = _text(d, "name", prefix=p).strip()
        if not name:
            raise FinanceInputError(p + "name", "must not be empty")
        default_repayment = "annuity" if kind == "concessional_debt" else "sculpted"
        t = cls(
            name=name,
            kind=kind,
            currency=currency,
            rate=_number(d, "rate", 0.0, prefix=p),
            tenor_years=_integer(d, "tenor_years", None, prefix=p),
            grace_years=_integer(d, "grace_years", 0, prefix=p),
            target_dscr=_number(d, "target_dscr", None, prefix=p),
            max_gearing=_number(d, "max_gearing", None, prefix=p),
            share=_number(d, "share", None, prefix=p),
            covers=_text(d, "covers", None, prefix=p),
            coverage=_number(d, "coverage", None, prefix=p),
            fee=_number(d, "fee", 0.0, prefix=p),
            discount_rate=_number(d, "discount_rate", None, prefix=p),
            amount=_number(d, "amount", None, prefix=p),
            hurdle_rate=_number(d, "hurdle_rate", 0.0, prefix=p),
            repayment=_choice(_text(d, "repayment", default_repayment, prefix=p), _REPAYMENTS, p + "repayment"),
            sizing_basis=(
                None
                if d.get("sizing_basis") is None
                else _choice(_text(d, "sizing_basis", prefix=p), _SIZING_BASES, p + "sizing_basis")
            ),
        )
        t._check_own_terms(p)
        return t

    def _check_own_terms(self, p: str) -> None:
        if self.rate <= -1:
            raise FinanceInputError(p + "rate", f"must be > -1, got {self.rate}")
        if self.fee < 0:
            raise FinanceInputError(p + "fee", f"must be >= 0, got {self.fee}")
        if self.discount_rate is not None and self.discount_rate <= -1:
            raise FinanceInputError(p + "discount_rate", "must be > -1")
        if self.is_equity:
            if self.share is None:
                raise FinanceInputError(p + "share", f"is required for {self.kind}")
            if not 0 < self.share <= 1:
                raise FinanceInputError(p + "share", f"must be in (0, 1], got {self.share}")
            if self.hurdle_rate < 0:
                raise FinanceInputError(p + "hurdle_rate", "must be >= 0")
        if self.is_debt:
            if self.tenor_years is None:
                raise FinanceInputError(p + "tenor_years", f"is required for {self.kind}")
            if self.tenor_years < 1:
                raise FinanceInputError(p + "tenor_years", f"must be >= 1, got {self.tenor_years}")
            if not 0 <= self.grace_years < self.tenor_years:
                raise FinanceInputError(
                    p + "grace_years", f"must be in [0, tenor_years), got {self.grace_years}"
                )
        if self.kind == "senior_debt":
            if self.target_dscr is None:
                raise FinanceInputError(p + "target_dscr", "is required for senior_debt")
            if self.target_dscr <= 1:
                raise FinanceInputError(
                    p + "target_dscr", f"must be > 1 (cash must cover debt service), got {self.target_dscr}"
                )
            if self.max_gearing is not None and not 0 < self.max_gearing <= 1:
                raise FinanceInputError(
                    p + "max_gearing", f"must be in (0, 1] (never debt above CAPEX), got {self.max_gearing}"
                )
            if self.share is not None and not 0 < self.share <= 1:
                raise FinanceInputError(p + "share", f"must be in (0, 1], got {self.share}")
        if self.kind == "senior_debt" and self.repayment != "sculpted":
            raise FinanceInputError(p + "repayment", "senior debt is sculpted to its target DSCR")
        if self.kind == "concessional_debt" and self.repayment != "annuity":
            raise FinanceInputError(p + "repayment", "concessional debt repays as an annuity after grace")
        if self.kind == "concessional_debt":
            if (self.share is None) == (self.amount is None):
                raise FinanceInputError(p + "share", "give exactly one of share (of CAPEX) or amount")
            if self.share is not None and not 0 < self.share < 1:
                raise FinanceInputError(p + "share", f"must be in (0, 1), got {self.share}")
            if self.amount is not None and self.amount <= 0:
                raise FinanceInputError(p + "amount", f"must be > 0, got {self.amount}")
        if self.kind == "guarantee":
            if not self.covers:
                raise FinanceInputError(p + "covers", "is required for a guarantee")
            if self.coverage is None or not 0 < self.coverage <= 1:
                raise FinanceInputError(p + "coverage", f"must be in (0, 1], got {self.coverage}")


# --------------------------------------------------------------------------- case


@dataclass(frozen=True)
class CaseInputs:
    """A project finance case: the plant, its revenues and costs, and its capital stack.

    Required request fields are ``capacity_mw``, ``energy_p50_mwh``, ``life_years``,
    ``capex_usd``, ``ppa_price_usd_per_mwh``, ``discount_rate`` and ``tranches``; the
    others default as documented on each attribute.

    Parameters
    ----------
    capacity_mw : float
        Nameplate capacity (AC). [MW]
    energy_p50_mwh : float
        Net energy of the first operating year, exceedance probability 50 %. [MWh]
    energy_p90_mwh : float or None
        Same at 90 % (one-year P90); needed for P90 sizing and the Monte Carlo. [MWh]
    degradation : float
        Energy lost each year after the first. [1/year]
    life_years : int
        Operating life. [year]
    construction_years : int
        Construction period; CAPEX falls in years ``0 … construction_years-1``. [year]
    capex_usd : float
        Total CAPEX, grid connection included. [USD]
    capex_components_usd : tuple of (str, float)
        CAPEX by component (must sum to ``capex_usd``); a ``"grid_connection"``
        component is depreciated straight-line even under ``mx_renewable_100``. [USD]
    capex_schedule : tuple of float
        Fraction of CAPEX spent in each construction year (sums to one); even by
        default. [-]
    opex_usd_per_kw_year : float
        Fixed O&M. [USD/(kW·year)]
    opex_escalation : float
        Escalation of every operating cost. [1/year]
    variable_opex_usd_per_mwh : float
        Variable O&M. [USD/MWh]
    land_lease_usd_per_year, insurance_usd_per_year, asset_management_usd_per_year : float
        Other operating costs in the first operating year. [USD/year]
    ppa_price_usd_per_mwh : float
        PPA price in the first operating year. [USD/MWh]
    ppa_escalation : float
        PPA indexation. [1/year]
    ppa_term_years : int
        Years of PPA from COD; merchant sales after it. Defaults to ``life_years``.
    merchant_price_usd_per_mwh : float
        Merchant price in first-operating-year money. [USD/MWh]
    merchant_escalation : float
        Merchant price escalation. [1/year]
    cel_price_usd_per_mwh : float
        Price of clean energy certificates (one CEL per MWh of clean energy). [USD/MWh]
    cel_escalation : float
        CEL price escalation. [1/year]
    cel_years : int
        Years from COD during which CELs are sold. Defaults to ``life_years``.
    decommissioning_usd : float
        Decommissioning net of salvage, paid in the last operating year
        (first-operating-year money, escalated with OPEX). [USD]
    tax_rate : float
        Income tax (ISR) rate; default :data:`finance.tax.ISR_RATE`. [-]
    ptu_rate : float
        Employees' profit share (PTU); default :data:`finance.tax.PTU_RATE`. [-]
    depreciation : str
        ``"mx_renewable_100"`` or ``"straight_line"``.
    straight_line_rate : float
        Annual straight-line rate; default :data:`finance.tax.STRAIGHT_LINE_RATE_ELECTRICITY`.
        [1/year]
    depreciation_rate : float
        Under ``mx_renewable_100``: the annual rate the sponsor elects, up to the 100 %
        maximum (LISR art. 34 fr. XIII; art. 31 allows a lower rate). [1/year]
    ptu_payroll_usd_per_year : float or None
        Annual payroll of the project company's employees, first operating year, escalated
        with OPEX; caps PTU at three months of it (LFT art. 127 fr. VIII). ``None``: no
        cap (the uncapped 10 %). [USD/year]
    max_total_gearing : float
        Most debt of every rank at COD as a fraction of CAPEX; default
        :data:`DEFAULT_MAX_TOTAL_GEARING`. [-]
    mirr_finance_rate, mirr_reinvestment_rate : float or None
        Rates of the modified IRR (outflows financed at the first, inflows reinvested at
        the second); default ``discount_rate``. [1/year]
    discount_rate : float
        Nominal discount rate for the project NPV and LCOE. [1/year]
    inflation_rate : float
        Inflation for the real LCOE; default :data:`USD_INFLATION_TARGET`. [1/year]
    dsra_months : float
        Debt service reserve in months of next year's senior debt service. [months]
    sizing_basis : str
        ``"p50"`` or ``"p90"``: CFADS the senior debt is sized on (tranche may override).
    fx : tuple of FxPathInputs
        One path per non-USD currency used by a tranche.
    tranches : tuple of TrancheInputs
        The capital stack.
    """

    capacity_mw: float
    energy_p50_mwh: float
    life_years: int
    capex_usd: float
    ppa_price_usd_per_mwh: float
    discount_rate: float
    tranches: tuple[TrancheInputs, ...]
    energy_p90_mwh: float | None = None
    degradation: float = 0.0
    construction_years: int = 1
    capex_components_usd: tuple[tuple[str, float], ...] = ()
    capex_schedule: tuple[float, ...] = ()
    opex_usd_per_kw_year: float = 0.0
    opex_escalation: float = 0.0
    variable_opex_usd_per_mwh: float = 0.0
    land_lease_usd_per_year: float = 0.0
    insurance_usd_per_year: float = 0.0
    asset_management_usd_per_year: float = 0.0
    ppa_escalation: float = 0.0
    ppa_term_years: int | None = None
    merchant_price_usd_per_mwh: float = 0.0
    merchant_escalation: float = 0.0
    cel_price_usd_per_mwh: float = 0.0
    cel_escalation: float = 0.0
    cel_years: int | None = None
    decommissioning_usd: float = 0.0
    tax_rate: float = ISR_RATE
    ptu_rate: float = PTU_RATE
    depreciation: str = "mx_renewable_100"
    straight_line_rate: float = STRAIGHT_LINE_RATE_ELECTRICITY
    depreciation_rate: float = RENEWABLE_FIRST_YEAR_DEDUCTION
    ptu_payroll_usd_per_year: float | None = None
    max_total_gearing: float = DEFAULT_MAX_TOTAL_GEARING
    mirr_finance_rate: float | None = None
    mirr_reinvestment_rate: float | None = None
    inflation_rate: float = USD_INFLATION_TARGET
    dsra_months: float = DSRA_MONTHS_CONVENTION
    sizing_basis: str = "p50"
    fx: tuple[FxPathInputs, ...] = field(default=())

    # ----------------------------------------------------------------- derived
    @property
    def n_years(self) -> int:
        """Model years: construction plus operation."""
        return self.construction_years + self.life_years

    @property
    def ppa_years(self) -> int:
        return self.life_years if self.ppa_term_years is None else self.ppa_term_years

    @property
    def cel_term_years(self) -> int:
        return self.life_years if self.cel_years is None else self.cel_years

    @property
    def mirr_rates(self) -> tuple[float, float]:
        """(finance rate, reinvestment rate) of the modified IRR. [1/year]"""
        fin = self.discount_rate if self.mirr_finance_rate is None else self.mirr_finance_rate
        rei = self.discount_rate if self.mirr_reinvestment_rate is None else self.mirr_reinvestment_rate
        return fin, rei

    @property
    def grid_connection_usd(self) -> float:
        return float(sum(v for k, v in self.capex_components_usd if k == "grid_connection"))

    def capex_fractions(self) -> tuple[float, ...]:
        """Fraction of CAPEX spent in each construction year. [-]"""
        if self.capex_schedule:
            return self.capex_schedule
        return tuple([1.0 / self.construction_years] * self.construction_years)

    def tranche(self, name: str) -> TrancheInputs:
        for t in self.tranches:
            if t.name == name:
                return t
        raise KeyError(name)

    def fx_inputs(self, currency: str) -> FxPathInputs | None:
        for f in self.fx:
            if f.currency == currency:
                return f
        return None

    def replace(self, **changes: Any) -> "CaseInputs":
        """A copy with some fields changed, validated again."""
        from dataclasses import replace as _replace

        new = _replace(self, **changes)
        new.validate()
        return new

    # ----------------------------------------------------------------- parsing
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CaseInputs":
        """Parse and validate a request body (issue 4 contract names).

        Parameters
        ----------
        d : mapping
            The decoded JSON request.

        Returns
        -------
        CaseInputs

        Raises
        ------
        FinanceInputError
            With ``field`` naming the first offending field.
        """
        if not isinstance(d, Mapping):
            raise FinanceInputError("body", "must be a JSON object")
        raw_tranches = d.get("tranches")
        if not isinstance(raw_tranches, (list, tuple)) or not raw_tranches:
            raise FinanceInputError("tranches", "must be a non-empty list")
        tranches = tuple(TrancheInputs.from_dict(t, i) for i, t in enumerate(raw_tranches))

        components: tuple[tuple[str, float], ...] = ()
        raw_comp = d.get("capex_components_usd")
        if raw_comp is not None:
            if not isinstance(raw_comp, Mapping) or not raw_comp:
                raise FinanceInputError("capex_components_usd", "must be a non-empty object of name: USD")
            components = tuple(
                (str(k), _number(raw_comp, k, prefix="capex_components_usd.")) for k in raw_comp
            )
        if d.get("capex_usd") is None and components:
            capex = float(sum(v for _, v in components))
        else:
            capex = _number(d, "capex_usd")

        schedule: tuple[float, ...] = ()
        raw_sched = d.get("capex_schedule")
        if raw_sched is not None:
            if not isinstance(raw_sched, (list, tuple)):
                raise FinanceInputError("capex_schedule", "must be a list of fractions")
            try:
                schedule = tuple(float(x) for x in raw_sched)
            except (TypeError, ValueError):
                raise FinanceInputError("capex_schedule", "must hold numbers") from None

        fx: list[FxPathInputs] = []
        raw_fx = d.get("fx")
        if raw_fx is not None:
            if not isinstance(raw_fx, Mapping):
                raise FinanceInputError("fx", "must be an object keyed by currency")
            for ccy, spec in raw_fx.items():
                _choice(ccy, CURRENCIES, "fx")
                if ccy != "USD":
                    fx.append(FxPathInputs.from_dict(ccy, spec))

        case = cls(
            capacity_mw=_number(d, "capacity_mw"),
            energy_p50_mwh=_number(d, "energy_p50_mwh"),
            energy_p90_mwh=_number(d, "energy_p90_mwh", None),
            degradation=_number(d, "degradation", 0.0),
            life_years=_integer(d, "life_years"),
            construction_years=_integer(d, "construction_years", 1),
            capex_usd=capex,
            capex_components_usd=components,
            capex_schedule=schedule,
            opex_usd_per_kw_year=_number(d, "opex_usd_per_kw_year", 0.0),
            opex_escalation=_number(d, "opex_escalation", 0.0),
            variable_opex_usd_per_mwh=_number(d, "variable_opex_usd_per_mwh", 0.0),
            land_lease_usd_per_year=_number(d, "land_lease_usd_per_year", 0.0),
            insurance_usd_per_year=_number(d, "insurance_usd_per_year", 0.0),
            asset_management_usd_per_year=_number(d, "asset_management_usd_per_year", 0.0),
            ppa_price_usd_per_mwh=_number(d, "ppa_price_usd_per_mwh"),
            ppa_escalation=_number(d, "ppa_escalation", 0.0),
            ppa_term_years=_integer(d, "ppa_term_years", None),
            merchant_price_usd_per_mwh=_number(d, "merchant_price_usd_per_mwh", 0.0),
            merchant_escalation=_number(d, "merchant_escalation", 0.0),
            cel_price_usd_per_mwh=_number(d, "cel_price_usd_per_mwh", 0.0),
            cel_escalation=_number(d, "cel_escalation", 0.0),
            cel_years=_integer(d, "cel_years", None),
            decommissioning_usd=_number(d, "decommissioning_usd", 0.0),
            tax_rate=_number(d, "tax_rate", ISR_RATE),
            ptu_rate=_number(d, "ptu_rate", PTU_RATE),
            depreciation=_choice(
                _text(d, "depreciation", "mx_renewable_100"), DEPRECIATION_METHODS, "depreciation"
            ),
            straight_line_rate=_number(d, "straight_line_rate", STRAIGHT_LINE_RATE_ELECTRICITY),
            depreciation_rate=_number(d, "depreciation_rate", RENEWABLE_FIRST_YEAR_DEDUCTION),
            ptu_payroll_usd_per_year=_number(d, "ptu_payroll_usd_per_year", None),
            max_total_gearing=_number(d, "max_total_gearing", DEFAULT_MAX_TOTAL_GEARING),
            mirr_finance_rate=_number(d, "mirr_finance_rate", None),
            mirr_reinvestment_rate=_number(d, "mirr_reinvestment_rate", None),
            discount_rate=_number(d, "discount_rate"),
            inflation_rate=_number(d, "inflation_rate", USD_INFLATION_TARGET),
            dsra_months=_number(d, "dsra_months", DSRA_MONTHS_CONVENTION),
            sizing_basis=_choice(_text(d, "sizing_basis", "p50"), _SIZING_BASES, "sizing_basis"),
            fx=tuple(fx),
            tranches=tranches,
        )
        case.validate()
        return case

    # ----------------------------------------------------------------- validation
    def validate(self) -> None:
        """Check every range and cross-field rule; raise :class:`FinanceInputError`."""
        positive = ("capacity_mw", "energy_p50_mwh", "capex_usd")
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)) or value <= 0:
                raise FinanceInputError(name, f"must be > 0, got {value}")
        if self.energy_p90_mwh is not None and not 0 < self.energy_p90_mwh <= self.energy_p50_mwh:
            raise FinanceInputError(
                "energy_p90_mwh", f"must be in (0, energy_p50_mwh], got {self.energy_p90_mwh}"
            )
        if not 1 <= self.life_years <= _MAX_LIFE_YEARS:
            raise FinanceInputError("life_years", f"must be in [1, {_MAX_LIFE_YEARS}], got {self.life_years}")
        if not 1 <= self.construction_years <= 10:
            raise FinanceInputError(
                "construction_years", f"must be in [1, 10], got {self.construction_years}"
            )
        for name in ("degradation",):
            if not 0 <= getattr(self, name) < 1:
                raise FinanceInputError(name, f"must be in [0, 1), got {getattr(self, name)}")
        for name in ("tax_rate", "ptu_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise FinanceInputError(name, f"must be a fraction in [0, 1), got {getattr(self, name)}")
        if not 0 < self.straight_line_rate <= 1:
            raise FinanceInputError("straight_line_rate", f"must be in (0, 1], got {self.straight_line_rate}")
        if not 0 < self.depreciation_rate <= RENEWABLE_FIRST_YEAR_DEDUCTION:
            raise FinanceInputError(
                "depreciation_rate",
                f"must be in (0, {RENEWABLE_FIRST_YEAR_DEDUCTION:g}] (LISR art. 34 fr. XIII allows at most "
                f"100 % a year), got {self.depreciation_rate}",
            )
        if self.ptu_payroll_usd_per_year is not None and self.ptu_payroll_usd_per_year < 0:
            raise FinanceInputError(
                "ptu_payroll_usd_per_year", f"must be >= 0, got {self.ptu_payroll_usd_per_year}"
            )
        if not 0 < self.max_total_gearing <= 1:
            raise FinanceInputError("max_total_gearing", f"must be in (0, 1], got {self.max_total_gearing}")
        for name in ("mirr_finance_rate", "mirr_reinvestment_rate"):
            if getattr(self, name) is not None and getattr(self, name) <= -1:
                raise FinanceInputError(name, f"must be > -1, got {getattr(self, name)}")
        for name in (
            "opex_usd_per_kw_year",
            "variable_opex_usd_per_mwh",
            "land_lease_usd_per_year",
            "insurance_usd_per_year",
            "asset_management_usd_per_year",
            "ppa_price_usd_per_mwh",
            "merchant_price_usd_per_mwh",
            "cel_price_usd_per_mwh",
            "decommissioning_usd",
            "dsra_months",
        ):
            if getattr(self, name) < 0:
                raise FinanceInputError(name, f"must be >= 0, got {getattr(self, name)}")
        for name in (
            "opex_escalation",
            "ppa_escalation",
            "merchant_escalation",
            "cel_escalation",
            "discount_rate",
            "inflation_rate",
        ):
            if getattr(self, name) <= -1:
                raise FinanceInputError(name, f"must be > -1, got {getattr(self, name)}")
        if self.ppa_term_years is not None and not 0 <= self.ppa_term_years <= self.life_years:
            raise FinanceInputError(
                "ppa_term_years", f"must be in [0, life_years={self.life_years}], got {self.ppa_term_years}"
            )
        if self.cel_years is not None and not 0 <= self.cel_years <= self.life_years:
            raise FinanceInputError("cel_years", f"must be in [0, life_years], got {self.cel_years}")
        if self.capex_components_usd:
            for k, v in self.capex_components_usd:
                if v < 0:
                    raise FinanceInputError(f"capex_components_usd.{k}", f"must be >= 0, got {v}")
            total = sum(v for _, v in self.capex_components_usd)
            if abs(total - self.capex_usd) > CAPEX_COMPONENT_TOLERANCE * self.capex_usd:
                raise FinanceInputError(
                    "capex_components_usd", f"sum to {total}, not capex_usd = {self.capex_usd}"
                )
        if self.capex_schedule:
            if len(self.capex_schedule) != self.construction_years:
                raise FinanceInputError(
                    "capex_schedule", f"needs {self.construction_years} values (one per construction year)"
                )
            if any(x < 0 for x in self.capex_schedule) or abs(sum(self.capex_schedule) - 1) > SHARE_SUM_TOLERANCE:
                raise FinanceInputError("capex_schedule", "must be non-negative fractions summing to 1")
        self._validate_stack()

    def _validate_stack(self) -> None:
        names = [t.name for t in self.tranches]
        for i, t in enumerate(self.tranches):
            p = f"tranches[{i}]."
            if t.name in names[:i]:
                raise FinanceInputError(p + "name", f"duplicate tranche name {t.name!r}")
            if t.is_debt and t.tenor_years is not None and t.tenor_years > self.life_years:
                raise FinanceInputError(
                    p + "tenor_years",
                    f"{t.tenor_years} years is beyond the operating life of {self.life_years} years",
                )
            if t.kind == "guarantee":
                if t.covers not in names:
                    raise FinanceInputError(p + "covers", f"names no tranche: {t.covers!r}")
                if self.tranche(t.covers).kind not in DEBT_KINDS:
                    raise FinanceInputError(p + "covers", f"{t.covers!r} is not a debt tranche")
            if t.currency != "USD" and self.fx_inputs(t.currency) is None:
                raise FinanceInputError(f"fx.{t.currency}", f"an FX path is required for tranche {t.name!r}")
            if t.kind == "senior_debt" and t.sizing_basis == "p90" and self.energy_p90_mwh is None:
                raise FinanceInputError("energy_p90_mwh", "is required to size debt on P90")
        if self.sizing_basis == "p90" and self.energy_p90_mwh is None and any(
            t.kind == "senior_debt" and t.sizing_basis is None for t in self.tranches
        ):
            raise FinanceInputError("energy_p90_mwh", "is required to size debt on P90")
        equity = [t for t in self.tranches if t.is_equity]
        if not equity:
            raise FinanceInputError("tranches", "need at least one equity or first_loss_equity tranche")
        total = sum(t.share for t in equity)
        if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
            raise FinanceInputError("tranches.share", f"equity shares sum to {total:.12g}, not 1")
        senior = [t for t in self.tranches if t.kind == "senior_debt"]
        if len(senior) > 1:
            if any(t.share is None for t in senior):
                raise FinanceInputError(
                    "tranches.share", "several senior tranches each need a share of senior debt service"
                )
            total = sum(t.share for t in senior)
            if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
                raise FinanceInputError("tranches.share", f"senior debt shares sum to {total:.12g}, not 1")
        conc_share = sum(t.share for t in self.tranches if t.kind == "concessional_debt" and t.share)
        if conc_share >= 1:
            raise FinanceInputError("tranches.share", "concessional debt would be 100 % of CAPEX or more")
