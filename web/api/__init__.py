"""The REST API under ``/api/v1``: one flask-smorest blueprint per feature."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api


def register_api(app: Flask, api: Api) -> None:
    """Register every API blueprint on ``api``."""
    from web.api.data import blp as data_blp
    from web.api.tasks import blp as tasks_blp
    from web.api.users import blp as users_blp

    for blp in (tasks_blp, data_blp, users_blp):
        api.register_blueprint(blp)
