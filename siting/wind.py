"""Wind farm model with windpowerlib: hub-height wind, air density, power, losses.

Chain for one site-year:

1. station 10 m wind → hub height with the logarithmic profile
   (``windpowerlib.wind_speed.logarithmic_profile``), roughness length given
   or looked up from land cover (:data:`ROUGHNESS_LENGTH_BY_LAND_COVER_M`);
2. optionally, the site's long-term mean at hub height (the WRF 80 m layer or the
   calibrated estimate carried up the same profile, :func:`wrf_mean_wind_speed`) replaces
   the station's level *and* its distribution: the station's hours keep their order and
   take the quantiles of a Weibull distribution whose shape is the station's own
   (:func:`weibull_shape`) carried to hub height (:func:`weibull_shape_at_height`,
   Justus & Mikhail 1976), scaled to the long-term mean (:func:`long_term_hub_shape`).
   A sheltered airport's calms and its 10 m shape are not the site's at hub height;
   multiplying the station's series would keep both;
3. air density at hub height from the station's temperature and pressure
   (``windpowerlib.temperature.linear_gradient`` and
   ``windpowerlib.density.barometric``; °C and Pa converted to K and Pa here);
4. density-corrected power curve of a turbine from windpowerlib's bundled
   library (offline), times the number of turbines; two corrections are
   offered (:data:`DENSITY_CORRECTION_METHODS`): windpowerlib's
   variable-exponent shift (the default) and SAM ``Windpower``'s uniform
   cube-root shift (:func:`power_curve_density_correction_sam`);
5. wake losses (a fraction, by default from windpowerlib's ``dena_mean``
   wind-farm efficiency curve) then availability and electrical losses.

Power in kW, energy in kWh, speeds in m/s, heights in m.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import windpowerlib
from scipy.ndimage import uniform_filter1d
from scipy.stats import weibull_min
from windpowerlib import density as wpl_density
from windpowerlib import power_output as wpl_power
from windpowerlib import temperature as wpl_temperature
from windpowerlib import wake_losses as wpl_wake
from windpowerlib import wind_speed as wpl_wind_speed

__all__ = [
    "ROUGHNESS_LENGTH_BY_LAND_COVER_M",
    "DEFAULT_AVAILABILITY_LOSSES",
    "DEFAULT_ELECTRICAL_LOSSES",
    "DEFAULT_OTHER_LOSSES",
    "MAX_HUB_HEIGHT_M",
    "TurbineCurve",
    "WindHourly",
    "WrfSiteMean",
    "roughness_length_for",
    "turbine_curve",
    "hub_wind_speed",
    "hub_air_density",
    "farm_wake_losses",
    "DENSITY_CORRECTION_WINDPOWERLIB",
    "DENSITY_CORRECTION_SAM",
    "DENSITY_CORRECTION_METHODS",
    "DEFAULT_DENSITY_CORRECTION_METHOD",
    "power_curve_density_correction_sam",
    "simulate_wind",
    "wrf_mean_wind_speed",
    "weibull_shape",
    "weibull_shape_at_height",
    "long_term_hub_shape",
]

#: Roughness length by land cover. [m] Source: Manwell, McGowan & Rogers,
#: "Wind Energy Explained", 2nd ed., Wiley 2009, Table 2.2 (after Wieringa
#: 1992), rounded to the class values used by the European Wind Atlas.
ROUGHNESS_LENGTH_BY_LAND_COVER_M = {
    "water": 0.0002,
    "bare_soil": 0.005,
    "desert": 0.005,
    "grassland": 0.03,
    "shrubland": 0.1,
    "cropland": 0.1,
    "mixed_farmland_trees": 0.25,
    "forest": 0.5,
    "urban": 1.0,
}
#: Highest hub height accepted. [m] Source: Fondo issue 3 (bad input above 250 m;
#: the tallest onshore hubs built are about 170 m).
MAX_HUB_HEIGHT_M = 250.0
#: Coefficient of the height variation of the Weibull shape parameter,
#: ``k(z) = k_a [1 - c ln(z_a/10)] / [1 - c ln(z/10)]`` with heights in metres. Source:
#: Justus, C. G. & Mikhail, A. (1976), "Height variation of wind speed and wind distributions
#: statistics", Geophysical Research Letters 3(5), 261-264.
WEIBULL_SHAPE_HEIGHT_COEFFICIENT = 0.088
#: Reference height of that relation. [m] Source: as above.
WEIBULL_SHAPE_REFERENCE_HEIGHT_M = 10.0
#: Exponent of the empirical Weibull shape from the coefficient of variation,
#: ``k = (sigma/mean)^-1.086``, valid for 1 <= k <= 10. Source: Justus, C. G., Hargraves,
#: W. R., Mikhail, A. & Graber, D. (1978), "Methods for estimating wind speed frequency
#: distributions", Journal of Applied Meteorology 17(3), 350-353.
WEIBULL_SHAPE_CV_EXPONENT = -1.086
#: Range of the shape parameter where that estimate holds. Source: as above.
WEIBULL_SHAPE_RANGE = (1.0, 10.0)
#: Hours of the centred moving mean that orders tied hours (calms, a station's 0.1 m/s
#: steps) before they take their quantiles: a calm hour between windy hours ranks above a
#: calm hour in a calm night. Fondo's choice. [h]
TIE_BREAK_WINDOW_H = 3
#: Height of station temperature observations. [m] Source: WMO No. 8 (1.25–2 m).
TEMPERATURE_HEIGHT_M = 2.0
#: Availability losses: turbine 3.58 %, balance of plant 0.5 %, grid 1.5 %
#: combined as 1 - Π(1 - x). [fraction] Source: SAM ``Windpower`` defaults
#: (``avail_turb_loss``, ``avail_bop_loss``, ``avail_grid_loss``).
DEFAULT_AVAILABILITY_LOSSES = 1.0 - (1 - 0.0358) * (1 - 0.005) * (1 - 0.015)
#: Electrical losses: efficiency 1.91 %, parasitic 0.1 %. [fraction] Source:
#: SAM ``Windpower`` defaults (``elec_eff_loss``, ``elec_parasitic_loss``).
DEFAULT_ELECTRICAL_LOSSES = 1.0 - (1 - 0.0191) * (1 - 0.001)
#: Availability and electrical losses together. [fraction]
DEFAULT_OTHER_LOSSES = 1.0 - (1 - DEFAULT_AVAILABILITY_LOSSES) * (1 - DEFAULT_ELECTRICAL_LOSSES)
#: Wind-farm efficiency curve for default wake losses. Source: windpowerlib
#: ``wake_losses`` (dena 2005, mean of the published farm efficiency curves).
WAKE_EFFICIENCY_CURVE = "dena_mean"
#: Days per WRF season (DJF, MAM, JJA, SON) in a non-leap year, to weight the
#: seasonal means into an annual mean. [d]
WRF_SEASON_DAYS = np.array([90.0, 92.0, 92.0, 91.0])
#: Density correction of windpowerlib ``power_curve_density_correction``: the
#: curve's speeds become ``v·(ρ0/ρ)^p(v)``, p = 1/3 up to 7.5 m/s rising
#: linearly to 2/3 at 12.5 m/s, ρ0 = 1.225 kg/m³. Source: Svenningsen,
#: "Power Curve Air Density Correction And Other Power Curve Options in
#: WindPRO", EMD International 2010, p. 4 (as cited by windpowerlib 0.2.2).
DENSITY_CORRECTION_WINDPOWERLIB = "windpowerlib"
#: Density correction of NREL SAM ``Windpower`` (ssc ``shared/lib_windwatts.cpp``,
#: ``wind_power_calculator::turbine_power``): every curve speed becomes
#: ``v·(ρ0/ρ)^(1/3)`` with ρ0 = 101325 / (287.058 · 288.15) kg/m³, power
#: unchanged ("method 2" of Svenningsen, EWEC 2010; the IEC 61400-12-1
#: normalisation of pitch-regulated turbines applied in reverse).
DENSITY_CORRECTION_SAM = "sam"
#: Accepted values of ``density_correction_method``.
DENSITY_CORRECTION_METHODS = (DENSITY_CORRECTION_WINDPOWERLIB, DENSITY_CORRECTION_SAM)
#: Method used when none is named: SAM's, i.e. the IEC 61400-12-1 cube-root normalisation
#: applied in reverse, so that Fondo's wind yield agrees with NREL SAM by default.
DEFAULT_DENSITY_CORRECTION_METHOD = DENSITY_CORRECTION_SAM
#: Specific gas constant of dry air used by SAM. [J/(kg·K)] Source: ssc
#: ``shared/lib_physics.h`` ``R_GAS_DRY_AIR``.
SAM_R_DRY_AIR_J_PER_KG_K = 287.058
#: Reference density of SAM's correction: 1 atm and 15 °C. [kg/m³] Source: ssc
#: ``shared/lib_physics.h`` ``AIR_DENSITY_SEA_LEVEL`` = 101325 / (287.058 · 288.15).
SAM_REFERENCE_AIR_DENSITY_KG_M3 = 101325.0 / (SAM_R_DRY_AIR_J_PER_KG_K * 288.15)
#: Height of the bundled WRF layer. [m] Source: data/SOURCES-weather.md §2 (zh = 80 m).
WRF_HEIGHT_M = 80.0


def roughness_length_for(land_cover: str) -> float:
    """Roughness length of a land-cover class.

    Parameters
    ----------
    land_cover : str
        Key of :data:`ROUGHNESS_LENGTH_BY_LAND_COVER_M`.

    Returns
    -------
    float
        [m]
    """
    try:
        return ROUGHNESS_LENGTH_BY_LAND_COVER_M[land_cover]
    except KeyError:
        known = ", ".join(sorted(ROUGHNESS_LENGTH_BY_LAND_COVER_M))
        raise ValueError(f"land_cover {land_cover!r} is unknown; known: {known}") from None


@dataclass(frozen=True)
class TurbineCurve:
    """A turbine's power curve from windpowerlib's bundled library.

    Attributes
    ----------
    turbine_type : str
    wind_speed_m_s : numpy.ndarray
        [m/s]
    power_kw : numpy.ndarray
        [kW]
    nominal_power_kw : float
        [kW]
    """

    turbine_type: str
    wind_speed_m_s: np.ndarray
    power_kw: np.ndarray
    nominal_power_kw: float


@lru_cache(maxsize=128)
def turbine_curve(turbine_type: str) -> TurbineCurve:
    """Power curve of a windpowerlib turbine type (offline library).

    Raises
    ------
    ValueError
        Unknown turbine type or one without a power curve (names
        ``turbine_type``).
    """
    from siting.turbines import turbine_types

    if turbine_type not in turbine_types():
        raise ValueError(f"turbine_type {turbine_type!r} is not in windpowerlib's local "
                         "library of turbines with a power curve")
    with warnings.catch_warnings():
        # windpowerlib 0.2.2 calls DataFrame.dropna(inplace=True), deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message="The inplace keyword")
        turbine = windpowerlib.WindTurbine(turbine_type=turbine_type, hub_height=100.0)
    curve = turbine.power_curve
    return TurbineCurve(turbine_type, curve["wind_speed"].to_numpy(dtype=float),
                        curve["value"].to_numpy(dtype=float) / 1000.0,
                        float(turbine.nominal_power) / 1000.0)


def hub_wind_speed(wind_speed, measurement_height_m, hub_height_m, roughness_length_m):
    """Wind speed at hub height with the logarithmic profile.

    Parameters
    ----------
    wind_speed : array_like
        At ``measurement_height_m``. [m/s]
    measurement_height_m, hub_height_m : float
        [m]
    roughness_length_m : float
        [m]

    Returns
    -------
    numpy.ndarray
        [m/s]

    Notes
    -----
    ``v_hub = v · ln(h_hub/z0) / ln(h_meas/z0)`` (windpowerlib
    ``logarithmic_profile`` with no obstacle height).
    """
    return np.asarray(wpl_wind_speed.logarithmic_profile(
        np.asarray(wind_speed, dtype=float), measurement_height_m, hub_height_m,
        roughness_length_m), dtype=float)


def weibull_shape(wind_speed) -> float:
    """Weibull shape parameter of a wind series, from its coefficient of variation.

    ``k = (σ/μ)^-1.086`` over the hours with wind (Justus et al. 1978,
    :data:`WEIBULL_SHAPE_CV_EXPONENT`; calms are left out as a Weibull fit leaves them),
    clipped to :data:`WEIBULL_SHAPE_RANGE` where the estimate holds.

    Parameters
    ----------
    wind_speed : array_like
        [m/s]

    Returns
    -------
    float
        [-]

    Raises
    ------
    ValueError
        Fewer than two hours with wind, or all of them at one speed.
    """
    v = np.asarray(wind_speed, dtype=float)
    windy = v[np.isfinite(v) & (v > 0)]
    if windy.size < 2 or windy.std() == 0:
        raise ValueError("station wind series has zero mean or no spread; cannot scale it to "
                         "the site's long-term mean")
    k = (windy.std() / windy.mean()) ** WEIBULL_SHAPE_CV_EXPONENT
    return float(np.clip(k, *WEIBULL_SHAPE_RANGE))


def weibull_shape_at_height(shape: float, from_height_m: float, to_height_m: float) -> float:
    """The Weibull shape parameter carried from one height to another (Justus & Mikhail 1976).

    ``k(z) = k(z_a) [1 - c ln(z_a/10)] / [1 - c ln(z/10)]``, ``c`` =
    :data:`WEIBULL_SHAPE_HEIGHT_COEFFICIENT`: the distribution narrows with height (k = 2 at
    10 m is 2.448 at 80 m).

    Parameters
    ----------
    shape : float
        At ``from_height_m``. [-]
    from_height_m, to_height_m : float
        [m]

    Returns
    -------
    float
        [-]
    """
    c, z_ref = WEIBULL_SHAPE_HEIGHT_COEFFICIENT, WEIBULL_SHAPE_REFERENCE_HEIGHT_M
    return float(shape * (1.0 - c * np.log(from_height_m / z_ref))
                 / (1.0 - c * np.log(to_height_m / z_ref)))


def long_term_hub_shape(wind_speed, measurement_height_m: float, hub_height_m: float) -> np.ndarray:
    """The station's hours mapped onto the site's distribution at hub height, mean 1.

    Each hour keeps its rank in the station's series (ties, such as calms, ordered by the
    centred :data:`TIE_BREAK_WINDOW_H`-hour mean, then by time) and takes that quantile
    (Hazen plotting position ``(rank + ½)/n``) of a Weibull distribution whose shape is
    the station's (:func:`weibull_shape`) carried to hub height
    (:func:`weibull_shape_at_height`); the series is divided by its mean. Times the site's
    long-term mean at hub height, it keeps the station's timing (diurnal and seasonal
    cycles, the co-occurrence with temperature and pressure) and has the site's level and
    a hub-height distribution without the station's calms.

    Parameters
    ----------
    wind_speed : array_like
        Station series at ``measurement_height_m``. [m/s]
    measurement_height_m, hub_height_m : float
        [m]

    Returns
    -------
    numpy.ndarray
        Same length, mean 1. [-]
    """
    v = np.ascontiguousarray(wind_speed, dtype=float)
    return _hub_shape(v.tobytes(), float(measurement_height_m), float(hub_height_m))


@lru_cache(maxsize=64)
def _hub_shape(series: bytes, measurement_height_m: float, hub_height_m: float) -> np.ndarray:
    """:func:`long_term_hub_shape` of a series given as its bytes, kept per process: a station
    year costs a few ms to rank and map, and a map click or a study asks for the same one
    again and again (read-only: callers multiply it)."""
    v = np.frombuffer(series, dtype=float)
    shape = weibull_shape_at_height(weibull_shape(v), measurement_height_m, hub_height_m)
    smooth = uniform_filter1d(v, TIE_BREAK_WINDOW_H, mode="nearest")
    order = np.lexsort((np.arange(v.size), smooth, v))
    rank = np.empty(v.size)
    rank[order] = np.arange(v.size)
    quantiles = weibull_min.ppf((rank + 0.5) / v.size, shape)
    out = quantiles / quantiles.mean()
    out.setflags(write=False)
    return out


def hub_air_density(temp_air, pressure, *, station_elevation_m, site_elevation_m, hub_height_m,
                    temperature_height_m=TEMPERATURE_HEIGHT_M):
    """Air density at hub height from station temperature and pressure.

    Parameters
    ----------
    temp_air : array_like
        Station air temperature. [°C]
    pressure : array_like
        Station pressure. [Pa]
    station_elevation_m, site_elevation_m : float
        [m]
    hub_height_m : float
        Above the site's ground. [m]
    temperature_height_m : float
        Height of the temperature sensor above the station. [m]

    Returns
    -------
    numpy.ndarray
        [kg/m³]

    Notes
    -----
    windpowerlib's linear temperature gradient (−6.5 K/km) and barometric
    formula (−1/8 hPa/m), with heights measured from the station's ground:
    ``Δh = site_elevation + hub_height − station_elevation``.
    """
    rise_m = site_elevation_m + hub_height_m - station_elevation_m
    temp_k = np.asarray(temp_air, dtype=float) + 273.15
    t_hub = wpl_temperature.linear_gradient(temp_k, temperature_height_m, rise_m)
    return np.asarray(wpl_density.barometric(np.asarray(pressure, dtype=float), 0.0, rise_m,
                                             t_hub), dtype=float)


def farm_wake_losses(hub_speed, curve: TurbineCurve, turbine_count: int,
                     wind_efficiency_curve_name=WAKE_EFFICIENCY_CURVE) -> float:
    """Energy fraction lost to wakes, from a wind-farm efficiency curve.

    Parameters
    ----------
    hub_speed : array_like
        Free-stream hub-height wind speed. [m/s]
    curve : TurbineCurve
    turbine_count : int
    wind_efficiency_curve_name : str
        windpowerlib curve name.

    Returns
    -------
    float
        0 for a single turbine. [fraction]
    """
    if turbine_count <= 1:
        return 0.0
    v = np.asarray(hub_speed, dtype=float)
    # windpowerlib's reduce_wind_speed, v · η(v), with its curve read once (it parses a CSV per call)
    curve_v, curve_eta = _wind_efficiency_curve(wind_efficiency_curve_name)
    reduced = v * np.interp(v, curve_v, curve_eta)
    free = np.interp(v, curve.wind_speed_m_s, curve.power_kw, left=0, right=0).sum()
    waked = np.interp(reduced, curve.wind_speed_m_s, curve.power_kw, left=0, right=0).sum()
    return float(1.0 - waked / free) if free > 0 else 0.0


@lru_cache(maxsize=16)
def _wind_efficiency_curve(name: str) -> tuple[np.ndarray, np.ndarray]:
    """windpowerlib's wind-farm efficiency curve ``name``: speeds [m/s] and efficiencies [-]."""
    curve = wpl_wake.get_wind_efficiency_curve(curve_name=name)
    v = curve["wind_speed"].to_numpy(dtype=float)
    eta = curve["efficiency"].to_numpy(dtype=float)
    v.setflags(write=False)
    eta.setflags(write=False)
    return v, eta


