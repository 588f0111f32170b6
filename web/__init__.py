"""Fondo's web shell: the Flask app factory, pages and the REST API (``/api/v1``)."""

from web.factory import create_app

__all__ = ["create_app"]
