"""Every pipeline gate, passing and failing (issue 11 item 1), on SQLite and PostgreSQL.

Site checks are the real check of real places (INEGI urban areas and localities, CONANP
protected areas); finance cases are real runs of the finance engine; the consultation
facts come from the real consultation services (the demo consultation, walked to
"seguimiento"; a real grievance left past its deadline; a real refusal recorded in
consultiva) where today's protocol can reach the state, and from a replaced
``project_consultation_gates`` for the other states and where it cannot (identification
pending, premature decisions, financial close not yet allowed: issue 13 adds those).
"""

from __future__ import annotations

import pytest

from fondo.db import session_scope
from fondo.errors import Conflict, InvalidInput
from fondo.fund import gates
from fondo.fund.links import approve_study, create_p90_case, link_study, store_site_check
from fondo.fund.models import PipelineStage
from fondo.jobs import JobState
from fund_support import (
    CASE_TARGET_DSCR,
    CLEAR_SITE_LONLAT,
    URBAN_SITE_LONLAT,
    add_case,
    add_fund,
    add_project,
    add_site,
    add_study,
    consultation_facts,
)

S = PipelineStage


def gate(session, project, stage: PipelineStage, name: str) -> dict:
    results = {r["name"]: r for r in gates.evaluate_gates(session, project, stage)}
    return results[name]


@pytest.fixture
def facts(monkeypatch):
    """Replace the consultation facts of every project with the given ones."""
    from fondo.consultation import service as consultation_service

    def _set(**changes):
        answer = consultation_facts(**changes)
        monkeypatch.setattr(consultation_service, "project_consultation_gates",
                            lambda session, project_id: dict(answer))
        return answer

    return _set


def test_the_gate_table_names_each_stage_s_gates():
    names = {(g["stage"], g["name"]) for g in gates.gate_table()}
    assert ("due_diligence", "site_check_passed") in names
    assert ("financial_close", "p90_dscr_covenant") in names
    assert ("financial_close", "concentration_limits") in names
    assert {g.stage for g in gates.GATES} <= set(S) - {S.ORIGINATION, S.DROPPED}


def test_site_defined(settings):
    with session_scope(settings) as session:
        without = add_project(session)
        with_site = add_project(session, site_id=add_site(session).id)
        assert not gate(session, without, S.SCREENING, "site_defined")["passed"]
        assert gate(session, with_site, S.SCREENING, "site_defined")["passed"]


def test_site_check_passed_reads_the_real_stored_check(settings):
    with session_scope(settings) as session:
        clear = add_project(session, site_id=add_site(session, CLEAR_SITE_LONLAT).id)
        urban = add_project(session, site_id=add_site(session, URBAN_SITE_LONLAT).id)
        unchecked = add_project(session, site_id=add_site(session).id)
        no_site = add_project(session)
        store_site_check(settings, session, clear, "officer@example.org")
        store_site_check(settings, session, urban, "officer@example.org")
        passed = gate(session, clear, S.DUE_DILIGENCE, "site_check_passed")
        failed = gate(session, urban, S.DUE_DILIGENCE, "site_check_passed")
        assert passed["passed"], passed
        assert not failed["passed"] and "urban_area_overlap_km2" in failed["reason"]
        assert "no stored site check" in gate(session, unchecked, S.DUE_DILIGENCE,
                                              "site_check_passed")["reason"]
        assert not gate(session, no_site, S.DUE_DILIGENCE, "site_check_passed")["passed"]
        # a soft constraint (grid distance, LCOE) does not fail the gate: the clear site is
        # far from a line, and passes
        soft = [c for c in clear.site.check_result["constraints"] if not c["passed"]]
        assert soft and all(not gates.is_hard_constraint(c["name"]) for c in soft)


def test_site_check_hard_constraints():
    assert gates.is_hard_constraint("protected_area_overlap_km2")
    assert gates.is_hard_constraint("slope_pct")
    assert not gates.is_hard_constraint("dist_line_km")
    assert not gates.is_hard_constraint("lcoe_usd_per_mwh")
    assert not gates.is_hard_constraint("consultation_locality_count")


