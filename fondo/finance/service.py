"""Finance cases (issue 4): create → validate → run → store; Monte Carlo runs; tornado.

Requests arrive loaded by their schema (:mod:`fondo.finance.schemas`, the same for the REST
endpoint and the command line: types, required fields, plain bounds). The finance engine
(:mod:`finance`) then does the domain validation and the arithmetic; this module resolves
what only the shell knows (a project, a stored yield study's energy), stores the request
and the engine's answer, and serves them as JSON (the exports are
:mod:`fondo.finance.exports`). Nothing is stored unless the engine accepted the request:
every rejection is an :class:`~fondo.errors.InvalidInput` whose ``field`` names the request
field at fault.

The JSON answer is strict JSON: a number the engine cannot give (an IRR without a sign
change, a DSCR without debt) is ``null`` with its reason in ``metrics.notes`` (or
``irr_reason`` of a tranche), never ``NaN``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

import finance
from finance.election import ELECTION_OBJECTIVES, best_depreciation_rate
from fondo.errors import InvalidInput, NotFound, invalid_from
from fondo.finance.models import SHELL_FIELDS, FinanceCase, FinanceMonteCarloRun
from fondo.fund.service import Project
from fondo.jobs import Job, JobState, create_job
from fondo.request_body import non_finite_path
from fondo.studies.service import YieldStudy

__all__ = [
    "MONTECARLO_TASK",
    "SHELL_FIELDS",
    "FinanceCase",
    "FinanceMonteCarloRun",
    "case_json",
    "case_summary_json",
    "create_case",
    "create_montecarlo_run",
    "evaluate_request",
    "get_case",
    "get_montecarlo_run",
    "list_cases",
    "list_montecarlo_runs",
    "montecarlo_run_json",
    "montecarlo_run_url",
    "montecarlo_spec",
    "run_montecarlo_for_case",
    "tornado_json",
    "depreciation_election_json",
    "warm_up",
    "WARM_UP_CASE",
]

#: Progress steps a Monte Carlo run reports (draws are evaluated in this many chunks,
#: each vectorized). [-]
MONTECARLO_PROGRESS_STEPS = 10
#: Smallest chunk of draws (smaller chunks waste the vectorization). [draws]
MIN_MONTECARLO_CHUNK = 100
#: Name of the Celery task that runs a Monte Carlo.
MONTECARLO_TASK = "fondo.finance.montecarlo"
#: Job kind of a Monte Carlo run.
MONTECARLO_JOB_KIND = "finance_montecarlo"
#: Fields of a Monte Carlo spec, in :class:`finance.MonteCarloSpec`'s order.
MONTECARLO_FIELDS = ("n_draws", "seed", "price_sigma", "capex_sigma", "opex_sigma",
                     "energy_sigma", "breach_dscr", "chunk")


# --------------------------------------------------------------------------- JSON


def _strict(value: Any) -> Any:
    """``value`` with numpy scalars made plain and non-finite floats made ``None``."""
    if isinstance(value, Mapping):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item") and not isinstance(value, (int, float)):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


# --------------------------------------------------------------------------- cases


def _resolve(session: Session, body: Mapping[str, Any]
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a request into the engine's request and the shell's fields (checked)."""
    project_id, study_id = body.get("project_id"), body.get("study_id")
    if project_id is not None and session.get(Project, project_id) is None:
        raise InvalidInput(f"No project with id {project_id}.", field="project_id")
    request = {k: v for k, v in body.items() if k not in SHELL_FIELDS}
    if study_id is not None:
        study = session.get(YieldStudy, study_id)
        if study is None:
            raise InvalidInput(f"No yield study with id {study_id}.", field="study_id")
        if study.status is not JobState.SUCCESS or study.energy_p50_mwh is None:
            raise InvalidInput(f"Yield study {study_id} has no P50 energy (yet).",
                               field="study_id")
        for key in ("energy_p50_mwh", "energy_p90_mwh"):
            if request.get(key) is not None:
                raise InvalidInput(f"Give either study_id or {key}, not both: the study "
                                   f"supplies the energy.", field=key)
        request["energy_p50_mwh"] = float(study.energy_p50_mwh)
        if study.energy_p90_mwh is not None:
            request["energy_p90_mwh"] = float(study.energy_p90_mwh)
    shell = {"name": body.get("name"), "project_id": project_id, "study_id": study_id}
    return request, shell


