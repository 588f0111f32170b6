"""The report of a point clicked on the map: the site check and a quick yield per MW.

Both answers come from the existing services: the candidate-site check of the screening
(:func:`fondo.screening.service.check_site_request`: constraints passed and failed with their
reasons, resource, nearest station, LCOE) for a reference plant centred on the point, and the
quick energy-yield run of the studies (:func:`fondo.studies.service.run_quick`: the nearest
typical-year station's hourly weather through pvlib or windpowerlib) for one MW.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from fondo.errors import InvalidInput
from fondo.screening import service as screening_service
from fondo.studies import service as studies_service

__all__ = ["QUICK_PV_CAPACITY_DC_KW", "REFERENCE_TURBINE", "point_report"]

#: DC capacity of the quick PV run: one MW, so its energy is the yield per MW DC. [kW]
QUICK_PV_CAPACITY_DC_KW = 1000.0
#: The quick wind run uses the reference turbine and hub height of the screening's energy
#: step (``siting.cell_energy.default_energy_step``: Vestas V126/3.3 MW at 100 m), so the two
#: per-MW figures of the report can be compared.
REFERENCE_TURBINE = {"turbine_type": "V126/3300", "hub_height_m": 100.0}


def _quick_yield(settings: Mapping[str, Any], session: Session, technology: str,
                 longitude: float, latitude: float) -> dict[str, Any]:
    body: dict[str, Any] = {"lat": latitude, "lon": longitude}
    if technology == "pv":
        body["capacity_dc_kw"] = QUICK_PV_CAPACITY_DC_KW
    else:
        body |= REFERENCE_TURBINE
    result = studies_service.run_quick(settings, session, technology, body)
    capacity_kw = float(result.get("capacity_kw") or QUICK_PV_CAPACITY_DC_KW)
    energy_kwh = float(result["energy_annual_kwh"])
    station = result.get("station") or {}
    return {
        "technology": technology,
        "capacity_kw": capacity_kw,
        "energy_mwh_per_mw": energy_kwh / capacity_kw,  # kWh/kW = MWh/MW
        "capacity_factor": float(result["capacity_factor"]),
        "p90_mwh_per_mw": float(result["p90_kwh"]) / capacity_kw,
        "station": station,
        "request": body,
        "method": ("pvlib PVWatts-style run of the station's typical year, 1 MW DC"
                   if technology == "pv" else
                   "windpowerlib run of the station's typical year, "
                   f"{REFERENCE_TURBINE['turbine_type']} at {REFERENCE_TURBINE['hub_height_m']:g} m"),
    }


def point_report(settings: Mapping[str, Any], session: Session,
                 request: Mapping[str, Any]) -> dict[str, Any]:
    """Check a clicked point and run a quick yield for it (nothing stored).

    Parameters
    ----------
    settings : mapping
    session : Session
        Reads the station catalogue.
    request : dict
        As loaded by :class:`~fondo.maps.schemas.PointReportRequestSchema`.

    Returns
    -------
    dict
        ``longitude``, ``latitude``, ``technology``, ``check`` (the site check's answer) and
        ``quick_yield`` (``energy_mwh_per_mw``, ``capacity_factor``, ``p90_mwh_per_mw``,
        ``station``), or ``quick_yield: null`` with ``quick_yield_error`` when the yield
        run refused the point (the check still stands).

    Raises
    ------
    InvalidInput
        A point outside Mexico (field ``longitude``).
    """
    longitude, latitude = float(request["longitude"]), float(request["latitude"])
    technology = request.get("technology") or "pv"
    try:
        check = screening_service.check_site_request(settings, {
            "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
            "technology": technology})
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, field="longitude", extra=exc.extra) from None
    answer: dict[str, Any] = {"longitude": longitude, "latitude": latitude,
                              "technology": technology, "check": check}
    try:
        answer["quick_yield"] = _quick_yield(settings, session, technology, longitude, latitude)
    except InvalidInput as exc:
        answer["quick_yield"] = None
        answer["quick_yield_error"] = exc.detail
    return answer
