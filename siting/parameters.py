"""Named limits, buffers, densities, weights and costs of the site screening.

Every value used by the screening engine lives here as a named, documented
constant with its source, grouped into frozen dataclasses that the caller can
replace field by field (``dataclasses.replace``).  Values marked *policy* are
choices of the fund's screening policy rather than physical facts; they are
named and configurable so that an officer can see and change them.

Conventions: distances in metres (``*_m``) or kilometres (``*_km``), money in
US dollars (``*_usd``, real 2023 dollars), rates as fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "PROJECTED_CRS",
    "GEOGRAPHIC_CRS",
    "TECHNOLOGIES",
    "CORRIDOR_STATES",
    "DEFAULT_RESOLUTION_KM",
    "MAX_CELLS_DEFAULT",
    "PV_POWER_DENSITY_MW_PER_KM2",
    "WIND_POWER_DENSITY_MW_PER_KM2",
    "PV_SLOPE_LIMIT_PCT",
    "WIND_SLOPE_LIMIT_PCT",
    "EXCLUSION_RESOLUTION_M",
    "RIVER_BUFFER_M",
    "MIN_PLANT_MW",
    "HELLMANN_EXPONENT_NEUTRAL",
    "ResourceParameters",
    "ExclusionParameters",
    "ConnectionParameters",
    "CostParameters",
    "ConsultationParameters",
    "ScoreWeights",
    "TechnologyParameters",
    "ScreeningParameters",
    "default_parameters",
]

#: Projected CRS of every area and distance computation: Mexico ITRF2008 / LCC.
PROJECTED_CRS = "EPSG:6372"
#: CRS of every input layer and of request geometries (GeoJSON, RFC 7946).
GEOGRAPHIC_CRS = "EPSG:4326"
#: Technologies the screening knows.
TECHNOLOGIES = ("pv", "wind")

#: INEGI state keys (``cve_ent``) of each corridor (DESIGN.md; SOURCES-geo.md).
CORRIDOR_STATES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "bajio": ("01", "11", "14", "22", "24"),
        "noreste": ("05", "19", "28"),
    }
)

#: Default screening cell size (issue 5). [km]
DEFAULT_RESOLUTION_KM = 2.0
#: Largest number of cells a single screening may have (policy; keeps one request
#: within the memory bar of ~4 GB for ~500,000 cells).
MAX_CELLS_DEFAULT = 600_000

#: Utility-scale PV land-use power density. [MW/km²]
#: Lopez, A. et al. (2012), *U.S. Renewable Energy Technical Potentials: A
#: GIS-Based Analysis*, NREL/TP-6A20-51946, section 2.1.1 ("48 MW/km²").
PV_POWER_DENSITY_MW_PER_KM2 = 48.0
#: Onshore wind land-use power density. [MW/km²]
#: Lopez et al. (2012), NREL/TP-6A20-51946, section 2.5 ("5 MW/km²").
WIND_POWER_DENSITY_MW_PER_KM2 = 5.0
#: Slope above which utility-scale PV is excluded. [%]
#: Lopez et al. (2012), NREL/TP-6A20-51946, Table 2 (slope > 3 %).
PV_SLOPE_LIMIT_PCT = 3.0
#: Slope above which onshore wind is excluded. [%]
#: Lopez et al. (2012), NREL/TP-6A20-51946, Table 9 (slope > 20 %).
WIND_SLOPE_LIMIT_PCT = 20.0

#: Real discount rate of the default fixed charge rate (policy; NREL ATB 2023
#: uses a real WACC of about 0.05-0.07 for utility PV and land-based wind). [-]
DEFAULT_REAL_DISCOUNT_RATE = 0.07
#: Economic life of the default fixed charge rate (policy; NREL ATB 2023 uses
#: 30 years, 25 is the common PPA tenor of the Mexican long-term auctions). [yr]
DEFAULT_ECONOMIC_LIFE_YEARS = 25

#: Power-law (Hellmann) shear exponent of a neutral boundary layer over open
#: terrain, the "one-seventh power law". [-]
#: Peterson, E.W. & Hennessey, J.P. (1978), "On the use of power laws for
#: estimates of wind power potential", J. Appl. Meteorol. 17, 390-394,
#: doi:10.1175/1520-0450(1978)017<0390:OTUOPL>2.0.CO;2.
HELLMANN_EXPONENT_NEUTRAL = 1.0 / 7.0


@dataclass(frozen=True)
class ResourceParameters:
    """Parameters of the resource interpolation (``siting.resource``).

    Attributes
    ----------
    idw_power : float
        Exponent of the inverse-distance weights, Shepard (1968), "A
        two-dimensional interpolation function for irregularly-spaced data",
        Proc. 23rd ACM National Conference, doi:10.1145/800186.810616. [-]
    idw_background_distance_km : float
        Distance at which the gridded background (MERRA-2 for GHI) weighs as
        much as one station: a station anomaly fades back to the background
        beyond a few hundred km (policy, chosen by the leave-one-station-out
        check in ``tests/siting/test_resource.py``). [km]
    shear_exponent : float
        Power-law exponent for 80 m (WRF) -> hub height. [-]
    hub_height_m : float
        Height of the reported wind speed ``wind_speed_100m_m_s``. [m]
    wrf_height_m : float
        Height of the WRF layer (Hernández-Yepes et al. 2024, ``zh`` = 80). [m]
    station_height_m : float
        Anemometer height of the EPW station wind (WMO standard 10 m). [m]
    confidence_length_km : float
        e-folding distance of ``resource_confidence`` from the nearest station
        (policy). [km]
    pv_confidence_floor : float
        Confidence of GHI far from any station, where only MERRA-2 (about 5 %
        off the stations, SOURCES-weather.md §3) informs it (policy). [-]
    wind_confidence_floor : float
        Confidence of wind far from any station and outside WRF (policy). [-]
    wind_confidence_wrf : float
        Confidence inside a WRF domain (1 km mesoscale model, policy). [-]
    """

    idw_power: float = 2.0
    idw_background_distance_km: float = 250.0
    shear_exponent: float = HELLMANN_EXPONENT_NEUTRAL
    hub_height_m: float = 100.0
    wrf_height_m: float = 80.0
    station_height_m: float = 10.0
    confidence_length_km: float = 100.0
    pv_confidence_floor: float = 0.5
    wind_confidence_floor: float = 0.2
    wind_confidence_wrf: float = 0.9


#: Side of the raster on which the exclusion polygons are burnt before they are counted
#: per screening cell. [m]
#: NREL's reV aggregates 90 m exclusion rasters into its supply-curve cells and GLAES
#: works on 100 m pixels (Ryberg et al. 2018, "Evaluating land eligibility constraints of
#: renewable energy sources in Europe", Energies 11, 1246, doi:10.3390/en11051246); at
#: 100 m a 1 km cell is
#: 100 pixels, so its available fraction is known to 1 %, and the narrowest buffer
#: of the defaults (a 500 m village ring) spans ten pixels.
EXCLUSION_RESOLUTION_M = 100.0
#: Finest and coarsest exclusion raster accepted: below 10 m a corridor is 5 billion
#: pixels; above 1 km the raster is coarser than the finest screening cell. [m]
MIN_EXCLUSION_RESOLUTION_M = 10.0
MAX_EXCLUSION_RESOLUTION_M = 1000.0
#: Buffer around the major rivers of GSHHG/WDBII (policy). [m]
#: Mexico's Ley de Aguas Nacionales (art. 3, fr. XLVII) makes a 10 m strip beside the
#: bank at the ordinary maximum flow federal land ("zona federal"); the bundled lines are
#: centre lines simplified to 0.0005° (about 50 m, SOURCES-geo.md §5) of rivers whose beds
#: are tens to a few hundred metres wide. 250 m from the centre line covers half a wide
#: bed, the federal strip and the line's position error, and equals the lake buffer.
RIVER_BUFFER_M = 250.0
#: Smallest plant whose area keeps a cell open (policy with a legal floor). [MW]
#: Mexico's Ley de la Industria Eléctrica (2014) calls a plant below 0.5 MW distributed
#: generation (art. 3, fr. XXIII) and requires a CRE generation permit from 0.5 MW up
#: (art. 17): 0.5 MW is the smallest plant that sells on the wholesale market, the only
#: kind the fund finances. A cell whose available area holds less (0.010 km² for PV at
#: 48 MW/km², about one 100 m pixel; 0.1 km² for wind at 5 MW/km²) is ``excluded``; a
#: cell above it offers only its available capacity.
MIN_PLANT_MW = 0.5


@dataclass(frozen=True)
class ExclusionParameters:
    """Exclusion buffers (policy values unless a source is given).

    Attributes
    ----------
    protected_area_buffer_m : float
        Buffer around state protected natural areas. [m]
    urban_buffer_m : float
        Buffer around urban localities (INEGI ``ambito == 'urbano'``). [m]
    village_buffer_m : float
        Buffer around rural block localities (INEGI ``ambito == 'rural'``). [m]
    water_buffer_m : float
        Buffer around lakes and reservoirs (GSHHG). [m]
    river_buffer_m : float
        Buffer around the centre lines of the major rivers (GSHHG/WDBII classes 1-3), see
        :data:`RIVER_BUFFER_M`. [m]
    extra_buffer_m : float
        Buffer around any officer-imported layer. [m]
    exclude_dem_nodata : bool
        Exclude cells whose DEM value is missing (sea, outside Mexico).
    exclusion_resolution_m : float
        Side of the exclusion raster: every exclusion polygon is burnt on a grid of this
        size (or the next smaller divisor of the cell side) and counted per cell, see
        :data:`EXCLUSION_RESOLUTION_M`. [m]
    min_plant_mw : float
        A cell whose available area holds less than this capacity (at the technology's
        power density) is ``excluded``, see :data:`MIN_PLANT_MW`. [MW]
    """

    protected_area_buffer_m: float = 0.0
    urban_buffer_m: float = 1000.0
    village_buffer_m: float = 500.0
    water_buffer_m: float = 250.0
    river_buffer_m: float = RIVER_BUFFER_M
    extra_buffer_m: float = 0.0
    exclude_dem_nodata: bool = True
    exclusion_resolution_m: float = EXCLUSION_RESOLUTION_M
    min_plant_mw: float = MIN_PLANT_MW

    def __post_init__(self) -> None:
        if not MIN_EXCLUSION_RESOLUTION_M <= self.exclusion_resolution_m <= MAX_EXCLUSION_RESOLUTION_M:
            raise ValueError(
                f"exclusion_resolution_m must be between {MIN_EXCLUSION_RESOLUTION_M:g} and "
                f"{MAX_EXCLUSION_RESOLUTION_M:g} m, got {self.exclusion_resolution_m}")
        if self.min_plant_mw < 0:
            raise ValueError(f"min_plant_mw must be >= 0 MW, got {self.min_plant_mw}")


def _default_line_cost() -> Mapping[float, float]:
    return MappingProxyType({115.0: 560_000.0, 230.0: 810_000.0, 400.0: 1_240_000.0})


def _default_tap_cost() -> Mapping[float, float]:
    return MappingProxyType({115.0: 6_000_000.0, 230.0: 9_000_000.0, 400.0: 14_000_000.0})


@dataclass(frozen=True)
class ConnectionParameters:
    """Grid-connection cost model: a spur line plus a switching substation.

    ``connection_cost_usd = spur_cost_usd_per_km(V) * dist_line_km * routing_factor
    + tap_substation_cost_usd(V)`` for the voltage class ``V`` of the nearest
    line (the smallest class at or above the line's voltage).

    Attributes
    ----------
    spur_cost_usd_per_km : Mapping[float, float]
        Overhead single-circuit line cost by voltage class [kV -> USD/km].
        Screening-grade values inside the ranges of the MISO *Transmission
        Cost Estimation Guide for MTEP23* (2023): 115 kV about 0.9 M USD/mile,
        230 kV about 1.3 M USD/mile, 345 kV class (used for Mexico's 400 kV)
        about 2.0 M USD/mile, converted at 1.609 km/mile and rounded.
    tap_substation_cost_usd : Mapping[float, float]
        Switching station / line-tap bay cost by voltage class [kV -> USD],
        same source (substation section), rounded.
    unknown_voltage_kv : float
        Voltage class assumed for a line without a voltage tag (508 of 1,374
        OSM lines); 115 kV is the lowest transmission class of the Mexican
        grid (CENACE, PRODESEN 2023-2037), a conservative cost choice. [kV]
    routing_factor : float
        Route length over straight distance (policy; the OSM lines are
        straight node-to-node segments, SOURCES-geo.md §2). [-]
    reference_plant_mw : float
        Size of the reference plant that bears the connection cost in the
        LCOE (policy). [MW]
    """

    spur_cost_usd_per_km: Mapping[float, float] = field(default_factory=_default_line_cost)
    tap_substation_cost_usd: Mapping[float, float] = field(default_factory=_default_tap_cost)
    unknown_voltage_kv: float = 115.0
    routing_factor: float = 1.2
    reference_plant_mw: float = 100.0


@dataclass(frozen=True)
class CostParameters:
    """Plant cost inputs of the screening LCOE (before grid connection).

    Attributes
    ----------
    capital_cost_usd_per_kw : float
        Total installed cost. [USD/kW]
    fixed_operating_cost_usd_per_kw_year : float
        Fixed O&M. [USD/kW/yr]
    variable_operating_cost_usd_per_mwh : float
        Variable O&M. [USD/MWh]
    """

    capital_cost_usd_per_kw: float
    fixed_operating_cost_usd_per_kw_year: float
    variable_operating_cost_usd_per_mwh: float = 0.0


#: Utility PV costs: IRENA (2024), *Renewable Power Generation Costs in 2023*,
#: global weighted-average total installed cost 758 USD/kW; fixed O&M from
#: NREL ATB 2023 (utility-scale PV, moderate, 2023: about 22 USD/kWac/yr).
PV_COSTS = CostParameters(capital_cost_usd_per_kw=758.0, fixed_operating_cost_usd_per_kw_year=22.0)
#: Onshore wind costs: IRENA (2024), *Renewable Power Generation Costs in 2023*,
#: global weighted-average total installed cost 1,160 USD/kW; fixed O&M from
#: NREL ATB 2023 (land-based wind, moderate, 2023: about 43 USD/kW/yr).
WIND_COSTS = CostParameters(capital_cost_usd_per_kw=1160.0, fixed_operating_cost_usd_per_kw_year=43.0)


@dataclass(frozen=True)
class ConsultationParameters:
    """Rule that flags a cell for indigenous consultation review.

    A cell requires consultation when its municipality's INPI 2020 typology is
    in ``trigger_typology`` (A: >= 40 % indigenous population; B: < 40 % but
    more than 5,000 indigenous people), or when any INEGI locality of such a
    municipality lies within ``radius_km`` of the cell centre.  ILO Convention
    169 art. 6 and 15 require consultation of peoples "directly affected"; the
    typology is a trigger for review, not a clearance (SOURCES-geo.md §4).

    Attributes
    ----------
    radius_km : float
        Distance within which a triggering locality is "nearby" (policy). [km]
    trigger_typology : tuple of str
        INPI ``tipo_code`` values that trigger the rule.
    max_localities_listed : int
        How many nearest triggering localities are listed per cell.
    """

    radius_km: float = 5.0
    trigger_typology: tuple[str, ...] = ("A", "B")
    max_localities_listed: int = 3


@dataclass(frozen=True)
class ScoreWeights:
    """Weights and bounds of the screening score (policy, configurable).

    ``score = (w_lcoe * s_lcoe + w_grid * s_grid + w_community * s_community
    + w_confidence * resource_confidence + w_available_area * available_fraction)
    / (sum of weights)`` with
    ``s_lcoe = clip((lcoe_worst - lcoe) / (lcoe_worst - lcoe_best), 0, 1)``,
    ``s_grid = clip(1 - dist_line_km / grid_distance_worst_km, 0, 1)`` and
    ``s_community = 0`` when consultation is required, else 1;
    ``available_fraction`` is the share of the cell left for a plant, so of two
    cells alike the one offering more capacity scores higher.  Bounds are
    fixed numbers (not the min/max of the run) so that a cell scores the same
    in every tile.  Excluded cells get no score.
    """

    lcoe: float = 0.6
    grid: float = 0.15
    community: float = 0.15
    confidence: float = 0.1
    available_area: float = 0.1
    lcoe_best_usd_per_mwh: float = 20.0
    lcoe_worst_usd_per_mwh: float = 120.0
    grid_distance_worst_km: float = 50.0


@dataclass(frozen=True)
class TechnologyParameters:
    """Per-technology screening inputs.

    Attributes
    ----------
    technology : str
        ``"pv"`` or ``"wind"``.
    power_density_mw_per_km2 : float
        Installable capacity per available area. [MW/km²]
    slope_limit_pct : float
        Slope above which a cell is excluded. [%]
    costs : CostParameters
        Plant costs.
    max_grid_distance_km : float
        Site-check limit on the distance to the nearest line (policy). [km]
    """

    technology: str
    power_density_mw_per_km2: float
    slope_limit_pct: float
    costs: CostParameters
    max_grid_distance_km: float = 50.0


PV_PARAMETERS = TechnologyParameters("pv", PV_POWER_DENSITY_MW_PER_KM2, PV_SLOPE_LIMIT_PCT, PV_COSTS)
WIND_PARAMETERS = TechnologyParameters("wind", WIND_POWER_DENSITY_MW_PER_KM2, WIND_SLOPE_LIMIT_PCT, WIND_COSTS)


@dataclass(frozen=True)
class ScreeningParameters:
    """Every setting of one screening run.

    Attributes
    ----------
    technology : TechnologyParameters
    resource, exclusions, connection, consultation, weights
        See each class.
    fixed_charge_rate : float
        Fraction of capital cost charged per year in the LCOE (NREL SAM
        ``Lcoefcr``).  Default: the capital recovery factor at
        ``DEFAULT_REAL_DISCOUNT_RATE`` over ``DEFAULT_ECONOMIC_LIFE_YEARS``,
        ``0.07 / (1 - 1.07**-25) = 0.08581``. [1/yr]
    max_cells : int
        Largest number of cells of one request.
    """

    technology: TechnologyParameters
    resource: ResourceParameters = field(default_factory=ResourceParameters)
    exclusions: ExclusionParameters = field(default_factory=ExclusionParameters)
    connection: ConnectionParameters = field(default_factory=ConnectionParameters)
    consultation: ConsultationParameters = field(default_factory=ConsultationParameters)
    weights: ScoreWeights = field(default_factory=ScoreWeights)
    fixed_charge_rate: float = DEFAULT_REAL_DISCOUNT_RATE / (
        1.0 - (1.0 + DEFAULT_REAL_DISCOUNT_RATE) ** -DEFAULT_ECONOMIC_LIFE_YEARS
    )
    max_cells: int = MAX_CELLS_DEFAULT

    def __post_init__(self) -> None:
        if not 0.0 < self.fixed_charge_rate < 1.0:
            raise ValueError(f"fixed_charge_rate must be in (0, 1), got {self.fixed_charge_rate}")
        if self.max_cells < 1:
            raise ValueError(f"max_cells must be >= 1, got {self.max_cells}")


def default_parameters(technology: str) -> ScreeningParameters:
    """Default screening parameters for ``"pv"`` or ``"wind"``.

    Parameters
    ----------
    technology : str
        ``"pv"`` or ``"wind"``.

    Returns
    -------
    ScreeningParameters

    Examples
    --------
    >>> default_parameters("pv").technology.slope_limit_pct
    3.0
    """
    if technology == "pv":
        return ScreeningParameters(technology=PV_PARAMETERS)
    if technology == "wind":
        return ScreeningParameters(technology=WIND_PARAMETERS)
    raise ValueError(f"technology must be one of {TECHNOLOGIES}, got {technology!r}")
