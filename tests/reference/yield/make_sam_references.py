"""Write the NREL SAM references of the yield tests from the bundled EPW files.

Run by hand from the repository root, with PySAM (``nrel-pysam``) installed::

    .venv/bin/python tests/reference/yield/make_sam_references.py

It writes ``sam_pvwattsv8.json`` (PySAM ``Pvwattsv8``) and ``sam_windpower.json`` (PySAM
``Windpower``) next to this script. Each file records the PySAM version, the SHA-256 of
every EPW file it read, the exact inputs of each case and SAM's outputs (annual and
monthly energy). ``tests/siting/test_vs_sam.py`` compares Fondo with the stored outputs, so
it runs without PySAM; its freshness test re-runs a few cases through this module when
PySAM is importable and fails if the stored outputs are stale.

SAM gets the values Fondo reads from the EPW (:func:`siting.weather.parse_epw`, the file
parser, not the model under test). The wind resource at hub height is worked out here from
the published formulas, not from Fondo's wind model: windpowerlib's logarithmic profile
without obstacle height, its linear temperature gradient and its barometric pressure
(see :func:`wind_resource_at_hub`). The power curve is windpowerlib's for the turbine
type, read directly from windpowerlib's turbine library.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
if str(ROOT) not in sys.path:  # run as a script: make ``siting`` and ``tests`` importable
    sys.path.insert(0, str(ROOT))

from siting.weather import parse_epw
from tests.siting.conftest import DATA_DIR, sam_solar_resource

PV_FILE = HERE / "sam_pvwattsv8.json"
WIND_FILE = HERE / "sam_windpower.json"

#: PV plant of every case: DC capacity [kW] and total system losses [fraction].
CAPACITY_DC_KW = 1000.0
SYSTEM_LOSSES = 0.140757
AZIMUTH_DEG = 180.0
PV_STATIONS = ("765710", "766250", "763930", "763990", "762430")
PV_CONFIGS = [  # (label, SAM array_type, tilt [°], gcr [-], dc/ac [-])
    ("fixed 20° gcr0.30 dc/ac1.15", 0, 20.0, 0.30, 1.15),
    ("fixed 30° gcr0.45 dc/ac1.30", 0, 30.0, 0.45, 1.30),
    ("fixed 10° gcr0.30 dc/ac1.50", 0, 10.0, 0.30, 1.50),
    ("1-axis bt gcr0.35 dc/ac1.30", 3, 0.0, 0.35, 1.30),
    ("1-axis bt gcr0.30 dc/ac1.10", 3, 0.0, 0.30, 1.10),
]

#: Wind: station anemometer height [m], roughness length [m], temperature sensor height
#: [m], windpowerlib's gradients (−6.5 K/km, −1/8 hPa/m), one turbine, no losses.
MEASUREMENT_HEIGHT_M = 10.0
ROUGHNESS_LENGTH_M = 0.1
TEMPERATURE_HEIGHT_M = 2.0
TEMPERATURE_GRADIENT_K_PER_M = 0.0065
PRESSURE_GRADIENT_HPA_PER_M = 1.0 / 8.0
ROTOR_DIAMETER_M = 126.0
WIND_SHEAR = 0.14  # SAM input; unused with the resource given at hub height
WIND_CASES = [  # (station, windpowerlib turbine type, hub height [m])
    ("763990", "E-126/4200", 135.0), ("763990", "V126/3300", 117.0),
    ("762863", "E-126/4200", 135.0), ("762863", "V126/3300", 117.0),
    ("763503", "E-126/4200", 135.0), ("762430", "V126/3300", 117.0),
    ("765260", "E-126/4200", 135.0), ("765260", "V126/3300", 117.0),
    # Saltillo, 1,790 m, ρ ≈ 0.97 kg/m³: the density correction matters most here
    ("763900", "E-126/4200", 135.0), ("763900", "V126/3300", 117.0),
]


def pysam_version() -> str:
    return importlib.metadata.version("nrel-pysam")


def epw_paths(data_dir: Path = DATA_DIR) -> dict[str, Path]:
    """WMO id → bundled EPW file."""
    return {p.name.split("_TMYx")[0].rsplit(".", 1)[-1]: p
            for p in sorted((data_dir / "weather").glob("*.epw"))}


def epw_record(path: Path) -> dict:
    return {"file": f"data/weather/{path.name}",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def pv_case_inputs(station_id: str, label: str, array_type: int, tilt: float, gcr: float,
                   dc_ac: float) -> dict:
    """Inputs of one PV case, in Fondo's names and units."""
    return {"station_id": station_id, "configuration": label, "sam_array_type": array_type,
            "tracking": array_type == 3, "tilt_deg": tilt, "azimuth_deg": AZIMUTH_DEG,
            "gcr": gcr, "dc_ac_ratio": dc_ac, "capacity_dc_kw": CAPACITY_DC_KW,
            "system_losses": SYSTEM_LOSSES}


