"""Batch energy yield for screening: many sites, one call, compiled kernels.

:func:`pv_energy_batch` and :func:`wind_energy_batch` give annual and monthly
AC energy of N sites (each with its own location and configuration) from a
:class:`~siting.weather.StationWeather` stack. They implement the same
physics as the detailed path (:func:`siting.pv.simulate_pv`,
:func:`siting.wind.simulate_wind`) in numba kernels that loop over
(site, hour) without building any (site × hour) array, so working memory is
O(sites × 12) and stays far below 1 GB at any N; sites are processed in
chunks of :data:`CHUNK_SITES` only to bound the broadcast input arrays.

Differences from the detailed path, all below 1 % of annual energy (a test
checks this): the sun position uses Spencer's (1971) declination and
equation of time without refraction instead of pvlib's SPA, and the wind
power curve with density correction is read from a (density × speed) table
(nearest density row, linear in speed)
built with windpowerlib's own function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
import pvlib

from siting import pv as pvmod
from siting import wind as windmod
from siting.weather import StationWeather

__all__ = ["BatchYield", "pv_energy_batch", "wind_energy_batch", "CHUNK_SITES"]

#: Sites per kernel call (bounds the broadcast per-site inputs). [-]
CHUNK_SITES = 262_144
_IAM_STEP_DEG = 0.05
_IAM_TABLE = pvmod.cover_transmittance(np.arange(0.0, 90.0 + _IAM_STEP_DEG, _IAM_STEP_DEG))
_SKY_STEP_DEG = 0.25
#: Tables over cos(angle) in [0, 1]: Kasten & Young (1989) relative air mass
#: of the zenith angle, and the cover IAM of the angle of incidence.
_COS_STEP = 1.0 / 20000.0
_COS_GRID = np.arange(0.0, 1.0 + _COS_STEP / 2, _COS_STEP)
_AM_TABLE = np.asarray(pvlib.atmosphere.get_relative_airmass(
    np.degrees(np.arccos(np.maximum(_COS_GRID, 1e-6))), "kastenyoung1989"), dtype=float)
_IAM_COS_TABLE = pvmod.cover_transmittance(np.degrees(np.arccos(_COS_GRID)))
#: Perez et al. (1990) "allsitescomposite1990" coefficients (8 sky-clearness bins × F11..F13
#: and F21..F23), the set ``pvlib.irradiance.perez`` uses by default. pvlib has no public
#: accessor for the table (only ``perez`` itself, which the numba kernel cannot call), so
#: the private ``_get_perez_coefficients`` is read once here; pvlib is pinned exactly in
#: requirements.lock and tests/siting/test_yield_batch.py checks rows of it against the
#: paper's published values, so an upgrade that moves or changes it fails loudly.
_PEREZ_F1, _PEREZ_F2 = (np.ascontiguousarray(c, dtype=float)
                        for c in pvlib.irradiance._get_perez_coefficients("allsitescomposite1990"))


@dataclass(frozen=True)
class BatchYield:
    """Energy of N sites for the capacity asked.

    Attributes
    ----------
    energy_annual_kwh : numpy.ndarray
        Shape (n,). [kWh]
    energy_monthly_kwh : numpy.ndarray
        Shape (n, 12). [kWh]
    capacity_factor : numpy.ndarray
        Annual energy / (capacity · 8760 h), on DC capacity for PV. [fraction]
    """

    energy_annual_kwh: np.ndarray
    energy_monthly_kwh: np.ndarray
    capacity_factor: np.ndarray


def _hour_tables(times: pd.DatetimeIndex):
    """Per-hour sun tables at interval midpoints (Spencer 1971)."""
    mid = times + pd.Timedelta(minutes=30)
    utc = mid.tz_convert("UTC")
    doy = utc.day_of_year.to_numpy() + (utc.hour.to_numpy() + utc.minute.to_numpy() / 60.0) / 24.0
    dec = np.asarray(pvlib.solarposition.declination_spencer71(doy), dtype=float)
    eot_min = np.asarray(pvlib.solarposition.equation_of_time_spencer71(doy), dtype=float)
    hours_utc = utc.hour.to_numpy() + utc.minute.to_numpy() / 60.0
    ha_base = 15.0 * (hours_utc - 12.0) + eot_min / 4.0
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(
        mid.day_of_year.to_numpy(dtype=float)), dtype=float)
    month = (times.month.to_numpy() - 1).astype(np.int64)
    ha = np.radians(ha_base)
    return (np.ascontiguousarray(np.sin(ha)), np.ascontiguousarray(np.cos(ha)), np.sin(dec),
            np.cos(dec), np.ascontiguousarray(dni_extra), month)


@numba.njit(cache=True, fastmath=True, inline="always")
def _table(table, x, step):
    pos = x / step
    if pos <= 0.0:
        return table[0]
    k = int(pos)
    if k >= table.shape[0] - 1:
        return table[table.shape[0] - 1]
    w = pos - k
    return table[k] * (1.0 - w) + table[k + 1] * w


@numba.njit(cache=True, parallel=True, fastmath=True)
def _pv_kernel(sin_ha0, cos_ha0, sin_dec, cos_dec, dni_extra, month, dni, dhi, temp_air, wind_speed,
               albedo, station, lat, lon, tilt, azimuth, tracking, gcr, sky_tables,
               sky_index, dc_ac_ratio, losses, capacity, gamma, eta_nom, eta_ref,
               noct_term, module_eff, tau_alpha, wind_factor, max_angle, iam_table,
               iam_step, sky_step, f1c, f2c, am_table, am_step, iam_cos_table, iam_cos_step,
               out):
    n_sites = lat.shape[0]
    n_hours = sin_ha0.shape[0]
    d2r = np.pi / 180.0
    cos85 = np.cos(85.0 * d2r)
    kappa = 1.041
    heat = 1.0 - module_eff / tau_alpha
    for i in numba.prange(n_sites):
        s = station[i]
        slon = np.sin(lon[i] * d2r)
        clon = np.cos(lon[i] * d2r)
        phi = lat[i] * d2r
        sphi = np.sin(phi)
        cphi = np.cos(phi)
        trk = tracking[i]
        g = gcr[i]
        r = 1.0 / g
        beta_f = tilt[i] * d2r
        gam = azimuth[i] * d2r
        ue = np.sin(gam)
        un = np.cos(gam)
        sb_f = np.sin(beta_f)
        cb_f = np.cos(beta_f)
        cap = capacity[i]
        ac_rating = cap / dc_ac_ratio[i]
        pdc0 = ac_rating / eta_nom
        derate = 1.0 - losses[i]
        skyt = sky_tables[sky_index[i]]
        cos_maxw = np.cos(max_angle * d2r)
        sin_maxw = np.sin(max_angle * d2r)
        # equivalent-angle IAMs of a fixed surface
        td = tilt[i]
        iam_sky_f = _table(iam_table, 59.7 + td * (-0.1388 + td * 0.001497), iam_step)
        iam_gnd_f = _table(iam_table, 90.0 + td * (-0.5788 + td * 0.002693), iam_step)
        fsky_f = _table(skyt, td, sky_step)
        for t in range(n_hours):
            dn = dni[s, t]
            df = dhi[s, t]
            if dn <= 0.0 and df <= 0.0:
                continue
            cha = cos_ha0[t] * clon - sin_ha0[t] * slon
            cosz = sphi * sin_dec[t] + cphi * cos_dec[t] * cha
            if cosz <= 0.0:
                continue
            sha = sin_ha0[t] * clon + cos_ha0[t] * slon
            se = -cos_dec[t] * sha
            sn = cphi * sin_dec[t] - sphi * cos_dec[t] * cha
            if trk:
                # ideal rotation w = atan2(se, cosz), then backtracking
                # (Anderson & Mikofski 2020) and the rotation limit, with
                # sin/cos carried algebraically instead of trig calls
                hyp = np.sqrt(se * se + cosz * cosz)
                cw = cosz / hyp
                sw = se / hyp
                temp = cw * r
                if temp < 1.0:
                    sgn = 1.0 if sw >= 0.0 else -1.0
                    sc = np.sqrt(1.0 - temp * temp)
                    cw, sw = cw * temp + sgn * sw * sc, sw * temp - sgn * cw * sc
                if cw < cos_maxw:
                    cw = cos_maxw
                    sw = sin_maxw if sw >= 0.0 else -sin_maxw
                sb = abs(sw)
                cb = cw
                cos_aoi = se * sw + cosz * cw
                beta = np.arccos(cb)
                td_h = beta / d2r
                iam_sky = _table(iam_table, 59.7 + td_h * (-0.1388 + td_h * 0.001497), iam_step)
                iam_gnd = _table(iam_table, 90.0 + td_h * (-0.5788 + td_h * 0.002693), iam_step)
                fsky = _table(skyt, td_h, sky_step)
            else:
                sb = sb_f
                cb = cb_f
                cos_aoi = (se * ue + sn * un) * sb + cosz * cb
                iam_sky = iam_sky_f
                iam_gnd = iam_gnd_f
                fsky = fsky_f
                beta = beta_f
            if cos_aoi > 1.0:
                cos_aoi = 1.0
            a_proj = cos_aoi if cos_aoi > 0.0 else 0.0
            beam = dn * a_proj
            # Perez 1990 sky diffuse; no diffuse, no sky term (the NaN trap)
            sky = 0.0
            z = np.arccos(cosz)
            if df > 0.0:
                am = _table(am_table, cosz, am_step)
                z3 = kappa * z * z * z
                eps = ((df + dn) / df + z3) / (1.0 + z3)
                if eps < 1.065:
                    b = 0
                elif eps < 1.23:
                    b = 1
                elif eps < 1.5:
                    b = 2
                elif eps < 1.95:
                    b = 3
                elif eps < 2.8:
                    b = 4
                elif eps < 4.5:
                    b = 5
                elif eps < 6.2:
                    b = 6
                else:
                    b = 7
                delta = df * am / dni_extra[t]
                f1 = f1c[b, 0] + f1c[b, 1] * delta + f1c[b, 2] * z
                if f1 < 0.0:
                    f1 = 0.0
                f2 = f2c[b, 0] + f2c[b, 1] * delta + f2c[b, 2] * z
                bb = cosz if cosz > cos85 else cos85
                sky = df * (0.5 * (1.0 - f1) * (1.0 + cb) + f1 * a_proj / bb + f2 * sb)
                if sky < 0.0:
                    sky = 0.0
            alb = albedo[s, t]
            gfac = alb * (1.0 - cb) / 2.0
            ground = (dn * cosz + df) * gfac
            # row-to-row self-shading (Deline et al. 2013 as in SAM)
            if sky + ground >= 0.1:
                sky = sky * fsky
                alt = np.pi / 2.0 - z
                if alt < 0.01 * d2r:
                    alt = 0.01 * d2r
                sin_alt = np.sin(alt)
                y1 = r - (sin_alt * cb + np.cos(alt) * sb) / sin_alt
                if y1 < 1e-5:
                    y1 = 1e-5
                cback = -np.cos(beta)
                f2g = 0.5 * (1.0 + y1 - np.sqrt(y1 * y1 - 2.0 * y1 * cback + 1.0))
                f3g = 0.5 * (1.0 + r - np.sqrt(r * r - 2.0 * r * cback + 1.0))
                ground = gfac * (dn * cosz * f2g + df * f3g)
            if not trk and beta > 0.0:
                hu = se * ue + sn * un
                if hu > 0.0:
                    py = cb + hu * sb / cosz
                    frac = 1.0 - r / py
                    if frac > 0.0:
                        if frac > 1.0:
                            frac = 1.0
                        beam = beam * (1.0 - frac)
            poa = beam + sky + ground
            if poa <= 0.0:
                continue
            poa_eff = (beam * _table(iam_cos_table, a_proj, iam_cos_step) + sky * iam_sky
                       + ground * iam_gnd)
            tc = temp_air[s, t] + poa / 800.0 * noct_term * heat * 9.5 / (
                5.7 + 3.8 * wind_factor * wind_speed[s, t])
            dc = cap * poa_eff / 1000.0 * (1.0 + gamma * (tc - 25.0))
            if dc <= 0.0:
                continue
            dc *= derate
            zeta = dc / pdc0
            ac = dc * eta_nom / eta_ref * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
            if ac < 0.0:
                ac = 0.0
            if ac > ac_rating:
                ac = ac_rating
            out[i, month[t]] += ac


def _broadcast(n, **arrays):
    out = {}
    for name, value in arrays.items():
        arr = np.asarray(value)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, n)):
            raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}")
        out[name] = np.ascontiguousarray(np.broadcast_to(arr, (n,)))
    return out


def _station_index(weather: StationWeather, station_index):
    idx = np.asarray(station_index)
    if idx.ndim != 1:
        raise ValueError("station_index must be a 1-D array of station rows")
    if not np.issubdtype(idx.dtype, np.integer):
        raise ValueError("station_index must hold integers")
    if idx.size and (idx.min() < 0 or idx.max() >= weather.n_stations):
        raise ValueError(f"station_index out of range 0..{weather.n_stations - 1}")
    return idx.astype(np.int64)


def _check_range(name, values, lo, hi):
    bad = ~np.isfinite(values) | (values < lo) | (values > hi)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} at site {k} is {values[k]!r}, outside [{lo}, {hi}]")


def pv_energy_batch(weather: StationWeather, station_index, *, latitude, longitude, tilt_deg,
                    azimuth_deg, tracking, gcr, dc_ac_ratio, system_losses,
                    capacity_dc_kw=1.0) -> BatchYield:
    """Annual and monthly PV energy of N sites in one call.

    Parameters
    ----------
    weather : StationWeather
        Station typical years.
    station_index : numpy.ndarray of int
        Row of ``weather`` used by each site, shape (n,).
    latitude, longitude : float or array_like
        Site coordinates (sun position). [°]
    tilt_deg, azimuth_deg : float or array_like
        Fixed tilt and azimuth (180 = south); ignored for trackers. [°]
    tracking : bool or array_like of bool
        Horizontal N-S single-axis tracker with backtracking.
    gcr : float or array_like
        Ground coverage ratio. [fraction]
    dc_ac_ratio : float or array_like
        [-]
    system_losses : float or array_like
        Total DC derate. [fraction]
    capacity_dc_kw : float or array_like
        DC nameplate. [kW]

    Returns
    -------
    BatchYield
        Capacity factor on DC capacity.
    """
    idx = _station_index(weather, station_index)
    n = idx.shape[0]
    a = _broadcast(n, latitude=np.asarray(latitude, float), longitude=np.asarray(longitude, float),
                   tilt_deg=np.asarray(tilt_deg, float), azimuth_deg=np.asarray(azimuth_deg, float),
                   tracking=np.asarray(tracking, bool), gcr=np.asarray(gcr, float),
                   dc_ac_ratio=np.asarray(dc_ac_ratio, float),
                   system_losses=np.asarray(system_losses, float),
                   capacity_dc_kw=np.asarray(capacity_dc_kw, float))
    _check_range("tilt_deg", a["tilt_deg"], 0.0, 90.0)
    _check_range("gcr", a["gcr"], 0.01, 0.99)
    _check_range("dc_ac_ratio", a["dc_ac_ratio"], 0.5, 2.5)
    _check_range("system_losses", a["system_losses"], 0.0, 0.99)
    _check_range("latitude", a["latitude"], -90.0, 90.0)
    if (a["capacity_dc_kw"] <= 0).any():
        raise ValueError("capacity_dc_kw must be > 0")
    sin_ha0, cos_ha0, sin_dec, cos_dec, dni_extra, month = _hour_tables(weather.times)
    albedo = weather.albedo if weather.albedo is not None else np.full_like(weather.dni, np.nan)
    albedo = np.where(np.isfinite(albedo) & (albedo > 0) & (albedo < 1), albedo,
                      pvmod.DEFAULT_ALBEDO)
    gcr_unique, sky_index = np.unique(a["gcr"], return_inverse=True)
    sky_tables = np.stack([pvmod.sky_diffuse_row_factor(
        np.arange(0.0, 90.0 + _SKY_STEP_DEG, _SKY_STEP_DEG), g) for g in gcr_unique])
    dni = np.ascontiguousarray(weather.dni)
    dhi = np.ascontiguousarray(weather.dhi)
    temp_air = np.ascontiguousarray(weather.temp_air)
    wind_speed = np.ascontiguousarray(weather.wind_speed)
    albedo = np.ascontiguousarray(albedo)
    sky_index = sky_index.astype(np.int64)
    # sites sorted by station keep one station's year in cache across many sites
    order = np.argsort(idx, kind="stable")
    monthly_sorted = np.zeros((n, 12))
    for start in range(0, n, CHUNK_SITES):
        sl = order[start:start + CHUNK_SITES]
        part = np.zeros((sl.size, 12))
        _pv_kernel(sin_ha0, cos_ha0, sin_dec, cos_dec, dni_extra, month, dni, dhi, temp_air,
                   wind_speed, albedo, idx[sl], a["latitude"][sl], a["longitude"][sl],
                   a["tilt_deg"][sl], a["azimuth_deg"][sl], a["tracking"][sl], a["gcr"][sl],
                   sky_tables, sky_index[sl], a["dc_ac_ratio"][sl],
                   a["system_losses"][sl], a["capacity_dc_kw"][sl],
                   pvmod.GAMMA_PDC_STANDARD_PER_C, pvmod.INVERTER_EFFICIENCY_NOMINAL,
                   pvmod.INVERTER_EFFICIENCY_REFERENCE, pvmod.NOCT_OPEN_RACK_C - 20.0,
                   pvmod.MODULE_EFFICIENCY_STANDARD, pvmod.TRANSMITTANCE_ABSORPTANCE,
                   pvmod.NOCT_WIND_FACTOR, pvmod.TRACKER_MAX_ANGLE_DEG, _IAM_TABLE,
                   _IAM_STEP_DEG, _SKY_STEP_DEG, _PEREZ_F1, _PEREZ_F2, _AM_TABLE, _COS_STEP,
                   _IAM_COS_TABLE, _COS_STEP, part)
        monthly_sorted[start:start + sl.size] = part
    monthly = np.empty_like(monthly_sorted)
    monthly[order] = monthly_sorted
    annual = monthly.sum(axis=1)
    cf = annual / (a["capacity_dc_kw"] * len(weather.times))
    return BatchYield(annual, monthly, cf)


#: Air-density grid of the wind power table. [kg/m³]
#: Read at the nearest density row (0.0025 kg/m³ at most, ≈ 0.25 % of ρ) and linearly in
#: speed: unbiased rounding, so annual energy moves by ~1e-4 while the kernel reads half
#: as many table cells as a bilinear read.
_RHO_MIN, _RHO_STEP, _RHO_N = 0.55, 0.005, 201
#: Wind-speed grid of the wind power table. [m/s]
_V_STEP, _V_N = 0.05, 801


def _power_table(turbine_type: str) -> np.ndarray:
    """Per-unit power on a (density × speed) grid, with the default density correction.

    :data:`siting.wind.DEFAULT_DENSITY_CORRECTION_METHOD` (SAM's): the curve's speeds
    become ``v·(ρ0/ρ)^(1/3)`` (ssc ``lib_windwatts.cpp``), then linear interpolation
    with zero outside — the detailed path's
    :func:`siting.wind.power_curve_density_correction_sam` tabulated.
    """
    from siting.wind import SAM_REFERENCE_AIR_DENSITY_KG_M3, turbine_curve

    curve = turbine_curve(turbine_type)
    rho = _RHO_MIN + _RHO_STEP * np.arange(_RHO_N)
    v = _V_STEP * np.arange(_V_N)
    table = np.empty((_RHO_N, _V_N))
    for j, r in enumerate(rho):
        speeds = curve.wind_speed_m_s * np.cbrt(SAM_REFERENCE_AIR_DENSITY_KG_M3 / r)
        table[j] = np.interp(v, speeds, curve.power_kw, left=0.0, right=0.0)
    table[:, -1] = 0.0  # clamp target above the curve's last speed (power 0, as windpowerlib)
    # float32 keeps the table (≈ 640 kB) in the L2 cache
    return (table / curve.nominal_power_kw).astype(np.float32)


@numba.njit(cache=True, parallel=True, fastmath=True)
def _wind_kernel(month_start, ws, pressure_hpa, inv_temp_k, station, speed_factor, rise_m, table,
                 rho_min, rho_step, v_step, out):
    n_sites = station.shape[0]
    n_rho = table.shape[0]
    n_v = table.shape[1]
    c_rho = 1.225 * 288.15 * 100.0 / 101330.0
    inv_v = 1.0 / v_step
    inv_rho = 1.0 / rho_step
    y_max = n_v - 1.000001
    x_max = n_rho - 1.000001
    for i in numba.prange(n_sites):
        s = station[i]
        k = speed_factor[i] * inv_v
        rise = rise_m[i]
        dp = rise / 8.0
        dt = 0.0065 * (rise - 2.0)
        for m in range(12):
            acc = 0.0
            # branch-free body so the hour loop vectorizes; the table is 0 at
            # v = 0 and beyond the last power-curve speed
            for t in range(month_start[m], month_start[m + 1]):
                y = min(max(k * ws[s, t], 0.0), y_max)
                # 1/(T - dt) = (1/T)(1 + e + e²), e = dt/T ≤ 0.05: error < 1.3e-4
                it = inv_temp_k[s, t]
                e = dt * it
                rho = (pressure_hpa[s, t] - dp) * c_rho * it * (1.0 + e * (1.0 + e))
                # nearest density row (unbiased rounding, ≤ ρ_step/2 = 0.0025 kg/m³ with
                # the half-step grid), linear in speed: two table reads instead of four
                jx = int(min(max((rho - rho_min) * inv_rho + 0.5, 0.0), x_max))
                jy = int(y)
                wy = y - jy
                acc += table[jx, jy] + (table[jx, jy + 1] - table[jx, jy]) * wy
            out[i, m] = acc


def wind_energy_batch(weather: StationWeather, station_index, *, turbine_type: str,
                      hub_height_m, roughness_length_m, elevation_m,
                      mean_wind_speed_hub_m_s=None, wake_losses, other_losses,
                      capacity_kw=1.0) -> BatchYield:
    """Annual and monthly wind energy of N sites in one call.

    Parameters
    ----------
    weather : StationWeather
    station_index : numpy.ndarray of int
        Row of ``weather`` per site, shape (n,).
    turbine_type : str
        windpowerlib turbine type (one per call).
    hub_height_m : float or array_like
        [m]
    roughness_length_m : float or array_like
        [m]
    elevation_m : float or array_like
        Site ground elevation. [m]
    mean_wind_speed_hub_m_s : float or array_like, optional
        The site's long-term mean at hub height: its hub series is this mean times
        :func:`siting.wind.long_term_hub_shape` of its station (as the detailed path);
        NaN entries leave a site on the station's series and the logarithmic profile. [m/s]
    wake_losses, other_losses : float or array_like
        [fraction]
    capacity_kw : float or array_like
        Farm nameplate. [kW]

    Returns
    -------
    BatchYield
    """
    from siting.wind import MAX_HUB_HEIGHT_M

    idx = _station_index(weather, station_index)
    n = idx.shape[0]
    a = _broadcast(n, hub_height_m=np.asarray(hub_height_m, float),
                   roughness_length_m=np.asarray(roughness_length_m, float),
                   elevation_m=np.asarray(elevation_m, float),
                   wake_losses=np.asarray(wake_losses, float),
                   other_losses=np.asarray(other_losses, float),
                   capacity_kw=np.asarray(capacity_kw, float),
                   mean=np.asarray(np.nan if mean_wind_speed_hub_m_s is None
                                   else mean_wind_speed_hub_m_s, float))
    _check_range("hub_height_m", a["hub_height_m"], weather.wind_height_m, MAX_HUB_HEIGHT_M)
    _check_range("roughness_length_m", a["roughness_length_m"], 1e-6, weather.wind_height_m / 2)
    _check_range("wake_losses", a["wake_losses"], 0.0, 0.99)
    _check_range("other_losses", a["other_losses"], 0.0, 0.99)
    if (a["capacity_kw"] <= 0).any():
        raise ValueError("capacity_kw must be > 0")
    table = _power_table(turbine_type)
    z0 = a["roughness_length_m"]
    # unscaled sites: the station's row times the logarithmic profile; sites scaled to a
    # long-term mean: a row of the station's hours on the site's hub-height distribution
    # (siting.wind.long_term_hub_shape, one per station and hub height) times that mean
    speed_factor = np.log(a["hub_height_m"] / z0) / np.log(weather.wind_height_m / z0)
    row = idx.copy()
    row_station = list(range(weather.n_stations))
    shape_rows = []
    scaled = np.isfinite(a["mean"])
    if scaled.any():
        pairs, which = np.unique(np.column_stack([idx[scaled], a["hub_height_m"][scaled]]), axis=0,
                                 return_inverse=True)
        for station, hub in pairs:
            shape_rows.append(windmod.long_term_hub_shape(weather.wind_speed[int(station)],
                                                          weather.wind_height_m, float(hub)))
            row_station.append(int(station))
        row[scaled] = weather.n_stations + which.ravel()
        speed_factor = np.where(scaled, a["mean"], speed_factor)
    speed_factor = np.ascontiguousarray(speed_factor)
    rise = np.ascontiguousarray(a["elevation_m"] + a["hub_height_m"] - weather.elevation_m[idx])
    month = weather.times.month.to_numpy()
    if np.any(np.diff(month) < 0):
        raise ValueError("weather.times must run from January to December")
    month_start = np.searchsorted(month, np.arange(1, 14)).astype(np.int64)
    ws = np.ascontiguousarray(np.vstack([weather.wind_speed, *shape_rows]) if shape_rows
                              else weather.wind_speed)
    pressure_hpa = np.ascontiguousarray(weather.pressure[row_station] / 100.0)
    inv_temp_k = np.ascontiguousarray(1.0 / (weather.temp_air[row_station] + 273.15))
    # sites sorted by row keep one station's year in cache across many sites
    order = np.argsort(row, kind="stable")
    monthly_sorted = np.zeros((n, 12))
    for start in range(0, n, CHUNK_SITES):
        sl = order[start:start + CHUNK_SITES]
        part = np.zeros((sl.size, 12))
        _wind_kernel(month_start, ws, pressure_hpa, inv_temp_k, row[sl], speed_factor[sl], rise[sl], table,
                     _RHO_MIN, _RHO_STEP, _V_STEP, part)
        monthly_sorted[start:start + sl.size] = part
    monthly = np.empty_like(monthly_sorted)
    monthly[order] = monthly_sorted
    monthly *= (a["capacity_kw"] * (1.0 - a["wake_losses"]) * (1.0 - a["other_losses"]))[:, None]
    annual = monthly.sum(axis=1)
    return BatchYield(annual, monthly, annual / (a["capacity_kw"] * len(weather.times)))
