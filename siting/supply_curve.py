"""Supply curves: cumulative available capacity against LCOE, per corridor and technology.

A cell offers ``capacity_mw = available_area_km2 * power density`` (Lopez et
al. 2012 densities, :mod:`siting.parameters`) at its
``lcoe_usd_per_mwh``.  Sorting the non-excluded cells by LCOE and summing
their capacity gives the supply curve (as in NREL reV's supply-curve
module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import io

import numpy as np
import pandas as pd

from siting.parameters import CORRIDOR_STATES

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not at start-up
    from matplotlib.figure import Figure

__all__ = ["MWH_PER_GWH", "SUPPLY_CURVE_COLUMNS", "corridor_of_state", "supply_curve", "supply_curve_figure", "figure_png"]

#: MWh per GWh.
MWH_PER_GWH = 1000.0
#: Columns of :func:`supply_curve`.
SUPPLY_CURVE_COLUMNS = (
    "corridor",
    "technology",
    "cell_id",
    "lcoe_usd_per_mwh",
    "capacity_mw",
    "energy_gwh_per_year",
    "cumulative_capacity_mw",
    "cumulative_energy_gwh_per_year",
)


def corridor_of_state(state_cve_ent) -> np.ndarray:
    """Corridor name (``bajio`` / ``noreste``) of INEGI state keys (``None`` elsewhere)."""
    lookup = {s: c for c, states in CORRIDOR_STATES.items() for s in states}
    keys = pd.Series(np.asarray(state_cve_ent, dtype=object)).astype(object)
    mapped = keys.map(lookup)
    return np.where(mapped.isna(), None, mapped).astype(object)


def supply_curve(screened: pd.DataFrame, *, by_corridor: bool = True) -> pd.DataFrame:
    """Supply curve table of a screening.

    Parameters
    ----------
    screened : DataFrame
        Output of :func:`siting.screening.screen_cells` (``cell_id``,
        ``technology``, ``excluded``, ``capacity_mw``, ``lcoe_usd_per_mwh``,
        ``energy_mwh_per_mw``, ``state_cve_ent``).
    by_corridor : bool
        One curve per corridor (``True``) or one for the whole screening
        (``corridor = "all"``).

    Returns
    -------
    DataFrame
        :data:`SUPPLY_CURVE_COLUMNS`, each curve sorted by LCOE ascending
        (ties by ``cell_id``), with running sums of capacity [MW] and annual
        energy [GWh/yr].  Excluded cells and cells without a finite LCOE are
        left out.

    Examples
    --------
    >>> df = pd.DataFrame({"cell_id": ["a", "b"], "technology": "pv", "excluded": [False, False],
    ...                    "capacity_mw": [48.0, 48.0], "lcoe_usd_per_mwh": [40.0, 30.0],
    ...                    "energy_mwh_per_mw": [1800.0, 1900.0], "state_cve_ent": ["11", "11"]})
    >>> supply_curve(df)["cumulative_capacity_mw"].tolist()
    [48.0, 96.0]
    """
    need = ("cell_id", "technology", "excluded", "capacity_mw", "lcoe_usd_per_mwh", "energy_mwh_per_mw", "state_cve_ent")
    missing = [c for c in need if c not in screened.columns]
    if missing:
        raise ValueError(f"screened lacks column(s) {missing}")
    ok = (~screened["excluded"].to_numpy(bool)) & np.isfinite(screened["lcoe_usd_per_mwh"].to_numpy(float))
    ok &= screened["capacity_mw"].to_numpy(float) > 0
    df = pd.DataFrame(
        {
            "corridor": corridor_of_state(screened["state_cve_ent"]) if by_corridor else "all",
            "technology": screened["technology"].to_numpy(),
            "cell_id": screened["cell_id"].to_numpy(),
            "lcoe_usd_per_mwh": screened["lcoe_usd_per_mwh"].to_numpy(float),
            "capacity_mw": screened["capacity_mw"].to_numpy(float),
            "energy_gwh_per_year": screened["capacity_mw"].to_numpy(float)
            * screened["energy_mwh_per_mw"].to_numpy(float) / MWH_PER_GWH,
        }
    )[ok]
    df = df[df["corridor"].notna()]
    df = df.sort_values(["corridor", "technology", "lcoe_usd_per_mwh", "cell_id"], kind="stable")
    grouped = df.groupby(["corridor", "technology"], sort=False)
    df["cumulative_capacity_mw"] = grouped["capacity_mw"].cumsum()
    df["cumulative_energy_gwh_per_year"] = grouped["energy_gwh_per_year"].cumsum()
    return df.reset_index(drop=True)[list(SUPPLY_CURVE_COLUMNS)]


def supply_curve_figure(curve: pd.DataFrame, *, title: str = "Supply curve") -> Figure:
    """Step plot of LCOE against cumulative capacity, one line per corridor and technology.

    Parameters
    ----------
    curve : DataFrame
        From :func:`supply_curve` (possibly several technologies concatenated).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Built with the object API (no pyplot state).
    """
    from matplotlib.figure import Figure  # heavy: only when a figure is drawn

    fig = Figure(figsize=(8, 5), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    for (corridor, tech), g in curve.groupby(["corridor", "technology"], sort=True):
        x = np.concatenate([[0.0], g["cumulative_capacity_mw"].to_numpy(float)]) / MWH_PER_GWH
        y = np.concatenate([g["lcoe_usd_per_mwh"].to_numpy(float)[:1], g["lcoe_usd_per_mwh"].to_numpy(float)])
        ax.step(x, y, where="pre", label=f"{corridor} – {tech}")
    ax.set_xlabel("Cumulative available capacity [GW]")
    ax.set_ylabel("LCOE incl. grid connection [USD/MWh]")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if len(curve):
        ax.legend()
    return fig


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (in-memory; no file I/O)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
