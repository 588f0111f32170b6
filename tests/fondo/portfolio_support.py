"""Shared builders of the portfolio tests: a fund with LPs, projects, finance cases and
stored yield studies (rows written directly with the figures the test states)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from fondo.finance import service as finance_service
from fondo.fund import ledger
from fondo.fund.models import PipelineStage, Project
from fondo.jobs import JobState
from fondo.orm import Technology
from fondo.studies.models import YieldStudy

#: A 40 MW PV case with senior debt and one equity tranche held by the fund
#: (illustrative inputs, not data).
CASE = {
    "capacity_mw": 40, "energy_p50_mwh": 96_000, "energy_p90_mwh": 88_000,
    "degradation": 0.005, "life_years": 20, "construction_years": 1, "capex_usd": 36e6,
    "opex_usd_per_kw_year": 14, "opex_escalation": 0.02, "ppa_price_usd_per_mwh": 52,
    "ppa_escalation": 0.01, "ppa_term_years": 15, "merchant_price_usd_per_mwh": 42,
    "tax_rate": 0.30, "ptu_rate": 0.10, "depreciation": "mx_renewable_100",
    "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "currency": "USD", "rate": 0.068,
         "tenor_years": 12, "target_dscr": 1.35, "max_gearing": 0.75, "fee": 0.01},
        {"name": "Fund equity", "kind": "equity", "currency": "USD", "share": 1.0},
    ],
}

FUND = {"name": "Test fund", "base_currency": "USD", "vintage_year": 2026,
        "preferred_return_rate": 0.08, "carried_interest_rate": 0.2, "catch_up_rate": 1.0,
        "management_fee_rate": 0.02, "management_fee_years": 10, "discount_rate": 0.08}


def make_fund(session, **terms) -> Any:
    return ledger.create_fund(session, FUND | terms)


def make_lp(session, fund_id: int, amount: str = "100000000.00", currency: str = "USD",
            **extra) -> Any:
    body = {"name": f"LP {currency} {amount}", "country": "CA", "kind": "pension_fund",
            "commitment_amount": amount, "commitment_currency": currency} | extra
    return ledger.create_limited_partner(session, fund_id, body)


def make_study(session, technology: str, p50_mwh: float, components: dict, *, lat: float,
               lon: float, station: str, model: str = "PVWatts v8 chain") -> YieldStudy:
    study = YieldStudy(technology=Technology(technology), request={"lat": lat, "lon": lon},
                       status=JobState.SUCCESS, energy_p50_mwh=p50_mwh,
                       result={"p50_kwh": p50_mwh * 1000.0, "station": {"id": station},
                               "assumptions": {"model": model,
                                               "uncertainty_components": components}})
    session.add(study)
    session.flush()
    return study


def make_project(session, fund_id: int, name: str, technology: str = "pv",
                 capacity_mw: float = 40.0, stage: str = "screening", state_key: str = "01",
                 corridor_id: str | None = None, study: YieldStudy | None = None,
                 case: dict | None = None) -> Project:
    project = Project(fund_id=fund_id, name=name, technology=Technology(technology),
                      capacity_ac_mw=capacity_mw, stage=PipelineStage(stage), state_key=state_key,
                      corridor_id=corridor_id)
    session.add(project)
    session.flush()
    if case is not False:
        body = copy.deepcopy(case or CASE) | {"name": f"{name} case", "project_id": project.id}
        if study is not None:
            body.pop("energy_p50_mwh")
            body.pop("energy_p90_mwh")
            body["study_id"] = study.id
            study.energy_p90_mwh = study.energy_p50_mwh * 0.9
        finance_service.create_case(session, body)
    return project


def equity_of(session, project_id: int) -> float:
    """The equity the project's newest case invests (USD)."""
    case = finance_service.list_cases(session, project_id)[0]
    return case.result["metrics"]["equity_usd"]


TODAY = date(2026, 11, 30)
