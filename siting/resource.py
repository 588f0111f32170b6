"""Solar and wind resource at any point, from the bundled real layers.

Method (documented; its leave-one-station-out error is measured by
:func:`leave_one_station_out`):

**GHI** ``ghi_kwh_m2_day``: the MERRA-2 3° annual-mean GHI grid (Gelaro et al.
2017) is the background ``B(p)``, interpolated bilinearly between cell centres.
Each typical-year station ``i`` gives a ratio ``r_i = G_i / B(p_i)``.  The ratio
at ``p`` is an inverse-distance weighted mean (Shepard 1968) of the station
ratios and of the background's own ratio 1, which weighs as much as a station
at ``idw_background_distance_km``::

    r(p) = (sum_i w_i r_i + w_0) / (sum_i w_i + w_0),  w_i = d_i^-k,  w_0 = L^-k
    GHI(p) = B(p) * r(p)

so a station corrects the background near it and the correction fades to
MERRA-2 far from every station.

**Wind** ``wind_speed_100m_m_s``: the mean wind at 80 m of
:mod:`siting.wind_calibration` — inside a WRF 80 m domain (Hernández-Yepes et
al. 2024) the annual mean of the nearest WRF grid point; outside, the
station-based estimate (:func:`station_wind_80m_m_s`: each station's 10 m mean
lifted to 80 m with an *effective* exponent ``α_eff`` fitted on the stations
inside a WRF domain, ``α_eff = mean_i ln(U80_WRF(p_i) / U10_i) / ln(80 / 10)``,
interpolated by inverse-distance weighting) calibrated on terrain with what the
domains show, blended continuously at the domains' edges — sheared to 100 m by
the power law ``U(z) = U(z_r) (z / z_r)^α`` with the 1/7 exponent (Peterson &
Hennessey 1978).

**One resource model**: :func:`site_resource` (a study's site, a site check's
point) and :func:`cell_resource` (the screening's cells) call the same
functions, so a study, a site check and a screening cell at the same place
use the same long-term means, the same ``resource_method`` and the same
``resource_confidence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyproj
from scipy.interpolate import RegularGridInterpolator
from scipy.spatial import cKDTree
from windpowerlib.wind_speed import hellman

from siting import wind_calibration as wcal
from siting.parameters import GEOGRAPHIC_CRS, PROJECTED_CRS, ResourceParameters

__all__ = [
    "M_PER_KM",
    "MIN_DISTANCE_KM",
    "merra2_ghi_kwh_m2_day",
    "idw_ratio",
    "ghi_kwh_m2_day",
    "wrf_wind_speed",
    "power_law_shear",
    "effective_shear_exponent",
    "wind_speed_100m_m_s",
    "station_wind_80m_m_s",
    "WindModel",
    "wind_model",
    "CellResource",
    "ResourceLayers",
    "resource_layers",
    "cell_resource",
    "site_resource",
    "PV_METHOD",
    "RESOURCE_METHOD_LABELS",
    "WIND_CALIBRATION",
    "SIGMA_NO_CONFIDENCE",
    "wind_confidence",
    "nearest_station",
    "resource_confidence",
    "leave_one_station_out",
    "leave_one_station_out_wind_hub",
    "loo_summary",
]

#: Metres per kilometre.
M_PER_KM = 1000.0
#: Distances below this count as this in the IDW weights (avoids 1/0 at a station). [km]
MIN_DISTANCE_KM = 0.01


@lru_cache(maxsize=4)
def _lonlat_to_6372() -> pyproj.Transformer:
    """EPSG:4326 (lon, lat) -> EPSG:6372, built once (building one costs milliseconds)."""
    return pyproj.Transformer.from_crs(GEOGRAPHIC_CRS, PROJECTED_CRS, always_xy=True)


def merra2_ghi_kwh_m2_day(latitude, longitude, merra2: pd.DataFrame) -> np.ndarray:
    """Bilinear interpolation of the MERRA-2 3° annual-mean GHI.

    Parameters
    ----------
    latitude, longitude : array_like
        Points. [°]
    merra2 : DataFrame
        Cells with ``lat``, ``lon`` (cell centres, 3° lattice) and
        ``ghi_kwh_m2_day_annual``. Missing (ocean) cells are filled from the
        nearest present cell before interpolating. [kWh/m²/day]

    Returns
    -------
    ndarray
        Background GHI, extrapolated linearly beyond the outer centres. [kWh/m²/day]
    """
    interp = _merra2_interpolator(merra2)
    lat = np.asarray(latitude, dtype=float)
    lon = np.asarray(longitude, dtype=float)
    return interp(np.column_stack([lat.ravel(), lon.ravel()])).reshape(lat.shape)


def _merra2_interpolator(merra2: pd.DataFrame) -> RegularGridInterpolator:
    lats = np.unique(merra2["lat"].to_numpy(float))
    lons = np.unique(merra2["lon"].to_numpy(float))
    grid = np.full((lats.size, lons.size), np.nan)
    grid[np.searchsorted(lats, merra2["lat"].to_numpy(float)), np.searchsorted(lons, merra2["lon"].to_numpy(float))] = (
        merra2["ghi_kwh_m2_day_annual"].to_numpy(float)
    )
    missing = np.isnan(grid)
    if missing.any():
        glat, glon = np.meshgrid(lats, lons, indexing="ij")
        tree = cKDTree(np.column_stack([glat[~missing], glon[~missing]]))
        _, idx = tree.query(np.column_stack([glat[missing], glon[missing]]))
        grid[missing] = grid[~missing][idx]
    if lats.size < 2 or lons.size < 2:
        raise ValueError("merra2 needs at least 2 latitudes and 2 longitudes")
    return RegularGridInterpolator((lats, lons), grid, method="linear", bounds_error=False, fill_value=None)


def idw_ratio(distance_km: np.ndarray, ratio: np.ndarray, power: float, background_km: float | None) -> np.ndarray:
    """Inverse-distance weighted mean of station values, with an optional background.

    Parameters
    ----------
    distance_km : ndarray (n_points, n_stations)
        Distances. [km]
    ratio : ndarray (n_stations,)
        Station values.
    power : float
        Weight exponent ``k``. [-]
    background_km : float or None
        Distance ``L`` at which the background value 1 weighs as one station;
        ``None`` for a plain IDW. [km]

    Returns
    -------
    ndarray (n_points,)
        ``(Σ w_i v_i + w_0) / (Σ w_i + w_0)`` with ``w_i = d_i^-k``, ``w_0 = L^-k``.
    """
    w = np.maximum(distance_km, MIN_DISTANCE_KM) ** (-power)
    num = w @ ratio
    den = w.sum(axis=1)
    if background_km is not None:
        w0 = background_km ** (-power)
        num = num + w0
        den = den + w0
    return num / den


def _distances_km(x_m, y_m, station_xy_m: np.ndarray) -> np.ndarray:
    x = np.asarray(x_m, dtype=float).ravel()
    y = np.asarray(y_m, dtype=float).ravel()
    return np.hypot(x[:, None] - station_xy_m[None, :, 0], y[:, None] - station_xy_m[None, :, 1]) / M_PER_KM


def ghi_kwh_m2_day(
    latitude, longitude, x_m, y_m, stations: pd.DataFrame, station_xy_m: np.ndarray, merra2: pd.DataFrame,
    params: ResourceParameters = ResourceParameters(),
) -> np.ndarray:
    """Annual-mean daily GHI by MERRA-2 background times IDW station ratio.

    Parameters
    ----------
    latitude, longitude : array_like
        Points. [°]
    x_m, y_m : array_like
        The same points in EPSG:6372. [m]
    stations : DataFrame
        ``latitude``, ``longitude``, ``ghi_kwh_m2_day`` per station.
    station_xy_m : ndarray (n_stations, 2)
        Stations in EPSG:6372. [m]
    merra2 : DataFrame
        See :func:`merra2_ghi_kwh_m2_day`.
    params : ResourceParameters
        ``idw_power``, ``idw_background_distance_km``.

    Returns
    -------
    ndarray
        GHI. [kWh/m²/day]
    """
    background = merra2_ghi_kwh_m2_day(latitude, longitude, merra2)
    station_bg = merra2_ghi_kwh_m2_day(stations["latitude"], stations["longitude"], merra2)
    ratio = stations["ghi_kwh_m2_day"].to_numpy(float) / station_bg
    d = _distances_km(x_m, y_m, station_xy_m)
    r = idw_ratio(d, ratio, params.idw_power, params.idw_background_distance_km)
    return background * r.reshape(background.shape)


def power_law_shear(wind_speed_m_s, height_from_m: float, height_to_m: float, exponent: float):
    """Wind speed at another height by the power law.

    Parameters
    ----------
    wind_speed_m_s : float, array_like or pandas.Series
        Wind speed at ``height_from_m``. [m/s]
    height_from_m, height_to_m : float
        Heights above ground. [m]
    exponent : float
        Shear (Hellman) exponent ``α``. [-]

    Returns
    -------
    numpy.ndarray or pandas.Series
        ``U * (height_to / height_from) ** α``, of the kind of
        ``wind_speed_m_s`` (a 0-d value for a scalar). [m/s]

    Notes
    -----
    Evaluated by :func:`windpowerlib.wind_speed.hellman` with
    ``hellman_exponent=exponent``.

    References
    ----------
    Peterson & Hennessey (1978), J. Appl. Meteorol. 17, 390-394.

    Examples
    --------
    >>> round(float(power_law_shear(7.0, 80.0, 100.0, 1 / 7)), 4)
    7.2267
    """
    if height_from_m <= 0 or height_to_m <= 0:
        raise ValueError(f"heights must be > 0 m, got {height_from_m} and {height_to_m}")
    if isinstance(wind_speed_m_s, pd.Series):
        wind_speed = wind_speed_m_s.astype(float)
    else:
        wind_speed = np.asarray(wind_speed_m_s, dtype=float)
    return hellman(wind_speed, height_from_m, height_to_m, hellman_exponent=exponent)


def wrf_wind_speed(latitude, longitude, wind_layers) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-grid-point WRF annual mean wind where a domain covers the point.

    Parameters
    ----------
    latitude, longitude : array_like
        Points. [°]
    wind_layers : sequence of siting.layers.WindLayer
        Domains; the first one covering a point wins.

    Returns
    -------
    wind_speed_m_s : ndarray
        Wind at the layers' height, NaN where no domain covers. [m/s]
    covered : ndarray of bool
    """
    lat = np.asarray(latitude, dtype=float).ravel()
    lon = np.asarray(longitude, dtype=float).ravel()
    out = np.full(lat.shape, np.nan)
    for layer in wind_layers:  # a handful of domains, each vectorized over points
        la, lo = np.asarray(layer.latitude, float), np.asarray(layer.longitude, float)
        dla, dlo = (la[-1] - la[0]) / (la.size - 1), (lo[-1] - lo[0]) / (lo.size - 1)
        i = np.rint((lat - la[0]) / dla).astype(np.int64)
        j = np.rint((lon - lo[0]) / dlo).astype(np.int64)
        inside = (i >= 0) & (i < la.size) & (j >= 0) & (j < lo.size) & np.isnan(out)
        vals = np.asarray(layer.wind_speed_m_s, float)[np.clip(i, 0, la.size - 1), np.clip(j, 0, lo.size - 1)]
        take = inside & np.isfinite(vals)
        out[take] = vals[take]
    return out, np.isfinite(out)