def evaluate_request(request: Mapping[str, Any]) -> tuple[finance.CaseInputs, dict[str, Any]]:
    """Validate an engine request and run it; the answer as strict-JSON-able dict.

    Raises
    ------
    InvalidInput
        With ``field`` as the engine named it (``"capex_usd"``, ``"tranches[0].target_dscr"``).
    """
    try:
        inputs = finance.CaseInputs.from_dict(request)
    except finance.FinanceInputError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None
    except (TypeError, ValueError) as exc:  # anything else the engine refuses
        raise InvalidInput(str(exc), field=getattr(exc, "field", None) or "body") from None
    try:
        case_result = finance.run_case(inputs)
    except ValueError as exc:  # a case the engine accepted but cannot evaluate
        raise invalid_from(exc, "body") from None
    where = _overflow_path(case_result)
    if where is not None:
        raise InvalidInput(f"The case's result is not a finite number ({where}): the request "
                           "is beyond what the model can compute.", field="body")
    return inputs, _strict(case_result.to_dict())


def _overflow_path(result: finance.CaseResult) -> str | None:
    """Where a case's result overflowed: a money or energy column of the cash flows that is
    not finite, or an infinite metric (a NaN metric is one that does not exist, as an IRR
    without a sign change, and is served as ``null`` with its reason)."""
    frame = result.cashflow_frame()
    for column in frame.columns:
        amounts = column.startswith("flow_") or column.endswith(("_usd", "_mwh"))
        if amounts and not np.isfinite(frame[column].to_numpy(float)).all():
            return f"cashflows.{column}"
    return non_finite_path({"metrics": dict(result.metrics),
                            "tranches": [dict(t) for t in result.tranches]}, nan_ok=True)


def create_case(session: Session, body: Mapping[str, Any], user_id: int | None = None, *,
                is_demo: bool = False) -> FinanceCase:
    """Validate, run and store a case (flushed, not committed).

    Parameters
    ----------
    session : Session
        Database session; the caller commits.
    body : mapping
        The request as :class:`~fondo.finance.schemas.FinanceCaseRequestSchema` loaded it
        (issue 4 contract names, plus ``name``, ``project_id``, ``study_id``). Fields the
        engine knows beyond the contract pass through to it.
    user_id : int, optional
        Who creates the case.

    Returns
    -------
    FinanceCase
        The stored row.
    """
    request, shell = _resolve(session, body)
    inputs, result = evaluate_request(request)
    metrics = result["metrics"]
    row = FinanceCase(
        name=shell["name"],
        project_id=shell["project_id"],
        study_id=shell["study_id"],
        request=_strict(request),
        result=result,
        capacity_mw=inputs.capacity_mw,
        capex_usd=inputs.capex_usd,
        npv_usd=metrics.get("npv_usd"),
        project_irr_after_tax=metrics.get("project_irr_after_tax"),
        created_by_id=user_id,
        is_demo=is_demo,
    )
    session.add(row)
    session.flush()
    return row


def _in_funds(fund_ids: Collection[int]) -> Any:
    """Condition: the case's project belongs to one of ``fund_ids``."""
    return FinanceCase.project_id.in_(select(Project.id).where(Project.fund_id.in_(fund_ids)))


def get_case(session: Session, case_id: int, fund_ids: Collection[int] | None = None
             ) -> FinanceCase:
    """The stored case, or :class:`NotFound`.

    With ``fund_ids`` (what an investor may see), a case whose project is not in one of
    these funds is not found either.
    """
    query = select(FinanceCase).where(FinanceCase.id == case_id)
    if fund_ids is not None:
        query = query.where(_in_funds(fund_ids))
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"No finance case with id {case_id}.")
    return row


def list_cases(session: Session, project_id: int | None = None,
               fund_ids: Collection[int] | None = None) -> list[FinanceCase]:
    """Stored cases, newest first (optionally of one project; with ``fund_ids``, only
    the cases whose project belongs to one of these funds)."""
    query = select(FinanceCase).order_by(FinanceCase.id.desc())
    if project_id is not None:
        query = query.where(FinanceCase.project_id == project_id)
    if fund_ids is not None:
        query = query.where(_in_funds(fund_ids))
    return list(session.scalars(query))


def _links(case_id: int) -> dict[str, str]:
    base = f"/api/v1/finance/cases/{case_id}"
    return {"self": base, "cashflows_csv": f"{base}/cashflows.csv",
            "cashflows_xlsx": f"{base}/cashflows.xlsx", "montecarlo": f"{base}/montecarlo",
            "tornado": f"{base}/tornado", "depreciation_election": f"{base}/depreciation-election"}


def case_summary_json(row: FinanceCase) -> dict[str, Any]:
    """A case without its cash-flow table (for listings)."""
    return {
        "id": row.id,
        "name": row.name,
        "project_id": row.project_id,
        "study_id": row.study_id,
        "is_demo": row.is_demo,
        "created_by_id": row.created_by_id,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "capacity_mw": row.capacity_mw,
        "capex_usd": row.capex_usd,
        "metrics": row.result["metrics"],
        "links": _links(row.id),
    }


