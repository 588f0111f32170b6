"""Screening pages: ``/screenings`` (the list and a new screening from a corridor or a drawn
polygon) and ``/screenings/<id>`` (its cells on the map and its summary).

The form is built from the same schema and defaults the API uses
(``GET /api/v1/map/screening-parameters/<technology>``); the page starts the screening with
``POST /api/v1/screenings`` and follows ``GET /api/v1/tasks/<id>`` with a progress bar. The
summary — exclusions by reason, the supply-curve chart (SVG drawn on the server) with its
table, the best cells and the exports — is rendered here, escaped by Jinja, and inserted by
the page's script when the run has finished.
"""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user, login_required

from fondo.accounts.models import Role
from fondo.jobs import JobState
from fondo.maps import service as map_service
from fondo.screening import service as screening_service
from web.context import db, settings
from web.map import _, _with_csp, map_config, render, require_map_role

bp = Blueprint("screening_pages", __name__)

#: Corridors offered by the form (ids of ``POST /api/v1/screenings``'s ``corridor``).
CORRIDORS = (("bajio", "Bajío"), ("noreste", "Noreste"))


@bp.get("/screenings")
@login_required
def screenings_page():
    """Stored screenings and the form of a new one (officers and admins start them)."""
    require_map_role()
    session = db()
    runs = [screening_service.screening_json(session, r)
            for r in screening_service.list_screenings(session)]
    can_start = current_user.role in (Role.OFFICER, Role.ADMIN)
    html = render("screenings/list.html", runs=runs, corridors=CORRIDORS,
                           can_start=can_start, request_rows=map_service.request_rows(),
                           config=map_config({"mode": "screening"}))
    return _with_csp(html)


@bp.get("/screenings/<int:screening_id>")
@login_required
def screening_page(screening_id: int):
    """One screening: its cells on the map (click a cell for its reasons) and its summary."""
    require_map_role()
    session = db()
    run = screening_service.get_screening(session, screening_id)
    info = screening_service.screening_json(session, run)
    html = render("screenings/detail.html", run=info,
                           summary_html=_summary_html(run, info),
                           config=map_config({"mode": "result", "screening": run.id}))
    return _with_csp(html)


def _summary_html(run, info) -> str:
    if run.status is not JobState.SUCCESS:
        return ""
    _svg, corridors, rows = map_service.supply_curve_chart(settings(), run, _chart_labels(run.id))
    return render("screenings/_summary.html", run=info, corridors=corridors,
                           curve_rows=rows, summary=info.get("summary") or {})


@bp.get("/screenings/<int:screening_id>/summary")
@login_required
def screening_summary(screening_id: int):
    """The summary panel of a finished screening, as an HTML fragment (409 while running)."""
    require_map_role()
    session = db()
    run = screening_service.get_screening(session, screening_id)
    if run.status is not JobState.SUCCESS:
        return Response(_("The screening has not finished."), status=409,
                        mimetype="text/plain")
    return _summary_html(run, screening_service.screening_json(session, run))


def _chart_labels(screening_id: int) -> dict[str, str]:
    return {"title": _("Supply curve, screening %(id)s", id=screening_id),
            "x": _("Cumulative available capacity [GW]"),
            "y": _("LCOE incl. grid connection [USD/MWh]")}


@bp.get("/screenings/<int:screening_id>/supply-curve.svg")
@login_required
def supply_curve_svg(screening_id: int):
    """The supply-curve chart of a finished screening (SVG, labels in the page's language)."""
    require_map_role()
    run = screening_service.get_screening(db(), screening_id)
    svg, _corridors, _rows = map_service.supply_curve_chart(settings(), run,
                                                            _chart_labels(screening_id))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=600"})
