"""Portfolio energy risk: P50/P90 of the sum of correlated projects, hourly complementarity.

The P90 of a portfolio is not the sum of the projects' P90s: the projects' energy
uncertainties are only partly correlated. Each project's annual energy is normal with
mean P50 and relative standard uncertainties by component (:mod:`siting.uncertainty`:
``interannual_variability``, ``weather_file_representativeness``, ``model``, ``other``).
Each component is correlated across projects by its own rule (:func:`component_correlation`):

=================================== ==========================================================
component                           correlation between projects *i* and *j*
=================================== ==========================================================
``model``                           1 when both use the same model (same technology and the
                                    same model description), else 0: a model's bias repeats
                                    on every project it evaluates.
``interannual_variability``         same technology: :math:`\\exp(-d_{ij}/L_{tech})`, ``d`` the
                                    great-circle distance; different technologies: 0.
``weather_file_representativeness`` 1 when both studies use the same weather file (station),
                                    else 0.
anything else (``other``: losses,   0 (independent).
wakes, availability)
=================================== ==========================================================

The exponential decay of the correlation of wind (and solar) anomalies with distance is
the form found by St. Martin, Lundquist & Handschy (2015), "Variability of interconnected
wind plants: correlation length and its dependence on variability time scale", Environ.
Res. Lett. 10, 044004, whose correlation length grows with the averaging time scale (from
hundreds of km for hours towards the synoptic scale and beyond for longer averages);
Giebel (2000), "On the benefits of distributed generation of wind energy in Europe",
VDI-Verlag, fits :math:`\\exp(-d/L)` to European wind-power series. For *annual* anomalies
Fondo sets :data:`CORRELATION_LENGTH_KM` to 1000 km for PV (year-to-year irradiance
anomalies follow large-scale circulation such as ENSO) and 700 km for wind: these lengths
are Fondo's assumptions, in the range of the cited studies, not measured here; they are
parameters of every function.

Portfolio variance: :math:`\\sigma_P^2 = \\sum_k s_k^\\top R_k s_k`, with
:math:`s_{k,i} = \\sigma_{k,i} E_i` (the inter-annual term divided by :math:`\\sqrt{N}`
for an N-year average, as :mod:`siting.uncertainty`), :math:`P90 = \\sum E_i - z_{0.9}
\\sigma_P`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy.special import ndtri

__all__ = [
    "EnergyAsset",
    "CORRELATION_LENGTH_KM",
    "EARTH_RADIUS_KM",
    "INTERANNUAL",
    "MODEL",
    "WEATHER_FILE",
    "distance_km",
    "component_correlation",
    "portfolio_sigma_mwh",
    "portfolio_exceedance",
    "correlated_normals",
    "energy_factor_draws",
    "complementarity",
]

#: Component names (as :mod:`siting.uncertainty` writes them).
INTERANNUAL = "interannual_variability"
MODEL = "model"
WEATHER_FILE = "weather_file_representativeness"
#: e-folding distance of the correlation of annual resource anomalies, by technology
#: (Fondo's assumption within the range of St. Martin et al. 2015 and Giebel 2000, see the
#: module notes). [km]
CORRELATION_LENGTH_KM = MappingProxyType({"pv": 1000.0, "wind": 700.0})
#: Mean Earth radius (IUGG). [km]
EARTH_RADIUS_KM = 6371.0088
#: Standard normal quantile of the 90 % exceedance level. [-]
Z_P90 = float(ndtri(0.9))


@dataclass(frozen=True)
class EnergyAsset:
    """One project's annual energy and its uncertainty budget.

    Parameters
    ----------
    name : str
    technology : str
        ``"pv"`` or ``"wind"``.
    energy_p50_mwh : float
        Median (= mean) annual energy. [MWh]
    components : Mapping[str, float]
        Relative 1-σ uncertainty of annual energy by component. [fraction]
    model : str
        The yield model that produced the P50 (projects sharing it share its bias).
    weather_file : str or None
        Id of the weather file (station) the study used.
    latitude, longitude : float
        Where the project is. [°]
    """

    name: str
    technology: str
    energy_p50_mwh: float
    components: Mapping[str, float] = field(default_factory=dict)
    model: str = ""
    weather_file: str | None = None
    latitude: float = 0.0
    longitude: float = 0.0

    def __post_init__(self):
        if not (np.isfinite(self.energy_p50_mwh) and self.energy_p50_mwh >= 0):
            raise ValueError(f"energy_p50_mwh of {self.name!r} must be >= 0")
        comps = {str(k): float(v) for k, v in dict(self.components).items()}
        for key, value in comps.items():
            if not (0.0 <= value < 1.0):
                raise ValueError(f"uncertainty {key!r} of {self.name!r} must be in [0, 1)")
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError(f"latitude/longitude of {self.name!r} out of range")
        object.__setattr__(self, "components", MappingProxyType(comps))


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle (haversine) distance on a sphere of :data:`EARTH_RADIUS_KM`. [km]

    Examples
    --------
    One degree of longitude on the equator:

    >>> round(float(distance_km(0, 0, 0, 1)), 3)
    111.195
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def component_correlation(assets: Sequence[EnergyAsset], component: str,
                          lengths_km: Mapping[str, float] = CORRELATION_LENGTH_KM) -> np.ndarray:
    """Correlation matrix of one uncertainty component across assets (module table).

    Returns
    -------
    numpy.ndarray, shape (n, n)
        Symmetric, ones on the diagonal, positive semi-definite. [-]
    """
    n = len(assets)
    if component == MODEL:
        keys = [(a.technology, a.model) for a in assets]
        r = np.array([[float(keys[i] == keys[j]) for j in range(n)] for i in range(n)])
    elif component == WEATHER_FILE:
        files = [a.weather_file for a in assets]
        r = np.array([[float(files[i] is not None and files[i] == files[j]) for j in range(n)]
                      for i in range(n)])
    elif component == INTERANNUAL:
        lat = np.array([a.latitude for a in assets])
        lon = np.array([a.longitude for a in assets])
        d = distance_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        tech = np.array([a.technology for a in assets])
        missing = sorted(set(tech) - set(lengths_km))
        if missing:
            raise ValueError(f"no correlation length for technology {missing[0]!r}")
        length = np.array([lengths_km[t] for t in tech])
        same = tech[:, None] == tech[None, :]
        r = np.where(same, np.exp(-d / length[:, None]), 0.0)
    else:
        r = np.zeros((n, n))
    np.fill_diagonal(r, 1.0)
    return r


def _scaled(assets: Sequence[EnergyAsset], years: int) -> dict[str, np.ndarray]:
    """Per component, each asset's 1-σ in MWh (inter-annual term over √years)."""
    if years < 1:
        raise ValueError(f"years must be >= 1, got {years}")
    names = sorted({k for a in assets for k in a.components})
    out = {}
    for name in names:
        sigma = np.array([a.components.get(name, 0.0) * a.energy_p50_mwh for a in assets])
        out[name] = sigma / np.sqrt(years) if name == INTERANNUAL else sigma
    return out


