"""Finance cases (issue 4): create → validate → run → store; exports; Monte Carlo launch.

The finance engine (:mod:`finance`) does the validation and the arithmetic; this module
resolves what only the shell knows (a project, a stored yield study's energy), stores the
request and the engine's answer, and serves them as JSON, CSV and XLSX. Nothing is stored
unless the engine accepted the request: every rejection is an
:class:`~fondo.errors.InvalidInput` whose ``field`` names the request field at fault.

The JSON answer is strict JSON: a number the engine cannot give (an IRR without a sign
change, a DSCR without debt) is ``null`` with its reason in ``metrics.notes`` (or
``irr_reason`` of a tranche), never ``NaN``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import finance
from finance.inputs import CURRENCIES, TRANCHE_KINDS
from finance.tax import DEPRECIATION_METHODS
from fondo.errors import InvalidInput, NotFound, invalid_from
from fondo.fund.service import Project
from fondo.jobs import Job, JobState
from fondo.studies.service import YieldStudy

__all__ = [
    "CURRENCIES",
    "DEPRECIATION_METHODS",
    "TRANCHE_KINDS",
    "SHELL_FIELDS",
    "MAX_DRAWS",
    "create_case",
    "evaluate_request",
    "get_case",
    "list_cases",
    "case_json",
    "case_summary_json",
    "cashflows_csv",
    "cashflows_xlsx",
    "parse_montecarlo_request",
    "create_montecarlo_run",
    "montecarlo_run_json",
    "list_montecarlo_runs",
    "get_montecarlo_run",
    "tornado_json",
    "MONTECARLO_TASK",
]

#: Request fields the shell reads itself and does not hand to the engine.
SHELL_FIELDS = ("name", "project_id", "study_id")
#: Largest Monte Carlo run accepted from a request (a 10 000-draw run takes ~0.1 s of
#: engine time; 100 000 keeps one task within seconds). [draws]
MAX_DRAWS = 100_000
#: Progress steps a Monte Carlo run reports (draws are evaluated in this many chunks,
#: each vectorized). [-]
MONTECARLO_PROGRESS_STEPS = 10
#: Smallest chunk of draws (smaller chunks waste the vectorization). [draws]
MIN_MONTECARLO_CHUNK = 100
#: Name of the Celery task that runs a Monte Carlo.
MONTECARLO_TASK = "fondo.finance.montecarlo"
#: Job kind of a Monte Carlo run.
MONTECARLO_JOB_KIND = "finance_montecarlo"
#: Largest length of a case name. [characters]
MAX_NAME_LENGTH = 200


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


def _optional_id(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{key} must be an integer id, got {value!r}", field=key)
    return value


def _resolve(session: Session, body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a request into the engine's request and the shell's fields (checked)."""
    if not isinstance(body, Mapping):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_LENGTH):
        raise InvalidInput(f"name must be a string of at most {MAX_NAME_LENGTH} characters",
                           field="name")
    project_id = _optional_id(body, "project_id")
    study_id = _optional_id(body, "study_id")
    if project_id is not None and session.get(Project, project_id) is None:
        raise InvalidInput(f"No project with id {project_id}.", field="project_id")
    request = {k: v for k, v in body.items() if k not in SHELL_FIELDS}
    if study_id is not None:
        study = session.get(YieldStudy, study_id)
        if study is None:
            raise InvalidInput(f"No yield study with id {study_id}.", field="study_id")
        if study.status is not JobState.SUCCESS or study.energy_p50_mwh is None:
            raise InvalidInput(f"Yield study {study_id} has no P50 energy (yet).", field="study_id")
        for key in ("energy_p50_mwh", "energy_p90_mwh"):
            if request.get(key) is not None:
                raise InvalidInput(f"Give either study_id or {key}, not both: the study "
                                   f"supplies the energy.", field=key)
        request["energy_p50_mwh"] = float(study.energy_p50_mwh)
        if study.energy_p90_mwh is not None:
            request["energy_p90_mwh"] = float(study.energy_p90_mwh)
    shell = {"name": name, "project_id": project_id, "study_id": study_id}
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
        result = finance.run_case(inputs).to_dict()
    except ValueError as exc:  # a case the engine accepted but cannot evaluate
        raise invalid_from(exc, "body") from None
    return inputs, _strict(result)


def create_case(session: Session, body: Any, user_id: int | None = None, *,
                is_demo: bool = False) -> Any:
    """Validate, run and store a case (flushed, not committed).

    Parameters
    ----------
    session : Session
        Database session; the caller commits.
    body : Any
        The decoded request (issue 4 contract names, plus ``name``, ``project_id``,
        ``study_id``). Fields the engine knows beyond the contract pass through to it.
    user_id : int, optional
        Who creates the case.

    Returns
    -------
    FinanceCase
        The stored row.
    """
    from fondo.finance.models import FinanceCase

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


