"""System losses as a named breakdown, and the loss tree of a study.

PVWatts treats all system losses as one DC derate whose value is the product
of named items, ``total = 1 - Π(1 - x_k)`` (Dobos 2014, §3). The default
items are SAM's PVWatts v8 defaults; their product is 14.08 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = [
    "PVWATTS_V8_DEFAULT_LOSSES",
    "LossBreakdown",
    "LossStep",
    "loss_tree",
]

#: PVWatts v8 default loss items. [fraction] Source: NREL SAM 2023+ PVWatts
#: "Losses" page defaults (soiling 2 %, shading 3 %, snow 0 %, mismatch 2 %,
#: wiring 2 %, connections 0.5 %, light-induced degradation 1.5 %, nameplate
#: 1 %, age 0 %, availability 3 %); total 14.08 % (``losses = 14.0757``).
PVWATTS_V8_DEFAULT_LOSSES = MappingProxyType({
    "soiling": 0.02,
    "shading": 0.03,
    "snow": 0.0,
    "mismatch": 0.02,
    "wiring": 0.02,
    "connections": 0.005,
    "light_induced_degradation": 0.015,
    "nameplate": 0.01,
    "age": 0.0,
    "availability": 0.03,
})


@dataclass(frozen=True)
class LossBreakdown:
    """Named system-loss fractions whose product gives the total.

    Attributes
    ----------
    items : Mapping[str, float]
        Loss name → fraction in [0, 1).
    """

    items: MappingProxyType = field(default_factory=lambda: PVWATTS_V8_DEFAULT_LOSSES)

    def __post_init__(self):
        items = dict(self.items)
        for name, value in items.items():
            if not (0.0 <= float(value) < 1.0):
                raise ValueError(f"loss {name!r} is {value!r}; must be in [0, 1)")
        object.__setattr__(self, "items", MappingProxyType({k: float(v) for k, v in items.items()}))

    @property
    def total(self) -> float:
        """``1 - Π(1 - x_k)``. [fraction]"""
        return float(1.0 - np.prod([1.0 - v for v in self.items.values()]))

    @classmethod
    def pvwatts_default(cls) -> "LossBreakdown":
        """SAM PVWatts v8 defaults (total 14.08 %)."""
        return cls(PVWATTS_V8_DEFAULT_LOSSES)

    @classmethod
    def from_total(cls, total: float, template=PVWATTS_V8_DEFAULT_LOSSES) -> "LossBreakdown":
        """A breakdown with the template's proportions and the given total.

        Parameters
        ----------
        total : float
            Wanted total. [fraction, 0 ≤ total < 1]
        template : Mapping[str, float]
            Items whose ``-ln(1 - x)`` shares are kept.

        Notes
        -----
        ``x_k' = 1 - (1 - x_k)^s`` with ``s = ln(1 - total) / ln(1 - template_total)``,
        so that ``Π(1 - x_k') = 1 - total`` exactly.
        """
        if not (0.0 <= total < 1.0):
            raise ValueError(f"system_losses {total!r} must be in [0, 1)")
        base = cls(template)
        if base.total == 0.0:
            raise ValueError("template losses are all zero")
        s = np.log1p(-total) / np.log1p(-base.total)
        return cls({k: float(1.0 - (1.0 - v) ** s) for k, v in base.items.items()})


@dataclass(frozen=True)
class LossStep:
    """One step of a loss tree.

    Attributes
    ----------
    name : str
    fraction : float
        Energy lost at this step / energy entering it. [fraction]
    energy_kwh : float
        Energy lost at this step. [kWh]
    energy_after_kwh : float
        Energy left after this step. [kWh]
    """

    name: str
    fraction: float
    energy_kwh: float
    energy_after_kwh: float

    def to_dict(self) -> dict:
        return {"name": self.name, "fraction": self.fraction, "energy_kwh": self.energy_kwh,
                "energy_after_kwh": self.energy_after_kwh}


def loss_tree(start_kwh: float, stages) -> tuple[LossStep, ...]:
    """Build a loss tree from successive energies.

    Parameters
    ----------
    start_kwh : float
        Nominal energy before any loss. [kWh]
    stages : iterable of (name, energy_after_kwh)
        Each step's name and the energy left after it. [kWh]

    Returns
    -------
    tuple of LossStep
        ``fraction = 1 - after / before``; the product of ``1 - fraction``
        equals ``final / start``.
    """
    out = []
    before = float(start_kwh)
    for name, after in stages:
        after = float(after)
        lost = before - after
        frac = lost / before if before > 0 else 0.0
        out.append(LossStep(name, frac, lost, after))
        before = after
    return tuple(out)
