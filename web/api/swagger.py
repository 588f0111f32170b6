"""``/api/v1/docs``: the OpenAPI document in Swagger UI, served from the swagger-ui-bundle
package (no CDN: the page works with no internet).

The bundle holds Swagger UI 4, which reads OpenAPI 3.0 only, while the API's document is
OpenAPI 3.1 (``/api/v1/openapi.json``, unchanged). The page reads
``/api/v1/docs/openapi-3.0.json``: the same document with the few 3.1 spellings the API
uses written the 3.0 way (:func:`as_openapi_30`), so every operation and schema shows.

The page itself is a Fondo page (language, header), the Swagger UI files come from
``swagger_ui_bundle.swagger_ui_path`` under ``/api/v1/docs/static/``, and the script that
starts it is a static file (the Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from web.api.docs import strict_json
from web.extensions import api
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


def _schema_30(node: Any) -> Any:
    """One JSON node of an OpenAPI 3.1 document written as OpenAPI 3.0 says it."""
    if isinstance(node, list):
        return [_schema_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _schema_30(value) for key, value in node.items()}
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[inclusive] = value  # 3.0: a number bound plus a boolean flag
            out[bound] = True
    kind = out.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            out["nullable"] = True
        if len(kinds) == 1:
            out["type"] = kinds[0]
        else:
            del out["type"]
            if kinds:
                out["anyOf"] = [{"type": k} for k in kinds]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list) and "type" in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    return out


def as_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The API's OpenAPI 3.1 document as OpenAPI 3.0.3, for Swagger UI 4.

    Numeric ``exclusiveMinimum``/``exclusiveMaximum`` become a bound with a boolean flag,
    ``type: [t, "null"]`` becomes ``type: t`` with ``nullable``, ``const`` a one-value
    ``enum``; nothing else changes.
    """
    converted = _schema_30({k: v for k, v in document.items() if k != "openapi"})
    return {"openapi": "3.0.3", **converted}


@bp.get("/api/v1/docs/openapi-3.0.json")
def openapi_30():
    """The OpenAPI document in the 3.0 spelling Swagger UI 4 reads."""
    return strict_json(as_openapi_30(api.spec.to_dict()))