def portfolio_sigma_mwh(assets: Sequence[EnergyAsset], years: int = 1,
                        lengths_km: Mapping[str, float] = CORRELATION_LENGTH_KM) -> float:
    """1-σ of the portfolio's annual energy (average over ``years``). [MWh]"""
    total = 0.0
    for name, s in _scaled(assets, years).items():
        total += float(s @ component_correlation(assets, name, lengths_km) @ s)
    return float(np.sqrt(max(total, 0.0)))


def portfolio_exceedance(assets: Sequence[EnergyAsset], years: int = 1,
                         lengths_km: Mapping[str, float] = CORRELATION_LENGTH_KM) -> dict:
    """P50 and P90 of the portfolio, the sum of the P90s and the diversification benefit.

    Parameters
    ----------
    assets : sequence of EnergyAsset
    years : int
        Averaging horizon (1 or 10 in the reports). [year]
    lengths_km : Mapping[str, float]
        Correlation length by technology. [km]

    Returns
    -------
    dict
        ``energy_p50_mwh`` (sum of P50s), ``energy_p90_mwh`` (of the sum), ``sigma_mwh``,
        ``sum_of_p90_mwh`` (each project's P90 alone, summed),
        ``diversification_benefit_mwh = energy_p90_mwh - sum_of_p90_mwh`` (≥ 0) and
        ``diversification_benefit_fraction`` of the sum of P90s. [MWh], [-]

    Examples
    --------
    Two equal, independent projects of 100 MWh with 10 % uncertainty: σ = √2·10 MWh,
    P90 = 200 − 1.2816·14.142 = 181.876 MWh against 2·87.184 = 174.369 MWh.

    >>> a = [EnergyAsset("a", "pv", 100.0, {"other": 0.1}),
    ...      EnergyAsset("b", "pv", 100.0, {"other": 0.1})]
    >>> round(portfolio_exceedance(a)["energy_p90_mwh"], 3)
    181.876
    """
    e = np.array([a.energy_p50_mwh for a in assets], dtype=float)
    scaled = _scaled(assets, years)
    alone = np.sqrt(sum(s**2 for s in scaled.values())) if scaled else np.zeros(len(assets))
    sigma = portfolio_sigma_mwh(assets, years, lengths_km)
    p50 = float(e.sum())
    p90 = max(p50 - Z_P90 * sigma, 0.0)
    sum_p90 = float(np.maximum(e - Z_P90 * alone, 0.0).sum())
    benefit = p90 - sum_p90
    return {"years": years, "energy_p50_mwh": p50, "energy_p90_mwh": p90, "sigma_mwh": sigma,
            "sum_of_p90_mwh": sum_p90, "diversification_benefit_mwh": benefit,
            "diversification_benefit_fraction": benefit / sum_p90 if sum_p90 > 0 else 0.0}


