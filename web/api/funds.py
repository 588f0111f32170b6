"""``/api/v1/funds``: funds, LP commitments, the LP ledger, allocations and limits (issue 11).

Amounts are exact decimals, served as strings with the currency's decimals (an amount is
sent as a string or a number; more decimals than the currency has is a 422 naming the
field). Every refusal stores nothing: 422 for bad input, 409 for an allocation or a call
beyond a commitment, a tranche or a concentration limit, naming ``amount``.

Who sees what: officers (and admins) see and write everything; analysts read funds,
allocations and limits; an investor reads the funds in which they act for an LP — the
fund, its allocations and limits, and only their own LPs' commitments and ledger entries
(another fund is a 404, another LP is not listed). Writes are the officers'.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from fondo.accounts.models import Role
from fondo.fund import allocations as alloc_service
from fondo.fund import ledger as ledger_service
from fondo.fund import limits as limits_service
from fondo.fund import service as fund_service
from fondo.fund.portfolio_schemas import (
    AllocationRequestSchema,
    ConcentrationLimitRequestSchema,
    FundRequestSchema,
    LedgerEntryRequestSchema,
    LimitedPartnerRequestSchema,
)
from web.api.docs import Blueprint, responses_doc, strict_json
from web.api.permissions import visible_fund_ids
from web.auth import api_user, require_role
from web.context import db

blp = Blueprint("funds", __name__, url_prefix="/api/v1/funds",
                description="The fund: LP commitments, ledger, allocations, concentration limits")

#: Who reads funds, allocations and limits (investors only their funds; admins pass).
READ_ROLES = (Role.OFFICER, Role.ANALYST, Role.INVESTOR)
#: Who writes funds, commitments, ledger entries, allocations and limits.
WRITE_ROLES = (Role.OFFICER,)
#: Who reads LP commitments and the ledger (investors only their own LPs').
LP_READ_ROLES = (Role.OFFICER, Role.INVESTOR)


class FundSchema(Schema):
    """A fund, its terms and total commitments (exact decimal text)."""

    id = fields.Integer()
    name = fields.String()
    base_currency = fields.String()
    vintage_year = fields.Integer(allow_none=True)
    is_demo = fields.Boolean()
    commitments = fields.String(metadata={"description": "Exact decimal, fund currency."})
    terms = fields.Dict()
    links = fields.Dict()


def _fund(fund_id: int) -> Any:
    """The fund if the caller may see it, else the same 404 as an unknown id."""
    return ledger_service.get_fund(db(), fund_id, visible_fund_ids(db(), api_user()))


def _own_lp_ids() -> set[int] | None:
    """The LPs an investor acts for; None for staff (all)."""
    user = api_user()
    if user.role is not Role.INVESTOR:
        return None
    return set(fund_service.limited_partner_ids_of_user(db(), user.id))


@blp.get("")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "The funds the caller sees.", errors=(401, 403)))
def list_funds():
    """Funds the caller may see, with terms and total commitments."""
    session = db()
    funds = ledger_service.list_funds(session, visible_fund_ids(session, api_user()))
    return strict_json({"funds": [ledger_service.fund_json(session, f) for f in funds]})


@blp.post("")
@require_role(*WRITE_ROLES)
@blp.arguments(FundRequestSchema, description="The fund and its waterfall terms.")
@blp.doc(**responses_doc(201, FundSchema, "Stored.", errors=(401, 403, 409, 422)))
def create_fund(body: dict[str, Any]):
    """Create a fund (name, currency, vintage, waterfall and fee terms)."""
    session = db()
    fund = ledger_service.create_fund(session, body)
    session.commit()
    return strict_json(ledger_service.fund_json(session, fund), 201,
                       {"Location": f"/api/v1/funds/{fund.id}"})


@blp.get("/<int:fund_id>")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, FundSchema, "The fund."))
def get_fund(fund_id: int):
    """One fund with its terms and total commitments."""
    return strict_json(ledger_service.fund_json(db(), _fund(fund_id)))


@blp.get("/<int:fund_id>/limited-partners")
@require_role(*LP_READ_ROLES)
def list_limited_partners(fund_id: int):
    """The fund's LPs with their positions (an investor: only their own)."""
    session, fund = db(), _fund(fund_id)
    pos = ledger_service.positions(session, fund)
    lps = ledger_service.list_limited_partners(session, fund.id, _own_lp_ids())
    return strict_json({"limited_partners": [
        ledger_service.limited_partner_json(lp, fund, pos[lp.id]) for lp in lps]})


