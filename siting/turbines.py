"""Turbine catalogue from windpowerlib's bundled (offline) turbine library.

For ``GET /api/v1/turbines``: every turbine type that has a power curve, with
its rated power and the hub heights its data sheet lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import warnings
from importlib import resources

import numpy as np
import windpowerlib
from windpowerlib.wind_turbine import get_turbine_data_from_file

__all__ = ["TurbineType", "list_turbines", "turbine_types"]


@dataclass(frozen=True)
class TurbineType:
    """One turbine type.

    Attributes
    ----------
    turbine_type : str
        windpowerlib name, e.g. ``"E-126/4200"``.
    manufacturer : str
    rated_power_kw : float
        [kW]
    rotor_diameter_m : float or None
        [m]
    hub_heights_m : tuple of float
        Hub heights offered. [m]
    """

    turbine_type: str
    manufacturer: str
    rated_power_kw: float
    rotor_diameter_m: float | None
    hub_heights_m: tuple

    def to_dict(self) -> dict:
        return {"turbine_type": self.turbine_type, "manufacturer": self.manufacturer,
                "rated_power_kw": self.rated_power_kw, "rotor_diameter_m": self.rotor_diameter_m,
                "hub_heights_m": list(self.hub_heights_m)}


def _heights(value) -> tuple:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    out = []
    for part in str(value).replace(",", ";").split(";"):
        part = part.strip()
        try:
            out.append(float(part))
        except ValueError:
            continue
    return tuple(sorted(set(out)))


@lru_cache(maxsize=1)
def list_turbines() -> tuple[TurbineType, ...]:
    """All windpowerlib turbine types with a power curve (local library).

    Returns
    -------
    tuple of TurbineType
        Sorted by name.
    """
    names = windpowerlib.get_turbine_types(turbine_library="local", print_out=False,
                                           filter_=False)
    names = names[names["has_power_curve"].fillna(False).astype(bool)]
    # windpowerlib's own reader of its bundled turbine sheet (what WindTurbine uses)
    sheet = str(resources.files("windpowerlib").joinpath("oedb", "turbine_data.csv"))
    out = []
    for name in names["turbine_type"]:
        with warnings.catch_warnings():
            # windpowerlib 0.2.2 uses DataFrame.dropna(inplace=True), deprecated in pandas 3.1
            warnings.filterwarnings("ignore", message="The inplace keyword")
            row = get_turbine_data_from_file(name, sheet).iloc[0].to_dict()
        row["turbine_type"] = name
        diameter = row.get("rotor_diameter")
        out.append(TurbineType(
            turbine_type=str(row["turbine_type"]),
            manufacturer=str(row["manufacturer"]),
            rated_power_kw=float(row["nominal_power"]) / 1000.0,
            rotor_diameter_m=None if diameter is None or np.isnan(float(diameter))
            else float(diameter),
            hub_heights_m=_heights(row.get("hub_height")),
        ))
    return tuple(sorted({t.turbine_type: t for t in out}.values(),
                        key=lambda t: t.turbine_type))


def turbine_types() -> frozenset:
    """Names of the turbine types with a power curve."""
    return frozenset(t.turbine_type for t in list_turbines())
