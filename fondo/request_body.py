"""Strict decoding of JSON request bodies shared by the REST API and the command line.

Strict means RFC 8259 and nothing more: ``NaN``, ``Infinity`` and ``-Infinity`` (which
Python's :mod:`json` accepts) are refused, and so is an object with the same key twice
(RFC 8259 §4 leaves its meaning undefined; I-JSON, RFC 7493 §2.3, forbids it). The error
names the field, as a JSON path (``capital_stack[1].rate``).
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError

from fondo.errors import InvalidInput


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


def _find_non_finite(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, _NonFinite):
        return path, value.literal
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_non_finite(item, f"{path}.{key}" if path else key)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_non_finite(item, f"{path}[{index}]")
            if found:
                return found
    return None


def parse_json_body(raw: bytes | str) -> Any:
    """Decode a request body as strict JSON.

    Raises
    ------
    InvalidInput
        ``field="body"`` when the body is not valid UTF-8 JSON; ``field`` = the JSON path
        of the value when it holds ``NaN``/``Infinity`` or an object repeats a key.

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
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"The request body is not valid JSON: {exc}", field="body") from None
    found = _find_non_finite(value, "")
    if found:
        path, literal = found
        raise InvalidInput(f"{literal} is not a JSON number ({path or 'body'})",
                           field=path or "body")
    return value


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
