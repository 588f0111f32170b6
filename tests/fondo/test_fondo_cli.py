"""The ``fondo`` command line: users, tokens, data check and import, seed; errors exit non-zero."""

import json
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fondo.cli import main
from fondo.db import session_scope
from fondo.accounts.models import User
from fondo.data.models import LayerImport
from tests_support import DATA_DIR


def _env(settings, **extra):
    env = {f"FONDO_{k}": str(v) for k, v in settings.items()
           if k in {"INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "TASK_ALWAYS_EAGER"}}
    env.update(extra)
    return env


def invoke(settings, *args, **env):
    return CliRunner().invoke(main, list(args), env=_env(settings, **env), catch_exceptions=False)


def test_users_create_then_token_authenticates(settings, client):
    out = invoke(settings, "users", "create", "--email", "Ana@Example.org", "--role", "officer",
                 "--password", "a long passphrase")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {"id": 1, "email": "ana@example.org", "role": "officer"}
    token = invoke(settings, "tokens", "create", "--email", "ana@example.org").output.strip()
    assert token.startswith("fondo_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["email"] == "ana@example.org"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email", "--role", "officer", "--password", "12345678"], "email"),
        (["--email", "a@b.co", "--role", "officer", "--password", "short"], "at least 8"),
    ],
)
def test_users_create_refuses_bad_input_and_stores_nothing(settings, args, message):
    out = invoke(settings, "users", "create", *args)
    assert out.exit_code == 1
    assert message in out.output
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_token_for_unknown_user_fails(settings):
    out = invoke(settings, "tokens", "create", "--email", "nobody@example.org")
    assert out.exit_code == 1 and "no user with email" in out.output


def test_data_check_passes_on_the_bundle(settings):
    out = invoke(settings, "data", "check")
    assert out.exit_code == 0, out.output
    assert "datasets ok" in out.output


@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_data_check_names_a_corrupted_file(settings, data_copy):
    victim = data_copy / "weather" / "MEX_AGU_Aguascalientes.765710_TMYx.2011-2025.epw"
    raw = bytearray(victim.read_bytes())
    raw[5000] ^= 0x01  # flip one bit
    victim.write_bytes(bytes(raw))
    out = invoke(settings, "data", "check", FONDO_DATA_DIR=str(data_copy))
    assert out.exit_code == 1
    assert "corrupted" in out.output
    assert "MEX_AGU_Aguascalientes.765710_TMYx.2011-2025.epw" in out.output


def test_data_check_names_a_missing_file(settings, data_copy):
    (data_copy / "geo" / "dem_corridor_1km.tif").unlink()
    out = invoke(settings, "data", "check", FONDO_DATA_DIR=str(data_copy))
    assert out.exit_code == 1
    assert "missing" in out.output and "dem_corridor_1km.tif" in out.output


def test_data_import_records_provenance(settings, tmp_path):
    import geopandas as gpd

    # A real subset: two state protected areas from the bundled CONABIO layer.
    source = gpd.read_file(DATA_DIR / "geo" / "anp_estatales_conabio2009.geojson").head(2)
    path = tmp_path / "anp.geojson"
    source.to_file(path, driver="GeoJSON")
    out = invoke(settings, "data", "import", "protected_areas_federal", str(path),
                 "--source", "CONABIO test subset", "--licence", "CC BY-NC 2.5 MX")
    assert out.exit_code == 0, out.output
    with session_scope(settings) as session:
        rows = session.scalars(select(LayerImport)).all()
    assert [(r.layer, r.feature_count) for r in rows] == [("protected_areas_federal", 2)]


def test_data_import_refuses_garbage_and_changes_nothing(settings, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{ this is not json")
    out = invoke(settings, "data", "import", "protected_areas_federal", str(path),
                 "--source", "x", "--licence", "y")
    assert out.exit_code == 1 and out.output.startswith("error:")
    layers = tmp_path / "instance" / "layers"
    assert not layers.exists() or list(layers.iterdir()) == []
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(LayerImport)) == 0


def test_unknown_database_scheme_is_one_line_and_exit_2(settings):
    out = invoke(settings, "users", "create", "--email", "a@b.co", "--role", "admin",
                 "--password", "12345678", FONDO_DATABASE_URL="oracle://x/y")
    assert out.exit_code == 2
    assert out.output.strip().count("\n") == 0
    assert "FONDO_DATABASE_URL has unknown scheme 'oracle'" in out.output
