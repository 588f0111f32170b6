"""Finance case pages under ``/finance``: the list, a short form that builds a case from a
project and its yield study (the capital stack as editable tranches), the result with its
metrics, cash flows, charts and tornado, and Monte Carlo runs with a progress bar.

The form asks for a handful of fields; the rest of the 37 fields of
:class:`fondo.finance.schemas.FinanceCaseRequestSchema` are the engine's own defaults
(tax: :data:`finance.tax.ISR_RATE`, :data:`~finance.tax.PTU_RATE`) or come from the project
and its study: capacity from the project, P50/P90 energy from the study
(``study_id``), CAPEX and fixed O&M from the sourced cost parameters of
:mod:`siting.parameters` (IRENA 2024, NREL ATB 2023) times the project's capacity. Prices,
life, discount rate and the capital stack start from the demo's assumptions
(:data:`fondo.fund.demo.DEMO_CASE_ASSUMPTIONS`), shown as assumptions for the analyst to
change. The body is loaded by the API's schema (:func:`fondo.request_body.load_request`)
and stored by :func:`fondo.finance.service.create_case`, as ``POST /api/v1/finance/cases``
does; a refused form is shown again with the error beside its field and nothing stored.
Stored cases are not changed: *edit* opens the form filled from a case and stores a new one.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from finance.inputs import TRANCHE_KINDS
from fondo.accounts.models import Role
from fondo.errors import FondoError, InvalidInput
from fondo.finance import service as svc
from fondo.finance.schemas import FinanceCaseRequestSchema, MonteCarloRequestSchema
from fondo.fund.demo import DEMO_CASE_ASSUMPTIONS
from fondo.fund import service as fund_service
from fondo.fund.projects import studies_json
from fondo.fund.service import Project
from fondo.jobs import JobState, launch
from fondo.request_body import load_request
from siting.parameters import PV_COSTS, WIND_COSTS
from web import work_charts
from web.context import celery_app, db
from web.i18n import page_gettext as _
from web.pages import page_roles
from web.work_labels import work_label

bp = Blueprint("finance_pages", __name__, url_prefix="/finance")
bp.add_app_template_global(work_label, "work_label")

#: Who uses the finance pages: those who may write cases (``FINANCE_WRITE_ROLES``).
FINANCE_PAGE_ROLES = (Role.ANALYST, Role.OFFICER)
#: Who reads a case's result pages (``FINANCE_READ_ROLES``: investors, their funds' cases
#: only, read-only).
FINANCE_READ_PAGE_ROLES = (Role.ANALYST, Role.OFFICER, Role.INVESTOR)
#: Case fields of the form: (name, kind), kind ``number`` or ``integer``.
CASE_FIELDS = (("capacity_mw", "number"), ("energy_p50_mwh", "number"),
               ("energy_p90_mwh", "number"), ("capex_usd", "number"),
               ("opex_usd_per_kw_year", "number"), ("ppa_price_usd_per_mwh", "number"),
               ("ppa_term_years", "integer"), ("merchant_price_usd_per_mwh", "number"),
               ("life_years", "integer"), ("discount_rate", "number"))
#: Tranche fields of the form (each tranche one row).
TRANCHE_FIELDS = (("rate", "number"), ("tenor_years", "integer"), ("target_dscr", "number"),
                  ("max_gearing", "number"), ("share", "number"))
#: Kinds of tranche offered in the form: the engine's ``TRANCHE_KINDS`` but the guarantee,
#: whose cover (``covers``, ``coverage``) the row does not hold (a guarantee stays an API
#: field; a case edited from one keeps it in the row's hidden fields).
FORM_TRANCHE_KINDS = tuple(k for k in TRANCHE_KINDS if k != "guarantee")
#: Empty tranche rows offered below the case's own (to add a tranche).
EXTRA_TRANCHE_ROWS = 1
#: Columns of the cash-flow table on the page (the CSV and XLSX hold them all).
CASHFLOW_COLUMNS = ("energy_mwh", "revenue_usd", "opex_usd", "ebitda_usd", "tax_usd",
                    "cfads_usd", "senior_debt_service_usd", "dscr", "debt_balance_usd",
                    "distributions_usd")
#: Metrics shown on the result page: (key, format) with format ``percent``, ``usd``,
#: ``ratio`` or ``price``.
METRICS = (("project_irr_after_tax", "percent"), ("equity_irr", "percent"),
           ("npv_usd", "usd"), ("equity_npv_usd", "usd"), ("min_dscr_senior", "ratio"),
           ("avg_dscr_senior", "ratio"), ("llcr_senior", "ratio"),
           ("lcoe_real_usd_per_mwh", "price"), ("lcoe_nominal_usd_per_mwh", "price"),
           ("debt_usd", "usd"), ("equity_usd", "usd"), ("gearing", "percent"),
           ("payback_years", "years"))
#: Monte Carlo fields of the form.
MONTECARLO_FIELDS = (("n_draws", "integer"), ("seed", "integer"), ("price_sigma", "number"),
                     ("capex_sigma", "number"), ("opex_sigma", "number"))
#: Charts of the result page.
CHARTS = ("cashflows", "tornado")


def defaults_for(project: Project | None, study_id: int | None) -> dict[str, Any]:
    """The form's starting values for ``project`` (and its study), as a case request."""
    body = copy.deepcopy({k: v for k, v in DEMO_CASE_ASSUMPTIONS.items()})
    for tranche in body["tranches"]:  # the demo's capital stack, named for a real case
        if tranche["kind"] == "equity":
            tranche["name"] = _("Fund equity")
    if project is None:
        return body
    costs = PV_COSTS if getattr(project.technology, "value", project.technology) == "pv" \
        else WIND_COSTS
    capacity_kw = (project.capacity_ac_mw or 0.0) * 1000.0  # both sources per kW AC
    body.update({"name": _("%(project)s — case", project=project.name),
                 "project_id": project.id, "capacity_mw": project.capacity_ac_mw,
                 "opex_usd_per_kw_year": costs.fixed_operating_cost_usd_per_kw_year})
    if capacity_kw:
        body["capex_usd"] = costs.capital_cost_usd_per_kw * capacity_kw
    if study_id is not None:
        body["study_id"] = study_id
    return body


