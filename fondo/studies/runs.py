"""One yield study from request to answer: validate, resolve, run the engine, answer.

:func:`prepare` hands the request to the engine's validation (``PVRequest.from_dict`` /
``WindRequest.from_dict``), checks the site is in Mexico, fills the site elevation from
the DEM, finds the site's corridor, chooses the station (:func:`siting.weather.choose_station`)
and loads its weather; :func:`evaluate` runs the engine; :func:`result_json` is the
contract's answer plus what the shell resolved. :func:`run_quick` is the three in a row
(``POST /api/v1/yield/{pv,wind}``, ``fondo yield pv|wind``): nothing is stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from fondo.errors import FondoError, InvalidInput, invalid_from
from fondo.request_body import non_finite_path
from fondo.studies.catalogue import WeatherReader, load_weather, station_from_row, station_rows
from fondo.studies.site import check_in_mexico, resource_layers_for, site_corridor, wrf_domains
from siting import wind as windmod
from siting.resource import site_resource
from siting.terrain import sample_raster
from siting.weather import Station, choose_station
from siting.yield_study import (PVRequest, WindRequest, YieldInputError, YieldResult,
                                request_to_dict, run_pv_study, run_wind_study)

#: Technologies and their request classes.
REQUEST_CLASSES = {"pv": PVRequest, "wind": WindRequest}

#: How each density correction method is cited in a wind study's assumptions.
DENSITY_CORRECTION_SOURCES = {
    windmod.DENSITY_CORRECTION_WINDPOWERLIB:
        "windpowerlib power_curve_density_correction (Svenningsen 2010, exponent 1/3 "
        "to 7.5 m/s rising to 2/3 at 12.5 m/s)",
    windmod.DENSITY_CORRECTION_SAM:
        "NREL SAM Windpower (ssc lib_windwatts.cpp): curve speeds times "
        "(rho0/rho)^(1/3)",
}


def parse_request(technology: str, body: Mapping[str, Any]) -> PVRequest | WindRequest:
    """The engine's request of ``technology``; the engine's refusal is a 422 naming the field."""
    if technology not in REQUEST_CLASSES:
        raise InvalidInput(f"technology must be 'pv' or 'wind', got {technology!r}.",
                           field="technology")
    try:
        return REQUEST_CLASSES[technology].from_dict(body)
    except YieldInputError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    except ValueError as exc:
        raise invalid_from(exc, "body") from None


@dataclass(frozen=True)
class PreparedStudy:
    """Everything a study needs, resolved and validated (no model run yet)."""

    technology: str
    request: PVRequest | WindRequest
    weather: pd.DataFrame
    station: Station
    distance_km: float
    elevation_difference_m: float | None
    corridor: str | None
    site_elevation_source: str
    wrf: windmod.WrfSiteMean | None
    resource: Mapping[str, Any] | None = None


def prepare(settings: Mapping[str, Any], session: Session, technology: str,
            body: Mapping[str, Any], *, read_weather: WeatherReader | None = None
            ) -> PreparedStudy:
    """Validate a request and resolve corridor, elevation, station, weather and WRF.

    Parameters
    ----------
    settings : mapping
        Fondo settings (``DATA_DIR``).
    session : Session
    technology : str
        ``"pv"`` or ``"wind"``.
    body : mapping
        The request (contract names), as its request schema loaded it.
    read_weather : callable, optional
        ``read(settings, row) -> bytes`` replacing the bundled file (tests hand a damaged
        file this way; such files are never cached).

    Raises
    ------
    InvalidInput
        Any bad field (outside Mexico, capacity ≤ 0, tilt, DC/AC, unknown turbine or
        station, hub height) or a weather file that fails its quality checks.
    FondoError
        The station catalogue is empty (reference data not loaded).
    """
    request = parse_request(technology, body)
    check_in_mexico(settings, request.lat, request.lon)
    layers = resource_layers_for(settings)  # the screening's layers: one resource model
    source = "request"
    if request.site_elevation_m is None:
        dem = float(sample_raster(layers.dem_m, layers.dem_transform, [request.lon], [request.lat])[0])
        if np.isfinite(dem):
            request = dataclasses.replace(request, site_elevation_m=round(dem, 1))
            source = "dem_corridor_1km"
        else:
            source = "station (no DEM value at the site)"
    corridor = site_corridor(session, request.lat, request.lon)
    rows = station_rows(session)
    if not rows:
        raise FondoError("the weather-station catalogue is empty: run `fondo seed`")
    stations = [station_from_row(r) for r in rows]
    if corridor is not None and not any(s.corridor == corridor for s in stations):
        corridor = None
    try:
        choice = choose_station(stations, request.lat, request.lon, corridor=corridor,
                                station_id=request.station_id,
                                site_elevation_m=request.site_elevation_m)
    except ValueError as exc:
        raise invalid_from(exc, "station_id") from None
    weather, station = load_weather(settings, rows[choice.index], read_weather)
    wrf = None
    if technology == "wind":
        wrf = windmod.wrf_mean_wind_speed(request.lat, request.lon, wrf_domains(settings))
    return PreparedStudy(technology, request, weather, station, choice.distance_km,
                         choice.elevation_difference_m, corridor, source, wrf,
                         site_resource(request.lat, request.lon, layers))


def long_term_resource(settings: Mapping[str, Any], latitude: float, longitude: float
                       ) -> dict[str, Any]:
    """The site's long-term resource by the screening's own model (issue 16, one resource model).

    The same :func:`siting.resource.site_resource` over the same layers (the screening
    bundle of this process) as a screening cell or a site check at the same place, so the
    study's station series is scaled to the mean the screening shows there.
    """
    return site_resource(latitude, longitude, resource_layers_for(settings))


def evaluate(prepared: PreparedStudy) -> YieldResult:
    """Run the engine on a prepared study (a domain ValueError is a 422).

    Raises
    ------
    InvalidInput
        The engine refused the request, or its result holds a number that is not finite
        (``field="body"``, the result's path in the message): nothing of it is stored or
        written.
    """
    p = prepared
    try:
        if p.technology == "pv":
            result = run_pv_study(p.request, p.weather, p.station, p.distance_km,
                                  elevation_difference_m=p.elevation_difference_m,
                                  resource=p.resource)
        else:
            result = run_wind_study(p.request, p.weather, p.station, p.distance_km,
                                    elevation_difference_m=p.elevation_difference_m, wrf=p.wrf,
                                    resource=p.resource)
    except YieldInputError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    except ValueError as exc:
        raise invalid_from(exc, "body") from None
    check_finite(result)
    return result


def check_finite(result: YieldResult) -> None:
    """Refuse a result with a NaN or infinite number (hourly series included)."""
    where = non_finite_path(result.to_dict())
    if where is None and not np.isfinite(result.energy_hourly_kwh).all():
        where = "energy_hourly_kwh"
    if where is not None:
        raise InvalidInput(f"The study's result is not a finite number ({where}): the "
                           "request is beyond what the model can compute.", field="body")


def result_json(prepared: PreparedStudy, result: YieldResult, *, hourly: bool = False
                ) -> dict[str, Any]:
    """The response of the contract plus what the shell resolved (corridor, sources)."""
    out = result.to_dict(hourly=hourly)
    assumptions = out["assumptions"]
    assumptions["site_corridor"] = prepared.corridor
    assumptions["station_choice"] = ("requested station_id" if prepared.request.station_id
                                     else "nearest station in the site's corridor"
                                     if prepared.corridor else "nearest station")
    assumptions["site_elevation_source"] = prepared.site_elevation_source
    if prepared.technology == "wind":
        method = windmod.DEFAULT_DENSITY_CORRECTION_METHOD
        assumptions["density_correction_method"] = method
        assumptions["density_correction_source"] = DENSITY_CORRECTION_SOURCES[method]
        if prepared.wrf is not None and prepared.wrf.covered:
            assumptions["wrf_domain"] = prepared.wrf.domain
    out["request"] = request_to_dict(prepared.request)
    return out


def run_quick(settings: Mapping[str, Any], session: Session, technology: str,
              body: Mapping[str, Any], *, hourly: bool = False,
              read_weather: WeatherReader | None = None) -> dict[str, Any]:
    """``POST /api/v1/yield/<technology>``: validate, run, answer (nothing stored)."""
    prepared = prepare(settings, session, technology, body, read_weather=read_weather)
    return result_json(prepared, evaluate(prepared), hourly=hourly)
