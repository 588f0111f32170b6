"""Mean wind at 80 m everywhere: WRF where it covers, a terrain calibration learnt from WRF elsewhere.

The bundled WRF 80 m domains (Hernández-Yepes et al. 2024, ~1 km, five ~1.5° squares)
cover a small part of the corridors.  Outside them the only wind data are the airport
stations' 10 m series, which read low at sheltered sites (data/SOURCES-weather.md §2).
This module learns from the domains how the WRF mean differs from the station-based
estimate and carries that knowledge outside them.

Method
------
1. **Station-based estimate** ``S(p)`` at 80 m: each station's 10 m mean lifted by the
   effective exponent fitted on the stations inside a domain, interpolated by inverse
   distance weighting (:func:`siting.resource.station_wind_80m_m_s`, the method Fondo used
   alone before).
2. **Terrain features** of the bundled 1 km DEM (:func:`terrain_features`): elevation and
   the *exposure* (elevation minus the mean elevation within ±r km) at several radii —
   hill tops and ridges are exposed, basins sheltered (the topographic position index of
   Weiss 2001; Wilson & Gallant 2000, *Terrain Analysis*).
3. **Regression** on every WRF grid point of the training domains:
   ``ln(U_WRF / S) = β0 + Σ β_j x_j`` (ordinary least squares), so
   ``U_cal(p) = S(p) · exp(β0 + Σ β_j x_j(p))``.
4. **The domains' own residual carried outwards**: in each domain the residual
   ``ε = ln(U_WRF / U_cal)``, smoothed with a Gaussian of ``residual_smoothing_km``, is
   read at the point of the domain nearest to ``p`` and faded with
   ``g = exp(-d / residual_decay_km)`` (``d``: distance to the domain).  Near a domain the
   estimate leans on what the domain shows there (Dominica I lies ~40 km east of 11C).
5. **Blend at the edge**: inside a domain, the WRF weight grows linearly from 0 at the
   edge to 1 at ``blend_distance_km`` inside; between, the WRF value is mixed with the
   outside field.  Every step is continuous in ``p``, so there is no step at a boundary.

The leave-one-domain-out check (:func:`leave_one_domain_out`) refits everything without
one domain and predicts it; its relative RMSE is the 1-σ uncertainty of the calibrated
estimate (:class:`WindCalibration` ``sigma_calibrated``), carried into
``resource_confidence`` and the P-values.  Inside WRF the uncertainty is the disagreement
of overlapping domains (:func:`wrf_overlap_sigma`).

Units: m/s, km, m; latitudes and longitudes in ° (EPSG:4326).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import ndimage

__all__ = [
    "KM_PER_DEG_LAT",
    "KM_PER_DEG_LON_EQUATOR",
    "WindCalibrationParameters",
    "TerrainFeatures",
    "WindCalibration",
    "WindEstimate",
    "METHOD_WRF",
    "METHOD_WRF_BLEND",
    "METHOD_CALIBRATED",
    "terrain_features",
    "sample_features",
    "fit_wind_calibration",
    "calibrated_wind_80m",
    "leave_one_domain_out",
    "wrf_overlap_sigma",
]

#: Kilometres per degree of latitude (WGS84, mean). [km/°]
KM_PER_DEG_LAT = 110.95
#: Kilometres per degree of longitude at the equator (WGS84); times cos(latitude). [km/°]
KM_PER_DEG_LON_EQUATOR = 111.32
#: ``resource_method`` where the point lies deeper than the blend distance in a domain.
METHOD_WRF = "wrf_80m"
#: ``resource_method`` in a domain's edge band (WRF mixed with the calibrated field).
METHOD_WRF_BLEND = "wrf_80m_edge_blend"
#: ``resource_method`` outside every domain.
METHOD_CALIBRATED = "station_terrain_calibrated"


@dataclass(frozen=True)
class WindCalibrationParameters:
    """Settings of the calibration (policy values, chosen by :func:`leave_one_domain_out`).

    Attributes
    ----------
    exposure_radii_km : tuple of float
        Radii of the exposure features (elevation minus the mean within ±r). [km]
    use_elevation : bool
        Include the elevation itself as a feature.
    residual_smoothing_km : float
        Gaussian σ of the domain residual before it is carried outside. [km]
    residual_decay_km : float
        e-folding distance of the carried residual outside a domain. [km]
    blend_distance_km : float
        Width of the edge band inside a domain over which WRF takes over. [km]
    sigma_wrf : float
        Relative 1-σ of a WRF mean (set from :func:`wrf_overlap_sigma`). [-]
    sigma_calibrated : float
        Relative 1-σ far from every domain (set from :func:`leave_one_domain_out`). [-]
    """

    exposure_radii_km: tuple[float, ...] = (3.0, 10.0, 30.0)
    use_elevation: bool = True
    residual_smoothing_km: float = 5.0
    residual_decay_km: float = 50.0
    blend_distance_km: float = 10.0
    sigma_wrf: float = 0.10
    sigma_calibrated: float = 0.25

    def __post_init__(self) -> None:
        for name in ("residual_smoothing_km", "residual_decay_km", "blend_distance_km"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if any(r <= 0 for r in self.exposure_radii_km):
            raise ValueError(f"exposure_radii_km must be > 0, got {self.exposure_radii_km}")
        for name in ("sigma_wrf", "sigma_calibrated"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")


@dataclass(frozen=True)
class TerrainFeatures:
    """Terrain features on the DEM grid.

    Attributes
    ----------
    names : tuple of str
        ``elevation_km`` and ``exposure_<r>km`` (elevation minus the mean within ±r). [km]
    values : ndarray (n_features, rows, cols)
        Feature rasters, NaN where the DEM has no value. [km]
    transform : Affine
        The DEM's geotransform (north-up, EPSG:4326). [°]
    """

    names: tuple[str, ...]
    values: np.ndarray
    transform: object


def _box_mean(z: np.ndarray, valid: np.ndarray, half_rows: int, half_cols: int) -> np.ndarray:
    size = (2 * half_rows + 1, 2 * half_cols + 1)
    total = ndimage.uniform_filter(np.where(valid, z, 0.0), size, mode="constant")
    count = ndimage.uniform_filter(valid.astype(float), size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def terrain_features(dem_m: np.ndarray, dem_transform, params: WindCalibrationParameters = WindCalibrationParameters()
                     ) -> TerrainFeatures:
    """Elevation and exposure rasters of a DEM.

    Parameters
    ----------
    dem_m : ndarray (rows, cols)
        Elevation, NaN where missing. [m]
    dem_transform : Affine
        North-up geotransform in EPSG:4326. [°]
    params : WindCalibrationParameters
        ``exposure_radii_km``, ``use_elevation``.

    Returns
    -------
    TerrainFeatures

    Notes
    -----
    ``exposure_r = z - mean(z over the window of ±r km)``, the window a rectangle of
    ``±round(r / Δy)`` rows and ``±round(r / Δx)`` columns with the pixel sizes at the
    DEM's middle latitude; cells without data are left out of the mean (normalised
    convolution). The topographic position index of Weiss (2001), "Topographic position
    and landforms analysis", ESRI User Conference.
    """
    z = np.asarray(dem_m, dtype=float)
    if z.ndim != 2:
        raise ValueError(f"dem_m must be 2-D, got shape {z.shape}")
    valid = np.isfinite(z)
    rows = z.shape[0]
    mid_lat = dem_transform.f + dem_transform.e * rows / 2
    dy_km = abs(dem_transform.e) * KM_PER_DEG_LAT
    dx_km = abs(dem_transform.a) * KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(mid_lat))
    names, values = [], []
    if params.use_elevation:
        names.append("elevation_km")
        values.append(z / 1000.0)
    for r in params.exposure_radii_km:
        mean = _box_mean(z, valid, max(int(round(r / dy_km)), 1), max(int(round(r / dx_km)), 1))
        names.append(f"exposure_{r:g}km")
        values.append((z - mean) / 1000.0)
    stack = np.stack(values) if values else np.zeros((0,) + z.shape)
    stack[:, ~valid] = np.nan
    return TerrainFeatures(tuple(names), stack, dem_transform)


def sample_features(features: TerrainFeatures, latitude, longitude) -> np.ndarray:
    """Features at points (nearest DEM cell; 0 where the DEM has no value).

    Returns
    -------
    ndarray (n_points, n_features)
        [km]
    """
    lat = np.asarray(latitude, dtype=float).ravel()
    lon = np.asarray(longitude, dtype=float).ravel()
    t = features.transform
    _, rows, cols = features.values.shape
    c = np.floor((lon - t.c) / t.a).astype(np.int64)
    r = np.floor((lat - t.f) / t.e).astype(np.int64)
    inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    out = np.zeros((lat.size, features.values.shape[0]))
    if inside.any():
        out[inside] = features.values[:, r[inside], c[inside]].T
    # a point without terrain (sea, outside the DEM) gets the mean terrain: no adjustment
    return np.nan_to_num(out, nan=0.0)


@dataclass(frozen=True)
class _DomainResidual:
    name: str
    latitude: np.ndarray
    longitude: np.ndarray
    wind_speed_m_s: np.ndarray
    residual: np.ndarray  # smoothed ln(U_WRF / U_cal) on the domain grid


@dataclass(frozen=True)
class WindCalibration:
    """A fitted calibration.

    Attributes
    ----------
    feature_names : tuple of str
    coefficients : ndarray (1 + n_features,)
        ``β0, β_1..β_n`` of ``ln(U_WRF / S)``. [-, 1/km]
    domains : tuple
        The training domains with their smoothed residual fields.
    params : WindCalibrationParameters
    """

    feature_names: tuple[str, ...]
    coefficients: np.ndarray
    domains: tuple = field(repr=False)
    params: WindCalibrationParameters = WindCalibrationParameters()


@dataclass(frozen=True)
class WindEstimate:
    """Mean wind at 80 m at points, with where it comes from and its uncertainty.

    Attributes
    ----------
    wind_speed_80m_m_s : ndarray
        [m/s]
    wrf_weight : ndarray
        Weight of WRF in the value (1 deep inside a domain, 0 outside). [-]
    method : ndarray of str
        :data:`METHOD_WRF`, :data:`METHOD_WRF_BLEND` or :data:`METHOD_CALIBRATED`.
    sigma_relative : ndarray
        Relative 1-σ of the mean wind speed. [-]
    station_estimate_80m_m_s : ndarray
        The station-based estimate ``S`` alone. [m/s]
    """

    wind_speed_80m_m_s: np.ndarray
    wrf_weight: np.ndarray
    method: np.ndarray
    sigma_relative: np.ndarray
    station_estimate_80m_m_s: np.ndarray


def _grid_points(layer):
    la, lo = np.meshgrid(np.asarray(layer.latitude, float), np.asarray(layer.longitude, float), indexing="ij")
    return la.ravel(), lo.ravel()


def _design(x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(x.shape[0]), x])


def fit_wind_calibration(
    wind_layers: Sequence, features: TerrainFeatures, station_estimate,
    params: WindCalibrationParameters = WindCalibrationParameters(),
) -> WindCalibration:
    """Fit the terrain regression and the domains' residual fields.

    Parameters
    ----------
    wind_layers : sequence of siting.layers.WindLayer
        Training domains (80 m annual means).
    features : TerrainFeatures
        From :func:`terrain_features`.
    station_estimate : callable
        ``station_estimate(latitude, longitude) -> S`` at 80 m. [m/s]
    params : WindCalibrationParameters

    Returns
    -------
    WindCalibration
        Zero coefficients and no domain when ``wind_layers`` is empty.
    """
    if not wind_layers:  # nothing to learn from: the station-based estimate as it is
        return WindCalibration(tuple(features.names), np.zeros(1 + len(features.names)), (), params)
    xs, ys, per_domain = [], [], []
    for layer in wind_layers:
        la, lo = _grid_points(layer)
        u = np.asarray(layer.wind_speed_m_s, float).ravel()
        s = np.asarray(station_estimate(la, lo), float)
        x = sample_features(features, la, lo)
        ok = np.isfinite(u) & (u > 0) & np.isfinite(s) & (s > 0)
        xs.append(x[ok])
        ys.append(np.log(u[ok] / s[ok]))
        per_domain.append((layer, la, lo, u, s, x))
    beta, *_ = np.linalg.lstsq(_design(np.vstack(xs)), np.concatenate(ys), rcond=None)
    domains = []
    for layer, la, lo, u, s, x in per_domain:
        resid = np.log(u / (s * np.exp(_design(x) @ beta))).reshape(np.shape(layer.wind_speed_m_s))
        resid = np.where(np.isfinite(resid), resid, 0.0)
        lat = np.asarray(layer.latitude, float)
        lon = np.asarray(layer.longitude, float)
        step_km = abs(lat[1] - lat[0]) * KM_PER_DEG_LAT
        smooth = ndimage.gaussian_filter(resid, params.residual_smoothing_km / step_km, mode="nearest")
        domains.append(_DomainResidual(layer.name, lat, lon, np.asarray(layer.wind_speed_m_s, float), smooth))
    return WindCalibration(tuple(features.names), np.asarray(beta, float), tuple(domains), params)


def _domain_geometry(d: _DomainResidual, lat: np.ndarray, lon: np.ndarray):
    """Inside flag, depth inside / distance outside [km], and the grid index of the nearest point."""
    la, lo = d.latitude, d.longitude
    hla, hlo = (la[1] - la[0]) / 2, (lo[1] - lo[0]) / 2
    south, north, west, east = la[0] - hla, la[-1] + hla, lo[0] - hlo, lo[-1] + hlo
    kx = KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat))
    inside = (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)
    depth = np.minimum.reduce([(lat - south) * KM_PER_DEG_LAT, (north - lat) * KM_PER_DEG_LAT,
                               (lon - west) * kx, (east - lon) * kx])
    dy = np.maximum.reduce([south - lat, lat - north, np.zeros_like(lat)]) * KM_PER_DEG_LAT
    dx = np.maximum.reduce([west - lon, lon - east, np.zeros_like(lon)]) * kx
    outside_km = np.hypot(dx, dy)
    i = np.clip(np.rint((lat - la[0]) / (2 * hla)), 0, la.size - 1).astype(np.int64)
    j = np.clip(np.rint((lon - lo[0]) / (2 * hlo)), 0, lo.size - 1).astype(np.int64)
    return inside, np.where(inside, depth, 0.0), np.where(inside, 0.0, outside_km), i, j


def calibrated_wind_80m(latitude, longitude, calibration: WindCalibration, features: TerrainFeatures,
                        station_estimate) -> WindEstimate:
    """Mean wind at 80 m at points: WRF inside, calibrated outside, blended at the edges.

    Parameters
    ----------
    latitude, longitude : array_like
        Points. [°]
    calibration : WindCalibration
        From :func:`fit_wind_calibration` (its domains are the WRF layers used).
    features : TerrainFeatures
    station_estimate : callable
        ``station_estimate(latitude, longitude) -> S`` at 80 m. [m/s]

    Returns
    -------
    WindEstimate
        Arrays of the shape of ``latitude``.
    """
    shape = np.shape(np.asarray(latitude))
    lat = np.asarray(latitude, dtype=float).ravel()
    lon = np.asarray(longitude, dtype=float).ravel()
    p = calibration.params
    s = np.asarray(station_estimate(lat, lon), float).ravel()
    base = s * np.exp(_design(sample_features(features, lat, lon)) @ calibration.coefficients)
    g_sum = np.zeros(lat.size)
    g_eps = np.zeros(lat.size)
    g_max = np.zeros(lat.size)
    w_sum = np.zeros(lat.size)
    w_wrf = np.zeros(lat.size)
    for d in calibration.domains:  # a handful of domains, each vectorized over points
        inside, depth, out_km, i, j = _domain_geometry(d, lat, lon)
        g = np.exp(-out_km / p.residual_decay_km)
        g_sum += g
        g_eps += g * d.residual[i, j]
        g_max = np.maximum(g_max, g)
        w = np.where(inside, np.clip(depth / p.blend_distance_km, 0.0, 1.0), 0.0)
        u = d.wind_speed_m_s[i, j]
        w = np.where(np.isfinite(u), w, 0.0)
        w_sum += w
        w_wrf += w * np.nan_to_num(u)
    outside_field = base * np.exp(g_eps / np.maximum(g_sum, 1.0))
    scale = np.where(w_sum > 1.0, 1.0 / np.maximum(w_sum, 1e-12), 1.0)
    w_total = w_sum * scale
    value = w_wrf * scale + (1.0 - w_total) * outside_field
    near = np.maximum(w_total, g_max)
    sigma = p.sigma_wrf + (p.sigma_calibrated - p.sigma_wrf) * (1.0 - near)
    method = np.where(w_total >= 1.0, METHOD_WRF, np.where(w_total > 0.0, METHOD_WRF_BLEND, METHOD_CALIBRATED))
    return WindEstimate(value.reshape(shape), w_total.reshape(shape), method.reshape(shape),
                        sigma.reshape(shape), s.reshape(shape))


def leave_one_domain_out(
    wind_layers: Sequence, features: TerrainFeatures, station_estimate_without,
    points: pd.DataFrame | None = None, params: WindCalibrationParameters = WindCalibrationParameters(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Refit without each domain, predict it, compare with its WRF means.

    Parameters
    ----------
    wind_layers : sequence of WindLayer
    features : TerrainFeatures
    station_estimate_without : callable
        ``station_estimate_without(excluded_layers) -> station_estimate`` where the
        returned callable is the station-based estimate fitted without the stations
        inside ``excluded_layers`` (their effective shear exponent must not see the left-out
        domain). [m/s]
    points : DataFrame, optional
        Extra check points (``name``, ``latitude``, ``longitude``) — the stations inside a
        domain — predicted without the domain that holds them.
    params : WindCalibrationParameters

    Returns
    -------
    per_domain : DataFrame
        ``domain``, ``wrf_mean_m_s``, ``station_only_mean_m_s``, ``calibrated_mean_m_s``,
        ``station_only_rmse_pct``, ``station_only_bias_pct``, ``calibrated_rmse_pct``,
        ``calibrated_bias_pct`` (relative errors over the domain's grid points). [%]
    at_points : DataFrame
        ``name``, ``domain``, ``wrf_m_s``, ``station_only_m_s``, ``calibrated_m_s``,
        ``station_only_error_pct``, ``calibrated_error_pct``.
    """
    rows, point_rows = [], []
    for k, held in enumerate(wind_layers):
        train = [w for n, w in enumerate(wind_layers) if n != k]
        estimate = station_estimate_without((held,))
        cal = fit_wind_calibration(train, features, estimate, params)
        la, lo = _grid_points(held)
        u = np.asarray(held.wind_speed_m_s, float).ravel()
        pred = calibrated_wind_80m(la, lo, cal, features, estimate)
        e_cal = pred.wind_speed_80m_m_s / u - 1.0
        e_st = pred.station_estimate_80m_m_s / u - 1.0
        rows.append({
            "domain": held.name, "wrf_mean_m_s": float(u.mean()),
            "station_only_mean_m_s": float(pred.station_estimate_80m_m_s.mean()),
            "calibrated_mean_m_s": float(pred.wind_speed_80m_m_s.mean()),
            "station_only_rmse_pct": 100 * float(np.sqrt(np.mean(e_st**2))),
            "station_only_bias_pct": 100 * float(np.mean(e_st)),
            "calibrated_rmse_pct": 100 * float(np.sqrt(np.mean(e_cal**2))),
            "calibrated_bias_pct": 100 * float(np.mean(e_cal)),
        })
        if points is not None and len(points):
            plat = points["latitude"].to_numpy(float)
            plon = points["longitude"].to_numpy(float)
            inside, *_ = _domain_geometry(_DomainResidual(held.name, np.asarray(held.latitude, float),
                                                          np.asarray(held.longitude, float), u, u), plat, plon)
            if inside.any():
                sub = points[inside]
                ip = calibrated_wind_80m(plat[inside], plon[inside], cal, features, estimate)
                hi, hj = _domain_geometry(_DomainResidual(held.name, np.asarray(held.latitude, float),
                                                          np.asarray(held.longitude, float), u, u),
                                          plat[inside], plon[inside])[3:]
                truth = np.asarray(held.wind_speed_m_s, float)[hi, hj]
                for n, name in enumerate(sub["name"]):
                    point_rows.append({
                        "name": str(name), "domain": held.name, "wrf_m_s": float(truth[n]),
                        "station_only_m_s": float(ip.station_estimate_80m_m_s[n]),
                        "calibrated_m_s": float(ip.wind_speed_80m_m_s[n]),
                        "station_only_error_pct": 100 * float(ip.station_estimate_80m_m_s[n] / truth[n] - 1),
                        "calibrated_error_pct": 100 * float(ip.wind_speed_80m_m_s[n] / truth[n] - 1),
                    })
    return pd.DataFrame(rows), pd.DataFrame(point_rows)