def _study_choices(project_id: int | None) -> list[dict[str, Any]]:
    return studies_json(db(), project_id) if project_id else []


def _default_study(studies: list[dict[str, Any]]) -> int | None:
    approved = [s["study_id"] for s in studies if s["approved"]]
    return (approved or [s["study_id"] for s in studies] or [None])[-1]


def _form_page(body: dict[str, Any], errors: dict[str, str], status: int = 200,
               source_case: int | None = None):
    projects = db().scalars(select(Project).order_by(Project.id)).all()
    studies = _study_choices(body.get("project_id"))
    tranches = list(body.get("tranches") or []) + [{} for _ in range(EXTRA_TRANCHE_ROWS)]
    return render_template("finance/form.html", body=body, errors=errors, projects=projects,
                           studies=studies, tranches=tranches, case_fields=CASE_FIELDS,
                           tranche_fields=TRANCHE_FIELDS, kinds=FORM_TRANCHE_KINDS,
                           source_case=source_case, tranche_extra=tranche_extra,
                           kept={k: v for k, v in body.items() if k not in FORM_KEYS}), status


@bp.get("/")
@page_roles(*FINANCE_PAGE_ROLES)
def index():
    """Stored cases, newest first."""
    rows = [svc.case_summary_json(r) for r in svc.list_cases(db())]
    return render_template("finance/list.html", cases=rows, fmt=fmt)


@bp.get("/new")
@page_roles(*FINANCE_PAGE_ROLES)
def new():
    """The form, filled from the chosen project (``?project_id=``) and its study."""
    project = None
    raw = request.args.get("project_id", "")
    if raw:
        try:
            project = db().get(Project, int(raw))
        except ValueError:
            project = None
        if project is None:
            abort(404)
    study = _default_study(_study_choices(project.id)) if project else None
    return _form_page(defaults_for(project, study), {})


@bp.get("/<int:case_id>/edit")
@page_roles(*FINANCE_PAGE_ROLES)
def edit(case_id: int):
    """The form filled from a stored case (saving stores a new case)."""
    row = svc.get_case(db(), case_id)
    body = copy.deepcopy(dict(row.request))
    body.update({"name": _("%(name)s (edited)", name=row.name or ""),
                 "project_id": row.project_id, "study_id": row.study_id})
    if row.study_id is not None:  # the study gives the energy again
        body.pop("energy_p50_mwh", None)
        body.pop("energy_p90_mwh", None)
    return _form_page(body, {}, source_case=case_id)


