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
   municipality, or is in ``known_indigenous_localities`` (indigenous or Afro-Mexican
   communities identified by officers or by INPI, e.g. a Kikapú or Otomí community
   inside a type-C municipality).
4. Otherwise **identification is required** if any nearby locality lies in a
   municipality of another type (C or D) with indigenous population
   (``pob_indigena_hogares > 0``), or has indigenous population itself
   (``indigenous_population_by_locality``, e.g. census speakers of indigenous languages
   per locality): the fund must identify at locality level whether a community may be
   affected, and record the evidence and who decided. The typology is municipal, so it
   never clears a site on its own (see ``data/SOURCES-geo.md``).
5. Otherwise consultation is **not required**: no nearby locality has indigenous
   population in the data at hand.

The outcome is three-valued (:class:`Requirement`). The depth of consultation (Haida
Nation, para. 43-45) shapes the process once it is owed; it never enters this rule.

The triggering localities are the nearby localities of triggering municipalities
plus the known indigenous localities nearby; the municipalities are those holding them.

Why: ILO C169 art. 6 requires consulting peoples whenever measures "may affect them
directly"; the SCJN's jurisprudence 2a./J. 11/2023 (11a.) requires consultation on the
mere *possibility* of affectation of an indigenous or Afro-Mexican community (not its
proof); Haida Nation (2004 SCC 73, para. 35) triggers the duty on *knowledge of a
potential right*, a low threshold. The municipal typology is the only openly
published screen at hand, so it is used to trigger, never to clear.

References
----------
.. [1] INPI, Indicadores socioeconómicos de los pueblos indígenas y afromexicano 2020
   (municipal typology A-D).
.. [2] INEGI, Marco Geoestadístico (localities), see ``data/SOURCES-geo.md``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from pyproj import Transformer

__all__ = [
    "SCREENING_DISTANCE_KM",
    "DEFAULT_TRIGGER_TYPES",
    "REVIEW_TYPES",
    "IDENTIFICATION_TYPES",
    "Requirement",
    "requirement_for_municipality",
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

IDENTIFICATION_TYPES = ("C", "D")
"""INPI municipal types that call for a locality-level identification when the
municipality (or the locality) has indigenous population > 0."""

REVIEW_TYPES = IDENTIFICATION_TYPES
"""Former name of :data:`IDENTIFICATION_TYPES` (protocol version 1 called it "review")."""


class Requirement(str, enum.Enum):
    """Three-valued outcome of the trigger rule (protocol version 2)."""

    REQUIRED = "required"
    IDENTIFICATION_REQUIRED = "identification_required"
    NOT_REQUIRED = "not_required"

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
        ``requirement == "required"``.
    review_recommended : bool
        ``requirement == "identification_required"`` (protocol version 1's name).
    municipalities : pandas.DataFrame
        Triggering municipalities: ``cvegeo``, ``nom_ent``, ``nom_mun``, ``tipo_code``,
        ``pct_indigena_hogares`` [%], ``pob_indigena_hogares`` [persons],
        ``n_localities``, ``min_dist_km`` [km].
    localities : pandas.DataFrame
        Triggering localities: ``cvegeo``, ``nom_loc``, ``cvegeo_mun``, ``tipo_code``,
        ``dist_km`` [km], ``reason``.
    review_municipalities : pandas.DataFrame
        Same columns as ``municipalities``, for the identification case: the nearby
        municipalities of types C/D with indigenous population, or holding a nearby
        locality with indigenous population.
    max_distance_km : float
        [km]
    rule : str
    requirement : str
        A :class:`Requirement` value.
    """

    required: bool
    review_recommended: bool
    municipalities: pd.DataFrame
    localities: pd.DataFrame
    review_municipalities: pd.DataFrame
    max_distance_km: float
    rule: str
    requirement: str = Requirement.NOT_REQUIRED.value

    @property
    def identification_municipalities(self) -> pd.DataFrame:
        """The municipalities that call for identification (alias of ``review_municipalities``)."""
        return self.review_municipalities


def requirement_for_municipality(tipo_code: str, pob_indigena_hogares: float,
                                 trigger_types: Sequence[str] = DEFAULT_TRIGGER_TYPES) -> str:
    """The requirement for a project known only by its municipality (no site to measure).

    Parameters
    ----------
    tipo_code : str
        INPI type (A-D) of the municipality.
    pob_indigena_hogares : float
        Population in indigenous households of the municipality. [persons]
    trigger_types : sequence of str

    Returns
    -------
    str
        ``"required"`` for a triggering type; otherwise ``"identification_required"``:
        without a site, the localities within the distance (which may lie in a
        neighbouring municipality) are unknown, so the typology cannot clear.
    """
    if tipo_code not in ("A", "B", "C", "D"):
        raise ValueError(f"tipo_code must be an INPI type A-D, got {tipo_code!r}")
    if not np.isfinite(pob_indigena_hogares) or pob_indigena_hogares < 0:
        raise ValueError(f"pob_indigena_hogares must be >= 0, got {pob_indigena_hogares!r}")
    if tipo_code in trigger_types:
        return Requirement.REQUIRED.value
    return Requirement.IDENTIFICATION_REQUIRED.value


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
    indigenous_population_by_locality: Mapping[str, float] | None = None,
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
        9-digit locality keys known to be indigenous or Afro-Mexican communities.
    indigenous_population_by_locality : mapping of str to float, optional
        Indigenous population per 9-digit locality key (e.g. census speakers of an
        indigenous language); a nearby locality with a positive count calls for
        identification whatever its municipality's type. [persons]

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
        by_locality = {str(k): float(v) for k, v in (indigenous_population_by_locality or {}).items()}
        bad = [k for k, v in by_locality.items() if not (np.isfinite(v) and v >= 0)]
        if bad:
            raise ValueError(f"indigenous_population_by_locality must be >= 0, got it for {bad[:3]}")
        other = near.loc[~near["tipo_code"].isin(list(trigger_types))]
        review_keys = {k for k in other["cvegeo_mun"] if pob.get(k, 0) > 0}
        review_keys |= {m for c, m in zip(other["cvegeo"], other["cvegeo_mun"])
                        if by_locality.get(c, 0) > 0}
    review = _municipal_summary(typology, near, review_keys)
    requirement = (Requirement.REQUIRED if required else
                   Requirement.IDENTIFICATION_REQUIRED if review_keys else
                   Requirement.NOT_REQUIRED).value
    rule = (
        f"localities within {max_distance_km:g} km; municipal INPI type in "
        f"{'/'.join(trigger_types)} or known indigenous or Afro-Mexican locality => required; "
        "other types with indigenous population (municipality or locality) => identification "
        "required; otherwise not required"
    )
    return TriggerResult(required, bool(review_keys), municipalities, localities, review,
                         float(max_distance_km), rule, requirement)


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
