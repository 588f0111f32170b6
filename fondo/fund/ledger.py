"""The fund and its LP ledger: funds, LP commitments, capital calls, management fees and
distributions, and each LP's position (issue 11).

Amounts are exact :class:`~decimal.Decimal` in the LP's currency, each with its value in
the fund's currency at a stated rate and date (:mod:`fondo.fund.money`). An LP's position:

* ``committed`` — its commitment;
* ``called`` — capital calls plus management fees paid (both drawn on the commitment);
* ``distributed`` — what the fund paid it;
* ``unfunded = committed − called`` (never negative: a call beyond it is refused);
* ``nav_share`` — its commitment in the fund's currency (at the commitment's stated
  rate) over all LPs' commitments: its pro-rata share of the fund, the shares summing
  to 1.

Every write is checked before anything is stored; a refusal is an
:class:`~fondo.errors.InvalidInput` (422) or :class:`~fondo.errors.Conflict` (409) naming
the field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from finance.portfolio import WaterfallTerms
from fondo.db import take_sqlite_write_lock
from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.fund.ledger_models import LedgerEntry, LedgerEntryKind
from fondo.fund.models import Fund, LimitedPartner, LimitedPartnerKind
from fondo.fund.money import (amount_text, check_currency, convert, fx_json, parse_amount,
                              parse_rate)

__all__ = ["create_fund", "get_fund", "lock_fund", "list_funds", "fund_json", "fund_commitments",
           "create_limited_partner", "get_limited_partner", "list_limited_partners",
           "limited_partner_json", "commitment_in_fund_currency", "create_entry",
           "list_entries", "entry_json", "positions", "stated_rate"]

_ONE = Decimal(1)
#: Longest wait for another writer of the same fund. [s]
FUND_LOCK_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------- funds


def create_fund(session: Session, body: Mapping[str, Any]) -> Fund:
    """A new fund (flushed); 409 naming ``name`` when the name is taken."""
    currency = check_currency(body["base_currency"], "base_currency")
    if session.scalar(select(Fund.id).where(Fund.name == body["name"])) is not None:
        raise Conflict(f"A fund named {body['name']!r} exists.", field="name")
    try:
        WaterfallTerms(body["preferred_return_rate"], body["carried_interest_rate"],
                       body["catch_up_rate"])
    except ValueError as exc:
        raise InvalidInput(str(exc), field="catch_up_rate") from None
    fund = Fund(name=body["name"], base_currency=currency, vintage_year=body["vintage_year"],
                **{k: body[k] for k in ("preferred_return_rate", "carried_interest_rate",
                                        "catch_up_rate", "management_fee_rate",
                                        "management_fee_years", "discount_rate")})
    session.add(fund)
    session.flush()
    return fund


def lock_fund(session: Session, fund_id: int) -> Fund:
    """Take the fund's write lock for the session's transaction; the fund as it now is.

    Every write that checks money against the fund's totals (a call against a commitment,
    an allocation against commitments and limits) takes it FIRST, before it reads what it
    decides on, so that two officers writing at once never both pass a check that only
    one of them may: PostgreSQL locks the fund row (``SELECT … FOR UPDATE``, waiting at
    most :data:`FUND_LOCK_TIMEOUT_S`); SQLite takes the database's write lock
    (``BEGIN IMMEDIATE``).
    """
    query = select(Fund).where(Fund.id == fund_id).execution_options(populate_existing=True)
    if not take_sqlite_write_lock(session, FUND_LOCK_TIMEOUT_S):
        session.execute(text("SELECT set_config('lock_timeout', :t, true)"),
                        {"t": f"{round(FUND_LOCK_TIMEOUT_S * 1000)}ms"})
        query = query.with_for_update()
    fund = session.scalars(query).first()
    if fund is None:
        raise NotFound(f"No fund with id {fund_id}.")
    return fund


def get_fund(session: Session, fund_id: int, fund_ids: Collection[int] | None = None) -> Fund:
    """The fund, or :class:`NotFound` (also when ``fund_ids`` is given and excludes it)."""
    fund = session.get(Fund, fund_id)
    if fund is None or (fund_ids is not None and fund_id not in fund_ids):
        raise NotFound(f"No fund with id {fund_id}.")
    return fund


def list_funds(session: Session, fund_ids: Collection[int] | None = None) -> list[Fund]:
    """Funds by id (only ``fund_ids`` when given)."""
    query = select(Fund).order_by(Fund.id)
    if fund_ids is not None:
        query = query.where(Fund.id.in_(list(fund_ids)))
    return list(session.scalars(query))


def fund_commitments(session: Session, fund: Fund) -> Decimal:
    """Total commitments in the fund's currency (LPs without a stated rate excluded)."""
    total = Decimal(0)
    for lp in list_limited_partners(session, fund.id):
        value = commitment_in_fund_currency(fund, lp)
        total += value if value is not None else 0
    return total


