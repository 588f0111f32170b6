"""Where an imported layer lies and how much it holds: on Mexico's land, and against the
layer it replaces.

Two checks of an officer's layer (``fondo data import``), run before anything is stored:

- :func:`check_on_land`: every feature must touch Mexico's land widened by
  :data:`LAND_TOLERANCE_M` (:func:`fondo.data.loaders.mexico_land`, EPSG:6372). A feature
  wholly beyond it (a polygon in Texas inside Mexico's bounding box, a point in the Gulf)
  refuses the file, naming how many and which (0-based indices in file order). A
  feature partly beyond it (a binational reservoir such as Falcón, a straight grid
  segment across a bay) is **kept whole, not clipped**, and reported: clipping to a
  generalised coastline would cut real coastal and island parts, and the screening uses
  a layer only where it overlaps land anyway.
- :func:`layer_change`: a replacement that would lose more than
  :data:`SHRINK_CONFIRMATION_FRACTION` of the served layer's features or of its area is
  refused unless confirmed; the :class:`LayerChange` summary (features and area before
  and after, in EPSG:6372) travels with the refusal and, on success, with the provenance.

Examples
--------
>>> from fondo.data.layer_extent import LayerChange
>>> change = LayerChange("imported", 10, 1, 500.0, 20.0, confirmed=False)
>>> change.shrinks
True
>>> change.describe()
'features 10 -> 1 (-90 %), area 500.0 -> 20.0 km² (-96 %)'
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely

from fondo.data.loaders import LAND_CRS, mexico_land

__all__ = [
    "LAND_TOLERANCE_M",
    "MAX_LISTED_FEATURES",
    "SHRINK_CONFIRMATION_FRACTION",
    "LandCheck",
    "LayerChange",
    "OutsideLandError",
    "area_km2",
    "check_on_land",
    "layer_change",
    "projected",
]

#: How far beyond Mexico's land a feature may lie and still count as touching it. [m]
#: Natural Earth 1:10m and INEGI's simplified boundaries disagree by up to 3.0 km along
#: the corridor states' coasts and borders (largest distance of an INEGI state-boundary
#: vertex from Natural Earth's land), and bundled OSM grid nodes on the coast lie up to
#: 1.2 km off Natural Earth's shoreline; 5 km covers both with a margin while refusing a
#: feature in Texas, Guatemala or the open sea. Every bundled vector layer passes.
LAND_TOLERANCE_M: float = 5_000.0

#: Largest fraction of the served layer's features, or of its area, a replacement may
#: lose without confirmation. [fraction] A new edition of a national layer corrects or
#: adds a few features; a file with less than half of what is served is a partial,
#: filtered or wrong file far more often than a real change.
SHRINK_CONFIRMATION_FRACTION: float = 0.5

#: Feature indices named in a message or a report; the count is always complete.
MAX_LISTED_FEATURES: int = 20

#: Square metres per square kilometre.
_M2_PER_KM2: float = 1e6


class OutsideLandError(ValueError):
    """Features lie wholly outside Mexico's land; ``indices`` are 0-based in file order."""

    def __init__(self, message: str, indices: list[int]):
        super().__init__(message)
        self.indices = indices


@dataclass(frozen=True)
class LandCheck:
    """What :func:`check_on_land` found.

    Parameters
    ----------
    tolerance_m : float
        Widening of Mexico's land used. [m]
    partly_outside_count : int
        Features that touch the widened land but are not wholly inside it (kept whole).
    partly_outside_indices : tuple of int
        The first :data:`MAX_LISTED_FEATURES` of them, 0-based in file order.
    """

    tolerance_m: float
    partly_outside_count: int
    partly_outside_indices: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able mapping."""
        return {"tolerance_m": self.tolerance_m, "partly_outside_count": self.partly_outside_count,
                "partly_outside_indices": list(self.partly_outside_indices)}


def projected(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Geometries of an EPSG:4326 frame in EPSG:6372 (metres), as a shapely array."""
    with warnings.catch_warnings():
        # pyproj 3.7 with numpy >= 1.25 warns on a 1-element array (see layer_validation).
        warnings.filterwarnings("ignore", message="Conversion of an array with ndim > 0",
                                category=DeprecationWarning)
        return frame.geometry.to_crs(LAND_CRS).to_numpy()


def area_km2(geometries: np.ndarray) -> float:
    """Sum of the areas of projected geometries (overlaps counted twice). [km²]

    Parameters
    ----------
    geometries : numpy.ndarray of shapely geometries
        In EPSG:6372 (:func:`projected`); points and lines have area 0.
    """
    return float(np.nansum(shapely.area(geometries))) / _M2_PER_KM2


def _listed(indices: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in indices[:MAX_LISTED_FEATURES])
    more = len(indices) - MAX_LISTED_FEATURES
    return shown + (f" and {more} more" if more > 0 else "")


