"""Request schemas of yield studies: one per request, shared by the REST API and the CLI.

=====================================  ==========================================
schema                                 used by
=====================================  ==========================================
:class:`PVRequestSchema`               ``POST /api/v1/yield/pv``, ``fondo yield pv``
:class:`WindRequestSchema`             ``POST /api/v1/yield/wind``, ``fondo yield wind``
:class:`StudyRequestSchema`            ``POST /api/v1/studies``, ``fondo study create``
=====================================  ==========================================

The endpoints load them with ``@blp.arguments`` (strict JSON, :mod:`web.api.docs`), the
commands with :func:`fondo.request_body.load_request`, so both refuse the same bodies
naming the same field. A schema checks what a JSON schema can say — types, required
fields, plain bounds, enumerations, unknown fields — and loads numbers as given; the
engine (``PVRequest.from_dict``, ``WindRequest.from_dict``) remains the domain check
(a known turbine type, a roughness below the measurement height, a WMO id) and supplies
the defaults. A ``null`` optional field means "the default", as the engine reads it.
The bounds are the engine's (:mod:`siting.yield_study`, :mod:`siting.wind`);
``tests/fondo/test_yield_services.py`` checks that each one agrees with the engine.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from fondo.schema_fields import DATABASE_ID_RANGE, JSONInteger, JSONNumber
from siting import wind as windmod
from siting.yield_study import (
    DC_AC_RATIO_RANGE,
    GCR_RANGE,
    MAX_CAPACITY_DC_KW,
    MIN_ROUGHNESS_LENGTH_M,
    MEASUREMENT_HEIGHT_M,
    MEXICO_LATITUDE_RANGE,
    MEXICO_LONGITUDE_RANGE,
)

#: Tilt of a fixed array or tracker axis. [°]
TILT_RANGE_DEG = (0.0, 90.0)
#: Array azimuth, 180 = south. [°]
AZIMUTH_RANGE_DEG = (0.0, 360.0)
#: Losses as a fraction of energy (PV system losses, wind wake and other losses). [fraction]
LOSS_RANGE = (0.0, 0.99)
#: PV degradation. [fraction/year]
DEGRADATION_RANGE_PER_YEAR = (0.0, 0.1)
#: Operating year of the answer (1 = first year, no degradation). [year]
OPERATING_YEAR_RANGE = (1, 60)
#: Rear-side energy gain of bifacial modules. [fraction]
BIFACIAL_GAIN_RANGE = (0.0, 0.5)
#: Site elevation above sea level. [m]
SITE_ELEVATION_RANGE_M = (-500.0, 6000.0)
#: Turbines in a wind farm. [-]
TURBINE_COUNT_RANGE = (1, 2000)
#: Largest roughness length accepted (the smallest is the engine's
#: :data:`~siting.yield_study.MIN_ROUGHNESS_LENGTH_M`). [m]
MAX_ROUGHNESS_LENGTH_M = 5.0
#: Technologies of a stored study.
TECHNOLOGIES = ("pv", "wind")


#: Lower and upper bound (None: unbounded on that side).
Bounds = tuple[float | None, float | None]


def _range(bounds: Bounds, *, min_inclusive: bool = True) -> validate.Range:
    return validate.Range(min=bounds[0], max=bounds[1], min_inclusive=min_inclusive)


def _number(description: str, bounds: Bounds | None = None, *,
            required: bool = False, min_inclusive: bool = True) -> JSONNumber:
    checks = [_range(bounds, min_inclusive=min_inclusive)] if bounds else []
    return JSONNumber(required=required, allow_none=not required, validate=checks,
                      metadata={"description": description})


def _integer(description: str, bounds: tuple[int, int]) -> JSONInteger:
    return JSONInteger(allow_none=True, validate=_range(bounds),
                       metadata={"description": description})


def _text(description: str, *, required: bool = False, choices: tuple[str, ...] = ()
          ) -> fields.String:
    return fields.String(required=required, allow_none=not required,
                         validate=validate.OneOf(choices) if choices else None,
                         metadata={"description": description})


class PVRequestSchema(Schema):
    """A PV request (issue 3 contract names); ``null`` or absent means the engine's default."""

    class Meta:
        unknown = RAISE

    lat = _number("Site latitude, in Mexico. [°]", MEXICO_LATITUDE_RANGE, required=True)
    lon = _number("Site longitude, in Mexico. [°]", MEXICO_LONGITUDE_RANGE, required=True)
    capacity_dc_kw = _number("DC capacity (> 0; at most 10 GW, beyond any single PV park). "
                             "[kW]", (0.0, MAX_CAPACITY_DC_KW),
                             required=True, min_inclusive=False)
    dc_ac_ratio = _number("DC/AC ratio (default 1.15). [-]", DC_AC_RATIO_RANGE)
    tilt_deg = _number("Tilt (default near-optimal for the latitude; 0 for trackers). [°]",
                       TILT_RANGE_DEG)
    azimuth_deg = _number("Azimuth, 180 = south (default 180). [°]", AZIMUTH_RANGE_DEG)
    tracking = _text("fixed or single_axis (backtracking); default fixed.",
                     choices=("fixed", "single_axis"))
    gcr = _number("Ground coverage ratio. [fraction]", GCR_RANGE)
    system_losses = _number("System losses (default PVWatts' 0.14). [fraction]", LOSS_RANGE)
    station_id = _text("WMO id of the station to use instead of the nearest.")
    degradation_rate_per_year = _number("Module degradation (default 0.005). [fraction/year]",
                                        DEGRADATION_RANGE_PER_YEAR)
    operating_year = _integer("Operating year of the answer, 1 = first (no degradation).",
                              OPERATING_YEAR_RANGE)
    bifacial_gain = _number("Rear-side energy gain (default 0). [fraction]",
                            BIFACIAL_GAIN_RANGE)
    site_elevation_m = _number("Site elevation (default: the bundled DEM). [m]",
                               SITE_ELEVATION_RANGE_M)