def fund_json(session: Session, fund: Fund) -> dict[str, Any]:
    """A fund with its terms and total commitments."""
    return {"id": fund.id, "name": fund.name, "base_currency": fund.base_currency,
            "vintage_year": fund.vintage_year, "is_demo": fund.is_demo,
            "commitments": amount_text(fund_commitments(session, fund), fund.base_currency),
            "terms": {"preferred_return_rate": fund.preferred_return_rate,
                      "carried_interest_rate": fund.carried_interest_rate,
                      "catch_up_rate": fund.catch_up_rate,
                      "management_fee_rate": fund.management_fee_rate,
                      "management_fee_years": fund.management_fee_years,
                      "discount_rate": fund.discount_rate},
            "links": {"self": f"/api/v1/funds/{fund.id}",
                      "limited_partners": f"/api/v1/funds/{fund.id}/limited-partners",
                      "ledger": f"/api/v1/funds/{fund.id}/ledger",
                      "allocations": f"/api/v1/funds/{fund.id}/allocations",
                      "limits": f"/api/v1/funds/{fund.id}/limits",
                      "portfolio": f"/api/v1/portfolio/summary?fund_id={fund.id}"}}


# --------------------------------------------------------------------------- rates


def stated_rate(body: Mapping[str, Any], currency: str, fund_currency: str,
                default_date: date) -> tuple[Decimal, date, str | None]:
    """The FX rate of a request: 1 (dated ``default_date``) between equal currencies;
    otherwise ``fx_rate`` and ``fx_rate_date`` are required (:class:`InvalidInput`)."""
    if currency == fund_currency:
        if body.get("fx_rate") is not None and parse_rate(body["fx_rate"], "fx_rate") != _ONE:
            raise InvalidInput("Same currency as the fund: the rate is 1.", field="fx_rate")
        return _ONE, body.get("fx_rate_date") or default_date, body.get("fx_source")
    if body.get("fx_rate") is None:
        raise InvalidInput(f"{currency} is not the fund's {fund_currency}: give fx_rate "
                           f"({currency} per {fund_currency}) and fx_rate_date.",
                           field="fx_rate")
    if body.get("fx_rate_date") is None:
        raise InvalidInput("A conversion states its rate's date.", field="fx_rate_date")
    return parse_rate(body["fx_rate"], "fx_rate"), body["fx_rate_date"], body.get("fx_source")


# --------------------------------------------------------------------------- LPs


def create_limited_partner(session: Session, fund_id: int, body: Mapping[str, Any]
                           ) -> LimitedPartner:
    """A new LP commitment (flushed); a negative or zero commitment, an unknown currency,
    too many decimals or a missing rate is a 422 naming the field."""
    fund = lock_fund(session, fund_id)
    currency = check_currency(body["commitment_currency"], "commitment_currency")
    amount = parse_amount(body["commitment_amount"], currency, "commitment_amount")
    kind = LimitedPartnerKind(body["kind"])
    rate, rate_date, source = (None, None, None)
    if currency != fund.base_currency or body.get("fx_rate") is not None:
        rate, rate_date, source = stated_rate(body, currency, fund.base_currency, date.today())
        convert(amount, rate, fund.base_currency)  # its value in the fund's currency fits
    lp = LimitedPartner(fund_id=fund.id, name=body["name"], country=body["country"],
                        kind=kind.value, commitment_amount=amount, commitment_currency=currency,
                        fx_rate=rate, fx_rate_date=rate_date, fx_source=source)
    session.add(lp)
    session.flush()
    return lp


