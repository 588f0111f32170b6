"""Schema, migrations, geometry storage and seeded reference data, on SQLite and PostGIS."""

import pytest
import shapely
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from fondo import migrate
from fondo.db import engine_for, session_scope
from fondo.data.models import Corridor, WeatherStation
from fondo.fund.models import Project, Site
from fondo.orm import Base, Technology
from fondo.seed import seed_all

EXPECTED_TABLES = {
    "users", "api_tokens", "corridors", "weather_stations", "sites", "screening_runs",
    "yield_studies", "projects", "funds", "limited_partners", "consultations",
    "consultation_events", "jobs", "layer_imports",
}


def test_migrations_create_every_table_and_match_the_models(settings):
    engine = engine_for(settings["DATABASE_URL"])
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Differences other than PostGIS's own tables (spatial_ref_sys etc.) mean a missing migration.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")]
    diff = [d for d in diff if not (d[0] == "remove_index" and d[1].name.endswith("_geometry"))]
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(settings):
    migrate.downgrade(settings, "base")
    engine = engine_for(settings["DATABASE_URL"])
    assert not EXPECTED_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(settings)
    assert migrate.current_revisions(settings) == migrate.head_revisions()


def test_geometry_round_trips_exactly(settings):
    polygon = shapely.Polygon([(-102.3, 21.9), (-102.2, 21.9), (-102.2, 22.0), (-102.3, 22.0)])
    with session_scope(settings) as session:
        site = Site(name="round trip", technology=Technology.PV, geometry=polygon)
        session.add(site)
        session.flush()
        site_id = site.id
    with session_scope(settings) as session:
        stored = session.get(Site, site_id).geometry
    assert stored.equals_exact(polygon, tolerance=0)


def test_postgis_sees_a_real_geometry(settings, backend):
    if backend != "postgresql":
        pytest.skip("PostGIS functions exist only on PostgreSQL")
    with session_scope(settings) as session:
        srid, kind = session.execute(text(
            "SELECT ST_SRID(geometry), GeometryType(geometry) FROM corridors WHERE id = 'bajio'"
        )).one()
        # Aguascalientes station lies inside the Bajío corridor: ask PostGIS itself.
        inside = session.scalar(text(
            "SELECT ST_Contains(c.geometry, s.geometry) FROM corridors c, weather_stations s "
            "WHERE c.id = 'bajio' AND s.id = '765710'"))
    assert srid == 4326
    assert kind in {"POLYGON", "MULTIPOLYGON"}
    assert inside is True


def test_reference_seed_loads_the_real_stations_and_corridors(settings):
    with session_scope(settings) as session:
        stations = {s.id: s for s in session.scalars(select(WeatherStation))}
        corridors = {c.id: c for c in session.scalars(select(Corridor))}
    assert len(stations) == 16
    assert set(corridors) == {"bajio", "noreste"}
    assert sorted(corridors["bajio"].state_keys) == ["01", "11", "14", "22", "24"]
    assert sorted(corridors["noreste"].state_keys) == ["05", "19", "28"]
    # Values from the EPW LOCATION lines (data/SOURCES-weather.md).
    agu = stations["765710"]
    assert (agu.latitude, agu.longitude, agu.elevation_m) == (21.8511, -102.2911, 1877.0)
    assert agu.corridor_id == "bajio"
    assert stations["763930"].corridor_id == "noreste"  # Monterrey
    assert stations["765480"].corridor_id == "noreste"  # Tampico
    # INEGI: Aguascalientes has 5,616 km² (Marco Geoestadístico); the 8 states sum far more.
    assert corridors["bajio"].area_km2 > 5_616
    assert corridors["bajio"].geometry.contains(shapely.Point(agu.longitude, agu.latitude))


def test_demo_seed_is_labelled_and_idempotent(settings):
    first = seed_all(settings, demo=True)
    second = seed_all(settings, demo=True)
    assert first["demo_projects"] == 4
    assert second["demo_projects"] == 0
    with session_scope(settings) as session:
        projects = session.scalars(select(Project)).all()
    assert len(projects) == 4
    assert all(p.is_demo and p.name.startswith("Demo") for p in projects)