def power_curve_density_correction_sam(wind_speed, power_curve_wind_speeds, power_curve_values,
                                      density):
    """Power from a curve whose speeds are scaled by the cube root of density, as SAM does.

    Parameters
    ----------
    wind_speed : array_like
        Hub-height wind speed. [m/s]
    power_curve_wind_speeds : array_like
        Speeds of the standard-density curve, increasing. [m/s]
    power_curve_values : array_like
        Power at those speeds (any unit; the result has the same). [kW]
    density : array_like
        Air density at hub height, broadcastable to ``wind_speed``. [kg/m³]

    Returns
    -------
    numpy.ndarray
        Power, zero below the first and beyond the last curve speed. [kW]

    Notes
    -----
    SAM ``Windpower`` (ssc ``lib_windwatts.cpp``, ``turbine_power``) builds
    the site curve ``v_site,i = v_std,i · (ρ0/ρ)^(1/3)`` with
    ``ρ0 =`` :data:`SAM_REFERENCE_AIR_DENSITY_KG_M3` and interpolates
    linearly. Scaling every abscissa by the same factor is the same as
    reading the standard curve at ``v · (ρ/ρ0)^(1/3)``, which is what this
    function does (exactly, for linear interpolation). Unlike windpowerlib's
    correction the exponent does not grow above 7.5 m/s, so at high-altitude
    sites (ρ ≈ 0.97 kg/m³) near-rated output is less reduced.

    References
    ----------
    NREL, SAM Simulation Core (ssc), ``shared/lib_windwatts.cpp`` and
    ``shared/lib_physics.h``, https://github.com/NREL/ssc (the direction
    ``ρ0/ρ`` of current releases; a 2017 revision had the ratio inverted).
    Svenningsen, L.,
    "Power curve air density correction and other power curve options in
    WindPRO", EWEC 2010.

    Examples
    --------
    >>> power_curve_density_correction_sam([8.0], [0.0, 10.0], [0.0, 100.0],
    ...                                    [SAM_REFERENCE_AIR_DENSITY_KG_M3])
    array([80.])
    """
    v = np.asarray(wind_speed, dtype=float)
    rho = np.asarray(density, dtype=float)
    if np.any(rho <= 0) or not np.all(np.isfinite(rho)):
        raise ValueError("density must be finite and > 0 [kg/m³]")
    v_std = v * np.cbrt(rho / SAM_REFERENCE_AIR_DENSITY_KG_M3)
    return np.interp(v_std, np.asarray(power_curve_wind_speeds, dtype=float),
                     np.asarray(power_curve_values, dtype=float), left=0.0, right=0.0)


