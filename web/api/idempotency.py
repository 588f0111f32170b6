"""``Idempotency-Key`` on the creation endpoints: a retried POST creates once.

:func:`idempotent` wraps a view (below ``require_role``, so the caller is known, and
above ``blp.arguments``, so a replay does not parse the body again); the rules are those
of :mod:`fondo.idempotency`. A replayed response carries ``Idempotent-Replayed: true``.
:func:`idempotency_doc` documents the header, the replay header and the 409 in the
OpenAPI description (``@blp.doc(**idempotency_doc(201))``).

Without the header a request behaves as it always did.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response, request

from fondo import idempotency
from fondo.idempotency import HEADER, KeyInProgress
from web.api.schemas import ProblemSchema
from web.auth import api_user
from web.problems import PROBLEM_TYPE_BASE, problem

__all__ = ["REPLAYED_HEADER", "idempotency_doc", "idempotent"]

#: Response header marking a replayed first response.
REPLAYED_HEADER = "Idempotent-Replayed"

_PROBLEM = {"application/problem+json": {"schema": ProblemSchema}}


def idempotency_doc(success_status: int) -> dict[str, Any]:
    """OpenAPI fragment for ``@blp.doc``: the request header, the replay header on the
    ``success_status`` response and the 409 problem."""
    ttl_h = idempotency.KEY_TTL.total_seconds() / 3600
    return {
        "parameters": [{
            "in": "header", "name": HEADER, "required": False,
            "schema": {"type": "string", "minLength": 1,
                       "maxLength": idempotency.KEY_MAX_CHARS, "pattern": "^[\\x20-\\x7E]+$"},
            "description": (
                f"Optional key (1-{idempotency.KEY_MAX_CHARS} printable ASCII characters, e.g. "
                f"a UUID) that makes a retry safe: the same key with the same body within "
                f"{ttl_h:g} h answers the first response again (same status, body and "
                f"`Location`, plus `{REPLAYED_HEADER}: true`) and creates nothing; the same "
                f"key with another body or endpoint is a 409 problem naming `{HEADER}`; a "
                "request sent while the first with its key runs waits for it (up to "
                f"{idempotency.WAIT_FOR_FIRST_S:g} s, else 409 with `Retry-After`). Only "
                "successful responses are kept: after a 4xx or 5xx the key may be used again. "
                "Keys belong to the user."),
        }],
        "responses": {
            str(success_status): {"headers": {REPLAYED_HEADER: {
                "description": "`true` when this is the stored first response to the same "
                               f"`{HEADER}`, replayed.",
                "schema": {"type": "string", "enum": ["true"]}}}},
            "409": {"description": f"`{HEADER}` already used for another request, or its "
                                   "first request still running (`Retry-After`).",
                    "content": _PROBLEM},
        },
    }


def _in_progress(error: KeyInProgress) -> Response:
    response = problem(error.status, error.title, error.detail,
                       type_=PROBLEM_TYPE_BASE + type(error).__name__.lower(), field=error.field,
                       **error.extra)
    response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def idempotent(view: Callable) -> Callable:
    """Decorator: honour an ``Idempotency-Key`` header on a creation view (see the module)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        raw = request.headers.get(HEADER)
        if raw is None:
            return view(*args, **kwargs)
        key = idempotency.validate_key(raw)
        sessions = current_app.extensions["fondo_sessions"]
        try:
            claim = idempotency.claim_key(
                sessions, user_id=api_user().id, key=key, method=request.method,
                path=request.path,
                request_sha256=idempotency.body_sha256(request.get_data(cache=True)))
        except KeyInProgress as error:
            return _in_progress(error)
        if claim.replay is not None:
            replay = claim.replay
            response = Response(replay.body, status=replay.status, headers=replay.headers)
            response.headers[REPLAYED_HEADER] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            idempotency.release_key(sessions, claim.row_id)
            raise
        if 200 <= response.status_code < 300:
            idempotency.store_response(sessions, claim.row_id, response.status_code,
                                       response.get_data(as_text=True), dict(response.headers))
        else:
            idempotency.release_key(sessions, claim.row_id)
        return response

    return wrapped
