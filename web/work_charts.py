"""Charts of the work pages (finance cases, the investor dashboard), drawn on the server as
SVG with matplotlib, labelled by the caller in the page's language. Each page shows the
table behind each chart next to it (accessibility, copy and paste).

Colours are the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies): Okabe M., Ito K. (2008), *Color Universal Design*, https://jfly.uni-koeln.de/color/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fondo.studies.report_charts import render

__all__ = ["bar_lines_figure", "percentile_figure", "render", "tornado_figure"]

#: Okabe–Ito colours: blue, vermillion, bluish green, orange, reddish purple, sky blue.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9")
#: Size of a chart. [in]
CHART_WIDTH_IN, CHART_HEIGHT_IN = 8.0, 3.6
#: Resolution of the figure (the SVG is vector; this only sets text metrics). [dpi]
CHART_DPI = 100
#: Money is drawn in millions on the axes. [USD per axis unit]
MILLION = 1e6


def _figure(height_in: float = CHART_HEIGHT_IN):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(CHART_WIDTH_IN, height_in), dpi=CHART_DPI, layout="constrained")


def bar_lines_figure(years: Sequence[int], bars: Mapping[str, Sequence[float]],
                     lines: Mapping[str, Sequence[float]] | None = None, *,
                     xlabel: str, ylabel: str, title: str, scale: float = MILLION):
    """Grouped bars per year (``bars``: label → values) and optional lines, values divided
    by ``scale`` (millions of the currency by default)."""
    import numpy as np

    figure = _figure()
    ax = figure.add_subplot()
    x = np.asarray(years, dtype=float)
    n = max(len(bars), 1)
    width = 0.8 / n
    for i, (label, values) in enumerate(bars.items()):
        ax.bar(x + (i - (n - 1) / 2) * width, np.asarray(values, dtype=float) / scale, width,
               label=label, color=PALETTE[i % len(PALETTE)])
    for j, (label, values) in enumerate((lines or {}).items()):
        ax.plot(x, np.asarray(values, dtype=float) / scale, marker="o", markersize=3,
                label=label, color=PALETTE[(len(bars) + j) % len(PALETTE)])
    ax.axhline(0.0, color="#333333", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return figure


def tornado_figure(rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str], *,
                   base: float, xlabel: str, title: str, low: str, high: str):
    """Equity IRR at each driver's low and high factor, widest swing on top, around the
    base IRR (fractions drawn as %)."""
    figure = _figure(max(2.0, 0.45 * len(rows) + 1.2))
    ax = figure.add_subplot()
    ordered = sorted(rows, key=lambda r: abs(r.get("swing") or 0.0))
    for i, row in enumerate(ordered):
        for key, colour, name in (("low_irr", PALETTE[0], low), ("high_irr", PALETTE[1], high)):
            value = row.get(key)
            if value is None:
                continue
            ax.barh(i, 100.0 * (value - base), left=100.0 * base, color=colour,
                    label=name if i == 0 else None)
    ax.set_yticks(range(len(ordered)), [labels.get(r["driver"], r["driver"]) for r in ordered])
    ax.axvline(100.0 * base, color="#333333", linewidth=1.0)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return figure


def percentile_figure(percentiles: Mapping[str, float], *, marked: Sequence[str],
                      xlabel: str, ylabel: str, title: str, as_percent: bool = True):
    """A distribution drawn from its percentiles (``p5`` … ``p95``): the cumulative
    probability at each, with ``marked`` (e.g. P10, P50, P90) drawn as labelled lines."""
    figure = _figure(3.0)
    ax = figure.add_subplot()
    points = sorted((int(k[1:]), v) for k, v in percentiles.items()
                    if k.startswith("p") and k[1:].isdigit() and v is not None)
    factor = 100.0 if as_percent else 1.0
    ax.plot([factor * v for _, v in points], [p for p, _ in points], marker="o",
            color=PALETTE[0])
    for i, key in enumerate(marked):
        value = percentiles.get(key.lower())
        if value is None:
            continue
        ax.axvline(factor * value, color=PALETTE[1 + i % 3], linestyle="--", linewidth=1.2)
        ax.annotate(f"{key.upper()}", (factor * value, 95 - 12 * i), fontsize="small",
                    xytext=(3, 0), textcoords="offset points")
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return figure