def get_case(session: Session, case_id: int) -> Any:
    """The stored case, or :class:`NotFound`."""
    from fondo.finance.models import FinanceCase

    row = session.get(FinanceCase, case_id)
    if row is None:
        raise NotFound(f"No finance case with id {case_id}.")
    return row


def list_cases(session: Session, project_id: int | None = None) -> list[Any]:
    """Stored cases, newest first (optionally of one project)."""
    from fondo.finance.models import FinanceCase

    query = select(FinanceCase).order_by(FinanceCase.id.desc())
    if project_id is not None:
        query = query.where(FinanceCase.project_id == project_id)
    return list(session.scalars(query))


def _links(case_id: int) -> dict[str, str]:
    base = f"/api/v1/finance/cases/{case_id}"
    return {"self": base, "cashflows_csv": f"{base}/cashflows.csv",
            "cashflows_xlsx": f"{base}/cashflows.xlsx", "montecarlo": f"{base}/montecarlo",
            "tornado": f"{base}/tornado"}


def case_summary_json(row: Any) -> dict[str, Any]:
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


def case_json(row: Any) -> dict[str, Any]:
    """The JSON of a stored case: the API's and the command line's answer."""
    return case_summary_json(row) | {
        "request": row.request,
        "tranches": row.result["tranches"],
        "cashflows": row.result["cashflows"],
    }


# --------------------------------------------------------------------------- exports


