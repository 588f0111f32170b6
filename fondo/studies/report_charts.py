"""The tables and charts of a yield study, shared by the PDF report and the study pages.

Each chart has the table it is drawn from: :func:`loss_steps` (the loss waterfall),
:func:`month_hour_table` (the heatmap), :func:`monthly_resource` (irradiance, wind and
temperature by month) and :func:`degradation_table` (energy over the plant's life). The
figures are matplotlib ``Figure`` objects (no pyplot state), written as PNG for the PDF
and as SVG, with its text kept as text, for the pages. Labels arrive as arguments so the
pages draw them in the reader's language; the defaults are English.

A loss step's ``energy_kwh`` in a study's result is the energy **lost** at that step; each
step's ``fraction`` is taken of the energy before it, so the energy before the first step
is the final energy plus every step's loss (:func:`loss_steps`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Month labels of the monthly tables.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Operating life over which the report shows degradation. [year] Source: NREL Annual
#: Technology Baseline 2023, 30-year technical life of utility-scale PV and land-based wind.
REPORT_LIFE_YEARS = 30
#: Colours: energy kept, energy lost, final energy (Okabe–Ito palette, colour-blind safe).
COLOR_KEPT, COLOR_LOST, COLOR_FINAL = "#0072B2", "#D55E00", "#009E73"
#: Resolution of the PNG charts of the PDF report. [dpi]
PNG_DPI = 150


@dataclass(frozen=True)
class LossStep:
    """One step of the loss tree with the energy before and after it."""

    name: str
    fraction: float  #: share of the energy before the step that is lost [fraction]
    energy_lost_kwh: float  #: [kWh]
    energy_before_kwh: float  #: [kWh]
    energy_after_kwh: float  #: [kWh]


def loss_steps(result: Mapping[str, Any]) -> list[LossStep]:
    """The study's loss tree with the energy before and after each step.

    Parameters
    ----------
    result : mapping
        A study's result: ``losses`` (``name``, ``fraction``, ``energy_kwh`` = energy lost
        at the step [kWh]) and ``energy_annual_kwh`` (after every step). [kWh]

    Returns
    -------
    list of LossStep
        In the order of the tree; the first step's ``energy_before_kwh`` is the energy
        before any loss, the last step's ``energy_after_kwh`` is ``energy_annual_kwh``.
    """
    steps = list(result["losses"])
    before = float(result["energy_annual_kwh"]) + sum(float(s["energy_kwh"]) for s in steps)
    out = []
    for step in steps:
        lost = float(step["energy_kwh"])
        out.append(LossStep(step["name"], float(step["fraction"]), lost, before, before - lost))
        before -= lost
    return out


def month_hour_table(hourly: pd.DataFrame, time_column: str, energy_column: str) -> np.ndarray:
    """Mean energy of each hour of the day in each month (12 × 24). [kWh]

    The hour is that of the interval's start in the series' own (local standard) time.
    """
    times = pd.to_datetime(hourly[time_column].astype(str).str.slice(0, 19))
    frame = pd.DataFrame({"month": times.dt.month.to_numpy(), "hour": times.dt.hour.to_numpy(),
                          "energy": hourly[energy_column].to_numpy(dtype=float)})
    table = frame.pivot_table(index="month", columns="hour", values="energy", aggfunc="mean")
    return table.reindex(index=range(1, 13), columns=range(24)).to_numpy(dtype=float)


def monthly_resource(weather: pd.DataFrame) -> pd.DataFrame:
    """Monthly resource of a typical-year weather file: GHI total [kWh/m²], mean air
    temperature [°C] and mean wind speed at the station's height [m/s]."""
    month = weather.index.month
    return pd.DataFrame({
        "ghi_kwh_per_m2": weather["ghi"].groupby(month).sum() / 1000.0,
        "temp_air_mean_c": weather["temp_air"].groupby(month).mean(),
        "wind_speed_mean_m_s": weather["wind_speed"].groupby(month).mean(),
    }).reindex(range(1, 13))


def degradation_table(result: Mapping[str, Any], life_years: int = REPORT_LIFE_YEARS
                      ) -> list[tuple[int, float]]:
    """P50 energy of each operating year, ``E_n = E_1 (1 - d)^(n-1)``. [kWh]

    ``E_1`` is the first-year energy: the result's own when it was computed for year 1,
    else brought back from its operating year with the same compound law (the model
    applies degradation to DC power, so inverter clipping makes this approximate). A
    study with no degradation rate (wind) keeps its energy constant.
    """
    assumptions = result.get("assumptions") or {}
    rate = float(assumptions.get("degradation_rate_per_year") or 0.0)
    year = int(assumptions.get("operating_year") or 1)
    first = float(result["energy_annual_kwh"]) / (1.0 - rate) ** (year - 1)
    return [(n, first * (1.0 - rate) ** (n - 1)) for n in range(1, life_years + 1)]