def effective_shear_exponent(
    station_wind_10m_m_s, wrf_wind_m_s, params: ResourceParameters = ResourceParameters()
) -> float:
    """Effective station-to-WRF shear exponent, fitted where both exist.

    Parameters
    ----------
    station_wind_10m_m_s : array_like
        Station mean wind at ``station_height_m``. [m/s]
    wrf_wind_m_s : array_like
        WRF mean wind at ``wrf_height_m`` at the stations (NaN if uncovered). [m/s]
    params : ResourceParameters

    Returns
    -------
    float
        ``mean ln(U_wrf / U_st) / ln(z_wrf / z_st)`` over covered stations, or
        ``params.shear_exponent`` when no station is covered. [-]
    """
    u_st = np.asarray(station_wind_10m_m_s, float)
    u_wrf = np.asarray(wrf_wind_m_s, float)
    ok = np.isfinite(u_wrf) & (u_st > 0)
    if not ok.any():
        return float(params.shear_exponent)
    alpha = np.log(u_wrf[ok] / u_st[ok]) / np.log(params.wrf_height_m / params.station_height_m)
    return float(np.mean(alpha))


def wind_speed_100m_m_s(
    latitude, longitude, x_m, y_m, stations: pd.DataFrame, station_xy_m: np.ndarray, wind_layers,
    params: ResourceParameters = ResourceParameters(),
) -> tuple[np.ndarray, np.ndarray]:
    """Mean wind speed at hub height by the station-only method (WRF where it covers, else sheared station IDW).

    The method before issue 16, kept as the reference of the wind calibration's checks; the
    screening, site checks and studies use :func:`cell_resource` (terrain-calibrated outside
    WRF, continuous at the domains' edges).

    Parameters
    ----------
    latitude, longitude : array_like
        Points. [°]
    x_m, y_m : array_like
        The same points in EPSG:6372. [m]
    stations : DataFrame
        ``latitude``, ``longitude``, ``wind_speed_10m_m_s``.
    station_xy_m : ndarray (n_stations, 2)
        Stations in EPSG:6372. [m]
    wind_layers : sequence of WindLayer
        WRF domains at ``params.wrf_height_m``.
    params : ResourceParameters

    Returns
    -------
    wind_speed_m_s : ndarray
        Mean wind at ``params.hub_height_m``. [m/s]
    in_wrf : ndarray of bool
        Whether the value comes from WRF.
    """
    wrf, in_wrf = wrf_wind_speed(latitude, longitude, wind_layers)
    u10 = stations["wind_speed_10m_m_s"].to_numpy(float)
    wrf_st, _ = wrf_wind_speed(stations["latitude"], stations["longitude"], wind_layers)
    alpha_eff = effective_shear_exponent(u10, wrf_st, params)
    u_st_wrf_height = power_law_shear(u10, params.station_height_m, params.wrf_height_m, alpha_eff)
    d = _distances_km(x_m, y_m, station_xy_m)
    from_stations = idw_ratio(d, u_st_wrf_height, params.idw_power, None)
    at_wrf_height = np.where(in_wrf, wrf, from_stations)
    hub = power_law_shear(at_wrf_height, params.wrf_height_m, params.hub_height_m, params.shear_exponent)
    shape = np.shape(np.asarray(latitude))
    return hub.reshape(shape), in_wrf.reshape(shape)


