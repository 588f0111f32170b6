"""Strict decoding of JSON request bodies shared by the REST API and the command line.

Strict means RFC 8259 and nothing more: ``NaN``, ``Infinity`` and ``-Infinity`` (which
Python's :mod:`json` accepts) are refused, and so is an object with the same key twice
(RFC 8259 §4 leaves its meaning undefined; I-JSON, RFC 7493 §2.3, forbids it). The error
names the field, as a JSON path (``capital_stack[1].rate``). Arrays and objects may nest at
most :data:`MAX_JSON_DEPTH` levels (RFC 8259 §9 lets a parser set that limit): Python's
parser would otherwise recurse until its own limit, and every later walk over the value
with it.

Results obey the same rule before they are stored: :func:`non_finite_path` finds a NaN or
infinite number in a result (an engine that overflowed), so that a service refuses it
(a 422, or a task's FAILURE with the path as its reason) instead of storing a row that no
strict JSON answer can serve.
"""

from __future__ import annotations

import json
import math
from numbers import Integral, Real
from typing import Any

from marshmallow import Schema, ValidationError

from fondo.errors import InvalidInput

#: Deepest nesting of arrays and objects in a request body (the top-level value is level
#: 1). Fondo's deepest request is a GeoJSON FeatureCollection of MultiPolygons, 8 levels
#: (collection, features, feature, geometry, coordinates, polygon, ring, position); 64
#: leaves room for any caller's own fields without letting a body of ``[`` × 100 000 drive
#: the parser, or a walk over the value, into Python's recursion limit. [levels]
MAX_JSON_DEPTH = 64


class _NonFinite(float):
    """Placeholder for a ``NaN``/``Infinity`` literal, found and reported after parsing."""

    literal: str = ""


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _constant(name: str) -> _NonFinite:
    value = _NonFinite("nan")
    value.literal = name
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _too_deep() -> InvalidInput:
    return InvalidInput(f"The request body nests arrays or objects deeper than "
                        f"{MAX_JSON_DEPTH} levels", field="body")


def _find_bad_value(value: Any, path: str, depth: int) -> tuple[str, str] | None:
    """``(path, literal)`` of the first NaN/Infinity in document order, or None.

    Recursive, but never deeper than :data:`MAX_JSON_DEPTH` + 1 frames: a container
    beyond that level raises before its items are visited.
    """
    if isinstance(value, _NonFinite):
        return path or "body", value.literal
    if depth > MAX_JSON_DEPTH:
        raise _too_deep()
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in pairs:
        if isinstance(item, dict | list | _NonFinite):
            sub = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
            found = _find_bad_value(item, sub, depth + 1)
            if found:
                return found
    return None


def _check_value(value: Any) -> None:
    """Refuse a value nested deeper than :data:`MAX_JSON_DEPTH` or holding NaN/Infinity."""
    if isinstance(value, dict | list | _NonFinite):
        found = _find_bad_value(value, "", 1)
        if found:
            path, literal = found
            raise InvalidInput(f"{literal} is not a JSON number ({path})", field=path)


def parse_json_body(raw: bytes | str) -> Any:
    """Decode a request body as strict JSON.

    Raises
    ------
    InvalidInput
        ``field="body"`` when the body is not valid UTF-8 JSON or nests deeper than
        :data:`MAX_JSON_DEPTH`; ``field`` = the JSON path of the value when it holds
        ``NaN``/``Infinity`` or an object repeats a key.

    Examples
    --------
    >>> parse_json_body('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_constant, object_pairs_hook=_pairs)
    except _DuplicateKey as exc:
        raise InvalidInput(f"The request body repeats the key {exc.key!r} in one object",
                           field=exc.key) from None
    except RecursionError:  # deeper than the interpreter's limit, far beyond ours
        raise _too_deep() from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"The request body is not valid JSON: {exc}", field="body") from None
    _check_value(value)
    return value


def non_finite_path(value: Any, path: str = "", *, nan_ok: bool = False) -> str | None:
    """JSON path of the first NaN or infinite number in ``value``, or None when all are finite.

    ``value`` is JSON-like: mappings, lists and tuples of numbers (numpy scalars too),
    strings, booleans and None. With ``nan_ok``, NaN passes (an engine's "this number does
    not exist", served as ``null``) and only an infinity, the mark of an overflow, is found.

    >>> non_finite_path({"p50_kwh": 1.0, "monthly": [2.0, float("inf")]})
    'monthly[1]'
    >>> non_finite_path({"irr": None, "npv_usd": -5.0}) is None
    True
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k))
                         for k, v in reversed(list(item.items())))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item))))
        elif (isinstance(item, Real) and not isinstance(item, Integral)
              and (math.isinf(item) or (math.isnan(item) and not nan_ok))):
            return where or "body"
    return None


def flatten_messages(messages: Any, path: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested error messages as ``{json_path: [message, ...]}``.

    >>> flatten_messages({"stack": {1: {"rate": ["Not a number."]}}})
    {'stack[1].rate': ['Not a number.']}
    """
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            if isinstance(key, int):
                sub = f"{path}[{key}]"
            elif key == "_schema":
                sub = path or "body"
            else:
                sub = f"{path}.{key}" if path else str(key)
            out.update(flatten_messages(value, sub))
        return out
    items = messages if isinstance(messages, list) else [messages]
    return {path or "body": [str(m) for m in items]}


def load_request(schema: Schema, data: Any) -> Any:
    """Validate ``data`` (decoded JSON) with a request schema, as the REST endpoint does.

    The command line calls this with the JSON of ``--input``; the REST API reaches the same
    schema through ``@blp.arguments``. Errors become :class:`~fondo.errors.InvalidInput`
    naming the first field at fault, with every message in ``errors``.
    """
    try:
        return schema.load(data)
    except ValidationError as exc:
        errors = flatten_messages(exc.messages)
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        raise InvalidInput(detail, field=next(iter(errors), "body"),
                           extra={"errors": errors}) from None
