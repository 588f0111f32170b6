"""Allocations: each project's equity and debt tranches shared between the fund and
co-investors, checked against commitments, tranche sizes and concentration limits.

An allocation names a tranche of the project's newest finance case (by default its first
tranche of the kind asked: ``equity`` = equity or first-loss equity, ``debt`` = senior or
concessional debt); its holder receives ``amount / invested`` of that tranche's flows,
``invested`` being what the tranche puts in (the negative flows of its
``flow_<tranche>_usd`` column).

Checks, before anything is stored (a 409 naming ``amount`` unless said otherwise):

* the fund's allocations, in the fund's currency, stay within its LPs' total commitments;
* an LP co-investing directly (``limited_partner_id``) stays within its commitment in the
  fund's currency (Fondo's rule: a co-investment right is sized on the LP's commitment);
* all holders of a tranche together stay within the tranche (when the case is in the
  fund's currency, USD);
* the fund's allocation breaks no concentration limit (:mod:`fondo.fund.limits`); one
  from 90 % of a limit is stored with a warning in the answer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.errors import Conflict, InvalidInput
from fondo.finance import service as finance_service
from fondo.fund.ledger import (commitment_in_fund_currency, fund_commitments, lock_fund,
                               stated_rate)
from fondo.fund.ledger_models import Allocation, HolderKind, TrancheKind
from fondo.fund.limits import evaluate
from fondo.fund.models import Fund, LimitedPartner, Project
from fondo.fund.money import amount_text, check_currency, convert, fx_json, parse_amount

__all__ = ["TRANCHE_KINDS_OF", "case_of_project", "case_tranches", "create_allocation",
           "list_allocations", "allocation_json"]

#: Finance-case tranche kinds that make up an allocation's ``tranche_kind``.
TRANCHE_KINDS_OF = {TrancheKind.EQUITY: ("equity", "first_loss_equity"),
                    TrancheKind.DEBT: ("senior_debt", "concessional_debt")}


def _slug(name: str) -> str:
    """The column slug of a tranche name (as :mod:`finance.case` writes ``flow_<slug>_usd``)."""
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")


def case_of_project(session: Session, project_id: int) -> Any | None:
    """The project's base finance case: its newest case run on a stored yield study, else its
    newest case, or None. A P90 downside case made by the pipeline
    (:func:`fondo.fund.links.create_p90_case`) carries no study and is a covenant test, not
    the projection the fund's returns are built on."""
    cases = finance_service.list_cases(session, project_id)
    on_a_study = [case for case in cases if case.study_id is not None]
    return (on_a_study or cases)[0] if cases else None


def case_tranches(case: Any) -> dict[str, dict[str, Any]]:
    """Tranches of a stored case: ``name → {kind, invested_usd, flows_usd}``."""
    rows = case.result["cashflows"]
    out = {}
    for tranche in case.result["tranches"]:
        column = f"flow_{_slug(tranche['name'])}_usd"
        flows = [float(r.get(column) or 0.0) for r in rows]
        out[tranche["name"]] = {"kind": tranche["kind"], "flows_usd": flows,
                                "invested_usd": -sum(f for f in flows if f < 0)}
    return out


def _pick_tranche(case: Any, kind: TrancheKind, name: str | None) -> tuple[str | None, float | None]:
    if case is None:
        return name, None
    tranches = case_tranches(case)
    wanted = TRANCHE_KINDS_OF[kind]
    if name is None:
        name = next((n for n, t in tranches.items() if t["kind"] in wanted), None)
        if name is None:
            raise InvalidInput(f"Finance case {case.id} has no {kind.value} tranche.",
                               field="tranche_kind")
    if name not in tranches or tranches[name]["kind"] not in wanted:
        raise InvalidInput(f"Finance case {case.id} has no {kind.value} tranche {name!r}.",
                           field="tranche")
    return name, tranches[name]["invested_usd"]


def _sum(session: Session, *conditions: Any) -> Decimal:
    return sum((Decimal(a) for a in session.scalars(
        select(Allocation.amount_fund_currency).where(*conditions))), Decimal(0))