def get_limited_partner(session: Session, lp_id: int, lp_ids: Collection[int] | None = None
                        ) -> LimitedPartner:
    """The LP, or :class:`NotFound` (also outside ``lp_ids`` when given)."""
    lp = session.get(LimitedPartner, lp_id)
    if lp is None or (lp_ids is not None and lp_id not in lp_ids):
        raise NotFound(f"No limited partner with id {lp_id}.")
    return lp


def list_limited_partners(session: Session, fund_id: int,
                          lp_ids: Collection[int] | None = None) -> list[LimitedPartner]:
    """The fund's LPs by id (only ``lp_ids`` when given)."""
    query = select(LimitedPartner).where(LimitedPartner.fund_id == fund_id)
    if lp_ids is not None:
        query = query.where(LimitedPartner.id.in_(list(lp_ids)))
    return list(session.scalars(query.order_by(LimitedPartner.id)))


def commitment_in_fund_currency(fund: Fund, lp: LimitedPartner) -> Decimal | None:
    """The LP's commitment in the fund's currency at its stated rate (None without one)."""
    if lp.commitment_currency == fund.base_currency:
        return Decimal(lp.commitment_amount)
    if lp.fx_rate is None:
        return None
    return convert(Decimal(lp.commitment_amount), Decimal(lp.fx_rate), fund.base_currency)


