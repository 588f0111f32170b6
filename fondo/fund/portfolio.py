"""The portfolio of a fund: what it holds, what the whole is worth, how risky it is (issue 11).

``GET /api/v1/portfolio/summary`` and ``fondo portfolio summary`` answer
:func:`portfolio_summary`; ``GET /api/v1/portfolio/lp/<id>`` and ``fondo portfolio lp ID``
answer :func:`lp_summary`. The shell loads rows — projects, the fund's allocations, each
project's newest finance case (:mod:`fondo.finance.service`) and the yield study behind it
(:mod:`fondo.studies.service`) — and hands plain values to the pure arithmetic
(:mod:`finance.portfolio`, :mod:`finance.portfolio_risk`, :mod:`finance.portfolio_montecarlo`).

Decisions where the issue is silent:

* The portfolio is the fund's projects not withdrawn or dropped; ``capacity_mw`` of a
  project is its AC capacity, and the total is their sum.
* Projections are in USD, the finance engine's currency; a fund in another currency gets
  no projection (a note says so) rather than a conversion at an invented rate.
* A holding's flows are its share of one tranche's flows (``amount / invested``); its
  model year 0 is the allocation's ``start_year``, else the fund's vintage year.
* Energy risk counts each project's whole energy (the fund's share is in the ESG
  figures); a project without a study but with P50/P90 in its case carries one
  independent component derived from them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

import finance
from finance.montecarlo import Z_P90, MonteCarloSpec
from finance.portfolio import (WaterfallTerms, exposure, fund_cash_flows, fund_metrics,
                               fund_waterfall, lp_flows, management_fees, roll_up)
from finance.portfolio_montecarlo import Holding, portfolio_montecarlo
from finance.portfolio_risk import (CORRELATION_LENGTH_KM, EnergyAsset, complementarity,
                                    energy_factor_draws, portfolio_exceedance)
from finance.returns import irr
from fondo.errors import FondoError, InvalidInput, NotFound
from fondo.finance import service as finance_service
from fondo.fund.allocations import case_of_project, case_tranches
from fondo.fund.ledger import (commitment_in_fund_currency, fund_commitments, get_fund,
                               get_limited_partner, limited_partner_json, list_funds, positions)
from fondo.fund.ledger_models import Allocation, HolderKind
from fondo.fund.limits import evaluate
from fondo.fund.models import Fund, Project
from fondo.fund.money import amount_text
from fondo.studies import service as studies_service

__all__ = ["EXCLUDED_STAGES", "MONTECARLO_TASK", "MONTECARLO_JOB_KIND",
           "create_montecarlo_job", "run_montecarlo_job", "PROJECTION_CURRENCY", "portfolio_projects", "portfolio_summary",
           "lp_summary", "resolve_fund", "energy_assets", "fund_flows"]

#: Stages of projects the fund no longer holds.
EXCLUDED_STAGES = frozenset({"withdrawn", "dropped"})
#: Currency of the finance engine's cash flows, hence of the projections.
PROJECTION_CURRENCY = "USD"
#: Celery task name of the fund's Monte Carlo.
MONTECARLO_TASK = "fondo.portfolio.montecarlo"
#: Job kind of the fund's Monte Carlo.
MONTECARLO_JOB_KIND = "portfolio_montecarlo"
#: A study's uncertainty name for a project known only by its case's P50/P90.
UNATTRIBUTED = "unattributed"


def _stage(project: Project) -> str:
    return getattr(project.stage, "value", project.stage)


def _tech(project: Project) -> str:
    return getattr(project.technology, "value", project.technology)


def resolve_fund(session: Session, fund_id: int | None, fund_ids: set[int] | None) -> Fund:
    """The fund asked for, or the first the caller sees; :class:`NotFound` otherwise."""
    if fund_id is not None:
        return get_fund(session, fund_id, fund_ids)
    funds = list_funds(session, fund_ids)
    if not funds:
        raise NotFound("No fund to show.")
    return funds[0]


def portfolio_projects(session: Session, fund: Fund) -> list[Project]:
    """The projects the fund holds (not withdrawn or dropped), by id."""
    rows = session.scalars(select(Project).where(Project.fund_id == fund.id).order_by(Project.id))
    return [p for p in rows if _stage(p) not in EXCLUDED_STAGES]


def _study_of(session: Session, case: Any) -> Any | None:
    if case is None or case.study_id is None:
        return None
    try:
        study = studies_service.get_study(session, case.study_id)
    except FondoError:
        return None
    return study if study.result else None


def energy_assets(session: Session, projects: list[Project], cases: Mapping[int, Any]
                  ) -> tuple[dict[int, EnergyAsset], list[str]]:
    """Each project's energy and uncertainty for the portfolio risk (and notes on those
    left out)."""
    assets, notes = {}, []
    for p in projects:
        case, study = cases.get(p.id), _study_of(session, cases.get(p.id))
        if study is not None:
            result, request = study.result, study.request or {}
            assumptions = result.get("assumptions", {})
            assets[p.id] = EnergyAsset(
                name=p.name, technology=_tech(p), energy_p50_mwh=result["p50_kwh"] / 1000.0,
                components=assumptions.get("uncertainty_components", {}),
                model=str(assumptions.get("model", "")),
                weather_file=(result.get("station") or {}).get("id"),
                latitude=float(request.get("lat", 0.0)), longitude=float(request.get("lon", 0.0)))
        elif case is not None and case.request.get("energy_p50_mwh"):
            p50 = float(case.request["energy_p50_mwh"])
            p90 = case.request.get("energy_p90_mwh")
            sigma = (p50 - float(p90)) / (Z_P90 * p50) if p90 else 0.0
            assets[p.id] = EnergyAsset(name=p.name, technology=_tech(p), energy_p50_mwh=p50,
                                       components={UNATTRIBUTED: max(sigma, 0.0)})
            notes.append(f"Project {p.id}: no yield study; its case's P50/P90 taken as one "
                         "independent uncertainty.")
        else:
            notes.append(f"Project {p.id}: no yield study nor finance case; not in the energy "
                         "figures.")
    return assets, notes


def _holdings(session: Session, fund: Fund, projects: list[Project], cases: Mapping[int, Any]
              ) -> tuple[list[dict[str, Any]], list[str]]:
    """The fund's allocations with a case tranche: flows, share, start year."""
    ids = {p.id for p in projects}
    out, notes = [], []
    rows = session.scalars(select(Allocation).where(
        Allocation.fund_id == fund.id, Allocation.holder_kind == HolderKind.FUND)
        .order_by(Allocation.id))
    for a in rows:
        if a.project_id not in ids:
            continue
        case = cases.get(a.project_id)
        if case is None or a.tranche is None:
            notes.append(f"Allocation {a.id}: project {a.project_id} has no finance case; "
                         "not in the projected returns.")
            continue
        tranche = case_tranches(case).get(a.tranche)
        if tranche is None or tranche["invested_usd"] <= 0:
            notes.append(f"Allocation {a.id}: tranche {a.tranche!r} is not in the project's "
                         "newest case; not in the projected returns.")
            continue
        share = min(float(a.amount_fund_currency) / tranche["invested_usd"], 1.0)
        out.append({"allocation_id": a.id, "project_id": a.project_id, "case": case,
                    "tranche": a.tranche, "share": share,
                    "flows_usd": np.asarray(tranche["flows_usd"]) * share,
                    "start_year": a.start_year or fund.vintage_year})
    return out, notes


