"""The per-cell energy step: annual energy, capacity factor and LCOE of screening cells.

An energy step (:data:`EnergyStep`) maps an :class:`EnergyRequest` (one entry
per cell) to the annual energy per MW installed; an LCOE step
(:data:`LcoeStep`) has the signature of ``finance.lcoe.lcoe_fcr`` (NREL SAM
``Lcoefcr``).  :func:`energy_columns` runs both over the cells of a screening
and returns ``energy_mwh_per_mw``, ``capacity_factor`` and
``lcoe_usd_per_mwh``.

Energy steps:

- :func:`station_batch_energy` (the default, :func:`default_energy_step`):
  the hourly batch yield of ``siting.yield_batch`` once per station, carried
  to the cells;
- :func:`pv_performance_ratio_energy`: PV by the performance-ratio method;
- :func:`wind_rayleigh_energy`: a power curve over a Rayleigh distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from siting.parameters import ScreeningParameters

__all__ = [
    "HOURS_PER_YEAR",
    "KW_PER_MW",
    "DAYS_PER_YEAR",
    "EnergyRequest",
    "EnergyStep",
    "LcoeStep",
    "lcoe_fcr_step",
    "default_lcoe_step",
    "pv_performance_ratio_energy",
    "wind_rayleigh_energy",
    "station_batch_energy",
    "default_energy_step",
    "energy_columns",
]

#: Hours in a (non-leap) typical year. [h]
HOURS_PER_YEAR = 8760.0
#: kW per MW.
KW_PER_MW = 1000.0
#: Days per typical year. [d]
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class EnergyRequest:
    """What an energy step receives (one entry per cell).

    Attributes
    ----------
    technology : str
        ``"pv"`` or ``"wind"``.
    latitude, longitude : ndarray
        Cell centres. [°]
    elevation_m : ndarray
        Elevation (NaN where missing). [m]
    ghi_kwh_m2_day : ndarray
        Annual-mean daily GHI. [kWh/m²/day]
    wind_speed_100m_m_s : ndarray
        Annual-mean wind at 100 m. [m/s]
    station_index : ndarray of int
        Row of the nearest station in ``stations``.
    stations : DataFrame
        Station table (``ghi_kwh_m2_day`` etc.).
    weather : object or None
        ``siting.weather.StationWeather`` of the stations, if loaded.
    """

    technology: str
    latitude: np.ndarray
    longitude: np.ndarray
    elevation_m: np.ndarray
    ghi_kwh_m2_day: np.ndarray
    wind_speed_100m_m_s: np.ndarray
    station_index: np.ndarray
    stations: pd.DataFrame
    weather: object | None = None


#: An energy step: cells -> annual energy per MW installed [MWh/MW/yr].
EnergyStep = Callable[[EnergyRequest], np.ndarray]
#: An LCOE step with the signature of ``finance.lcoe.lcoe_fcr``.
LcoeStep = Callable[..., np.ndarray]


def lcoe_fcr_step(
    fixed_charge_rate, capital_cost_usd, fixed_operating_cost_usd_per_year,
    variable_operating_cost_usd_per_mwh, annual_energy_mwh,
):
    """LCOE by the fixed-charge-rate method (NREL SAM ``Lcoefcr``), local fallback.

    Parameters
    ----------
    fixed_charge_rate : array_like
        [1/yr]
    capital_cost_usd : array_like
        [USD]
    fixed_operating_cost_usd_per_year : array_like
        [USD/yr]
    variable_operating_cost_usd_per_mwh : array_like
        [USD/MWh]
    annual_energy_mwh : array_like
        [MWh/yr]

    Returns
    -------
    ndarray
        ``(FCR * capital + fixed O&M) / energy + variable O&M``. [USD/MWh]

    References
    ----------
    NREL System Advisor Model, ``Lcoefcr`` compute module (ssc ``cmod_lcoefcr.cpp``).

    Examples
    --------
    >>> float(lcoe_fcr_step(0.1, 1000.0, 20.0, 2.0, 4.0))
    32.0
    """
    energy = np.asarray(annual_energy_mwh, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.asarray(fixed_charge_rate) * np.asarray(capital_cost_usd, dtype=float)
               + np.asarray(fixed_operating_cost_usd_per_year, dtype=float)) / energy
    return np.where(energy > 0, out + np.asarray(variable_operating_cost_usd_per_mwh, dtype=float), np.nan)


def default_lcoe_step() -> LcoeStep:
    """``finance.lcoe.lcoe_fcr`` when the finance package provides it, else :func:`lcoe_fcr_step`."""
    try:
        from finance.lcoe import lcoe_fcr  # noqa: PLC0415  (optional sibling package)
    except ImportError:
        return lcoe_fcr_step
    return lcoe_fcr


def pv_performance_ratio_energy(performance_ratio: float = 0.80, plane_of_array_gain: float = 1.0) -> EnergyStep:
    """PV energy step by the performance-ratio method (fallback without hourly weather).

    Parameters
    ----------
    performance_ratio : float
        AC energy over (plane-of-array irradiation / 1 kW/m²); IEC 61724-1
        definition, typical utility values 0.75-0.85 (Dierauf et al. 2013,
        *Weather-Corrected Performance Ratio*, NREL/TP-5200-57991). [-]
    plane_of_array_gain : float
        Plane-of-array over horizontal irradiation (1.0 = horizontal). [-]

    Returns
    -------
    EnergyStep
        ``E = GHI * 365 * gain * PR`` [kWh/m²/yr / (1 kW/m²)] = [MWh/MW/yr].
    """
    if not 0 < performance_ratio <= 1:
        raise ValueError(f"performance_ratio must be in (0, 1], got {performance_ratio}")

    def step(request: EnergyRequest) -> np.ndarray:
        return np.asarray(request.ghi_kwh_m2_day, float) * DAYS_PER_YEAR * plane_of_array_gain * performance_ratio

    return step


def wind_rayleigh_energy(
    power_curve_wind_speed_m_s: Sequence[float], power_curve_kw: Sequence[float], *, losses: float = 0.15,
) -> EnergyStep:
    """Wind energy step: a power curve over a Rayleigh speed distribution.

    Parameters
    ----------
    power_curve_wind_speed_m_s : sequence of float
        Power-curve speeds (ascending). [m/s]
    power_curve_kw : sequence of float
        Power at those speeds. [kW]
    losses : float
        Total wake, availability and electrical losses (fraction). [-]

    Returns
    -------
    EnergyStep
        ``8760 (1 - losses) ∫ P(v)/P_rated f(v; ū) dv`` with the Rayleigh
        density ``f = π v / (2 ū²) exp(-π v² / (4 ū²))`` of mean ``ū``
        (Manwell, McGowan & Rogers, *Wind Energy Explained*, 2nd ed., 2009,
        §2.4.3), tabulated on ū and interpolated per cell. [MWh/MW/yr]
    """
    v_pc = np.asarray(power_curve_wind_speed_m_s, dtype=float)
    p_pc = np.asarray(power_curve_kw, dtype=float)
    if v_pc.shape != p_pc.shape or v_pc.size < 2 or (np.diff(v_pc) <= 0).any():
        raise ValueError("power curve needs matching, ascending speed and power arrays")
    if not 0 <= losses < 1:
        raise ValueError(f"losses must be in [0, 1), got {losses}")
    v = np.linspace(0.0, 40.0, 4001)
    p = np.interp(v, v_pc, p_pc, left=0.0, right=0.0) / p_pc.max()
    means = np.linspace(0.5, 20.0, 391)
    dens = (np.pi * v[None, :] / (2 * means[:, None] ** 2)) * np.exp(-np.pi * v[None, :] ** 2 / (4 * means[:, None] ** 2))
    cf_table = np.trapezoid(dens * p[None, :], v, axis=1)

    def step(request: EnergyRequest) -> np.ndarray:
        cf = np.interp(np.asarray(request.wind_speed_100m_m_s, float), means, cf_table)
        return cf * (1 - losses) * HOURS_PER_YEAR

    return step


def station_batch_energy(
    *,
    pv_system: Mapping[str, object] | None = None,
    wind_system: Mapping[str, object] | None = None,
    wind_speed_levels_m_s: Sequence[float] = tuple(np.arange(2.0, 13.01, 0.25)),
    elevation_levels_m: Sequence[float] = tuple(np.arange(-500.0, 4500.1, 500.0)),
) -> EnergyStep:
    """Energy step over the hourly batch yield of ``siting.yield_batch``.

    The hourly models run once per station, not per cell:

    - PV: ``pv_energy_batch`` at each station; a cell gets its nearest
      station's yield scaled by ``cell GHI / station GHI`` (yield is close to
      proportional to irradiation at fixed climate).
    - Wind: ``wind_energy_batch`` at each station for every mean hub-height
      speed of ``wind_speed_levels_m_s`` (``mean_wind_speed_hub_m_s``: the
      station's hours on the site's hub-height Weibull distribution at that mean,
      :func:`siting.wind.long_term_hub_shape`, as a yield study) and every
      ground elevation of ``elevation_levels_m`` (the hub's air density, from
      the station's pressure and temperature carried to the cell's height); a
      cell's yield is interpolated bilinearly on its nearest station's table at
      its ``wind_speed_100m_m_s`` and ``elevation_m`` (a cell without terrain
      takes the station's elevation).

    Parameters
    ----------
    pv_system : mapping, optional
        Keyword arguments of ``pv_energy_batch`` besides weather, station
        index, latitude and longitude.
    wind_system : mapping, optional
        Keyword arguments of ``wind_energy_batch`` besides weather, station
        index, elevation and mean speed.
    wind_speed_levels_m_s : sequence of float
        Interpolation levels of the mean hub-height speed. [m/s]
    elevation_levels_m : sequence of float
        Interpolation levels of the cell's ground elevation. [m]

    Returns
    -------
    EnergyStep
    """
    from siting import yield_batch  # noqa: PLC0415  (sibling engine, optional until it lands)

    pv_kw = dict(
        tilt_deg=None, azimuth_deg=180.0, tracking=False, gcr=0.4, dc_ac_ratio=1.3, system_losses=0.14,
    )
    pv_kw.update(pv_system or {})
    wind_kw = dict(turbine_type="V126/3300", hub_height_m=100.0, roughness_length_m=0.1,
                   wake_losses=0.10, other_losses=0.05)
    wind_kw.update(wind_system or {})
    levels = np.asarray(wind_speed_levels_m_s, dtype=float)
    heights = np.asarray(elevation_levels_m, dtype=float)
    if levels.size < 2 or heights.size < 2 or (np.diff(levels) <= 0).any() or (np.diff(heights) <= 0).any():
        raise ValueError("wind_speed_levels_m_s and elevation_levels_m must ascend with >= 2 values")

    cache: dict = {}  # per (technology, weather) station tables: the hourly models run once per step

    def station_table(request: EnergyRequest) -> np.ndarray:
        key = (request.technology, id(request.weather))
        if key in cache:
            return cache[key]
        st = request.stations
        n = len(st)
        idx = np.arange(n)
        if request.technology == "pv":
            kw = dict(pv_kw)
            if kw["tilt_deg"] is None:
                kw["tilt_deg"] = np.abs(st["latitude"].to_numpy(float))
            out = yield_batch.pv_energy_batch(
                request.weather, idx, latitude=st["latitude"].to_numpy(float),
                longitude=st["longitude"].to_numpy(float), **kw,
            )
            table = np.asarray(out.energy_annual_kwh, float)  # kWh per kW = MWh per MW
        else:
            per_station = heights.size * levels.size
            station_rep = np.repeat(idx, per_station)
            out = yield_batch.wind_energy_batch(
                request.weather, station_rep, elevation_m=np.tile(np.repeat(heights, levels.size), n),
                mean_wind_speed_hub_m_s=np.tile(levels, n * heights.size), **wind_kw,
            )
            table = np.asarray(out.energy_annual_kwh, float).reshape(n, heights.size, levels.size)
        cache[key] = (request.weather, table)  # keep the weather alive so its id stays unique
        return cache[key]

    def step(request: EnergyRequest) -> np.ndarray:
        if request.weather is None:
            raise ValueError("station_batch_energy needs layers.weather (a StationWeather of the stations)")
        _, table = station_table(request)
        st = request.stations
        if request.technology == "pv":
            scale = np.asarray(request.ghi_kwh_m2_day, float) / st["ghi_kwh_m2_day"].to_numpy(float)[request.station_index]
            return table[request.station_index] * scale
        u = np.clip(np.asarray(request.wind_speed_100m_m_s, float), levels[0], levels[-1])
        pos = np.clip(np.searchsorted(levels, u, side="right") - 1, 0, levels.size - 2)
        frac = (u - levels[pos]) / (levels[pos + 1] - levels[pos])
        station = np.asarray(request.station_index)
        z = np.asarray(request.elevation_m, float)
        z = np.where(np.isfinite(z), z, st["elevation_m"].to_numpy(float)[station])
        z = np.clip(z, heights[0], heights[-1])
        zpos = np.clip(np.searchsorted(heights, z, side="right") - 1, 0, heights.size - 2)
        zfrac = (z - heights[zpos]) / (heights[zpos + 1] - heights[zpos])
        low = table[station, zpos, pos] * (1 - frac) + table[station, zpos, pos + 1] * frac
        high = table[station, zpos + 1, pos] * (1 - frac) + table[station, zpos + 1, pos + 1] * frac
        return low * (1 - zfrac) + high * zfrac

    return step


def default_energy_step() -> EnergyStep:
    """:func:`station_batch_energy` when ``siting.yield_batch`` is importable.

    Raises
    ------
    ValueError
        When it is not (pass ``energy=`` explicitly, e.g.
        :func:`pv_performance_ratio_energy` / :func:`wind_rayleigh_energy`).
    """
    try:
        return station_batch_energy()
    except ImportError as exc:
        raise ValueError(
            f"no energy step: siting.yield_batch is not importable ({exc}); pass energy=..."
        ) from None


def energy_columns(
    request: EnergyRequest,
    connection_cost_usd,
    params: ScreeningParameters,
    *,
    energy: EnergyStep,
    lcoe: LcoeStep,
) -> pd.DataFrame:
    """Annual energy, capacity factor and LCOE (incl. grid connection) of each cell.

    Parameters
    ----------
    request : EnergyRequest
        The cells (one entry each).
    connection_cost_usd : array_like
        Cost of connecting the reference plant, per cell. [USD]
    params : ScreeningParameters
        ``technology.costs``, ``connection.reference_plant_mw`` and
        ``fixed_charge_rate``.
    energy : EnergyStep
        Cells -> annual energy per MW installed. [MWh/MW/yr]
    lcoe : LcoeStep
        With the signature of ``finance.lcoe.lcoe_fcr``.

    Returns
    -------
    DataFrame
        ``energy_mwh_per_mw`` [MWh/MW/yr], ``capacity_factor`` [-] and
        ``lcoe_usd_per_mwh`` [USD/MWh] (NaN where the cell produces nothing).

    Raises
    ------
    ValueError
        When the energy step returns one value per cell of the wrong shape.

    Notes
    -----
    Per MW installed: capital ``C = c_kW * 1000 + connection / P_ref`` [USD/MW],
    fixed O&M ``F = f_kW * 1000`` [USD/MW/yr] and
    ``LCOE = (FCR * C + F) / E + v`` (NREL SAM ``Lcoefcr``), evaluated only
    where ``E > 0``; ``capacity_factor = E / 8760``.
    """
    shape = np.shape(request.latitude)
    energy_mwh_per_mw = np.asarray(energy(request), dtype=float)
    if energy_mwh_per_mw.shape != shape:
        raise ValueError(f"energy step returned shape {energy_mwh_per_mw.shape}, expected {shape}")
    costs = params.technology.costs
    capital_usd_per_mw = (
        costs.capital_cost_usd_per_kw * KW_PER_MW
        + np.asarray(connection_cost_usd, dtype=float) / params.connection.reference_plant_mw
    )
    producing = np.isfinite(energy_mwh_per_mw) & (energy_mwh_per_mw > 0)
    lcoe_value = np.full(shape, np.nan)
    if producing.any():
        lcoe_value[producing] = np.asarray(
            lcoe(
                params.fixed_charge_rate,
                capital_usd_per_mw[producing],
                costs.fixed_operating_cost_usd_per_kw_year * KW_PER_MW,
                costs.variable_operating_cost_usd_per_mwh,
                energy_mwh_per_mw[producing],
            ),
            dtype=float,
        )
    return pd.DataFrame(
        {
            "energy_mwh_per_mw": energy_mwh_per_mw,
            "capacity_factor": energy_mwh_per_mw / HOURS_PER_YEAR,
            "lcoe_usd_per_mwh": lcoe_value,
        }
    )