@dataclass(frozen=True)
class WindHourly:
    """Hourly results of one wind farm-year (8760 values each).

    Attributes
    ----------
    hub_wind_speed : numpy.ndarray
        [m/s]
    air_density : numpy.ndarray
        [kg/m³]
    gross_kw : numpy.ndarray
        Farm power before losses. [kW]
    after_wake_kw : numpy.ndarray
        [kW]
    ac_kw : numpy.ndarray
        Net output = hourly energy. [kW]
    wake_losses, other_losses : float
        Applied fractions. [fraction]
    capacity_kw : float
        Farm nameplate. [kW]
    density_correction_method : str or None
        Correction applied (None when the curve was not corrected).
    """

    hub_wind_speed: np.ndarray
    air_density: np.ndarray
    gross_kw: np.ndarray
    after_wake_kw: np.ndarray
    ac_kw: np.ndarray
    wake_losses: float
    other_losses: float
    capacity_kw: float
    density_correction_method: str | None = DEFAULT_DENSITY_CORRECTION_METHOD


def simulate_wind(wind_speed, temp_air, pressure, *, turbine_type: str, hub_height_m: float,
                  roughness_length_m: float, station_elevation_m: float,
                  site_elevation_m: float, turbine_count: int = 1,
                  measurement_height_m: float = 10.0, mean_wind_speed_hub_m_s=None,
                  wake_losses=None, other_losses=DEFAULT_OTHER_LOSSES,
                  density_correction: bool = True,
                  density_correction_method: str = DEFAULT_DENSITY_CORRECTION_METHOD
                  ) -> WindHourly:
    """Simulate a wind farm over one typical year.

    Parameters
    ----------
    wind_speed : array_like
        Station wind at ``measurement_height_m``. [m/s]
    temp_air : array_like
        [°C]
    pressure : array_like
        [Pa]
    turbine_type : str
        windpowerlib turbine type, e.g. ``"E-126/4200"``.
    hub_height_m : float
        [m]
    roughness_length_m : float
        [m]
    station_elevation_m, site_elevation_m : float
        [m]
    turbine_count : int
    measurement_height_m : float
        [m]
    mean_wind_speed_hub_m_s : float, optional
        The site's long-term mean at hub height (WRF layer or calibrated estimate): the
        hub series becomes ``mean ×`` :func:`long_term_hub_shape` of the station's series
        (the station's hours in order, the site's Weibull distribution at hub height). [m/s]
    wake_losses : float, optional
        Fraction; default from :func:`farm_wake_losses`.
    other_losses : float
        Availability and electrical losses. [fraction]
    density_correction : bool
        Correct the power curve for the hub-height air density.
    density_correction_method : str
        :data:`DENSITY_CORRECTION_WINDPOWERLIB` (windpowerlib's
        variable-exponent shift, the default) or :data:`DENSITY_CORRECTION_SAM`
        (SAM ``Windpower``'s uniform cube-root shift,
        :func:`power_curve_density_correction_sam`).

    Returns
    -------
    WindHourly
    """
    curve = turbine_curve(turbine_type)
    if density_correction_method not in DENSITY_CORRECTION_METHODS:
        raise ValueError(f"density_correction_method {density_correction_method!r} is unknown; "
                         f"known: {', '.join(DENSITY_CORRECTION_METHODS)}")
    if not measurement_height_m <= hub_height_m <= MAX_HUB_HEIGHT_M:
        raise ValueError(f"hub_height_m {hub_height_m} outside [{measurement_height_m}, "
                         f"{MAX_HUB_HEIGHT_M}]")
    if roughness_length_m <= 0:
        raise ValueError("roughness_length_m must be > 0")
    if mean_wind_speed_hub_m_s is not None:
        v = float(mean_wind_speed_hub_m_s) * long_term_hub_shape(
            wind_speed, measurement_height_m, hub_height_m)
    else:
        v = hub_wind_speed(wind_speed, measurement_height_m, hub_height_m, roughness_length_m)
    rho = hub_air_density(temp_air, pressure, station_elevation_m=station_elevation_m,
                          site_elevation_m=site_elevation_m, hub_height_m=hub_height_m)
    if density_correction and density_correction_method == DENSITY_CORRECTION_SAM:
        p_one = power_curve_density_correction_sam(v, curve.wind_speed_m_s, curve.power_kw, rho)
    elif density_correction:
        p_one = np.asarray(wpl_power.power_curve_density_correction(
            v, curve.wind_speed_m_s, curve.power_kw, rho), dtype=float)
    else:
        p_one = np.interp(v, curve.wind_speed_m_s, curve.power_kw, left=0, right=0)
    gross = p_one * turbine_count
    if wake_losses is None:
        wake_losses = farm_wake_losses(v, curve, turbine_count)
    after_wake = gross * (1.0 - wake_losses)
    net = after_wake * (1.0 - other_losses)
    return WindHourly(v, rho, gross, after_wake, net, float(wake_losses), float(other_losses),
                      curve.nominal_power_kw * turbine_count,
                      density_correction_method if density_correction else None)