def _columns(rows: list[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


def cashflows_csv(row: Any) -> str:
    """The annual cash-flow table as CSV: one row per model year, unit-named columns.

    Empty cells are values that do not exist (the DSCR of a year without debt service).
    """
    rows = row.result["cashflows"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = _columns(rows)
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else repr(r[c]) if isinstance(r[c], float)
                         else r[c] for c in columns])
    return out.getvalue()


#: Units of metric names by suffix (longest first), for the XLSX metrics sheet.
_UNIT_SUFFIXES = (
    ("_usd_per_mwh", "USD/MWh"),
    ("_usd", "USD"),
    ("_mwh", "MWh"),
    ("_years", "year"),
    ("_mw", "MW"),
)


def _unit(name: str) -> str:
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    if "irr" in name or name in {"gearing", "discount_rate"}:
        return "fraction (1/year)" if "irr" in name else "fraction"
    if "dscr" in name or name == "llcr":
        return "-"
    return ""


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            out.extend(_flatten(v, f"{prefix}[{i}]"))
        return out
    return [(prefix, value)]


def cashflows_xlsx(row: Any) -> bytes:
    """The case as an XLSX workbook: sheets ``metrics``, ``cashflows``, ``tranches``, ``inputs``.

    Values are the stored JSON's, unrounded; a value that does not exist is an empty cell.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "metrics"
    ws.append(["metric", "value", "unit"])
    metrics = row.result["metrics"]
    notes = metrics.get("notes") or {}
    for key, value in metrics.items():
        if key == "notes":
            continue
        ws.append([key, value, _unit(key)])
    if notes:
        ws.append([])
        ws.append(["note", "reason"])
        for key, reason in notes.items():
            ws.append([key, reason])
    for cell in ws[1]:
        cell.font = bold
    ws.column_dimensions["A"].width = 32

    ws = wb.create_sheet("cashflows")
    rows = row.result["cashflows"]
    columns = _columns(rows)
    ws.append(columns)
    for r in rows:
        ws.append([r.get(c) for c in columns])
    for cell in ws[1]:
        cell.font = bold
    ws.freeze_panes = "B2"

    ws = wb.create_sheet("tranches")
    tranches = row.result["tranches"]
    columns = _columns(tranches)
    ws.append(columns)
    for t in tranches:
        ws.append([t.get(c) for c in columns])
    for cell in ws[1]:
        cell.font = bold

    ws = wb.create_sheet("inputs")
    ws.append(["field", "value"])
    for key, value in _flatten(row.request):
        ws.append([key, value])
    for key in SHELL_FIELDS:
        if getattr(row, key) is not None:
            ws.append([key, getattr(row, key)])
    for cell in ws[1]:
        cell.font = bold
    ws.column_dimensions["A"].width = 36

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- risk


_SPEC_FLOATS = ("price_sigma", "capex_sigma", "opex_sigma", "energy_sigma", "breach_dscr")
_SPEC_INTS = ("n_draws", "seed", "chunk")


def parse_montecarlo_request(body: Any) -> dict[str, Any]:
    """Check a Monte Carlo request and return the full spec (defaults filled in).

    Fields: ``n_draws`` (default 10 000, at most :data:`MAX_DRAWS`), ``seed`` (0),
    ``price_sigma``, ``capex_sigma``, ``opex_sigma`` (log standard deviations, 0),
    ``energy_sigma`` (from P50/P90 when absent), ``breach_dscr`` (1.0) and ``chunk``
    (draws per progress step, chosen when absent).
    """
    body = {} if body is None else body
    if not isinstance(body, Mapping):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    unknown = sorted(set(body) - set(_SPEC_FLOATS) - set(_SPEC_INTS))
    if unknown:
        raise InvalidInput(f"Unknown Monte Carlo field {unknown[0]!r}.", field=unknown[0])
    defaults = finance.MonteCarloSpec()
    spec: dict[str, Any] = {}
    for key in _SPEC_INTS:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{key} must be an integer, got {value!r}", field=key)
        spec[key] = value
    for key in _SPEC_FLOATS:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput(f"{key} must be a finite number, got {value!r}", field=key)
        spec[key] = float(value)
    n_draws = spec.setdefault("n_draws", defaults.n_draws)
    if not 1 <= n_draws <= MAX_DRAWS:
        raise InvalidInput(f"n_draws must be in [1, {MAX_DRAWS}], got {n_draws}", field="n_draws")
    spec.setdefault("chunk", max(MIN_MONTECARLO_CHUNK, math.ceil(n_draws / MONTECARLO_PROGRESS_STEPS)))
    for key in ("seed", "price_sigma", "capex_sigma", "opex_sigma", "energy_sigma", "breach_dscr"):
        spec.setdefault(key, getattr(defaults, key))
    try:
        finance.MonteCarloSpec(**spec)
    except ValueError as exc:
        field = str(exc).split(" ", 1)[0]
        raise InvalidInput(str(exc), field=field if field in spec else "body") from None
    return spec


def create_montecarlo_run(session: Session, case_id: int, body: Any,
                          user_id: int | None = None) -> tuple[Job, Any]:
    """Add a PENDING job and its run row for a case (flushed, not committed).

    The caller commits, then sends :data:`MONTECARLO_TASK` with ``job.params``
    (:func:`fondo.jobs.launch`).
    """
    from fondo.jobs import create_job
    from fondo.finance.models import FinanceMonteCarloRun

    get_case(session, case_id)
    spec = parse_montecarlo_request(body)
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


def montecarlo_run_json(session: Session, run: Any) -> dict[str, Any]:
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
        "links": {"self": montecarlo_run_url(run.case_id, run.id), "task": f"/api/v1/tasks/{run.job_id}"},
    }


def list_montecarlo_runs(session: Session, case_id: int) -> list[Any]:
    """Runs of a case, newest first."""
    from fondo.finance.models import FinanceMonteCarloRun

    get_case(session, case_id)
    query = (select(FinanceMonteCarloRun).where(FinanceMonteCarloRun.case_id == case_id)
             .order_by(FinanceMonteCarloRun.id.desc()))
    return list(session.scalars(query))


def get_montecarlo_run(session: Session, case_id: int, run_id: int) -> Any:
    """One run of a case, or :class:`NotFound`."""
    from fondo.finance.models import FinanceMonteCarloRun

    run = session.get(FinanceMonteCarloRun, run_id)
    if run is None or run.case_id != case_id:
        raise NotFound(f"No Monte Carlo run {run_id} of finance case {case_id}.")
    return run


def run_montecarlo_for_case(request: Mapping[str, Any], spec: Mapping[str, Any],
                            on_progress=None) -> dict[str, Any]:
    """Run the engine's Monte Carlo over a stored request; the strict-JSON summary."""
    inputs = finance.CaseInputs.from_dict(request)
    result = finance.run_montecarlo(inputs, finance.MonteCarloSpec(**spec), on_progress=on_progress)
    return _strict(result.summary())


def tornado_json(row: Any, holder: str | None = None) -> dict[str, Any]:
    """The tornado table of a stored case (one vectorized batch; cheap enough to serve live)."""
    inputs = finance.CaseInputs.from_dict(row.request)
    try:
        rows = finance.tornado(inputs, holder=holder)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="holder") from None
    equity = [t.name for t in inputs.tranches if t.is_equity]
    return {"case_id": row.id, "holder": holder or equity[0], "rows": _strict(rows)}
