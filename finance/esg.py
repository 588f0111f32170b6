"""Climate metrics of the fund: clean energy, avoided and financed emissions (IFRS S2 style).

Every factor is a named parameter with its source; the functions take them as arguments
so a newer published value replaces the default without touching the arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = [
    "EmissionFactor",
    "MX_GRID_EMISSION_FACTOR",
    "MX_CLEAN_GENERATION_GOAL_2030",
    "MX_NATIONAL_GENERATION_MWH",
    "LIFECYCLE_EMISSIONS_TCO2E_PER_MWH",
    "OPERATIONAL_EMISSIONS_TCO2E_PER_MWH",
    "avoided_emissions_tco2e",
    "pcaf_attribution_factor",
    "financed_emissions_tco2e",
    "goal_contribution",
    "climate_metrics_by_technology",
]


@dataclass(frozen=True)
class EmissionFactor:
    """A grid emission factor and where it comes from.

    Parameters
    ----------
    tco2e_per_mwh : float
        Emissions per MWh consumed from (or displaced on) the grid. [tCO2e/MWh]
    year : int
        The year the factor describes.
    source : str
        The publication.
    """

    tco2e_per_mwh: float
    year: int
    source: str

    def __post_init__(self):
        if not (np.isfinite(self.tco2e_per_mwh) and 0 <= self.tco2e_per_mwh < 5):
            raise ValueError(f"tco2e_per_mwh must be in [0, 5), got {self.tco2e_per_mwh}")


#: Emission factor of Mexico's national electricity system (Sistema Eléctrico Nacional)
#: for 2023, published in 2024 by SEMARNAT with the CRE for the Registro Nacional de
#: Emisiones (RENE): 0.438 tCO2e/MWh. Fondo had no network access when this was written:
#: the value is the one its authors know from that publication and must be checked
#: against the current notice (a newer year replaces it here).
MX_GRID_EMISSION_FACTOR = EmissionFactor(
    tco2e_per_mwh=0.438, year=2023,
    source="SEMARNAT / CRE, «Factor de emisión del Sistema Eléctrico Nacional 2023» "
           "(Registro Nacional de Emisiones, published 2024)")
#: Mexico's goal of clean generation in 2030, a fraction of all generation, as the fund's
#: seed paper states it ("México busca alcanzar 45 % de generación limpia de energía en
#: 2030"; SENER, Plan de Fortalecimiento y Expansión del Sistema Eléctrico Nacional
#: 2025–2030). [-]
MX_CLEAN_GENERATION_GOAL_2030 = 0.45
#: Mexico's total electricity generation in 2023, 351.7 TWh (SENER, PRODESEN 2024–2038,
#: «generación bruta» of the national system). Recalled without network access: check it
#: against the document before publishing a report. [MWh]
MX_NATIONAL_GENERATION_MWH = 351.7e6
MX_NATIONAL_GENERATION_SOURCE = "SENER, PRODESEN 2024–2038, national generation 2023"
#: Life-cycle emissions, median of the literature: utility-scale PV 48 gCO2e/kWh, onshore
#: wind 11 gCO2e/kWh (IPCC AR5 WGIII, Annex III, Table A.III.2, Schlömer et al. 2014).
#: [tCO2e/MWh]
LIFECYCLE_EMISSIONS_TCO2E_PER_MWH = MappingProxyType({"pv": 0.048, "wind": 0.011})
#: Operational (scope 1 and 2) emissions of a PV or wind plant: no combustion; the small
#: auxiliary consumption is netted in the yield study's energy. [tCO2e/MWh]
OPERATIONAL_EMISSIONS_TCO2E_PER_MWH = MappingProxyType({"pv": 0.0, "wind": 0.0})


def avoided_emissions_tco2e(energy_mwh, factor: EmissionFactor = MX_GRID_EMISSION_FACTOR):
    """Emissions the clean energy avoids on the grid: ``energy × factor``.

    Parameters
    ----------
    energy_mwh : float or array_like
        Clean energy delivered to the grid. [MWh]
    factor : EmissionFactor

    Returns
    -------
    float or numpy.ndarray
        [tCO2e]

    Notes
    -----
    The grid's average factor (the published national factor), as the GHG Protocol's
    "Guidelines for Quantifying GHG Reductions from Grid-Connected Electricity Projects"
    (WRI 2007) allow when no build or operating margin is published.

    Examples
    --------
    >>> round(avoided_emissions_tco2e(100_000.0), 6)
    43800.0
    """
    e = np.asarray(energy_mwh, dtype=float)
    if np.any(e < 0) or not np.all(np.isfinite(e)):
        raise ValueError("energy_mwh must be finite and >= 0")
    out = e * factor.tco2e_per_mwh
    return float(out) if out.ndim == 0 else out


def pcaf_attribution_factor(outstanding_usd, total_equity_plus_debt_usd):
    """PCAF attribution factor of project finance: outstanding / (total equity + debt).

    Parameters
    ----------
    outstanding_usd : float or array_like
        What the fund has invested (equity) or lent (debt) in the project. [USD]
    total_equity_plus_debt_usd : float or array_like
        The project's total equity and debt. [USD]

    Returns
    -------
    float or numpy.ndarray
        In [0, 1]. [-]

    References
    ----------
    PCAF (2022), The Global GHG Accounting and Reporting Standard, Part A: Financed
    Emissions, 2nd ed., §5.5 Project finance.
    """
    o = np.asarray(outstanding_usd, dtype=float)
    t = np.asarray(total_equity_plus_debt_usd, dtype=float)
    if np.any(o < 0) or np.any(t <= 0):
        raise ValueError("outstanding must be >= 0 and the total > 0")
    if np.any(o > t * (1 + 1e-12)):
        raise ValueError("outstanding cannot exceed the project's total equity and debt")
    out = np.minimum(o / t, 1.0)
    return float(out) if out.ndim == 0 else out


def financed_emissions_tco2e(attribution, energy_mwh, technology: str,
                             intensities: Mapping[str, float] = OPERATIONAL_EMISSIONS_TCO2E_PER_MWH):
    """PCAF financed emissions: attribution factor × the project's emissions.

    Parameters
    ----------
    attribution : float
        :func:`pcaf_attribution_factor`. [-]
    energy_mwh : float
        Annual generation. [MWh]
    technology : str
        Key of ``intensities``.
    intensities : Mapping[str, float]
        Emissions per MWh generated, by technology (operational scope 1+2 by default;
        :data:`LIFECYCLE_EMISSIONS_TCO2E_PER_MWH` for life-cycle). [tCO2e/MWh]

    Returns
    -------
    float
        [tCO2e/year]
    """
    if technology not in intensities:
        raise ValueError(f"no emission intensity for technology {technology!r}")
    return float(attribution) * float(energy_mwh) * float(intensities[technology])


def goal_contribution(clean_mwh: float, *, goal_fraction: float = MX_CLEAN_GENERATION_GOAL_2030,
                      national_generation_mwh: float = MX_NATIONAL_GENERATION_MWH) -> dict:
    """The fund's clean energy against the national clean-generation goal.

    Parameters
    ----------
    clean_mwh : float
        Clean energy per year. [MWh/year]
    goal_fraction : float
        Clean share of generation aimed at. [-]
    national_generation_mwh : float
        National generation the goal applies to. [MWh/year]

    Returns
    -------
    dict
        ``goal_clean_mwh = goal_fraction × national_generation_mwh``,
        ``share_of_goal = clean_mwh / goal_clean_mwh`` and
        ``share_of_national_generation = clean_mwh / national_generation_mwh``. [MWh], [-]

    Examples
    --------
    >>> goal_contribution(450_000.0, goal_fraction=0.45, national_generation_mwh=1e8)
    {'clean_mwh': 450000.0, 'goal_fraction': 0.45, 'national_generation_mwh': 100000000.0, \
'goal_clean_mwh': 45000000.0, 'share_of_goal': 0.01, 'share_of_national_generation': 0.0045}
    """
    if clean_mwh < 0 or not (0 < goal_fraction <= 1) or not national_generation_mwh > 0:
        raise ValueError("clean_mwh >= 0, goal_fraction in (0, 1], national generation > 0")
    goal = goal_fraction * national_generation_mwh
    return {"clean_mwh": float(clean_mwh), "goal_fraction": goal_fraction,
            "national_generation_mwh": float(national_generation_mwh),
            "goal_clean_mwh": goal, "share_of_goal": clean_mwh / goal,
            "share_of_national_generation": clean_mwh / national_generation_mwh}


def climate_metrics_by_technology(rows: Sequence[Mapping], factor: EmissionFactor = MX_GRID_EMISSION_FACTOR
                                  ) -> list[dict]:
    """The IFRS S2-style table: capacity, generation and emissions by technology.

    Parameters
    ----------
    rows : sequence of mapping
        One per project: ``technology``, ``capacity_mw`` [MW], ``energy_mwh`` [MWh/year],
        ``attribution`` (PCAF factor, [-]).
    factor : EmissionFactor

    Returns
    -------
    list of dict
        One row per technology (sorted) and a ``"total"`` row: ``capacity_mw``,
        ``attributable_capacity_mw``, ``energy_mwh``, ``attributable_energy_mwh``,
        ``avoided_tco2e``, ``attributable_avoided_tco2e``,
        ``financed_emissions_tco2e`` (operational, PCAF), ``financed_lifecycle_tco2e``.

    References
    ----------
    IFRS S2 Climate-related Disclosures (ISSB 2023) ¶29 (cross-industry metrics: financed
    emissions for asset managers per ¶B61, PCAF-based), adopted in Mexico as NIIF S2 by
    the CINIF.
    """
    keys = ("capacity_mw", "attributable_capacity_mw", "energy_mwh", "attributable_energy_mwh",
            "avoided_tco2e", "attributable_avoided_tco2e", "financed_emissions_tco2e",
            "financed_lifecycle_tco2e")
    table: dict[str, dict] = {}
    for row in rows:
        tech, a = str(row["technology"]), float(row["attribution"])
        cap, energy = float(row["capacity_mw"]), float(row["energy_mwh"])
        avoided = avoided_emissions_tco2e(energy, factor)
        add = (cap, a * cap, energy, a * energy, avoided, a * avoided,
               financed_emissions_tco2e(a, energy, tech),
               financed_emissions_tco2e(a, energy, tech, LIFECYCLE_EMISSIONS_TCO2E_PER_MWH))
        entry = table.setdefault(tech, dict.fromkeys(keys, 0.0))
        for key, value in zip(keys, add):
            entry[key] += value
    out = [{"technology": t} | table[t] for t in sorted(table)]
    total = {"technology": "total"} | {k: sum(r[k] for r in out) for k in keys}
    return out + [total]
