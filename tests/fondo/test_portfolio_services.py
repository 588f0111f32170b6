"""The fund's ledger, allocations, limits and portfolio services (fondo/fund/*), on SQLite
and PostgreSQL: exact money, refusals that store nothing, roll-up laws, hand-checked
returns."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy_financial as npf
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import func, select

from fondo.db import session_scope
from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.finance import service as finance_service
from fondo.fund import allocations, ledger, limits, portfolio
from fondo.fund.ledger_models import Allocation, LedgerEntry
from fondo.fund.models import LimitedPartner

sys.path.insert(0, str(Path(__file__).parent))
from portfolio_support import TODAY, equity_of, make_fund, make_lp, make_project, make_study  # noqa: E402

#: Round-off of float sums. [-]
RTOL = 1e-9


def _count(session, table) -> int:
    return session.scalar(select(func.count()).select_from(table))


def test_commitments_are_exact_decimals_and_positions_add_up(settings):
    with session_scope(settings) as session:
        fund = make_fund(session)
        usd = make_lp(session, fund.id, "100000000.01")
        cad = make_lp(session, fund.id, "137500000.00", "CAD", fx_rate="1.375",
                      fx_rate_date=TODAY, fx_source="test rate")
        jpy = make_lp(session, fund.id, "1500000000", "JPY", fx_rate="150", fx_rate_date=TODAY)
        session.commit()
        fund_id, ids = fund.id, (usd.id, cad.id, jpy.id)
    with session_scope(settings) as session:
        lp = session.get(LimitedPartner, ids[0])
        assert lp.commitment_amount == Decimal("100000000.01")  # not a float round trip
        fund = ledger.get_fund(session, fund_id)
        ledger.create_entry(session, fund_id, {"limited_partner_id": ids[1], "kind": "capital_call",
                                               "amount": "13750000.00", "effective_date": TODAY,
                                               "fx_rate": "1.375", "fx_rate_date": TODAY})
        ledger.create_entry(session, fund_id, {"limited_partner_id": ids[1], "kind": "management_fee",
                                               "amount": 275000, "effective_date": TODAY,
                                               "fx_rate": "1.375", "fx_rate_date": TODAY})
        ledger.create_entry(session, fund_id, {"limited_partner_id": ids[1], "kind": "distribution",
                                               "amount": "0.10", "effective_date": TODAY,
                                               "fx_rate": "1.375", "fx_rate_date": TODAY})
        pos = ledger.positions(session, fund)
        assert pos[ids[1]]["called"] == "14025000.00"
        assert pos[ids[1]]["unfunded"] == "123475000.00"
        assert pos[ids[1]]["called_fund_currency"] == "10200000.00"  # 14 025 000 / 1.375
        assert pos[ids[1]]["distributed_fund_currency"] == "0.07"  # 0.0727… half-even
        # shares: 100 000 000.01, 100 000 000.00 and 10 000 000.00 USD
        total = Decimal("210000000.01")
        assert Decimal(pos[ids[0]]["nav_share"]) == round(Decimal("100000000.01") / total, 12)
        assert abs(sum(Decimal(p["nav_share"]) for p in pos.values()) - 1) < Decimal("1e-11")
        assert ledger.fund_commitments(session, fund) == total


@pytest.mark.parametrize("body, field", [
    ({"commitment_amount": "-5.00"}, "commitment_amount"),
    ({"commitment_amount": "0"}, "commitment_amount"),
    ({"commitment_currency": "XYZ"}, "commitment_currency"),
    ({"commitment_amount": "10.001"}, "commitment_amount"),
    ({"commitment_amount": "10.5", "commitment_currency": "JPY", "fx_rate": "150",
      "fx_rate_date": TODAY}, "commitment_amount"),
    ({"commitment_currency": "MXN"}, "fx_rate"),
    ({"commitment_currency": "MXN", "fx_rate": "18.2"}, "fx_rate_date"),
    ({"commitment_amount": "abc"}, "commitment_amount"),
    ({"commitment_amount": "NaN"}, "commitment_amount"),
    ({"commitment_amount": "1e21"}, "commitment_amount"),
    ({"commitment_currency": "MXN", "commitment_amount": "99999999999999999999",
      "fx_rate": "0.0000000001", "fx_rate_date": TODAY}, "fx_rate"),
])
def test_bad_commitments_name_the_field_and_store_nothing(settings, body, field):
    with session_scope(settings) as session:
        fund = make_fund(session)
        session.commit()
        before = _count(session, LimitedPartner)
        base = {"name": "LP", "country": "CA", "kind": "pension_fund",
                "commitment_amount": "1000.00", "commitment_currency": "USD"}
        with pytest.raises(InvalidInput) as err:
            ledger.create_limited_partner(session, fund.id, base | body)
        assert err.value.field == field
        session.rollback()
        assert _count(session, LimitedPartner) == before


def test_a_call_beyond_the_commitment_is_refused(settings):
    with session_scope(settings) as session:
        fund = make_fund(session)
        lp = make_lp(session, fund.id, "1000.00")
        ledger.create_entry(session, fund.id, {"limited_partner_id": lp.id, "kind": "capital_call",
                                               "amount": "999.99", "effective_date": TODAY})
        session.commit()
        with pytest.raises(Conflict) as err:
            ledger.create_entry(session, fund.id, {"limited_partner_id": lp.id,
                                                   "kind": "management_fee", "amount": "0.02",
                                                   "effective_date": TODAY})
        assert err.value.field == "amount"
        with pytest.raises(InvalidInput) as err:
            ledger.create_entry(session, fund.id, {"limited_partner_id": lp.id, "kind": "distribution",
                                                   "amount": "1.00", "currency": "CAD",
                                                   "effective_date": TODAY})
        assert err.value.field == "currency"
        session.rollback()
        assert _count(session, LedgerEntry) == 1


def test_allocation_checks_commitments_tranche_and_limits(settings):
    with session_scope(settings) as session:
        fund = make_fund(session)
        make_lp(session, fund.id, "20000000.00")
        a = make_project(session, fund.id, "A", state_key="01")
        b = make_project(session, fund.id, "B", state_key="24")
        equity = equity_of(session, a.id)
        limits.set_limit(session, fund.id, {"dimension": "state", "key": None,
                                            "max_fraction": 0.5, "warn_at": 0.9})
        session.commit()
        # 9.5 M of 20 M in state 01: 47.5 % ≥ 90 % of 50 %: stored with a warning
        row, warnings = allocations.create_allocation(
            session, fund.id, {"project_id": a.id, "tranche_kind": "equity", "amount": "9500000.00",
                               "currency": "USD"})
        assert row.tranche == "Fund equity" and len(warnings) == 1 and "state 01" in warnings[0]
        session.commit()
        # one more million in state 01 breaks the limit: 409 naming amount, nothing stored
        with pytest.raises(Conflict, match="state 01") as err:
            allocations.create_allocation(session, fund.id, {
                "project_id": a.id, "tranche_kind": "equity", "amount": "1000000.00",
                "currency": "USD"})
        assert err.value.field == "amount"
        session.rollback()
        # beyond the commitments (20 M): 409
        with pytest.raises(Conflict, match="commitments"):
            allocations.create_allocation(session, fund.id, {
                "project_id": b.id, "tranche_kind": "equity", "amount": "10500000.01",
                "currency": "USD"})
        session.rollback()
        # a co-investor beyond the tranche's size
        with pytest.raises(Conflict, match="Tranche"):
            allocations.create_allocation(session, fund.id, {
                "project_id": a.id, "tranche_kind": "equity", "holder_kind": "co_investor",
                "co_investor_name": "Co", "amount": f"{equity - 9_500_000 + 1:.2f}",
                "currency": "USD"})
        session.rollback()
        with pytest.raises(InvalidInput) as err:
            allocations.create_allocation(session, fund.id, {
                "project_id": a.id, "tranche_kind": "debt", "tranche": "Fund equity",
                "amount": "1.00", "currency": "USD"})
        assert err.value.field == "tranche"
        session.rollback()
        assert _count(session, Allocation) == 1


def test_gate_counts_committed_stages_only(settings):
    with session_scope(settings) as session:
        fund = make_fund(session)
        make_lp(session, fund.id, "100000000.00")
        a = make_project(session, fund.id, "A", technology="pv")
        b = make_project(session, fund.id, "B", technology="pv", stage="construction")
        for p in (a, b):
            allocations.create_allocation(session, fund.id, {
                "project_id": p.id, "tranche_kind": "equity", "amount": "8000000.00",
                "currency": "USD"})
        limits.set_limit(session, fund.id, {"dimension": "technology", "key": "pv",
                                            "max_fraction": 0.12, "warn_at": 0.9})
        session.commit()
        # b (in construction) alone: 8 % ≤ 12 %; a joining at financial close makes 16 %
        assert limits.concentration_limit_problems(session, a.id, "screening") == []
        problems = limits.concentration_limit_problems(session, a.id, "financial_close")
        assert len(problems) == 1 and "technology pv" in problems[0] and "16.0%" in problems[0]
        limits.set_limit(session, fund.id, {"dimension": "technology", "key": "pv",
                                            "max_fraction": 0.2, "warn_at": 0.9})
        assert limits.concentration_limit_problems(session, a.id, "financial_close") == []


def test_projects_without_a_state_are_in_no_state_group(settings):
    with session_scope(settings) as session:
        fund = make_fund(session)
        make_lp(session, fund.id, "40000000.00")
        a = make_project(session, fund.id, "A", state_key=None)
        b = make_project(session, fund.id, "B", state_key=None)
        limits.set_limit(session, fund.id, {"dimension": "state", "key": None,
                                            "max_fraction": 0.3, "warn_at": 0.9})
        for p in (a, b):  # 20 % each: 40 % together, but no state is shared
            allocations.create_allocation(session, fund.id, {
                "project_id": p.id, "tranche_kind": "equity", "amount": "8000000.00",
                "currency": "USD"})
        assert limits.evaluate(session, fund) == []


def test_portfolio_totals_and_returns_by_hand(settings):
    with session_scope(settings) as session:
        fund = make_fund(session, management_fee_rate=0.0)
        make_lp(session, fund.id, "60000000.00")
        s1 = make_study(session, "pv", 96_000, {"model": 0.03, "other": 0.02}, lat=22.0,
                        lon=-102.0, station="1")
        s2 = make_study(session, "wind", 300_000, {"model": 0.05, "interannual_variability": 0.06},
                        lat=23.8, lon=-98.0, station="2", model="windpowerlib")
        a = make_project(session, fund.id, "A", capacity_mw=40, study=s1)
        b = make_project(session, fund.id, "B", technology="wind", capacity_mw=120, study=s2,
                         state_key="28")
        make_project(session, fund.id, "C", capacity_mw=25, case=False)
        ea, eb = equity_of(session, a.id), equity_of(session, b.id)
        allocations.create_allocation(session, fund.id, {
            "project_id": a.id, "tranche_kind": "equity", "amount": f"{ea:.2f}", "currency": "USD",
            "start_year": 2026})
        allocations.create_allocation(session, fund.id, {
            "project_id": b.id, "tranche_kind": "equity", "amount": f"{eb / 2:.2f}",
            "currency": "USD", "start_year": 2027})
        out = portfolio.portfolio_summary(session, fund, as_of_year=2026)
        flows_a, flows_b = (np.array([r["flow_fund_equity_usd"] for r in
                                      finance_service.list_cases(session, p.id)[0].result["cashflows"]])
                            for p in (a, b))
    caps = [p["capacity_mw"] for p in out["projects"]]
    assert out["capacity_mw"] == sum(caps) == 185
    assert out["totals"]["energy_p50_mwh"] == 396_000
    tech = out["exposure"]["technology"]
    assert_allclose(tech["pv"]["fraction"] + tech["wind"]["fraction"], 1.0, rtol=RTOL)
    # gross flows: A from 2026, half of B from 2027, by numpy-financial
    gross = np.zeros(flows_a.size + 1)
    gross[:-1] += flows_a * float(f"{ea:.2f}") / ea
    gross[1:] += flows_b * float(f"{eb / 2:.2f}") / eb
    assert_allclose(out["returns"]["gross_irr"], npf.irr(gross), rtol=1e-7)
    years = out["returns"]["by_year"]
    lp_total = sum(y["lp_distribution_usd"] + y["gp_distribution_usd"] for y in years)
    assert_allclose(lp_total, gross[gross > 0].sum(), rtol=RTOL)  # the waterfall pays it all
    risk = out["energy_risk"]["1_year"]
    sigma = np.hypot(np.hypot(0.03 * 96_000, 0.02 * 96_000),
                     np.hypot(0.05 * 300_000, 0.06 * 300_000))  # different tech, model: independent
    assert_allclose(risk["sigma_mwh"], sigma, rtol=RTOL)
    assert risk["diversification_benefit_mwh"] > 0
    assert any("Project" in n and "no yield study nor finance case" in n for n in out["notes"])


def test_lp_view_in_its_currency_and_shares_sum_to_the_whole(settings):
    with session_scope(settings) as session:
        fund = make_fund(session)
        usd = make_lp(session, fund.id, "30000000.00")
        mxn = make_lp(session, fund.id, "546000000.00", "MXN", fx_rate="18.2",
                      fx_rate_date=TODAY, fx_source="test")
        a = make_project(session, fund.id, "A")
        allocations.create_allocation(session, fund.id, {
            "project_id": a.id, "tranche_kind": "equity",
            "amount": f"{equity_of(session, a.id):.2f}", "currency": "USD"})
        whole = portfolio.portfolio_summary(session, fund, as_of_year=2030)
        one = portfolio.lp_summary(session, usd.id, as_of_year=2030)
        two = portfolio.lp_summary(session, mxn.id, as_of_year=2030)
        with pytest.raises(NotFound):
            portfolio.lp_summary(session, mxn.id, lp_ids={usd.id})
    assert one["returns"]["share"] + two["returns"]["share"] == pytest.approx(1.0, rel=1e-12)
    net = whole["returns"]["net"]
    assert_allclose(one["returns"]["paid_in_total"] + two["returns"]["paid_in_total"] / 18.2,
                    net["paid_in_total"], rtol=RTOL)
    assert_allclose(two["returns"]["irr"], net["irr"], rtol=1e-9)  # flat rate: same IRR
    assert two["returns"]["currency"] == "MXN" and two["returns"]["fx"]["rate"] == "18.2"


def test_montecarlo_of_the_fund_irr(settings):
    with session_scope(settings) as session:
        fund = make_fund(session)
        make_lp(session, fund.id, "60000000.00")
        s1 = make_study(session, "pv", 96_000, {"model": 0.03, "interannual_variability": 0.04},
                        lat=22.0, lon=-102.0, station="1")
        a = make_project(session, fund.id, "A", study=s1)
        allocations.create_allocation(session, fund.id, {
            "project_id": a.id, "tranche_kind": "equity",
            "amount": f"{equity_of(session, a.id):.2f}", "currency": "USD"})
        out = portfolio.portfolio_summary(session, fund, draws=300, seed=5)
    mc = out["montecarlo"]
    assert mc["n_draws"] == 300
    assert mc["net_irr"]["p10"] < mc["net_irr"]["p50"] < mc["net_irr"]["p90"]
    assert mc["gross_irr"]["p50"] > mc["net_irr"]["p50"]


def test_hourly_complementarity_from_stored_series(settings):
    from fondo.studies.hourly import hourly_csv_text, hourly_relative_path, write_atomic
    import pandas as pd

    hours = pd.date_range("2021-01-01", periods=48, freq="h", tz="UTC")
    sun = np.clip(np.sin((hours.hour.to_numpy() - 6) / 12 * np.pi), 0, None)
    pv_kwh, wind_kwh = 50_000 * sun, 30_000 * (1.2 - sun)  # wind strongest when the sun is down
    with session_scope(settings) as session:
        fund = make_fund(session)
        for tech, series in (("pv", pv_kwh), ("wind", wind_kwh)):
            study = make_study(session, tech, 1000.0, {"model": 0.03}, lat=22, lon=-101,
                               station=tech)
            study.hourly_file = hourly_relative_path(study.id)
            write_atomic(Path(settings["INSTANCE_PATH"]) / study.hourly_file,
                         hourly_csv_text(hours, series))
            make_project(session, fund.id, tech, technology=tech, study=study)
        out = portfolio.portfolio_summary(session, fund, settings=settings)["complementarity"]
        alone = portfolio.portfolio_summary(session, fund)["complementarity"]
    assert out["available"] and out["hours"] == 48
    assert out["pearson_r"] == pytest.approx(-1.0, abs=1e-12)  # wind = a − b·sun exactly
    combined = (pv_kwh + wind_kwh) / 1000.0
    assert out["cv_combined"] == pytest.approx(combined.std() / combined.mean(), rel=1e-12)
    assert out["hours_without_output_pv"] == int(np.sum(pv_kwh <= 0))
    assert alone == {"available": False, "reason": "no instance folder to read hourly series from"}


def test_demo_seed_gives_the_demo_fund_a_ledger(settings):
    from fondo.fund.models import Fund
    from fondo.seed import seed_demo

    with session_scope(settings) as session:
        seed_demo(session)
        session.commit()
        fund = session.scalar(select(Fund).where(Fund.is_demo.is_(True)))
        from fondo.fund.demo_ledger import seed_demo_ledger as seed_ledger

        assert seed_ledger(session, fund)["demo_ledger_entries"] == 15  # seed_all's call
        pos = ledger.positions(session, fund)
        entries = ledger.list_entries(session, fund.id)
        summary = portfolio.portfolio_summary(session, fund, as_of_year=2026)
        # a case made after the seed (the pipeline's demo cases) is allocated by a second call
        from fondo.fund.demo_ledger import seed_demo_ledger
        from portfolio_support import CASE

        first = summary["projects"][0]["id"]
        finance_service.create_case(session, CASE | {"project_id": first})
        assert seed_demo_ledger(session, fund) == {"demo_ledger_entries": 0, "demo_allocations": 1}
        assert seed_demo_ledger(session, fund) == {"demo_ledger_entries": 0, "demo_allocations": 0}
        assert len(ledger.list_entries(session, fund.id)) == 15
    assert len(entries) == 5 * 3 and all(e.is_demo for e in entries)
    cad = next(p for p in pos.values() if p["currency"] == "CAD")
    # calls 10 % + 15 %, fees 1 % + 2 %, distribution 0.5 % of 250 000 000 CAD
    assert cad["called"] == "70000000.00" and cad["distributed"] == "1250000.00"
    assert cad["unfunded"] == "180000000.00"
    # each entry converted at 1.40 and rounded to the cent:
    # 17 857 142.86 + 1 785 714.29 + 3 571 428.57 + 26 785 714.29
    assert cad["called_fund_currency"] == "50000000.01"
    assert abs(sum(Decimal(p["nav_share"]) for p in pos.values()) - 1) < Decimal("1e-11")
    assert summary["capacity_mw"] == sum(p["capacity_mw"] for p in summary["projects"])
    assert summary["ledger"]["limited_partners"] == 3


def test_two_allocations_at_once_never_both_pass_the_commitment_check(settings):
    """Two officers allocate 60 % of the commitments each at the same moment: one is
    stored, the other refused (the fund's lock serialises the checks)."""
    import threading

    with session_scope(settings) as session:
        fund = make_fund(session)
        make_lp(session, fund.id, "20000000.00")
        projects = [make_project(session, fund.id, name).id for name in ("A", "B")]
        session.commit()
        fund_id = fund.id
    barrier, outcomes = threading.Barrier(2), []

    def allocate(project_id):
        with session_scope(settings) as session:
            barrier.wait()
            try:
                allocations.create_allocation(session, fund_id, {
                    "project_id": project_id, "tranche_kind": "equity",
                    "amount": "12000000.00", "currency": "USD"})
                session.commit()
                outcomes.append("stored")
            except Conflict as exc:
                session.rollback()
                outcomes.append(exc.field)

    threads = [threading.Thread(target=allocate, args=(p,)) for p in projects]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["amount", "stored"]
    with session_scope(settings) as session:
        assert _count(session, Allocation) == 1
