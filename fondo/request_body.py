"""Strict decoding of JSON request bodies shared by the REST API and the command line."""

from __future__ import annotations

import json
from typing import Any

from fondo.errors import InvalidInput


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_body(raw: bytes | str) -> Any:
    """Decode a request body as strict JSON (``NaN`` and ``Infinity`` refused).

    Raises
    ------
    InvalidInput
        ``field="body"`` when the body is not valid UTF-8 JSON.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"The request body is not valid JSON: {exc}", field="body") from None
