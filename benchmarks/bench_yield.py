"""Speed of the yield engine, each figure as a ratio against PySAM one site at a time.

Rows (see ``run``):

- detailed PV study (``run_pv_study``) per site-year, bar ≤ 100 ms;
- batch PV (Perez sky, half fixed / half trackers), bar ≥ 2,000 site-years/s;
- batch wind, bar ≥ 15,000 site-years/s;
- batch working memory (tracemalloc peak), bar ≤ 1 GB.

References run in the same process: PySAM ``Pvwattsv8`` and ``Windpower`` on the same
weather, one site per call (the way SAM is used), including the time to hand it the
weather. Run: ``.venv/bin/python benchmarks/bench_yield.py``.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
#: Issue 3 bars.
DETAILED_PV_BAR_MS = 100.0
BATCH_PV_BAR_SITE_YEARS_PER_S = 2000.0
BATCH_WIND_BAR_SITE_YEARS_PER_S = 15000.0
MEMORY_BAR_MB = 1024.0
N_PV_SITES = 6000
N_WIND_SITES = 60000
N_SAM_RUNS = 6


def _load():
    from siting.weather import parse_epw, stack_weather

    frames = []
    for path in sorted((DATA_DIR / "weather").glob("*.epw")):
        frame, station = parse_epw(path.read_bytes(), path.name)
        frames.append((station, frame))
    return frames, stack_weather(frames)


def _sam_pv_seconds(frames):
    import PySAM.Pvwattsv8 as Pvwattsv8

    from tests.siting.conftest import sam_solar_resource

    t0 = time.perf_counter()
    for k in range(N_SAM_RUNS):
        station, frame = frames[k % len(frames)]
        m = Pvwattsv8.default("PVWattsNone")
        m.SolarResource.solar_resource_data = sam_solar_resource(frame, station)
        m.SystemDesign.array_type = 3.0 if k % 2 else 0.0
        m.SystemDesign.tilt = 0.0 if k % 2 else 20.0
        m.SystemDesign.gcr = 0.35
        m.SystemDesign.system_capacity = 1000.0
        m.execute()
    return (time.perf_counter() - t0) / N_SAM_RUNS


def _sam_wind_seconds(frames):
    import PySAM.Windpower as Windpower

    from siting.wind import turbine_curve

    curve = turbine_curve("E-126/4200")
    t0 = time.perf_counter()
    for k in range(N_SAM_RUNS):
        station, frame = frames[k % len(frames)]
        speed = frame["wind_speed"].to_numpy() * 1.5
        data = [[float(t), float(p / 101325.0), float(v), 180.0] for t, p, v in
                zip(frame["temp_air"], frame["atmospheric_pressure"], speed)]
        m = Windpower.default("WindPowerNone")
        m.Resource.wind_resource_model_choice = 0.0
        m.Resource.wind_resource_data = {"heights": [135.0] * 4, "fields": [1.0, 2.0, 3.0, 4.0],
                                         "data": data, "lat": station.latitude,
                                         "lon": station.longitude, "elev": station.elevation_m}
        m.Turbine.wind_turbine_hub_ht = 135.0
        m.Turbine.wind_turbine_powercurve_windspeeds = tuple(float(x) for x in curve.wind_speed_m_s)
        m.Turbine.wind_turbine_powercurve_powerout = tuple(float(x) for x in curve.power_kw)
        m.Farm.wind_farm_xCoordinates = (0.0,)
        m.Farm.wind_farm_yCoordinates = (0.0,)
        m.Farm.system_capacity = curve.nominal_power_kw
        m.execute()
    return (time.perf_counter() - t0) / N_SAM_RUNS


def _row(name, value, unit, reference, reference_value, ratio, bar, passed):
    return {"name": name, "value": float(value), "unit": unit, "reference": reference,
            "reference_value": float(reference_value), "ratio": float(ratio), "bar": bar,
            "passed": bool(passed)}


def run() -> list[dict]:
    from siting.yield_batch import pv_energy_batch, wind_energy_batch
    from siting.yield_study import PVRequest, run_pv_study

    frames, weather = _load()
    rng = np.random.default_rng(20240601)
    sam_pv_s = _sam_pv_seconds(frames)
    sam_wind_s = _sam_wind_seconds(frames)

    # detailed PV study
    station, frame = frames[0]
    request = PVRequest.from_dict({"lat": station.latitude, "lon": station.longitude,
                                   "capacity_dc_kw": 1000.0})
    run_pv_study(request, frame, station, 0.0)
    times = []
    for k in range(5):
        station, frame = frames[k]
        request = PVRequest.from_dict({"lat": station.latitude, "lon": station.longitude,
                                       "capacity_dc_kw": 1000.0,
                                       "tracking": "single_axis" if k % 2 else "fixed"})
        t0 = time.perf_counter()
        run_pv_study(request, frame, station, 0.0)
        times.append(time.perf_counter() - t0)
    detailed_ms = 1000.0 * float(np.median(times))

    # batch PV
    n = N_PV_SITES
    idx = rng.integers(0, weather.n_stations, n)
    pv_args = dict(latitude=weather.latitude[idx] + rng.uniform(-0.3, 0.3, n),
                   longitude=weather.longitude[idx] + rng.uniform(-0.3, 0.3, n),
                   tilt_deg=rng.uniform(10, 30, n), azimuth_deg=180.0,
                   tracking=rng.random(n) < 0.5, gcr=rng.choice([0.3, 0.35, 0.4], n),
                   dc_ac_ratio=rng.uniform(1.1, 1.4, n), system_losses=0.14)
    pv_energy_batch(weather, idx[:8], **{k: (v[:8] if np.ndim(v) else v)
                                         for k, v in pv_args.items()})  # compile / warm
    tracemalloc.start()
    t0 = time.perf_counter()
    pv_energy_batch(weather, idx, **pv_args)
    pv_rate = n / (time.perf_counter() - t0)
    _, pv_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # batch wind
    n = N_WIND_SITES
    idx = rng.integers(0, weather.n_stations, n)
    wind_args = dict(turbine_type="E-126/4200", hub_height_m=rng.uniform(90, 150, n),
                     roughness_length_m=rng.choice([0.03, 0.1, 0.25], n),
                     elevation_m=weather.elevation_m[idx] + rng.uniform(-50, 200, n),
                     mean_wind_speed_hub_m_s=rng.uniform(5.5, 9.0, n), wake_losses=0.08,
                     other_losses=0.07, capacity_kw=4200.0)
    wind_energy_batch(weather, idx[:8], **{k: (v[:8] if np.ndim(v) else v)
                                           for k, v in wind_args.items()})
    tracemalloc.start()
    t0 = time.perf_counter()
    wind_energy_batch(weather, idx, **wind_args)
    wind_rate = n / (time.perf_counter() - t0)
    _, wind_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = max(pv_peak, wind_peak) / 2 ** 20

    sam_pv_rate = 1.0 / sam_pv_s
    sam_wind_rate = 1.0 / sam_wind_s
    return [
        _row("detailed PV study (run_pv_study)", detailed_ms, "ms/site-year",
             "PySAM Pvwattsv8, one site", 1000.0 * sam_pv_s, 1000.0 * sam_pv_s / detailed_ms,
             f"<= {DETAILED_PV_BAR_MS:g} ms", detailed_ms <= DETAILED_PV_BAR_MS),
        _row(f"batch PV, Perez, {N_PV_SITES} mixed sites", pv_rate, "site-years/s",
             "PySAM Pvwattsv8, one site at a time", sam_pv_rate, pv_rate / sam_pv_rate,
             f">= {BATCH_PV_BAR_SITE_YEARS_PER_S:g} site-years/s",
             pv_rate >= BATCH_PV_BAR_SITE_YEARS_PER_S),
        _row(f"batch wind, {N_WIND_SITES} sites", wind_rate, "site-years/s",
             "PySAM Windpower, one site at a time", sam_wind_rate, wind_rate / sam_wind_rate,
             f">= {BATCH_WIND_BAR_SITE_YEARS_PER_S:g} site-years/s",
             wind_rate >= BATCH_WIND_BAR_SITE_YEARS_PER_S),
        _row("batch working memory (tracemalloc peak)", peak_mb, "MB",
             "bar", MEMORY_BAR_MB, peak_mb / MEMORY_BAR_MB, f"<= {MEMORY_BAR_MB:g} MB",
             peak_mb <= MEMORY_BAR_MB),
    ]


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for r in run():
        print(f"{r['name']}: {r['value']:.1f} {r['unit']} | {r['reference']}: "
              f"{r['reference_value']:.1f} | ratio {r['ratio']:.1f}x | bar {r['bar']} | "
              f"{'PASS' if r['passed'] else 'FAIL'}")
