"""Does a site need an indigenous consultation, and with whom?

Notes
-----
Rule (fund decision on INPI's municipal typology, 2020):

1. Take the INEGI localities within ``max_distance_km`` of the site
   (:func:`localities_within_km`; default :data:`SCREENING_DISTANCE_KM`).
2. Each locality belongs to the municipality ``cvegeo[:5]``. A municipality *triggers*
   if its INPI type is in ``trigger_types`` — by default A ("40 % y más de población
   indígena") and B ("menos de 40 % y más de 5,000 indígenas, o pueblos con pocos
   hablantes").
3. Consultation is **required** if any nearby locality lies in a triggering
   municipality, or is in ``known_indigenous_localities`` (communities identified by
   officers or by INPI, e.g. a Kikapú or Otomí community inside a type-C municipality).
4. Otherwise, if a nearby locality lies in a type-C municipality with indigenous
   population (``pob_indigena_hogares > 0``), **review is recommended**: the typology
   is municipal and a type-C municipality can still contain an indigenous community
   (see ``data/SOURCES-geo.md``). Type D ("sin población indígena") clears only at the
   municipal level.

The triggering localities are the nearby localities of triggering municipalities
plus the known indigenous localities nearby; the municipalities are those holding them.

Why: ILO C169 art. 6 and SCJN 2a. XXVII/2016 require consulting peoples *susceptible of
being affected*; Haida Nation (2004 SCC 73, para. 35) triggers the duty on *knowledge
of a potential right*, a low threshold. The municipal typology is the only openly
published screen at hand, so it is used to trigger, never to clear.

References
----------
.. [1] INPI, Indicadores socioeconómicos de los pueblos indígenas y afromexicano 2020
   (municipal typology A-D).
.. [2] INEGI, Marco Geoestadístico (localities), see ``data/SOURCES-geo.md``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from pyproj import Transformer

__all__ = [
    "SCREENING_DISTANCE_KM",
    "DEFAULT_TRIGGER_TYPES",
    "REVIEW_TYPES",
    "DISTANCE_CRS",
    "TYPOLOGY_COLUMNS",
    "TriggerResult",
    "CommunityChange",
    "localities_within_km",
    "consultation_required",
    "apply_community_changes",
]

SCREENING_DISTANCE_KM = 10.0
"""Default screening radius around a site. [km] (fund decision: no Mexican or IFC text
fixes a distance; SENER's EVIS guidelines leave the área de influencia to each study)."""

DEFAULT_TRIGGER_TYPES = ("A", "B")
"""INPI municipal types that trigger a consultation."""

REVIEW_TYPES = ("C",)
"""INPI municipal types that call for an officer review when indigenous population > 0."""

DISTANCE_CRS = "EPSG:6372"
"""Projected CRS for distances (Mexico ITRF2008 / LCC), per the house style."""

TYPOLOGY_COLUMNS = ("cvegeo", "nom_ent", "nom_mun", "pob_indigena_hogares",
                    "pct_indigena_hogares", "tipo_code")
"""Columns needed from ``indigenous_municipal_typology_inpi2020.csv``."""



@functools.lru_cache(maxsize=1)
def _to_6372() -> Transformer:
    return Transformer.from_crs("EPSG:4326", DISTANCE_CRS, always_xy=True)


@dataclasses.dataclass(frozen=True)
class TriggerResult:
    """Outcome of :func:`consultation_required`.

    Attributes
    ----------
    required : bool
    review_recommended : bool
        No trigger, but a nearby type-C municipality has indigenous population.
    municipalities : pandas.DataFrame
        Triggering municipalities: ``cvegeo``, ``nom_ent``, ``nom_mun``, ``tipo_code``,
        ``pct_indigena_hogares`` [%], ``pob_indigena_hogares`` [persons],
        ``n_localities``, ``min_dist_km`` [km].
    localities : pandas.DataFrame
        Triggering localities: ``cvegeo``, ``nom_loc``, ``cvegeo_mun``, ``tipo_code``,
        ``dist_km`` [km], ``reason``.
    review_municipalities : pandas.DataFrame
        Same columns as ``municipalities``, for the review case.
    max_distance_km : float
        [km]
    rule : str
    """

    required: bool
    review_recommended: bool
    municipalities: pd.DataFrame
    localities: pd.DataFrame
    review_municipalities: pd.DataFrame
    max_distance_km: float
    rule: str


def localities_within_km(
    localities: pd.DataFrame, latitude: float, longitude: float, max_distance_km: float
) -> pd.DataFrame:
    """Localities within ``max_distance_km`` of a site, nearest first.

    Parameters
    ----------
    localities : pandas.DataFrame
        With ``lat`` and ``lon`` columns. [degrees, EPSG:4326]
    latitude, longitude : float
        The site. [degrees, EPSG:4326]
    max_distance_km : float
        [km]

    Returns
    -------
    pandas.DataFrame
        The matching rows plus ``dist_km`` [km], Euclidean in EPSG:6372.
    """
    for col in ("lat", "lon"):
        if col not in localities.columns:
            raise ValueError(f"localities lacks column {col!r} (EPSG:4326 degrees)")
    if not (np.isfinite(max_distance_km) and max_distance_km > 0):
        raise ValueError(f"max_distance_km must be > 0, got {max_distance_km!r}")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"site ({latitude}, {longitude}) is not a valid EPSG:4326 point")
    x, y = _to_6372().transform(localities["lon"].to_numpy(float), localities["lat"].to_numpy(float))
    x0, y0 = _to_6372().transform(longitude, latitude)
    dist_km = np.hypot(x - x0, y - y0) / 1000.0
    out = localities.assign(dist_km=dist_km)
    return out.loc[out["dist_km"] <= max_distance_km].sort_values("dist_km", kind="stable")


