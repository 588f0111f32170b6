"""Landing page, each role's home, the data manifest, the language switch and health check.

After sign-in each role lands on its own home (:data:`ROLE_HOMES`): officers on the map,
analysts on the yield studies, investors on the fund overview (the investor dashboard,
:mod:`web.investor_pages`), admins on the users.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (Blueprint, abort, jsonify, make_response, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from sqlalchemy import func, select, text

from fondo.accounts.models import Role, User
from fondo.data.service import Corridor, WeatherStation, load_manifest
from fondo.fund.models import Fund, Project
from web.context import db, settings
from web.i18n import allowed_locales

bp = Blueprint("pages", __name__)

#: Where each role lands after signing in (paths: the officer's map is PART A's page).
ROLE_HOMES = {
    Role.OFFICER: "/map",
    Role.ANALYST: "/studies/",
    Role.INVESTOR: "/fund",
    Role.ADMIN: "/users",
}
#: How long the language cookie is kept. [s]
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def page_roles(*roles: Role) -> Callable:
    """Decorator of a page: sign-in first (redirect to the form), then one of ``roles``
    (403 page; admins pass)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles and current_user.role is not Role.ADMIN:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.get("/")
def index():
    """What Fondo is, and what the fund holds (demo records are labelled)."""
    session = db()
    counts = {
        "corridors": session.scalar(select(func.count()).select_from(Corridor)),
        "stations": session.scalar(select(func.count()).select_from(WeatherStation)),
        "projects": session.scalar(select(func.count()).select_from(Project)),
    }
    funds = session.scalars(select(Fund).order_by(Fund.id)).all()
    projects = session.scalars(select(Project).order_by(Project.id)).all()
    return render_template("index.html", counts=counts, funds=funds, projects=projects)


@bp.get("/home")
def home():
    """The signed-in user's own home (the landing page for visitors)."""
    if not current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    return redirect(ROLE_HOMES.get(current_user.role, url_for("pages.index")))


@bp.get("/users")
@page_roles()
def users():
    """Users and their roles (admins only; accounts are made with ``fondo users``)."""
    rows = db().scalars(select(User).order_by(User.id)).all()
    return render_template("users.html", users=rows)


@bp.get("/data")
def data_manifest():
    """The bundled datasets: source, licence, attribution and checksum of each."""
    rows = load_manifest(Path(settings()["DATA_DIR"]))
    return render_template("data_manifest.html", datasets=rows)


def local_target(target: str | None) -> str:
    """``target`` when it is a path on this site, else the landing page (no open redirect)."""
    if not target:
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("pages.index")
    return target


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the chosen language in a cookie and go back to the page (``?next=``)."""
    if code not in allowed_locales():
        abort(404)
    target = local_target(request.args.get("next"))
    parts = urlsplit(target)
    if parts.query:  # a ``lang=`` in the page's own address would override the choice
        kept = "&".join(p for p in parts.query.split("&") if not p.startswith("lang="))
        target = parts.path + (f"?{kept}" if kept else "")
    response = make_response(redirect(target))
    response.set_cookie("lang", code, max_age=LANGUAGE_COOKIE_MAX_AGE_S, samesite="Lax")
    return response


@bp.get("/healthz")
def healthz():
    """Liveness and database reachability, as JSON (503 when the database is down)."""
    try:
        db().execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, don't crash: this is the health check
        database = f"error: {type(exc).__name__}"
    status = "ok" if database == "ok" else "error"
    return jsonify(status=status, database=database), (200 if status == "ok" else 503)
