"""The demo fund's ledger: waterfall terms, FX rates of its CAD and MXN commitments, a few
capital calls, fees and distributions, and its allocations to the demo projects that have
a finance case. Every row is labelled demo; the FX rates are illustrative round numbers,
not market quotes, and say so where they are shown.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fondo.errors import FondoError
from fondo.fund.allocations import TRANCHE_KINDS_OF, case_of_project, case_tranches, create_allocation
from fondo.fund.ledger import create_entry, fund_commitments
from fondo.fund.ledger_models import Allocation, LedgerEntry, TrancheKind
from fondo.fund.limits import set_limit
from fondo.fund.models import Fund, LimitedPartner, Project

__all__ = ["DEMO_FX", "DEMO_TERMS", "DEMO_ENTRIES", "DEMO_LIMITS", "seed_demo_ledger"]

#: Illustrative rates (units per USD) fixing the demo commitments' USD value.
DEMO_FX = {"CAD": (Decimal("1.40"), date(2025, 1, 15)), "MXN": (Decimal("18.50"), date(2025, 1, 15))}
DEMO_FX_SOURCE = "illustrative demo rate, not a market quote"
#: The demo fund's terms (a common 2/20 structure with an 8 % hurdle and full catch-up).
DEMO_TERMS = {"vintage_year": 2025, "preferred_return_rate": 0.08, "carried_interest_rate": 0.20,
              "catch_up_rate": 1.0, "management_fee_rate": 0.02, "management_fee_years": 10,
              "discount_rate": 0.08}
#: (date, kind, fraction of each LP's commitment) of the demo ledger.
DEMO_ENTRIES = (
    (date(2025, 3, 31), "capital_call", Decimal("0.10")),
    (date(2025, 3, 31), "management_fee", Decimal("0.01")),
    (date(2026, 1, 15), "management_fee", Decimal("0.02")),
    (date(2026, 6, 30), "capital_call", Decimal("0.15")),
    (date(2026, 9, 30), "distribution", Decimal("0.005")),
)
#: Most of one project's equity tranche the demo fund takes, as a fraction of its
#: commitments (below the single-project limit's warning, 90 % of 25 %). [-]
DEMO_MAX_PROJECT_FRACTION = Decimal("0.20")
#: Concentration limits of the demo fund (fractions of commitments).
DEMO_LIMITS = (
    {"dimension": "project", "key": None, "max_fraction": 0.25, "warn_at": 0.9},
    {"dimension": "state", "key": None, "max_fraction": 0.40, "warn_at": 0.9},
    {"dimension": "technology", "key": None, "max_fraction": 0.75, "warn_at": 0.9},
)


def seed_demo_ledger(session: Session, fund: Fund) -> dict[str, int]:
    """Terms, LP rates, ledger entries and limits of the demo fund (once), and the equity
    allocation of every demo project that has a finance case and no allocation yet (so a
    second call after the demo cases exist allocates them: call it after they are made)."""
    entries = 0
    if not session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.fund_id == fund.id)):
        entries = _seed_entries(session, fund)
    allocated = 0
    room = fund_commitments(session, fund) * DEMO_MAX_PROJECT_FRACTION
    held = set(session.scalars(select(Allocation.project_id).where(Allocation.fund_id == fund.id)))
    projects = session.scalars(select(Project).where(Project.fund_id == fund.id).order_by(Project.id))
    for project in projects:
        case = case_of_project(session, project.id) if project.id not in held else None
        if case is None:
            continue
        equity = [(n, t) for n, t in case_tranches(case).items()
                  if t["kind"] in TRANCHE_KINDS_OF[TrancheKind.EQUITY]]
        if not equity or equity[0][1]["invested_usd"] <= 0:
            continue
        name, tranche = equity[0]
        try:
            create_allocation(session, fund.id, {
                "project_id": project.id, "tranche_kind": "equity", "tranche": name,
                "amount": format(min(Decimal(f"{tranche['invested_usd']:.2f}"), room)
                                 .quantize(Decimal("0.01")), "f"),
                "currency": "USD", "start_year": DEMO_TERMS["vintage_year"] + 1}, is_demo=True)
            allocated += 1
        except FondoError:  # a limit or the commitments leave no room: the demo skips it
            continue
    session.flush()
    return {"demo_ledger_entries": entries, "demo_allocations": allocated}


def _seed_entries(session: Session, fund: Fund) -> int:
    """The demo fund's terms, its LPs' rates, ledger entries and limits."""
    for key, value in DEMO_TERMS.items():
        setattr(fund, key, value)
    lps = list(session.scalars(select(LimitedPartner).where(LimitedPartner.fund_id == fund.id)
                               .order_by(LimitedPartner.id)))
    for lp in lps:
        lp.commitment_amount = Decimal(repr(float(lp.commitment_amount))).quantize(Decimal("0.01"))
        if lp.commitment_currency in DEMO_FX:
            lp.fx_rate, lp.fx_rate_date = DEMO_FX[lp.commitment_currency]
            lp.fx_source = DEMO_FX_SOURCE
    session.flush()
    entries = 0
    for when, kind, fraction in DEMO_ENTRIES:
        for lp in lps:
            rate, _ = DEMO_FX.get(lp.commitment_currency, (None, None))
            create_entry(session, fund.id, {
                "limited_partner_id": lp.id, "kind": kind,
                "amount": format((Decimal(lp.commitment_amount) * fraction).quantize(Decimal("0.01")), "f"),
                "effective_date": when, "fx_rate": rate, "fx_rate_date": when if rate else None,
                "fx_source": DEMO_FX_SOURCE if rate else None,
                "note": "demo"}, is_demo=True)
            entries += 1
    for body in DEMO_LIMITS:
        set_limit(session, fund.id, body)
    session.flush()
    return entries
