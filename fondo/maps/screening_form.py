"""The screening page's form, from the same schema and defaults the API uses.

Each row is one parameter of :class:`~fondo.screening.service.ParametersSchema` (the body's
``parameters`` of ``POST /api/v1/screenings``): its JSON path, its default for the technology
(:func:`fondo.screening.service.parameters_from_request` with no override, as a run would
get), its range (the field's validator) and its description, which carries its source
(the docstrings of :mod:`siting.parameters`). Fields the page cannot type as one number or a
yes/no (voltage tables, lists) are listed with their default and left to the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields, validate

from fondo.screening import service as screening_service
from fondo.schema_fields import JSONBoolean, JSONInteger, JSONNumber
from siting.parameters import MAX_CELLS_DEFAULT

__all__ = ["parameter_rows", "request_rows"]

#: ``max_cells`` is set by the server and not shown; the defaults are built with the
#: engine's own (:data:`siting.parameters.MAX_CELLS_DEFAULT`).


def _range(field: fields.Field) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for check in field.validators:
        if isinstance(check, validate.Range):
            if check.min is not None:
                out["minimum"] = check.min
                out["minimum_exclusive"] = not check.min_inclusive
            if check.max is not None:
                out["maximum"] = check.max
                out["maximum_exclusive"] = not check.max_inclusive
    return out


def _rows(schema: Any, defaults: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, field in schema.fields.items():
        path = f"{prefix}{name}"
        default = defaults.get(name) if isinstance(defaults, Mapping) else None
        if isinstance(field, fields.Nested):
            rows += _rows(field.schema, default or {}, f"{path}.")
            continue
        if field.metadata.get("readOnly"):
            continue  # set by the server
        kind = ("number" if isinstance(field, JSONNumber) else
                "integer" if isinstance(field, JSONInteger) else
                "boolean" if isinstance(field, JSONBoolean) else "json")
        rows.append({"path": path, "type": kind, "default": default,
                     "description": field.metadata.get("description", ""),
                     "group": path.split(".")[0]} | _range(field))
    return rows


def parameter_rows(technology: str) -> list[dict[str, Any]]:
    """Every screening parameter with its default for ``technology``, range and description.

    Raises
    ------
    InvalidInput
        Unknown technology (field ``technology``).
    """
    from fondo.errors import InvalidInput  # noqa: PLC0415

    if technology not in ("pv", "wind"):
        raise InvalidInput(f"technology must be 'pv' or 'wind', got {technology!r}",
                           field="technology")
    params = screening_service.parameters_from_request(technology, None, MAX_CELLS_DEFAULT)
    defaults = screening_service.parameters_json(params)
    return _rows(screening_service.ParametersSchema(), defaults, "")


def request_rows() -> list[dict[str, Any]]:
    """The request's own fields the page shows (``resolution_km``) with default and range."""
    schema = screening_service.ScreeningRequestSchema()
    field = schema.fields["resolution_km"]
    return [{"path": "resolution_km", "type": "number", "default": field.load_default,
             "description": field.metadata.get("description", "")} | _range(field)]
