"""Candidate site check: a point or polygon -> attributes and a list of constraints.

A polygon is checked as drawn.  A point stands for the reference plant
(:attr:`ConnectionParameters.reference_plant_mw`) centred on it: a disc of
area ``reference_plant_mw / power density``.  Point attributes (resource,
grid, place, communities, energy, LCOE) are those of the site's centroid
(``representative_point`` if the centroid falls outside), computed by the
same code as the screening; terrain is the mean over the DEM cells inside
the site; exclusions are the exact overlap areas of the buffered layers
(``excluded_km2_by_reason``).  A point also gets its screening cell
(``cell``): the lattice cell of ``resolution_km`` holding it, screened by
:func:`siting.screening.screen_cells` over the corridors exactly as a corridor
screening screens it (same ``cell_id``, available share and reasons).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from siting import exclusions, terrain
from siting.grid import AreaRequest, M_PER_KM, resolution_m, cell_ids, cell_index_of, parse_area, validate_area
from siting.layers import ScreeningLayers
from siting.parameters import DEFAULT_RESOLUTION_KM, GEOGRAPHIC_CRS, PROJECTED_CRS, ScreeningParameters
from siting.screening import EXCLUDED_FRACTION_PREFIX, screen_cells

__all__ = ["Constraint", "SiteCheck", "check_site", "corridors_6372", "screening_cell", "POINT_CELL_SIZE_M"]

#: Side of the one-cell lattice used to evaluate the screening at a point. [m]
POINT_CELL_SIZE_M = 1.0
#: Extra distance around the site within which exclusion features are considered. [m]
SEARCH_MARGIN_M = 1000.0
#: Overlap area regarded as no overlap (rounding of polygon operations). [km²]
OVERLAP_TOLERANCE_KM2 = 1e-6


@dataclass(frozen=True)
class Constraint:
    """One check of a site.

    Attributes
    ----------
    name : str
        ``slope_pct``, ``protected_area_km2``, ``dist_line_km``, ...
    passed : bool
    value : float
        Measured value (unit in ``name``).
    limit : float
        Allowed maximum (unit in ``name``).
    reason : str
        Human-readable explanation.
    """

    name: str
    passed: bool
    value: float
    limit: float
    reason: str


@dataclass(frozen=True)
class SiteCheck:
    """Result of :func:`check_site`.

    Attributes
    ----------
    attributes : dict
        The screening attributes at the site's centroid (the columns of
        :data:`siting.screening.CELL_COLUMNS` except the cell-lattice ones),
        with ``elevation_m`` / ``slope_pct`` averaged over the site.
    area_km2 : float
        Site area. [km²]
    available_area_km2 : float
        Area outside every exclusion and below the slope limit. [km²]
    capacity_mw : float
        ``available_area_km2 * power density``. [MW]
    nearest_station : dict
        ``station_id``, ``name``, ``distance_km``.
    constraints : tuple of Constraint
    passed : bool
        All constraints passed.
    repairs : tuple of str
        Input repairs (e.g. ``make_valid``).
    geometry_4326 : shapely geometry
        The checked footprint. [EPSG:4326]
    excluded_km2_by_reason : dict
        Area of the footprint each exclusion takes, by code (``protected_area``,
        ``urban_area``, ..., ``slope``); the layers may overlap. [km²]
    available_fraction : float
        ``available_area_km2 / area_km2``. [-]
    cell : dict or None
        For a point, its screening cell: ``cell_id``, ``resolution_km``,
        ``cell_area_km2``, ``available_fraction``, ``available_km2``,
        ``capacity_mw``, ``excluded``, ``exclusion_reasons`` and
        ``excluded_km2_by_reason``; None for a polygon.
    """

    attributes: dict
    area_km2: float
    available_area_km2: float
    capacity_mw: float
    nearest_station: dict
    constraints: tuple[Constraint, ...]
    passed: bool
    repairs: tuple[str, ...] = ()
    geometry_4326: object = field(default=None, repr=False)
    excluded_km2_by_reason: dict = field(default_factory=dict)
    available_fraction: float = math.nan
    cell: dict | None = None


def _near(frame: gpd.GeoDataFrame, zone) -> gpd.GeoDataFrame:
    """Features of ``frame`` that intersect ``zone`` (same CRS)."""
    return frame.iloc[np.sort(frame.sindex.query(zone, predicate="intersects"))]


def _footprint(request: AreaRequest, params: ScreeningParameters) -> tuple[object, object, list[str]]:
    notes = list(request.repairs)
    g = request.geometry_6372
    if g.geom_type in ("Point", "MultiPoint"):
        area_m2 = params.connection.reference_plant_mw / params.technology.power_density_mw_per_km2 * M_PER_KM**2
        radius = math.sqrt(area_m2 / math.pi)
        g = shapely.buffer(shapely.centroid(g), radius, quad_segs=16)
        notes.append(
            f"point taken as a {params.connection.reference_plant_mw:g} MW reference plant: "
            f"disc of radius {radius:.0f} m"
        )
    g4326 = gpd.GeoSeries([g], crs=PROJECTED_CRS).to_crs(GEOGRAPHIC_CRS).iloc[0]
    return g, g4326, notes


def _dem_stats(layers: ScreeningLayers, g4326, limit_pct: float) -> tuple[float, float, float, float]:
    """Mean elevation, mean and max slope, fraction above limit over the DEM cells in the site."""
    t = layers.dem_transform
    minx, miny, maxx, maxy = g4326.bounds
    c0 = max(int(math.floor((minx - t.c) / t.a)), 0)
    c1 = min(int(math.ceil((maxx - t.c) / t.a)), layers.dem_m.shape[1])
    r0 = max(int(math.floor((maxy - t.f) / t.e)), 0)
    r1 = min(int(math.ceil((miny - t.f) / t.e)), layers.dem_m.shape[0])
    if c1 > c0 and r1 > r0:
        wt = t @ t.translation(c0, r0)
        inside = features.geometry_mask([g4326], out_shape=(r1 - r0, c1 - c0), transform=wt, invert=True)
        elev = layers.dem_m[r0:r1, c0:c1][inside]
        slope = layers.slope_pct[r0:r1, c0:c1][inside]
        ok = np.isfinite(slope)
        if ok.any():
            return (float(np.nanmean(elev)), float(slope[ok].mean()), float(slope[ok].max()),
                    float((slope[ok] > limit_pct).mean()))
    c = shapely.centroid(g4326)
    e = float(terrain.sample_raster(layers.dem_m, t, [c.x], [c.y])[0])
    s = float(terrain.sample_raster(layers.slope_pct, t, [c.x], [c.y])[0])
    return e, s, s, float(s > limit_pct) if np.isfinite(s) else math.nan


def corridors_6372(layers: ScreeningLayers):
    """Union of the corridor states in EPSG:6372 (the area of a corridor screening), built once per layers."""
    key = ("corridors_6372",)
    if key not in layers.derived:
        layers.derived[key] = shapely.union_all(layers.states.geometry.values)
    return layers.derived[key]


def screening_cell(
    x_m: float, y_m: float, layers: ScreeningLayers, params: ScreeningParameters, resolution_km: float, **kwargs
) -> dict:
    """The screening cell holding an EPSG:6372 point, as a corridor screening computes it.

    Parameters
    ----------
    x_m, y_m : float
        The point. [EPSG:6372, m]
    layers, params
        As for :func:`siting.screening.screen_cells`.
    resolution_km : float
        Cell size of the lattice. [km]
    **kwargs
        ``energy``, ``lcoe``, ``exclusion_layers`` of :func:`~siting.screening.screen_cells`.

    Returns
    -------
    dict
        ``cell_id``, ``resolution_km``, ``cell_area_km2``, ``available_fraction``,
        ``available_km2``, ``outside_area_fraction``, ``capacity_mw``, ``excluded``,
        ``exclusion_reasons`` and ``excluded_km2_by_reason`` (share x cell area, by code).
    """
    r = resolution_m(resolution_km)
    ix, iy = (int(v[0]) for v in cell_index_of([x_m], [y_m], r))
    box = shapely.box(ix * r, iy * r, (ix + 1) * r, (iy + 1) * r)
    cell = gpd.GeoDataFrame(
        {"cell_id": cell_ids(np.array([ix]), np.array([iy]), r), "ix": [ix], "iy": [iy],
         "x_m": [(ix + 0.5) * r], "y_m": [(iy + 0.5) * r], "cell_area_km2": [(r / M_PER_KM) ** 2]},
        geometry=[box], crs=PROJECTED_CRS,
    )
    row = screen_cells(cell, layers, params, area_6372=corridors_6372(layers), **kwargs).iloc[0]
    area = float(row["cell_area_km2"])
    return {
        "cell_id": str(row["cell_id"]),
        "resolution_km": float(resolution_km),
        "cell_area_km2": area,
        "available_fraction": float(row["available_fraction"]),
        "available_km2": float(row["available_km2"]),
        "outside_area_fraction": float(row["outside_area_fraction"]),
        "capacity_mw": float(row["capacity_mw"]),
        "excluded": bool(row["excluded"]),
        "exclusion_reasons": str(row["exclusion_reasons"]),
        "excluded_km2_by_reason": {
            k.removeprefix(EXCLUDED_FRACTION_PREFIX): float(v) * area
            for k, v in row.items() if k.startswith(EXCLUDED_FRACTION_PREFIX)
        },
    }


def check_site(
    geometry,
    layers: ScreeningLayers,
    params: ScreeningParameters,
    *,
    energy=None,
    lcoe=None,
    extra_layers=None,
    exclusion_layers=None,
    resolution_km: float = DEFAULT_RESOLUTION_KM,
) -> SiteCheck:
    """Check a candidate site against every screening constraint.

    Parameters
    ----------
    geometry : dict, str, bytes or shapely geometry
        GeoJSON Point / Polygon / MultiPolygon (or Feature) in EPSG:4326, or
        a shapely geometry in EPSG:4326.
    layers : ScreeningLayers
    params : ScreeningParameters
    energy, lcoe : optional
        Steps as in :func:`siting.screening.screen_cells`.
    extra_layers : mapping of str to GeoDataFrame, optional
        Officer-imported exclusion layers.
    exclusion_layers : tuple of ExclusionLayer, optional
        Pre-buffered layers (overrides ``extra_layers``).
    resolution_km : float
        Lattice of the point's screening cell (``SiteCheck.cell``). [km]

    Returns
    -------
    SiteCheck

    Raises
    ------
    ScreeningInputError
        On bad geometry (see :func:`siting.grid.parse_area`).
    """
    if isinstance(geometry, shapely.Geometry):
        request = validate_area(geometry, mexico_4326=layers.mexico_4326, corridors_4326=layers.corridors_4326)
    else:
        request = parse_area(geometry, mexico_4326=layers.mexico_4326, corridors_4326=layers.corridors_4326)
    site, site4326, notes = _footprint(request, params)
    tech = params.technology
    is_point = request.geometry_6372.geom_type in ("Point", "MultiPoint")
    if exclusion_layers is None:
        # only the features that can reach the site are buffered (a site is small)
        ex = params.exclusions
        reach = max(ex.protected_area_buffer_m, ex.urban_buffer_m, ex.village_buffer_m, ex.water_buffer_m,
                    ex.river_buffer_m, ex.extra_buffer_m) + SEARCH_MARGIN_M
        cell_m = resolution_m(resolution_km) * math.sqrt(2.0) if is_point else 0.0  # the point's cell too
        zone = shapely.buffer(site, reach + cell_m)
        exclusion_layers = exclusions.prepare_exclusion_layers(
            protected_areas=_near(layers.protected_areas, zone),
            localities_polygons=_near(layers.localities_polygons, zone),
            water_bodies=_near(layers.water_bodies, zone),
            rivers=None if layers.rivers is None else _near(layers.rivers, zone), params=ex,
            extra_layers={k: _near(v.to_crs(PROJECTED_CRS), zone) for k, v in (extra_layers or {}).items()},
        )
    # attributes at the representative point, through the screening code path
    p = shapely.centroid(site)
    if not shapely.contains(site, p):
        p = shapely.point_on_surface(site)
    r = POINT_CELL_SIZE_M
    ix, iy = int(math.floor(p.x / r)), int(math.floor(p.y / r))
    cell = gpd.GeoDataFrame(
        {"cell_id": ["site"], "ix": [ix], "iy": [iy], "x_m": [p.x], "y_m": [p.y], "cell_area_km2": [(r / M_PER_KM) ** 2]},
        geometry=[p], crs=PROJECTED_CRS,
    )
    row = screen_cells(cell, layers, params, energy=energy, lcoe=lcoe, exclusion_layers=exclusion_layers).iloc[0]
    skip = {"cell_id", "ix", "iy", "x_m", "y_m", "cell_area_km2", "geometry", "rank", "score", "available_area_km2",
            "capacity_mw", "excluded", "exclusion_reasons", "available_fraction", "available_km2",
            "outside_area_fraction"}
    attributes = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()
                  if k not in skip and not k.startswith(EXCLUDED_FRACTION_PREFIX)}

    area_km2 = float(site.area) / M_PER_KM**2
    elev, slope_mean, slope_max, frac_steep = _dem_stats(layers, site4326, tech.slope_limit_pct)
    attributes.update(elevation_m=elev, slope_pct=slope_mean, slope_max_pct=slope_max)

    constraints: list[Constraint] = []
    covered = []
    by_reason: dict[str, float] = {}
    for layer in exclusion_layers:
        a, names = exclusions.overlap_km2(layer, site)
        by_reason[layer.code] = a
        passed = a <= OVERLAP_TOLERANCE_KM2
        if not passed:
            hits = [g for g in layer.geometries[layer.tree.query(site, predicate="intersects")]]
            covered.append(shapely.intersection(shapely.union_all(hits), site))
        constraints.append(Constraint(
            f"{layer.code}_overlap_km2", passed, a, 0.0,
            "no overlap with " + layer.reason if passed else f"{a:.3f} km² inside {layer.reason}: {', '.join(names)}",
        ))
    steep_ok = np.isfinite(slope_mean) and slope_mean <= tech.slope_limit_pct
    constraints.append(Constraint(
        "slope_pct", bool(steep_ok), slope_mean, tech.slope_limit_pct,
        f"mean DEM slope {slope_mean:.1f} % vs {tech.technology} limit {tech.slope_limit_pct:g} % "
        f"(max {slope_max:.1f} %; {100 * frac_steep:.0f} % of the site above the limit)"
        if np.isfinite(slope_mean) else "no terrain data at the site",
    ))
    d_line = float(attributes["dist_line_km"])
    constraints.append(Constraint(
        "dist_line_km", d_line <= tech.max_grid_distance_km, d_line, tech.max_grid_distance_km,
        f"nearest line ({attributes['line_voltage_kv']} kV) at {d_line:.1f} km; limit {tech.max_grid_distance_km:g} km",
    ))
    consult = bool(attributes["consultation_required"])
    requirement = str(attributes.get("consultation_requirement",
                                     "required" if consult else "not_required"))
    constraints.append(Constraint(
        "consultation_locality_count", not consult,
        float(attributes["consultation_locality_count"]), 0.0,
        ("indigenous consultation required: " + str(attributes["consultation_reason"])
         + (f" ({attributes['consultation_localities']})" if attributes["consultation_localities"] else ""))
        if consult else "identification required: INPI type C (indigenous population) in the "
        f"municipality or within {params.consultation.radius_km:g} km; the fund must identify at "
        "locality level whether a community may be affected"
        if requirement == "identification_required" else "consultation not required: no INPI "
        f"locality with indigenous population within {params.consultation.radius_km:g} km",
    ))
    lcoe_value = float(attributes["lcoe_usd_per_mwh"])
    worst = params.weights.lcoe_worst_usd_per_mwh
    constraints.append(Constraint(
        "lcoe_usd_per_mwh", bool(np.isfinite(lcoe_value) and lcoe_value <= worst), lcoe_value, worst,
        f"LCOE {lcoe_value:.1f} USD/MWh incl. grid connection vs {worst:g} USD/MWh (score floor)",
    ))

    excluded_km2 = float(shapely.union_all(covered).area) / M_PER_KM**2 if covered else 0.0
    frac = 0.0 if not np.isfinite(frac_steep) else frac_steep
    available = max(area_km2 - excluded_km2, 0.0) * (1.0 - frac)
    by_reason["slope"] = area_km2 * frac
    st = layers.stations.iloc[int(np.argmin(np.hypot(*(layers.station_xy_m - [p.x, p.y]).T)))]
    nearest = {
        "station_id": str(st["station_id"]),
        "name": str(st["name"]),
        "distance_km": float(attributes["dist_station_km"]),
    }
    return SiteCheck(
        attributes=attributes,
        area_km2=area_km2,
        available_area_km2=available,
        capacity_mw=available * tech.power_density_mw_per_km2,
        nearest_station=nearest,
        constraints=tuple(constraints),
        passed=all(c.passed for c in constraints),
        repairs=tuple(notes),
        geometry_4326=site4326,
        excluded_km2_by_reason=by_reason,
        available_fraction=available / area_km2 if area_km2 > 0 else math.nan,
        cell=screening_cell(shapely.centroid(request.geometry_6372).x, shapely.centroid(request.geometry_6372).y,
                            layers, params, resolution_km, energy=energy, lcoe=lcoe,
                            exclusion_layers=exclusion_layers) if is_point else None,
    )
