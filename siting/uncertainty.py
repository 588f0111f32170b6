"""Energy exceedance values (P50, P75, P90, P99) from uncertainty components.

Independent relative standard uncertainties combine in quadrature; the
annual energy is taken as normal with mean P50. For an N-year horizon the
inter-annual variability term shrinks by √N (the mean of N independent
years); the others are systematic and do not.

``P_x = P50 · (1 - z_x · σ)`` with ``z_x`` the standard normal quantile of
``x`` % (z75 = 0.674, z90 = 1.282, z99 = 2.326).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy.special import ndtri  # the standard normal quantile (what scipy.stats.norm.ppf calls)

__all__ = [
    "PV_UNCERTAINTY_DEFAULTS",
    "WIND_UNCERTAINTY_DEFAULTS",
    "INTERANNUAL_COMPONENT",
    "EXCEEDANCE_LEVELS",
    "UncertaintyBudget",
    "exceedance_values",
]

#: Name of the component that averages out over several years.
INTERANNUAL_COMPONENT = "interannual_variability"
#: Exceedance probabilities reported. [fraction]
EXCEEDANCE_LEVELS = (0.50, 0.75, 0.90, 0.99)

#: PV defaults, relative 1-σ of annual energy. [fraction] Sources:
#: interannual GHI variability 4 % (Gueymard & Wilcox 2011, Solar Energy 85,
#: 1068-1084: 2–5 % in sunny climates); weather-file representativeness
#: (TMYx from ERA5 irradiance, ~31 km, data/SOURCES-weather.md caveat "a few
#: percent bias") 5 %; model uncertainty of PVWatts-class models 3 %
#: (Freeman et al. 2014, NREL/TP-6A20-61497, annual bias ±3 %); station
#: distance/transposition and other 2 % (Thevenard & Pelland 2013, Solar
#: Energy 91, 432-445, transposition ±2 %).
PV_UNCERTAINTY_DEFAULTS = MappingProxyType({
    INTERANNUAL_COMPONENT: 0.04,
    "weather_file_representativeness": 0.05,
    "model": 0.03,
    "other": 0.02,
})
#: Wind defaults, relative 1-σ of annual energy. [fraction] Sources:
#: interannual wind-speed variability 6 % in speed ≈ 6 % in energy (AWS
#: Truepower / IEC 61400-15 draft practice, Clifton & Lundquist 2012 report
#: 6 % σ of wind speed); weather-file representativeness (10 m airport
#: station carried to hub height, no on-site mast) 10 %; power-curve/model
#: 5 % (IEC 61400-12-1 typical power-curve uncertainty); other (losses,
#: wakes) 3 % (Lee & Fields 2021, Wind Energ. Sci. 6, 311-365).
WIND_UNCERTAINTY_DEFAULTS = MappingProxyType({
    INTERANNUAL_COMPONENT: 0.06,
    "weather_file_representativeness": 0.10,
    "model": 0.05,
    "other": 0.03,
})


@dataclass(frozen=True)
class UncertaintyBudget:
    """Relative 1-σ components of annual energy.

    Attributes
    ----------
    components : Mapping[str, float]
        Name → relative standard uncertainty. [fraction]
    """

    components: MappingProxyType = field(default_factory=lambda: PV_UNCERTAINTY_DEFAULTS)

    def __post_init__(self):
        comps = dict(self.components)
        for name, value in comps.items():
            if not (0.0 <= float(value) < 1.0):
                raise ValueError(f"uncertainty {name!r} is {value!r}; must be in [0, 1)")
        object.__setattr__(self, "components",
                           MappingProxyType({k: float(v) for k, v in comps.items()}))

    def combined(self, years: int = 1) -> float:
        """Quadrature sum, inter-annual term divided by √years. [fraction]"""
        if years < 1:
            raise ValueError(f"years must be ≥ 1, got {years}")
        total = 0.0
        for name, value in self.components.items():
            if name == INTERANNUAL_COMPONENT:
                value = value / np.sqrt(years)
            total += value * value
        return float(np.sqrt(total))


def exceedance_values(p50_kwh, budget: UncertaintyBudget, years: int = 1,
                      levels=EXCEEDANCE_LEVELS) -> dict:
    """P-values of annual energy.

    Parameters
    ----------
    p50_kwh : float or array_like
        Median annual energy. [kWh]
    budget : UncertaintyBudget
    years : int
        Averaging horizon. [year]
    levels : sequence of float
        Exceedance probabilities. [fraction]

    Returns
    -------
    dict
        ``{"p50": ..., "p90": ...}`` [kWh], each ``P50·(1 - z·σ)``,
        floored at 0.

    Examples
    --------
    With σ = 0.10, ``P90 = P50·(1 - 1.2816·0.10) = 0.8718·P50``.
    """
    sigma = budget.combined(years)
    p50 = np.asarray(p50_kwh, dtype=float)
    out = {}
    for level in levels:
        z = ndtri(level)
        value = np.maximum(p50 * (1.0 - z * sigma), 0.0)
        out[f"p{int(round(level * 100))}"] = float(value) if value.ndim == 0 else value
    return out
