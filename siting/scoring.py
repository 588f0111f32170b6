"""The screening score of a cell and the rank of the cells of a run.

:func:`score_cells` weighs LCOE, distance to the grid, consultation and
resource confidence with the policy weights of
:class:`siting.parameters.ScoreWeights`; :func:`rank_cells` orders the
scored cells, 1 = best.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.parameters import ScreeningParameters

__all__ = ["rank_cells", "score_cells"]


def score_cells(cells: pd.DataFrame, params: ScreeningParameters) -> np.ndarray:
    """Weighted screening score in [0, 1] (NaN for excluded cells).

    Parameters
    ----------
    cells : DataFrame
        ``lcoe_usd_per_mwh``, ``dist_line_km``, ``consultation_required``,
        ``resource_confidence``, ``available_fraction``, ``excluded``.
    params : ScreeningParameters
        ``weights`` (:class:`siting.parameters.ScoreWeights`).

    Returns
    -------
    ndarray
        See :class:`~siting.parameters.ScoreWeights` for the formula.

    Notes
    -----
    ``score = (w_lcoe s_lcoe + w_grid s_grid + w_community s_community
    + w_confidence resource_confidence + w_available_area available_fraction) / Σw`` with
    ``s_lcoe = clip((lcoe_worst - lcoe) / (lcoe_worst - lcoe_best), 0, 1)``
    (0 where the LCOE is NaN), ``s_grid = clip(1 - dist_line_km /
    grid_distance_worst_km, 0, 1)`` and ``s_community = 0`` when
    consultation is required, else 1.
    """
    w = params.weights
    total = w.lcoe + w.grid + w.community + w.confidence + w.available_area
    if total <= 0 or min(w.lcoe, w.grid, w.community, w.confidence, w.available_area) < 0:
        raise ValueError("score weights must be >= 0 with a positive sum")
    lcoe = cells["lcoe_usd_per_mwh"].to_numpy(float)
    s_lcoe = np.clip((w.lcoe_worst_usd_per_mwh - lcoe) / (w.lcoe_worst_usd_per_mwh - w.lcoe_best_usd_per_mwh), 0, 1)
    s_lcoe = np.where(np.isfinite(lcoe), s_lcoe, 0.0)
    s_grid = np.clip(1 - cells["dist_line_km"].to_numpy(float) / w.grid_distance_worst_km, 0, 1)
    s_comm = np.where(cells["consultation_required"].to_numpy(bool), 0.0, 1.0)
    conf = cells["resource_confidence"].to_numpy(float)
    s_area = np.clip(cells["available_fraction"].to_numpy(float), 0, 1)
    score = (w.lcoe * s_lcoe + w.grid * s_grid + w.community * s_comm + w.confidence * conf
             + w.available_area * s_area) / total
    return np.where(cells["excluded"].to_numpy(bool), np.nan, score)


def rank_cells(cells: gpd.GeoDataFrame, *, inplace: bool = False) -> gpd.GeoDataFrame:
    """Rank by score, 1 = best; excluded (NaN score) cells get no rank. Ties by lattice position (``ix``, ``iy``).

    ``inplace=True`` writes ``rank`` into ``cells`` (a frame the caller has just built) instead of a copy.
    """
    out = cells if inplace else cells.copy()
    order = np.lexsort((out["iy"].to_numpy(), out["ix"].to_numpy(), -np.nan_to_num(out["score"].to_numpy(float), nan=-np.inf)))
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = pd.array(np.where(np.isfinite(out["score"].to_numpy(float)), rank, 0), dtype="Int64")
    out.loc[~np.isfinite(out["score"].to_numpy(float)), "rank"] = pd.NA
    return out
