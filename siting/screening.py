"""Site screening: every attribute of every cell, vectorized over cells.

:func:`screen_cells` takes cells from :func:`siting.grid.screening_grid` and
the :class:`siting.layers.ScreeningLayers` and returns one row per cell with
the columns of :data:`CELL_COLUMNS`.  :func:`screen_area` builds the grid
first; :func:`screen_tiles` runs the tiles of :func:`siting.grid.split_tiles`
one after the other and concatenates them (the embedded mode of the Celery
group, which runs :func:`screen_area` with ``tile=...`` per task and calls
:func:`concat_tiles`).

Energy and LCOE are injected steps: ``energy`` (see :class:`EnergyRequest`)
defaults to :func:`station_batch_energy` over ``siting.yield_batch`` and
``lcoe`` defaults to ``finance.lcoe.lcoe_fcr`` (NREL SAM ``Lcoefcr``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from siting import communities, connection, exclusions, place, resource, terrain
from siting.grid import M_PER_KM, ScreeningInputError, Tile, cell_index_of, screening_grid, split_tiles
from siting.layers import ScreeningLayers
from siting.parameters import GEOGRAPHIC_CRS, PROJECTED_CRS, TECHNOLOGIES, ScreeningParameters

__all__ = [
    "CELL_COLUMNS",
    "HOURS_PER_YEAR",
    "KW_PER_MW",
    "EnergyRequest",
    "EnergyStep",
    "LcoeStep",
    "lcoe_fcr_step",
    "default_lcoe_step",
    "default_energy_step",
    "pv_performance_ratio_energy",
    "wind_rayleigh_energy",
    "station_batch_energy",
    "prepared_exclusion_layers",
    "prepared_triggers",
    "screen_cells",
    "screen_area",
    "screen_tiles",
    "concat_tiles",
    "score_cells",
    "rank_cells",
    "locate_points",
    "to_lonlat",
]

#: Hours in a (non-leap) typical year. [h]
HOURS_PER_YEAR = 8760.0
#: kW per MW.
KW_PER_MW = 1000.0
#: Days per typical year. [d]
DAYS_PER_YEAR = 365.0

#: Output columns of a screening and their meaning (unit in the name).
CELL_COLUMNS: Mapping[str, str] = {
    "cell_id": "stable id '6372:{resolution m}:{x_ll m}:{y_ll m}'",
    "technology": "'pv' or 'wind'",
    "longitude": "cell centre longitude [°, EPSG:4326]",
    "latitude": "cell centre latitude [°, EPSG:4326]",
    "cell_area_km2": "cell area [km²]",
    "ghi_kwh_m2_day": "annual-mean daily global horizontal irradiation [kWh/m²/day]",
    "wind_speed_100m_m_s": "annual-mean wind speed at 100 m [m/s]",
    "wind_from_wrf": "whether the wind comes from a WRF 80 m domain",
    "resource_confidence": "confidence of the technology's resource estimate [0-1]",
    "nearest_station_id": "WMO id of the nearest typical-year station",
    "dist_station_km": "distance to that station [km]",
    "elevation_m": "DEM elevation at the centre [m]",
    "slope_pct": "DEM slope at the centre [%]",
    "dist_line_km": "distance to the nearest transmission line [km]",
    "line_voltage_kv": "that line's highest voltage (NaN unknown) [kV]",
    "dist_substation_km": "distance to the nearest substation [km]",
    "connection_cost_usd": "cost of connecting the reference plant [USD]",
    "state_cve_ent": "INEGI state key of the centre",
    "state_name": "state name",
    "municipality_cvegeo": "INEGI municipality key (5 digits) of the centre",
    "municipality_name": "municipality name",
    "inpi_typology": "INPI 2020 municipal typology (A-D)",
    "excluded": "whether any exclusion applies",
    "exclusion_reasons": "'; '-separated reasons ('' when not excluded)",
    "available_area_km2": "cell area left for the plant [km²]",
    "capacity_mw": "available area x power density [MW]",
    "consultation_required": "indigenous consultation review triggered",
    "consultation_reason": "why",
    "consultation_localities": "triggering localities, nearest first",
    "consultation_locality_count": "triggering localities within the radius",
    "energy_mwh_per_mw": "annual energy per MW installed [MWh/MW/yr]",
    "capacity_factor": "energy_mwh_per_mw / 8760 [-]",
    "lcoe_usd_per_mwh": "levelized cost incl. grid connection [USD/MWh]",
    "score": "weighted score in [0, 1]; NaN when excluded",
    "rank": "1 = best non-excluded cell of the run",
}


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
    wind_speed_levels_m_s: Sequence[float] = tuple(np.arange(2.0, 13.01, 0.5)),
) -> EnergyStep:
    """Energy step over the hourly batch yield of ``siting.yield_batch``.

    The hourly models run once per station, not per cell:

    - PV: ``pv_energy_batch`` at each station; a cell gets its nearest
      station's yield scaled by ``cell GHI / station GHI`` (yield is close to
      proportional to irradiation at fixed climate).
    - Wind: ``wind_energy_batch`` at each station for every mean hub-height
      speed of ``wind_speed_levels_m_s`` (``mean_wind_speed_hub_m_s``, which
      rescales the station's hourly series, i.e. keeps its shape); a cell's
      yield is interpolated on its nearest station's row at its
      ``wind_speed_100m_m_s``.

    Parameters
    ----------
    pv_system : mapping, optional
        Keyword arguments of ``pv_energy_batch`` besides weather, station
        index, latitude and longitude.
    wind_system : mapping, optional
        Keyword arguments of ``wind_energy_batch`` besides weather, station
        index, elevation and mean speed.
    wind_speed_levels_m_s : sequence of float
        Interpolation levels. [m/s]

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
            station_rep = np.repeat(idx, levels.size)
            out = yield_batch.wind_energy_batch(
                request.weather, station_rep, elevation_m=st["elevation_m"].to_numpy(float)[station_rep],
                mean_wind_speed_hub_m_s=np.tile(levels, n), **wind_kw,
            )
            table = np.asarray(out.energy_annual_kwh, float).reshape(n, levels.size)
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
        rows = table[request.station_index]
        take = np.arange(u.size)
        return rows[take, pos] * (1 - frac) + rows[take, pos + 1] * frac

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


def prepared_exclusion_layers(
    layers: ScreeningLayers, params: ScreeningParameters, extra_layers: Mapping[str, gpd.GeoDataFrame] | None = None
) -> tuple[exclusions.ExclusionLayer, ...]:
    """Buffered exclusion layers, cached on ``layers`` per buffer set (not when extra layers are given)."""
    build = lambda: exclusions.prepare_exclusion_layers(  # noqa: E731
        protected_areas=layers.protected_areas, localities_polygons=layers.localities_polygons,
        water_bodies=layers.water_bodies, params=params.exclusions, extra_layers=extra_layers,
    )
    if extra_layers:
        return build()
    key = ("exclusions", params.exclusions)
    if key not in layers.derived:
        layers.derived[key] = build()
    return layers.derived[key]


def prepared_triggers(layers: ScreeningLayers, params: ScreeningParameters) -> communities.TriggerLocalities:
    """Consultation trigger localities, cached on ``layers`` per consultation rule."""
    key = ("triggers", params.consultation)
    if key not in layers.derived:
        layers.derived[key] = communities.trigger_localities(layers.localities_points, params.consultation)
    return layers.derived[key]


def to_lonlat(x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:6372 -> EPSG:4326 (longitude, latitude). [m] -> [°]"""
    tr = pyproj.Transformer.from_crs(PROJECTED_CRS, GEOGRAPHIC_CRS, always_xy=True)
    lon, lat = tr.transform(np.asarray(x_m, dtype=float), np.asarray(y_m, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def _block(cells: gpd.GeoDataFrame) -> tuple[Tile, np.ndarray, np.ndarray]:
    ix = cells["ix"].to_numpy(np.int64)
    iy = cells["iy"].to_numpy(np.int64)
    r = float(np.sqrt(cells["cell_area_km2"].iloc[0])) * M_PER_KM
    ix0, iy0 = int(ix.min()), int(iy.min())
    tile = Tile(ix0, iy0, int(ix.max()) - ix0 + 1, int(iy.max()) - iy0 + 1, r)
    rows = (tile.iy0 + tile.nrows - 1 - iy).astype(np.int64)
    cols = (ix - tile.ix0).astype(np.int64)
    return tile, rows, cols


def screen_cells(
    cells: gpd.GeoDataFrame,
    layers: ScreeningLayers,
    params: ScreeningParameters,
    *,
    energy: EnergyStep | None = None,
    lcoe: LcoeStep | None = None,
    exclusion_layers: tuple[exclusions.ExclusionLayer, ...] | None = None,
    extra_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    triggers: communities.TriggerLocalities | None = None,
) -> gpd.GeoDataFrame:
    """Every screening attribute of every cell.

    Parameters
    ----------
    cells : GeoDataFrame
        From :func:`siting.grid.screening_grid` (``cell_id``, ``ix``, ``iy``,
        ``x_m``, ``y_m``, ``cell_area_km2``). [EPSG:6372]
    layers : ScreeningLayers
        Loaded layers.
    params : ScreeningParameters
        Technology and every limit, buffer, cost and weight.
    energy : EnergyStep, optional
        Defaults to :func:`default_energy_step` (built once per ``layers``, so
        the station tables of the hourly models are computed once per run).
    lcoe : LcoeStep, optional
        Defaults to :func:`default_lcoe_step`.
    exclusion_layers : tuple of ExclusionLayer, optional
        Pre-buffered exclusion layers (reuse across tiles); built from
        ``layers``, ``params.exclusions`` and ``extra_layers`` if omitted.
    extra_layers : mapping of str to GeoDataFrame, optional
        Officer-imported exclusion layers (only used when
        ``exclusion_layers`` is omitted).
    triggers : TriggerLocalities, optional
        Pre-selected consultation trigger localities.

    Returns
    -------
    GeoDataFrame
        :data:`CELL_COLUMNS` plus the cell geometry, EPSG:6372, ranked within
        this call (re-rank with :func:`concat_tiles` after joining tiles).
    """
    if cells.crs != PROJECTED_CRS:
        raise ValueError(f"cells must be in {PROJECTED_CRS}, got {cells.crs}")
    tech = params.technology.technology
    if tech not in TECHNOLOGIES:
        raise ValueError(f"technology must be one of {TECHNOLOGIES}, got {tech!r}")
    if len(cells) == 0:
        raise ValueError("no cells to screen")
    if energy is None:
        if ("energy", "default") not in layers.derived:
            layers.derived[("energy", "default")] = default_energy_step()
        energy = layers.derived[("energy", "default")]
    lcoe = lcoe or default_lcoe_step()
    if exclusion_layers is None:
        exclusion_layers = prepared_exclusion_layers(layers, params, extra_layers)
    if triggers is None:
        triggers = prepared_triggers(layers, params)

    x = cells["x_m"].to_numpy(float)
    y = cells["y_m"].to_numpy(float)
    lon, lat = to_lonlat(x, y)
    tile, rows, cols = _block(cells)
    shape = (tile.nrows, tile.ncols)

    # resource
    rp = params.resource
    ghi = resource.ghi_kwh_m2_day(lat, lon, x, y, layers.stations, layers.station_xy_m, layers.merra2, rp)
    wind, in_wrf = resource.wind_speed_100m_m_s(
        lat, lon, x, y, layers.stations, layers.station_xy_m, layers.wind_layers, rp
    )
    st_idx, st_dist = resource.nearest_station(x, y, layers.station_xy_m)
    confidence = resource.resource_confidence(tech, st_dist, in_wrf, rp)

    # terrain
    elevation = terrain.sample_raster(layers.dem_m, layers.dem_transform, lon, lat)
    slope = terrain.sample_raster(layers.slope_pct, layers.dem_transform, lon, lat)

    # grid
    dist_line, line_idx = connection.nearest_line(x, y, layers.line_index)
    voltage = layers.grid_lines["voltage_kv_max"].to_numpy(float)[line_idx]
    dist_sub, _ = connection.nearest_substation(x, y, layers.substation_tree)
    conn_cost = connection.connection_cost_usd(dist_line, voltage, params.connection)

    # place
    muni_idx = place.municipality_index_grid(
        layers.municipalities, tile.transform, shape, rows, cols, layers.municipality_shapes
    )
    place_df = place.place_columns(layers.municipalities, muni_idx)

    # exclusions
    index_cols, codes, labels = [], [], []
    for layer in exclusion_layers:
        raster = exclusions.rasterize_index(layer.geometries, tile.transform, shape, layer.shapes)
        index_cols.append(raster[rows, cols])
        codes.append(layer.reason)
        labels.append(layer.labels)
    limit = params.technology.slope_limit_pct
    index_cols.append((np.nan_to_num(slope, nan=-np.inf) > limit).astype(np.int32))
    codes.append(f"slope above {limit:g} % ({tech} limit)")
    labels.append(np.zeros(0, dtype=str))
    if params.exclusions.exclude_dem_nodata:
        index_cols.append(np.isnan(elevation).astype(np.int32))
        codes.append("no terrain data (sea or outside Mexico)")
        labels.append(np.zeros(0, dtype=str))
    index = np.column_stack(index_cols)
    excluded = (index > 0).any(axis=1)
    reasons = exclusions.combine_reasons(codes, index, labels)

    # communities
    consult = communities.consultation_columns(
        x, y, place_df["inpi_typology"].to_numpy(dtype=object), triggers, params.consultation
    )

    # energy and cost
    request = EnergyRequest(tech, lat, lon, elevation, ghi, wind, st_idx, layers.stations, layers.weather)
    energy_mwh_per_mw = np.asarray(energy(request), dtype=float)
    if energy_mwh_per_mw.shape != x.shape:
        raise ValueError(f"energy step returned shape {energy_mwh_per_mw.shape}, expected {x.shape}")
    costs = params.technology.costs
    capital_usd_per_mw = (
        costs.capital_cost_usd_per_kw * KW_PER_MW + conn_cost / params.connection.reference_plant_mw
    )
    producing = np.isfinite(energy_mwh_per_mw) & (energy_mwh_per_mw > 0)
    lcoe_value = np.full(x.shape, np.nan)
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

    area = cells["cell_area_km2"].to_numpy(float)
    available = np.where(excluded, 0.0, area)
    out = gpd.GeoDataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy(),
            "ix": cells["ix"].to_numpy(),
            "iy": cells["iy"].to_numpy(),
            "x_m": x,
            "y_m": y,
            "technology": tech,
            "longitude": lon,
            "latitude": lat,
            "cell_area_km2": area,
            "ghi_kwh_m2_day": ghi,
            "wind_speed_100m_m_s": wind,
            "wind_from_wrf": in_wrf,
            "resource_confidence": confidence,
            "nearest_station_id": layers.stations["station_id"].astype(str).to_numpy()[st_idx],
            "dist_station_km": st_dist,
            "elevation_m": elevation,
            "slope_pct": slope,
            "dist_line_km": dist_line,
            "line_voltage_kv": voltage,
            "dist_substation_km": dist_sub,
            "connection_cost_usd": conn_cost,
            **{c: place_df[c].to_numpy() for c in place_df.columns},
            "excluded": excluded,
            "exclusion_reasons": reasons,
            "available_area_km2": available,
            "capacity_mw": available * params.technology.power_density_mw_per_km2,
            **{c: consult[c].to_numpy() for c in consult.columns},
            "energy_mwh_per_mw": energy_mwh_per_mw,
            "capacity_factor": energy_mwh_per_mw / HOURS_PER_YEAR,
            "lcoe_usd_per_mwh": lcoe_value,
        },
        geometry=cells.geometry.values,
        crs=PROJECTED_CRS,
    )
    out["score"] = score_cells(out, params)
    return rank_cells(out)


def score_cells(cells: pd.DataFrame, params: ScreeningParameters) -> np.ndarray:
    """Weighted screening score in [0, 1] (NaN for excluded cells).

    Parameters
    ----------
    cells : DataFrame
        ``lcoe_usd_per_mwh``, ``dist_line_km``, ``consultation_required``,
        ``resource_confidence``, ``excluded``.
    params : ScreeningParameters
        ``weights`` (:class:`siting.parameters.ScoreWeights`).

    Returns
    -------
    ndarray
        See :class:`~siting.parameters.ScoreWeights` for the formula.
    """
    w = params.weights
    total = w.lcoe + w.grid + w.community + w.confidence
    if total <= 0 or min(w.lcoe, w.grid, w.community, w.confidence) < 0:
        raise ValueError("score weights must be >= 0 with a positive sum")
    lcoe = cells["lcoe_usd_per_mwh"].to_numpy(float)
    s_lcoe = np.clip((w.lcoe_worst_usd_per_mwh - lcoe) / (w.lcoe_worst_usd_per_mwh - w.lcoe_best_usd_per_mwh), 0, 1)
    s_lcoe = np.where(np.isfinite(lcoe), s_lcoe, 0.0)
    s_grid = np.clip(1 - cells["dist_line_km"].to_numpy(float) / w.grid_distance_worst_km, 0, 1)
    s_comm = np.where(cells["consultation_required"].to_numpy(bool), 0.0, 1.0)
    conf = cells["resource_confidence"].to_numpy(float)
    score = (w.lcoe * s_lcoe + w.grid * s_grid + w.community * s_comm + w.confidence * conf) / total
    return np.where(cells["excluded"].to_numpy(bool), np.nan, score)


def rank_cells(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rank by score, 1 = best; excluded (NaN score) cells get no rank. Ties by lattice position (``ix``, ``iy``)."""
    out = cells.copy()
    order = np.lexsort((out["iy"].to_numpy(), out["ix"].to_numpy(), -np.nan_to_num(out["score"].to_numpy(float), nan=-np.inf)))
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = pd.array(np.where(np.isfinite(out["score"].to_numpy(float)), rank, 0), dtype="Int64")
    out.loc[~np.isfinite(out["score"].to_numpy(float)), "rank"] = pd.NA
    return out


def concat_tiles(frames: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Join tile results (each from :func:`screen_area` with a tile) and rank the whole.

    Raises
    ------
    ValueError
        On no frame, mixed technologies or duplicate ``cell_id``.
    """
    frames = [f for f in frames if len(f)]
    if not frames:
        raise ValueError("no tile results to concatenate")
    out = pd.concat(frames, ignore_index=True)
    if out["technology"].nunique() != 1:
        raise ValueError(f"tiles mix technologies {sorted(out['technology'].unique())}")
    if out["cell_id"].duplicated().any():
        raise ValueError("tiles overlap: duplicate cell_id")
    return rank_cells(gpd.GeoDataFrame(out, geometry="geometry", crs=PROJECTED_CRS))


def screen_area(
    area_6372,
    layers: ScreeningLayers,
    params: ScreeningParameters,
    resolution_km: float,
    *,
    tile: Tile | None = None,
    **kwargs,
) -> gpd.GeoDataFrame:
    """Grid an area (or one tile of it) and screen its cells.

    Parameters
    ----------
    area_6372 : shapely geometry
        Area in EPSG:6372 (e.g. ``AreaRequest.geometry_6372``). [m]
    layers, params
        See :func:`screen_cells`.
    resolution_km : float
        Cell size. [km]
    tile : Tile, optional
        One tile of :func:`siting.grid.split_tiles`.
    **kwargs
        ``energy``, ``lcoe``, ``exclusion_layers``, ``extra_layers``, ``triggers``.

    Returns
    -------
    GeoDataFrame
        Possibly empty when the tile holds no cell centre of the area.
    """
    cells = screening_grid(area_6372, resolution_km, tile=tile, max_cells=params.max_cells)
    if len(cells) == 0:
        return cells
    return screen_cells(cells, layers, params, **kwargs)


def screen_tiles(
    area_6372, layers: ScreeningLayers, params: ScreeningParameters, resolution_km: float,
    *, tile_cells: int = 100_000, progress: Callable[[int, int], None] | None = None, **kwargs,
) -> gpd.GeoDataFrame:
    """Embedded mode: split into tiles, screen each, concatenate and rank.

    Parameters
    ----------
    progress : callable, optional
        Called as ``progress(done, total)`` after each tile.

    Raises
    ------
    ScreeningInputError
        When no cell centre falls inside the area (field ``resolution_km``).
    """
    tiles = split_tiles(area_6372, resolution_km, tile_cells, max_cells=params.max_cells)
    if "exclusion_layers" not in kwargs:
        kwargs["exclusion_layers"] = prepared_exclusion_layers(layers, params, kwargs.pop("extra_layers", None))
    if "triggers" not in kwargs:
        kwargs["triggers"] = prepared_triggers(layers, params)
    frames = []
    for k, tile in enumerate(tiles):  # a handful of tiles, each vectorized
        frames.append(screen_area(area_6372, layers, params, resolution_km, tile=tile, **kwargs))
        if progress is not None:
            progress(k + 1, len(tiles))
    if not any(len(f) for f in frames):
        raise ScreeningInputError(
            "resolution_km", f"no cell centre of the {resolution_km} km lattice falls inside the area; use a finer resolution"
        )
    return concat_tiles(frames)


def locate_points(screened: pd.DataFrame, x_m, y_m) -> np.ndarray:
    """Row position in ``screened`` of the cell holding each EPSG:6372 point (-1 if none).

    Parameters
    ----------
    screened : DataFrame
        A screening (``ix``, ``iy``, ``cell_area_km2``).
    x_m, y_m : array_like
        Points in EPSG:6372. [m]

    Returns
    -------
    ndarray of int
    """
    r = float(np.sqrt(screened["cell_area_km2"].iloc[0])) * M_PER_KM
    ix, iy = cell_index_of(x_m, y_m, r)
    key = pd.MultiIndex.from_arrays([screened["ix"].to_numpy(np.int64), screened["iy"].to_numpy(np.int64)])
    return key.get_indexer(pd.MultiIndex.from_arrays([ix, iy])).astype(np.int64)
