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
typed and documented here; a numeric one also needs its finite range in
:data:`PARAMETER_RANGES` (the module refuses to load without it). Loaded requests are plain
JSON (numbers, strings, lists, objects), so they can be stored and loaded again unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple, get_origin, get_type_hints

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fondo.schema_fields import JSONBoolean, JSONInteger, JSONNumber
from siting.grid import MAX_RESOLUTION_KM, MIN_RESOLUTION_KM
from siting.wind import MAX_HUB_HEIGHT_M
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


class ParameterRange(NamedTuple):
    """Finite range of a numeric parameter: ``low`` ≤ value ≤ ``high`` (or < when open)."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False


#: Voltage classes accepted as keys of the connection cost tables: transmission up to the
#: 1 100 kV of the largest UHV lines in service (Mexico's highest is 400 kV). [kV]
VOLTAGE_RANGE_KV = ParameterRange(0.0, 1200.0, low_open=True)
#: Line cost per km, per voltage class: 100 M USD/km is about 50 times the MISO 345 kV
#: figure of :class:`siting.parameters.ConnectionParameters`. [USD/km]
SPUR_COST_RANGE_USD_PER_KM = ParameterRange(0.0, 1e8)
#: Switching station cost, per voltage class: 10 000 M USD, about 700 times the 400 kV
#: default. [USD]
TAP_COST_RANGE_USD = ParameterRange(0.0, 1e10)

#: Buffers around excluded features: 50 km, beyond which one buffer covers a corridor's
#: state. [m]
_BUFFER_M = ParameterRange(0.0, 50_000.0)
#: Distances of the score, the site check and the resource model: 5 000 km spans Mexico
#: (about 3 200 km end to end). [km]
_DISTANCE_KM = ParameterRange(0.0, 5_000.0, low_open=True)
#: Distance scales the engine divides by (the resource's background and confidence
#: lengths, the score's worst grid distance): from 1 km, ten cells of the finest
#: resolution, so that a ratio of distances stays finite. [km]
_SCALE_KM = ParameterRange(1.0, 5_000.0)
#: Heights above ground of wind models, up to windpowerlib's hub heights. [m]
_HEIGHT_M = ParameterRange(0.0, MAX_HUB_HEIGHT_M, low_open=True)
#: Confidences and fractions. [-]
_FRACTION = ParameterRange(0.0, 1.0)
#: Energy costs: above any offer cap of an electricity market. [USD/MWh]
_LCOE_USD_PER_MWH = ParameterRange(0.0, 10_000.0)
#: Relative score weights (divided by their sum; percent weights fit). [-]
_WEIGHT = ParameterRange(0.0, 1_000.0)

#: Value ranges of the tables keyed by voltage class.
VOLTAGE_TABLE_RANGES: Mapping[str, ParameterRange] = {
    "parameters.connection.spur_cost_usd_per_km": SPUR_COST_RANGE_USD_PER_KM,
    "parameters.connection.tap_substation_cost_usd": TAP_COST_RANGE_USD,
}

#: The finite range of every numeric parameter (JSON path -> range), with its reason: the
#: policy values of :mod:`siting.parameters` are well inside, the bounds keep the engine's
#: arithmetic (powers, buffers, sums over cells) finite and its work bounded.
PARAMETER_RANGES: Mapping[str, ParameterRange] = {
    # 200 MW/km² is four times the NREL PV density (48), forty times wind's (5).
    "parameters.technology.power_density_mw_per_km2": ParameterRange(0.0, 200.0, low_open=True),
    # 1 000 % is a slope of 84°: the largest limit that still means something.
    "parameters.technology.slope_limit_pct": ParameterRange(0.0, 1_000.0),
    # 20 000 USD/kW is above any power plant's installed cost (IRENA: 758 PV, 1 160 wind).
    "parameters.technology.costs.capital_cost_usd_per_kw": ParameterRange(0.0, 20_000.0),
    # 1 000 USD/(kW·yr) is about ten times offshore wind's fixed O&M (NREL ATB).
    "parameters.technology.costs.fixed_operating_cost_usd_per_kw_year":
        ParameterRange(0.0, 1_000.0),
    "parameters.technology.costs.variable_operating_cost_usd_per_mwh": _LCOE_USD_PER_MWH,
    "parameters.technology.max_grid_distance_km": _DISTANCE_KM,
    # Shepard's exponent: beyond 10 the interpolation is the nearest station.
    "parameters.resource.idw_power": ParameterRange(0.0, 10.0),
    "parameters.resource.idw_background_distance_km": _SCALE_KM,
    # Hellmann exponents measured over land lie in 0.06 - 0.6.
    "parameters.resource.shear_exponent": ParameterRange(0.0, 1.0),
    "parameters.resource.hub_height_m": _HEIGHT_M,
    "parameters.resource.wrf_height_m": _HEIGHT_M,
    "parameters.resource.station_height_m": _HEIGHT_M,
    "parameters.resource.confidence_length_km": _SCALE_KM,
    "parameters.resource.pv_confidence_floor": _FRACTION,
    "parameters.resource.wind_confidence_floor": _FRACTION,
    "parameters.resource.wind_confidence_wrf": _FRACTION,
    "parameters.exclusions.protected_area_buffer_m": _BUFFER_M,
    "parameters.exclusions.urban_buffer_m": _BUFFER_M,
    "parameters.exclusions.village_buffer_m": _BUFFER_M,
    "parameters.exclusions.water_buffer_m": _BUFFER_M,
    "parameters.exclusions.extra_buffer_m": _BUFFER_M,
    "parameters.exclusions.river_buffer_m": _BUFFER_M,
    # The exclusion raster: 10 m (a corridor is then 5 billion pixels) to 1 km (the DEM).
    "parameters.exclusions.exclusion_resolution_m": ParameterRange(10.0, 1_000.0),
    # Smallest plant of a cell: up to 10 GW, larger than any plant in Mexico.
    "parameters.exclusions.min_plant_mw": ParameterRange(0.0, 10_000.0),
    "parameters.connection.unknown_voltage_kv": VOLTAGE_RANGE_KV,
    # A route ten times the straight distance is no route.
    "parameters.connection.routing_factor": ParameterRange(0.0, 10.0),
    # 1 MW to 10 GW: the plant that bears the connection cost (it divides that cost).
    "parameters.connection.reference_plant_mw": ParameterRange(1.0, 10_000.0),
    # Consultation radius: the consultation feature screens at most 50 km around a site.
    "parameters.consultation.radius_km": ParameterRange(0.0, 50.0),
    "parameters.consultation.max_localities_listed": ParameterRange(0, 100),
    "parameters.weights.lcoe": _WEIGHT,
    "parameters.weights.grid": _WEIGHT,
    "parameters.weights.community": _WEIGHT,
    "parameters.weights.confidence": _WEIGHT,
    "parameters.weights.available_area": _WEIGHT,
    "parameters.weights.lcoe_best_usd_per_mwh": _LCOE_USD_PER_MWH,
    "parameters.weights.lcoe_worst_usd_per_mwh": _LCOE_USD_PER_MWH,
    "parameters.weights.grid_distance_worst_km": _SCALE_KM,
    # A fraction of the capital charged per year (NREL SAM ``Lcoefcr``).
    "parameters.fixed_charge_rate": ParameterRange(0.0, 1.0, low_open=True, high_open=True),
}

_TECHNOLOGY_CHOICES = " or ".join(repr(t) for t in TECHNOLOGIES)
_CORRIDOR_CHOICES = " or ".join(repr(c) for c in CORRIDOR_STATES)


# --------------------------------------------------------------------------- JSON fields


def _within(value: float, bounds: ParameterRange) -> bool:
    above = value > bounds.low if bounds.low_open else value >= bounds.low
    below = value < bounds.high if bounds.high_open else value <= bounds.high
    return above and below


def _bounds_text(bounds: ParameterRange) -> str:
    return (f"{'>' if bounds.low_open else '>='} {bounds.low:g} and "
            f"{'<' if bounds.high_open else '<='} {bounds.high:g}")


class VoltageMapping(fields.Field):
    """A non-empty object of voltage class [kV] (as text, ``"115"``) -> a number in a range."""

    default_error_messages = {
        "invalid": "must be a non-empty object of voltage [kV] -> value",
        "key": "key {key!r} is not a voltage in kV ({bounds})",
    }

    def __init__(self, values: ParameterRange, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = values

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, float]:
        if not isinstance(value, Mapping) or not value:
            raise self.make_error("invalid")
        out: dict[str, float] = {}
        errors: dict[str, list[str]] = {}
        for key, item in value.items():
            try:
                kv = float(key)
            except (TypeError, ValueError):
                kv = math.nan
            if not _within(kv, VOLTAGE_RANGE_KV):  # NaN is within nothing
                errors[str(key)] = [self.error_messages["key"].format(
                    key=key, bounds=_bounds_text(VOLTAGE_RANGE_KV))]
                continue
            if isinstance(item, bool) or not isinstance(item, int | float) or not (
                    math.isfinite(item) and _within(item, self.values)):
                errors[str(key)] = [f"must be a number {_bounds_text(self.values)}, "
                                    f"got {item!r}"]
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
    bounds = PARAMETER_RANGES.get(path)
    if bounds is None:
        raise TypeError(f"{path}: a numeric parameter needs its range in PARAMETER_RANGES")
    return validate.Range(min=bounds.low, max=bounds.high, min_inclusive=not bounds.low_open,
                          max_inclusive=not bounds.high_open,
                          error=f"must be {_bounds_text(bounds)}, got {{input}}")


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
        values = VOLTAGE_TABLE_RANGES[path]
        return VoltageMapping(values, metadata=metadata | {
            "type": "object", "additionalProperties": {
                "type": "number", "minimum": values.low, "maximum": values.high}})
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
    resolution_km = JSONNumber(
        load_default=DEFAULT_RESOLUTION_KM,
        validate=validate.Range(MIN_RESOLUTION_KM, MAX_RESOLUTION_KM,
                                error="must be between {min} and {max} km, got {input}"),
        metadata={"description": "Cell size of the screening lattice whose cell holding a point is "
                                 "reported (`cell`), as a corridor screening at this resolution has "
                                 "it. [km]"})
