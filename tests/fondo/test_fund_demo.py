"""``fondo seed --demo`` tells one story (issue 11 item 8): every demo project has a stored
yield study and a finance case run on it, and a stage its gates and its consultation allow,
reached through recorded moves."""

from __future__ import annotations

from sqlalchemy import select

from fondo.consultation.service import project_consultation_gates
from fondo.db import session_scope
from fondo.finance.models import FinanceCase
from fondo.fund.models import Project, ProjectStudy
from fondo.fund.transitions import PIPELINE
from fondo.seed import DEMO_PROJECTS, seed_all
from fondo.studies.models import YieldStudy


def test_demo_projects_have_studies_cases_and_consistent_stages(settings):
    counts = seed_all(settings, demo=True)
    assert counts["demo_unmet_gates"] == []
    assert counts["demo_studies"] == len(DEMO_PROJECTS)
    again = seed_all(settings, demo=True)
    assert again["demo_studies"] == 0 and again["demo_moves"] == 0
    stage_of = {spec["name"]: spec["stage"] for spec in DEMO_PROJECTS}
    with session_scope(settings) as session:
        for project in session.scalars(select(Project).order_by(Project.id)):
            assert project.stage.value == stage_of[project.name], project.name
            [link] = session.scalars(select(ProjectStudy).where(
                ProjectStudy.project_id == project.id)).all()
            study = session.get(YieldStudy, link.study_id)
            assert study.status.value == "SUCCESS" and study.site_id == project.site_id
            assert 0 < study.energy_p90_mwh < study.energy_p50_mwh
            cases = session.scalars(select(FinanceCase).where(
                FinanceCase.project_id == project.id)).all()
            base = [c for c in cases if c.study_id == study.id]
            assert base and base[0].request["energy_p50_mwh"] == study.energy_p50_mwh
            facts = project_consultation_gates(session, project.id)
            index = PIPELINE.index(project.stage)
            if index >= PIPELINE.index(PIPELINE[3]):  # consultation or later
                assert facts["consultation_id"] is not None or \
                    facts["requirement"] == "not_required", project.name
            if project.stage.value == "financial_close":
                assert facts["agreement_reached"] and link.approved_at is not None
                assert any(c.request["energy_p50_mwh"] == study.energy_p90_mwh for c in cases)
            if "Soto la Marina" in project.name:  # no consultation: not at "consultation"
                assert facts["consultation_id"] is None
                assert project.stage.value != "consultation"
            if "San Luis" in project.name:
                assert facts["state"] == "seguimiento"
                assert project.stage.value == "financial_close"


def test_the_demo_project_at_financial_close_builds_and_operates(settings):
    """Construction and operation gates (consent, grievances) on the real demo consultation."""
    from fondo.fund.transitions import move_project

    seed_all(settings, demo=True)
    with session_scope(settings) as session:
        slp = session.scalar(select(Project).where(Project.name.like("%San Luis Potos%")))
        built = move_project(session, slp.id, {"to": "construction", "reason": None}, "o")
        assert [g["name"] for g in built["gates"]] == ["consent_not_withheld",
                                                       "no_overdue_grievances"]
        assert all(g["passed"] for g in built["gates"])
        running = move_project(session, slp.id, {"to": "operation", "reason": None}, "o")
        assert running["to"] == "operation" and running["version"] == built["version"] + 1


def test_an_older_demo_left_beyond_its_story_is_moved_back(settings):
    """Soto la Marina at "consultation" with no consultation (the old demo's contradiction)
    goes back to its story's stage (screening: identification pending), with the reason
    recorded."""
    from fondo.seed import seed_demo

    with session_scope(settings) as session:
        seed_demo(session)
        soto = session.scalar(select(Project).where(Project.name.like("%Soto la Marina%")))
        soto.stage = PIPELINE[3]  # consultation, as the old demo had it
    seed_all(settings, demo=True)
    with session_scope(settings) as session:
        soto = session.scalar(select(Project).where(Project.name.like("%Soto la Marina%")))
        assert soto.stage.value == "screening"
        from fondo.fund.projects import history_json

        last = history_json(session, soto.id)[-1]
        assert (last["from"], last["to"]) == ("consultation", "screening")
        assert "concuerde con su consulta" in last["reason"]


def test_the_portfolio_projects_the_base_case_not_the_p90_downside(settings):
    """San Luis Potosí holds a base case on its approved study and a newer P90 case made
    for the covenant gate: the fund's projection uses the base case (the study's P50)."""
    from fondo.fund import portfolio
    from fondo.fund.models import Fund

    seed_all(settings, demo=True)
    with session_scope(settings) as session:
        fund = session.scalar(select(Fund).where(Fund.is_demo.is_(True)))
        summary = portfolio.portfolio_summary(session, fund, as_of_year=2026)
        slp = next(p for p in summary["projects"] if "San Luis" in p["name"])
        cases = session.scalars(select(FinanceCase).where(
            FinanceCase.project_id == slp["id"]).order_by(FinanceCase.id)).all()
        assert len(cases) >= 2 and cases[-1].study_id is None  # the newer P90 case
        study = session.get(YieldStudy, slp["study_id"])
        assert slp["finance_case_id"] != cases[-1].id
        assert slp["energy_p50_mwh"] == study.energy_p50_mwh