def case_json(row: FinanceCase) -> dict[str, Any]:
    """The JSON of a stored case: the API's and the command line's answer."""
    return case_summary_json(row) | {
        "request": row.request,
        "tranches": row.result["tranches"],
        "cashflows": row.result["cashflows"],
    }


# --------------------------------------------------------------------------- risk


def montecarlo_spec(body: Mapping[str, Any]) -> dict[str, Any]:
    """The full Monte Carlo spec of a request: the engine's defaults filled in, checked.

    ``body`` is :class:`~fondo.finance.schemas.MonteCarloRequestSchema`'s load (``None`` or
    absent means the default). ``energy_sigma`` stays ``None`` (the engine derives it from
    P50/P90); ``chunk`` defaults to a tenth of the draws, at least
    :data:`MIN_MONTECARLO_CHUNK`, so that a run reports about ten progress steps.

    Raises
    ------
    InvalidInput
        The engine's :class:`finance.MonteCarloSpec` refuses the spec (field named).
    """
    defaults = finance.MonteCarloSpec()
    spec = {key: getattr(defaults, key) if body.get(key) is None else body[key]
            for key in MONTECARLO_FIELDS}
    if body.get("chunk") is None:
        spec["chunk"] = max(MIN_MONTECARLO_CHUNK,
                            math.ceil(spec["n_draws"] / MONTECARLO_PROGRESS_STEPS))
    try:
        finance.MonteCarloSpec(**spec)
    except ValueError as exc:
        field = str(exc).split(" ", 1)[0]
        raise InvalidInput(str(exc), field=field if field in spec else "body") from None
    return spec


def create_montecarlo_run(session: Session, case_id: int, body: Mapping[str, Any],
                          user_id: int | None = None) -> tuple[Job, FinanceMonteCarloRun]:
    """Add a PENDING job and its run row for a case (flushed, not committed).

    The caller commits, then sends :data:`MONTECARLO_TASK` with ``job.params``
    (:func:`fondo.jobs.launch`).
    """
    get_case(session, case_id)
    spec = montecarlo_spec(body)
    job = create_job(session, MONTECARLO_JOB_KIND, {"case_id": case_id, "spec": spec}, user_id)
    job.total = spec["n_draws"]
    run = FinanceMonteCarloRun(case_id=case_id, job_id=job.id, spec=spec, created_by_id=user_id)
    session.add(run)
    session.flush()
    job.params = {"case_id": case_id, "run_id": run.id, "spec": spec}
    job.result_url = None
    session.flush()
    return job, run


def montecarlo_run_url(case_id: int, run_id: int) -> str:
    """Where a run's summary is served."""
    return f"/api/v1/finance/cases/{case_id}/montecarlo/{run_id}"


def montecarlo_run_json(session: Session, run: FinanceMonteCarloRun) -> dict[str, Any]:
    """A run with its job's state and progress and, when finished, its summary."""
    job = session.get(Job, run.job_id)
    return {
        "id": run.id,
        "case_id": run.case_id,
        "task_id": run.job_id,
        "state": job.state.value if job is not None else run.status.value,
        "progress": {"done": job.done, "total": job.total, "stage": job.stage} if job else None,
        "error": job.error if job is not None else None,
        "spec": run.spec,
        "summary": run.summary,
        "created_by_id": run.created_by_id,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "links": {"self": montecarlo_run_url(run.case_id, run.id),
                  "task": f"/api/v1/tasks/{run.job_id}"},
    }


def list_montecarlo_runs(session: Session, case_id: int) -> list[FinanceMonteCarloRun]:
    """Runs of a case, newest first."""
    get_case(session, case_id)
    query = (select(FinanceMonteCarloRun).where(FinanceMonteCarloRun.case_id == case_id)
             .order_by(FinanceMonteCarloRun.id.desc()))
    return list(session.scalars(query))


def get_montecarlo_run(session: Session, case_id: int, run_id: int) -> FinanceMonteCarloRun:
    """One run of a case, or :class:`NotFound`."""
    run = session.get(FinanceMonteCarloRun, run_id)
    if run is None or run.case_id != case_id:
        raise NotFound(f"No Monte Carlo run {run_id} of finance case {case_id}.")
    return run


def run_montecarlo_for_case(request: Mapping[str, Any], spec: Mapping[str, Any],
                            on_progress: Callable[[int, int], None] | None = None
                            ) -> dict[str, Any]:
    """Run the engine's Monte Carlo over a stored request; the strict-JSON summary.

    Raises
    ------
    InvalidInput
        A percentile of the summary is infinite (an overflow): the task fails with this
        reason and stores no summary.
    """
    inputs = finance.CaseInputs.from_dict(request)
    result = finance.run_montecarlo(inputs, finance.MonteCarloSpec(**spec),
                                    on_progress=on_progress)
    summary = result.summary()
    where = non_finite_path(summary, nan_ok=True)
    if where is not None:
        raise InvalidInput(f"The Monte Carlo summary is not a finite number ({where}).",
                           field="body")
    return _strict(summary)