def correlated_normals(correlation: np.ndarray, n_draws: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Standard normal draws with a given (semi-definite) correlation matrix.

    Uses the symmetric square root (eigen-decomposition, negative round-off eigenvalues
    set to 0), which also handles singular matrices such as a fully correlated block.

    Returns
    -------
    numpy.ndarray, shape (n_draws, n)
    """
    r = np.asarray(correlation, dtype=float)
    w, v = np.linalg.eigh(r)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    return rng.standard_normal((int(n_draws), r.shape[0])) @ root.T


def energy_factor_draws(assets: Sequence[EnergyAsset], n_draws: int, rng: np.random.Generator,
                        years: int = 1,
                        lengths_km: Mapping[str, float] = CORRELATION_LENGTH_KM) -> np.ndarray:
    """Correlated multiplicative energy factors, one column per asset, mean 1.

    ``1 + Σ_k σ_{k,i} z_{k,i}`` with each component's draws correlated by
    :func:`component_correlation`; floored at 0 (as :func:`finance.montecarlo.draw_drivers`
    floors its energy factor). A column's 10th percentile is the asset's P90 / P50.

    Returns
    -------
    numpy.ndarray, shape (n_draws, n_assets) [-]
    """
    n = len(assets)
    out = np.ones((int(n_draws), n))
    for name in sorted({k for a in assets for k in a.components}):
        rel = np.array([a.components.get(name, 0.0) for a in assets])
        if name == INTERANNUAL:
            rel = rel / np.sqrt(years)
        if not np.any(rel > 0):
            continue
        z = correlated_normals(component_correlation(assets, name, lengths_km), n_draws, rng)
        out += z * rel
    return np.maximum(out, 0.0)


def complementarity(pv_mw, wind_mw) -> dict:
    """How the portfolio's hourly PV and wind output complement each other.

    Parameters
    ----------
    pv_mw, wind_mw : array_like, shape (T,)
        Hourly output of all PV and of all wind projects on the same hours. [MW]

    Returns
    -------
    dict
        ``pearson_r`` (hourly correlation; negative = complementary; None when one series
        is constant), ``cv_pv``, ``cv_wind``, ``cv_combined`` (coefficient of variation:
        standard deviation over mean, None for a zero mean),
        ``hours_without_output_{pv,wind,combined}`` and ``hours`` (count). [-], [h]

    Notes
    -----
    Complementarity as the hourly Pearson correlation and the smoothing of the combined
    output: Jurasz et al. (2020), "A review on the complementarity of renewable energy
    sources", Solar Energy 195, 703-724.
    """
    pv = np.asarray(pv_mw, dtype=float)
    wind = np.asarray(wind_mw, dtype=float)
    if pv.shape != wind.shape or pv.ndim != 1:
        raise ValueError(f"pv_mw and wind_mw must be 1-D of one length, got {pv.shape}, "
                         f"{wind.shape}")
    if not (np.all(np.isfinite(pv)) and np.all(np.isfinite(wind))):
        raise ValueError("hourly series must be finite")
    both = pv + wind

    def cv(x):
        m = float(x.mean()) if x.size else 0.0
        return float(x.std() / m) if m > 0 else None

    r = None
    if pv.size > 1 and pv.std() > 0 and wind.std() > 0:
        r = float(np.corrcoef(pv, wind)[0, 1])
    return {"hours": int(pv.size), "pearson_r": r, "cv_pv": cv(pv), "cv_wind": cv(wind),
            "cv_combined": cv(both),
            "hours_without_output_pv": int(np.sum(pv <= 0)),
            "hours_without_output_wind": int(np.sum(wind <= 0)),
            "hours_without_output_combined": int(np.sum(both <= 0))}
