"""The demo pipeline (issue 11 item 8): each demo project gets a stored site check, a
stored yield study and finance cases, and is moved through the pipeline's gates to its
stage, so that the demo tells one story.

Nothing is forced: every move goes through :func:`fondo.fund.transitions.move_project`
and its gates, recorded with actor ``demo``. A project whose gates do not pass stops at
the last stage it reached and the unmet gates are returned (``demo_unmet_gates``), so a
change that breaks the story shows in ``fondo seed --demo``'s answer.

The demo's finance inputs: costs are the screening's sourced defaults
(:data:`siting.parameters.PV_COSTS`, :data:`~siting.parameters.WIND_COSTS`: IRENA 2024,
NREL ATB 2023), tax the law's (:data:`finance.tax.ISR_RATE`, :data:`~finance.tax.PTU_RATE`);
prices, capital structure and rates are **demo assumptions** (:data:`DEMO_CASE_ASSUMPTIONS`),
illustrative and labelled as such, not data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finance.tax import ISR_RATE, PTU_RATE
from fondo.celery_app import make_celery
from fondo.config import load_settings
from fondo.db import session_scope
from fondo.errors import Conflict
from fondo.finance import service as finance_service
from fondo.fund.links import approve_study, create_p90_case, link_study, store_site_check
from fondo.fund.models import PipelineStage, Project, ProjectStudy, ProjectTransition
from fondo.fund.transitions import PIPELINE, move_project
from fondo.jobs import Job, JobState, launch
from fondo.studies import service as studies_service
from siting.parameters import PV_COSTS, WIND_COSTS

_ACTOR = "demo"
_REASON = "Demostración (datos ficticios)"
_REASON_BACK = ("Demostración: etapa corregida para que concuerde con su consulta y sus "
                "estudios")

#: Demo PV plants without a DC capacity: DC/AC ratio (fixed tilt and the rest are the
#: engine's defaults). [-]
DEMO_PV_DC_AC_RATIO = 1.2
#: Demo wind turbine (windpowerlib library) and hub height. [-], [m]
DEMO_WIND_TURBINE = "V126/3300"
DEMO_WIND_TURBINE_MW = 3.3
DEMO_WIND_HUB_HEIGHT_M = 117.0

#: Demo assumptions (illustrative, not data): a 15-year USD PPA, merchant tail, senior
#: debt sculpted to 1.35x and sized on P90 (the fund's policy for the demo), one equity
#: holder, the fund.
DEMO_CASE_ASSUMPTIONS: dict[str, Any] = {
    "degradation": 0.005, "life_years": 25, "construction_years": 1,
    "opex_escalation": 0.02, "ppa_price_usd_per_mwh": 55.0, "ppa_escalation": 0.01,
    "ppa_term_years": 15, "merchant_price_usd_per_mwh": 45.0,
    "depreciation": "mx_renewable_100", "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "currency": "USD", "rate": 0.068,
         "tenor_years": 15, "target_dscr": 1.35, "max_gearing": 0.7, "fee": 0.01,
         "sizing_basis": "p90"},
        {"name": "Fondo (demo)", "kind": "equity", "currency": "USD", "share": 1.0},
    ],
}


def _study_request(project: Project, lon: float, lat: float) -> dict[str, Any]:
    if project.technology.value == "pv":
        dc_mw = project.capacity_dc_mw or project.capacity_ac_mw * DEMO_PV_DC_AC_RATIO
        return {"technology": "pv", "site_id": project.site_id, "request": {
            "lat": lat, "lon": lon, "dc_ac_ratio": dc_mw / project.capacity_ac_mw,
            "capacity_dc_kw": dc_mw * 1000.0}}
    return {"technology": "wind", "site_id": project.site_id, "request": {
        "lat": lat, "lon": lon, "turbine_type": DEMO_WIND_TURBINE,
        "hub_height_m": DEMO_WIND_HUB_HEIGHT_M,
        "turbine_count": round(project.capacity_ac_mw / DEMO_WIND_TURBINE_MW)}}


def _run_study(settings: Mapping[str, Any], project_id: int, body: Mapping[str, Any]) -> int:
    """Store and run a yield study here and now (as ``fondo studies create`` does)."""
    with session_scope(settings) as session:
        job, study = studies_service.create_study(settings, session, body)
        study.is_demo = True
        job_id, study_id, params = job.id, study.id, dict(job.params)
    # here and now, in this process (a partial mapping of settings gets the defaults)
    celery = make_celery(load_settings({**settings, "TASK_ALWAYS_EAGER": True}, environ={}))
    with session_scope(settings) as session:
        launch(celery, studies_service.STUDY_TASK, session.get(Job, job_id), params)
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job.state is not JobState.SUCCESS:
            raise RuntimeError(f"demo yield study of project {project_id} failed: {job.error}")
    return study_id


def _case_request(project: Project, study_id: int) -> dict[str, Any]:
    costs = PV_COSTS if project.technology.value == "pv" else WIND_COSTS
    capacity_kw = project.capacity_ac_mw * 1000.0  # both sources' costs per kW AC
    return {"name": f"{project.name} — caso base P50", "project_id": project.id,
            "study_id": study_id, "capacity_mw": project.capacity_ac_mw,
            "capex_usd": costs.capital_cost_usd_per_kw * capacity_kw,
            "opex_usd_per_kw_year": costs.fixed_operating_cost_usd_per_kw_year,
            "tax_rate": ISR_RATE, "ptu_rate": PTU_RATE} | DEMO_CASE_ASSUMPTIONS


def _move_to(session: Session, project: Project, target: PipelineStage) -> list[dict]:
    """Move through the gates up to ``target`` (or back to it, with a reason, when an older
    demo left the project beyond it); the unmet gates where it stopped."""
    if project.stage in PIPELINE and PIPELINE.index(project.stage) > PIPELINE.index(target):
        move_project(session, project.id, {"to": target.value, "reason": _REASON_BACK}, _ACTOR)
        return []
    while project.stage in PIPELINE and PIPELINE.index(project.stage) < PIPELINE.index(target):
        nxt = PIPELINE[PIPELINE.index(project.stage) + 1]
        try:
            move_project(session, project.id, {"to": nxt.value, "reason": _REASON}, _ACTOR)
        except Conflict as exc:
            return [{"project": project.name, "to": nxt.value, **g}
                    for g in exc.extra.get("unmet_gates", [])]
    return []


def seed_demo_pipeline(settings: Mapping[str, Any], specs: list[Mapping[str, Any]]
                       ) -> dict[str, Any]:
    """Give each demo project of ``specs`` (``name``, ``lon``, ``lat``, ``stage``) its site
    check, study, cases and stage (idempotent: a project with a linked study is done)."""
    counts: dict[str, Any] = {"demo_studies": 0, "demo_finance_cases": 0, "demo_moves": 0,
                              "demo_unmet_gates": []}
    for spec in specs:
        with session_scope(settings) as session:
            project = session.scalar(select(Project).where(Project.name == spec["name"],
                                                           Project.is_demo.is_(True)))
            if project is None or session.scalar(select(ProjectStudy.id).where(
                    ProjectStudy.project_id == project.id)) is not None:
                continue
            project_id = project.id
            store_site_check(settings, session, project, _ACTOR)
            body = _study_request(project, spec["lon"], spec["lat"])
        study_id = _run_study(settings, project_id, body)
        counts["demo_studies"] += 1
        target = PipelineStage(spec["stage"])
        with session_scope(settings) as session:
            project = session.get(Project, project_id)
            link_study(session, project, study_id, _ACTOR)
            base = finance_service.create_case(session, _case_request(project, study_id),
                                               is_demo=True)
            counts["demo_finance_cases"] += 1
            if PIPELINE.index(target) >= PIPELINE.index(PipelineStage.FINANCIAL_CLOSE):
                approve_study(session, project, study_id, _ACTOR, None,
                              "Demostración: aprobado sin ingeniero independiente")
                create_p90_case(session, project, {"case_id": base.id}, is_demo=True)
                counts["demo_finance_cases"] += 1
            before = len(project_history_ids(session, project_id))
            counts["demo_unmet_gates"] += _move_to(session, project, target)
            counts["demo_moves"] += len(project_history_ids(session, project_id)) - before
    return counts


def project_history_ids(session: Session, project_id: int) -> list[int]:
    """Ids of the project's history rows (to count the demo's moves)."""
    return list(session.scalars(select(ProjectTransition.id).where(
        ProjectTransition.project_id == project_id)))
