"""The screening summary's supply-curve chart (SVG) and the table printed beside it.

The curve is :func:`siting.supply_curve.supply_curve` as the screening exports it
(``supply-curve.csv``); the chart is drawn with matplotlib's object API (no pyplot state) as
SVG, with the axis labels handed in by the page in its language; the table gives, at each
LCOE threshold, the capacity and energy available at or below it per corridor — the numbers
the chart shows, for those who cannot see it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["NICE_STEPS_USD_PER_MWH", "supply_curve_svg", "supply_curve_table"]

#: Spacings the table's LCOE thresholds may take. [USD/MWh]
NICE_STEPS_USD_PER_MWH = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
#: Most thresholds in the table (the step widens beyond). [-]
MAX_TABLE_ROWS = 15
#: MW per GW.
MW_PER_GW = 1000.0


def supply_curve_svg(curve: pd.DataFrame, labels: Mapping[str, str]) -> bytes:
    """SVG of LCOE against cumulative available capacity, one step line per corridor.

    Parameters
    ----------
    curve : DataFrame
        ``corridor``, ``lcoe_usd_per_mwh``, ``cumulative_capacity_mw`` (sorted by LCOE within
        each corridor, as :func:`siting.supply_curve.supply_curve` returns them).
    labels : mapping
        ``title``, ``x`` and ``y``: the chart's texts in the page's language.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415  (heavy: only when drawn)

    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    for corridor, group in curve.groupby("corridor", sort=True):
        x = np.concatenate([[0.0], group["cumulative_capacity_mw"].to_numpy(float)]) / MW_PER_GW
        lcoe = group["lcoe_usd_per_mwh"].to_numpy(float)
        ax.step(x, np.concatenate([lcoe[:1], lcoe]), where="pre", label=str(corridor))
    ax.set_xlabel(labels["x"])
    ax.set_ylabel(labels["y"])
    ax.set_title(labels["title"])
    ax.grid(True, alpha=0.3)
    if len(curve):
        ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _thresholds(lcoe: np.ndarray) -> np.ndarray:
    """Round LCOE thresholds spanning the curve: the finest step of :data:`NICE_STEPS` that
    keeps the table within :data:`MAX_TABLE_ROWS` rows. [USD/MWh]"""
    if lcoe.size == 0:
        return np.array([])
    low, high = float(lcoe.min()), float(lcoe.max())
    step = next((s for s in NICE_STEPS_USD_PER_MWH if (high - low) / s <= MAX_TABLE_ROWS - 1),
                NICE_STEPS_USD_PER_MWH[-1])
    first = math.floor(low / step) * step + step
    last = math.ceil(high / step) * step
    return np.arange(first, max(first, last) + step / 2, step)


def supply_curve_table(curve: pd.DataFrame) -> tuple[Sequence[str], list[dict]]:
    """Capacity [MW] and energy [GWh/yr] at or below each LCOE threshold, per corridor.

    Returns
    -------
    (corridors, rows)
        ``rows``: ``{"lcoe_max_usd_per_mwh", "<corridor>": {"capacity_mw",
        "energy_gwh_per_year"}}`` for each threshold, ascending.
    """
    corridors = sorted(curve["corridor"].astype(str).unique()) if len(curve) else []
    rows = []
    for threshold in _thresholds(curve["lcoe_usd_per_mwh"].to_numpy(float)):
        row: dict = {"lcoe_max_usd_per_mwh": float(threshold)}
        for corridor in corridors:
            part = curve[(curve["corridor"].astype(str) == corridor)
                         & (curve["lcoe_usd_per_mwh"] <= threshold)]
            row[corridor] = {"capacity_mw": float(part["capacity_mw"].sum()),
                             "energy_gwh_per_year": float(part["energy_gwh_per_year"].sum())}
        rows.append(row)
    return corridors, rows