def test_yield_study_stored(settings):
    with session_scope(settings) as session:
        project = add_project(session, site_id=add_site(session).id)
        assert not gate(session, project, S.DUE_DILIGENCE, "yield_study_stored")["passed"]
        pending = add_study(session, status=JobState.PENDING)
        with pytest.raises(InvalidInput) as refused:
            link_study(session, project, pending.id, "o")
        assert refused.value.field == "study_id"
        with pytest.raises(InvalidInput):
            link_study(session, project, add_study(session, technology="wind").id, "o")
        link_study(session, project, add_study(session).id, "o")
        assert gate(session, project, S.DUE_DILIGENCE, "yield_study_stored")["passed"]


def test_indigenous_identification_done(settings, facts):
    with session_scope(settings) as session:
        project = add_project(session)
        facts(requirement="identification_required", identification_pending=True)
        assert not gate(session, project, S.DUE_DILIGENCE,
                        "indigenous_identification_done")["passed"]
        facts(requirement="identification_required", identification_pending=False)
        assert gate(session, project, S.DUE_DILIGENCE, "indigenous_identification_done")["passed"]


def test_consultation_opened_if_required(settings, facts):
    with session_scope(settings) as session:
        project = add_project(session)
        facts(requirement="required")
        assert not gate(session, project, S.CONSULTATION,
                        "consultation_opened_if_required")["passed"]
        facts(requirement="unknown")
        assert "unknown" in gate(session, project, S.CONSULTATION,
                                 "consultation_opened_if_required")["reason"]
        facts(requirement="required", consultation_id=7, state="preparacion")
        assert gate(session, project, S.CONSULTATION, "consultation_opened_if_required")["passed"]
        facts(requirement="not_required")
        assert gate(session, project, S.CONSULTATION, "consultation_opened_if_required")["passed"]


def test_consultation_requirement_from_the_real_site_check(settings):
    """Without a consultation, the gate follows the three-valued trigger on the project's
    site (issue 13): only "not required" passes; "identification required" needs a
    consultation opened to record the identification."""
    from fondo.consultation import service as cs

    with session_scope(settings) as session:
        project = add_project(session, site_id=add_site(session, CLEAR_SITE_LONLAT).id)
        store_site_check(settings, session, project, "o")
        requirement = cs.project_consultation_gates(session, project.id)["requirement"]
        assert requirement in {"required", "identification_required", "not_required"}
        assert gate(session, project, S.CONSULTATION,
                    "consultation_opened_if_required")["passed"] is (
                        requirement == "not_required")


def _approved_project(session):
    project = add_project(session, site_id=add_site(session).id)
    study = add_study(session, p50=96_000.0, p90=88_000.0)
    link_study(session, project, study.id, "analyst@example.org")
    return project, study


def test_yield_study_approved_records_who_and_when(settings):
    with session_scope(settings) as session:
        project = add_project(session, site_id=add_site(session).id)
        study = add_study(session)
        link_study(session, project, study.id, "o")
        assert not gate(session, project, S.FINANCIAL_CLOSE, "yield_study_approved")["passed"]
        link = approve_study(session, project, study.id, "head@example.org", None, "IE report")
        assert link.approved_at is not None and link.approved_by == "head@example.org"
        result = gate(session, project, S.FINANCIAL_CLOSE, "yield_study_approved")
        assert result["passed"] and "head@example.org" in result["reason"]
        with pytest.raises(Conflict):
            approve_study(session, project, study.id, "other@example.org", None, None)


def test_p90_dscr_covenant_passes_on_the_p90_case(settings):
    with session_scope(settings) as session:
        project, study = _approved_project(session)
        approve_study(session, project, study.id, "head@example.org", None, None)
        base = add_case(session, project.id)
        result = gate(session, project, S.FINANCIAL_CLOSE, "p90_dscr_covenant")
        assert not result["passed"] and "P90 energy" in result["reason"]  # the P50 case only
        p90 = create_p90_case(session, project, {"case_id": base.id})
        assert p90.request["energy_p50_mwh"] == study.energy_p90_mwh == 88_000.0
        assert "energy_p90_mwh" not in p90.request
        # the engine sculpts the senior debt to the target DSCR on the case's energy
        assert gates.case_min_dscr_senior(p90) == pytest.approx(CASE_TARGET_DSCR, rel=1e-9)
        result = gate(session, project, S.FINANCIAL_CLOSE, "p90_dscr_covenant")
        assert result["passed"], result
        assert f"{gates.DEFAULT_P90_DSCR_COVENANT:.2f}" in result["reason"]