# ------------------------------------------------------------------------------ figures


def _figure(width_in: float, height_in: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=PNG_DPI, layout="constrained")


def monthly_energy_figure(result: Mapping[str, Any], *, months: Sequence[str] = MONTHS,
                          ylabel: str = "AC energy [MWh]",
                          title: str = "Monthly energy (typical year)"):
    """Bars of the monthly AC energy. [MWh]"""
    figure = _figure(7.0, 2.8)
    axes = figure.add_subplot()
    axes.bar(list(months), [v / 1000.0 for v in result["energy_monthly_kwh"]], color=COLOR_KEPT)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    return figure


def loss_waterfall_figure(steps: Sequence[LossStep], labels: Mapping[str, str], *,
                          start: str = "Before losses", final: str = "Delivered (AC)",
                          ylabel: str = "Annual energy [MWh]",
                          title: str = "Loss waterfall"):
    """Waterfall from the energy before losses to the delivered energy (steps that lose
    nothing are left out of the chart, not of its table). [MWh]"""
    shown = [s for s in steps if s.energy_lost_kwh > 0.0]
    names = [start] + [labels.get(s.name, s.name) for s in shown] + [final]
    first = steps[0].energy_before_kwh if steps else 0.0
    last = steps[-1].energy_after_kwh if steps else 0.0
    heights = [first] + [s.energy_lost_kwh for s in shown] + [last]
    bottoms = [0.0] + [s.energy_after_kwh for s in shown] + [0.0]
    colours = [COLOR_KEPT] + [COLOR_LOST] * len(shown) + [COLOR_FINAL]
    figure = _figure(7.0, 3.6)
    axes = figure.add_subplot()
    positions = np.arange(len(names))
    axes.bar(positions, np.asarray(heights) / 1000.0, bottom=np.asarray(bottoms) / 1000.0,
             color=colours)
    axes.set_xticks(positions, names, rotation=40, ha="right", fontsize=7)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.set_ylim(min(last, first) / 1000.0 * 0.8 if last > 0 else 0.0, first / 1000.0 * 1.02
                  if first > 0 else 1.0)
    axes.grid(axis="y", alpha=0.3)
    return figure


def heatmap_figure(table: np.ndarray, *, months: Sequence[str] = MONTHS,
                   xlabel: str = "Hour of the day (local standard time)",
                   colorbar: str = "Mean energy [kWh]",
                   title: str = "Energy by month and hour"):
    """Month × hour heatmap of the mean hourly energy. [kWh]"""
    figure = _figure(7.0, 3.2)
    axes = figure.add_subplot()
    image = axes.imshow(table, aspect="auto", cmap="viridis", origin="upper")
    axes.set_yticks(range(12), list(months), fontsize=7)
    axes.set_xticks(range(0, 24, 2), [str(h) for h in range(0, 24, 2)], fontsize=7)
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label=colorbar)
    return figure


def resource_figure(resource: pd.DataFrame, technology: str, *, months: Sequence[str] = MONTHS,
                    ghi: str = "GHI [kWh/m²]", wind: str = "Mean wind speed [m/s]",
                    temperature: str = "Mean air temperature [°C]",
                    title: str = "Monthly resource at the station"):
    """Bars of monthly GHI (PV) or mean wind speed (wind), with the air temperature."""
    figure = _figure(7.0, 2.8)
    axes = figure.add_subplot()
    column, label = (("ghi_kwh_per_m2", ghi) if technology == "pv"
                     else ("wind_speed_mean_m_s", wind))
    axes.bar(list(months), resource[column].to_numpy(), color=COLOR_KEPT)
    axes.set_ylabel(label)
    other = axes.twinx()
    other.plot(list(months), resource["temp_air_mean_c"].to_numpy(), color=COLOR_LOST,
               marker="o")
    other.set_ylabel(temperature)
    axes.set_title(title)
    return figure


def degradation_figure(rows: Sequence[tuple[int, float]], *,
                       xlabel: str = "Operating year", ylabel: str = "P50 energy [MWh]",
                       title: str = "Energy over the plant's life"):
    """P50 energy of each operating year. [MWh]"""
    figure = _figure(7.0, 2.6)
    axes = figure.add_subplot()
    axes.plot([n for n, _ in rows], [e / 1000.0 for _, e in rows], color=COLOR_KEPT,
              marker=".")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    return figure


def render(figure, fmt: str) -> bytes:
    """A figure as ``png`` or ``svg`` bytes (SVG text stays text: smaller, searchable)."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fondo"}):
        figure.savefig(buffer, format=fmt)
    return buffer.getvalue()
