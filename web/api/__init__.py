"""The REST API under ``/api/v1``: one flask-smorest blueprint per feature, registered here."""

from __future__ import annotations

from flask_smorest import Api

from web.api import consultations, data, finance, maps, screenings, tasks, users, yield_
from web.api import funds, portfolio, projects, register
from web.api.docs import document_exclusive_bounds

#: Every blueprint of the REST API, written out (the OpenAPI document lists them in this order).
BLUEPRINTS = (
    users.blp,
    data.blp,
    tasks.blp,
    screenings.blp,
    yield_.blp,
    finance.blp,
    consultations.blp,
    projects.blp,
    register.blp,
    funds.blp,
    portfolio.blp,
    maps.blp,
)


def register_api(api: Api) -> None:
    """Register every blueprint of :data:`BLUEPRINTS` on ``api`` (after ``api.init_app``)."""
    document_exclusive_bounds(api)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
