"""Marshmallow fields for strict JSON requests, shared by every feature's ``schemas.py``.

JSON has numbers, booleans and strings, and marshmallow by default lets one pass for the
other (``"10"`` and ``true`` load as numbers, ``1`` as a boolean). A request to Fondo
says what it means: these fields accept only the JSON type they name, and only finite
numbers (RFC 8259 has no NaN or Infinity; :mod:`fondo.request_body` refuses the literals
before a schema sees them, these fields refuse an overflowed ``1e999`` too).
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import fields, validate

#: Largest database id: ids are ``Integer`` columns, a signed 32-bit ``integer`` on
#: PostgreSQL (64-bit on SQLite), so a larger id cannot even be looked up there. The API's
#: URLs take ids in the same range (``web.factory.BoundedIntConverter``).
MAX_DATABASE_ID = 2**31 - 1
#: Database ids: from 1 to :data:`MAX_DATABASE_ID`.
DATABASE_ID_RANGE = validate.Range(min=1, max=MAX_DATABASE_ID)


class JSONNumber(fields.Float):
    """A finite JSON number, loaded as given (``int`` or ``float``); never a string or bool."""

    default_error_messages = {"invalid": "must be a number, got {input!r}",
                              "special": "must be a finite number"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        if not math.isfinite(value):
            raise self.make_error("special")
        return value


class JSONInteger(fields.Integer):
    """A JSON number without a fractional part (``25`` or ``25.0``), loaded as ``int``."""

    default_error_messages = {"invalid": "must be a whole number, got {input!r}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value != int(value)):
            raise self.make_error("invalid", input=value)
        return int(value)


class JSONBoolean(fields.Boolean):
    """``true`` or ``false`` and nothing else (not ``1``, not ``"yes"``)."""

    default_error_messages = {"invalid": "must be true or false, got {input!r}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def database_id(description: str, *, required: bool = False) -> JSONInteger:
    """A reference to a stored row: a whole number in the database's id range."""
    return JSONInteger(required=required, allow_none=not required, validate=DATABASE_ID_RANGE,
                       metadata={"description": description})
