"""The screening layers of a process: built once from the checksummed datasets, then reused.

:func:`screening_bundle` reads every layer the screening needs through the loaders of
:mod:`fondo.data.service` (which verify each file's SHA-256 before parsing it), hands them to
the pure :func:`siting.layers.layers_from_frames` and keeps the result for the life of the
process. The cache key is the manifest's checksums of the files used plus the provenance
(name and GeoPackage checksum) of every officer-imported layer, so replacing a bundled file
or importing a layer makes the next call rebuild, and nothing else does.

Imported layers (:func:`fondo.data.service.layers_dir`) take precedence over the bundled layer of
the same name; imported ``protected_areas_federal`` and ``extra_exclusion_<slug>`` layers,
which the bundle does not have, are applied as extra exclusions, each with its own reason.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from cachetools import LRUCache

from fondo.data.service import (
    EXTRA_EXCLUSION_PREFIX,
    layers_dir,
    list_imported_layers,
    load_dem,
    load_layer,
    load_manifest,
    load_table,
    load_wrf,
    weather_files,
)
from siting.exclusions import prepare_exclusion_layers
from siting.layers import (
    ScreeningLayers,
    WindLayer,
    layers_from_frames,
    station_table_from_weather,
)
from siting.weather import parse_epw, stack_weather

__all__ = [
    "EXTRA_EXCLUSION_LAYERS",
    "WRF_HEIGHT_M",
    "ScreeningBundle",
    "clear_screening_cache",
    "screening_bundle",
]

#: Imported layers applied as extra exclusions: federal protected areas (CONANP) and any
#: officer-defined ``extra_exclusion_<slug>`` layer (see :mod:`fondo.data.service`).
EXTRA_EXCLUSION_LAYERS: tuple[str, ...] = ("protected_areas_federal",)

#: Height above ground of the WRF wind layers when a file lacks the ``zh`` variable
#: (SOURCES-weather.md §2: the Hernández-Yepes et al. 2024 domains are at 80 m). [m]
WRF_HEIGHT_M: float = 80.0

#: Bundled datasets read by the screening (ids or layer names of ``data/manifest.json``).
_VECTOR_LAYERS: tuple[str, ...] = (
    "states", "municipalities", "grid_lines", "grid_nodes", "protected_areas_state",
    "localities_urban", "localities_points", "water_bodies", "rivers", "mx_states",
)
_TABLES: tuple[str, ...] = ("indigenous_typology", "merra2_ghi")

#: Bundles kept per process: the current one and a couple from before an import (each holds
#: the projected layers, the DEM and the station weather: about 260 MB).
MAX_BUNDLES = 3
#: Buffered exclusion layers kept per bundle, one per distinct ``params.exclusions``.
MAX_EXCLUSION_SETS = 8


@dataclass(frozen=True)
class ScreeningBundle:
    """The layers of a screening and the imported exclusion layers, with their cache key.

    Attributes
    ----------
    layers : ScreeningLayers
        Every bundled (or imported replacement) layer, vector layers in EPSG:6372.
    extra_layers : mapping of str to GeoDataFrame
        Imported exclusion layers by name (EPSG:4326).
    key : tuple
        Manifest checksums and imported-layer provenance the bundle was built from.
    imported : tuple of dict
        Provenance summary of each imported layer (``layer``, ``gpkg_sha256``, ``source``,
        ``licence``, ``imported_at``), shown with every screening.
    derived : LRUCache
        Per-bundle cache of structures derived from parameters (buffered exclusion layers),
        the :data:`MAX_EXCLUSION_SETS` most recently used.
    """

    layers: ScreeningLayers
    extra_layers: Mapping[str, gpd.GeoDataFrame]
    key: tuple
    imported: tuple[dict[str, Any], ...]
    derived: LRUCache = field(default_factory=lambda: LRUCache(maxsize=MAX_EXCLUSION_SETS),
                              compare=False, repr=False)

    def exclusion_layers(self, params: Any) -> tuple:
        """Buffered exclusion layers (bundled + imported) for ``params.exclusions``, built once."""
        cache_key = ("exclusions", params.exclusions)
        with _DERIVED_LOCK:  # held while building: two threads never buffer the same layers
            found = self.derived.get(cache_key)
            if found is None:
                layers = self.layers
                found = self.derived[cache_key] = prepare_exclusion_layers(
                    protected_areas=layers.protected_areas,
                    localities_polygons=layers.localities_polygons,
                    water_bodies=layers.water_bodies, rivers=layers.rivers, params=params.exclusions,
                    extra_layers=dict(self.extra_layers) or None,
                )
            return found


#: The bundles of this process, least recently used dropped first; the lock is held while a
#: bundle is built, so two threads never build the same ~260 MB twice.
_BUNDLES: LRUCache = LRUCache(maxsize=MAX_BUNDLES)
_BUNDLES_LOCK = threading.Lock()
_DERIVED_LOCK = threading.Lock()


def clear_screening_cache() -> None:
    """Forget the bundles built in this process."""
    with _BUNDLES_LOCK:
        _BUNDLES.clear()


def _is_extra_exclusion(layer: str) -> bool:
    return layer in EXTRA_EXCLUSION_LAYERS or layer.startswith(EXTRA_EXCLUSION_PREFIX)


def _cache_key(data_dir: Path, folder: Path) -> tuple[tuple, tuple[dict[str, Any], ...]]:
    manifest = tuple(sorted((d.id, d.sha256) for d in load_manifest(data_dir)))
    records = list_imported_layers(folder) if folder.is_dir() else []
    imported = tuple(
        {"layer": r.layer, "gpkg_sha256": r.gpkg_sha256, "source": r.source,
         "licence": r.licence, "imported_at": r.imported_at}
        for r in records
    )
    key = (str(data_dir.resolve()), manifest,
           tuple((r["layer"], r["gpkg_sha256"]) for r in imported))
    return key, imported


def _wind_layers(data_dir: Path) -> tuple[WindLayer, ...]:
    """WRF 80 m domains; annual mean = mean of the four seasonal means (SOURCES-weather.md §2)."""
    out = []
    for domain in load_wrf(data_dir):
        height_m = float(domain["zh"].values) if "zh" in domain else WRF_HEIGHT_M
        out.append(WindLayer(
            name=str(domain.attrs["fondo_dataset_id"]).rsplit("_", 1)[-1].upper(),
            latitude=domain["lat"].values.astype(float),
            longitude=domain["lon"].values.astype(float),
            wind_speed_m_s=domain["wind_speed"].values.mean(axis=0),
            height_m=height_m,
        ))
    return tuple(out)


def _station_weather(data_dir: Path):
    """Stacked typical years of the bundled stations and their station table."""
    parsed = [parse_epw(path.read_bytes(), source=path.name) for path in weather_files(data_dir)]
    weather = stack_weather([(station, frame) for frame, station in parsed])
    return weather, station_table_from_weather(weather, [station.name for _, station in parsed])


def _build(data_dir: Path, folder: Path, key: tuple,
           imported: tuple[dict[str, Any], ...]) -> ScreeningBundle:
    imports = folder if folder.is_dir() else None
    vector = {name: load_layer(data_dir, name, layers_dir=imports) for name in _VECTOR_LAYERS}
    tables = {name: load_table(data_dir, name) for name in _TABLES}
    points = vector["localities_points"]
    points = points[points.geometry.notna() & ~points.geometry.is_empty].reset_index(drop=True)
    dem_m, dem_transform, _crs = load_dem(data_dir)
    weather, stations = _station_weather(data_dir)
    layers = layers_from_frames(
        states=vector["states"], municipalities=vector["municipalities"],
        grid_lines=vector["grid_lines"], grid_nodes=vector["grid_nodes"],
        protected_areas=vector["protected_areas_state"],
        localities_polygons=vector["localities_urban"], localities_points=points,
        indigenous_typology=tables["indigenous_typology"], water_bodies=vector["water_bodies"],
        dem=dem_m, dem_transform=dem_transform, dem_nodata=None,
        wind_layers=_wind_layers(data_dir), merra2=tables["merra2_ghi"], stations=stations,
        mexico_states=vector["mx_states"], weather=weather, rivers=vector["rivers"],
    )
    extra = {
        record["layer"]: load_layer(data_dir, record["layer"], layers_dir=folder)
        for record in imported if _is_extra_exclusion(record["layer"])
    }
    return ScreeningBundle(layers=layers, extra_layers=extra, key=key, imported=imported)


def screening_bundle(settings: Mapping[str, Any]) -> ScreeningBundle:
    """The screening layers for ``settings`` (built on first use, then cached per process).

    Parameters
    ----------
    settings : mapping
        Fondo settings (``DATA_DIR``, ``INSTANCE_PATH``).

    Returns
    -------
    ScreeningBundle

    Raises
    ------
    fondo.data.service.DatasetError
        A bundled or imported file is missing or fails its checksum.
    """
    data_dir = Path(settings["DATA_DIR"])
    folder = layers_dir(settings)
    key, imported = _cache_key(data_dir, folder)
    with _BUNDLES_LOCK:
        bundle = _BUNDLES.get(key)  # marks it most recently used
        if bundle is None:
            bundle = _BUNDLES[key] = _build(data_dir, folder, key, imported)
        return bundle