@dataclass(frozen=True)
class WrfSiteMean:
    """WRF layer at a site.

    Attributes
    ----------
    covered : bool
        The site lies inside a WRF domain.
    mean_wind_speed_m_s : float or None
        Annual mean at the layer height (days-weighted seasons). [m/s]
    height_m : float
        Layer height. [m]
    domain : int or None
        Index of the domain used.
    """

    covered: bool
    mean_wind_speed_m_s: float | None
    height_m: float = WRF_HEIGHT_M
    domain: int | None = None


def wrf_mean_wind_speed(latitude: float, longitude: float,
                        domains: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
                        height_m: float = WRF_HEIGHT_M) -> WrfSiteMean:
    """Annual mean wind speed of the WRF seasonal layer at a site.

    Parameters
    ----------
    latitude, longitude : float
        Site. [°]
    domains : sequence of (lat, lon, wind_speed)
        Each domain's 1-D cell-centre latitudes and longitudes [°] and its
        seasonal means ``wind_speed`` of shape (4, n_lat, n_lon) ordered DJF,
        MAM, JJA, SON [m/s] (the shell loads them from
        ``data/resource/mexico_wrf_wind_80m/*.nc``).
    height_m : float
        Height of the layer. [m]

    Returns
    -------
    WrfSiteMean
        ``covered=False`` when no domain contains the site (or its cell is
        not finite).

    Notes
    -----
    Nearest cell; the annual mean weights the seasons by their days
    (:data:`WRF_SEASON_DAYS`).
    """
    for k, (lat, lon, ws) in enumerate(domains):
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        ws = np.asarray(ws, dtype=float)
        if ws.shape != (4, lat.size, lon.size):
            raise ValueError(f"WRF domain {k}: wind_speed shape {ws.shape} is not "
                             f"(4, {lat.size}, {lon.size})")
        half_lat = abs(lat[1] - lat[0]) / 2 if lat.size > 1 else 0.0
        half_lon = abs(lon[1] - lon[0]) / 2 if lon.size > 1 else 0.0
        if not (lat.min() - half_lat <= latitude <= lat.max() + half_lat
                and lon.min() - half_lon <= longitude <= lon.max() + half_lon):
            continue
        i = int(np.argmin(np.abs(lat - latitude)))
        j = int(np.argmin(np.abs(lon - longitude)))
        seasonal = ws[:, i, j]
        if not np.all(np.isfinite(seasonal)):
            continue
        mean = float(np.sum(seasonal * WRF_SEASON_DAYS) / WRF_SEASON_DAYS.sum())
        return WrfSiteMean(True, mean, height_m, k)
    return WrfSiteMean(False, None, height_m, None)