def test_p90_dscr_covenant_fails_below_the_lender_s_covenant(settings):
    with session_scope(settings) as session:
        project, study = _approved_project(session)
        approve_study(session, project, study.id, "head@example.org", None, None)
        add_case(session, project.id, energy_p50_mwh=88_000.0, energy_p90_mwh=None,
                 covenant_min_dscr=1.40)
        result = gate(session, project, S.FINANCIAL_CLOSE, "p90_dscr_covenant")
        assert not result["passed"]
        assert "1.350 below the covenant 1.40" in result["reason"]


def test_p90_dscr_covenant_needs_an_approved_study(settings):
    with session_scope(settings) as session:
        project, _study = _approved_project(session)
        add_case(session, project.id, energy_p50_mwh=88_000.0, energy_p90_mwh=None)
        result = gate(session, project, S.FINANCIAL_CLOSE, "p90_dscr_covenant")
        assert not result["passed"] and "approved" in result["reason"]


def test_a_case_run_on_more_than_the_p90_energy_is_not_the_p90_case(settings):
    with session_scope(settings) as session:
        project, study = _approved_project(session)
        approve_study(session, project, study.id, "head@example.org", None, None)
        case = add_case(session, project.id, energy_p50_mwh=88_001.0, energy_p90_mwh=None)
        assert not gates.is_p90_case(case, study)
        assert not gate(session, project, S.FINANCIAL_CLOSE, "p90_dscr_covenant")["passed"]


def test_consultation_agreement(settings, facts):
    with session_scope(settings) as session:
        project = add_project(session)
        facts(requirement="required", consultation_id=3, state="consultiva")
        assert not gate(session, project, S.FINANCIAL_CLOSE, "consultation_agreement")["passed"]
        facts(requirement="required")
        assert not gate(session, project, S.FINANCIAL_CLOSE, "consultation_agreement")["passed"]
        facts(requirement="required", consultation_id=3, state="seguimiento",
              agreement_reached=True)
        assert gate(session, project, S.FINANCIAL_CLOSE, "consultation_agreement")["passed"]
        facts(requirement="not_required")
        assert gate(session, project, S.FINANCIAL_CLOSE, "consultation_agreement")["passed"]


def test_consultation_agreement_from_the_real_demo_consultation(settings):
    """The demo consultation is walked to "seguimiento" through the consultation services."""
    from sqlalchemy import select

    from fondo.consultation.service import seed_demo_consultation
    from fondo.fund.models import Project
    from fondo.seed import seed_demo

    with session_scope(settings) as session:
        seed_demo(session)
    with session_scope(settings) as session:
        seed_demo_consultation(session, settings)
    with session_scope(settings) as session:
        slp = session.scalar(select(Project).where(Project.name.like("%San Luis Potos%")))
        soto = session.scalar(select(Project).where(Project.name.like("%Soto la Marina%")))
        agreed = gate(session, slp, S.FINANCIAL_CLOSE, "consultation_agreement")
        assert agreed["passed"], agreed
        assert gate(session, slp, S.FINANCIAL_CLOSE, "protocol_allows_financial_close")["passed"]
        assert gate(session, slp, S.FINANCIAL_CLOSE, "consent_not_withheld")["passed"]
        assert gate(session, slp, S.FINANCIAL_CLOSE, "no_overdue_grievances")["passed"]
        assert not gate(session, soto, S.FINANCIAL_CLOSE,
                        "protocol_allows_financial_close")["passed"] or \
            gate(session, soto, S.FINANCIAL_CLOSE, "consultation_agreement")["passed"]


@pytest.mark.parametrize("stage", [S.FINANCIAL_CLOSE, S.CONSTRUCTION])
def test_consent_not_withheld(settings, facts, stage):
    with session_scope(settings) as session:
        project = add_project(session)
        facts(consultation_id=2, state="cerrada", consent_withheld=True)
        result = gate(session, project, stage, "consent_not_withheld")
        assert not result["passed"] and "withheld" in result["reason"]
        facts(consultation_id=2, state="cerrada", consent_withheld=False, agreement_reached=True)
        assert gate(session, project, stage, "consent_not_withheld")["passed"]