def wrf_overlap_sigma(wind_layers: Sequence) -> float:
    """Relative 1-σ of one WRF mean from the disagreement of overlapping domains.

    Where two domains (different simulated years and set-ups) cover the same point,
    ``σ = RMS(ln U_a - ln U_b) / √2`` (each contributes equally to the difference).

    Returns
    -------
    float
        NaN when no two domains overlap. [-]
    """
    diffs = []
    for a in range(len(wind_layers)):
        for b in range(a + 1, len(wind_layers)):
            la, lo = _grid_points(wind_layers[a])
            ua = np.asarray(wind_layers[a].wind_speed_m_s, float).ravel()
            db = wind_layers[b]
            dres = _DomainResidual(db.name, np.asarray(db.latitude, float), np.asarray(db.longitude, float),
                                   np.asarray(db.wind_speed_m_s, float), np.asarray(db.wind_speed_m_s, float))
            inside, _, _, i, j = _domain_geometry(dres, la, lo)
            if inside.any():
                ub = dres.wind_speed_m_s[i[inside], j[inside]]
                diffs.append(np.log(ua[inside] / ub))
    if not diffs:
        return float("nan")
    d = np.concatenate(diffs)
    return float(np.sqrt(np.mean(d**2)) / np.sqrt(2.0))


def with_sigmas(params: WindCalibrationParameters, sigma_wrf: float, sigma_calibrated: float
                ) -> WindCalibrationParameters:
    """``params`` with measured uncertainties."""
    return replace(params, sigma_wrf=float(sigma_wrf), sigma_calibrated=float(sigma_calibrated))