def pv_cases() -> list[dict]:
    return [pv_case_inputs(sid, *config) for sid in PV_STATIONS for config in PV_CONFIGS]


def wind_cases() -> list[dict]:
    """Inputs of the wind cases, in Fondo's names and units."""
    return [{"station_id": sid, "turbine_type": turbine, "hub_height_m": hub,
             "measurement_height_m": MEASUREMENT_HEIGHT_M,
             "roughness_length_m": ROUGHNESS_LENGTH_M, "turbine_count": 1,
             "wake_losses": 0.0, "other_losses": 0.0} for sid, turbine, hub in WIND_CASES]


def run_sam_pv(frame, station, case: dict) -> tuple[dict, dict]:
    """SAM ``Pvwattsv8`` on one case: (SAM ``SystemDesign`` inputs, outputs)."""
    from PySAM import Pvwattsv8

    m = Pvwattsv8.default("PVWattsNone")
    m.SolarResource.solar_resource_data = sam_solar_resource(frame, station)
    m.SystemDesign.array_type = float(case["sam_array_type"])
    m.SystemDesign.tilt = float(case["tilt_deg"])
    m.SystemDesign.azimuth = float(case["azimuth_deg"])
    m.SystemDesign.gcr = float(case["gcr"])
    m.SystemDesign.dc_ac_ratio = float(case["dc_ac_ratio"])
    m.SystemDesign.system_capacity = float(case["capacity_dc_kw"])
    m.SystemDesign.losses = float(case["system_losses"]) * 100.0
    m.execute()
    out = m.Outputs
    sky = np.array(out.ss_sky_diffuse_factor)
    up = (np.array(out.sunup) == 1) & (sky < 1)
    outputs = {"annual_energy_kwh": float(out.annual_energy),
               "monthly_energy_kwh": [float(x) for x in out.monthly_energy],
               # SAM's self-shading sky-view derate of a fixed row (first sun-up hour)
               "sky_diffuse_factor": float(sky[up][0]) if case["sam_array_type"] == 0 else None}
    design = {k: (list(v) if isinstance(v, tuple) else v)
              for k, v in m.SystemDesign.export().items()}
    return design, outputs


def power_curve(turbine_type: str) -> tuple[list[float], list[float], float]:
    """windpowerlib's power curve: wind speeds [m/s], power [kW], nominal power [kW]."""
    import windpowerlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside windpowerlib
        turbine = windpowerlib.WindTurbine(turbine_type=turbine_type, hub_height=100.0)
    curve = turbine.power_curve
    return ([float(x) for x in curve["wind_speed"]],
            [float(x) / 1000.0 for x in curve["value"]], float(turbine.nominal_power) / 1000.0)


