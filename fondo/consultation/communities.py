"""Who must be heard: the siting rule run on the bundled INPI typology and INEGI localities.

The rule itself is :mod:`consultation.trigger` (pure); this module reads its two datasets
from the data directory (layer names in ``data/manifest.json``), finds the project's site
and turns the rule's answer into the community rows a consultation stores.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from cachetools import LRUCache, cached

from consultation import trigger as tg
from fondo.data.service import load_table, table_sha256
from fondo.errors import InvalidInput, invalid_from
from fondo.fund.service import Project

#: Trigger answers kept per process, by site, distance and known localities: the rule costs
#: ~50 ms of pandas per site, and the pipeline board asks it for every card on every load.
TRIGGER_CACHE_ENTRIES = 1024
_TRIGGER_RESULTS: LRUCache = LRUCache(maxsize=TRIGGER_CACHE_ENTRIES)
_TRIGGER_LOCK = threading.Lock()
#: Datasets (layer names in ``data/manifest.json``) the trigger rule reads.
TYPOLOGY_LAYER = "indigenous_typology"
LOCALITIES_LAYER = "localities_points"


def _with_coordinates(localities: pd.DataFrame) -> pd.DataFrame:
    return localities.loc[localities["lat"].notna() & localities["lon"].notna()]


def load_datasets(settings: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The municipal typology and the localities that have coordinates."""
    data_dir = Path(settings["DATA_DIR"])
    typology = load_table(data_dir, TYPOLOGY_LAYER)
    return typology, _with_coordinates(load_table(data_dir, LOCALITIES_LAYER))


def site_point(project: Project) -> tuple[float, float]:
    """(latitude, longitude) of the centroid of the project's site. [degrees, EPSG:4326]"""
    if project.site is None or project.site.geometry is None:
        raise InvalidInput(f"project {project.id} has no site to screen", field="project_id")
    point = project.site.geometry.centroid
    return float(point.y), float(point.x)


def run_trigger(settings: Mapping[str, Any], project: Project, max_distance_km: float,
                known: list[str]) -> tuple[tg.TriggerResult, float, float, pd.DataFrame]:
    """The siting rule on the bundled INPI typology and INEGI localities near the project."""
    lat, lon = site_point(project)
    data_dir = Path(settings["DATA_DIR"])
    # keyed by the tables' checksums, verified on every call as the loaders verify them
    result, typology = _trigger_at(
        table_sha256(data_dir, TYPOLOGY_LAYER), table_sha256(data_dir, LOCALITIES_LAYER),
        lat, lon, float(max_distance_km), tuple(sorted(known)), settings)
    return result, lat, lon, typology.copy()


@cached(_TRIGGER_RESULTS, lock=_TRIGGER_LOCK,
        key=lambda typology_sha, localities_sha, lat, lon, distance, known, settings:
        (typology_sha, localities_sha, lat, lon, distance, known))
def _trigger_at(typology_sha: str, localities_sha: str, lat: float, lon: float,
                max_distance_km: float, known: tuple[str, ...],
                settings: Mapping[str, Any]) -> tuple[tg.TriggerResult, pd.DataFrame]:
    """The rule's answer at a site over the tables of those checksums (kept per process)."""
    typology, localities = load_datasets(settings)
    near = tg.localities_within_km(localities, lat, lon, max_distance_km)
    try:
        result = tg.consultation_required(typology, near, max_distance_km=max_distance_km,
                                          known_indigenous_localities=list(known))
    except ValueError as exc:
        raise invalid_from(exc, "project_id") from None
    return result, typology


def community_rows(result: tg.TriggerResult, typology: pd.DataFrame) -> list[dict]:
    """The localities the rule found, as the consultation stores its communities."""
    names = typology.set_index("cvegeo")
    out = []
    for row in result.localities.itertuples(index=False):
        mun = names.loc[row.cvegeo_mun] if row.cvegeo_mun in names.index else None
        out.append({"cvegeo": row.cvegeo, "name": row.nom_loc, "cvegeo_mun": row.cvegeo_mun,
                    "municipality": None if mun is None else str(mun["nom_mun"]),
                    "state": None if mun is None else str(mun["nom_ent"]),
                    "tipo_code": str(row.tipo_code), "dist_km": round(float(row.dist_km), 3),
                    "reason": str(row.reason), "source": "trigger"})
    return out


def officer_community(settings: Mapping[str, Any], cvegeo: str, name: str | None,
                      reason: str) -> dict[str, Any]:
    """The community row of a locality an officer adds (it must be in the bundled data)."""
    typology, localities = load_datasets(settings)
    match = localities.loc[localities["cvegeo"] == cvegeo]
    if match.empty:
        raise InvalidInput(f"no INEGI locality {cvegeo} in the bundled localities", field="cvegeo")
    loc = match.iloc[0]
    mun = typology.loc[typology["cvegeo"] == cvegeo[:5]]
    return {"cvegeo": cvegeo, "name": str(name or loc["nom_loc"]),
            "cvegeo_mun": cvegeo[:5], "municipality": str(loc["nom_mun"]),
            "state": str(loc["nom_ent"]),
            "tipo_code": str(mun["tipo_code"].iloc[0]) if len(mun) else None,
            "dist_km": None, "reason": reason, "source": "officer"}


def municipalities(communities: list[dict]) -> list[dict]:
    """The municipalities of a list of communities, each with how many localities it has."""
    seen: dict[str, dict] = {}
    for c in communities:
        key = c.get("cvegeo_mun") or c["cvegeo"][:5]
        entry = seen.setdefault(key, {"cvegeo": key, "name": c.get("municipality"),
                                      "state": c.get("state"), "tipo_code": c.get("tipo_code"),
                                      "n_localities": 0})
        entry["n_localities"] += 1
    return list(seen.values())
