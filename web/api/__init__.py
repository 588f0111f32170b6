"""The REST API under ``/api/v1``: one flask-smorest blueprint per feature."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api


def register_api(app: Flask, api: Api) -> None:
    """Register the ``blp`` of every module of :mod:`web.api` on ``api``."""
    import importlib
    import pkgutil

    import web.api

    for module in pkgutil.iter_modules(web.api.__path__):
        blp = getattr(importlib.import_module(f"web.api.{module.name}"), "blp", None)
        if blp is not None:
            api.register_blueprint(blp)
