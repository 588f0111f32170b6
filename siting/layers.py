"""The loaded layers of a screening, bundled and projected once.

The shell reads the bundled files (``data/geo/*``, ``data/resource/*``) into
GeoDataFrames, DataFrames and arrays and hands them to
:func:`layers_from_frames`, which checks them, projects the vector layers to
EPSG:6372 once and derives what every tile reuses (slope raster, spatial
indexes).  Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from siting.parameters import GEOGRAPHIC_CRS, PROJECTED_CRS
from siting.terrain import slope_percent

__all__ = [
    "WindLayer",
    "ScreeningLayers",
    "layers_from_frames",
    "station_table_from_weather",
    "SUBSTATION_TYPES",
    "STATION_COLUMNS",
]

#: Node types of the OSM grid layer that are substations (SOURCES-geo.md §2).
SUBSTATION_TYPES = ("substation", "sub_station", "station")
#: Columns of the station table (one row per typical-year weather station).
STATION_COLUMNS = (
    "station_id",
    "name",
    "latitude",
    "longitude",
    "elevation_m",
    "ghi_kwh_m2_day",
    "wind_speed_10m_m_s",
)


@dataclass(frozen=True)
class WindLayer:
    """One regular lat/lon grid of mean wind speed (a WRF domain).

    Attributes
    ----------
    name : str
        Domain name (e.g. ``"12C"``).
    latitude : ndarray (nlat,)
        Ascending grid-point latitudes. [°]
    longitude : ndarray (nlon,)
        Ascending grid-point longitudes. [°]
    wind_speed_m_s : ndarray (nlat, nlon)
        Annual mean wind speed (mean of the four seasonal means). [m/s]
    height_m : float
        Height above ground of the layer. [m]
    """

    name: str
    latitude: np.ndarray
    longitude: np.ndarray
    wind_speed_m_s: np.ndarray
    height_m: float

    def __post_init__(self) -> None:
        lat, lon, ws = (np.asarray(self.latitude), np.asarray(self.longitude), np.asarray(self.wind_speed_m_s))
        if ws.shape != (lat.size, lon.size):
            raise ValueError(f"wind layer {self.name}: wind_speed_m_s shape {ws.shape} != ({lat.size}, {lon.size})")
        if lat.size < 2 or lon.size < 2 or (np.diff(lat) <= 0).any() or (np.diff(lon) <= 0).any():
            raise ValueError(f"wind layer {self.name}: latitude and longitude must ascend with >= 2 points")


@dataclass(frozen=True)
class ScreeningLayers:
    """Every layer a screening reads, vector layers in EPSG:6372.

    Attributes
    ----------
    states : GeoDataFrame
        INEGI states: ``cve_ent``, ``nom_ent``. [EPSG:6372]
    municipalities : GeoDataFrame
        INEGI municipalities: ``cvegeo``, ``cve_ent``, ``nom_ent``, ``cve_mun``,
        ``nom_mun``, ``tipo_code`` (INPI typology, joined). [EPSG:6372]
    grid_lines : GeoDataFrame
        Transmission lines: ``voltage_kv_max`` (NaN if unknown). [EPSG:6372]
    substations : GeoDataFrame
        Substation points (``typ`` in :data:`SUBSTATION_TYPES`). [EPSG:6372]
    protected_areas : GeoDataFrame
        State protected areas: ``ap_code``, ``nombre``. [EPSG:6372]
    localities_polygons : GeoDataFrame
        Built-up localities: ``cvegeo``, ``nom_loc``, ``ambito``. [EPSG:6372]
    localities_points : GeoDataFrame
        Locality points: ``cvegeo``, ``nom_loc``, ``nom_mun``,
        ``inpi_tipo_mun``, ``pob_total``. [EPSG:6372]
    water_bodies : GeoDataFrame
        Lakes and reservoirs. [EPSG:6372]
    dem_m : ndarray (rows, cols)
        Elevation, NaN where missing. [m]
    dem_transform : Affine
        Geotransform of ``dem_m`` in EPSG:4326 (north-up). [°]
    slope_pct : ndarray (rows, cols)
        Slope derived from ``dem_m``. [%]
    wind_layers : tuple of WindLayer
        WRF mean-wind domains.
    merra2 : DataFrame
        MERRA-2 3° cells: ``lat``, ``lon``, ``ghi_kwh_m2_day_annual``.
    stations : DataFrame
        Station table, columns :data:`STATION_COLUMNS`.
    mexico_4326 : shapely geometry
        National outline. [EPSG:4326]
    corridors_4326 : shapely geometry
        Union of the corridor states. [EPSG:4326]
    weather : object or None
        ``siting.weather.StationWeather`` of the same stations (same order as
        ``stations``) for the batch-yield energy step, when available.
    rivers : GeoDataFrame or None
        Major river centre lines (GSHHG/WDBII), an exclusion once buffered;
        None when not loaded. [EPSG:6372]
    """

    states: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame
    grid_lines: gpd.GeoDataFrame
    substations: gpd.GeoDataFrame
    protected_areas: gpd.GeoDataFrame
    localities_polygons: gpd.GeoDataFrame
    localities_points: gpd.GeoDataFrame
    water_bodies: gpd.GeoDataFrame
    dem_m: np.ndarray
    dem_transform: Affine
    slope_pct: np.ndarray
    wind_layers: tuple[WindLayer, ...]
    merra2: pd.DataFrame
    stations: pd.DataFrame
    mexico_4326: BaseGeometry
    corridors_4326: BaseGeometry
    weather: object | None = None
    rivers: gpd.GeoDataFrame | None = None

    @cached_property
    def line_tree(self) -> shapely.STRtree:
        """STRtree over the grid lines (EPSG:6372)."""
        return shapely.STRtree(self.grid_lines.geometry.values)

    @cached_property
    def derived(self) -> dict:
        """Cache of structures derived from these layers and hashable parameters
        (buffered exclusion layers, trigger localities), reused by every tile."""
        return {}

    @cached_property
    def line_index(self):
        """:class:`siting.connection.LineIndex` over the grid lines."""
        from siting.connection import line_index

        return line_index(self.grid_lines.geometry.values)

    @cached_property
    def municipality_shapes(self) -> list:
        """GeoJSON-like mappings of the municipalities (rasterisation input, built once)."""
        return [g.__geo_interface__ for g in self.municipalities.geometry.values]

    @cached_property
    def substation_tree(self) -> cKDTree:
        """k-d tree over substation coordinates (EPSG:6372). [m]"""
        return cKDTree(shapely.get_coordinates(self.substations.geometry.values))

    @cached_property
    def station_xy_m(self) -> np.ndarray:
        """Station coordinates in EPSG:6372, shape (n, 2). [m]"""
        pts = gpd.GeoSeries(
            gpd.points_from_xy(self.stations["longitude"], self.stations["latitude"]), crs=GEOGRAPHIC_CRS
        ).to_crs(PROJECTED_CRS)
        return shapely.get_coordinates(pts.values)


#: Wh per kWh.
WH_PER_KWH = 1000.0
#: Hours per day. [h]
HOURS_PER_DAY = 24.0


def station_table_from_weather(weather, names=None) -> pd.DataFrame:
    """Station table (:data:`STATION_COLUMNS`) from a ``siting.weather.StationWeather``.

    Parameters
    ----------
    weather : StationWeather
        Stacked typical years (``ghi`` [W/m²] hourly, ``wind_speed`` [m/s] at
        ``wind_height_m``).
    names : sequence of str, optional
        Station names in the same order (default: the ids).

    Returns
    -------
    DataFrame
        ``ghi_kwh_m2_day`` = annual GHI sum / days; ``wind_speed_10m_m_s`` =
        annual mean (raises if the wind is not at 10 m).
    """
    if float(weather.wind_height_m) != 10.0:
        raise ValueError(f"station wind must be at 10 m, got {weather.wind_height_m} m")
    ghi = np.asarray(weather.ghi, dtype=float)
    days = ghi.shape[1] / HOURS_PER_DAY
    ids = [str(i) for i in weather.station_ids]
    return pd.DataFrame(
        {
            "station_id": ids,
            "name": list(names) if names is not None else ids,
            "latitude": np.asarray(weather.latitude, dtype=float),
            "longitude": np.asarray(weather.longitude, dtype=float),
            "elevation_m": np.asarray(weather.elevation_m, dtype=float),
            "ghi_kwh_m2_day": ghi.sum(axis=1) / WH_PER_KWH / days,
            "wind_speed_10m_m_s": np.asarray(weather.wind_speed, dtype=float).mean(axis=1),
        }
    )


def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; has {list(frame.columns)}")


def _to_6372(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValueError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise ValueError(f"{name} has no CRS; expected EPSG:4326 or EPSG:6372")
    out = frame.to_crs(PROJECTED_CRS) if frame.crs != PROJECTED_CRS else frame.copy()
    return out.reset_index(drop=True)


def layers_from_frames(
    *,
    states: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    grid_lines: gpd.GeoDataFrame,
    grid_nodes: gpd.GeoDataFrame,
    protected_areas: gpd.GeoDataFrame,
    localities_polygons: gpd.GeoDataFrame,
    localities_points: pd.DataFrame,
    indigenous_typology: pd.DataFrame,
    water_bodies: gpd.GeoDataFrame,
    dem: np.ndarray,
    dem_transform: Affine,
    dem_nodata: float | None,
    wind_layers: tuple[WindLayer, ...],
    merra2: pd.DataFrame,
    stations: pd.DataFrame,
    mexico_states: gpd.GeoDataFrame,
    weather: object | None = None,
    rivers: gpd.GeoDataFrame | None = None,
) -> ScreeningLayers:
    """Check, project and bundle parsed layers (pure; no file I/O).

    Parameters
    ----------
    states, municipalities : GeoDataFrame
        ``corridor_states_inegi`` and ``corridor_municipios_inegi``. [EPSG:4326]
    grid_lines, grid_nodes : GeoDataFrame
        OSM transmission lines and nodes. [EPSG:4326]
    protected_areas : GeoDataFrame
        State protected natural areas (CONABIO 2009). [EPSG:4326]
    localities_polygons : GeoDataFrame
        INEGI built-up locality polygons. [EPSG:4326]
    localities_points : DataFrame
        INEGI locality table with ``lat``, ``lon`` (or a GeoDataFrame). [°]
    indigenous_typology : DataFrame
        INPI municipal typology with ``cvegeo`` and ``tipo_code``.
    water_bodies : GeoDataFrame
        GSHHG lakes. [EPSG:4326]
    dem : ndarray (rows, cols)
        Elevation raster in EPSG:4326. [m]
    dem_transform : Affine
        Its geotransform (north-up, no rotation). [°]
    dem_nodata : float or None
        Nodata value of ``dem``.
    wind_layers : tuple of WindLayer
        WRF domains.
    merra2 : DataFrame
        MERRA-2 monthly/annual table (``lat``, ``lon``, ``ghi_kwh_m2_day_annual``).
    stations : DataFrame
        Station table (:data:`STATION_COLUMNS`).
    mexico_states : GeoDataFrame
        All 32 states (Natural Earth) for the national outline. [EPSG:4326]
    weather : StationWeather, optional
        Hourly typical years of the same stations, in the same order.
    rivers : GeoDataFrame, optional
        GSHHG/WDBII major river lines (``rivers_gshhg_wdbii``). [EPSG:4326]

    Returns
    -------
    ScreeningLayers
    """
    _require(states, "states", ("cve_ent", "nom_ent"))
    _require(municipalities, "municipalities", ("cvegeo", "cve_ent", "nom_ent", "cve_mun", "nom_mun"))
    _require(grid_lines, "grid_lines", ("voltage_kv_max",))
    _require(grid_nodes, "grid_nodes", ("typ",))
    _require(protected_areas, "protected_areas", ("ap_code", "nombre"))
    _require(localities_polygons, "localities_polygons", ("cvegeo", "nom_loc", "ambito"))
    _require(localities_points, "localities_points", ("cvegeo", "nom_loc", "inpi_tipo_mun"))
    _require(indigenous_typology, "indigenous_typology", ("cvegeo", "tipo_code"))
    _require(merra2, "merra2", ("lat", "lon", "ghi_kwh_m2_day_annual"))
    _require(stations, "stations", STATION_COLUMNS)
    if weather is not None and tuple(str(i) for i in weather.station_ids) != tuple(stations["station_id"].astype(str)):
        raise ValueError("weather.station_ids must list the stations of the station table in the same order")
    dem = np.asarray(dem)
    if dem.ndim != 2:
        raise ValueError(f"dem must be 2-D, got shape {dem.shape}")
    if dem_transform.b != 0 or dem_transform.d != 0 or dem_transform.e >= 0:
        raise ValueError(f"dem_transform must be north-up without rotation, got {dem_transform!r}")
    dem_m = dem.astype(np.float64)
    if dem_nodata is not None:
        dem_m[dem == dem_nodata] = np.nan

    munis = _to_6372(municipalities, "municipalities")
    typology = indigenous_typology[["cvegeo", "tipo_code"]].astype({"cvegeo": str})
    munis = munis.merge(typology, on="cvegeo", how="left")
    if not isinstance(localities_points, gpd.GeoDataFrame):
        _require(localities_points, "localities_points", ("lat", "lon"))
        # 18 of the 12,200 INEGI localities have no coordinates; they cannot be placed.
        localities_points = localities_points.dropna(subset=["lat", "lon"])
        localities_points = gpd.GeoDataFrame(
            localities_points,
            geometry=gpd.points_from_xy(localities_points["lon"], localities_points["lat"]),
            crs=GEOGRAPHIC_CRS,
        )
    nodes = _to_6372(grid_nodes, "grid_nodes")
    lines = _to_6372(grid_lines, "grid_lines")
    lines["voltage_kv_max"] = pd.to_numeric(lines["voltage_kv_max"], errors="coerce").astype(float)
    mexico_4326 = shapely.union_all(mexico_states.to_crs(GEOGRAPHIC_CRS).geometry.values)
    states_4326 = states.to_crs(GEOGRAPHIC_CRS) if states.crs != GEOGRAPHIC_CRS else states
    return ScreeningLayers(
        states=_to_6372(states, "states"),
        municipalities=munis,
        grid_lines=lines,
        substations=nodes[nodes["typ"].isin(SUBSTATION_TYPES)].reset_index(drop=True),
        protected_areas=_to_6372(protected_areas, "protected_areas"),
        localities_polygons=_to_6372(localities_polygons, "localities_polygons"),
        localities_points=_to_6372(localities_points, "localities_points"),
        water_bodies=_to_6372(water_bodies, "water_bodies"),
        dem_m=dem_m,
        dem_transform=dem_transform,
        slope_pct=slope_percent(dem_m, dem_transform),
        wind_layers=tuple(wind_layers),
        merra2=merra2.reset_index(drop=True),
        stations=stations[list(STATION_COLUMNS)].reset_index(drop=True),
        mexico_4326=mexico_4326,
        corridors_4326=shapely.union_all(states_4326.geometry.values),
        weather=weather,
        rivers=None if rivers is None else _to_6372(rivers, "rivers"),
    )