def _convert(raw: str, kind: str) -> float | int:
    text = raw.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    return float(text) if kind == "number" else int(text)


def parse_form(form) -> tuple[dict[str, Any], dict[str, str]]:
    """The case request of a submitted form, or the errors of its fields (form names:
    ``capex_usd``, ``tranches-0-rate``…)."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    name = form.get("name", "").strip()
    if name:
        body["name"] = name
    for key in ("project_id", "study_id"):
        raw = form.get(key, "").strip()
        if raw:
            try:
                body[key] = int(raw)
            except ValueError:
                errors[key] = _("Choose from the list.")
    for key, kind in CASE_FIELDS:
        raw = form.get(key, "").strip()
        if not raw:
            continue
        try:
            body[key] = _convert(raw, kind)
        except ValueError:
            errors[key] = _("Enter a number.") if kind == "number" else _("Enter a whole number.")
    tranches: list[dict[str, Any]] = []
    index = 0
    while f"tranches-{index}-name" in form:
        prefix = f"tranches-{index}-"
        row_name = form.get(prefix + "name", "").strip()
        index += 1
        if not row_name:
            continue  # an empty row adds nothing
        tranche: dict[str, Any] = {"name": row_name, "kind": form.get(prefix + "kind", "")}
        for key, kind in TRANCHE_FIELDS:
            raw = form.get(prefix + key, "").strip()
            if not raw:
                continue
            try:
                tranche[key] = _convert(raw, kind)
            except ValueError:
                errors[prefix + key] = (_("Enter a number.") if kind == "number"
                                        else _("Enter a whole number."))
        extra = form.get(prefix + "extra", "").strip()
        if extra:  # the row's fields the form does not show (fee, currency, sizing basis…)
            try:
                kept = json.loads(extra)
            except ValueError:
                kept = None
            if not isinstance(kept, dict):
                errors[prefix + "name"] = _("Not accepted: %(reason)s", reason="extra")
            else:
                tranche = {**{k: v for k, v in kept.items() if k not in ("name", "kind")},
                           **tranche}
        tranches.append(tranche)
    body["tranches"] = tranches
    return body, errors


#: Request keys the form itself holds (everything else is kept from the base request).
FORM_KEYS = frozenset({"name", "project_id", "study_id", "tranches",
                       *(key for key, _kind in CASE_FIELDS)})


def kept_fields(session, source_case: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """The fields the form does not show, kept from the edited case (``source_case``) or
    from the defaults of a new one (degradation, escalations, construction years…)."""
    base: dict[str, Any]
    if source_case:
        try:
            base = dict(svc.get_case(session, int(source_case)).request)
        except (ValueError, FondoError):
            base = {}
    else:
        base = defaults_for(None, None)
    return {k: v for k, v in base.items() if k not in FORM_KEYS}


def tranche_extra(tranche: dict[str, Any]) -> str:
    """A tranche's fields that the form's row does not show, as JSON (kept hidden)."""
    shown = {"name", "kind", *(key for key, _kind in TRANCHE_FIELDS)}
    return json.dumps({k: v for k, v in tranche.items() if k not in shown})


def form_field(error_field: str | None) -> str:
    """The form input an API field names (``tranches[1].rate`` → ``tranches-1-rate``)."""
    field = str(error_field or "body")
    return field.replace("[", "-").replace("].", "-").replace("]", "")


@bp.post("/new")
@page_roles(*FINANCE_PAGE_ROLES)
def create():
    """Run and store the case; a bad field shows the form again with the error beside it."""
    body, errors = parse_form(request.form)
    source = request.form.get("source_case") or None
    session = db()
    body = {**kept_fields(session, source, body), **body}
    if errors:
        return _form_page(body, errors, 422, source)
    try:
        row = svc.create_case(session, load_request(FinanceCaseRequestSchema(), body),
                              user_id=current_user.id)
        session.commit()
    except FondoError as exc:
        session.rollback()
        messages = (exc.extra or {}).get("errors") or {}
        for name, texts in messages.items():
            errors[form_field(name)] = _("Not accepted: %(reason)s", reason=" ".join(texts))
        errors.setdefault(form_field(exc.field), _("Not accepted: %(reason)s",
                                                   reason=exc.detail))
        return _form_page(body, errors, exc.status, source)
    return redirect(url_for("finance_pages.detail", case_id=row.id), 303)


def visible_case(session, case_id: int):
    """The case if the user may read it; for an investor a case outside their funds is
    the same 404 as an unknown id (as in the API)."""
    fund_ids = None
    if current_user.role is Role.INVESTOR:
        fund_ids = fund_service.fund_ids_of_user(session, current_user.id)
    return svc.get_case(session, case_id, fund_ids=fund_ids)


def can_write() -> bool:
    """Whether the user may create cases and start Monte Carlo runs."""
    return current_user.role is not Role.INVESTOR


def fmt(value: Any, kind: str) -> str:
    """A metric in the page's locale."""
    from web.i18n import number, percent

    if value is None:
        return "—"
    if kind == "percent":
        return percent(value, 2)
    if kind == "usd":
        return f"{number(value, 0)} USD"
    if kind == "price":
        return f"{number(value, 2)} USD/MWh"
    if kind == "years":
        return number(value, 1)
    return number(value, 2)