def create_allocation(session: Session, fund_id: int, body: Mapping[str, Any],
                      user_id: int | None = None, *, is_demo: bool = False
                      ) -> tuple[Allocation, list[str]]:
    """Check and store an allocation (flushed); the row and the limits' warnings.

    Takes the fund's lock first (:func:`fondo.fund.ledger.lock_fund`): two allocations
    sent at once are checked one after the other.
    """
    fund = lock_fund(session, fund_id)
    project = session.get(Project, body["project_id"])
    if project is None or project.fund_id not in (None, fund.id):
        raise InvalidInput(f"No project {body['project_id']} in fund {fund.id}.",
                           field="project_id")
    currency = check_currency(body["currency"], "currency")
    amount = parse_amount(body["amount"], currency, "amount")
    rate, rate_date, source = stated_rate(body, currency, fund.base_currency,
                                          date.today())
    in_fund = convert(amount, rate, fund.base_currency)
    kind = TrancheKind(body["tranche_kind"])
    holder = HolderKind(body.get("holder_kind") or HolderKind.FUND.value)
    lp_id, co_name = body.get("limited_partner_id"), body.get("co_investor_name")
    if holder is HolderKind.FUND and (lp_id is not None or co_name is not None):
        raise InvalidInput("The fund's own allocation names no co-investor.",
                           field="co_investor_name" if co_name is not None else "limited_partner_id")
    if holder is HolderKind.CO_INVESTOR and lp_id is None and not co_name:
        raise InvalidInput("A co-investor is named (co_investor_name or limited_partner_id).",
                           field="co_investor_name")
    tranche, invested_usd = _pick_tranche(case_of_project(session, project.id), kind,
                                          body.get("tranche"))
    if holder is HolderKind.FUND:
        already = _sum(session, Allocation.fund_id == fund.id,
                       Allocation.holder_kind == HolderKind.FUND)
        total = fund_commitments(session, fund)
        if already + in_fund > total:
            raise Conflict(f"The fund's allocations would reach "
                           f"{amount_text(already + in_fund, fund.base_currency)} "
                           f"{fund.base_currency}, beyond its commitments of "
                           f"{amount_text(total, fund.base_currency)}.", field="amount")
    else:
        if lp_id is not None:
            lp = session.get(LimitedPartner, lp_id)
            if lp is None or lp.fund_id != fund.id:
                raise InvalidInput(f"No limited partner {lp_id} in fund {fund.id}.",
                                   field="limited_partner_id")
            cap = commitment_in_fund_currency(fund, lp) or Decimal(0)
            already = _sum(session, Allocation.limited_partner_id == lp_id)
            if already + in_fund > cap:
                raise Conflict(f"{lp.name}'s co-investments would reach "
                               f"{amount_text(already + in_fund, fund.base_currency)} "
                               f"{fund.base_currency}, beyond its commitment of "
                               f"{amount_text(cap, fund.base_currency)}.", field="amount")
    if invested_usd is not None and fund.base_currency == "USD" and tranche is not None:
        taken = _sum(session, Allocation.project_id == project.id, Allocation.tranche == tranche)
        size = Decimal(repr(invested_usd)).quantize(Decimal("0.01"))
        if taken + in_fund > size:
            raise Conflict(f"Tranche {tranche!r} of project {project.id} is {size} USD; "
                           f"allocations would reach {amount_text(taken + in_fund, 'USD')}.",
                           field="amount")
    warnings: list[str] = []
    if holder is HolderKind.FUND:
        rows = evaluate(session, fund, extra=[(project, in_fund)])
        breaches = [r["message"] for r in rows if r["level"] == "breach"]
        if breaches:
            raise Conflict(" ".join(breaches), field="amount")
        warnings = [r["message"] for r in rows if r["level"] == "warning"]
    row = Allocation(fund_id=fund.id, project_id=project.id, tranche_kind=kind, tranche=tranche,
                     holder_kind=holder, co_investor_name=co_name, limited_partner_id=lp_id,
                     amount=amount, currency=currency, fx_rate=rate, fx_rate_date=rate_date,
                     fx_source=source, amount_fund_currency=in_fund,
                     start_year=body.get("start_year"), created_by_id=user_id, is_demo=is_demo)
    session.add(row)
    session.flush()
    return row, warnings


def list_allocations(session: Session, fund_id: int, project_id: int | None = None,
                     project_ids: Collection[int] | None = None) -> list[Allocation]:
    """The fund's allocations by id (of one project, or of ``project_ids``, when given)."""
    query = select(Allocation).where(Allocation.fund_id == fund_id)
    if project_id is not None:
        query = query.where(Allocation.project_id == project_id)
    if project_ids is not None:
        query = query.where(Allocation.project_id.in_(list(project_ids)))
    return list(session.scalars(query.order_by(Allocation.id)))


def allocation_json(row: Allocation, fund: Fund, warnings: list[str] | None = None
                    ) -> dict[str, Any]:
    """One allocation, amounts as exact text."""
    out = {"id": row.id, "fund_id": row.fund_id, "project_id": row.project_id,
           "tranche_kind": row.tranche_kind.value, "tranche": row.tranche,
           "holder_kind": row.holder_kind.value, "co_investor_name": row.co_investor_name,
           "limited_partner_id": row.limited_partner_id,
           "amount": amount_text(row.amount, row.currency), "currency": row.currency,
           "amount_fund_currency": amount_text(row.amount_fund_currency, fund.base_currency),
           "fund_currency": fund.base_currency,
           "fx": fx_json(row.fx_rate, row.fx_rate_date, row.fx_source, row.currency,
                         fund.base_currency),
           "start_year": row.start_year, "is_demo": row.is_demo}
    if warnings is not None:
        out["warnings"] = list(warnings)
    return out
