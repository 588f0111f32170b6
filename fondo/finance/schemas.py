"""Request schemas of finance cases: one per request, shared by the REST API and the CLI.

======================================  ===================================================
schema                                  used by
======================================  ===================================================
:class:`FinanceCaseRequestSchema`       ``POST /api/v1/finance/cases``, ``fondo finance run``
:class:`MonteCarloRequestSchema`        ``POST /api/v1/finance/cases/{id}/montecarlo``,
                                        ``fondo finance montecarlo ID --input``
======================================  ===================================================

The endpoints load them with ``@blp.arguments`` (strict JSON, :mod:`web.api.docs`), the
commands with :func:`fondo.request_body.load_request`, so both refuse the same bodies
naming the same field (``tranches[1].rate``). A schema checks what a JSON schema can say —
types, required fields, plain bounds, enumerations — and loads every value as given; the
engine (:meth:`finance.CaseInputs.from_dict`, :class:`finance.MonteCarloSpec`) remains the
domain check of the rules that join fields (equity shares summing to one, a tenor within
the life, a guarantee covering a debt tranche, P90 energy for P90 sizing) and supplies the
defaults. A ``null`` optional field means "the default", as the engine reads it. Fields a
case schema does not know pass through to the engine and are stored with the request (the
engine reads fields beyond the contract); a Monte Carlo request refuses unknown fields.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
)

from finance.inputs import CURRENCIES, TRANCHE_KINDS
from finance.tax import DEPRECIATION_METHODS
from fondo.schema_fields import DATABASE_ID_RANGE, JSONInteger, JSONNumber

#: Largest Monte Carlo run accepted from a request (a 10 000-draw run takes ~0.1 s of
#: engine time; 100 000 keeps one task within seconds). [draws]
MAX_DRAWS = 100_000
#: Largest length of a case name. [characters]
MAX_NAME_LENGTH = 200
#: Bases the senior debt may be sized on.
SIZING_BASES = ("p50", "p90")
#: Repayment profiles of a debt tranche.
REPAYMENTS = ("sculpted", "annuity")
#: Ways an exchange rate evolves.
FX_MODES = ("flat", "parity", "path")

#: Rates, escalations and growth: above -100 %. [fraction/year]
RATE = validate.Range(min=-1.0, min_inclusive=False)
#: Amounts, prices, fees and durations that cannot be negative.
NON_NEGATIVE = validate.Range(min=0)
#: Amounts that must be positive (capacity, energy, CAPEX, exchange rates).
POSITIVE = validate.Range(min=0, min_inclusive=False)
#: A fraction in [0, 1) (tax rates, degradation). [-]
FRACTION_BELOW_ONE = validate.Range(min=0.0, max=1.0, max_inclusive=False)
#: A fraction in (0, 1] (shares, gearing, coverage, straight-line rate). [-]
FRACTION_UP_TO_ONE = validate.Range(min=0.0, max=1.0, min_inclusive=False)
#: A debt service coverage ratio target: cash must cover debt service. [-]
ABOVE_ONE = validate.Range(min=1.0, min_inclusive=False)


def _number(description: str, check: validate.Validator | None = None, *,
            required: bool = False) -> JSONNumber:
    return JSONNumber(required=required, allow_none=not required, validate=check,
                      metadata={"description": description})


def _integer(description: str, check: validate.Validator | None = None, *,
             required: bool = False) -> JSONInteger:
    return JSONInteger(required=required, allow_none=not required, validate=check,
                       metadata={"description": description})


def _choice(description: str, choices: tuple[str, ...], *, required: bool = False
            ) -> fields.String:
    return fields.String(required=required, allow_none=not required,
                         validate=validate.OneOf(choices), metadata={"description": description})


def _id(description: str) -> fields.Integer:
    return JSONInteger(allow_none=True, validate=DATABASE_ID_RANGE,
                          metadata={"description": description})


class TrancheRequestSchema(Schema):
    """One tranche of the capital stack (terms by kind)."""

    class Meta:
        unknown = INCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1),
                         metadata={"description": "Unique tranche name."})
    kind = _choice("Kind of tranche.", TRANCHE_KINDS, required=True)
    currency = _choice("Currency of the tranche's amounts and returns (default USD; non-USD "
                       "needs an `fx` path).", CURRENCIES)
    rate = _number("Debt: nominal interest rate in the tranche currency. [fraction/year]", RATE)
    tenor_years = _integer("Debt: years of debt service from COD, grace included "
                           "(≤ life_years). [year]", validate.Range(min=1))
    grace_years = _integer("Debt: interest-only years at the start of the tenor. [year]",
                           NON_NEGATIVE)
    target_dscr = _number("Senior debt: DSCR the sculpted repayment holds (> 1). [-]",
                          ABOVE_ONE)
    max_gearing = _number("Senior debt: most debt at COD as a fraction of CAPEX, in (0, 1]. "
                          "[-]", FRACTION_UP_TO_ONE)
    share = _number("Equity kinds: fraction of equity (equity shares sum to 1). Concessional "
                    "debt: principal as a fraction of CAPEX. Several senior tranches: fraction "
                    "of senior debt service. [-]", FRACTION_UP_TO_ONE)
    covers = fields.String(allow_none=True, metadata={
        "description": "Guarantee: name of the debt tranche covered."})
    coverage = _number("Guarantee: fraction of the covered debt service it pays when short. "
                       "[-]", FRACTION_UP_TO_ONE)
    fee = _number("Debt: up-front fee, fraction of principal. Guarantee: annual fee, fraction "
                  "of the guaranteed balance. [-]", NON_NEGATIVE)
    discount_rate = _number("Rate of the tranche's NPV in its currency (default: the case's). "
                            "[fraction/year]", RATE)
    amount = _number("Concessional debt: principal in the tranche currency (instead of "
                     "share).", POSITIVE)
    hurdle_rate = _number("Equity kinds: preferred return before residual sharing. "
                          "[fraction/year]", NON_NEGATIVE)
    repayment = _choice("Senior: sculpted; concessional: annuity.", REPAYMENTS)
    sizing_basis = _choice("Senior: CFADS to size on (default: the case's).", SIZING_BASES)


class FxPathSchema(Schema):
    """Exchange-rate path of one currency against the US dollar."""

    class Meta:
        unknown = INCLUDE

    spot_per_usd = _number("Spot at year 0 (for mode path, default: the path's first value). "
                           "[currency/USD]", POSITIVE)
    mode = _choice("flat, parity (covered interest parity) or path (default flat).", FX_MODES)
    interest_rate = _number("Currency interest rate for parity. [fraction/year]", RATE)
    usd_interest_rate = _number("USD interest rate for parity. [fraction/year]", RATE)
    path_per_usd = fields.List(JSONNumber(validate=POSITIVE), allow_none=True,
                               validate=validate.Length(min=1), metadata={
                                   "description": "Explicit path, one per model year. "
                                                  "[currency/USD]"})
    volatility = _number("Annual log-volatility for the Monte Carlo. [1/sqrt(year)]",
                         NON_NEGATIVE)


#: FX paths by currency, one optional entry per currency of :data:`finance.inputs.CURRENCIES`
#: (a USD entry is accepted and ignored); another key is refused naming it (``fx.EUR``).
FxSchema = Schema.from_dict(
    {ccy: fields.Nested(FxPathSchema, allow_none=True) for ccy in CURRENCIES}, name="FxSchema")


class FinanceCaseRequestSchema(Schema):
    """A finance case (issue 4 contract names). Rates and shares are fractions, never percent."""

    class Meta:
        unknown = INCLUDE

    name = fields.String(allow_none=True, validate=validate.Length(max=MAX_NAME_LENGTH),
                         metadata={"description": "Label of the case (shell field)."})
    project_id = _id("Project the case belongs to (optional).")
    study_id = _id("Stored yield study whose P50/P90 energy the case uses (then omit "
                   "energy_p50_mwh and energy_p90_mwh).")
    capacity_mw = _number("Installed capacity. [MW]", POSITIVE, required=True)
    energy_p50_mwh = _number("Net energy of the first operating year at P50 (or give "
                             "study_id). [MWh]", POSITIVE)
    energy_p90_mwh = _number("Same at P90 (one-year), at most P50; needed for P90 sizing and "
                             "the Monte Carlo. [MWh]", POSITIVE)
    degradation = _number("Energy lost each year after the first. [fraction/year]",
                          FRACTION_BELOW_ONE)
    life_years = _integer("Operating life. [year]", validate.Range(min=1, max=100),
                          required=True)
    construction_years = _integer("Construction years; with 1, CAPEX falls in year 0 and "
                                  "operation runs in years 1…life_years. [year]",
                                  validate.Range(min=1, max=10))
    capex_usd = _number("Total CAPEX, grid connection included (> 0; default: the sum of "
                        "capex_components_usd). [USD]", POSITIVE)
    capex_components_usd = fields.Dict(
        keys=fields.String(), values=JSONNumber(validate=NON_NEGATIVE), allow_none=True,
        validate=validate.Length(min=1),
        metadata={"description": "CAPEX by component, summing to capex_usd (grid_connection "
                                 "is depreciated straight-line). [USD]"})
    capex_schedule = fields.List(
        JSONNumber(validate=NON_NEGATIVE), allow_none=True,
        metadata={"description": "Fraction of CAPEX per construction year, summing to 1. [-]"})
    opex_usd_per_kw_year = _number("Fixed O&M. [USD/(kW·year)]", NON_NEGATIVE)
    opex_escalation = _number("Escalation of operating costs. [fraction/year]", RATE)
    variable_opex_usd_per_mwh = _number("Variable O&M. [USD/MWh]", NON_NEGATIVE)
    land_lease_usd_per_year = _number("Land lease, first operating year. [USD/year]",
                                      NON_NEGATIVE)
    insurance_usd_per_year = _number("Insurance, first operating year. [USD/year]",
                                     NON_NEGATIVE)
    asset_management_usd_per_year = _number("Asset management, first operating year. "
                                            "[USD/year]", NON_NEGATIVE)
    ppa_price_usd_per_mwh = _number("PPA price in the first operating year. [USD/MWh]",
                                    NON_NEGATIVE, required=True)
    ppa_escalation = _number("PPA indexation. [fraction/year]", RATE)
    ppa_term_years = _integer("Years of PPA from COD, ≤ life_years (default life_years). "
                              "[year]", NON_NEGATIVE)
    merchant_price_usd_per_mwh = _number("Merchant price after the PPA, first-year money. "
                                         "[USD/MWh]", NON_NEGATIVE)
    merchant_escalation = _number("Merchant price escalation. [fraction/year]", RATE)
    cel_price_usd_per_mwh = _number("Clean energy certificate (CEL) price. [USD/MWh]",
                                    NON_NEGATIVE)
    cel_escalation = _number("CEL price escalation. [fraction/year]", RATE)
    cel_years = _integer("Years of CEL sales from COD, ≤ life_years. [year]", NON_NEGATIVE)
    decommissioning_usd = _number("Decommissioning net of salvage, last operating year. [USD]",
                                  NON_NEGATIVE)
    tax_rate = _number("ISR rate (default 0.30, LISR art. 9). [-]", FRACTION_BELOW_ONE)
    ptu_rate = _number("PTU rate (default 0.10, LFT art. 117). [-]", FRACTION_BELOW_ONE)
    depreciation = _choice("mx_renewable_100 (LISR art. 34 fr. XIII) or straight_line.",
                           DEPRECIATION_METHODS)
    straight_line_rate = _number("Straight-line rate when chosen. [fraction/year]",
                                 FRACTION_UP_TO_ONE)
    discount_rate = _number("Nominal discount rate for NPV and LCOE. [fraction/year]", RATE,
                            required=True)
    inflation_rate = _number("Inflation for the real LCOE. [fraction/year]", RATE)
    dsra_months = _number("Debt service reserve. [months]", NON_NEGATIVE)
    sizing_basis = _choice("CFADS the senior debt is sized on (default p50).", SIZING_BASES)
    fx = fields.Nested(FxSchema, allow_none=True, metadata={
        "description": "FX path per non-USD currency used by a tranche."})
    tranches = fields.List(fields.Nested(TrancheRequestSchema), required=True,
                           validate=validate.Length(min=1),
                           metadata={"description": "The capital stack."})

    @pre_load
    def _refuse_empty(self, data: Any, **_kwargs: Any) -> Any:
        """An empty body (or ``{}``) is refused as a whole, naming ``body``."""
        if isinstance(data, dict) and not data:
            raise ValidationError("The request body is empty: give the case's fields.")
        return data


class MonteCarloRequestSchema(Schema):
    """Uncertainty of a Monte Carlo run (all optional; an empty body takes every default)."""

    class Meta:
        unknown = RAISE

    n_draws = _integer(f"Draws (1 … {MAX_DRAWS}; default 10 000).",
                       validate.Range(min=1, max=MAX_DRAWS))
    seed = _integer("Seed of the generator (same seed, same draws; default 0).", NON_NEGATIVE)
    price_sigma = _number("Log standard deviation of the merchant and CEL price factor. [-]",
                          NON_NEGATIVE)
    capex_sigma = _number("Log standard deviation of the CAPEX factor. [-]", NON_NEGATIVE)
    opex_sigma = _number("Log standard deviation of the OPEX factor. [-]", NON_NEGATIVE)
    energy_sigma = _number("Standard deviation of the energy factor (default from P50/P90). "
                           "[-]", NON_NEGATIVE)
    breach_dscr = _number("DSCR under which a draw counts as a breach (default 1.0). [-]")
    chunk = _integer("Draws per vectorized chunk, one progress step (default: a tenth of "
                     "the draws, at least 100).", validate.Range(min=1))
