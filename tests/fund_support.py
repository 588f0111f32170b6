"""Builders shared by the Fund issue's tests (issue 11, part A): funds, sites, projects,
stored studies and finance cases, made through the services where one exists.

A stored yield study is inserted as a finished row (its energy given): the studies'
own tests check the engine; here only the pipeline reads the stored figures.
"""

from __future__ import annotations

import copy
from typing import Any

import shapely

from fondo.fund.models import Fund, Site
from fondo.jobs import JobState
from fondo.orm import Technology
from fondo.studies.models import YieldStudy

#: Real places (the demo's): a 2 km square at Soto la Marina, Tamaulipas, overlaps no
#: exclusion layer; one at Aguascalientes Norte overlaps INEGI urban areas and localities.
CLEAR_SITE_LONLAT = (-97.95, 23.85)
URBAN_SITE_LONLAT = (-102.25, 22.05)

#: A 40 MW solar case sculpted to a senior DSCR of 1.35 (illustrative inputs, as in
#: tests/web/test_finance_api.py).
CASE: dict[str, Any] = {
    "name": "PV 40 MW (test)",
    "capacity_mw": 40, "energy_p50_mwh": 96_000, "energy_p90_mwh": 88_000,
    "degradation": 0.005, "life_years": 25, "construction_years": 1, "capex_usd": 36e6,
    "opex_usd_per_kw_year": 14, "opex_escalation": 0.02, "ppa_price_usd_per_mwh": 52,
    "ppa_escalation": 0.01, "ppa_term_years": 15, "merchant_price_usd_per_mwh": 42,
    "tax_rate": 0.30, "ptu_rate": 0.10, "depreciation": "mx_renewable_100",
    "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "currency": "USD", "rate": 0.068,
         "tenor_years": 15, "target_dscr": 1.35, "max_gearing": 0.8, "fee": 0.01},
        {"name": "Pension", "kind": "equity", "currency": "USD", "share": 1.0},
    ],
}
#: The senior DSCR the case's debt is sculpted to. [-]
CASE_TARGET_DSCR = 1.35


def square(lonlat: tuple[float, float], side_km: float = 2.0) -> shapely.Polygon:
    from fondo.seed import _square_km

    return _square_km(lonlat[0], lonlat[1], side_km)


def add_fund(session, name: str = "Fund (test)") -> Fund:
    fund = Fund(name=name)
    session.add(fund)
    session.flush()
    return fund


def add_site(session, lonlat=CLEAR_SITE_LONLAT, technology: str = "pv",
             check_result: dict | None = None) -> Site:
    site = Site(name="site (test)", technology=Technology(technology), geometry=square(lonlat),
                area_km2=4.0, check_result=check_result)
    session.add(site)
    session.flush()
    return site


def add_project(session, *, fund_id=None, site_id=None, technology="pv", name="PV (test)",
                capacity_ac_mw=40.0, actor="officer@example.org"):
    from fondo.fund.projects import create_project

    return create_project(session, {"name": name, "technology": technology,
                                    "capacity_ac_mw": capacity_ac_mw, "fund_id": fund_id,
                                    "site_id": site_id}, actor)


def add_study(session, site_id=None, technology="pv", p50=96_000.0, p90=88_000.0,
              status=JobState.SUCCESS) -> YieldStudy:
    study = YieldStudy(site_id=site_id, technology=Technology(technology), request={},
                       result={"p50_kwh": p50 * 1000} if status is JobState.SUCCESS else None,
                       status=status, energy_p50_mwh=p50 if status is JobState.SUCCESS else None,
                       energy_p90_mwh=p90 if status is JobState.SUCCESS else None)
    session.add(study)
    session.flush()
    return study


def add_case(session, project_id: int, **changes: Any):
    from fondo.finance import service as finance_service

    body = copy.deepcopy(CASE) | {"project_id": project_id} | changes
    return finance_service.create_case(session, body)


def set_stage(session, project, stage: str) -> None:
    """Put a project at a stage directly (set-up only; the moves are what is tested)."""
    from fondo.fund.models import PipelineStage

    project.stage = PipelineStage(stage)
    session.flush()


def consultation_facts(**changes: Any) -> dict[str, Any]:
    """:func:`project_consultation_gates`'s answer for a project with nothing to object."""
    return {"requirement": "not_required", "identification_pending": False,
            "consultation_id": None, "state": None, "agreement_reached": False,
            "consent_withheld": False, "overdue_grievances": 0, "premature_decisions": [],
            "financial_close_allowed_by_protocol": True} | changes