def fund_flows(fund: Fund, holdings: list[dict[str, Any]], commitments: float,
               as_of_year: int) -> dict[str, Any]:
    """Calendar, gross flows, LP contributions, distributions and the waterfall."""
    vintage = fund.vintage_year or as_of_year
    first = min([vintage] + [h["start_year"] for h in holdings])
    last = max([vintage + max(fund.management_fee_years, 1)]
               + [h["start_year"] + h["flows_usd"].size for h in holdings])
    n_years = last - first
    gross = roll_up([h["flows_usd"] for h in holdings],
                    [h["start_year"] - first for h in holdings], n_years)
    fees = management_fees(commitments, fund.management_fee_rate, vintage - first,
                           fund.management_fee_years, n_years)
    paid, dist = fund_cash_flows(gross, fees)
    terms = WaterfallTerms(fund.preferred_return_rate, fund.carried_interest_rate,
                           fund.catch_up_rate)
    waterfall = fund_waterfall(paid, dist, terms)
    as_of_index = int(np.clip(as_of_year - first, 0, n_years - 1))
    return {"first_year": first, "n_years": n_years, "gross": gross, "fees": fees,
            "paid": paid, "dist": dist, "waterfall": waterfall, "terms": terms,
            "as_of_index": as_of_index}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _metrics_json(m: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("irr", "tvpi", "dpi", "rvpi", "nav", "paid_in", "distributed", "paid_in_total",
            "distributed_total", "multiple_total")
    return {k: _clean(m[k]) for k in keys}


def _returns(fund: Fund, flows: Mapping[str, Any]) -> dict[str, Any]:
    w, first = flows["waterfall"], flows["first_year"]
    net = fund_metrics(flows["paid"], w.lp, as_of_index=flows["as_of_index"],
                       discount_rate=fund.discount_rate)
    gross_irr = irr(flows["gross"]) if np.any(flows["gross"]) else float("nan")
    years = [{"year": first + t, "paid_in_usd": flows["paid"][t],
              "management_fee_usd": flows["fees"][t], "gross_distribution_usd": flows["dist"][t],
              "lp_distribution_usd": w.lp[t], "gp_distribution_usd": w.gp[t],
              "is_projection": t > flows["as_of_index"]} for t in range(flows["n_years"])]
    tiers = {name: {"lp_usd": float(lp.sum()), "gp_usd": float(gp.sum())}
             for name, (lp, gp) in w.tiers.items()}
    return _clean({"currency": PROJECTION_CURRENCY, "gross_irr": gross_irr,
                   "net": _metrics_json(net), "waterfall_totals": tiers,
                   "terms": {"preferred_return_rate": flows["terms"].preferred_return_rate,
                             "carried_interest_rate": flows["terms"].carried_interest_rate,
                             "catch_up_rate": flows["terms"].catch_up_rate,
                             "management_fee_rate": fund.management_fee_rate,
                             "management_fee_years": fund.management_fee_years,
                             "discount_rate": fund.discount_rate},
                   "by_year": years})


def _complementarity(settings: Mapping[str, Any] | None, session: Session,
                     projects: list[Project], cases: Mapping[int, Any]) -> dict[str, Any]:
    if settings is None:
        return {"available": False, "reason": "no instance folder to read hourly series from"}
    series: dict[str, list[np.ndarray]] = {"pv": [], "wind": []}
    for p in projects:
        study = _study_of(session, cases.get(p.id))
        if study is None or not study.hourly_file:
            continue
        try:
            frame = pd.read_csv(studies_service.hourly_path(settings, study))
        except (FondoError, OSError):
            continue
        series[_tech(p)].append(frame[studies_service.HOURLY_ENERGY_COLUMN].to_numpy(float))
    if not series["pv"] or not series["wind"]:
        return {"available": False,
                "reason": "needs stored hourly series of at least one PV and one wind project"}
    hours = min(min(len(s) for s in series["pv"]), min(len(s) for s in series["wind"]))
    pv = sum(s[:hours] for s in series["pv"]) / 1000.0
    wind = sum(s[:hours] for s in series["wind"]) / 1000.0
    return {"available": True, **complementarity(pv, wind),
            "note": "typical-year series aligned hour by hour; each station's typical year "
                    "is assembled from different calendar months, so the correlation is "
                    "indicative"}


def _montecarlo(fund: Fund, session: Session, holdings: list[dict[str, Any]],
                assets: Mapping[int, EnergyAsset], flows: Mapping[str, Any], draws: int,
                seed: int, on_progress: Callable[[int, int], None] | None = None
                ) -> dict[str, Any] | None:
    if draws <= 0 or not holdings:
        return None
    order = sorted(assets)
    column = {pid: i for i, pid in enumerate(order)}
    rng = np.random.default_rng(seed)
    factors = energy_factor_draws([assets[pid] for pid in order], draws, rng)
    factors = np.hstack([factors, np.ones((draws, 1))])  # last column: projects without asset
    items = []
    for h in holdings:
        case = h["case"]
        runs = finance_service.list_montecarlo_runs(session, case.id)
        spec = runs[0].spec if runs else {}
        items.append(Holding(finance.CaseInputs.from_dict(case.request), h["tranche"],
                             h["share"], h["start_year"] - flows["first_year"],
                             column.get(h["project_id"], len(order)),
                             price_sigma=float(spec.get("price_sigma") or 0.0),
                             capex_sigma=float(spec.get("capex_sigma") or 0.0),
                             opex_sigma=float(spec.get("opex_sigma") or 0.0)))
    out = portfolio_montecarlo(items, factors, MonteCarloSpec(n_draws=draws, seed=seed),
                               n_years=flows["n_years"], fees=flows["fees"],
                               terms=flows["terms"], on_progress=on_progress)
    out.pop("draws")
    return _clean(out | {"seed": seed,
                         "spreads": "each project's newest Monte Carlo run's price, CAPEX "
                                    "and OPEX spreads (none without a run); energy "
                                    "correlated across projects"})


def portfolio_summary(session: Session, fund: Fund, *, settings: Mapping[str, Any] | None = None,
                      as_of_year: int | None = None, draws: int = 0, seed: int = 0
                      ) -> dict[str, Any]:
    """The fund's portfolio: projects, totals, ledger, returns, exposure, energy risk,
    limits and (with ``draws``) the Monte Carlo of the fund's IRR. Strict JSON."""
    as_of_year = as_of_year or dt.date.today().year
    projects = portfolio_projects(session, fund)
    cases = {p.id: case_of_project(session, p.id) for p in projects}
    allocations = {p.id: Decimal(0) for p in projects}
    for a in session.scalars(select(Allocation).where(Allocation.fund_id == fund.id,
                                                      Allocation.holder_kind == HolderKind.FUND)):
        if a.project_id in allocations:
            allocations[a.project_id] += Decimal(a.amount_fund_currency)
    assets, notes = energy_assets(session, projects, cases)
    rows = []
    for p in projects:
        case, asset = cases[p.id], assets.get(p.id)
        rows.append({"id": p.id, "name": p.name, "technology": _tech(p), "stage": _stage(p),
                     "state_key": p.state_key, "corridor_id": p.corridor_id,
                     "municipality_key": p.municipality_key,
                     "capacity_mw": p.capacity_ac_mw or 0.0,
                     "finance_case_id": case.id if case is not None else None,
                     "study_id": case.study_id if case is not None else None,
                     "energy_p50_mwh": asset.energy_p50_mwh if asset else None,
                     "equity_irr": (case.result["metrics"].get("equity_irr")
                                    if case is not None else None),
                     "fund_allocation": amount_text(allocations[p.id], fund.base_currency),
                     "is_demo": p.is_demo})
    commitments = fund_commitments(session, fund)
    pos = positions(session, fund)
    ledger_totals = {k: Decimal(0) for k in ("called", "distributed")}
    for lp_pos in pos.values():
        ledger_totals["called"] += Decimal(lp_pos["called_fund_currency"])
        ledger_totals["distributed"] += Decimal(lp_pos["distributed_fund_currency"])
    amounts = [float(allocations[p.id]) for p in projects]
    currencies = {}
    for a in session.scalars(select(Allocation).where(Allocation.fund_id == fund.id,
                                                      Allocation.holder_kind == HolderKind.FUND)):
        currencies[a.currency] = currencies.get(a.currency, 0.0) + float(a.amount_fund_currency)
    out: dict[str, Any] = {
        "fund": {"id": fund.id, "name": fund.name, "base_currency": fund.base_currency,
                 "vintage_year": fund.vintage_year, "is_demo": fund.is_demo},
        "as_of_year": as_of_year,
        "capacity_mw": float(sum(r["capacity_mw"] for r in rows)),
        "projects": rows,
        "totals": {"projects": len(rows), "capacity_mw": float(sum(r["capacity_mw"] for r in rows)),
                   "energy_p50_mwh": float(sum(a.energy_p50_mwh for a in assets.values())),
                   "fund_allocation": amount_text(sum(allocations.values(), Decimal(0)),
                                                  fund.base_currency)},
        "ledger": {"currency": fund.base_currency,
                   "committed": amount_text(commitments, fund.base_currency),
                   "called": amount_text(ledger_totals["called"], fund.base_currency),
                   "distributed": amount_text(ledger_totals["distributed"], fund.base_currency),
                   "unfunded": amount_text(commitments - ledger_totals["called"],
                                           fund.base_currency),
                   "limited_partners": len(pos)},
        "exposure": {
            "state": exposure(amounts, [p.state_key for p in projects]),
            "corridor": exposure(amounts, [p.corridor_id for p in projects]),
            "technology": exposure(amounts, [_tech(p) for p in projects]),
            "stage": exposure(amounts, [_stage(p) for p in projects]),
            "currency": exposure(list(currencies.values()), list(currencies)),
            "basis": f"the fund's allocations in {fund.base_currency}"},
        "limits": evaluate(session, fund),
    }
    if assets:
        values = list(assets.values())
        out["energy_risk"] = {
            "1_year": portfolio_exceedance(values, 1), "10_year": portfolio_exceedance(values, 10),
            "correlation_lengths_km": dict(CORRELATION_LENGTH_KM),
            "rule": "model: 1 for the same model; interannual_variability: exp(-d/L) within a "
                    "technology, 0 across; weather_file_representativeness: 1 for the same "
                    "station; other components independent (finance/portfolio_risk.py)"}
    else:
        out["energy_risk"] = None
    out["complementarity"] = _complementarity(settings, session, projects, cases)
    holdings, more = _holdings(session, fund, projects, cases)
    notes += more
    if fund.base_currency != PROJECTION_CURRENCY:
        notes.append(f"Projections are in {PROJECTION_CURRENCY}; the fund reports in "
                     f"{fund.base_currency}: no projected returns.")
        out["returns"], out["montecarlo"] = None, None
    else:
        flows = fund_flows(fund, holdings, float(commitments), as_of_year)
        out["returns"] = _returns(fund, flows)
        out["montecarlo"] = _montecarlo(fund, session, holdings, assets, flows, draws, seed)
    out["notes"] = notes
    return _clean(out)


def lp_summary(session: Session, lp_id: int, *, lp_ids: set[int] | None = None,
               as_of_year: int | None = None) -> dict[str, Any]:
    """One LP: its ledger position and its share of the projected returns in its currency."""
    lp = get_limited_partner(session, lp_id, lp_ids)
    fund = get_fund(session, lp.fund_id)
    as_of_year = as_of_year or dt.date.today().year
    pos = positions(session, fund)[lp.id]
    out = limited_partner_json(lp, fund, pos) | {"as_of_year": as_of_year, "returns": None}
    commitments = fund_commitments(session, fund)
    mine = commitment_in_fund_currency(fund, lp)
    if fund.base_currency != PROJECTION_CURRENCY or mine is None or commitments <= 0:
        out["notes"] = ["No projected returns: the fund is not in USD or the LP's "
                        "commitment has no stated rate."]
        return _clean(out)
    projects = portfolio_projects(session, fund)
    cases = {p.id: case_of_project(session, p.id) for p in projects}
    holdings, notes = _holdings(session, fund, projects, cases)
    flows = fund_flows(fund, holdings, float(commitments), as_of_year)
    share = float(mine / commitments)
    rate = 1.0 if lp.commitment_currency == fund.base_currency else float(lp.fx_rate)
    paid, got = lp_flows(share, flows["paid"], flows["waterfall"].lp, rate)
    m = fund_metrics(paid, got, as_of_index=flows["as_of_index"],
                     discount_rate=fund.discount_rate)
    first = flows["first_year"]
    out["returns"] = {"currency": lp.commitment_currency, "share": share,
                      "fx": out["fx"] | {"applied": "flat over the projection"},
                      **_metrics_json(m),
                      "by_year": [{"year": first + t, "paid_in": paid[t], "distribution": got[t],
                                   "is_projection": t > flows["as_of_index"]}
                                  for t in range(flows["n_years"])]}
    out["notes"] = notes
    return _clean(out)


def create_montecarlo_job(session: Session, fund: Fund, body: Mapping[str, Any],
                          user_id: int | None = None) -> Any:
    """Add a PENDING job of the fund's Monte Carlo (flushed; the caller commits and
    launches :data:`MONTECARLO_TASK` with ``job.params``)."""
    from fondo.jobs import create_job

    check_as_of(body.get("as_of_year"))
    params = {"fund_id": fund.id, "draws": int(body["draws"]), "seed": int(body["seed"]),
              "as_of_year": body.get("as_of_year")}
    job = create_job(session, MONTECARLO_JOB_KIND, params, user_id)
    return job


def run_montecarlo_job(session: Session, params: Mapping[str, Any],
                       on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The task's work: the fund's Monte Carlo (the summary's ``montecarlo``), strict JSON."""
    fund = get_fund(session, params["fund_id"])
    as_of_year = params.get("as_of_year") or dt.date.today().year
    if fund.base_currency != PROJECTION_CURRENCY:
        raise InvalidInput(f"Projections are in {PROJECTION_CURRENCY}; fund {fund.id} is in "
                           f"{fund.base_currency}.", field="fund_id")
    projects = portfolio_projects(session, fund)
    cases = {p.id: case_of_project(session, p.id) for p in projects}
    assets, _notes = energy_assets(session, projects, cases)
    holdings, _more = _holdings(session, fund, projects, cases)
    flows = fund_flows(fund, holdings, float(fund_commitments(session, fund)), as_of_year)
    out = _montecarlo(fund, session, holdings, assets, flows, int(params["draws"]),
                      int(params["seed"]), on_progress)
    return {"fund_id": fund.id, "as_of_year": as_of_year, "montecarlo": out}


def check_as_of(as_of_year: int | None) -> None:
    """Refuse an as-of year outside the schema's range (CLI options bypass the schema)."""
    if as_of_year is not None and not 1990 <= as_of_year <= 2100:
        raise InvalidInput("as_of_year must be between 1990 and 2100.", field="as_of_year")
