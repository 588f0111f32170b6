"""Landing page, language switch and health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, url_for
from sqlalchemy import func, select, text

from fondo.data.service import Corridor, WeatherStation
from fondo.fund.models import Fund, Project
from web.context import db

bp = Blueprint("pages", __name__)


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


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the chosen language in a cookie and go back to the landing page."""
    response = make_response(redirect(url_for("pages.index")))
    allowed = [x.strip() for x in current_app.config["LOCALES"].split(",")]
    if code in allowed:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
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
