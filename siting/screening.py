"""Site screening: every attribute of every cell, vectorized over cells.

:func:`screen_cells` takes cells from :func:`siting.grid.screening_grid` and
the :class:`siting.layers.ScreeningLayers` and returns one row per cell with
the columns of :data:`CELL_COLUMNS`: resource, terrain, grid, place,
exclusions, consultation, then the energy step
(:func:`siting.cell_energy.energy_columns`) and the score
(:func:`siting.scoring.score_cells`, :func:`siting.scoring.rank_cells`).
:func:`screen_area` builds the grid first; :func:`screen_tiles` runs the
tiles of :func:`siting.grid.split_tiles` one after the other and
concatenates them (the embedded mode of the Celery group, which runs
:func:`screen_area` with ``tile=...`` per task and calls
:func:`concat_tiles`).

Energy and LCOE are injected steps: ``energy`` (see
:class:`siting.cell_energy.EnergyRequest`) defaults to
:func:`siting.cell_energy.station_batch_energy` over ``siting.yield_batch``
and ``lcoe`` defaults to ``finance.lcoe.lcoe_fcr`` (NREL SAM ``Lcoefcr``).
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from siting import communities, connection, exclusions, place, resource, terrain
from siting.cell_energy import EnergyRequest, EnergyStep, LcoeStep, default_energy_step, default_lcoe_step, energy_columns
from siting.grid import M_PER_KM, ScreeningInputError, Tile, cell_index_of, screening_grid, split_tiles
from siting.layers import ScreeningLayers
from siting.parameters import GEOGRAPHIC_CRS, PROJECTED_CRS, TECHNOLOGIES, ScreeningParameters
from siting.scoring import rank_cells, score_cells

__all__ = [
    "CELL_COLUMNS",
    "EXCLUDED_FRACTION_PREFIX",
    "BUILT_IN_REASONS",
    "prepared_exclusion_layers",
    "prepared_triggers",
    "screen_cells",
    "screen_area",
    "screen_tiles",
    "concat_tiles",
    "locate_points",
    "to_lonlat",
]

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
    "resource_method": "where the technology's long-term resource comes from (siting.resource.cell_resource)",
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
    "excluded": "whether the available area holds less than the smallest plant (ExclusionParameters.min_plant_mw)",
    "exclusion_reasons": "'; '-separated reasons that take part of the cell, each with its share and a feature name "
                         "('' when nothing does)",
    "available_fraction": "share of the cell left for a plant: inside the screened area, outside every exclusion "
                          "layer (100 m raster), slope and terrain tests passed [-]",
    "available_km2": "available_fraction x cell area [km²]",
    "available_area_km2": "same as available_km2 (the name of issue 5, kept for existing clients) [km²]",
    "outside_area_fraction": "share of the cell outside the screened area (sea, another state or country) [-]",
    "excluded_fraction_protected_area": "share of the cell inside the screened area in a (buffered) state protected area [-]",
    "excluded_fraction_urban_area": "share in a buffered urban locality [-]",
    "excluded_fraction_village": "share in a buffered rural block locality [-]",
    "excluded_fraction_water_body": "share in a buffered lake or reservoir [-]",
    "excluded_fraction_river": "share within the buffer of a major river [-]",
    "excluded_fraction_slope": "1 when the cell's DEM slope is above the technology's limit (a per-cell test), else 0 [-]",
    "excluded_fraction_no_terrain_data": "1 when the cell has no DEM value and such cells are excluded, else 0 [-]",
    "capacity_mw": "available_km2 x power density [MW]",
    "consultation_required": "indigenous consultation review triggered",
    "consultation_reason": "why",
    "consultation_localities": "triggering localities, nearest first",
    "consultation_locality_count": "triggering localities within the radius",
    "consultation_requirement": "required | identification_required | not_required (protocol v2)",
    "energy_mwh_per_mw": "annual energy per MW installed [MWh/MW/yr]",
    "capacity_factor": "energy_mwh_per_mw / 8760 [-]",
    "lcoe_usd_per_mwh": "levelized cost incl. grid connection [USD/MWh]",
    "score": "weighted score in [0, 1]; NaN when excluded",
    "rank": "1 = best non-excluded cell of the run",
}

#: Prefix of the per-reason share columns (``excluded_fraction_protected_area``, ...); an
#: officer-imported layer adds ``excluded_fraction_<its code>``.  The shares of one cell
#: may overlap (a village inside a protected area), so they can add up to more than
#: ``1 - available_fraction - outside_area_fraction``.
EXCLUDED_FRACTION_PREFIX = "excluded_fraction_"
#: Codes of the share columns every screening has (zeros where a layer is absent).
BUILT_IN_REASONS = ("protected_area", "urban_area", "village", "water_body", "river", "slope", "no_terrain_data")


def prepared_exclusion_layers(
    layers: ScreeningLayers, params: ScreeningParameters, extra_layers: Mapping[str, gpd.GeoDataFrame] | None = None
) -> tuple[exclusions.ExclusionLayer, ...]:
    """Buffered exclusion layers, cached on ``layers`` per buffer set (not when extra layers are given)."""
    build = lambda: exclusions.prepare_exclusion_layers(  # noqa: E731
        protected_areas=layers.protected_areas, localities_polygons=layers.localities_polygons,
        water_bodies=layers.water_bodies, rivers=layers.rivers, params=params.exclusions,
        extra_layers=extra_layers,
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
    area_6372=None,
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
        Defaults to :func:`siting.cell_energy.default_energy_step` (built once per ``layers``, so
        the station tables of the hourly models are computed once per run).
    lcoe : LcoeStep, optional
        Defaults to :func:`siting.cell_energy.default_lcoe_step`.
    exclusion_layers : tuple of ExclusionLayer, optional
        Pre-buffered exclusion layers (reuse across tiles); built from
        ``layers``, ``params.exclusions`` and ``extra_layers`` if omitted.
    extra_layers : mapping of str to GeoDataFrame, optional
        Officer-imported exclusion layers (only used when
        ``exclusion_layers`` is omitted).
    triggers : TriggerLocalities, optional
        Pre-selected consultation trigger localities.
    area_6372 : shapely geometry, optional
        The screened area: the parts of the cells outside it are not available
        (``outside_area_fraction``); None counts every cell whole. [EPSG:6372]

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
    res = resource.cell_resource(lat, lon, x, y, layers, rp)  # the one resource model (issue 16)
    ghi, wind, in_wrf = res.ghi_kwh_m2_day, res.wind_speed_100m_m_s, res.in_wrf
    st_idx, st_dist, confidence = res.station_index, res.dist_station_km, res.confidence(tech)

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

    # exclusions: each layer's share of each cell from the 100 m raster; slope and terrain per cell
    area = cells["cell_area_km2"].to_numpy(float)
    ex = params.exclusions
    shares = exclusions.exclusion_shares(
        exclusion_layers, tile.transform, shape, rows, cols,
        exclusions.subdivisions(tile.resolution_m, ex.exclusion_resolution_m), area=area_6372,
    )
    limit = params.technology.slope_limit_pct
    steep = np.nan_to_num(slope, nan=-np.inf) > limit
    no_dem = np.isnan(elevation) if ex.exclude_dem_nodata else np.zeros(len(cells), dtype=bool)
    available_fraction = np.where(steep | no_dem, 0.0, shares.available_fraction)
    available_km2 = available_fraction * area
    capacity_mw = available_km2 * params.technology.power_density_mw_per_km2
    excluded = (available_km2 <= 0.0) | (capacity_mw < ex.min_plant_mw)
    share_columns = {f"{EXCLUDED_FRACTION_PREFIX}{code}": np.zeros(len(cells)) for code in BUILT_IN_REASONS}
    share_columns.update({f"{EXCLUDED_FRACTION_PREFIX}{layer.code}": shares.fractions[:, j]
                          for j, layer in enumerate(exclusion_layers)})
    share_columns[f"{EXCLUDED_FRACTION_PREFIX}slope"] = steep.astype(float)
    share_columns[f"{EXCLUDED_FRACTION_PREFIX}no_terrain_data"] = no_dem.astype(float)
    stems = [layer.reason for layer in exclusion_layers] + [
        f"slope above {limit:g} % ({tech} limit)", "no terrain data (sea or outside Mexico)",
        "outside the screened area"]
    # label_index 0 (no polygon) reads the appended "" at position -1
    names = [np.append(layer.labels, "")[shares.label_index[:, j] - 1]
             for j, layer in enumerate(exclusion_layers)] + [None, None, None]
    reasons = exclusions.reason_texts(stems, np.column_stack(
        [shares.fractions, steep, no_dem, shares.outside_fraction]), names)

    # communities
    consult = communities.consultation_columns(
        x, y, place_df["inpi_typology"].to_numpy(dtype=object), triggers, params.consultation
    )

    # energy and cost
    request = EnergyRequest(tech, lat, lon, elevation, ghi, wind, st_idx, layers.stations, layers.weather)
    energy_df = energy_columns(request, conn_cost, params, energy=energy, lcoe=lcoe)

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
            "resource_method": res.method(tech),
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
            "available_fraction": available_fraction,
            "available_km2": available_km2,
            "available_area_km2": available_km2,
            "outside_area_fraction": shares.outside_fraction,
            **share_columns,
            "capacity_mw": capacity_mw,
            **{c: consult[c].to_numpy() for c in consult.columns},
            **{c: energy_df[c].to_numpy() for c in energy_df.columns},
        },
        geometry=cells.geometry.values,
        crs=PROJECTED_CRS,
    )
    out["score"] = score_cells(out, params)
    return rank_cells(out, inplace=True)


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
    return rank_cells(gpd.GeoDataFrame(out, geometry="geometry", crs=PROJECTED_CRS), inplace=True)


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
    return screen_cells(cells, layers, params, area_6372=area_6372, **kwargs)


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