def metric_labels() -> dict[str, str]:
    """The metrics and cash-flow columns in words (the key stays in the CSV and the API)."""
    return {"project_irr_after_tax": _("Project IRR after tax"), "equity_irr": _("Equity IRR"),
            "npv_usd": _("NPV [USD]"), "equity_npv_usd": _("Equity NPV [USD]"),
            "min_dscr_senior": _("Minimum senior DSCR"),
            "avg_dscr_senior": _("Average senior DSCR"), "llcr_senior": _("Senior LLCR"),
            "lcoe_real_usd_per_mwh": _("Real LCOE"), "lcoe_nominal_usd_per_mwh": _("Nominal LCOE"),
            "debt_usd": _("Debt [USD]"), "equity_usd": _("Equity [USD]"),
            "gearing": _("Gearing"), "payback_years": _("Payback [years]"),
            "energy_mwh": _("Energy [MWh]"), "revenue_usd": _("Revenue"),
            "opex_usd": _("Operating costs"), "ebitda_usd": _("EBITDA"),
            "tax_usd": _("Taxes (ISR and PTU)"), "cfads_usd": _("CFADS"),
            "senior_debt_service_usd": _("Senior debt service"), "dscr": _("DSCR"),
            "debt_balance_usd": _("Debt balance"), "distributions_usd": _("Equity flows")}


bp.add_app_template_global(metric_labels, "metric_labels")
bp.add_app_template_global(can_write, "finance_can_write")


def driver_labels() -> dict[str, str]:
    """The tornado's drivers in words."""
    return {"energy": _("Energy"), "capex": _("CAPEX"), "opex": _("Operating costs"),
            "ppa_price": _("PPA price"), "merchant_price": _("Merchant price"),
            "interest_rate": _("Interest rate"), "price": _("Prices"),
            "cel_price": _("CEL price"), "fx": _("Exchange rate")}


@bp.get("/<int:case_id>")
@page_roles(*FINANCE_READ_PAGE_ROLES)
def detail(case_id: int):
    """A case: metrics, tranches, cash flows, charts with their tables, tornado, Monte Carlo."""
    session = db()
    row = visible_case(session, case_id)
    case = svc.case_json(row)
    tornado = svc.tornado_json(row)
    runs = [svc.montecarlo_run_json(session, r) for r in svc.list_montecarlo_runs(session, case_id)]
    return render_template(
        "finance/detail.html", case=case, metrics=METRICS, fmt=fmt, tornado=tornado,
        drivers=driver_labels(), columns=CASHFLOW_COLUMNS, runs=runs,
        mc_fields=MONTECARLO_FIELDS, mc_defaults=svc.montecarlo_spec({}),
        errors={}, form={})