def _municipal_summary(typology: pd.DataFrame, near: pd.DataFrame, keys) -> pd.DataFrame:
    sel = near.loc[near["cvegeo_mun"].isin(keys)]
    agg = sel.groupby("cvegeo_mun").agg(n_localities=("cvegeo", "size"),
                                        min_dist_km=("dist_km", "min"))
    muni = typology.loc[typology["cvegeo"].isin(keys), list(TYPOLOGY_COLUMNS)]
    muni = muni.merge(agg, left_on="cvegeo", right_index=True, how="left")
    return muni.sort_values("min_dist_km", kind="stable").reset_index(drop=True)


def consultation_required(
    indigenous_typology_rows: pd.DataFrame,
    localities_within_km: pd.DataFrame,
    max_distance_km: float = SCREENING_DISTANCE_KM,
    trigger_types: Sequence[str] = DEFAULT_TRIGGER_TYPES,
    known_indigenous_localities: Iterable[str] = (),
) -> TriggerResult:
    """Apply the trigger rule (see module notes) to the localities near a site.

    Parameters
    ----------
    indigenous_typology_rows : pandas.DataFrame
        INPI municipal typology with :data:`TYPOLOGY_COLUMNS` (``cvegeo`` 5-digit text).
    localities_within_km : pandas.DataFrame
        Localities near the site with ``cvegeo`` (9-digit text), ``nom_loc`` and
        ``dist_km`` [km], e.g. from :func:`localities_within_km`. Rows farther than
        ``max_distance_km`` are ignored.
    max_distance_km : float
        [km]
    trigger_types : sequence of str
        INPI types that trigger (default A and B).
    known_indigenous_localities : iterable of str
        9-digit locality keys known to be indigenous communities.

    Returns
    -------
    TriggerResult

    Raises
    ------
    ValueError
        Missing columns, keys of the wrong length, unknown INPI types, or a locality
        whose municipality is not in the typology.
    """
    typology = indigenous_typology_rows
    near = localities_within_km
    for col in TYPOLOGY_COLUMNS:
        if col not in typology.columns:
            raise ValueError(f"indigenous_typology_rows lacks column {col!r}")
    for col in ("cvegeo", "nom_loc", "dist_km"):
        if col not in near.columns:
            raise ValueError(f"localities_within_km lacks column {col!r}")
    if not (np.isfinite(max_distance_km) and max_distance_km > 0):
        raise ValueError(f"max_distance_km must be > 0, got {max_distance_km!r}")
    bad_types = set(trigger_types) - {"A", "B", "C", "D"}
    if bad_types:
        raise ValueError(f"trigger_types must be INPI types A-D, got {sorted(bad_types)}")
    typ_keys = typology["cvegeo"].astype(str)
    if not typ_keys.str.fullmatch(r"\d{5}").all():
        raise ValueError("typology cvegeo must be 5-digit text keys (read the CSV with dtype=str)")
    typology = typology.assign(cvegeo=typ_keys)
    near = near.loc[near["dist_km"].to_numpy(float) <= max_distance_km]
    loc_keys = near["cvegeo"].astype(str)
    if not loc_keys.str.fullmatch(r"\d{9}").all():
        raise ValueError("locality cvegeo must be 9-digit text keys (read the CSV with dtype=str)")
    near = near.assign(cvegeo=loc_keys, cvegeo_mun=loc_keys.str.slice(0, 5))
    types = typology.set_index("cvegeo")["tipo_code"]
    missing = sorted(set(near["cvegeo_mun"]) - set(types.index))
    if missing:
        raise ValueError(f"municipalities {missing} of nearby localities are not in the typology")
    near = near.assign(tipo_code=near["cvegeo_mun"].map(types).to_numpy())
    known = {str(k) for k in known_indigenous_localities}
    by_type = near["tipo_code"].isin(list(trigger_types))
    by_known = near["cvegeo"].isin(known)
    hit = near.loc[by_type | by_known]
    reason = np.where(
        by_type.loc[hit.index],
        "municipio INPI tipo " + hit["tipo_code"].astype(str),
        "comunidad indígena identificada",
    )
    localities = hit.assign(reason=reason)[
        ["cvegeo", "nom_loc", "cvegeo_mun", "tipo_code", "dist_km", "reason"]
    ].reset_index(drop=True)
    municipalities = _municipal_summary(typology, near, set(hit["cvegeo_mun"]))
    required = bool(len(localities))
    pob = typology.set_index("cvegeo")["pob_indigena_hogares"]
    review_keys = set()
    if not required:
        review_keys = {
            k for k in near.loc[near["tipo_code"].isin(REVIEW_TYPES), "cvegeo_mun"]
            if pob.get(k, 0) > 0
        }
    review = _municipal_summary(typology, near, review_keys)
    rule = (
        f"localities within {max_distance_km:g} km; municipal INPI type in "
        f"{'/'.join(trigger_types)} or known indigenous locality => required; type C with "
        "indigenous population => review"
    )
    return TriggerResult(required, bool(review_keys), municipalities, localities, review,
                         float(max_distance_km), rule)


