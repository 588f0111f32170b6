"""Detailed yield studies: validated requests, one site-year, full results.

The shell (REST, CLI, Celery) parses JSON into :class:`PVRequest` or
:class:`WindRequest` with ``from_dict`` (bad input raises
:class:`YieldInputError` naming the field), chooses the station
(:func:`siting.weather.choose_station`), parses its weather file
(:func:`siting.weather.parse_epw`) and calls :func:`run_pv_study` or
:func:`run_wind_study`. :meth:`YieldResult.to_dict` gives the response of
the issue's contract (``energy_annual_kwh``, ``energy_monthly_kwh``,
``capacity_factor``, ``p50_kwh``, ``p90_kwh``, ``station``, ``losses``,
``assumptions``) plus extra fields.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType

import numpy as np
import pandas as pd

from siting import pv as pvmod
from siting import wind as windmod
from siting.losses import LossBreakdown, loss_tree
from siting.uncertainty import (PV_UNCERTAINTY_DEFAULTS, WIND_UNCERTAINTY_DEFAULTS,
                                UncertaintyBudget, exceedance_values)
from siting.weather import HOURS_PER_YEAR, Station

__all__ = [
    "YieldInputError",
    "PVRequest",
    "WindRequest",
    "YieldResult",
    "run_pv_study",
    "run_wind_study",
    "request_to_dict",
    "RESOURCE_METHOD_STATION",
    "RESOURCE_COMPONENT",
    "scale_irradiance",
    "wind_energy_sensitivity",
    "MEXICO_LATITUDE_RANGE",
    "MEXICO_LONGITUDE_RANGE",
]

#: Latitude extent of Mexico incl. islands (14°32′27″ N – 32°43′06″ N). [°]
#: Source: INEGI, "Extremos geográficos de México". The shell may refine this
#: bounding box with the national boundary polygon.
MEXICO_LATITUDE_RANGE = (14.5408, 32.7183)
#: Longitude extent of Mexico incl. islands (118°22′00″ W – 86°42′36″ W). [°]
#: Source: INEGI, "Extremos geográficos de México".
MEXICO_LONGITUDE_RANGE = (-118.3667, -86.71)
#: PVWatts default DC-to-AC ratio. [-] Source: SAM ``Pvwattsv8`` ``dc_ac_ratio``.
DEFAULT_DC_AC_RATIO = 1.15
#: Accepted DC-to-AC ratio range. [-] Source: Fondo issue 3.
DC_AC_RATIO_RANGE = (0.5, 2.5)
#: Accepted GCR range. [fraction] Source: SAM ``Pvwattsv8`` constraint on ``gcr``.
GCR_RANGE = (0.01, 0.99)
#: Largest DC capacity of one study: 10 GW, beyond any single PV park (the largest are a
#: few GW; Villanueva, Coahuila, is about 0.8 GW), so that energies stay finite. [kW]
MAX_CAPACITY_DC_KW = 1e7
#: Smallest roughness length: ice or mud, the smoothest class of Manwell, McGowan & Rogers,
#: "Wind Energy Explained", 2nd ed., Table 2.2 (a smaller one makes the log profile
#: overflow). [m]
MIN_ROUGHNESS_LENGTH_M = 1e-5
#: Median PV degradation rate. [fraction/year] Source: Jordan & Kurtz 2013,
#: "Photovoltaic Degradation Rates — an Analytical Review", Prog. Photovolt.
#: 21, 12-29 (median 0.5 %/yr).
DEFAULT_DEGRADATION_RATE_PER_YEAR = 0.005
#: Default roughness length: open farmland/shrubland. [m] Source:
#: :data:`siting.wind.ROUGHNESS_LENGTH_BY_LAND_COVER_M` ("cropland").
DEFAULT_ROUGHNESS_LENGTH_M = 0.1
#: EPW wind measurement height. [m]
MEASUREMENT_HEIGHT_M = 10.0
#: Years of the long horizon of P-values. [year]
LONG_HORIZON_YEARS = 10
#: Irradiance at standard test conditions. [W/m²] Source: IEC 61215.
STC_IRRADIANCE_W_M2 = 1000.0

_WEATHER_COLUMNS = ("dni", "dhi", "temp_air", "wind_speed", "atmospheric_pressure")
#: ``resource_method`` of a study run on the station's series as they are (no site resource).
RESOURCE_METHOD_STATION = "station_series_unscaled"
#: ``resource_method`` of a wind study scaled to a WRF mean given without the resource model.
RESOURCE_METHOD_WRF = "wrf_80m"
#: Relative step of the mean wind speed used to measure d ln E / d ln U. [-]
WIND_SENSITIVITY_STEP = 0.05
#: Name of the uncertainty component of the site's long-term resource estimate.
RESOURCE_COMPONENT = "long_term_resource_estimate"


class YieldInputError(ValueError):
    """A request field is missing, of the wrong type or out of range.

    Attributes
    ----------
    field : str
        Name of the offending request field.
    """

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def _number(data, name, *, default=None, required=False, lo=None, hi=None, lo_open=False,
            integer=False):
    if name not in data or data[name] is None:
        if required:
            raise YieldInputError(name, "is required")
        return default
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise YieldInputError(name, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise YieldInputError(name, f"must be finite, got {value!r}")
    if integer:
        if value != int(value):
            raise YieldInputError(name, f"must be an integer, got {value!r}")
        value = int(value)
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise YieldInputError(name, f"must be {'>' if lo_open else '≥'} {lo}, got {value}")
    if hi is not None and value > hi:
        raise YieldInputError(name, f"must be ≤ {hi}, got {value}")
    return value


def _location(data):
    lat = _number(data, "lat", required=True)
    lon = _number(data, "lon", required=True)
    if not MEXICO_LATITUDE_RANGE[0] <= lat <= MEXICO_LATITUDE_RANGE[1]:
        raise YieldInputError("lat", f"{lat} is outside Mexico {MEXICO_LATITUDE_RANGE}")
    if not MEXICO_LONGITUDE_RANGE[0] <= lon <= MEXICO_LONGITUDE_RANGE[1]:
        raise YieldInputError("lon", f"{lon} is outside Mexico {MEXICO_LONGITUDE_RANGE}")
    return lat, lon


def _station_id(data):
    sid = data.get("station_id")
    if sid is None:
        return None
    if isinstance(sid, bool) or not isinstance(sid, (str, int)):
        raise YieldInputError("station_id", f"must be a WMO id string, got {sid!r}")
    sid = str(sid).strip()
    if not sid.isdigit():
        raise YieldInputError("station_id", f"must be a WMO id of digits, got {sid!r}")
    return sid


def _reject_unknown(data, cls):
    if not isinstance(data, dict):
        raise YieldInputError("body", f"must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    for key in data:
        if key not in known:
            raise YieldInputError(str(key), "is not a field of this request")


@dataclass(frozen=True)
class PVRequest:
    """A PV yield request (issue 3 contract names).

    Attributes
    ----------
    lat, lon : float
        Site. [°]
    capacity_dc_kw : float
        [kW]
    dc_ac_ratio : float
        [-]
    tilt_deg : float
        [°]; default :func:`siting.pv.optimal_tilt_deg` of ``lat`` (fixed),
        0 for trackers.
    azimuth_deg : float
        180 = south. [°]
    tracking : str
        ``"fixed"`` or ``"single_axis"``.
    gcr : float
        [fraction]
    system_losses : float
        [fraction]
    station_id : str or None
    degradation_rate_per_year : float
        [fraction/year]
    operating_year : int
        1 = first year (no degradation).
    bifacial_gain : float
        Rear-side energy gain. [fraction]
    site_elevation_m : float or None
        [m]
    """

    lat: float
    lon: float
    capacity_dc_kw: float
    dc_ac_ratio: float = DEFAULT_DC_AC_RATIO
    tilt_deg: float | None = None
    azimuth_deg: float = 180.0
    tracking: str = "fixed"
    gcr: float = pvmod.DEFAULT_GCR
    system_losses: float = LossBreakdown.pvwatts_default().total
    station_id: str | None = None
    degradation_rate_per_year: float = DEFAULT_DEGRADATION_RATE_PER_YEAR
    operating_year: int = 1
    bifacial_gain: float = 0.0
    site_elevation_m: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "PVRequest":
        """Validate a JSON-like dict; raise :class:`YieldInputError` naming the field."""
        _reject_unknown(data, cls)
        lat, lon = _location(data)
        tracking = data.get("tracking", "fixed")
        if tracking not in ("fixed", "single_axis"):
            raise YieldInputError("tracking", f"must be 'fixed' or 'single_axis', got {tracking!r}")
        tilt = _number(data, "tilt_deg", lo=0.0, hi=90.0)
        if tilt is None:
            tilt = 0.0 if tracking == "single_axis" else round(pvmod.optimal_tilt_deg(lat), 1)
        return cls(
            lat=lat, lon=lon,
            capacity_dc_kw=_number(data, "capacity_dc_kw", required=True, lo=0.0, lo_open=True,
                                   hi=MAX_CAPACITY_DC_KW),
            dc_ac_ratio=_number(data, "dc_ac_ratio", default=DEFAULT_DC_AC_RATIO,
                                lo=DC_AC_RATIO_RANGE[0], hi=DC_AC_RATIO_RANGE[1]),
            tilt_deg=tilt,
            azimuth_deg=_number(data, "azimuth_deg", default=180.0, lo=0.0, hi=360.0),
            tracking=tracking,
            gcr=_number(data, "gcr", default=pvmod.DEFAULT_GCR, lo=GCR_RANGE[0], hi=GCR_RANGE[1]),
            system_losses=_number(data, "system_losses",
                                  default=LossBreakdown.pvwatts_default().total, lo=0.0, hi=0.99),
            station_id=_station_id(data),
            degradation_rate_per_year=_number(data, "degradation_rate_per_year",
                                              default=DEFAULT_DEGRADATION_RATE_PER_YEAR,
                                              lo=0.0, hi=0.1),
            operating_year=_number(data, "operating_year", default=1, lo=1, hi=60, integer=True),
            bifacial_gain=_number(data, "bifacial_gain", default=0.0, lo=0.0, hi=0.5),
            site_elevation_m=_number(data, "site_elevation_m", lo=-500.0, hi=6000.0),
        )


@dataclass(frozen=True)
class WindRequest:
    """A wind yield request (issue 3 contract names).

    Attributes
    ----------
    lat, lon : float
        [°]
    turbine_type : str
        windpowerlib name.
    hub_height_m : float
        [m]
    turbine_count : int
    roughness_length_m : float
        [m]; from ``land_cover`` when given instead.
    station_id : str or None
    wake_losses : float or None
        [fraction]; default from windpowerlib's ``dena_mean`` farm efficiency.
    other_losses : float
        Availability and electrical. [fraction]
    land_cover : str or None
        Key of :data:`siting.wind.ROUGHNESS_LENGTH_BY_LAND_COVER_M`.
    site_elevation_m : float or None
        [m]
    """

    lat: float
    lon: float
    turbine_type: str
    hub_height_m: float
    turbine_count: int = 1
    roughness_length_m: float = DEFAULT_ROUGHNESS_LENGTH_M
    station_id: str | None = None
    wake_losses: float | None = None
    other_losses: float = windmod.DEFAULT_OTHER_LOSSES
    land_cover: str | None = None
    site_elevation_m: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "WindRequest":
        """Validate a JSON-like dict; raise :class:`YieldInputError` naming the field."""
        from siting.turbines import turbine_types

        _reject_unknown(data, cls)
        lat, lon = _location(data)
        turbine = data.get("turbine_type")
        if not isinstance(turbine, str) or not turbine:
            raise YieldInputError("turbine_type", "is required (a windpowerlib turbine name)")
        if turbine not in turbine_types():
            raise YieldInputError("turbine_type", f"{turbine!r} is not a known turbine type")
        hub = _number(data, "hub_height_m", required=True)
        if hub < MEASUREMENT_HEIGHT_M:
            raise YieldInputError("hub_height_m", f"{hub} m is below the {MEASUREMENT_HEIGHT_M} m "
                                  "measurement height")
        if hub > windmod.MAX_HUB_HEIGHT_M:
            raise YieldInputError("hub_height_m", f"{hub} m is above {windmod.MAX_HUB_HEIGHT_M} m")
        land_cover = data.get("land_cover")
        if land_cover is not None:
            if "roughness_length_m" in data and data["roughness_length_m"] is not None:
                raise YieldInputError("land_cover", "give roughness_length_m or land_cover, not both")
            try:
                z0 = windmod.roughness_length_for(land_cover)
            except ValueError as exc:
                raise YieldInputError("land_cover", str(exc)) from None
        else:
            z0 = _number(data, "roughness_length_m", default=DEFAULT_ROUGHNESS_LENGTH_M,
                         lo=MIN_ROUGHNESS_LENGTH_M, hi=5.0)
        if z0 >= MEASUREMENT_HEIGHT_M:
            raise YieldInputError("roughness_length_m", "must be below the measurement height")
        return cls(
            lat=lat, lon=lon, turbine_type=turbine, hub_height_m=hub,
            turbine_count=_number(data, "turbine_count", default=1, lo=1, hi=2000, integer=True),
            roughness_length_m=z0, station_id=_station_id(data),
            wake_losses=_number(data, "wake_losses", lo=0.0, hi=0.99),
            other_losses=_number(data, "other_losses", default=windmod.DEFAULT_OTHER_LOSSES,
                                 lo=0.0, hi=0.99),
            land_cover=land_cover,
            site_elevation_m=_number(data, "site_elevation_m", lo=-500.0, hi=6000.0),
        )


@dataclass(frozen=True)
class YieldResult:
    """Results of one detailed study.

    Attributes
    ----------
    technology : str
        ``"pv"`` or ``"wind"``.
    times : pandas.DatetimeIndex
        8760 interval starts.
    energy_hourly_kwh : numpy.ndarray
        AC energy per hour. [kWh]
    energy_monthly_kwh : numpy.ndarray
        (12,) [kWh]
    energy_annual_kwh : float
        [kWh]
    capacity_kw : float
        DC capacity (PV) or farm nameplate (wind). [kW]
    capacity_factor : float
        [fraction]
    specific_yield_kwh_per_kwp : float or None
        PV only. [kWh/kWp]
    performance_ratio : float or None
        PV only, IEC 61724 (final yield / reference yield). [fraction]
    losses : tuple of siting.losses.LossStep
    p_values : Mapping
        ``{"1_year": {"p50": ...}, "10_year": {...}}`` [kWh]
    station : Mapping
        ``id``, ``name``, ``distance_km`` and ``elevation_difference_m``.
    assumptions : Mapping
    resource : Mapping
        The long-term resource the series was scaled to (:func:`site_resource_summary`):
        ``resource_method``, ``resource_confidence`` and the means used.
    """

    technology: str
    times: pd.DatetimeIndex
    energy_hourly_kwh: np.ndarray
    energy_monthly_kwh: np.ndarray
    energy_annual_kwh: float
    capacity_kw: float
    capacity_factor: float
    specific_yield_kwh_per_kwp: float | None
    performance_ratio: float | None
    losses: tuple
    p_values: MappingProxyType
    station: MappingProxyType
    assumptions: MappingProxyType
    resource: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self, hourly: bool = False) -> dict:
        """JSON-able response (issue 3 contract names plus extras).

        Parameters
        ----------
        hourly : bool
            Include ``energy_hourly_kwh`` (8760 values) and ``times``.
        """
        one = self.p_values["1_year"]
        ten = self.p_values[f"{LONG_HORIZON_YEARS}_year"]
        out = {
            "technology": self.technology,
            "energy_annual_kwh": float(self.energy_annual_kwh),
            "energy_monthly_kwh": [float(x) for x in self.energy_monthly_kwh],
            "capacity_factor": float(self.capacity_factor),
            "p50_kwh": float(one["p50"]),
            "p75_kwh": float(one["p75"]),
            "p90_kwh": float(one["p90"]),
            "p99_kwh": float(one["p99"]),
            "p_values_kwh": {h: {k: float(v) for k, v in pv.items()}
                             for h, pv in self.p_values.items()},
            "p90_10_year_kwh": float(ten["p90"]),
            "station": dict(self.station),
            "losses": [{"name": s.name, "fraction": float(s.fraction),
                        "energy_kwh": float(s.energy_kwh)} for s in self.losses],
            "assumptions": _jsonable(dict(self.assumptions)),
            "capacity_kw": float(self.capacity_kw),
            "resource_method": self.resource.get("resource_method", RESOURCE_METHOD_STATION),
            "resource_confidence": self.resource.get("resource_confidence"),
            "resource": _jsonable(dict(self.resource)),
        }
        if self.technology == "pv":
            out["specific_yield_kwh_per_kwp"] = float(self.specific_yield_kwh_per_kwp)
            out["performance_ratio"] = float(self.performance_ratio)
        if hourly:
            out["times"] = [t.isoformat() for t in self.times]
            out["energy_hourly_kwh"] = [float(x) for x in self.energy_hourly_kwh]
        return out


def _jsonable(value):
    if isinstance(value, dict) or isinstance(value, MappingProxyType):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _check_weather(weather_df):
    if not isinstance(weather_df, pd.DataFrame):
        raise ValueError("weather_df must be the DataFrame returned by parse_epw")
    missing = [c for c in _WEATHER_COLUMNS if c not in weather_df.columns]
    if missing:
        raise ValueError(f"weather_df lacks columns {missing}")
    if len(weather_df) != HOURS_PER_YEAR:
        raise ValueError(f"weather_df has {len(weather_df)} rows, expected {HOURS_PER_YEAR}")
    if weather_df.index.tz is None:
        raise ValueError("weather_df index must be tz-aware")


def _monthly(times, hourly):
    return np.bincount(pvmod.hour_tables(times).month_index, weights=np.asarray(hourly, float), minlength=12)


def _station_dict(station: Station, distance_km, elevation_difference_m):
    return MappingProxyType({
        "id": station.station_id, "name": station.name, "distance_km": float(distance_km),
        "elevation_difference_m": None if elevation_difference_m is None
        else float(elevation_difference_m),
        "latitude": station.latitude, "longitude": station.longitude,
        "elevation_m": station.elevation_m, "corridor": station.corridor,
    })


def scale_irradiance(weather_df: pd.DataFrame, ghi_kwh_m2_day: float) -> tuple[pd.DataFrame, float, float]:
    """The station's hourly irradiance scaled to a site's long-term mean GHI (shape kept).

    Parameters
    ----------
    weather_df : pandas.DataFrame
        From :func:`siting.weather.parse_epw` (``ghi``, ``dni``, ``dhi`` in W/m²).
    ghi_kwh_m2_day : float
        The site's long-term annual-mean daily GHI. [kWh/m²/day]

    Returns
    -------
    (DataFrame, float, float)
        The weather with ``ghi``, ``dni`` and ``dhi`` times ``k = G_site / G_station``, ``k``
        [-], and the station's own mean ``G_station``. [kWh/m²/day]

    Notes
    -----
    One factor for every component keeps the hourly clearness pattern and the diffuse
    fraction of the station; it is what the screening's energy step assumes when it
    scales a station's yield by the GHI ratio (``siting.cell_energy``).
    """
    k, station_ghi = _irradiance_scale(weather_df, ghi_kwh_m2_day)
    out = weather_df.copy()
    for column in ("ghi", "dni", "dhi"):
        out[column] = weather_df[column] * k
    return out, k, station_ghi


def _irradiance_scale(weather_df: pd.DataFrame, ghi_kwh_m2_day: float) -> tuple[float, float]:
    """``(G_site / G_station, G_station)`` of :func:`scale_irradiance`. [-], [kWh/m²/day]"""
    if not (math.isfinite(ghi_kwh_m2_day) and ghi_kwh_m2_day > 0):
        raise ValueError(f"ghi_kwh_m2_day must be finite and > 0, got {ghi_kwh_m2_day}")
    days = len(weather_df) / 24.0
    station_ghi = float(weather_df["ghi"].to_numpy(float).sum()) / 1000.0 / days
    if station_ghi <= 0:
        raise ValueError("the station's GHI sums to zero; cannot scale it")
    return ghi_kwh_m2_day / station_ghi, station_ghi


def _p_values(p50, defaults):
    budget = UncertaintyBudget(defaults)
    return MappingProxyType({
        "1_year": exceedance_values(p50, budget, 1),
        f"{LONG_HORIZON_YEARS}_year": exceedance_values(p50, budget, LONG_HORIZON_YEARS),
    }), budget


def run_pv_study(request: PVRequest, weather_df: pd.DataFrame, station: Station,
                 distance_km: float, *, elevation_difference_m: float | None = None,
                 losses: LossBreakdown | None = None, resource=None) -> YieldResult:
    """Run a detailed PV study.

    Parameters
    ----------
    request : PVRequest
    weather_df : pandas.DataFrame
        From :func:`siting.weather.parse_epw`.
    station : Station
    distance_km : float
        Site–station distance. [km]
    elevation_difference_m : float, optional
        Site minus station elevation. [m]
    losses : LossBreakdown, optional
        Named breakdown; default: PVWatts v8 proportions scaled to
        ``request.system_losses``.
    resource : mapping, optional
        The site's long-term resource (:func:`siting.resource.site_resource`): the
        station's irradiance is scaled to ``ghi_kwh_m2_day`` (:func:`scale_irradiance`)
        and the result reports ``pv_method`` and ``pv_confidence``.

    Returns
    -------
    YieldResult
    """
    _check_weather(weather_df)
    summary = {"resource_method": RESOURCE_METHOD_STATION, "resource_confidence": None}
    k = 1.0
    if resource is not None:  # scale_irradiance's factor, applied to the arrays below
        k, station_ghi = _irradiance_scale(weather_df, float(resource["ghi_kwh_m2_day"]))
        summary = {"resource_method": resource["pv_method"],
                   "resource_confidence": float(resource["pv_confidence"]),
                   "ghi_site_kwh_m2_day": float(resource["ghi_kwh_m2_day"]),
                   "ghi_station_kwh_m2_day": station_ghi, "irradiance_scale_factor": k}
    if losses is None:
        losses = LossBreakdown.from_total(request.system_losses)
    elif abs(losses.total - request.system_losses) > 1e-9:
        raise YieldInputError("system_losses", f"{request.system_losses} differs from the "
                              f"breakdown's total {losses.total:.6f}")
    tracking = request.tracking == "single_axis"
    degradation = (1.0 - request.degradation_rate_per_year) ** (request.operating_year - 1)
    site_elev = (request.site_elevation_m if request.site_elevation_m is not None
                 else station.elevation_m)
    albedo = weather_df["albedo"] if "albedo" in weather_df.columns else None
    h = pvmod.simulate_pv(
        weather_df.index, weather_df["dni"].to_numpy(float) * k,
        weather_df["dhi"].to_numpy(float) * k, weather_df["temp_air"],
        weather_df["wind_speed"], weather_df["atmospheric_pressure"],
        latitude=request.lat, longitude=request.lon, elevation_m=site_elev,
        capacity_dc_kw=request.capacity_dc_kw, dc_ac_ratio=request.dc_ac_ratio,
        tilt_deg=request.tilt_deg, azimuth_deg=request.azimuth_deg, tracking=tracking,
        gcr=request.gcr, system_losses=losses.total, albedo=albedo,
        degradation_factor=degradation, bifacial_gain=request.bifacial_gain)
    cap = request.capacity_dc_kw
    annual = float(h.ac_kw.sum())
    h_poa_kwh_m2 = float(h.poa_nominal.sum()) / 1000.0
    nominal = cap * h_poa_kwh_m2
    stages = [("self_shading_and_bifacial", cap * h.poa_shaded.sum() / STC_IRRADIANCE_W_M2),
              ("reflection_iam", cap * h.poa_effective.sum() / STC_IRRADIANCE_W_M2),
              ("temperature_and_dc_model", h.dc_gross_kw.sum())]
    level = float(h.dc_gross_kw.sum())
    for name, frac in losses.items.items():
        level *= 1.0 - frac
        stages.append((name, level))
    stages += [("degradation", h.dc_net_kw.sum()),
               ("inverter_efficiency", h.ac_unclipped_kw.sum()),
               ("inverter_clipping", annual)]
    tree = loss_tree(nominal, stages)
    pvals, budget = _p_values(annual, PV_UNCERTAINTY_DEFAULTS)
    specific = annual / cap
    pr = specific / h_poa_kwh_m2 if h_poa_kwh_m2 > 0 else 0.0
    assumptions = {
        "model": "PVWatts v8 chain with pvlib (SPA sun at mid-interval, Perez 1990, "
                 "self-shading per Deline 2013, AR-glass physical IAM, SAM NOCT cell "
                 "temperature, pvwatts_dc, PVWatts inverter)",
        "weather_time_label": "interval start, local standard time UTC-6",
        "tilt_deg": request.tilt_deg, "azimuth_deg": request.azimuth_deg,
        "tracking": request.tracking, "gcr": request.gcr,
        "tracker_max_angle_deg": pvmod.TRACKER_MAX_ANGLE_DEG if tracking else None,
        "dc_ac_ratio": request.dc_ac_ratio,
        "ac_capacity_kw": cap / request.dc_ac_ratio,
        "gamma_pdc_per_c": pvmod.GAMMA_PDC_STANDARD_PER_C,
        "inverter_efficiency_nominal": pvmod.INVERTER_EFFICIENCY_NOMINAL,
        "noct_c": pvmod.NOCT_OPEN_RACK_C,
        "system_losses": losses.total,
        "system_loss_breakdown": dict(losses.items),
        "degradation_rate_per_year": request.degradation_rate_per_year,
        "operating_year": request.operating_year,
        "bifacial_gain": request.bifacial_gain,
        "site_elevation_m": site_elev,
        "poa_irradiation_kwh_per_m2": h_poa_kwh_m2,
        "uncertainty_components": dict(budget.components),
        "uncertainty_combined_1_year": budget.combined(1),
        f"uncertainty_combined_{LONG_HORIZON_YEARS}_year": budget.combined(LONG_HORIZON_YEARS),
    }
    return YieldResult(
        technology="pv", times=weather_df.index, energy_hourly_kwh=h.ac_kw,
        energy_monthly_kwh=_monthly(weather_df.index, h.ac_kw), energy_annual_kwh=annual,
        capacity_kw=cap, capacity_factor=annual / (cap * HOURS_PER_YEAR),
        specific_yield_kwh_per_kwp=specific, performance_ratio=pr, losses=tree,
        p_values=pvals, station=_station_dict(station, distance_km, elevation_difference_m),
        assumptions=MappingProxyType(assumptions), resource=MappingProxyType(summary))


def run_wind_study(request: WindRequest, weather_df: pd.DataFrame, station: Station,
                   distance_km: float, *, elevation_difference_m: float | None = None,
                   wrf: windmod.WrfSiteMean | None = None, resource=None) -> YieldResult:
    """Run a detailed wind study.

    Parameters
    ----------
    request : WindRequest
    weather_df : pandas.DataFrame
        From :func:`siting.weather.parse_epw`.
    station : Station
    distance_km : float
        [km]
    elevation_difference_m : float, optional
        Site minus station elevation. [m]
    wrf : siting.wind.WrfSiteMean, optional
        From :func:`siting.wind.wrf_mean_wind_speed`; when ``covered``, the
        station's hours take the site's hub-height distribution at the layer's
        mean carried to hub height with the same logarithmic profile.
    resource : mapping, optional
        The site's long-term resource (:func:`siting.resource.site_resource`), which
        takes precedence over ``wrf``: the station's hours take the site's hub-height
        distribution (:func:`siting.wind.long_term_hub_shape`) at
        ``wind_speed_80m_m_s`` carried from ``wind_height_m`` to hub height by the same
        logarithmic profile; the P-values carry the estimate's uncertainty
        ``wind_sigma`` times the site's sensitivity ``d ln E / d ln U`` in place of the
        default weather-file component.

    Returns
    -------
    YieldResult
    """
    _check_weather(weather_df)
    if request.site_elevation_m is not None:
        site_elev = request.site_elevation_m
    elif elevation_difference_m is not None:
        site_elev = station.elevation_m + elevation_difference_m
    else:
        site_elev = station.elevation_m
    z0 = request.roughness_length_m
    hub_mean = None
    summary = {"resource_method": RESOURCE_METHOD_STATION, "resource_confidence": None}
    if resource is not None:
        wrf = windmod.WrfSiteMean(True, float(resource["wind_speed_80m_m_s"]),
                                  float(resource["wind_height_m"]), None)
        summary = {"resource_method": resource["wind_method"],
                   "resource_confidence": float(resource["wind_confidence"]),
                   "wind_speed_site_m_s": float(resource["wind_speed_80m_m_s"]),
                   "wind_speed_height_m": float(resource["wind_height_m"]),
                   "wind_speed_sigma_relative": float(resource["wind_sigma"])}
    elif wrf is not None and wrf.covered:
        summary = {"resource_method": RESOURCE_METHOD_WRF, "resource_confidence": None,
                   "wind_speed_site_m_s": float(wrf.mean_wind_speed_m_s),
                   "wind_speed_height_m": float(wrf.height_m)}
    scaled = bool(wrf is not None and wrf.covered)
    if scaled:
        hub_mean = float(windmod.hub_wind_speed(np.array([wrf.mean_wind_speed_m_s]),
                                                wrf.height_m, request.hub_height_m, z0)[0])
    common = dict(turbine_type=request.turbine_type, hub_height_m=request.hub_height_m,
                  roughness_length_m=z0, station_elevation_m=station.elevation_m,
                  site_elevation_m=site_elev, turbine_count=request.turbine_count,
                  measurement_height_m=MEASUREMENT_HEIGHT_M, mean_wind_speed_hub_m_s=hub_mean)
    h = windmod.simulate_wind(weather_df["wind_speed"], weather_df["temp_air"],
                              weather_df["atmospheric_pressure"], wake_losses=request.wake_losses,
                              other_losses=request.other_losses, **common)
    no_density = windmod.simulate_wind(weather_df["wind_speed"], weather_df["temp_air"],
                                       weather_df["atmospheric_pressure"], wake_losses=0.0,
                                       other_losses=0.0, density_correction=False, **common)
    annual = float(h.ac_kw.sum())
    other = LossBreakdown.from_total(request.other_losses, template={
        "availability": windmod.DEFAULT_AVAILABILITY_LOSSES,
        "electrical": windmod.DEFAULT_ELECTRICAL_LOSSES})
    stages = [("air_density", h.gross_kw.sum()), ("wake", h.after_wake_kw.sum())]
    level = float(h.after_wake_kw.sum())
    for name, frac in other.items.items():
        level *= 1.0 - frac
        stages.append((name, level))
    tree = loss_tree(no_density.gross_kw.sum(), stages)
    components = dict(WIND_UNCERTAINTY_DEFAULTS)
    if resource is not None:
        sensitivity = wind_energy_sensitivity(h, request.turbine_type)
        components.pop("weather_file_representativeness", None)
        components[RESOURCE_COMPONENT] = min(sensitivity * float(resource["wind_sigma"]), 0.99)
        summary["energy_sensitivity_to_wind_speed"] = sensitivity
    pvals, budget = _p_values(annual, MappingProxyType(components))
    assumptions = {
        "model": "windpowerlib: logarithmic profile, density-corrected power curve "
                 "(linear temperature gradient, barometric pressure), wake then "
                 "availability and electrical losses",
        "weather_time_label": "interval start, local standard time UTC-6",
        "turbine_type": request.turbine_type, "hub_height_m": request.hub_height_m,
        "turbine_count": request.turbine_count,
        "turbine_rated_power_kw": h.capacity_kw / request.turbine_count,
        "roughness_length_m": z0, "land_cover": request.land_cover,
        "measurement_height_m": MEASUREMENT_HEIGHT_M,
        "wake_losses": h.wake_losses,
        "wake_losses_source": "request" if request.wake_losses is not None
        else f"windpowerlib {windmod.WAKE_EFFICIENCY_CURVE} wind-farm efficiency",
        "other_losses": request.other_losses,
        "other_loss_breakdown": dict(other.items),
        "site_elevation_m": site_elev,
        "mean_air_density_kg_per_m3": float(h.air_density.mean()),
        "mean_hub_wind_speed_m_s": float(h.hub_wind_speed.mean()),
        "wind_scaled_to_wrf": scaled,
        "wrf_mean_wind_speed_m_s": None if not scaled else wrf.mean_wind_speed_m_s,
        "wrf_height_m": None if not scaled else wrf.height_m,
        "wrf_note": ("station hours mapped onto the site's hub-height Weibull distribution at "
                     f"its long-term mean ({summary['resource_method']}; shape carried from the "
                     "station's by Justus & Mikhail 1976)" if resource is not None
                     else "station hours mapped onto the site's hub-height Weibull distribution "
                     "at the WRF 80 m layer's mean" if scaled else "site outside the WRF 80 m layer: station series "
                     "extrapolated with the logarithmic profile only"),
        "uncertainty_components": dict(budget.components),
        "uncertainty_combined_1_year": budget.combined(1),
        f"uncertainty_combined_{LONG_HORIZON_YEARS}_year": budget.combined(LONG_HORIZON_YEARS),
    }
    return YieldResult(
        technology="wind", times=weather_df.index, energy_hourly_kwh=h.ac_kw,
        energy_monthly_kwh=_monthly(weather_df.index, h.ac_kw), energy_annual_kwh=annual,
        capacity_kw=h.capacity_kw, capacity_factor=annual / (h.capacity_kw * HOURS_PER_YEAR),
        specific_yield_kwh_per_kwp=None, performance_ratio=None, losses=tree, p_values=pvals,
        station=_station_dict(station, distance_km, elevation_difference_m),
        assumptions=MappingProxyType(assumptions), resource=MappingProxyType(summary))


def wind_energy_sensitivity(hourly: windmod.WindHourly, turbine_type: str,
                            step: float = WIND_SENSITIVITY_STEP) -> float:
    """``d ln E / d ln U`` of a wind farm-year, by a central difference on the mean speed.

    Parameters
    ----------
    hourly : siting.wind.WindHourly
        The simulated year (hub speeds and densities).
    turbine_type : str
    step : float
        Relative change of every hourly speed. [-]

    Returns
    -------
    float
        ``ln(E(1+s) / E(1-s)) / ln((1+s) / (1-s))`` of the density-corrected gross
        energy (SAM's correction, :func:`siting.wind.power_curve_density_correction_sam`);
        0 when the farm produces nothing. [-]
    """
    curve = windmod.turbine_curve(turbine_type)
    v, rho = hourly.hub_wind_speed, hourly.air_density
    up = windmod.power_curve_density_correction_sam(v * (1 + step), curve.wind_speed_m_s, curve.power_kw, rho).sum()
    down = windmod.power_curve_density_correction_sam(v * (1 - step), curve.wind_speed_m_s, curve.power_kw, rho).sum()
    if up <= 0 or down <= 0:
        return 0.0
    return float(np.log(up / down) / np.log((1 + step) / (1 - step)))


def request_to_dict(request) -> dict:
    """Plain dict of a request (for storage). [same names as the contract]"""
    return asdict(request)
