"""The officer map: ``/map`` (``/mapa`` redirects), and Leaflet served from its Python package.

Leaflet comes from ``xstatic-leaflet`` under ``/vendor/leaflet/``: with the default settings
the page makes no request off the machine, its base map being the bundled state and
municipal boundaries. ``FONDO_MAP_TILE_URL`` (an ``https://…/{z}/{x}/{y}.png`` URL such as
OpenStreetMap's) adds an online base map; the page's Content-Security-Policy then allows
images from that host only.

The page is HTML and a static script (``web/static/map/map.js``): every figure it shows comes
from the REST API (``/api/v1/map``, ``/api/v1/screenings``, ``/api/v1/sites``), called with
the session cookie and the CSRF token.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import xstatic.pkg.leaflet as xstatic_leaflet
from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from fondo.accounts.models import Role
from fondo.fund import service as fund_service
from fondo.maps import service as map_service
from web.context import db, settings
from web.translations.strings_map import ES, FR

bp = Blueprint("map_pages", __name__)

#: Roles that open the map (admins too); investors see the portfolio pages instead.
MAP_ROLES = (Role.OFFICER, Role.ANALYST, Role.ADMIN)
#: Leaflet files served (the package's folder holds nothing else the page needs).
LEAFLET_FILES = frozenset({"leaflet.js", "leaflet.css", "images/layers.png",
                           "images/layers-2x.png", "images/marker-icon.png",
                           "images/marker-icon-2x.png", "images/marker-shadow.png"})
#: Start view: the two corridors (Bajío and the northeast) in one screen. [°], [-]
START_CENTRE = (23.0, -101.5)
START_ZOOM = 6
#: Attribution of the online base map when ``MAP_TILE_URL`` is set (OSM's tile policy asks
#: for it on every map).
ONLINE_ATTRIBUTION = "© OpenStreetMap contributors"


def map_gettext(msgid: str, **variables: Any) -> str:
    """``gettext`` with a fallback to this feature's own Spanish/French strings (until the
    lead merges ``web/translations/strings_map.py`` into the catalogues)."""
    text = gettext(msgid, **variables)
    locale = str(get_locale() or "es")
    if text == (msgid % variables if variables else msgid) and locale in ("es", "fr"):
        table = ES if locale == "es" else FR
        if msgid in table:
            text = table[msgid] % variables if variables else table[msgid]
    return text


_ = map_gettext


def render(template: str, **context: Any) -> str:
    """A template of these pages, its texts through :func:`map_gettext`."""
    return render_template(template, _=map_gettext, **context)


def base_map_url() -> str | None:
    """The online base map's tile URL, or None (offline) when unset or not an http(s) URL
    with ``{z}``, ``{x}`` and ``{y}``."""
    url = settings().get("MAP_TILE_URL")
    if not url:
        return None
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if not all(key in str(url) for key in ("{z}", "{x}", "{y}")):
        return None
    return str(url)


def page_csp(tile_url: str | None) -> str:
    """Content-Security-Policy of a map page: the app's own, plus the base map's host."""
    img = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        img += f" {parts.scheme}://{host}"
    return (f"default-src 'self'; img-src {img}; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'")


def require_map_role() -> None:
    """403 for a signed-in user whose role does not use the map."""
    if current_user.role not in MAP_ROLES:
        abort(403, description=_("The map is for fund officers and analysts."))


def _projects() -> list[dict[str, Any]]:
    rows = db().scalars(select(fund_service.Project).order_by(fund_service.Project.id)).all()
    return [{"id": p.id, "name": p.name, "technology": p.technology.value,
             "is_demo": p.is_demo} for p in rows]


def map_config(extra: dict[str, Any] | None = None) -> str:
    """The JSON the page's script reads (URLs, layers, texts), escaped for a <script> block."""
    tile_url = base_map_url()
    config = {
        "csrf": generate_csrf(),
        "centre": START_CENTRE,
        "zoom": START_ZOOM,
        "maxZoom": map_service.MAX_ZOOM,
        "baseMap": {"url": tile_url, "attribution": ONLINE_ATTRIBUTION} if tile_url else None,
        "layers": _translated_layers(),
        "projects": _projects(),
        "canWrite": current_user.role in (Role.OFFICER, Role.ADMIN),
        "strings": _strings(),
        "api": {"report": "/api/v1/map/report", "sites": "/api/v1/sites",
                "screenings": "/api/v1/screenings", "tasks": "/api/v1/tasks",
                "parameters": "/api/v1/map/screening-parameters"},
    } | (extra or {})
    # json.dumps escapes nothing for HTML: "</" would close the block, so escape it.
    return json.dumps(config, ensure_ascii=False).replace("</", "<\\/")


