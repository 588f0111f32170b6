"""Photovoltaic plant model: sun, plane of array, temperature, DC and AC power.

The chain follows NREL's PVWatts v8 (the model behind SAM's ``Pvwattsv8``
compute module) step by step, with pvlib functions:

1. sun position at the middle of each hourly interval (pvlib SPA);
2. surface orientation: fixed tilt, or a horizontal north-south single-axis
   tracker with backtracking (``pvlib.tracking.singleaxis``);
3. plane-of-array irradiance: beam, Perez 1990 sky diffuse and isotropic
   ground-reflected, with GHI rebuilt from DNI and DHI as SAM does;
4. row-to-row self-shading of large arrays: linear beam shading of fixed
   rows, sky-view and ground-view derates of fixed rows and trackers
   (Deline et al. 2013, as coded in SAM's ``lib_pvshade``);
5. cover reflection losses (physical IAM with an anti-reflective coating);
6. cell temperature with SAM's NOCT model (``pvlib.temperature.noct_sam``);
7. PVWatts DC power with the standard-module temperature coefficient,
   system losses as a DC derate, annual degradation, optional bifacial gain;
8. PVWatts inverter efficiency curve and clipping at the AC rating
   (DC rating / DC-to-AC ratio).

All irradiances are in W/m², powers in kW, angles in degrees, temperatures
in °C. Time series are hourly, labelled at the interval start.

References
----------
.. [1] Dobos, A. P., 2014, "PVWatts Version 5 Manual", NREL/TP-6A20-62641.
.. [2] NREL SAM ``ssc/cmod_pvwattsv8.cpp`` and ``shared/lib_pvshade.cpp``
   (BSD-3-Clause), SAM 2023+.
.. [3] Perez, R. et al., 1990, "Modeling daylight availability and irradiance
   components from direct and global irradiance", Solar Energy 44(5), 271-289.
.. [4] Deline, C., Dobos, A., Janzou, S., Meydbray, J., Donovan, M., 2013,
   "A simplified model of uniform shading in large photovoltaic arrays",
   Solar Energy 96, 274-282, doi:10.1016/j.solener.2013.07.008.
.. [5] Jacobson, M. Z., Jadhav, V., 2018, "World estimates of PV optimal tilt
   angles and ratios of sunlight incident upon tilted and tracked PV panels
   relative to horizontal panels", Solar Energy 169, 55-66,
   doi:10.1016/j.solener.2018.04.030.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pvlib

__all__ = [
    "GAMMA_PDC_STANDARD_PER_C",
    "INVERTER_EFFICIENCY_NOMINAL",
    "INVERTER_EFFICIENCY_REFERENCE",
    "NOCT_OPEN_RACK_C",
    "MODULE_EFFICIENCY_STANDARD",
    "TRACKER_MAX_ANGLE_DEG",
    "PVHourly",
    "optimal_tilt_deg",
    "solar_position_midpoint",
    "surface_orientation",
    "sky_diffuse_row_factor",
    "ground_diffuse_row_factor",
    "beam_row_shade_fraction",
    "perez_sky_diffuse",
    "cover_transmittance",
    "simulate_pv",
]

#: PVWatts v8 "standard" module temperature coefficient of power. [1/°C]
#: Source: SAM ``cmod_pvwattsv8.cpp`` (module.gamma for STANDARD).
GAMMA_PDC_STANDARD_PER_C = -0.0037
#: PVWatts nominal inverter efficiency. [fraction] Source: Dobos 2014, eq. 13;
#: SAM ``Pvwattsv8`` input ``inv_eff`` default 96 %.
INVERTER_EFFICIENCY_NOMINAL = 0.96
#: PVWatts reference inverter efficiency of the efficiency curve. [fraction]
#: Source: Dobos 2014, eq. 13 (``pvlib.inverter.pvwatts`` default).
INVERTER_EFFICIENCY_REFERENCE = 0.9637
#: Nominal operating cell temperature, open rack. [°C] Source: SAM
#: ``cmod_pvwattsv8.cpp`` (Tnoct = 45 for all array types but roof mount).
NOCT_OPEN_RACK_C = 45.0
#: Module efficiency at STC used by the NOCT model. [fraction] Source: SAM
#: ``cmod_pvwattsv8.cpp`` standard module, Canadian Solar CS1H-320MS
#: (Vmp·Imp / (area·1000 W/m²) = 35.8·9.01 / 1686.4).
MODULE_EFFICIENCY_STANDARD = 35.8 * 9.01 / 1686.4
#: Transmittance-absorptance product of the NOCT model. [fraction] Source:
#: SAM Photovoltaic Model Technical Reference (NREL/TP-6A20-67399), eq. 10.37.
TRANSMITTANCE_ABSORPTANCE = 0.9
#: Wind-speed factor of the NOCT model for arrays below 22 ft. [-] Source:
#: SAM ``cmod_pvwattsv8.cpp`` (ffv_wind = 0.51).
NOCT_WIND_FACTOR = 0.51
#: Refractive index of module glass. [-] Source: De Soto et al. 2006.
GLASS_REFRACTIVE_INDEX = 1.526
#: Refractive index of the anti-reflective coating. [-] Source: SAM
#: ``lib_pv_incidence_modifier`` (PVWatts v8 modules have AR glass).
AR_COATING_REFRACTIVE_INDEX = 1.3
#: Glass extinction coefficient. [1/m] Source: De Soto et al. 2006.
GLASS_EXTINCTION_PER_M = 4.0
#: Glass thickness. [m] Source: De Soto et al. 2006.
GLASS_THICKNESS_M = 0.002
#: Tracker rotation limit. [°] Source: SAM ``Pvwattsv8`` input ``rotlim``
#: default 45.
TRACKER_MAX_ANGLE_DEG = 45.0
#: Default ground coverage ratio. [fraction] Source: SAM ``Pvwattsv8`` ``gcr``.
DEFAULT_GCR = 0.3
#: Default ground albedo when the weather file has none. [fraction] Source:
#: SAM ``Pvwattsv8`` input ``albedo_default``.
DEFAULT_ALBEDO = 0.2
#: Polynomial of the optimal fixed tilt against latitude for 0–65° N,
#: coefficients of lat⁰..lat³. Source: Jacobson & Jadhav 2018, Table 1 fit.
OPTIMAL_TILT_POLYNOMIAL = (1.3793, 1.2011, -0.014404, 0.000080509)
#: Sky-diffuse and ground-diffuse equivalent incidence angles (Brandemuehl &
#: Beckman 1980, as used by De Soto et al. 2006 and SAM), coefficients of
#: tilt⁰..tilt².
SKY_EQUIVALENT_AOI = (59.7, -0.1388, 0.001497)
GROUND_EQUIVALENT_AOI = (90.0, -0.5788, 0.002693)
#: Number of points of SAM's sky-view integral along a row's slant height.
SKY_VIEW_INTEGRAL_POINTS = 1000


def optimal_tilt_deg(latitude):
    """Near-optimal fixed tilt for annual energy at a latitude.

    Parameters
    ----------
    latitude : float or array_like
        Site latitude, north positive. [°]

    Returns
    -------
    float or numpy.ndarray
        Tilt from horizontal. [°]

    Notes
    -----
    Jacobson & Jadhav (2018) fit for the northern hemisphere,
    ``tilt = 1.3793 + φ(1.2011 + φ(-0.014404 + φ·0.000080509))`` with
    φ = |latitude|; for 22° N it gives 21.7°.
    """
    phi = np.abs(np.asarray(latitude, dtype=float))
    c0, c1, c2, c3 = OPTIMAL_TILT_POLYNOMIAL
    tilt = c0 + phi * (c1 + phi * (c2 + phi * c3))
    return float(tilt) if tilt.ndim == 0 else tilt


def solar_position_midpoint(times, latitude, longitude, elevation_m, pressure=None,
                            temp_air=None):
    """Sun position at the middle of each hourly interval (pvlib SPA).

    Parameters
    ----------
    times : pandas.DatetimeIndex
        Tz-aware interval starts.
    latitude, longitude : float
        Site coordinates. [°]
    elevation_m : float
        Site elevation. [m]
    pressure : array_like, optional
        Air pressure. [Pa]
    temp_air : array_like, optional
        Air temperature. [°C]

    Returns
    -------
    pandas.DataFrame
        ``apparent_zenith``, ``zenith``, ``azimuth`` [°] indexed by ``times``.
    """
    unixtime = hour_tables(times).unixtime_mid_s
    # pvlib's get_solarposition: without a pressure, the standard atmosphere's at the elevation
    pressure_mbar = (pvlib.atmosphere.alt2pres(elevation_m) if pressure is None
                     else np.asarray(pressure, dtype=float)) / 100.0
    temperature = SPA_DEFAULT_TEMPERATURE_C if temp_air is None else np.asarray(temp_air, dtype=float)
    zenith_app, zenith, azimuth = spa_site_position(_spa_geocentric(unixtime.tobytes()), latitude,
                                                    longitude, elevation_m, pressure_mbar, temperature)
    return pd.DataFrame({"apparent_zenith": zenith_app, "zenith": zenith, "azimuth": azimuth},
                        index=times)


@dataclass(frozen=True)
class HourTables:
    """What a typical year's time index gives every site (computed once per index).

    Attributes
    ----------
    unixtime_mid_s : numpy.ndarray
        Middle of each interval, seconds since 1970-01-01 UTC. [s]
    dni_extra_w_m2 : numpy.ndarray
        Extraterrestrial normal irradiance on the middle's day of year (pvlib
        ``get_extra_radiation``, Spencer 1971). [W/m²]
    month_index : numpy.ndarray of int
        Month of each interval start, 0 = January.
    """

    unixtime_mid_s: np.ndarray
    dni_extra_w_m2: np.ndarray
    month_index: np.ndarray


def hour_tables(times: pd.DatetimeIndex) -> HourTables:
    """:class:`HourTables` of tz-aware hourly interval starts (cached by their values)."""
    if times.tz is None:
        raise ValueError("times must be tz-aware")
    return _hour_tables(str(times.tz), np.asarray(times.as_unit("ns").asi8, dtype=np.int64).tobytes())


@lru_cache(maxsize=64)
def _hour_tables(tz: str, starts_ns: bytes) -> HourTables:
    times = pd.DatetimeIndex(np.frombuffer(starts_ns, dtype=np.int64).astype("datetime64[ns]"),
                             ).tz_localize("UTC").tz_convert(tz)
    mid = times + pd.Timedelta(minutes=30)
    unixtime = np.asarray(mid.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64) / 1e9
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(mid.day_of_year.to_numpy(dtype=float)),
                           dtype=float)
    month = np.asarray(times.month, dtype=np.int64) - 1
    for a in (unixtime, dni_extra, month):
        a.setflags(write=False)
    return HourTables(unixtime, dni_extra, month)


#: pvlib ``spa_python`` defaults used by the detailed path: ΔT = TT − UT1 [s], refraction at
#: sunrise and sunset [°] and the temperature when none is given [°C] (``get_solarposition``).
SPA_DELTA_T_S = 67.0
SPA_ATMOS_REFRACT_DEG = 0.5667
SPA_DEFAULT_TEMPERATURE_C = 12.0


@dataclass(frozen=True)
class SpaGeocentric:
    """The location-independent part of NREL's SPA for a set of instants.

    Attributes
    ----------
    sidereal_time_deg, right_ascension_deg, declination_deg : numpy.ndarray
        Apparent sidereal time at Greenwich ``ν``, geocentric sun right ascension ``α``
        and declination ``δ``. [°]
    parallax_deg : numpy.ndarray
        Equatorial horizontal parallax of the sun ``ξ``. [°]
    """

    sidereal_time_deg: np.ndarray
    right_ascension_deg: np.ndarray
    declination_deg: np.ndarray
    parallax_deg: np.ndarray


@lru_cache(maxsize=64)
def _spa_geocentric(unixtime_bytes: bytes) -> SpaGeocentric:
    """SPA steps 1–3.8 of Reda & Andreas (2004) for the instants (cached per weather year).

    The costly part of the sun position (heliocentric series, nutation) depends on the
    instant only, not on the site: a station's typical year is computed once and every
    site that uses it reuses it (the quick yield of a map click).
    """
    from pvlib import spa  # noqa: PLC0415  (pvlib's own SPA steps, numpy flavour)

    unixtime = np.frombuffer(unixtime_bytes, dtype=float)
    jd = spa.julian_day(unixtime)
    jde = spa.julian_ephemeris_day(jd, SPA_DELTA_T_S)
    jc = spa.julian_century(jd)
    jce = spa.julian_ephemeris_century(jde)
    jme = spa.julian_ephemeris_millennium(jce)
    radius = spa.heliocentric_radius_vector(jme)
    theta = spa.geocentric_longitude(spa.heliocentric_longitude(jme))
    beta = spa.geocentric_latitude(spa.heliocentric_latitude(jme))
    x0, x1, x2 = spa.mean_elongation(jce), spa.mean_anomaly_sun(jce), spa.mean_anomaly_moon(jce)
    x3, x4 = spa.moon_argument_latitude(jce), spa.moon_ascending_longitude(jce)
    nutation = np.empty((2, len(x0)))
    spa.longitude_obliquity_nutation(jce, x0, x1, x2, x3, x4, nutation)
    delta_psi, delta_epsilon = nutation[0], nutation[1]
    epsilon = spa.true_ecliptic_obliquity(spa.mean_ecliptic_obliquity(jme), delta_epsilon)
    lamd = spa.apparent_sun_longitude(theta, delta_psi, spa.aberration_correction(radius))
    v = spa.apparent_sidereal_time(spa.mean_sidereal_time(jd, jc), delta_psi, epsilon)
    out = SpaGeocentric(v, spa.geocentric_sun_right_ascension(lamd, epsilon, beta),
                        spa.geocentric_sun_declination(lamd, epsilon, beta),
                        spa.equatorial_horizontal_parallax(radius))
    for a in (out.sidereal_time_deg, out.right_ascension_deg, out.declination_deg, out.parallax_deg):
        a.setflags(write=False)
    return out


def spa_site_position(geo: SpaGeocentric, latitude, longitude, elevation_m, pressure_mbar,
                      temperature_c):
    """SPA steps 3.9–3.15 (topocentric, refraction) of Reda & Andreas (2004) at one site.

    Parameters
    ----------
    geo : SpaGeocentric
        From the cached location-independent steps.
    latitude, longitude : float
        [°]
    elevation_m : float
        [m]
    pressure_mbar : float or array_like
        [mbar]
    temperature_c : float or array_like
        [°C]

    Returns
    -------
    (apparent_zenith, zenith, azimuth) : numpy.ndarray
        [°]; identical to ``pvlib.solarposition.get_solarposition(method="nrel_numpy")``
        (the same pvlib functions in the same order; a test checks equality).

    References
    ----------
    Reda, I. & Andreas, A. (2004), "Solar position algorithm for solar radiation
    applications", Solar Energy 76, 577-589, doi:10.1016/j.solener.2003.12.003.
    """
    from pvlib import spa  # noqa: PLC0415

    hour_angle = spa.local_hour_angle(geo.sidereal_time_deg, longitude, geo.right_ascension_deg)
    u = spa.uterm(latitude)
    x = spa.xterm(u, latitude, elevation_m)
    y = spa.yterm(u, latitude, elevation_m)
    delta_alpha = spa.parallax_sun_right_ascension(x, geo.parallax_deg, hour_angle, geo.declination_deg)
    delta_prime = spa.topocentric_sun_declination(geo.declination_deg, x, y, geo.parallax_deg,
                                                  delta_alpha, hour_angle)
    h_prime = spa.topocentric_local_hour_angle(hour_angle, delta_alpha)
    e0 = spa.topocentric_elevation_angle_without_atmosphere(latitude, delta_prime, h_prime)
    delta_e = spa.atmospheric_refraction_correction(pressure_mbar, temperature_c, e0,
                                                    SPA_ATMOS_REFRACT_DEG)
    e = spa.topocentric_elevation_angle(e0, delta_e)
    gamma = spa.topocentric_astronomers_azimuth(h_prime, delta_prime, latitude)
    return (np.asarray(spa.topocentric_zenith_angle(e), float),
            np.asarray(spa.topocentric_zenith_angle(e0), float),
            np.asarray(spa.topocentric_azimuth_angle(gamma), float))


def surface_orientation(apparent_zenith, solar_azimuth, *, tracking, tilt_deg,
                        azimuth_deg, gcr, max_angle_deg=TRACKER_MAX_ANGLE_DEG):
    """Surface tilt, azimuth and angle of incidence.

    Parameters
    ----------
    apparent_zenith, solar_azimuth : array_like
        Sun position. [°]
    tracking : bool
        ``True`` for a horizontal north-south single-axis tracker with
        backtracking, ``False`` for fixed tilt.
    tilt_deg, azimuth_deg : float
        Fixed surface tilt and azimuth (180 = south); ignored when tracking. [°]
    gcr : float
        Ground coverage ratio (backtracking). [fraction]
    max_angle_deg : float
        Tracker rotation limit. [°]

    Returns
    -------
    surface_tilt, surface_azimuth, aoi : numpy.ndarray
        [°]; ``aoi`` is 90 where the sun is down.
    """
    zen = np.asarray(apparent_zenith, dtype=float)
    az = np.asarray(solar_azimuth, dtype=float)
    if tracking:
        tr = pvlib.tracking.singleaxis(zen, az, axis_tilt=0.0, axis_azimuth=180.0,
                                       max_angle=max_angle_deg, backtrack=True, gcr=gcr)
        surface_tilt = np.nan_to_num(np.asarray(tr["surface_tilt"], dtype=float))
        surface_azimuth = np.nan_to_num(np.asarray(tr["surface_azimuth"], dtype=float),
                                        nan=180.0)
        aoi = np.asarray(tr["aoi"], dtype=float)
    else:
        surface_tilt = np.full_like(zen, float(tilt_deg))
        surface_azimuth = np.full_like(zen, float(azimuth_deg))
        aoi = np.asarray(pvlib.irradiance.aoi(tilt_deg, azimuth_deg, zen, az), dtype=float)
    aoi = np.where(np.isfinite(aoi) & (zen < 90.0), aoi, 90.0)
    return surface_tilt, surface_azimuth, aoi


def sky_diffuse_row_factor(surface_tilt, gcr):
    """Fraction of the isotropic sky view left to a row behind another row.

    Parameters
    ----------
    surface_tilt : float or array_like
        Module tilt. [°]
    gcr : float
        Ground coverage ratio. [fraction]

    Returns
    -------
    numpy.ndarray
        Sky-diffuse derate (1 = no loss). [fraction]

    Notes
    -----
    SAM ``sssky_diffuse_table::compute`` (Deline et al. 2013): the sky solid
    angle seen from points along the slant height, with the mask of the row in
    front, averaged over 1000 points and divided by the unobstructed angle
    ``π + π/√(1+tan²β)``.
    """
    beta = np.radians(np.asarray(surface_tilt, dtype=float))[..., None]
    step = 1.0 / SKY_VIEW_INTEGRAL_POINTS
    frac = 1.0 - np.arange(SKY_VIEW_INTEGRAL_POINTS) * step
    with np.errstate(divide="ignore", invalid="ignore"):
        tan_b = np.tan(beta)
        a_sky = np.pi + np.pi / np.sqrt(1.0 + tan_b ** 2)
        arg = 1.0 / tan_b - 1.0 / (gcr * np.sin(beta) * frac)
        gamma = -np.pi / 2.0 + np.arctan(arg)
        tg = np.tan(beta + gamma)
        a_shade = np.pi + np.pi / np.sqrt(1.0 + tg * tg)
        a_shade = np.where(beta + gamma > np.pi / 2.0, 2.0 * np.pi - a_shade, a_shade)
        a_shade = np.where(np.isnan(a_shade), a_sky, a_shade)
        factor = np.sum(a_shade / a_sky, axis=-1) * step
    return np.where(beta[..., 0] <= 0.0, 1.0, factor)


def ground_diffuse_row_factor(solar_zenith, surface_tilt, gcr):
    """Ground-reflected derate of rows that shade the ground behind them.

    Parameters
    ----------
    solar_zenith : array_like
        Sun zenith. [°]
    surface_tilt : array_like
        Module tilt. [°]
    gcr : float
        Ground coverage ratio. [fraction]

    Returns
    -------
    beam_factor, diffuse_factor : numpy.ndarray
        Multipliers of the beam and diffuse horizontal parts of the
        ground-reflected irradiance (infinite rows). [fraction]

    Notes
    -----
    SAM ``lib_pvshade::diffuse_reduce`` (view factors of Deline et al. 2013)
    in the limit of many rows: with B = 1, R = 1/gcr, α the sun elevation,
    ``Y1 = max(1e-5, R - sin(180-α-β)/sin α)``,
    ``F(Y) = ½(1 + Y - √(Y² - 2Y cos(180-β) + 1))``; the ground-reflected
    irradiance ``alb·sin²(β/2)·(Gbh·F(Y1) + Gdh·F(R))``.
    """
    zen = np.asarray(solar_zenith, dtype=float)
    beta = np.radians(np.asarray(surface_tilt, dtype=float))
    alt = np.radians(np.clip(90.0 - zen, 0.01, 90.0))
    r = 1.0 / gcr
    y1 = np.maximum(1e-5, r - np.sin(np.pi - alt - beta) / np.sin(alt))
    cos_back = np.cos(np.pi - beta)
    f2 = 0.5 * (1.0 + y1 - np.sqrt(y1 * y1 - 2.0 * y1 * cos_back + 1.0))
    f3 = 0.5 * (1.0 + r - np.sqrt(r * r - 2.0 * r * cos_back + 1.0))
    return f2, np.broadcast_to(f3, f2.shape)


def beam_row_shade_fraction(solar_zenith, solar_azimuth, surface_tilt, surface_azimuth, gcr):
    """Shaded fraction of a fixed row's slant height by the row in front.

    Parameters
    ----------
    solar_zenith, solar_azimuth : array_like
        Sun position. [°]
    surface_tilt, surface_azimuth : array_like
        Row orientation. [°]
    gcr : float
        Ground coverage ratio. [fraction]

    Returns
    -------
    numpy.ndarray
        Linear shade fraction in [0, 1].

    Notes
    -----
    Appelbaum & Bany (1979) eqs. 12 and A13 as in SAM ``ss_exec``:
    ``py = cos β + cos(γs-γ)·sin β / tan α``, ``f = max(0, 1 - (1/gcr)/py)``
    when the sun is up and in front of the row.
    """
    zen = np.asarray(solar_zenith, dtype=float)
    az_eff = np.radians(np.asarray(solar_azimuth, dtype=float) - surface_azimuth)
    beta = np.radians(np.asarray(surface_tilt, dtype=float))
    alt = np.radians(90.0 - zen)
    ok = (zen < 90.0) & (beta != 0.0) & (np.abs(az_eff) < np.pi / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        py = np.cos(beta) + np.cos(az_eff) * np.sin(beta) / np.tan(alt)
        frac = 1.0 - (1.0 / gcr) / py
    return np.where(ok & np.isfinite(frac), np.clip(frac, 0.0, 1.0), 0.0)


def perez_sky_diffuse(surface_tilt, surface_azimuth, dhi, dni, dni_extra, solar_zenith,
                      solar_azimuth, airmass):
    """Perez 1990 sky diffuse on a tilted plane, free of NaN.

    Parameters
    ----------
    surface_tilt, surface_azimuth : array_like
        [°]
    dhi, dni, dni_extra : array_like
        Diffuse horizontal, direct normal and extraterrestrial irradiance. [W/m²]
    solar_zenith, solar_azimuth : array_like
        [°]
    airmass : array_like
        Relative air mass. [-]

    Returns
    -------
    numpy.ndarray
        Sky diffuse irradiance in the plane. [W/m²]

    Notes
    -----
    ``pvlib.irradiance.perez`` returns NaN for sun-up hours with zero
    diffuse and zero beam (the clearness ε is 0/0, so no coefficient bin). A NaN carried into the temperature and
    power models silently drops the hour from sums; here an hour with no
    diffuse has no sky diffuse (0), and any other non-finite value is an error.
    """
    dhi = np.asarray(dhi, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sky = np.asarray(pvlib.irradiance.perez(surface_tilt, surface_azimuth, dhi, dni,
                                                dni_extra, solar_zenith, solar_azimuth,
                                                airmass), dtype=float)
    sky = np.where((dhi > 0.0) & (np.asarray(solar_zenith) < 90.0), sky, 0.0)
    if not np.all(np.isfinite(sky)):
        bad = int(np.flatnonzero(~np.isfinite(sky))[0])
        raise ValueError(f"Perez sky diffuse is not finite at hour index {bad}")
    return np.maximum(sky, 0.0)


def cover_transmittance(aoi):
    """Module cover transmittance relative to normal incidence (physical IAM).

    Parameters
    ----------
    aoi : array_like
        Angle of incidence. [°]

    Returns
    -------
    numpy.ndarray
        Incidence angle modifier in [0, 1].

    Notes
    -----
    Fresnel reflection and Bouguer absorption through an AR-coated glass
    cover (De Soto et al. 2006; ``pvlib.iam.physical`` with ``n_ar``), the
    cover model of SAM's PVWatts v8 standard module (``ar_glass = true``).
    """
    aoi = np.asarray(aoi, dtype=float)
    iam = pvlib.iam.physical(np.clip(aoi, 0.0, 90.0), n=GLASS_REFRACTIVE_INDEX,
                             K=GLASS_EXTINCTION_PER_M, L=GLASS_THICKNESS_M,
                             n_ar=AR_COATING_REFRACTIVE_INDEX)
    return np.where(aoi >= 90.0, 0.0, np.nan_to_num(np.asarray(iam, dtype=float)))


def _transmittance_of_few(aoi):
    """:func:`cover_transmittance` evaluated once per distinct angle (a fixed tilt has one)."""
    aoi = np.asarray(aoi, dtype=float)
    if aoi.ndim == 0 or aoi.size < 64:
        return cover_transmittance(aoi)
    distinct, inverse = np.unique(aoi, return_inverse=True)
    if distinct.size > aoi.size // 4:
        return cover_transmittance(aoi)
    return np.asarray(cover_transmittance(distinct), dtype=float)[inverse].reshape(aoi.shape)


def _equivalent_aoi(coefficients, tilt):
    c0, c1, c2 = coefficients
    return c0 + tilt * (c1 + tilt * c2)


@dataclass(frozen=True)
class PVHourly:
    """Hourly results of one PV plant-year; each array has 8760 values.

    Attributes
    ----------
    poa_nominal : numpy.ndarray
        Front plane-of-array irradiance before self-shading. [W/m²]
    poa_shaded : numpy.ndarray
        After row-to-row self-shading, times (1 + bifacial gain). [W/m²]
    poa_effective : numpy.ndarray
        After cover reflection. [W/m²]
    cell_temperature : numpy.ndarray
        [°C]
    dc_gross_kw : numpy.ndarray
        DC before system losses and degradation. [kW]
    dc_net_kw : numpy.ndarray
        DC after system losses and degradation. [kW]
    ac_unclipped_kw : numpy.ndarray
        After inverter efficiency, before clipping. [kW]
    ac_kw : numpy.ndarray
        AC output = hourly AC energy. [kW] (= [kWh] per hour)
    """

    poa_nominal: np.ndarray
    poa_shaded: np.ndarray
    poa_effective: np.ndarray
    cell_temperature: np.ndarray
    dc_gross_kw: np.ndarray
    dc_net_kw: np.ndarray
    ac_unclipped_kw: np.ndarray
    ac_kw: np.ndarray


def simulate_pv(times, dni, dhi, temp_air, wind_speed, pressure, *, latitude, longitude,
                elevation_m, capacity_dc_kw, dc_ac_ratio, tilt_deg, azimuth_deg, tracking,
                gcr=DEFAULT_GCR, system_losses=0.0, albedo=None, degradation_factor=1.0,
                bifacial_gain=0.0, gamma_pdc=GAMMA_PDC_STANDARD_PER_C,
                eta_inv_nom=INVERTER_EFFICIENCY_NOMINAL):
    """Simulate one PV plant over one typical year (PVWatts v8 chain, pvlib).

    Parameters
    ----------
    times : pandas.DatetimeIndex
        Tz-aware hourly interval starts (8760).
    dni, dhi : array_like
        Direct normal and diffuse horizontal irradiance. [W/m²]
    temp_air : array_like
        [°C]
    wind_speed : array_like
        At 10 m. [m/s]
    pressure : array_like
        [Pa]
    latitude, longitude : float
        [°]
    elevation_m : float
        [m]
    capacity_dc_kw : float
        DC nameplate. [kW]
    dc_ac_ratio : float
        DC nameplate / AC rating. [-]
    tilt_deg, azimuth_deg : float
        Fixed tilt and azimuth (180 = south). [°]
    tracking : bool
        Single-axis tracker with backtracking when ``True``.
    gcr : float
        Ground coverage ratio. [fraction]
    system_losses : float
        Total DC derate of the loss breakdown. [fraction]
    albedo : array_like, optional
        Ground albedo per hour; invalid values fall back to 0.2. [fraction]
    degradation_factor : float
        Multiplier of DC output for the operating year. [fraction]
    bifacial_gain : float
        Rear-side gain added to the front irradiance. [fraction]
    gamma_pdc : float
        Temperature coefficient of power. [1/°C]
    eta_inv_nom : float
        Nominal inverter efficiency. [fraction]

    Returns
    -------
    PVHourly
    """
    dni = np.asarray(dni, dtype=float)
    dhi = np.asarray(dhi, dtype=float)
    temp_air = np.asarray(temp_air, dtype=float)
    wind_speed = np.asarray(wind_speed, dtype=float)
    sp = solar_position_midpoint(times, latitude, longitude, elevation_m, pressure, temp_air)
    zen = sp["apparent_zenith"].to_numpy()
    saz = sp["azimuth"].to_numpy()
    up = zen < 90.0
    stilt, sazi, aoi = surface_orientation(zen, saz, tracking=tracking, tilt_deg=tilt_deg,
                                           azimuth_deg=azimuth_deg, gcr=gcr)
    cos_z = np.where(up, np.cos(np.radians(zen)), 0.0)
    ghi = dni * cos_z + dhi
    if albedo is None:
        alb = np.full_like(dni, DEFAULT_ALBEDO)
    else:
        alb = np.asarray(albedo, dtype=float)
        alb = np.where(np.isfinite(alb) & (alb > 0.0) & (alb < 1.0), alb, DEFAULT_ALBEDO)
    dni_extra = hour_tables(times).dni_extra_w_m2
    airmass = np.asarray(pvlib.atmosphere.get_relative_airmass(np.where(up, zen, 89.9)),
                         dtype=float)
    beam = np.where(up, dni * np.maximum(np.cos(np.radians(aoi)), 0.0), 0.0)
    sky = perez_sky_diffuse(stilt, sazi, dhi, dni, dni_extra, zen, saz, airmass)
    ground_factor = alb * (1.0 - np.cos(np.radians(stilt))) / 2.0
    ground = np.where(up, ghi * ground_factor, 0.0)
    poa_nominal = beam + sky + ground

    # Row-to-row self-shading (SAM applies it to open-rack fixed and trackers).
    if tracking:
        shade = np.zeros_like(beam)
    else:
        shade = beam_row_shade_fraction(zen, saz, stilt, sazi, gcr)
    f_sky = np.interp(stilt, *_sky_table(gcr))
    f_gb, f_gd = ground_diffuse_row_factor(zen, stilt, gcr)
    ground_shaded = np.where(up, ground_factor * (dni * cos_z * f_gb + dhi * f_gd), 0.0)
    active = (sky + ground) >= 0.1
    sky_s = np.where(active, sky * f_sky, sky)
    ground_s = np.where(active, ground_shaded, ground)
    beam_s = beam * (1.0 - shade)
    poa_front = beam_s + sky_s + ground_s
    poa_shaded = poa_front * (1.0 + bifacial_gain)

    tilt_eq = stilt
    poa_eff = (beam_s * cover_transmittance(aoi)
               + sky_s * _transmittance_of_few(_equivalent_aoi(SKY_EQUIVALENT_AOI, tilt_eq))
               + ground_s * _transmittance_of_few(_equivalent_aoi(GROUND_EQUIVALENT_AOI, tilt_eq)))
    poa_eff = poa_eff + poa_front * bifacial_gain
    cell_t = pvlib.temperature.noct_sam(poa_shaded, temp_air, wind_speed, NOCT_OPEN_RACK_C,
                                        MODULE_EFFICIENCY_STANDARD,
                                        transmittance_absorptance=TRANSMITTANCE_ABSORPTANCE,
                                        array_height=1, mount_standoff=4)
    cell_t = np.asarray(cell_t, dtype=float)
    dc_gross = np.asarray(pvlib.pvsystem.pvwatts_dc(poa_eff, cell_t, capacity_dc_kw, gamma_pdc),
                          dtype=float)
    dc_gross = np.where(up, np.maximum(dc_gross, 0.0), 0.0)
    dc_net = dc_gross * (1.0 - system_losses) * degradation_factor
    ac_rating_kw = capacity_dc_kw / dc_ac_ratio
    ac_unclipped = inverter_ac_kw(dc_net, ac_rating_kw, eta_inv_nom=eta_inv_nom, clip=False)
    ac = np.minimum(ac_unclipped, ac_rating_kw)
    hourly = PVHourly(poa_nominal, poa_shaded, poa_eff, cell_t, dc_gross, dc_net,
                      ac_unclipped, ac)
    for name in ("poa_nominal", "poa_effective", "dc_net_kw", "ac_kw"):
        values = getattr(hourly, name)
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ValueError(f"PV model produced a non-finite {name} at hour index {bad}")
    return hourly


def inverter_ac_kw(dc_kw, ac_rating_kw, *, eta_inv_nom=INVERTER_EFFICIENCY_NOMINAL,
                   clip=True):
    """PVWatts inverter: efficiency curve and clipping at the AC rating.

    Parameters
    ----------
    dc_kw : float, array_like or pandas.Series
        DC input. [kW]
    ac_rating_kw : float or array_like
        AC nameplate = DC nameplate / DC-to-AC ratio. [kW]
    eta_inv_nom : float
        Nominal efficiency. [fraction]
    clip : bool
        Clip at ``ac_rating_kw``.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        AC output, of the kind of ``dc_kw``; 0 where ``dc_kw ≤ 0``, NaN where
        ``dc_kw`` is NaN. [kW]

    Notes
    -----
    Dobos 2014 eq. 13: with ζ = P_dc / P_dc0 and P_dc0 = P_ac0 / η_nom,
    ``η = η_nom/η_ref · (-0.0162ζ - 0.0059/ζ + 0.9858)`` and
    ``P_ac = max(0, min(η·P_dc, P_ac0))``, evaluated by
    :func:`pvlib.inverter.pvwatts` with η_ref =
    :data:`INVERTER_EFFICIENCY_REFERENCE`. pvlib clips at η_nom·P_dc0, which
    is ``ac_rating_kw`` to within one rounding of the last bit.

    Without clipping, pvlib's function is called with both efficiencies
    multiplied by :data:`_UNCLIPPED_EFFICIENCY_SCALE`, a power of two: their
    ratio, hence η, is bit-for-bit the same, and the clip level η_nom·P_dc0
    moves 2⁶⁴ times above the rating, out of reach of any DC input.

    References
    ----------
    .. [1] Dobos, A. P., 2014, "PVWatts Version 5 Manual", NREL/TP-6A20-62641,
       doi:10.2172/1158421.

    Examples
    --------
    >>> round(inverter_ac_kw(50.0, 100.0), 4)
    48.1012
    """
    series = isinstance(dc_kw, pd.Series)
    dc = dc_kw if series else np.asarray(dc_kw, dtype=float)
    pdc0 = np.asarray(ac_rating_kw, dtype=float) / eta_inv_nom
    scale = 1.0 if clip else _UNCLIPPED_EFFICIENCY_SCALE
    # a DC input so small that ζ underflows to 0 gives η = -inf, then P_ac = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ac = pvlib.inverter.pvwatts(dc, pdc0, eta_inv_nom=eta_inv_nom * scale,
                                    eta_inv_ref=INVERTER_EFFICIENCY_REFERENCE * scale)
    if series:
        return ac
    return float(ac) if np.ndim(ac) == 0 else np.asarray(ac, dtype=float)


#: Power of two multiplying both efficiencies handed to ``pvlib.inverter.pvwatts``
#: to lift its clip level without changing the efficiency curve. [-]
_UNCLIPPED_EFFICIENCY_SCALE = 2.0 ** 64


_SKY_TABLE_TILTS = np.linspace(0.0, 90.0, 361)


def _sky_table(gcr):
    """Sky-view derate tabulated every 0.25° of tilt for one GCR (computed once per GCR)."""
    return _SKY_TABLE_TILTS, _sky_table_values(float(gcr))


@lru_cache(maxsize=256)
def _sky_table_values(gcr: float) -> np.ndarray:
    values = sky_diffuse_row_factor(_SKY_TABLE_TILTS, gcr)
    values.setflags(write=False)
    return values
