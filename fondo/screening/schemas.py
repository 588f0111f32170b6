"""Request schemas of the screening: one per request, shared by the REST API and the CLI.

:class:`ScreeningRequestSchema` is the body of ``POST /api/v1/screenings`` and the
``--input`` of ``fondo screen``; :class:`SiteCheckRequestSchema` the body of
``POST /api/v1/sites/check`` and the ``--input`` of ``fondo sites check``. The API reaches
them through ``@blp.arguments``, the commands through :func:`fondo.request_body.load_request`,
so both refuse the same bodies with the same ``field``.

A schema checks the shape of a request: types, required and unknown fields, ranges of single
numbers. What needs the layers or the engine (a polygon outside Mexico, too many cells, score
weights that cancel out) is checked by :mod:`siting` when the request is resolved.

The ``parameters`` object mirrors :class:`siting.parameters.ScreeningParameters` field by
field: its schema is derived from the dataclasses, so a parameter added there is accepted,
typed and documented here without another edit. Loaded requests are plain JSON (numbers,
strings, lists, objects), so they can be stored and loaded again unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from collections.abc import Mapping
from typing import Any, get_origin, get_type_hints

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fondo.schema_fields import JSONBoolean, JSONInteger, JSONNumber
from siting.grid import MAX_RESOLUTION_KM, MIN_RESOLUTION_KM
from siting.parameters import (
    CORRIDOR_STATES,
    DEFAULT_RESOLUTION_KM,
    TECHNOLOGIES,
    ScreeningParameters,
)

__all__ = [
    "DEFAULT_TILE_CELLS",
    "MAX_TILE_CELLS",
    "MIN_TILE_CELLS",
    "ParametersSchema",
    "ScreeningRequestSchema",
    "SiteCheckRequestSchema",
]

#: Cells per tile when the request does not say (policy: about 2-4 s of work per tile on
#: one core, so a corridor at 1 km spreads over tens of tasks and a retry redoes little).
DEFAULT_TILE_CELLS = 10_000
#: Smallest and largest ``tile_cells`` a request may ask for.
MIN_TILE_CELLS = 1
MAX_TILE_CELLS = 250_000

#: Parameters chosen by the server, never by a request (JSON paths).
SERVER_SET_PARAMETERS = frozenset({"parameters.max_cells", "parameters.technology.technology"})
#: Numeric parameters with a tighter range than ``>= 0``: path -> (minimum, maximum, the
#: message). Exclusive bounds; ``None`` is unbounded.
PARAMETER_RANGES: Mapping[str, tuple[float | None, float | None, str]] = {
    "parameters.technology.power_density_mw_per_km2": (0.0, None, "must be > 0, got {input}"),
    "parameters.connection.reference_plant_mw": (0.0, None, "must be > 0, got {input}"),
    "parameters.weights.grid_distance_worst_km": (0.0, None, "must be > 0, got {input}"),
    "parameters.fixed_charge_rate": (0.0, 1.0, "must be between 0 and 1 (exclusive), got {input}"),
}

_TECHNOLOGY_CHOICES = " or ".join(repr(t) for t in TECHNOLOGIES)
_CORRIDOR_CHOICES = " or ".join(repr(c) for c in CORRIDOR_STATES)


# --------------------------------------------------------------------------- JSON fields


class VoltageMapping(fields.Field):
    """A non-empty object of voltage class [kV] (as text, ``"115"``) -> a number ``>= 0``."""

    default_error_messages = {
        "invalid": "must be a non-empty object of voltage [kV] -> value",
        "key": "key {key!r} is not a voltage in kV",
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, float]:
        if not isinstance(value, Mapping) or not value:
            raise self.make_error("invalid")
        out: dict[str, float] = {}
        errors: dict[str, list[str]] = {}
        for key, item in value.items():
            try:
                kv = float(key)
            except (TypeError, ValueError):
                errors[str(key)] = [self.error_messages["key"].format(key=key)]
                continue
            if isinstance(item, bool) or not isinstance(item, int | float) or not (
                    math.isfinite(item) and item >= 0):
                errors[str(key)] = [f"must be a number >= 0, got {item!r}"]
                continue
            out[f"{kv:g}"] = float(item)
        if errors:
            raise ValidationError(errors)
        return out


class ServerSet(fields.Field):
    """A parameter the server sets: shown in the document, refused in a request."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})["readOnly"] = True
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        raise ValidationError("is set by the server, not by the request")


# --------------------------------------------------------------------------- parameters


def _attribute_docs(cls: type) -> dict[str, str]:
    """``{name: description}`` from the numpydoc ``Attributes`` section of a dataclass."""
    text = inspect.cleandoc(cls.__doc__ or "")
    section = re.search(r"^Attributes\n-+\n(.*?)(?:\n\n[A-Z]\w+\n-+\n|\Z)", text, re.DOTALL | re.MULTILINE)
    docs: dict[str, str] = {}
    if section is None:
        return docs
    names: list[str] = []
    for line in section.group(1).splitlines():
        if line and not line.startswith(" "):
            names = [n.strip() for n in line.split(":")[0].split(",")]
            for name in names:
                docs[name] = ""
        elif line.strip():
            for name in names:
                docs[name] = f"{docs[name]} {line.strip()}".strip()
    return {k: v for k, v in docs.items() if v}


def _number_range(path: str) -> validate.Validator:
    low, high, message = PARAMETER_RANGES.get(path, (None, None, ""))
    if low is None and high is None:
        return validate.Range(min=0, error="must be >= 0, got {input}")
    return validate.Range(min=low, max=high, min_inclusive=False, max_inclusive=False,
                          error=message)


