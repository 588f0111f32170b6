"""Communities: which cells call for an indigenous-consultation review.

Rule (parameters in :class:`siting.parameters.ConsultationParameters`):
``consultation_required`` is true when

(a) the cell's municipality has an INPI 2020 typology in
    ``trigger_typology`` (default A: >= 40 % of the population in indigenous
    households; B: < 40 % but more than 5,000 indigenous people), or
(b) an INEGI locality of such a municipality lies within ``radius_km`` of the
    cell centre (a project near a municipal border affects the neighbours).

The localities that trigger (b) are listed, nearest first (at most
``max_localities_listed``), as ``"cvegeo nom_loc"``.  The typology is
municipal, so type C or D is not a clearance (SOURCES-geo.md §4); the rule is
a screening trigger for the consultation protocol, which decides.

``consultation_requirement`` is the protocol's three-valued answer (version 2,
:class:`consultation.trigger.Requirement`): ``"required"`` as above;
``"identification_required"`` when the cell's municipality, or a locality
within ``radius_km``, is of an INPI type in :data:`IDENTIFICATION_TYPOLOGY`
(type C: less than 40 % and fewer than 5,000 indigenous people, but some);
``"not_required"`` otherwise (type D is "sin población indígena", 0 people in
indigenous households in the 2020 census).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from siting.exclusions import row_codes
from siting.parameters import PROJECTED_CRS, ConsultationParameters

__all__ = ["M_PER_KM", "IDENTIFICATION_TYPOLOGY", "TriggerLocalities", "trigger_localities",
           "consultation_columns"]

#: Metres per kilometre.
M_PER_KM = 1000.0
#: INPI types with indigenous population below the trigger: a locality-level identification
#: is required (consultation protocol version 2; SCJN 2a./J. 11/2023, possibility of affectation).
IDENTIFICATION_TYPOLOGY = ("C",)


@dataclass(frozen=True)
class TriggerLocalities:
    """Localities whose municipality's typology triggers consultation.

    Attributes
    ----------
    xy_m : ndarray (n, 2)
        Coordinates in EPSG:6372. [m]
    labels : ndarray of str (n,)
        ``"cvegeo nom_loc"``.
    tree : cKDTree or None
        Tree over ``xy_m`` (None when there is none).
    """

    xy_m: np.ndarray
    labels: np.ndarray
    tree: cKDTree | None
    identification_tree: cKDTree | None = None


def trigger_localities(
    localities_points: gpd.GeoDataFrame, params: ConsultationParameters = ConsultationParameters()
) -> TriggerLocalities:
    """Select the triggering localities (``inpi_tipo_mun`` in the trigger typology).

    Parameters
    ----------
    localities_points : GeoDataFrame
        INEGI locality points with ``cvegeo``, ``nom_loc``, ``inpi_tipo_mun``. [EPSG:6372]
    params : ConsultationParameters

    Returns
    -------
    TriggerLocalities
    """
    if localities_points.crs != PROJECTED_CRS:
        raise ValueError(f"localities_points must be in {PROJECTED_CRS}, got {localities_points.crs}")
    sel = localities_points[localities_points["inpi_tipo_mun"].isin(params.trigger_typology)]
    geoms = np.asarray(sel.geometry.values)
    sel = sel[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    xy = shapely.get_coordinates(sel.geometry.values)
    labels = (sel["cvegeo"].astype(str) + " " + sel["nom_loc"].astype(str)).to_numpy().astype(str)
    ident = localities_points[localities_points["inpi_tipo_mun"].isin(IDENTIFICATION_TYPOLOGY)]
    igeoms = np.asarray(ident.geometry.values)
    ident = ident[~(shapely.is_missing(igeoms) | shapely.is_empty(igeoms))]
    ixy = shapely.get_coordinates(ident.geometry.values)
    return TriggerLocalities(xy, labels, cKDTree(xy) if len(xy) else None,
                             cKDTree(ixy) if len(ixy) else None)


def consultation_columns(
    x_m, y_m, municipality_typology, triggers: TriggerLocalities,
    params: ConsultationParameters = ConsultationParameters(),
) -> pd.DataFrame:
    """Consultation flag, reason and triggering localities per cell.

    Parameters
    ----------
    x_m, y_m : array_like
        Cell centres in EPSG:6372. [m]
    municipality_typology : array_like of str
        INPI ``tipo_code`` of each cell's municipality (missing allowed).
    triggers : TriggerLocalities
        From :func:`trigger_localities` with the same ``params``.
    params : ConsultationParameters

    Returns
    -------
    DataFrame
        ``consultation_required`` (bool), ``consultation_reason`` (str),
        ``consultation_localities`` (str, ``"; "``-separated, nearest first),
        ``consultation_locality_count`` (int, all within the radius),
        ``consultation_requirement`` (str: required, identification_required, not_required).
    """
    x = np.ravel(np.asarray(x_m, dtype=float))
    y = np.ravel(np.asarray(y_m, dtype=float))
    n = x.size
    typ = pd.Series(np.asarray(municipality_typology, dtype=object)).fillna("").astype(str).to_numpy()
    by_municipality = np.isin(typ, params.trigger_typology)
    radius_m = params.radius_km * M_PER_KM
    k = max(1, int(params.max_localities_listed))
    if triggers.tree is None or n == 0:
        count = np.zeros(n, dtype=np.int64)
        idx = np.zeros((n, k), dtype=np.int64)
        sentinel = 0
    else:
        pts = np.column_stack([x, y])
        count = np.asarray(triggers.tree.query_ball_point(pts, r=radius_m, return_length=True), dtype=np.int64)
        _, idx = triggers.tree.query(pts, k=k, distance_upper_bound=radius_m)
        idx = np.asarray(idx).reshape(n, k)
        sentinel = len(triggers.labels)
    by_nearby = count > 0
    if triggers.identification_tree is None or n == 0:
        ident_nearby = np.zeros(n, dtype=bool)
    else:
        ident_nearby = np.asarray(triggers.identification_tree.query_ball_point(
            np.column_stack([x, y]), r=radius_m, return_length=True)) > 0
    required = by_municipality | by_nearby
    identification = ~required & (np.isin(typ, IDENTIFICATION_TYPOLOGY) | ident_nearby)
    codes_typ, typ_uniques = pd.factorize(typ)
    key = np.column_stack([idx, count, codes_typ])
    inverse, first = row_codes(key)
    group = "/".join(params.trigger_typology)
    listed_u, reason_u = [], []
    for row, c, t in zip(idx[first], count[first], typ[first]):  # distinct combinations, not cells
        listed_u.append("; ".join(str(triggers.labels[j]) for j in row if j < sentinel))
        parts = []
        if t in params.trigger_typology:
            parts.append(f"municipality INPI type {t}")
        if c > 0:
            parts.append(f"{c} locality(ies) of type-{group} municipalities within {params.radius_km:g} km")
        reason_u.append("; ".join(parts))
    listed = np.asarray(listed_u, dtype=object)[inverse] if n else np.zeros(0, dtype=object)
    reason = np.asarray(reason_u, dtype=object)[inverse] if n else np.zeros(0, dtype=object)
    return pd.DataFrame(
        {
            "consultation_required": required,
            "consultation_reason": reason,
            "consultation_localities": listed,
            "consultation_locality_count": count,
            "consultation_requirement": np.select(
                [required, identification], ["required", "identification_required"],
                default="not_required").astype(object),
        }
    )
