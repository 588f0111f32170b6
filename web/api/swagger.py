"""``/api/v1/docs``: the OpenAPI document in Swagger UI, served from the swagger-ui-bundle
package (no CDN: the page works with no internet).

The page itself is a Fondo page (language, header), the Swagger UI files come from
``swagger_ui_bundle.swagger_ui_path`` under ``/api/v1/docs/static/``, and the script that
starts it is a static file (the Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from web.map import render

bp = Blueprint("api_docs", __name__)

#: Swagger UI files the page loads (the rest of the bundle is not served).
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js",
                           "swagger-ui-standalone-preset.js", "favicon-32x32.png",
                           "favicon-16x16.png"})


@bp.get("/api/v1/docs")
def docs_page():
    """The REST API's reference: every operation, its schemas and a "try it out" form."""
    return render("map/api_docs.html")


@bp.get("/api/v1/docs/static/<path:filename>")
def swagger_static(filename: str):
    """A file of the Swagger UI bundle (404 for any other name)."""
    if filename not in SWAGGER_FILES:
        abort(404)
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
