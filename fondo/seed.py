"""Seeding: reference data from the bundled datasets, and an optional demo fund.

Reference data (corridors from INEGI state boundaries, weather stations from the bundled
typical-year files) is real. The demo fund, its limited partners and its projects are not:
every demo row has ``is_demo = true``, and its name says "Demo", so it is labelled as demo
wherever it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fondo.consultation.service import seed_demo_consultation
from fondo.db import session_scope
from fondo.data.service import Corridor, WeatherStation
from fondo.fund.demo import seed_demo_pipeline
from fondo.fund.demo_ledger import seed_demo_ledger
from fondo.fund.models import Fund, LimitedPartner, PipelineStage, Project, Site
from fondo.fund.projects import record_transition
from fondo.orm import Technology

#: Projected CRS for areas and distances in Mexico (Mexico ITRF2008 / LCC).
MEXICO_LCC_CRS = "EPSG:6372"

#: Demo fund (fictitious, labelled as demo).
DEMO_FUND = {"name": "Demo – Fondo Binacional de Energía Renovable", "base_currency": "USD",
             "target_size_usd": 500e6}
#: Demo limited partners (fictitious names of realistic kinds, labelled as demo).
DEMO_LIMITED_PARTNERS = [
    {"name": "Demo LP – Canadian pension plan", "country": "CA", "kind": "pension_fund",
     "commitment_amount": 250e6, "commitment_currency": "CAD"},
    {"name": "Demo LP – Canadian development finance institution", "country": "CA",
     "kind": "development_finance_institution", "commitment_amount": 100e6,
     "commitment_currency": "USD"},
    {"name": "Demo LP – Mexican development bank", "country": "MX", "kind": "development_bank",
     "commitment_amount": 2.0e9, "commitment_currency": "MXN"},
]
#: Demo projects: real places (near bundled stations), fictitious projects. ``stage`` is
#: the stage the demo moves each one to through the pipeline's gates
#: (:func:`fondo.fund.demo.seed_demo_pipeline`), consistent with its consultation: San Luis
#: Potosí's consultation is in "seguimiento" (agreement reached), so it is at financial
#: close; the others have no consultation and stop before that stage. Each 2 km square is
#: placed where the real site check finds no hard constraint (no urban area, locality,
#: protected area or water body; slope within the limit). Three of them stay at
#: ``screening``: under consultation protocol version 2 their municipalities (type C or D
#: with indigenous population near the site) ask for a locality-level identification of the
#: communities that may be affected, which the fund has not recorded yet (the
#: ``indigenous_identification_done`` gate of due diligence says so on each).
DEMO_PROJECTS = [
    {"name": "Demo – Parque solar Aguascalientes Norte", "technology": "pv",
     "lon": -102.24, "lat": 22.05, "capacity_ac_mw": 60.0, "stage": "screening"},
    {"name": "Demo – Parque solar San Luis Potosí Altiplano", "technology": "pv",
     "lon": -101.04, "lat": 22.37, "capacity_ac_mw": 100.0, "stage": "financial_close"},
    {"name": "Demo – Parque eólico Soto la Marina", "technology": "wind",
     "lon": -97.95, "lat": 23.85, "capacity_ac_mw": 118.8, "stage": "screening"},
    {"name": "Demo – Parque solar General Cepeda", "technology": "pv",
     "lon": -101.45, "lat": 25.41, "capacity_ac_mw": 80.0, "stage": "screening"},
]
#: DC/AC ratio of the demo PV parks. [-]
DEMO_PV_DC_AC_RATIO = 1.2
#: Side of the square demo site drawn around each demo project's point. [km]
DEMO_SITE_SIDE_KM = 2.0


def is_seeded(settings: Mapping[str, Any]) -> bool:
    """True once the reference data (corridors and stations) is in the database."""
    with session_scope(settings) as session:
        return bool(session.scalar(select(func.count()).select_from(WeatherStation)))


def seed_all(settings: Mapping[str, Any], demo: bool = False) -> dict[str, int]:
    """Load corridors and stations (idempotent) and, with ``demo``, the demo fund."""
    data_dir = Path(settings["DATA_DIR"])
    with session_scope(settings) as session:
        counts = {"corridors": seed_corridors(session, data_dir),
                  "stations": seed_stations(session, data_dir)}
        if demo:
            counts.update(seed_demo(session))
    if demo:
        with session_scope(settings) as session:
            counts.update(seed_demo_consultation(session, settings))
        counts.update(seed_demo_pipeline(settings, DEMO_PROJECTS))
        with session_scope(settings) as session:  # after the cases: allocations need them
            counts.update(seed_demo_ledger(session, _demo_fund(session)) or {})
    return counts


def _demo_fund(session: Session) -> Fund:
    """The demo fund (made by :func:`seed_demo`)."""
    return session.scalars(select(Fund).where(Fund.name == DEMO_FUND["name"])).one()


def seed_corridors(session: Session, data_dir: Path) -> int:
    """Insert or refresh the corridors ``bajio`` and ``noreste`` from the state boundaries."""
    from fondo.data.service import corridor_geometries

    frame = corridor_geometries(data_dir)
    areas = frame.to_crs(MEXICO_LCC_CRS).area / 1e6
    for (_, row), area_km2 in zip(frame.iterrows(), areas, strict=True):
        corridor = session.get(Corridor, row["corridor_id"]) or Corridor(id=row["corridor_id"])
        corridor.name = row["name"]
        corridor.state_keys = list(row["state_keys"])
        corridor.area_km2 = float(area_km2)
        corridor.geometry = row.geometry
        session.add(corridor)
    session.flush()
    return len(frame)


def station_corridors(stations: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> list[str]:
    """Corridor of each station: the one containing it, else the nearest (EPSG:6372)."""
    joined = gpd.sjoin_nearest(stations.to_crs(MEXICO_LCC_CRS),
                               corridors.to_crs(MEXICO_LCC_CRS)[["corridor_id", "geometry"]],
                               how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    return list(joined["corridor_id"])


def seed_stations(session: Session, data_dir: Path) -> int:
    """Insert or refresh the weather stations of the bundled typical-year files."""
    from fondo.data.service import corridor_geometries, file_sha256, weather_files
    from siting.weather import parse_epw

    rows = []
    for path in weather_files(data_dir):
        _frame, station = parse_epw(path.read_bytes(), source=path.name)
        rows.append({"station": station, "file": path.relative_to(data_dir).as_posix(),
                     "sha256": file_sha256(path)})
    points = gpd.GeoDataFrame(
        geometry=[shapely.Point(r["station"].longitude, r["station"].latitude) for r in rows],
        crs="EPSG:4326",
    )
    corridors = station_corridors(points, corridor_geometries(data_dir))
    for row, corridor_id, point in zip(rows, corridors, points.geometry, strict=True):
        st = row["station"]
        station = session.get(WeatherStation, st.station_id) or WeatherStation(id=st.station_id)
        station.name = st.name
        station.latitude = float(st.latitude)
        station.longitude = float(st.longitude)
        station.elevation_m = float(st.elevation_m)
        station.corridor_id = corridor_id
        station.file = row["file"]
        station.file_sha256 = row["sha256"]
        station.geometry = point
        session.add(station)
    session.flush()
    return len(rows)


def _square_km(lon: float, lat: float, side_km: float) -> shapely.Polygon:
    """A square of ``side_km`` around a point, built in EPSG:6372, returned in EPSG:4326."""
    centre = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(MEXICO_LCC_CRS)
    square = centre.buffer(side_km * 500.0, cap_style="square")
    return square.to_crs("EPSG:4326").iloc[0]


def seed_demo(session: Session) -> dict[str, int]:
    """Insert the demo fund, its limited partners and projects once (labelled as demo).

    Projects start at ``origination``; :func:`fondo.fund.demo.seed_demo_pipeline` then
    moves each to its stage through the gates.
    """
    fund = session.scalar(select(Fund).where(Fund.name == DEMO_FUND["name"]))
    if fund is not None:
        return {"demo_funds": 0, "demo_projects": 0}
    fund = Fund(is_demo=True, **DEMO_FUND)
    session.add(fund)
    session.flush()
    for lp in DEMO_LIMITED_PARTNERS:
        session.add(LimitedPartner(fund_id=fund.id, is_demo=True, **lp))
    corridors = {c.id: c.geometry for c in session.scalars(select(Corridor))}
    for spec in DEMO_PROJECTS:
        point = shapely.Point(spec["lon"], spec["lat"])
        corridor_id = next((cid for cid, geom in corridors.items() if geom.contains(point)), None)
        polygon = _square_km(spec["lon"], spec["lat"], DEMO_SITE_SIDE_KM)
        site = Site(name=spec["name"], technology=Technology(spec["technology"]),
                    corridor_id=corridor_id, geometry=polygon,
                    area_km2=DEMO_SITE_SIDE_KM**2, is_demo=True)
        session.add(site)
        session.flush()
        pv = spec["technology"] == "pv"
        project = Project(fund_id=fund.id, site_id=site.id, name=spec["name"],
                          technology=Technology(spec["technology"]),
                          capacity_ac_mw=spec["capacity_ac_mw"],
                          capacity_dc_mw=spec["capacity_ac_mw"] * DEMO_PV_DC_AC_RATIO
                          if pv else None,
                          stage=PipelineStage.ORIGINATION, corridor_id=corridor_id,
                          is_demo=True)
        session.add(project)
        session.flush()
        record_transition(session, project, None, PipelineStage.ORIGINATION,
                          "Demostración: proyecto creado", "demo", None)
    session.flush()
    return {"demo_funds": 1, "demo_projects": len(DEMO_PROJECTS)}
