"""RFC 9457 problem details for every ``/api/v1`` error, HTML pages for the rest."""

from __future__ import annotations

from typing import Any

from flask import Response, json, render_template, request
from werkzeug.exceptions import HTTPException

from fondo.errors import FondoError, InvalidInput
from fondo.request_body import flatten_messages

PROBLEM_MIME = "application/problem+json"
#: Base of the ``type`` URIs of Fondo's problems (documented in the OpenAPI description).
PROBLEM_TYPE_BASE = "https://fondo.example.org/problems/"


def is_api_request() -> bool:
    """True when the current request is for the REST API."""
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str | None = None, *, type_: str = "about:blank",
            **extra: Any) -> Response:
    """A problem-details response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)


def problem_response(error: HTTPException) -> Response:
    """Turn a werkzeug/flask-smorest HTTP error into problem details (API) or a page."""
    status = error.code or 500
    title = error.name
    detail = error.description
    extra: dict[str, Any] = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:  # webargs validation errors: {"json": {"field": ["msg"]}}
        errors: dict[str, list[str]] = {}
        for _location, fields in messages.items():
            errors.update(flatten_messages(fields))
        extra["errors"] = errors
        first = next(iter(errors), None)
        extra["field"] = first
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        # a request schema's verdict is the same problem as a service's InvalidInput
        title = InvalidInput.title
        extra["type_"] = PROBLEM_TYPE_BASE + InvalidInput.__name__.lower()
    elif isinstance(data, dict) and data.get("message"):
        detail = data["message"]
    if not is_api_request():
        return Response(render_template("error.html", status=status, title=title, detail=detail),
                        status=status, mimetype="text/html")
    response = problem(status, title, detail, **extra)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fondo"'
    return response


def fondo_error_response(error: FondoError) -> Response:
    """Problem details for an error raised by a Fondo service (with ``Retry-After`` when the
    error says when to try again, as :class:`~fondo.errors.Busy` does)."""
    if not is_api_request():
        response = Response(render_template("error.html", status=error.status,
                                            title=error.title, detail=error.detail),
                            status=error.status, mimetype="text/html")
    else:
        response = problem(error.status, error.title, error.detail,
                           type_=PROBLEM_TYPE_BASE + type(error).__name__.lower(),
                           field=error.field, **error.extra)
    retry_after_s = getattr(error, "retry_after_s", None)
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(int(retry_after_s))
    return response