def _parameter_field(hint: Any, path: str, description: str) -> fields.Field:
    metadata = {"description": description} if description else {}
    if path in SERVER_SET_PARAMETERS:
        return ServerSet(metadata=metadata)
    if dataclasses.is_dataclass(hint):
        return fields.Nested(_parameters_schema(hint, path), metadata=metadata)
    if hint is bool:
        return JSONBoolean(metadata=metadata)
    if hint is int:
        return JSONInteger(validate=_number_range(path), metadata=metadata)
    if hint is float:
        return JSONNumber(validate=_number_range(path), metadata=metadata)
    if get_origin(hint) is Mapping:
        return VoltageMapping(metadata=metadata | {"type": "object",
                                                   "additionalProperties": {"type": "number"}})
    if get_origin(hint) is tuple:
        return fields.List(fields.String(), metadata=metadata)
    raise TypeError(f"{path}: no request field for a parameter of type {hint!r}")


def _parameters_schema(cls: type, path: str) -> type[Schema]:
    """A schema of partial overrides of the dataclass ``cls`` (every field optional)."""
    hints = get_type_hints(cls)
    docs = _attribute_docs(cls)
    attrs: dict[str, Any] = {
        f.name: _parameter_field(hints[f.name], f"{path}.{f.name}", docs.get(f.name, ""))
        for f in dataclasses.fields(cls)
    }
    known = ", ".join(sorted(attrs))
    attrs["error_messages"] = {"unknown": f"unknown parameter; known: {known}",
                               "type": "must be a JSON object"}
    attrs["__doc__"] = (inspect.getdoc(cls) or cls.__name__).split("\n")[0]
    return type(f"{cls.__name__}Schema", (Schema,), attrs)


#: Overrides of :class:`siting.parameters.ScreeningParameters`, nested as its fields.
ParametersSchema: type[Schema] = _parameters_schema(ScreeningParameters, "parameters")


# --------------------------------------------------------------------------- requests


def _technology() -> fields.String:
    return fields.String(
        required=True, validate=validate.OneOf(
            TECHNOLOGIES, error=f"must be {_TECHNOLOGY_CHOICES}, got {{input!r}}"),
        error_messages={"required": f"is required: {_TECHNOLOGY_CHOICES}",
                        "invalid": f"must be {_TECHNOLOGY_CHOICES}"})


def _parameters() -> fields.Nested:
    return fields.Nested(
        ParametersSchema, allow_none=True,
        metadata={"description": "Overrides of the engine's named parameters, nested as "
                                 "siting.parameters.ScreeningParameters (e.g. {\"exclusions\": "
                                 "{\"urban_buffer_m\": 2000}}); echoed in full with the run."})


class _RequestSchema(Schema):
    """A request body: a JSON object; an unknown field is refused with the known ones."""

    error_messages = {"type": "the request body must be a JSON object"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = ", ".join(self.declared_fields)
        self.error_messages = self.error_messages | {"unknown": f"unknown field; known: {known}"}


class ScreeningRequestSchema(_RequestSchema):
    """A screening: a corridor or a polygon, a technology and a resolution."""

    corridor = fields.String(
        allow_none=True,
        validate=validate.OneOf(tuple(CORRIDOR_STATES),
                                error=f"must be {_CORRIDOR_CHOICES}, got {{input!r}}"),
        error_messages={"invalid": f"must be {_CORRIDOR_CHOICES}"},
        metadata={"description": "Corridor to screen (instead of geometry)."})
    geometry = fields.Dict(
        allow_none=True, error_messages={"invalid": "must be a GeoJSON object (EPSG:4326)"},
        metadata={"description": "GeoJSON Polygon / MultiPolygon (or a Feature or "
                                 "FeatureCollection of them) in EPSG:4326; clipped to the "
                                 "corridor states."})
    technology = _technology()
    resolution_km = JSONNumber(
        load_default=DEFAULT_RESOLUTION_KM,
        validate=validate.Range(MIN_RESOLUTION_KM, MAX_RESOLUTION_KM,
                                error="must be between {min} and {max} km, got {input}"),
        metadata={"description": "Cell size. [km]"})
    parameters = _parameters()
    tile_cells = JSONInteger(
        load_default=DEFAULT_TILE_CELLS,
        validate=validate.Range(MIN_TILE_CELLS, MAX_TILE_CELLS,
                                error="must be a whole number from {min} to {max}, got {input}"),
        metadata={"description": "Largest lattice cells per tile task."})

    @validates_schema
    def _one_area(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        corridor, geometry = data.get("corridor"), data.get("geometry")
        if corridor is not None and geometry is not None:
            raise ValidationError("give either corridor or geometry, not both", "corridor")
        if corridor is None and geometry is None:
            raise ValidationError(f"give a corridor ({_CORRIDOR_CHOICES}) or a GeoJSON "
                                  "geometry (EPSG:4326)", "geometry")


class SiteCheckRequestSchema(_RequestSchema):
    """A candidate site: a point (a reference plant around it) or a polygon."""

    geometry = fields.Dict(
        required=True,
        error_messages={"required": "is required: a GeoJSON Point or Polygon in EPSG:4326",
                        "invalid": "must be a GeoJSON object (EPSG:4326)"},
        metadata={"description": "GeoJSON Point / Polygon / MultiPolygon (or a Feature) in "
                                 "EPSG:4326."})
    technology = _technology()
    parameters = _parameters()
