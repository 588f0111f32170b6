"""Request schemas of the fund, its LP ledger, allocations, limits and portfolio (issue 11).

One schema per request, loaded by the REST endpoint (``@blp.arguments``) and by the
``fondo portfolio`` commands (:func:`fondo.request_body.load_request`) alike. A schema
checks types, required fields, enumerations and plain bounds; the service then checks
what needs the database or the currency (an amount's decimals against its currency's
minor unit, an allocation against a commitment) and names the field it refuses.

Amounts are exact decimals: a JSON string (``"1250000.50"``, preferred) or a JSON number.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from fondo.fund.ledger_models import HolderKind, LedgerEntryKind, LimitDimension, TrancheKind
from fondo.fund.models import LimitedPartnerKind
from fondo.schema_fields import DATABASE_ID_RANGE, JSONInteger, JSONNumber, database_id

#: Longest name of a fund, LP or co-investor. [characters]
MAX_NAME_LENGTH = 200
#: Longest note on a ledger entry. [characters]
MAX_NOTE_LENGTH = 500
#: Calendar years accepted for vintages and start years.
YEAR_RANGE = validate.Range(min=1990, max=2100)
#: Rates of the waterfall and the fee are fractions. [-]
FRACTION_RANGE = validate.Range(min=0.0, max=1.0)
#: Fee years: a fund's life rarely exceeds 15 years; 50 bounds any extension. [year]
FEE_YEARS_RANGE = validate.Range(min=0, max=50)
#: Monte Carlo draws of the fund's IRR served with a summary (0: none). [draws]
MAX_PORTFOLIO_DRAWS = 10_000

_AMOUNT_DOC = {"oneOf": [{"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$",
                          "maxLength": 40}, {"type": "number"}],
               "description": "Exact decimal, with at most the currency's decimals (ISO 4217 "
                              "minor unit); a string is preferred."}


class Amount(fields.Field):
    """An exact amount as a JSON string or number (the service checks it with its currency)."""

    default_error_messages = {"invalid": "must be a decimal string or a number, got {input!r}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.make_error("invalid", input=value)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid", input=value)
        if isinstance(value, str) and len(value) > 40:
            raise self.make_error("invalid", input=value[:40] + "…")
        return value


def _amount(required: bool = True) -> Amount:
    return Amount(required=required, allow_none=not required, metadata=dict(_AMOUNT_DOC))


def _currency(required: bool, description: str) -> fields.String:
    return fields.String(required=required, allow_none=not required,
                         validate=validate.Length(equal=3),
                         metadata={"description": description + " (ISO 4217 code)."})


def _rate(description: str) -> Amount:
    return Amount(required=False, allow_none=True, metadata=dict(
        _AMOUNT_DOC, description=description + " Units of the amount's currency per unit "
                                               "of the fund's currency."))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class FundRequestSchema(_Strict):
    """``POST /api/v1/funds`` and ``fondo portfolio fund-create``."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    base_currency = _currency(True, "The fund's currency")
    vintage_year = JSONInteger(required=True, validate=YEAR_RANGE)
    preferred_return_rate = JSONNumber(load_default=0.08, validate=FRACTION_RANGE)
    carried_interest_rate = JSONNumber(load_default=0.20, validate=validate.Range(0.0, 0.99))
    catch_up_rate = JSONNumber(load_default=1.0, validate=FRACTION_RANGE)
    management_fee_rate = JSONNumber(load_default=0.02, validate=validate.Range(0.0, 0.1))
    management_fee_years = JSONInteger(load_default=10, validate=FEE_YEARS_RANGE)
    discount_rate = JSONNumber(load_default=0.08, validate=validate.Range(0.0, 1.0))