@bp.get("/<int:case_id>/charts/<name>.svg")
@page_roles(*FINANCE_READ_PAGE_ROLES)
def chart(case_id: int, name: str):
    """One chart of a case as SVG, labelled in the page's language."""
    if name not in CHARTS:
        abort(404)
    row = visible_case(db(), case_id)
    rows = row.result["cashflows"]
    if name == "cashflows":
        years = [r["year"] for r in rows]
        figure = work_charts.bar_lines_figure(
            years, {_("Revenue"): [r["revenue_usd"] for r in rows],
                    _("CFADS"): [r["cfads_usd"] for r in rows],
                    _("Senior debt service"): [r["senior_debt_service_usd"] for r in rows]},
            {_("Equity flows"): [r["distributions_usd"] for r in rows]},
            xlabel=_("Year"), ylabel=_("Million USD"), title=_("Annual cash flows"))
    else:
        tornado = svc.tornado_json(row)
        base = tornado["rows"][0]["base_irr"] if tornado["rows"] else 0.0
        figure = work_charts.tornado_figure(
            tornado["rows"], driver_labels(), base=base or 0.0,
            xlabel=_("Equity IRR [%]"), title=_("Sensitivity of the equity IRR"),
            low=_("Low case"), high=_("High case"))
    return Response(work_charts.render(figure, "svg"), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=300"})


@bp.post("/<int:case_id>/montecarlo")
@page_roles(*FINANCE_PAGE_ROLES)
def start_montecarlo(case_id: int):
    """Start a Monte Carlo run (the API's task) and show its progress."""
    session = db()
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, kind in MONTECARLO_FIELDS:
        raw = request.form.get(key, "").strip()
        if raw:
            try:
                body[key] = _convert(raw, kind)
            except ValueError:
                errors["mc-" + key] = _("Enter a number.")
    try:
        if errors:
            raise InvalidInput("bad form", field=next(iter(errors))[3:])
        job, run = svc.create_montecarlo_run(session, case_id,
                                             load_request(MonteCarloRequestSchema(), body),
                                             user_id=current_user.id)
        session.commit()
        launch(celery_app(), svc.MONTECARLO_TASK, job, job.params)
    except FondoError as exc:
        session.rollback()
        row = svc.get_case(session, case_id)
        errors.setdefault("mc-" + str(exc.field or "n_draws"),
                          _("Not accepted: %(reason)s", reason=exc.detail))
        runs = [svc.montecarlo_run_json(session, r)
                for r in svc.list_montecarlo_runs(session, case_id)]
        return render_template(
            "finance/detail.html", case=svc.case_json(row), metrics=METRICS, fmt=fmt,
            tornado=svc.tornado_json(row), drivers=driver_labels(), columns=CASHFLOW_COLUMNS,
            runs=runs, mc_fields=MONTECARLO_FIELDS, mc_defaults=svc.montecarlo_spec({}),
            errors=errors, form=dict(request.form)), exc.status if exc.status < 500 else 503
    return redirect(url_for("finance_pages.montecarlo", case_id=case_id, run_id=run.id), 303)


@bp.get("/<int:case_id>/montecarlo/<int:run_id>")
@page_roles(*FINANCE_READ_PAGE_ROLES)
def montecarlo(case_id: int, run_id: int):
    """A run: a progress bar following ``GET /api/v1/tasks/<id>``, then its summary."""
    session = db()
    row = visible_case(session, case_id)
    run = svc.get_montecarlo_run(session, case_id, run_id)
    session.refresh(run)
    out = svc.montecarlo_run_json(session, run)
    done = out["state"] == JobState.SUCCESS.value and out["summary"] is not None
    return render_template("finance/montecarlo.html", case=svc.case_summary_json(row), run=out,
                           done=done, fmt=fmt)


@bp.get("/<int:case_id>/montecarlo/<int:run_id>/irr.svg")
@page_roles(*FINANCE_READ_PAGE_ROLES)
def montecarlo_chart(case_id: int, run_id: int):
    """The distribution of each equity holder's IRR, P10/P50/P90 marked."""
    session = db()
    visible_case(session, case_id)
    run = svc.get_montecarlo_run(session, case_id, run_id)
    if not run.summary:
        abort(404)
    holder = request.args.get("holder") or next(iter(run.summary["equity_irr"]), None)
    percentiles = run.summary["equity_irr"].get(holder)
    if percentiles is None:
        abort(404)
    figure = work_charts.percentile_figure(
        percentiles, marked=("P10", "P50", "P90"), xlabel=_("Equity IRR [%]"),
        ylabel=_("Probability of a lower IRR [%]"),
        title=_("Equity IRR of %(holder)s: distribution", holder=holder))
    return Response(work_charts.render(figure, "svg"), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=300"})