class WindRequestSchema(Schema):
    """A wind request (issue 3 contract names); ``null`` or absent means the engine's default."""

    class Meta:
        unknown = RAISE

    lat = _number("Site latitude, in Mexico. [°]", MEXICO_LATITUDE_RANGE, required=True)
    lon = _number("Site longitude, in Mexico. [°]", MEXICO_LONGITUDE_RANGE, required=True)
    turbine_type = _text("windpowerlib turbine type (see GET /api/v1/turbines).",
                         required=True)
    hub_height_m = _number("Hub height. [m]", (MEASUREMENT_HEIGHT_M, windmod.MAX_HUB_HEIGHT_M),
                           required=True)
    turbine_count = _integer("Turbines in the farm (default 1).", TURBINE_COUNT_RANGE)
    roughness_length_m = _number("Roughness length (or give land_cover; default 0.1), from "
                                 "ice or mud (1e-5) to city centres. [m]",
                                 (MIN_ROUGHNESS_LENGTH_M, MAX_ROUGHNESS_LENGTH_M))
    land_cover = _text("Land cover whose roughness length to use.",
                       choices=tuple(windmod.ROUGHNESS_LENGTH_BY_LAND_COVER_M))
    station_id = _text("WMO id of the station to use instead of the nearest.")
    wake_losses = _number("Wake losses (default: windpowerlib's dena_mean farm "
                          "efficiency). [fraction]", LOSS_RANGE)
    other_losses = _number("Availability and electrical losses (default SAM's). [fraction]",
                           LOSS_RANGE)
    site_elevation_m = _number("Site elevation (default: the bundled DEM). [m]",
                               SITE_ELEVATION_RANGE_M)


#: The request schema of each technology.
REQUEST_SCHEMAS: dict[str, type[Schema]] = {"pv": PVRequestSchema, "wind": WindRequestSchema}


class StudyRequestSchema(Schema):
    """A stored study: the technology, that technology's request, optionally a site.

    ``request`` is loaded with :class:`PVRequestSchema` or :class:`WindRequestSchema`; its
    errors name the request's own field (``capacity_dc_kw``), as the quick endpoints do.
    """

    class Meta:
        unknown = RAISE

    technology = _text("pv or wind.", required=True, choices=TECHNOLOGIES)
    request = fields.Dict(required=True, metadata={
        "description": "The PV or wind request (same fields as /yield/pv or /yield/wind)."})
    site_id = JSONInteger(allow_none=True, validate=DATABASE_ID_RANGE, metadata={
        "description": "Stored site the study belongs to."})

    @post_load
    def _load_request(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        schema = REQUEST_SCHEMAS[data["technology"]]()
        try:
            data["request"] = schema.load(data["request"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return data