class LimitedPartnerRequestSchema(_Strict):
    """``POST /api/v1/funds/<id>/limited-partners``."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$"),
                            metadata={"description": "ISO 3166-1 alpha-2."})
    kind = fields.String(required=True,
                         validate=validate.OneOf([k.value for k in LimitedPartnerKind]))
    commitment_amount = _amount()
    commitment_currency = _currency(True, "The commitment's currency")
    fx_rate = _rate("Rate fixing the commitment's value in the fund's currency (required "
                    "when the currencies differ).")
    fx_rate_date = fields.Date(load_default=None, allow_none=True)
    fx_source = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=MAX_NAME_LENGTH))


class LedgerEntryRequestSchema(_Strict):
    """``POST /api/v1/funds/<id>/ledger`` and ``fondo portfolio ledger-add``."""

    limited_partner_id = database_id("The LP.", required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in LedgerEntryKind]))
    amount = _amount()
    currency = _currency(False, "The entry's currency, the LP's commitment currency")
    effective_date = fields.Date(required=True)
    fx_rate = _rate("Rate of the entry (required when the LP's currency is not the fund's).")
    fx_rate_date = fields.Date(load_default=None, allow_none=True)
    fx_source = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=MAX_NAME_LENGTH))
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=MAX_NOTE_LENGTH))


class AllocationRequestSchema(_Strict):
    """``POST /api/v1/funds/<id>/allocations`` and ``fondo portfolio allocate``."""

    project_id = database_id("The project.", required=True)
    tranche_kind = fields.String(required=True, validate=validate.OneOf([k.value for k in TrancheKind]))
    tranche = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                            metadata={"description": "Tranche name in the project's finance "
                                                     "case (default: its first tranche of "
                                                     "this kind)."})
    holder_kind = fields.String(load_default=HolderKind.FUND.value,
                                validate=validate.OneOf([k.value for k in HolderKind]))
    co_investor_name = fields.String(load_default=None, allow_none=True,
                                     validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    limited_partner_id = database_id("An LP co-investing directly (its commitment bounds it).")
    amount = _amount()
    currency = _currency(True, "The allocation's currency")
    fx_rate = _rate("Rate of the allocation (required when not in the fund's currency).")
    fx_rate_date = fields.Date(load_default=None, allow_none=True)
    fx_source = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(max=MAX_NAME_LENGTH))
    start_year = JSONInteger(load_default=None, allow_none=True, validate=YEAR_RANGE)


class ConcentrationLimitRequestSchema(_Strict):
    """``PUT /api/v1/funds/<id>/limits``: one limit, created or replaced."""

    dimension = fields.String(required=True, validate=validate.OneOf([d.value for d in LimitDimension]))
    key = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    max_fraction = JSONNumber(required=True, validate=validate.Range(0.0, 1.0, min_inclusive=False))
    warn_at = JSONNumber(load_default=0.9, validate=validate.Range(0.0, 1.0, min_inclusive=False))


class PortfolioQuerySchema(Schema):
    """Query of ``GET /api/v1/portfolio/summary`` and ``/portfolio/lp/<id>`` (query strings
    are text: ``?fund_id=1&draws=1000``; others, such as ``lang``, are the app's)."""

    class Meta:
        unknown = EXCLUDE

    fund_id = fields.Integer(load_default=None, validate=DATABASE_ID_RANGE, metadata={
        "description": "The fund (default: the first fund the caller sees)."})
    as_of_year = fields.Integer(load_default=None, validate=YEAR_RANGE, metadata={
        "description": "Valuation at the end of this year (default: the current year)."})
    draws = fields.Integer(load_default=0, validate=validate.Range(0, MAX_PORTFOLIO_DRAWS),
                           metadata={"description": "Monte Carlo draws of the fund's IRR "
                                                    "(0: none)."})
    seed = fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1))


class PortfolioMonteCarloRequestSchema(_Strict):
    """``POST /api/v1/portfolio/montecarlo`` and ``fondo portfolio montecarlo --input``."""

    fund_id = database_id("The fund (default: the first the caller sees).")
    draws = JSONInteger(load_default=MAX_PORTFOLIO_DRAWS,
                        validate=validate.Range(1, MAX_PORTFOLIO_DRAWS))
    seed = JSONInteger(load_default=0, validate=validate.Range(0, 2**31 - 1))
    as_of_year = JSONInteger(load_default=None, allow_none=True, validate=YEAR_RANGE)