def check_on_land(geometries: np.ndarray, file_name: str,
                  data_dir: Path | str, tolerance_m: float = LAND_TOLERANCE_M) -> LandCheck:
    """Refuse features wholly beyond Mexico's land; report those partly beyond it.

    Parameters
    ----------
    geometries : numpy.ndarray of shapely geometries
        The layer in EPSG:6372 (:func:`projected`), file order.
    file_name : str
        Named in the message.
    data_dir : path-like
        Bundled data directory (:func:`fondo.data.loaders.mexico_land`).
    tolerance_m : float
        Widening of the land. [m]

    Returns
    -------
    LandCheck

    Raises
    ------
    OutsideLandError
        When any feature does not touch the widened land; the message gives the count and
        the first indices, ``indices`` all of them.
    """
    land = mexico_land(data_dir, buffer_m=tolerance_m)
    shapely.prepare(land)
    touching = shapely.intersects(land, geometries)
    outside = np.flatnonzero(~touching)
    if outside.size:
        raise OutsideLandError(
            f"{file_name}: {outside.size} of {len(geometries)} features lie wholly outside "
            f"Mexico's land widened by {tolerance_m / 1000:g} km (feature indices, 0-based in "
            f"file order: {_listed(outside)}); remove them or correct their coordinates",
            [int(i) for i in outside],
        )
    partly = np.flatnonzero(~shapely.covers(land, geometries))
    return LandCheck(tolerance_m=float(tolerance_m), partly_outside_count=int(partly.size),
                     partly_outside_indices=tuple(int(i) for i in partly[:MAX_LISTED_FEATURES]))


# --------------------------------------------------------------------------- replacement


def _loss(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return max(0.0, (before - after) / before)


@dataclass(frozen=True)
class LayerChange:
    """The layer served now against the one an import would put in its place.

    Parameters
    ----------
    replaced : {"imported", "bundled"}
        Whether an earlier import or the bundled layer is being replaced.
    features_before, features_after : int
        Feature counts.
    area_km2_before, area_km2_after : float or None
        Summed feature areas in EPSG:6372 (polygon layers; None for points and lines,
        or when the served layer could not be read). [km²]
    confirmed : bool
        Whether the importer confirmed a shrink (``--confirm-shrink``).
    """

    replaced: Literal["imported", "bundled"]
    features_before: int
    features_after: int
    area_km2_before: float | None
    area_km2_after: float | None
    confirmed: bool

    @property
    def feature_loss_fraction(self) -> float | None:
        """Share of the features lost, 0 when none or more. [fraction]"""
        return _loss(self.features_before, self.features_after)

    @property
    def area_loss_fraction(self) -> float | None:
        """Share of the area lost, 0 when none or more, None without areas. [fraction]"""
        return _loss(self.area_km2_before, self.area_km2_after)

    @property
    def shrinks(self) -> bool:
        """True when features or area fall by more than :data:`SHRINK_CONFIRMATION_FRACTION`."""
        losses = (self.feature_loss_fraction, self.area_loss_fraction)
        return any(loss is not None and loss > SHRINK_CONFIRMATION_FRACTION for loss in losses)

    def describe(self) -> str:
        """One line: features and area before -> after with the change in percent."""
        def change(loss: float | None) -> str:
            return f" (-{loss * 100:.0f} %)" if loss else ""

        text = (f"features {self.features_before} -> {self.features_after}"
                f"{change(self.feature_loss_fraction)}")
        if self.area_km2_before is not None and self.area_km2_after is not None:
            text += (f", area {self.area_km2_before:.1f} -> {self.area_km2_after:.1f} km²"
                     f"{change(self.area_loss_fraction)}")
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-able mapping with the loss fractions and the threshold."""
        return {**asdict(self), "feature_loss_fraction": self.feature_loss_fraction,
                "area_loss_fraction": self.area_loss_fraction,
                "shrink_confirmation_fraction": SHRINK_CONFIRMATION_FRACTION}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> LayerChange:
        """Inverse of :meth:`to_dict` (derived keys ignored)."""
        return cls(record["replaced"], int(record["features_before"]),
                   int(record["features_after"]), record["area_km2_before"],
                   record["area_km2_after"], bool(record["confirmed"]))


def layer_change(replaced: Literal["imported", "bundled"], features_before: int,
                 area_km2_before: float | None, features_after: int,
                 area_km2_after: float | None, *, confirmed: bool) -> LayerChange:
    """Compare the served layer with its replacement (areas only for polygon layers).

    Parameters
    ----------
    replaced : {"imported", "bundled"}
        What is served now.
    features_before, features_after : int
        Feature counts.
    area_km2_before, area_km2_after : float or None
        Summed areas in EPSG:6372, None for points and lines. [km²]
    confirmed : bool
        Whether the importer confirmed a shrink.

    Returns
    -------
    LayerChange
    """
    if area_km2_before is None or area_km2_after is None:
        area_km2_before = area_km2_after = None
    return LayerChange(replaced, int(features_before), int(features_after),
                       None if area_km2_before is None else round(float(area_km2_before), 3),
                       None if area_km2_after is None else round(float(area_km2_after), 3),
                       confirmed)