def nearest_station(x_m, y_m, station_xy_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance to the nearest station.

    Parameters
    ----------
    x_m, y_m : array_like
        Points in EPSG:6372. [m]
    station_xy_m : ndarray (n_stations, 2)
        Stations in EPSG:6372. [m]

    Returns
    -------
    index : ndarray of int
    distance_km : ndarray [km]
    """
    d, i = cKDTree(station_xy_m).query(np.column_stack([np.ravel(x_m), np.ravel(y_m)]))
    return i.astype(np.int64), d / M_PER_KM


def resource_confidence(
    technology: str, distance_station_km, in_wrf, params: ResourceParameters = ResourceParameters()
) -> np.ndarray:
    """Confidence in the cell's resource estimate, in [0, 1].

    Parameters
    ----------
    technology : str
        ``"pv"`` or ``"wind"``.
    distance_station_km : array_like
        Distance to the nearest station. [km]
    in_wrf : array_like of bool
        Whether the wind comes from a WRF domain.
    params : ResourceParameters

    Returns
    -------
    ndarray
        ``floor + (1 - floor) * exp(-d / L)``; for wind inside WRF,
        ``wind_confidence_wrf``. [-]
    """
    d = np.asarray(distance_station_km, dtype=float)
    decay = np.exp(-d / params.confidence_length_km)
    if technology == "pv":
        return params.pv_confidence_floor + (1 - params.pv_confidence_floor) * decay
    if technology == "wind":
        outside = params.wind_confidence_floor + (1 - params.wind_confidence_floor) * decay
        return np.where(np.asarray(in_wrf, bool), params.wind_confidence_wrf, outside)
    raise ValueError(f"technology must be 'pv' or 'wind', got {technology!r}")


def leave_one_station_out(
    stations: pd.DataFrame, station_xy_m: np.ndarray, merra2: pd.DataFrame,
    params: ResourceParameters = ResourceParameters(),
) -> pd.DataFrame:
    """Leave-one-station-out check of the GHI and (outside-WRF) wind methods.

    Each station is predicted from the other stations (and, for GHI, the
    MERRA-2 background) and compared with its own typical-year value.

    Parameters
    ----------
    stations : DataFrame
        Station table (``station_id``, ``latitude``, ``longitude``,
        ``ghi_kwh_m2_day``, ``wind_speed_10m_m_s``).
    station_xy_m : ndarray (n, 2)
        Stations in EPSG:6372. [m]
    merra2 : DataFrame
        MERRA-2 table.
    params : ResourceParameters

    Returns
    -------
    DataFrame
        One row per station: ``ghi_observed_kwh_m2_day``,
        ``ghi_merra2_kwh_m2_day`` (background alone), ``ghi_loo_kwh_m2_day``
        (method without the station), ``wind_observed_10m_m_s``,
        ``wind_loo_10m_m_s`` (IDW of the other stations; the shear factor is a
        constant so the relative error carries to 100 m).
    """
    n = len(stations)
    if n < 3:
        raise ValueError(f"leave-one-out needs at least 3 stations, got {n}")
    lat = stations["latitude"].to_numpy(float)
    lon = stations["longitude"].to_numpy(float)
    ghi = stations["ghi_kwh_m2_day"].to_numpy(float)
    u10 = stations["wind_speed_10m_m_s"].to_numpy(float)
    bg = merra2_ghi_kwh_m2_day(lat, lon, merra2)
    ratio = ghi / bg
    d = _distances_km(station_xy_m[:, 0], station_xy_m[:, 1], station_xy_m)
    # Leaving station i out = giving it zero weight: an infinite distance on the diagonal.
    np.fill_diagonal(d, np.inf)
    w = d ** (-params.idw_power)
    w0 = params.idw_background_distance_km ** (-params.idw_power)
    ghi_loo = bg * (w @ ratio + w0) / (w.sum(axis=1) + w0)
    wind_loo = (w @ u10) / w.sum(axis=1)
    return pd.DataFrame(
        {
            "station_id": stations["station_id"].astype(str).to_numpy(),
            "name": stations["name"].to_numpy(),
            "ghi_observed_kwh_m2_day": ghi,
            "ghi_merra2_kwh_m2_day": bg,
            "ghi_loo_kwh_m2_day": ghi_loo,
            "wind_observed_10m_m_s": u10,
            "wind_loo_10m_m_s": wind_loo,
        }
    )


def leave_one_station_out_wind_hub(
    stations: pd.DataFrame, station_xy_m: np.ndarray, wind_layers,
    params: ResourceParameters = ResourceParameters(),
) -> pd.DataFrame:
    """Leave-one-out check of the outside-WRF wind method at WRF height, on the WRF-covered stations.

    For each station inside a WRF domain, the outside-WRF method is applied
    without it: ``α_eff`` fitted on the other covered stations, the other
    stations' 10 m means lifted with it and interpolated by IDW; the result is
    compared with the WRF mean at the station.

    Returns
    -------
    DataFrame
        ``station_id``, ``wind_wrf_m_s`` (WRF at ``wrf_height_m``),
        ``wind_loo_m_s`` (method without the station), ``alpha_loo``. [m/s]
    """
    u10 = stations["wind_speed_10m_m_s"].to_numpy(float)
    wrf, covered = wrf_wind_speed(stations["latitude"], stations["longitude"], wind_layers)
    d = _distances_km(station_xy_m[:, 0], station_xy_m[:, 1], station_xy_m)
    rows = []
    for k in np.nonzero(covered)[0]:  # a handful of covered stations (analysis, not a hot path)
        others = np.arange(len(u10)) != k
        alpha = effective_shear_exponent(u10[others], np.where(others, wrf, np.nan)[others], params)
        lifted = power_law_shear(u10[others], params.station_height_m, params.wrf_height_m, alpha)
        pred = idw_ratio(d[k : k + 1, others], lifted, params.idw_power, None)[0]
        rows.append({"station_id": str(stations["station_id"].iloc[k]), "wind_wrf_m_s": float(wrf[k]),
                     "wind_loo_m_s": float(pred), "alpha_loo": alpha})
    return pd.DataFrame(rows, columns=["station_id", "wind_wrf_m_s", "wind_loo_m_s", "alpha_loo"])


def loo_summary(loo: pd.DataFrame) -> dict[str, float]:
    """Error figures of :func:`leave_one_station_out`.

    Returns
    -------
    dict
        ``ghi_rmse_pct``, ``ghi_mae_pct``, ``ghi_bias_pct`` of the method,
        ``ghi_merra2_rmse_pct`` of MERRA-2 alone, ``wind_rmse_pct``,
        ``wind_mae_pct`` of the station IDW; relative to the observed values. [%]
    """
    def rel(pred, obs):
        return 100.0 * (loo[pred].to_numpy() - loo[obs].to_numpy()) / loo[obs].to_numpy()

    e_ghi = rel("ghi_loo_kwh_m2_day", "ghi_observed_kwh_m2_day")
    e_bg = rel("ghi_merra2_kwh_m2_day", "ghi_observed_kwh_m2_day")
    e_w = rel("wind_loo_10m_m_s", "wind_observed_10m_m_s")
    return {
        "ghi_rmse_pct": float(np.sqrt(np.mean(e_ghi**2))),
        "ghi_mae_pct": float(np.mean(np.abs(e_ghi))),
        "ghi_bias_pct": float(np.mean(e_ghi)),
        "ghi_merra2_rmse_pct": float(np.sqrt(np.mean(e_bg**2))),
        "wind_rmse_pct": float(np.sqrt(np.mean(e_w**2))),
        "wind_mae_pct": float(np.mean(np.abs(e_w))),
    }


#: ``resource_method`` of GHI everywhere: MERRA-2 background times the IDW station ratio.
PV_METHOD = "merra2_station_idw"

#: English label of each ``resource_method`` (msgids of ``web/translations/strings_resource.py``:
#: the report and the pages show these, translated, next to ``resource_confidence``).
RESOURCE_METHOD_LABELS = {
    PV_METHOD: "MERRA-2 irradiation corrected by the nearby weather stations",
    wcal.METHOD_WRF: "WRF mesoscale model, 80 m (1 km)",
    wcal.METHOD_WRF_BLEND: "WRF mesoscale model blended at the edge of its domain",
    wcal.METHOD_CALIBRATED: "Weather stations calibrated on terrain against the WRF domains",
    "station_series_unscaled": "Weather station series, not scaled to the site",
}

#: Settings of the wind calibration.  ``sigma_calibrated`` is the pooled relative RMSE of
#: the leave-one-domain-out check over every grid point of the five bundled domains
#: (``tests/siting/test_wind_calibration.py`` recomputes it); ``sigma_wrf`` is policy: a
#: 1 km mesoscale model's mean wind is taken as known to 10 % (the disagreement of the
#: overlapping bundled domains, 2.2 %, is only its lower bound — both domains share the
#: model and set-up).  ``residual_decay_km`` = 100 km is the value of the check's table
#: (25, 50 and 100 km compared) with the lowest error at the covered stations.
WIND_CALIBRATION = wcal.WindCalibrationParameters(
    exposure_radii_km=(3.0, 10.0, 30.0), use_elevation=True, residual_smoothing_km=5.0,
    residual_decay_km=100.0, blend_distance_km=10.0, sigma_wrf=0.10, sigma_calibrated=0.262,
)
#: Relative 1-σ of the mean wind speed at which ``resource_confidence`` reaches 0
#: (policy: a mean known only to ±50 % says nothing a developer can bank on). [-]
SIGMA_NO_CONFIDENCE = 0.5


def station_wind_80m_m_s(
    x_m, y_m, stations: pd.DataFrame, station_xy_m: np.ndarray, wind_layers,
    params: ResourceParameters = ResourceParameters(),
) -> np.ndarray:
    """Station-based mean wind at the WRF height (the estimate outside WRF before calibration).

    Parameters
    ----------
    x_m, y_m : array_like
        Points in EPSG:6372. [m]
    stations : DataFrame
        ``latitude``, ``longitude``, ``wind_speed_10m_m_s``.
    station_xy_m : ndarray (n_stations, 2)
        Stations in EPSG:6372. [m]
    wind_layers : sequence of WindLayer
        Domains whose stations fit ``α_eff`` (:func:`effective_shear_exponent`).
    params : ResourceParameters

    Returns
    -------
    ndarray
        IDW of the stations' 10 m means lifted with ``α_eff``. [m/s]
    """
    u10 = stations["wind_speed_10m_m_s"].to_numpy(float)
    wrf_st, _ = wrf_wind_speed(stations["latitude"], stations["longitude"], wind_layers)
    alpha_eff = effective_shear_exponent(u10, wrf_st, params)
    lifted = power_law_shear(u10, params.station_height_m, params.wrf_height_m, alpha_eff)
    return idw_ratio(_distances_km(x_m, y_m, station_xy_m), lifted, params.idw_power, None)


@dataclass(frozen=True)
class WindModel:
    """The fitted wind model of a set of layers (built once, see :func:`wind_model`).

    Attributes
    ----------
    features : siting.wind_calibration.TerrainFeatures
    calibration : siting.wind_calibration.WindCalibration
    station_estimate : callable
        ``(latitude, longitude) -> S`` at 80 m. [m/s]
    """

    features: object
    calibration: object
    station_estimate: object

    def wind_80m(self, latitude, longitude) -> "wcal.WindEstimate":
        """Mean wind at 80 m at points (:func:`siting.wind_calibration.calibrated_wind_80m`)."""
        return wcal.calibrated_wind_80m(latitude, longitude, self.calibration, self.features,
                                        self.station_estimate)


def _station_estimate(stations, station_xy_m, wind_layers, params):
    to_xy = _lonlat_to_6372()
    u10 = stations["wind_speed_10m_m_s"].to_numpy(float)
    wrf_st, _ = wrf_wind_speed(stations["latitude"], stations["longitude"], wind_layers)
    lifted = power_law_shear(u10, params.station_height_m, params.wrf_height_m,
                             effective_shear_exponent(u10, wrf_st, params))

    def estimate(latitude, longitude):  # station_wind_80m_m_s with the stations lifted once
        x, y = to_xy.transform(np.asarray(longitude, float), np.asarray(latitude, float))
        return idw_ratio(_distances_km(np.ravel(x), np.ravel(y), station_xy_m), lifted, params.idw_power, None)

    return estimate


def wind_model(layers, params: ResourceParameters = ResourceParameters(),
               calibration: "wcal.WindCalibrationParameters" = WIND_CALIBRATION) -> WindModel:
    """The wind model of ``layers``, fitted once and kept in ``layers.derived``.

    Parameters
    ----------
    layers : object
        With ``stations``, ``station_xy_m``, ``wind_layers``, ``dem_m``,
        ``dem_transform`` and a ``derived`` dict (a ``siting.layers.ScreeningLayers``).
    params : ResourceParameters
    calibration : WindCalibrationParameters

    Returns
    -------
    WindModel
    """
    key = ("wind_model", params, calibration)
    found = layers.derived.get(key)
    if found is None:
        features = wcal.terrain_features(layers.dem_m, layers.dem_transform, calibration)
        estimate = _station_estimate(layers.stations, layers.station_xy_m, layers.wind_layers, params)
        fitted = wcal.fit_wind_calibration(layers.wind_layers, features, estimate, calibration)
        found = layers.derived[key] = WindModel(features, fitted, estimate)
    return found


def wind_confidence(sigma_relative) -> np.ndarray:
    """``resource_confidence`` of a wind mean known to a relative 1-σ.

    Returns
    -------
    ndarray
        ``clip(1 - σ / SIGMA_NO_CONFIDENCE, 0, 1)``: 0.8 inside WRF (σ = 0.10), about 0.48
        far from every domain (σ = 0.262). [-]
    """
    return np.clip(1.0 - np.asarray(sigma_relative, float) / SIGMA_NO_CONFIDENCE, 0.0, 1.0)


@dataclass(frozen=True)
class ResourceLayers:
    """What the resource model reads of the layers (the arrays shared, not copied).

    A yield study keeps this rather than the whole screening bundle. Attributes as in
    ``siting.layers.ScreeningLayers``; ``derived`` caches the fitted models.
    """

    stations: pd.DataFrame
    station_xy_m: np.ndarray
    merra2: pd.DataFrame
    wind_layers: tuple
    dem_m: np.ndarray
    dem_transform: object
    derived: dict


def resource_layers(layers) -> ResourceLayers:
    """The resource part of a ``ScreeningLayers`` (with an empty model cache of its own)."""
    return ResourceLayers(layers.stations, layers.station_xy_m, layers.merra2, tuple(layers.wind_layers),
                          layers.dem_m, layers.dem_transform, {})


@dataclass(frozen=True)
class CellResource:
    """The long-term resource at points, as the screening, site check and studies use it.

    Attributes
    ----------
    ghi_kwh_m2_day : ndarray
        [kWh/m²/day]
    wind_speed_80m_m_s, wind_speed_100m_m_s : ndarray
        Annual-mean wind at 80 m and at ``params.hub_height_m``. [m/s]
    in_wrf : ndarray of bool
        The point lies inside a WRF domain.
    wind_method : ndarray of str
        ``wrf_80m``, ``wrf_80m_edge_blend`` or ``station_terrain_calibrated``.
    wind_sigma : ndarray
        Relative 1-σ of the mean wind speed. [-]
    station_index : ndarray of int
        Nearest station.
    dist_station_km : ndarray
        [km]
    pv_confidence, wind_confidence : ndarray
        ``resource_confidence`` of each technology. [0-1]
    """

    ghi_kwh_m2_day: np.ndarray
    wind_speed_80m_m_s: np.ndarray
    wind_speed_100m_m_s: np.ndarray
    in_wrf: np.ndarray
    wind_method: np.ndarray
    wind_sigma: np.ndarray
    station_index: np.ndarray
    dist_station_km: np.ndarray
    pv_confidence: np.ndarray
    wind_confidence: np.ndarray

    def confidence(self, technology: str) -> np.ndarray:
        """``resource_confidence`` of ``"pv"`` or ``"wind"``."""
        if technology == "pv":
            return self.pv_confidence
        if technology == "wind":
            return self.wind_confidence
        raise ValueError(f"technology must be 'pv' or 'wind', got {technology!r}")

    def method(self, technology: str) -> np.ndarray:
        """``resource_method`` of ``"pv"`` or ``"wind"``."""
        if technology == "pv":
            return np.full(np.shape(self.ghi_kwh_m2_day), PV_METHOD)
        if technology == "wind":
            return self.wind_method
        raise ValueError(f"technology must be 'pv' or 'wind', got {technology!r}")


def cell_resource(latitude, longitude, x_m, y_m, layers,
                  params: ResourceParameters = ResourceParameters()) -> CellResource:
    """GHI, wind, method, uncertainty and confidence at points (the one resource model).

    Parameters
    ----------
    latitude, longitude : array_like
        Points. [°]
    x_m, y_m : array_like
        The same points in EPSG:6372. [m]
    layers : siting.layers.ScreeningLayers
        Stations, MERRA-2, WRF domains and the DEM.
    params : ResourceParameters

    Returns
    -------
    CellResource
    """
    key = ("ghi_model", params)
    ghi_model = layers.derived.get(key)
    if ghi_model is None:  # the background interpolator and the station ratios, built once
        st = layers.stations
        interp = _merra2_interpolator(layers.merra2)
        station_bg = interp(np.column_stack([st["latitude"].to_numpy(float), st["longitude"].to_numpy(float)]))
        ghi_model = layers.derived[key] = (interp, st["ghi_kwh_m2_day"].to_numpy(float) / station_bg)
    interp, ratio = ghi_model
    lat = np.asarray(latitude, dtype=float)
    background = interp(np.column_stack([lat.ravel(), np.asarray(longitude, float).ravel()])).reshape(lat.shape)
    r = idw_ratio(_distances_km(x_m, y_m, layers.station_xy_m), ratio, params.idw_power,
                  params.idw_background_distance_km)
    ghi = background * r.reshape(background.shape)  # = ghi_kwh_m2_day(...), its parts cached
    shape = np.shape(ghi)
    est = wind_model(layers, params).wind_80m(latitude, longitude)
    u80 = np.asarray(est.wind_speed_80m_m_s, float).reshape(shape)
    u_hub = np.asarray(power_law_shear(u80, params.wrf_height_m, params.hub_height_m,
                                       params.shear_exponent)).reshape(shape)
    in_wrf = np.asarray(est.wrf_weight) > 0  # inside a domain (its edge band included)
    idx, dist = nearest_station(x_m, y_m, layers.station_xy_m)
    pv_conf = resource_confidence("pv", dist, in_wrf, params)
    sigma = np.asarray(est.sigma_relative, float).reshape(shape)
    return CellResource(
        ghi_kwh_m2_day=ghi, wind_speed_80m_m_s=u80, wind_speed_100m_m_s=u_hub,
        in_wrf=in_wrf.reshape(shape), wind_method=np.asarray(est.method).reshape(shape),
        wind_sigma=sigma, station_index=idx.reshape(shape), dist_station_km=dist.reshape(shape),
        pv_confidence=np.asarray(pv_conf).reshape(shape), wind_confidence=wind_confidence(sigma),
    )


def site_resource(latitude: float, longitude: float, layers,
                  params: ResourceParameters = ResourceParameters()) -> dict:
    """The long-term resource at one site, as plain values (for a yield study).

    Parameters
    ----------
    latitude, longitude : float
        Site. [°]
    layers : siting.layers.ScreeningLayers
    params : ResourceParameters

    Returns
    -------
    dict
        ``ghi_kwh_m2_day``, ``wind_speed_80m_m_s``, ``wind_height_m`` (80),
        ``wind_method``, ``wind_sigma``, ``pv_method``, ``pv_confidence``,
        ``wind_confidence``, ``in_wrf``.
    """
    x, y = _lonlat_to_6372().transform(float(longitude), float(latitude))
    r = cell_resource(np.array([latitude], float), np.array([longitude], float), np.array([x]),
                      np.array([y]), layers, params)
    return {
        "ghi_kwh_m2_day": float(r.ghi_kwh_m2_day[0]),
        "wind_speed_80m_m_s": float(r.wind_speed_80m_m_s[0]),
        "wind_height_m": float(params.wrf_height_m),
        "wind_method": str(r.wind_method[0]),
        "wind_sigma": float(r.wind_sigma[0]),
        "pv_method": PV_METHOD,
        "pv_confidence": float(r.pv_confidence[0]),
        "wind_confidence": float(r.wind_confidence[0]),
        "in_wrf": bool(r.in_wrf[0]),
    }
