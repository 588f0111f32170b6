"""RFC 9457 problem details for every ``/api/v1`` error, HTML pages for the rest."""

from __future__ import annotations

from typing import Any

from flask import Response, json, render_template, request
from werkzeug.exceptions import HTTPException

from fondo.errors import FondoError, InvalidInput
from fondo.request_body import flatten_messages
from web.i18n import page_gettext

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


#: Page titles of the HTTP errors a reader meets, as English msgids (translated on the page).
ERROR_PAGE_TITLES = {
    400: "Bad request", 401: "Sign in first", 403: "Not allowed", 404: "Page not found",
    405: "Method not allowed", 409: "Not ready yet", 413: "File too large",
    422: "Not accepted", 429: "Too many requests", 500: "Something went wrong on our side",
    503: "Service busy",
}
#: What each page says, in words a reader can act on (English msgids).
ERROR_PAGE_TEXTS = {
    403: "Your role does not give access to this page.",
    404: "There is no page at this address. Check it, or start again from the home page.",
    500: "The page could not be shown because of an error on the server. It has been logged; "
         "please try again later.",
    503: "The service is busy. Please try again in a few seconds.",
}


def error_page(status: int, title: str, detail: str | None) -> Response:
    """An HTML error page in the reader's language. A server error (5xx other than 503)
    shows no detail at all, so that no internal message or trace reaches a page."""
    if status >= 500 and status != 503:
        detail = None
    heading = page_gettext(ERROR_PAGE_TITLES[status]) if status in ERROR_PAGE_TITLES else title
    text = page_gettext(ERROR_PAGE_TEXTS[status]) if status in ERROR_PAGE_TEXTS else None
    return Response(render_template("error.html", status=status, title=heading, text=text,
                                    detail=detail if status not in (404, 500) else None),
                    status=status, mimetype="text/html")


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
        default = type(error).description  # werkzeug's own English text, not a message
        return error_page(status, title, None if detail == default else detail)
    response = problem(status, title, detail, **extra)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fondo"'
    return response


def fondo_error_response(error: FondoError) -> Response:
    """Problem details for an error raised by a Fondo service (with ``Retry-After`` when the
    error says when to try again, as :class:`~fondo.errors.Busy` does)."""
    if not is_api_request():
        response = error_page(error.status, error.title, error.detail)
    else:
        response = problem(error.status, error.title, error.detail,
                           type_=PROBLEM_TYPE_BASE + type(error).__name__.lower(),
                           field=error.field, **error.extra)
    retry_after_s = getattr(error, "retry_after_s", None)
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(int(retry_after_s))
    return response