def _translated_layers() -> list[dict[str, Any]]:
    layers = map_service.layer_catalogue(settings())
    for layer in layers:
        layer["title"] = _(layer["title"])
        if "unit" in layer:
            layer["unit"] = _(layer["unit"])
    return layers


def _strings() -> dict[str, str]:
    """Texts the script shows, in the page's language."""
    return {
        "passed": _("passed"), "failed": _("failed"),
        "site_passes": _("The site passes every constraint."),
        "site_fails": _("The site fails at least one constraint."),
        "constraint": _("Constraint"), "value": _("Value"), "limit": _("Limit"),
        "result": _("Result"), "reason": _("Reason"),
        "resource": _("Resource"), "ghi": _("GHI [kWh/m²/day]"),
        "wind": _("Wind at 100 m [m/s]"), "nearest_station": _("Nearest station"),
        "quick_yield": _("Quick yield per MW"), "energy_per_mw": _("Energy [MWh/MW/yr]"),
        "capacity_factor": _("Capacity factor"), "p90_per_mw": _("P90 [MWh/MW/yr]"),
        "lcoe": _("LCOE [USD/MWh]"), "score": _("Score"), "excluded": _("Excluded"),
        "reasons": _("Reasons"), "no_reasons": _("No exclusion: the cell is available."),
        "loading": _("Loading…"), "error": _("Error"),
        "drawing_point": _("Click the map (or press Enter) to place the point."),
        "drawing_polygon": _("Click the map (or press Enter at the centre cross) to add "
                             "corners; Finish when done, Escape to cancel."),
        "vertices": _("corners"), "saved": _("Site saved"),
        "municipality": _("Municipality"), "cell": _("Cell"), "km": _("km"),
        "capacity_mw": _("Capacity [MW]"), "distance": _("distance"),
        "state": _("State"), "queued": _("Queued"), "running": _("Running"),
        "done": _("Done"), "failed_task": _("The screening failed"),
        "tiles": _("tiles"), "point": _("Point"), "area_km2": _("Area [km²]"),
        "no_cell": _("No screened cell here."), "show_cells": _("Cells of screening"),
        "source": _("Source"), "licence": _("Licence"), "rank": _("Rank"),
        "consultation": _("Indigenous consultation review"),
        "drawn_polygon": _("drawn polygon"),
    }


@bp.get("/map")
@login_required
def map_page():
    """The officer map: layers, legend and sources, click report, drawing, saved sites."""
    require_map_role()
    screening_id = request.args.get("screening", type=int)
    response = render("map/map.html", config=map_config(
        {"screening": screening_id}), offline=base_map_url() is None)
    return _with_csp(response)


def _with_csp(html: str):
    response = make_response(html)
    response.headers["Content-Security-Policy"] = page_csp(base_map_url())
    return response


@bp.get("/mapa")
def mapa():
    """Spanish address of the map."""
    return redirect(url_for("map_pages.map_page", **request.args), code=301)


@bp.get("/vendor/leaflet/<path:filename>")
def leaflet_file(filename: str):
    """A file of Leaflet from the xstatic-leaflet package (no CDN)."""
    if filename not in LEAFLET_FILES:
        abort(404)
    return send_from_directory(xstatic_leaflet.BASE_DIR, filename, max_age=86400)