def tornado_json(row: FinanceCase, holder: str | None = None) -> dict[str, Any]:
    """The tornado table of a stored case (one vectorized batch; cheap enough to serve live)."""
    inputs = finance.CaseInputs.from_dict(row.request)
    try:
        rows = finance.tornado(inputs, holder=holder)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="holder") from None
    equity = [t.name for t in inputs.tranches if t.is_equity]
    return {"case_id": row.id, "holder": holder or equity[0], "rows": _strict(rows)}


# --------------------------------------------------------------------------- election


def depreciation_election_json(row: FinanceCase, objective: str | None = None) -> dict[str, Any]:
    """The depreciation rate (up to 100 % a year) that maximises an after-tax NPV of a stored case.

    ``objective`` is ``npv_usd`` (after-tax project NPV, the default) or ``equity_npv_usd``.
    Nothing is stored (like the tornado, it is computed when asked).

    Raises
    ------
    InvalidInput
        ``objective`` unknown (field ``objective``), or no rate gives a case the model accepts.
    """
    objective = objective or ELECTION_OBJECTIVES[0]
    if objective not in ELECTION_OBJECTIVES:
        raise InvalidInput(f"must be one of {', '.join(ELECTION_OBJECTIVES)}; got {objective!r}",
                           field="objective")
    inputs = finance.CaseInputs.from_dict(row.request)
    try:
        answer = best_depreciation_rate(inputs, objective=objective)
    except finance.FinanceInputError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None
    return {"case_id": row.id} | _strict(answer)


# --------------------------------------------------------------------------- warm-up

#: The case the warm-up runs: every kind of tranche, three currencies with FX volatility,
#: a guarantee, P90 energy (illustrative inputs, not data). Running it compiles (or loads
#: from numba's disk cache) every kernel a case, an election and a Monte Carlo use.
WARM_UP_CASE: dict[str, Any] = {
    "capacity_mw": 100, "energy_p50_mwh": 250_000, "energy_p90_mwh": 230_000, "life_years": 25,
    "capex_usd": 90e6, "capex_components_usd": {"generation": 80e6, "grid_connection": 10e6},
    "opex_usd_per_kw_year": 12, "ppa_price_usd_per_mwh": 45, "ppa_term_years": 15,
    "merchant_price_usd_per_mwh": 40, "discount_rate": 0.08, "ptu_payroll_usd_per_year": 100_000,
    "fx": {"MXN": {"spot_per_usd": 17.0, "mode": "parity", "interest_rate": 0.09,
                   "usd_interest_rate": 0.045, "volatility": 0.1},
           "CAD": {"spot_per_usd": 1.38, "volatility": 0.05}},
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "rate": 0.07, "tenor_years": 18, "target_dscr": 1.3,
         "max_gearing": 0.7, "fee": 0.01},
        {"name": "Concessional", "kind": "concessional_debt", "currency": "MXN", "rate": 0.02,
         "tenor_years": 20, "grace_years": 3, "share": 0.1},
        {"name": "Guarantee", "kind": "guarantee", "currency": "MXN", "covers": "Senior",
         "coverage": 0.5, "fee": 0.005},
        {"name": "Equity", "kind": "equity", "currency": "CAD", "share": 0.7},
        {"name": "First loss", "kind": "first_loss_equity", "share": 0.3},
    ],
}
#: Draws of the warm-up Monte Carlo (two chunks: the chunked path, compiled once). [draws]
WARM_UP_DRAWS = 200


def warm_up() -> dict[str, float]:
    """Compile (or load from numba's cache) every finance kernel before serving.

    ``fondo serve``, ``fondo worker`` and gunicorn's app (:mod:`web.wsgi`) call it at start,
    before they say they are ready, so the first case and the first Monte Carlo after start
    are as fast as the hundredth (issue 12). The compiled code is cached on disk
    (``numba.njit(cache=True)``): the first start after an install compiles, later starts
    load. Returns the seconds each step took.
    """
    import time

    timings: dict[str, float] = {}
    start = time.perf_counter()
    inputs = finance.CaseInputs.from_dict(WARM_UP_CASE)
    result = finance.run_case(inputs)
    result.to_dict()
    timings["case_s"] = time.perf_counter() - start
    start = time.perf_counter()
    finance.run_montecarlo(inputs, finance.MonteCarloSpec(n_draws=WARM_UP_DRAWS, chunk=WARM_UP_DRAWS // 2,
                                                          capex_sigma=0.1, opex_sigma=0.1, price_sigma=0.1))
    finance.tornado(inputs)
    finance.returns.irr_roots([-100.0, 230.0, -132.0])
    timings["montecarlo_s"] = time.perf_counter() - start
    return timings