def wind_resource_at_hub(frame, case: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hub-height wind speed [m/s], temperature [°C] and pressure [Pa] from the station.

    ``v_hub = v · ln(h/z0) / ln(h_meas/z0)``; ``T_hub = T − 0.0065 · (h − 2)``;
    ``p_hub = (p/100 − h/8) · 100`` (windpowerlib's profile, gradient and barometric
    formula, heights from the station ground, site at the station's elevation).
    """
    hub = case["hub_height_m"]
    z0 = case["roughness_length_m"]
    speed = (frame["wind_speed"].to_numpy(dtype=float) * np.log(hub / z0)
             / np.log(case["measurement_height_m"] / z0))
    temp = frame["temp_air"].to_numpy(dtype=float) - TEMPERATURE_GRADIENT_K_PER_M * (
        hub - TEMPERATURE_HEIGHT_M)
    pressure = (frame["atmospheric_pressure"].to_numpy(dtype=float) / 100.0
                - hub * PRESSURE_GRADIENT_HPA_PER_M) * 100.0
    return speed, temp, pressure


def run_sam_wind(frame, station, case: dict) -> tuple[dict, dict]:
    """SAM ``Windpower`` on one case: (SAM inputs, outputs)."""
    from PySAM import Windpower

    speeds, power, nominal = power_curve(case["turbine_type"])
    hub = float(case["hub_height_m"])
    speed, temp, pressure = wind_resource_at_hub(frame, case)
    m = Windpower.default("WindPowerNone")
    m.Resource.wind_resource_model_choice = 0.0
    m.Resource.wind_resource_data = {
        "heights": [hub] * 4, "fields": [1.0, 2.0, 3.0, 4.0],  # T [°C], p [atm], v, direction
        "data": [[float(t), float(p / 101325.0), float(v), 180.0]
                 for t, p, v in zip(temp, pressure, speed)],
        "lat": float(station.latitude), "lon": float(station.longitude),
        "elev": float(station.elevation_m)}
    m.Turbine.wind_turbine_hub_ht = hub
    m.Turbine.wind_turbine_powercurve_windspeeds = tuple(speeds)
    m.Turbine.wind_turbine_powercurve_powerout = tuple(power)
    m.Turbine.wind_turbine_rotor_diameter = ROTOR_DIAMETER_M
    m.Turbine.wind_resource_shear = WIND_SHEAR
    m.Farm.wind_farm_xCoordinates = (0.0,)
    m.Farm.wind_farm_yCoordinates = (0.0,)
    m.Farm.system_capacity = nominal
    for name in m.Losses.export():
        setattr(m.Losses, name, 0.0)
    m.execute()
    sam_inputs = {
        "wind_resource": {
            "heights_m": [hub] * 4, "fields": "temperature °C, pressure atm, speed m/s, "
                                              "direction 180° (8,760 hourly rows)",
            "lat": float(station.latitude), "lon": float(station.longitude),
            "elev": float(station.elevation_m),
            "hub_wind_speed_mean_m_s": float(speed.mean()),
            "hub_temp_air_mean_c": float(temp.mean()),
            "hub_pressure_mean_pa": float(pressure.mean())},
        "Turbine": {k: (list(v) if isinstance(v, tuple) else v)
                    for k, v in m.Turbine.export().items()},
        "Farm": {k: (list(v) if isinstance(v, tuple) else v) for k, v in m.Farm.export().items()},
        "Losses": m.Losses.export(),
    }
    outputs = {"annual_energy_kwh": float(m.Outputs.annual_energy),
               "monthly_energy_kwh": [float(x) for x in m.Outputs.monthly_energy]}
    return sam_inputs, outputs


def _parse(path: Path):
    return parse_epw(path.read_bytes(), path.name)


def build_pv_reference(data_dir: Path = DATA_DIR, cases: list[dict] | None = None) -> dict:
    paths = epw_paths(data_dir)
    cases = pv_cases() if cases is None else cases
    parsed = {sid: _parse(paths[sid]) for sid in {c["station_id"] for c in cases}}
    out = []
    for case in cases:
        frame, station = parsed[case["station_id"]]
        design, outputs = run_sam_pv(frame, station, case)
        out.append({"inputs": case, "sam_system_design": design, "sam": outputs})
    return {
        "source": f"NREL SAM via PySAM {pysam_version()} (nrel-pysam), compute module "
                  "Pvwattsv8, defaults 'PVWattsNone'",
        "licence": "BSD-3-Clause (PySAM and SAM's SSC)",
        "pysam_version": pysam_version(),
        "made_by": "tests/reference/yield/make_sam_references.py",
        "notes": "solar_resource_data from the parsed EPW (minute = 30: mid-interval sun); "
                 "losses = system_losses * 100; other SystemDesign values are "
                 "PVWattsNone's defaults (recorded per case); no shading, no adjustment. "
                 "Energies are AC. [kWh]",
        "weather": {sid: {"station": parsed[sid][1].name, **epw_record(paths[sid])}
                    for sid in sorted(parsed)},
        "cases": out,
    }


def build_wind_reference(data_dir: Path = DATA_DIR, cases: list[dict] | None = None) -> dict:
    paths = epw_paths(data_dir)
    cases = wind_cases() if cases is None else cases
    parsed = {sid: _parse(paths[sid]) for sid in {c["station_id"] for c in cases}}
    out = []
    for case in cases:
        frame, station = parsed[case["station_id"]]
        sam_inputs, outputs = run_sam_wind(frame, station, case)
        out.append({"inputs": case, "sam_inputs": sam_inputs, "sam": outputs})
    return {
        "source": f"NREL SAM via PySAM {pysam_version()} (nrel-pysam), compute module "
                  "Windpower, defaults 'WindPowerNone'",
        "licence": "BSD-3-Clause (PySAM and SAM's SSC)",
        "pysam_version": pysam_version(),
        "made_by": "tests/reference/yield/make_sam_references.py",
        "notes": "One turbine, all SAM losses 0, windpowerlib's power curve of the turbine "
                 "type; wind_resource_data at hub height: speed by the logarithmic profile "
                 "from 10 m (z0 = roughness_length_m), temperature -6.5 K/km from a 2 m "
                 "sensor, pressure -1/8 hPa/m (see wind_resource_at_hub). SAM applies its "
                 "own air-density correction. Energies are AC. [kWh]",
        "weather": {sid: {"station": parsed[sid][1].name, **epw_record(paths[sid])}
                    for sid in sorted(parsed)},
        "cases": out,
    }


#: A JSON array of numbers spread over lines by ``indent``.
_NUMBER_ARRAY = re.compile(r"\[\s*(-?[0-9][^\[\]{}\"]*?)\s*\]")


def write_json(path: Path, body: dict) -> None:
    """Write ``body`` indented, each array of numbers on one line (floats round-trip)."""
    text = json.dumps(body, indent=1, ensure_ascii=False, allow_nan=False)
    text = _NUMBER_ARRAY.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
    path.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    for path, build in ((PV_FILE, build_pv_reference), (WIND_FILE, build_wind_reference)):
        body = build()
        write_json(path, body)
        print(f"{path.relative_to(ROOT)}: {len(body['cases'])} cases, "
              f"PySAM {body['pysam_version']}")


if __name__ == "__main__":
    main()