@blp.post("/<int:fund_id>/limited-partners")
@require_role(*WRITE_ROLES)
@blp.arguments(LimitedPartnerRequestSchema, description="The commitment.")
@blp.doc(**responses_doc(201, None, "Stored.", errors=(401, 403, 404, 422)))
def create_limited_partner(body: dict[str, Any], fund_id: int):
    """Record an LP's commitment (exact amount, ISO 4217 currency, stated rate)."""
    session, fund = db(), _fund(fund_id)
    lp = ledger_service.create_limited_partner(session, fund.id, body)
    session.commit()
    pos = ledger_service.positions(session, fund)[lp.id]
    return strict_json(ledger_service.limited_partner_json(lp, fund, pos), 201,
                       {"Location": f"/api/v1/portfolio/lp/{lp.id}"})


@blp.get("/<int:fund_id>/ledger")
@require_role(*LP_READ_ROLES)
def list_ledger(fund_id: int):
    """Capital calls, fees and distributions by date (an investor: only their LPs')."""
    session, fund = db(), _fund(fund_id)
    entries = ledger_service.list_entries(session, fund.id, _own_lp_ids())
    return strict_json({"entries": [ledger_service.entry_json(e, fund) for e in entries]})


@blp.post("/<int:fund_id>/ledger")
@require_role(*WRITE_ROLES)
@blp.arguments(LedgerEntryRequestSchema, description="A capital call, fee or distribution.")
@blp.doc(**responses_doc(201, None, "Stored.", errors=(401, 403, 404, 409, 422)))
def create_entry(body: dict[str, Any], fund_id: int):
    """Record a capital call, management fee or distribution of one LP."""
    session, fund = db(), _fund(fund_id)
    entry = ledger_service.create_entry(session, fund.id, body, user_id=api_user().id)
    session.commit()
    return strict_json(ledger_service.entry_json(entry, fund), 201)


@blp.get("/<int:fund_id>/allocations")
@require_role(*READ_ROLES)
def list_allocations(fund_id: int):
    """The fund's and co-investors' allocations of projects' tranches."""
    session, fund = db(), _fund(fund_id)
    rows = alloc_service.list_allocations(session, fund.id)
    return strict_json({"allocations": [alloc_service.allocation_json(r, fund) for r in rows]})


@blp.post("/<int:fund_id>/allocations")
@require_role(*WRITE_ROLES)
@blp.arguments(AllocationRequestSchema, description="A share of a project's tranche.")
@blp.doc(**responses_doc(201, None, "Stored; `warnings` lists limits within 90 % of a breach.",
                         errors=(401, 403, 404, 409, 422)))
def create_allocation(body: dict[str, Any], fund_id: int):
    """Allocate a share of a project's equity or debt tranche to the fund or a co-investor."""
    session, fund = db(), _fund(fund_id)
    row, warnings = alloc_service.create_allocation(session, fund.id, body, api_user().id)
    session.commit()
    return strict_json(alloc_service.allocation_json(row, fund, warnings), 201)


@blp.get("/<int:fund_id>/limits")
@require_role(*READ_ROLES)
def list_limits(fund_id: int):
    """The fund's concentration limits and where the fund stands against each."""
    session, fund = db(), _fund(fund_id)
    return strict_json({"limits": [limits_service.limit_json(r)
                                   for r in limits_service.list_limits(session, fund.id)],
                        "status": limits_service.evaluate(session, fund)})


@blp.put("/<int:fund_id>/limits")
@require_role(*WRITE_ROLES)
@blp.arguments(ConcentrationLimitRequestSchema, description="One limit (replaces the same "
                                                            "dimension and key).")
@blp.doc(**responses_doc(200, None, "Stored.", errors=(401, 403, 404, 422)))
def set_limit(body: dict[str, Any], fund_id: int):
    """Set a concentration limit by state, corridor, technology or single project."""
    session, fund = db(), _fund(fund_id)
    row = limits_service.set_limit(session, fund.id, body)
    session.commit()
    return strict_json(limits_service.limit_json(row))
