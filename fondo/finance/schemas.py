"""Request schemas of finance cases: one per request, shared by the REST API and the CLI.

======================================  ===================================================
schema                                  used by
======================================  ===================================================
:class:`FinanceCaseRequestSchema`       ``POST /api/v1/finance/cases``, ``fondo finance run``
:class:`CaseListQuerySchema`            ``GET /api/v1/finance/cases?project_id=…``
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

Every number has a finite range (the constants below, each with its reason; the OpenAPI
document shows them as ``minimum``/``maximum``). The ranges are wide enough for any real
project and narrow enough that no arithmetic of the model can overflow: the largest amount
(:data:`MAX_USD`) compounded at the largest rate (:data:`RATE`) over the longest model
(:data:`MAX_MODEL_YEARS`) is about 1e44, far inside float64 (1.8e308).
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from finance.inputs import CURRENCIES, TRANCHE_KINDS
from finance.montecarlo import MonteCarloSpec
from finance.tax import DEPRECIATION_METHODS
from fondo.schema_fields import DATABASE_ID_RANGE, JSONInteger, JSONNumber

#: Largest Monte Carlo run accepted from a request (a 10 000-draw run takes ~0.1 s of
#: engine time; 100 000 keeps one task within seconds). [draws]
MAX_DRAWS = 100_000
#: Most chunks of one Monte Carlo run: each is one progress write to the job row, so a run
#: of 100 000 draws in chunks of one would spend its time writing progress. [chunks]
MAX_CHUNKS = 100
#: Largest length of a case name. [characters]
MAX_NAME_LENGTH = 200
#: Bases the senior debt may be sized on.
SIZING_BASES = ("p50", "p90")
#: Repayment profiles of a debt tranche.
REPAYMENTS = ("sculpted", "annuity")
#: Ways an exchange rate evolves.
FX_MODES = ("flat", "parity", "path")

#: Longest operating life the engine models (``finance.inputs``). [year]
MAX_LIFE_YEARS = 100
#: Longest construction period the engine models. [year]
MAX_CONSTRUCTION_YEARS = 10
#: Longest model: construction then operation. [year]
MAX_MODEL_YEARS = MAX_LIFE_YEARS + MAX_CONSTRUCTION_YEARS
#: Largest plant: 10 GW is beyond any single solar or wind park (the largest are a few GW;
#: Mexico's whole interconnected system is about 90 GW). [MW]
MAX_CAPACITY_MW = 10_000.0
#: Largest annual energy: :data:`MAX_CAPACITY_MW` running every hour of the year. [MWh]
MAX_ENERGY_MWH = MAX_CAPACITY_MW * 8760.0
#: Largest amount of money: 100 billion USD, about ten times the largest renewable project
#: financing ever closed. [USD]
MAX_USD = 1e11
#: Largest energy price: 10 000 USD/MWh, above the offer caps of electricity markets
#: (ERCOT's system-wide cap was 9 000 USD/MWh). [USD/MWh]
MAX_PRICE_USD_PER_MWH = 10_000.0
#: Largest fixed O&M: 1 000 USD/(kW·year), about ten times that of offshore wind (NREL ATB).
#: [USD/(kW·year)]
MAX_OPEX_USD_PER_KW_YEAR = 1_000.0
#: Largest exchange rate: a million units per US dollar covers any currency. [currency/USD]
MAX_FX_PER_USD = 1e6
#: Longest debt service reserve: two years of debt service. [months]
MAX_DSRA_MONTHS = 24.0

#: Rates, escalations and growth: from -50 % to +100 % a year (Mexico's worst year of
#: inflation since 1970, 1987, was 159 %; a project is not modelled through one). Compounded
#: over :data:`MAX_MODEL_YEARS`, 2**110 and 0.5**-110 are about 1.3e33. [fraction/year]
RATE = validate.Range(min=-0.5, max=1.0)
#: Fees and hurdle rates: a fraction in [0, 1]. [-]
FRACTION = validate.Range(min=0.0, max=1.0)
#: A fraction in [0, 1) (tax rates, degradation). [-]
FRACTION_BELOW_ONE = validate.Range(min=0.0, max=1.0, max_inclusive=False)
#: A fraction in (0, 1] (shares, gearing, coverage, straight-line rate). [-]
FRACTION_UP_TO_ONE = validate.Range(min=0.0, max=1.0, min_inclusive=False)
#: A debt service coverage ratio target: cash must cover debt service, and a target above
#: 10 leaves no debt worth sizing. [-]
ABOVE_ONE = validate.Range(min=1.0, max=10.0, min_inclusive=False)
#: Model years (tenor, grace, PPA and CEL terms). [year]
MODEL_YEARS = validate.Range(min=0, max=MAX_LIFE_YEARS)
#: Amounts of money that cannot be negative. [USD]
USD = validate.Range(min=0.0, max=MAX_USD)
#: Amounts of money that must be positive (CAPEX): from one dollar (a debt sized on a
#: subnormal CAPEX makes its coverage ratios overflow). [USD]
POSITIVE_USD = validate.Range(min=1.0, max=MAX_USD)
#: Energy prices. [USD/MWh]
PRICE = validate.Range(min=0.0, max=MAX_PRICE_USD_PER_MWH)
#: Exchange rates. [currency/USD]
FX_RATE = validate.Range(min=0.0, max=MAX_FX_PER_USD, min_inclusive=False)
#: Log standard deviation of a multiplicative factor: 2 spans a factor of 1/50 to 50 in 95 %
#: of the draws, beyond any price, cost or currency uncertainty. [-]
LOG_SIGMA = validate.Range(min=0.0, max=2.0)
#: Standard deviation of the energy factor (1 + sigma z, clipped at 0): 1 is an uncertainty
#: as large as the P50 itself. [-]
ENERGY_SIGMA = validate.Range(min=0.0, max=1.0)
#: DSCR under which a Monte Carlo draw is a breach. [-]
BREACH_DSCR = validate.Range(min=0.0, max=10.0)
#: Seeds of the Monte Carlo generator: numpy's ``SeedSequence`` takes any non-negative
#: integer; the 32-bit range (numpy's legacy ``RandomState`` seeds, most other generators)
#: keeps a stored seed reproducible anywhere.
SEED = validate.Range(min=0, max=2**32 - 1)


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
    currency = _choice("Currency of the tranche (default USD; non-USD needs an `fx` path). A debt "
                       "tranche is drawn, charged and repaid in it (principal converted at the "
                       "spot of financial close, payments at the FX path of their year); its "
                       "returns are reported in it.", CURRENCIES)
    rate = _number("Debt: nominal interest rate in the tranche currency. [fraction/year]", RATE)
    tenor_years = _integer("Debt: years of debt service from COD, grace included "
                           "(≤ life_years). [year]", validate.Range(min=1, max=MAX_LIFE_YEARS))
    grace_years = _integer("Debt: interest-only years at the start of the tenor. [year]",
                           MODEL_YEARS)
    target_dscr = _number("Senior debt: DSCR the sculpted repayment holds (> 1). [-]",
                          ABOVE_ONE)
    max_gearing = _number("Senior debt: most senior debt at COD as a fraction of CAPEX, in "
                          "(0, 1]; all debt together is limited by the case's max_total_gearing. "
                          "[-]", FRACTION_UP_TO_ONE)
    share = _number("Equity kinds: fraction of equity (equity shares sum to 1). Concessional "
                    "debt: principal as a fraction of CAPEX. Several senior tranches: fraction "
                    "of senior debt service. [-]", FRACTION_UP_TO_ONE)
    covers = fields.String(allow_none=True, metadata={
        "description": "Guarantee: name of the debt tranche covered."})
    coverage = _number("Guarantee: fraction of the covered debt service it pays when short. "
                       "[-]", FRACTION_UP_TO_ONE)
    fee = _number("Debt: up-front fee, fraction of principal. Guarantee: annual fee, fraction "
                  "of the guaranteed balance. [-]", FRACTION)
    discount_rate = _number("Rate of the tranche's NPV in its currency (default: the case's). "
                            "[fraction/year]", RATE)
    amount = _number("Concessional debt: principal in the tranche currency (instead of "
                     "share), from 1 to MAX_USD at the largest exchange rate.",
                     validate.Range(min=1.0, max=MAX_USD * MAX_FX_PER_USD))
    hurdle_rate = _number("Equity kinds: preferred return before residual sharing. "
                          "[fraction/year]", FRACTION)
    repayment = _choice("Senior: sculpted; concessional: annuity.", REPAYMENTS)
    sizing_basis = _choice("Senior: CFADS to size on (default: the case's).", SIZING_BASES)


class FxPathSchema(Schema):
    """Exchange-rate path of one currency against the US dollar."""

    class Meta:
        unknown = INCLUDE

    spot_per_usd = _number("Spot at year 0 (for mode path, default: the path's first value). "
                           "[currency/USD]", FX_RATE)
    mode = _choice("flat, parity (covered interest parity) or path (default flat).", FX_MODES)
    interest_rate = _number("Currency interest rate for parity. [fraction/year]", RATE)
    usd_interest_rate = _number("USD interest rate for parity. [fraction/year]", RATE)
    path_per_usd = fields.List(JSONNumber(validate=FX_RATE), allow_none=True,
                               validate=validate.Length(min=1, max=MAX_MODEL_YEARS + 1),
                               metadata={
                                   "description": "Explicit path, one per model year. "
                                                  "[currency/USD]"})
    volatility = _number("Annual log-volatility for the Monte Carlo. [1/sqrt(year)]",
                         LOG_SIGMA)


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
    capacity_mw = _number("Installed capacity. [MW]",
                          validate.Range(min=0.0, max=MAX_CAPACITY_MW, min_inclusive=False),
                          required=True)
    energy_p50_mwh = _number("Net energy of the first operating year at P50 (or give "
                             "study_id). [MWh]", validate.Range(min=0.0, max=MAX_ENERGY_MWH,
                                                                min_inclusive=False))
    energy_p90_mwh = _number("Same at P90 (one-year), at most P50; needed for P90 sizing and "
                             "the Monte Carlo. [MWh]", validate.Range(
                                 min=0.0, max=MAX_ENERGY_MWH, min_inclusive=False))
    degradation = _number("Energy lost each year after the first. [fraction/year]",
                          FRACTION_BELOW_ONE)
    life_years = _integer("Operating life. [year]", validate.Range(min=1, max=MAX_LIFE_YEARS),
                          required=True)
    construction_years = _integer("Construction years; with 1, CAPEX falls in year 0 and "
                                  "operation runs in years 1…life_years. [year]",
                                  validate.Range(min=1, max=MAX_CONSTRUCTION_YEARS))
    capex_usd = _number("Total CAPEX, grid connection included (≥ 1; default: the sum of "
                        "capex_components_usd). [USD]", POSITIVE_USD)
    capex_components_usd = fields.Dict(
        keys=fields.String(), values=JSONNumber(validate=USD), allow_none=True,
        validate=validate.Length(min=1),
        metadata={"description": "CAPEX by component, summing to capex_usd (grid_connection "
                                 "is depreciated straight-line). [USD]"})
    capex_schedule = fields.List(
        JSONNumber(validate=FRACTION), allow_none=True,
        validate=validate.Length(max=MAX_CONSTRUCTION_YEARS),
        metadata={"description": "Fraction of CAPEX per construction year, summing to 1. [-]"})
    opex_usd_per_kw_year = _number("Fixed O&M, first operating year (year-1 money, escalated by "
                                   "opex_escalation). [USD/(kW·year)]",
                                   validate.Range(min=0.0, max=MAX_OPEX_USD_PER_KW_YEAR))
    opex_escalation = _number("Escalation of operating costs. [fraction/year]", RATE)
    variable_opex_usd_per_mwh = _number("Variable O&M. [USD/MWh]", PRICE)
    land_lease_usd_per_year = _number("Land lease, first operating year. [USD/year]", USD)
    insurance_usd_per_year = _number("Insurance, first operating year. [USD/year]", USD)
    asset_management_usd_per_year = _number("Asset management, first operating year. "
                                            "[USD/year]", USD)
    ppa_price_usd_per_mwh = _number("PPA price in the first operating year (year-1 money). "
                                    "[USD/MWh]",
                                    PRICE, required=True)
    ppa_escalation = _number("PPA indexation. [fraction/year]", RATE)
    ppa_term_years = _integer("Years of PPA from COD, ≤ life_years (default life_years). "
                              "[year]", MODEL_YEARS)
    merchant_price_usd_per_mwh = _number("Merchant price after the PPA, first-year money. "
                                         "[USD/MWh]", PRICE)
    merchant_escalation = _number("Merchant price escalation. [fraction/year]", RATE)
    cel_price_usd_per_mwh = _number("Clean energy certificate (CEL) price. [USD/MWh]", PRICE)
    cel_escalation = _number("CEL price escalation. [fraction/year]", RATE)
    cel_years = _integer("Years of CEL sales from COD, ≤ life_years. [year]", MODEL_YEARS)
    decommissioning_usd = _number("Decommissioning net of salvage, last operating year. [USD]",
                                  USD)
    tax_rate = _number("ISR rate (default 0.30, LISR art. 9). [-]", FRACTION_BELOW_ONE)
    ptu_rate = _number("Uncapped PTU rate (default 0.10: LFT art. 117 and the resolution of the "
                       "Quinta Comisión Nacional para la PTU, DOF 2009-02-03); capped by "
                       "ptu_payroll_usd_per_year. [-]", FRACTION_BELOW_ONE)
    ptu_payroll_usd_per_year = _number(
        "Annual payroll of the project company's employees, first operating year, escalated "
        "with OPEX: PTU is capped at three months of it or the average PTU of the last three "
        "years if higher (LFT art. 127 fr. VIII, 2021 reform). Omit for no cap; 0 for a company "
        "without employees. [USD/year]", USD)
    depreciation = _choice("mx_renewable_100 (LISR art. 34 fr. XIII, at depreciation_rate) or "
                           "straight_line (at straight_line_rate).", DEPRECIATION_METHODS)
    depreciation_rate = _number("Under mx_renewable_100: the annual rate the sponsor elects, up to "
                                "the maximum 1.0 (100 % in the first operating year; LISR art. 31 "
                                "allows a lower rate). Default 1.0. [fraction/year]",
                                FRACTION_UP_TO_ONE)
    straight_line_rate = _number("Straight-line rate when chosen. [fraction/year]",
                                 FRACTION_UP_TO_ONE)
    max_total_gearing = _number("Most debt of every rank (senior and concessional) at COD as a "
                                "fraction of CAPEX (default 0.90, Yescombe 2014 §12.5); a stack over "
                                "it is refused (422 naming this field). [-]", FRACTION_UP_TO_ONE)
    mirr_finance_rate = _number("Finance rate of the modified IRRs (default discount_rate). "
                                "[fraction/year]", RATE)
    mirr_reinvestment_rate = _number("Reinvestment rate of the modified IRRs (default "
                                     "discount_rate). [fraction/year]", RATE)
    discount_rate = _number("Nominal discount rate for NPV and LCOE. [fraction/year]", RATE,
                            required=True)
    inflation_rate = _number("Inflation for the real LCOE, which is in year-0 money (SAM's "
                             "convention). [fraction/year]", RATE)
    dsra_months = _number("Debt service reserve. [months]",
                          validate.Range(min=0.0, max=MAX_DSRA_MONTHS))
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

    @validates_schema
    def _capex_from_components(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """CAPEX summed from its components has the range of ``capex_usd``."""
        components = data.get("capex_components_usd")
        if data.get("capex_usd") is None and components:
            total = sum(components.values())
            if not POSITIVE_USD.min <= total <= POSITIVE_USD.max:
                raise ValidationError(f"must sum to {POSITIVE_USD.min:g} … "
                                      f"{POSITIVE_USD.max:g} USD (the range of capex_usd), "
                                      f"got {total:g}", "capex_components_usd")


class CaseListQuerySchema(Schema):
    """Query of ``GET /api/v1/finance/cases`` (query strings are text: ``?project_id=7``)."""

    class Meta:
        unknown = EXCLUDE

    project_id = fields.Integer(load_default=None, validate=DATABASE_ID_RANGE, metadata={
        "description": "Only the cases of this project."})


class MonteCarloRequestSchema(Schema):
    """Uncertainty of a Monte Carlo run (all optional; an empty body takes every default)."""

    class Meta:
        unknown = RAISE

    n_draws = _integer(f"Draws (1 … {MAX_DRAWS}; default 10 000).",
                       validate.Range(min=1, max=MAX_DRAWS))
    seed = _integer("Seed of the generator (same seed, same draws; default 0), below 2**32.",
                    SEED)
    price_sigma = _number("Log standard deviation of the merchant and CEL price factor. [-]",
                          LOG_SIGMA)
    capex_sigma = _number("Log standard deviation of the CAPEX factor. [-]", LOG_SIGMA)
    opex_sigma = _number("Log standard deviation of the OPEX factor. [-]", LOG_SIGMA)
    energy_sigma = _number("Standard deviation of the energy factor (default from P50/P90). "
                           "[-]", ENERGY_SIGMA)
    breach_dscr = _number("DSCR under which a draw counts as a breach (default 1.0). [-]",
                          BREACH_DSCR)
    chunk = _integer(f"Draws per vectorized chunk, one progress step (default: a tenth of "
                     f"the draws, at least 100); at most {MAX_CHUNKS} chunks per run.",
                     validate.Range(min=1, max=MAX_DRAWS))

    @validates_schema
    def _few_chunks(self, data: dict[str, Any], **_kwargs: Any) -> None:
        chunk = data.get("chunk")
        draws = data.get("n_draws") or MonteCarloSpec.n_draws
        if chunk is not None and chunk * MAX_CHUNKS < draws:
            smallest = -(-draws // MAX_CHUNKS)
            raise ValidationError(f"must be at least {smallest} for {draws} draws (at most "
                                  f"{MAX_CHUNKS} chunks, each a progress step)", "chunk")