@pytest.mark.parametrize("stage", [S.FINANCIAL_CLOSE, S.CONSTRUCTION, S.OPERATION])
def test_no_overdue_grievances(settings, facts, stage):
    with session_scope(settings) as session:
        project = add_project(session)
        facts(overdue_grievances=2)
        result = gate(session, project, stage, "no_overdue_grievances")
        assert not result["passed"] and "2 grievance" in result["reason"]
        facts(overdue_grievances=0)
        assert gate(session, project, stage, "no_overdue_grievances")["passed"]


def test_no_premature_decisions(settings, facts):
    with session_scope(settings) as session:
        project = add_project(session)
        facts(premature_decisions=[{"kind": "land_contract", "date": "2026-01-15",
                                    "reason": "signed in preparacion"}])
        result = gate(session, project, S.FINANCIAL_CLOSE, "no_premature_decisions")
        assert not result["passed"] and "land_contract on 2026-01-15" in result["reason"]
        facts(premature_decisions=[])
        assert gate(session, project, S.FINANCIAL_CLOSE, "no_premature_decisions")["passed"]


def test_protocol_allows_financial_close(settings, facts):
    with session_scope(settings) as session:
        project = add_project(session)
        facts(financial_close_allowed_by_protocol=False, consultation_id=1, state="informativa")
        result = gate(session, project, S.FINANCIAL_CLOSE, "protocol_allows_financial_close")
        assert not result["passed"] and "informativa" in result["reason"]
        facts(financial_close_allowed_by_protocol=True)
        assert gate(session, project, S.FINANCIAL_CLOSE,
                    "protocol_allows_financial_close")["passed"]


def test_concentration_limits(settings, monkeypatch):
    with session_scope(settings) as session:
        project = add_project(session, fund_id=add_fund(session).id)
        assert gate(session, project, S.FINANCIAL_CLOSE, "concentration_limits")["passed"]
        seen = []

        def breach(session_, project_id, target_stage):
            seen.append((project_id, target_stage))
            return ["state 24 would hold 41 % of commitments (limit 35 %)"]

        results = {r["name"]: r for r in gates.evaluate_gates(session, project,
                                                              S.FINANCIAL_CLOSE, breach)}
        assert not results["concentration_limits"]["passed"]
        assert "limit 35 %" in results["concentration_limits"]["reason"]
        assert seen == [(project.id, "financial_close")]
        # the registry entry the portfolio's check is wired into
        monkeypatch.setattr(gates, "concentration_limit_problems", breach)
        assert not gate(session, project, S.FINANCIAL_CLOSE, "concentration_limits")["passed"]


def test_no_overdue_grievances_from_a_real_grievance_past_its_deadline(settings):
    """A grievance on the demo consultation, unanswered past its SLA, blocks the gates; once
    acknowledged and answered, it no longer does (consultation services, moved clock)."""
    import datetime as dt

    from sqlalchemy import select

    from fondo.consultation import service as cs
    from fondo.consultation.clock import clock_replaced
    from fondo.fund.models import Project
    from fondo.orm import utcnow
    from fondo.seed import seed_demo

    with session_scope(settings) as session:
        seed_demo(session)
    with session_scope(settings) as session:
        cs.seed_demo_consultation(session, settings)
    with session_scope(settings) as session:
        slp = session.scalar(select(Project).where(Project.name.like("%San Luis Potos%")))
        [consultation] = cs.list_consultations(session, settings)["consultations"]
        view, _ = cs.submit_feedback(session, settings, consultation["id"], {
            "kind": "grievance", "category": "land_and_territory", "text": "Linderos",
            "anonymous": True})
        project_id = slp.id
    # 30 days on, the acknowledgement (5 working days) and the answer are overdue
    later = utcnow() + dt.timedelta(days=30)
    with clock_replaced(lambda: later), session_scope(settings) as session:
        slp = session.get(Project, project_id)
        result = gate(session, slp, S.FINANCIAL_CLOSE, "no_overdue_grievances")
        assert not result["passed"] and "1 grievance" in result["reason"]
        item = next(i for i in cs.list_feedback(session, consultation["id"])["feedback"]
                    if i["receipt_code"] == view["receipt_code"])
        for action in ({"action": "acknowledge"},
                       {"action": "answer", "public_answer": "Se revisaron los linderos."}):
            cs.feedback_action(session, settings, consultation["id"], item["id"], action, "o")
        assert gate(session, slp, S.FINANCIAL_CLOSE, "no_overdue_grievances")["passed"]

