"""Helpers shared by API blueprints: OpenAPI fragments and strict JSON in and out."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, validate
from marshmallow.fields import Field
from webargs import core
from webargs.flaskparser import FlaskParser

from fondo.request_body import parse_json_body
from web.api.schemas import ProblemSchema


def json_body_doc(schema: type[Schema], description: str) -> dict:
    """OpenAPI ``requestBody`` of a JSON body described by ``schema`` (for ``blp.doc``)."""
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": schema}}}}


def responses_doc(status: int, schema: type[Schema] | None, description: str, *,
                  mime: str = "application/json",
                  errors: tuple[int, ...] = (401, 403, 404)) -> dict:
    """OpenAPI ``responses``: the success (a schema, or a binary file) and problem details."""
    content = {mime: {"schema": schema} if schema else {"schema": {"type": "string",
                                                                   "format": "binary"}}}
    out = {str(status): {"description": description, "content": content}}
    for code in errors:
        out[str(code)] = {"description": "Problem details.",
                          "content": {"application/problem+json": {"schema": ProblemSchema}}}
    return {"responses": out}


def exclusive_bounds(converter: Any, field: Field, ret: dict, **_kwargs: Any) -> dict:
    """apispec attribute function: an open bound of a ``Range`` as OpenAPI 3.1 says it.

    apispec writes every ``Range`` bound as ``minimum``/``maximum``; a bound the validator
    excludes (``capacity_dc_kw > 0``) becomes ``exclusiveMinimum``/``exclusiveMaximum``
    instead, so that the document refuses exactly what the API refuses.
    """
    out: dict[str, Any] = {}
    for check in field.validators:
        if not isinstance(check, validate.Range):
            continue
        if check.min is not None and not check.min_inclusive and "minimum" in ret:
            out["exclusiveMinimum"] = ret.pop("minimum")
        if check.max is not None and not check.max_inclusive and "maximum" in ret:
            out["exclusiveMaximum"] = ret.pop("maximum")
    return out


def document_exclusive_bounds(api: Any) -> None:
    """Make ``api``'s OpenAPI document state open bounds (call after ``api.init_app``)."""
    api.ma_plugin.converter.add_attribute_function(exclusive_bounds)


def request_json() -> Any:
    """The request's body as strict JSON (422 problem naming ``body`` when it is not)."""
    return parse_json_body(request.get_data())


def strict_json(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response that can never contain NaN or Infinity."""
    return Response(json.dumps(body, allow_nan=False, ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


class StrictJSONParser(FlaskParser):
    """webargs' Flask parser with Fondo's strict JSON (no NaN/Infinity, no repeated keys).

    A body is read as JSON whatever its ``Content-Type`` (as :func:`request_json` does);
    an empty body is "missing", so the schema's own ``required`` message names the field.
    """

    def _raw_load_json(self, req):  # webargs hook
        data = req.get_data(cache=True)
        if not data.strip():
            return core.missing
        return parse_json_body(data)


class Blueprint(SmorestBlueprint):
    """The API's blueprint: ``@blp.arguments(Schema)`` parses bodies as strict JSON."""

    ARGUMENTS_PARSER = StrictJSONParser()