@dataclasses.dataclass(frozen=True)
class CommunityChange:
    """An officer's addition or removal of a community, with the reason recorded."""

    action: str
    cvegeo: str
    name: str
    reason: str
    officer: str


def apply_community_changes(
    communities: Sequence[str], changes: Sequence[CommunityChange]
) -> tuple[str, ...]:
    """Apply officers' additions and removals, in order, to a list of community keys.

    Raises
    ------
    ValueError
        Unknown action, empty reason or officer, adding a present key or removing an
        absent one.
    """
    current = list(dict.fromkeys(str(c) for c in communities))
    for i, ch in enumerate(changes):
        if ch.action not in ("add", "remove"):
            raise ValueError(f"change {i}: action must be 'add' or 'remove', got {ch.action!r}")
        if not ch.reason or not ch.reason.strip():
            raise ValueError(f"change {i}: a reason is required to {ch.action} {ch.cvegeo}")
        if not ch.officer or not ch.officer.strip():
            raise ValueError(f"change {i}: the officer making the change is required")
        if ch.action == "add":
            if ch.cvegeo in current:
                raise ValueError(f"change {i}: {ch.cvegeo} is already listed")
            current.append(ch.cvegeo)
        else:
            if ch.cvegeo not in current:
                raise ValueError(f"change {i}: {ch.cvegeo} is not listed")
            current.remove(ch.cvegeo)
    return tuple(current)
