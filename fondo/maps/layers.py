"""The map's vector layers: what each shows, where it comes from, and its GeoJSON per view.

Every layer is read through :mod:`fondo.data.service` (checksummed bundled files, or the
officer's imported replacement of the same name) and served as GeoJSON (RFC 7946, EPSG:4326)
for one view: the features meeting the view's bounding box, simplified to half a screen pixel
at the view's zoom (Douglas-Peucker, topology preserved), with only the properties the page
shows. Point layers with many features (localities) keep, at a coarse zoom, only the larger
places. The source and licence of each layer are those of its datasets in
``data/manifest.json`` (or of the imported layer).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from cachetools import LRUCache

from fondo.data import service as data_service
from fondo.errors import InvalidInput

__all__ = [
    "LOCALITY_MIN_POPULATION",
    "MAX_BBOX_FEATURES",
    "VECTOR_LAYERS",
    "VectorLayer",
    "layer_geojson",
    "layer_sources",
    "simplify_tolerance_deg",
]

#: Pixels of a tile's side (Leaflet's default tile size). [px]
TILE_PX = 256
#: Below these zooms, only localities of at least this population are drawn: INEGI calls a
#: locality of 2 500 inhabitants or more urban; 50 000 keeps the cities at state scale.
#: (zoom below, minimum population) pairs, checked in order. [-], [inhabitants]
LOCALITY_MIN_POPULATION: tuple[tuple[int, float], ...] = ((8, 50_000.0), (10, 2_500.0))
#: At most this many features in one answer (the densest layer, localities, holds 12 200):
#: a view asking for more gets the largest first and says it was cut.
MAX_BBOX_FEATURES = 5_000
#: Polygons and lines are cut to the view grown by this fraction of its size on each side.
CLIP_MARGIN = 0.5
#: Typologies shown as INPI indigenous municipalities (``siting.parameters``'s consultation
#: trigger: A, 40 % and more indigenous population; B, under 40 % but 5 000 or more).
INDIGENOUS_TYPOLOGIES = ("A", "B")
#: Node types of the OSM grid layer that are substations (SOURCES-geo.md §2).
SUBSTATION_TYPES = ("substation", "sub_station", "station")


def simplify_tolerance_deg(zoom: int) -> float:
    """Half a pixel at ``zoom`` at the equator, in degrees of longitude. [°]

    A Web Mercator pixel spans ``360 / (256 · 2^zoom)`` degrees of longitude everywhere, so
    half of it is below what the screen can show at any latitude.
    """
    return 0.5 * 360.0 / (TILE_PX * 2 ** zoom)


@dataclass(frozen=True)
class VectorLayer:
    """One vector layer of the map.

    Attributes
    ----------
    id : str
        Name in URLs (``/api/v1/map/layers/<id>.geojson``).
    title : str
        English title (translated on the page).
    geometry : str
        ``polygon``, ``line`` or ``point``.
    datasets : tuple of str
        Layer names of ``data/manifest.json`` it is drawn from (its sources).
    properties : tuple of str
        Attributes served with each feature.
    colour : str
        Stroke or marker colour on the page (#rrggbb).
    label : str
        Property shown as the feature's name.
    """

    id: str
    title: str
    geometry: str
    datasets: tuple[str, ...]
    properties: tuple[str, ...]
    colour: str
    label: str


VECTOR_LAYERS: tuple[VectorLayer, ...] = (
    VectorLayer("corridors", "Investment corridors", "polygon", ("states",),
                ("corridor_id", "name"), "#b3005a", "name"),
    VectorLayer("states", "States (INEGI)", "polygon", ("states",),
                ("cve_ent", "nom_ent", "corridor", "pob_total"), "#333333", "nom_ent"),
    VectorLayer("municipalities", "Municipalities (INEGI)", "polygon", ("municipalities",),
                ("cvegeo", "nom_mun", "nom_ent", "pob_total"), "#6a6a6a", "nom_mun"),
    VectorLayer("grid_lines", "Transmission lines (OpenStreetMap)", "line", ("grid_lines",),
                ("voltage_kv_max", "length_km"), "#c45c00", "voltage_kv_max"),
    VectorLayer("substations", "Substations (OpenStreetMap)", "point", ("grid_nodes",),
                ("name", "voltage_kv_max", "typ"), "#7a3b00", "name"),
    VectorLayer("protected_areas", "Protected areas", "polygon",
                ("protected_areas_state", "protected_areas_federal"),
                ("nombre", "categoria", "sup_decretada_ha"), "#1b7f3a", "nombre"),
    VectorLayer("localities", "Localities (INEGI)", "point", ("localities_points",),
                ("cvegeo", "nom_loc", "nom_mun", "ambito", "pob_total"), "#3d3da8", "nom_loc"),
    VectorLayer("indigenous_municipalities", "INPI indigenous municipalities (A, B)",
                "polygon", ("municipalities", "indigenous_typology"),
                ("cvegeo", "nom_mun", "tipo_code", "pct_indigena_hogares", "tipologia_inpi"),
                "#8a2be2", "nom_mun"),
    VectorLayer("power_plants", "Existing power plants (WRI GPPD)", "point", ("power_plants",),
                ("name", "capacity_mw", "primary_fuel", "owner"), "#000000", "name"),
)
_BY_ID = {layer.id: layer for layer in VECTOR_LAYERS}


def vector_layer(layer_id: str) -> VectorLayer:
    """The layer ``layer_id`` or :class:`InvalidInput` naming ``layer`` with the known ones."""
    found = _BY_ID.get(layer_id)
    if found is None:
        raise InvalidInput(f"unknown layer {layer_id!r}; known: {', '.join(_BY_ID)}",
                           field="layer")
    return found


# --------------------------------------------------------------------------- reading


def _imported_records(settings: Mapping[str, Any]) -> dict[str, Any]:
    folder = data_service.layers_dir(settings)
    if not folder.is_dir():
        return {}
    return {r.layer: r for r in data_service.list_imported_layers(folder)}


def _load(settings: Mapping[str, Any], name: str) -> gpd.GeoDataFrame | None:
    """A layer (imported first), or None for an import-only layer that is absent."""
    data_dir, folder = Path(settings["DATA_DIR"]), data_service.layers_dir(settings)
    try:
        return data_service.load_layer(data_dir, name, layers_dir=folder)
    except data_service.DatasetError:
        if name == "protected_areas_federal":
            return None
        raise


def _frame_corridors(settings: Mapping[str, Any]) -> gpd.GeoDataFrame:
    return data_service.corridor_geometries(Path(settings["DATA_DIR"]),
                                            data_service.layers_dir(settings))


def _frame_substations(settings: Mapping[str, Any]) -> gpd.GeoDataFrame:
    nodes = _load(settings, "grid_nodes")
    return nodes[nodes["typ"].isin(SUBSTATION_TYPES)]


def _frame_protected(settings: Mapping[str, Any]) -> gpd.GeoDataFrame:
    frames = [f for f in (_load(settings, "protected_areas_state"),
                          _load(settings, "protected_areas_federal")) if f is not None]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)


def _frame_localities(settings: Mapping[str, Any]) -> gpd.GeoDataFrame:
    points = _load(settings, "localities_points")
    return points[points.geometry.notna() & ~points.geometry.is_empty]


def _frame_indigenous(settings: Mapping[str, Any]) -> gpd.GeoDataFrame:
    municipalities = _load(settings, "municipalities")[["cvegeo", "nom_mun", "geometry"]]
    typology = data_service.load_table(Path(settings["DATA_DIR"]), "indigenous_typology")
    joined = municipalities.merge(
        typology[["cvegeo", "tipo_code", "pct_indigena_hogares", "tipologia_inpi"]],
        on="cvegeo", how="inner")
    return joined[joined["tipo_code"].isin(INDIGENOUS_TYPOLOGIES)]


def _frame_plants(settings: Mapping[str, Any]) -> gpd.GeoDataFrame:
    plants = _load(settings, "power_plants")
    return plants[plants.geometry.notna() & ~plants.geometry.is_empty]


_FRAMES: Mapping[str, Callable[[Mapping[str, Any]], gpd.GeoDataFrame]] = {
    "corridors": _frame_corridors,
    "states": lambda s: _load(s, "states"),
    "municipalities": lambda s: _load(s, "municipalities"),
    "grid_lines": lambda s: _load(s, "grid_lines"),
    "substations": _frame_substations,
    "protected_areas": _frame_protected,
    "localities": _frame_localities,
    "indigenous_municipalities": _frame_indigenous,
    "power_plants": _frame_plants,
}

#: Frames kept per process, keyed by layer, zoom of simplification and imported layers.
_CACHE: LRUCache = LRUCache(maxsize=64)
_LOCK = threading.Lock()


def _imports_key(settings: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, getattr(r, "gpkg_sha256", "")) for k, r in
                        _imported_records(settings).items()))


def _frame(settings: Mapping[str, Any], layer: VectorLayer, zoom: int) -> gpd.GeoDataFrame:
    """The layer's features (EPSG:4326) with its properties, simplified for ``zoom``."""
    key = (settings["DATA_DIR"], str(data_service.layers_dir(settings)), _imports_key(settings),
           layer.id, zoom if layer.geometry != "point" else -1)
    with _LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    frame = _FRAMES[layer.id](settings)
    keep = [c for c in layer.properties if c in frame.columns]
    frame = gpd.GeoDataFrame(frame[keep], geometry=frame.geometry.values, crs=4326)
    frame = frame.reset_index(drop=True)
    if layer.geometry != "point":
        frame["geometry"] = shapely.simplify(frame.geometry.values,
                                             simplify_tolerance_deg(zoom),
                                             preserve_topology=True)
        frame = frame[~frame.geometry.is_empty]
    with _LOCK:
        _CACHE[key] = frame
    return frame


def _check_bbox(bbox: tuple[float, float, float, float]) -> None:
    west, south, east, north = bbox
    if not all(math.isfinite(v) for v in bbox):
        raise InvalidInput("bbox must be four finite numbers west,south,east,north", field="bbox")
    if not (-180.0 <= west < east <= 180.0 and -90.0 <= south < north <= 90.0):
        raise InvalidInput("bbox must be west,south,east,north with west < east and "
                           "south < north, in degrees (EPSG:4326)", field="bbox")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    if pd.isna(value):
        return None
    return str(value)


def layer_geojson(settings: Mapping[str, Any], layer_id: str, zoom: int,
                  bbox: tuple[float, float, float, float] | None = None) -> dict[str, Any]:
    """The layer's GeoJSON FeatureCollection for a view.

    Parameters
    ----------
    settings : mapping
        Fondo settings (``DATA_DIR``, ``INSTANCE_PATH``).
    layer_id : str
        One of :data:`VECTOR_LAYERS`.
    zoom : int
        The view's zoom (0-18): simplification and, for localities, the smallest place.
    bbox : (west, south, east, north), optional
        The view. [°, EPSG:4326]

    Returns
    -------
    dict
        ``type``, ``features`` (``properties`` include ``label``), ``layer``, ``zoom``,
        ``truncated`` (more than :data:`MAX_BBOX_FEATURES` met the view) and ``feature_count``.

    Raises
    ------
    InvalidInput
        Unknown layer (``layer``), zoom out of range (``zoom``), malformed ``bbox``.
    """
    layer = vector_layer(layer_id)
    if isinstance(zoom, bool) or not isinstance(zoom, int) or not 0 <= zoom <= 18:
        raise InvalidInput(f"zoom must be a whole number from 0 to 18, got {zoom!r}", field="zoom")
    frame = _frame(settings, layer, zoom)
    if bbox is not None:
        _check_bbox(bbox)
        hits = frame.sindex.query(shapely.box(*bbox), predicate="intersects")
        frame = frame.iloc[np.sort(hits)]
    if layer.id == "localities":
        for below, population in LOCALITY_MIN_POPULATION:
            if zoom < below:
                frame = frame[frame["pob_total"].fillna(0) >= population]
                break
    truncated = len(frame) > MAX_BBOX_FEATURES
    if truncated:
        order = ("pob_total" if "pob_total" in frame.columns else
                 "capacity_mw" if "capacity_mw" in frame.columns else None)
        frame = (frame.sort_values(order, ascending=False) if order else frame)
        frame = frame.head(MAX_BBOX_FEATURES)
    properties = [c for c in layer.properties if c in frame.columns]
    records = frame[properties].to_dict("records")
    geometries = frame.geometry.values
    if bbox is not None and layer.geometry != "point":
        # Clip to the view grown by half its size on each side: the cut edges stay off screen.
        west, south, east, north = bbox
        dx, dy = (east - west) * CLIP_MARGIN, (north - south) * CLIP_MARGIN
        geometries = shapely.clip_by_rect(geometries, west - dx, south - dy, east + dx,
                                          north + dy)
    geometries = shapely.to_geojson(geometries)
    features = []
    for record, geometry in zip(records, geometries, strict=True):
        props = {k: _jsonable(v) for k, v in record.items()}
        props["label"] = props.get(layer.label)
        features.append({"type": "Feature", "geometry": json.loads(geometry),
                         "properties": props})
    return {"type": "FeatureCollection", "layer": layer.id, "zoom": zoom,
            "feature_count": len(features), "truncated": truncated, "features": features}


def layer_sources(settings: Mapping[str, Any], datasets: tuple[str, ...]) -> list[dict[str, str]]:
    """Source, licence and attribution of each dataset a layer is drawn from.

    ``datasets`` holds manifest layer names or ids, or ``kind:<kind>`` for the first dataset of
    a kind (the 16 typical-year weather files share one source: ``kind:weather``).
    """
    manifest = data_service.load_manifest(Path(settings["DATA_DIR"]))
    imported = _imported_records(settings)
    out = []
    for name in datasets:
        if name in imported:
            record = imported[name]
            out.append({"layer": name, "source": record.source, "licence": record.licence,
                        "attribution": record.source, "imported": True})
            continue
        for dataset in manifest:
            if name in (dataset.layer, dataset.id) or name == f"kind:{dataset.kind}":
                out.append({"layer": name, "source": dataset.original_provider or dataset.source,
                            "licence": dataset.licence, "attribution": dataset.attribution,
                            "imported": False})
                break
    return out