def limited_partner_json(lp: LimitedPartner, fund: Fund,
                         position: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An LP, its commitment (exact text) and, when given, its position."""
    ccy = lp.commitment_currency
    out = {"id": lp.id, "fund_id": lp.fund_id, "name": lp.name, "country": lp.country,
           "kind": lp.kind, "is_demo": lp.is_demo,
           "commitment_amount": amount_text(lp.commitment_amount, ccy),
           "commitment_currency": ccy,
           "commitment_fund_currency": amount_text(commitment_in_fund_currency(fund, lp),
                                                   fund.base_currency),
           "fx": fx_json(lp.fx_rate if ccy != fund.base_currency else _ONE, lp.fx_rate_date,
                         lp.fx_source, ccy, fund.base_currency)}
    if position is not None:
        out["position"] = dict(position)
    return out


# --------------------------------------------------------------------------- ledger


def _totals(session: Session, lp_id: int) -> dict[LedgerEntryKind, Decimal]:
    out = dict.fromkeys(LedgerEntryKind, Decimal(0))
    for kind, amount in session.execute(select(LedgerEntry.kind, LedgerEntry.amount)
                                        .where(LedgerEntry.limited_partner_id == lp_id)):
        out[kind] += Decimal(amount)
    return out


def create_entry(session: Session, fund_id: int, body: Mapping[str, Any],
                 user_id: int | None = None, *, is_demo: bool = False) -> LedgerEntry:
    """Record a capital call, management fee or distribution (flushed).

    Raises
    ------
    InvalidInput
        Unknown LP of this fund (``limited_partner_id``), a currency other than the LP's
        (``currency``), a bad amount (``amount``), a missing rate (``fx_rate``).
    Conflict
        A call or fee beyond the LP's unfunded commitment (``amount``).
    """
    fund = lock_fund(session, fund_id)
    lp = session.get(LimitedPartner, body["limited_partner_id"])
    if lp is None or lp.fund_id != fund.id:
        raise InvalidInput(f"No limited partner {body['limited_partner_id']} in fund {fund.id}.",
                           field="limited_partner_id")
    currency = check_currency(body.get("currency") or lp.commitment_currency, "currency")
    if currency != lp.commitment_currency:
        raise InvalidInput(f"The LP's ledger is in {lp.commitment_currency}, not {currency}.",
                           field="currency")
    amount = parse_amount(body["amount"], currency, "amount")
    kind = LedgerEntryKind(body["kind"])
    rate, rate_date, source = stated_rate(body, currency, fund.base_currency,
                                          body["effective_date"])
    if kind is not LedgerEntryKind.DISTRIBUTION:
        totals = _totals(session, lp.id)
        called = totals[LedgerEntryKind.CAPITAL_CALL] + totals[LedgerEntryKind.MANAGEMENT_FEE]
        unfunded = Decimal(lp.commitment_amount) - called
        if amount > unfunded:
            raise Conflict(f"{kind.value} of {amount_text(amount, currency)} {currency} exceeds "
                           f"{lp.name}'s unfunded commitment of "
                           f"{amount_text(unfunded, currency)} {currency}.", field="amount")
    entry = LedgerEntry(fund_id=fund.id, limited_partner_id=lp.id, kind=kind, amount=amount,
                        currency=currency, effective_date=body["effective_date"], fx_rate=rate,
                        fx_rate_date=rate_date, fx_source=source,
                        amount_fund_currency=convert(amount, rate, fund.base_currency),
                        note=body.get("note"), created_by_id=user_id, is_demo=is_demo)
    session.add(entry)
    session.flush()
    return entry


def list_entries(session: Session, fund_id: int, lp_ids: Collection[int] | None = None
                 ) -> list[LedgerEntry]:
    """The fund's entries by date then id (only those of ``lp_ids`` when given)."""
    query = select(LedgerEntry).where(LedgerEntry.fund_id == fund_id)
    if lp_ids is not None:
        query = query.where(LedgerEntry.limited_partner_id.in_(list(lp_ids)))
    return list(session.scalars(query.order_by(LedgerEntry.effective_date, LedgerEntry.id)))


def entry_json(entry: LedgerEntry, fund: Fund) -> dict[str, Any]:
    """One ledger entry, amounts as exact text."""
    return {"id": entry.id, "fund_id": entry.fund_id,
            "limited_partner_id": entry.limited_partner_id, "kind": entry.kind.value,
            "amount": amount_text(entry.amount, entry.currency), "currency": entry.currency,
            "effective_date": entry.effective_date.isoformat(),
            "amount_fund_currency": amount_text(entry.amount_fund_currency, fund.base_currency),
            "fund_currency": fund.base_currency,
            "fx": fx_json(entry.fx_rate, entry.fx_rate_date, entry.fx_source, entry.currency,
                          fund.base_currency),
            "note": entry.note, "is_demo": entry.is_demo,
            "created_at": entry.created_at.isoformat() if entry.created_at else None}


def positions(session: Session, fund: Fund) -> dict[int, dict[str, Any]]:
    """Every LP's position (module notes), amounts as exact text in its currency and the
    fund's; ``nav_share`` as a decimal string (the shares sum to exactly 1 up to the
    last of 12 decimals)."""
    lps = list_limited_partners(session, fund.id)
    in_fund = {lp.id: commitment_in_fund_currency(fund, lp) for lp in lps}
    total = sum((v for v in in_fund.values() if v is not None), Decimal(0))
    fund_sums: dict[int, dict[LedgerEntryKind, Decimal]] = {
        lp.id: dict.fromkeys(LedgerEntryKind, Decimal(0)) for lp in lps}
    for entry in list_entries(session, fund.id):
        fund_sums[entry.limited_partner_id][entry.kind] += Decimal(entry.amount_fund_currency)
    out = {}
    for lp in lps:
        ccy, fccy = lp.commitment_currency, fund.base_currency
        t = _totals(session, lp.id)
        called = t[LedgerEntryKind.CAPITAL_CALL] + t[LedgerEntryKind.MANAGEMENT_FEE]
        f = fund_sums[lp.id]
        share = (in_fund[lp.id] / total) if (total > 0 and in_fund[lp.id] is not None) else None
        out[lp.id] = {
            "currency": ccy,
            "committed": amount_text(lp.commitment_amount, ccy),
            "called": amount_text(called, ccy),
            "capital_called": amount_text(t[LedgerEntryKind.CAPITAL_CALL], ccy),
            "management_fees": amount_text(t[LedgerEntryKind.MANAGEMENT_FEE], ccy),
            "distributed": amount_text(t[LedgerEntryKind.DISTRIBUTION], ccy),
            "unfunded": amount_text(Decimal(lp.commitment_amount) - called, ccy),
            "fund_currency": fccy,
            "called_fund_currency": amount_text(f[LedgerEntryKind.CAPITAL_CALL]
                                                + f[LedgerEntryKind.MANAGEMENT_FEE], fccy),
            "distributed_fund_currency": amount_text(f[LedgerEntryKind.DISTRIBUTION], fccy),
            "nav_share": None if share is None else format(round(share, 12), "f"),
            "dpi": (None if called == 0
                    else format(round(t[LedgerEntryKind.DISTRIBUTION] / called, 6), "f")),
        }
    return out
