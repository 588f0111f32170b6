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


# ------------------------------------------------------------------ investors and sessions


@pytest.fixture
def limited_partner_ids(settings):
    """Two limited partners of one fund (ids)."""
    from fondo.fund.models import Fund, LimitedPartner

    with session_scope(settings) as session:
        fund = Fund(name="Fund (CLI test)")
        session.add(fund)
        session.flush()
        lps = [LimitedPartner(fund_id=fund.id, name=f"LP {n}", country="CA", kind="pension_fund",
                              commitment_amount=1e8, commitment_currency="CAD") for n in (1, 2)]
        session.add_all(lps)
        session.flush()
        return [lp.id for lp in lps]


def _links(settings) -> list[tuple[int, str]]:
    from fondo.fund.models import LimitedPartnerUser

    with session_scope(settings) as session:
        rows = session.execute(select(LimitedPartnerUser.limited_partner_id, User.email)
                               .join(User, User.id == LimitedPartnerUser.user_id)).all()
    return sorted(tuple(r) for r in rows)


def test_an_investor_is_created_with_and_linked_to_limited_partners(settings, limited_partner_ids):
    first, second = limited_partner_ids
    out = invoke(settings, "users", "create", "--email", "inv@example.org", "--role", "investor",
                 "--password", "a long passphrase", "--limited-partner", str(first))
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["limited_partner_ids"] == [first]
    linked = invoke(settings, "users", "link-lp", "--email", "inv@example.org",
                    "--limited-partner", str(second))
    assert json.loads(linked.output) == {"email": "inv@example.org",
                                         "limited_partner_ids": [first, second]}
    unlinked = invoke(settings, "users", "link-lp", "--email", "inv@example.org",
                      "--limited-partner", str(first), "--unlink")
    assert json.loads(unlinked.output)["limited_partner_ids"] == [second]
    assert _links(settings) == [(second, "inv@example.org")]


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "investor", "--limited-partner", "9999"], "no limited partner with id 9999"),
    (["--role", "analyst", "--limited-partner", "<lp>"], "only investors act for limited partners"),
])
def test_a_bad_limited_partner_link_is_one_line_and_stores_nothing(settings, limited_partner_ids,
                                                                   args, message):
    args = [str(limited_partner_ids[0]) if a == "<lp>" else a for a in args]
    out = invoke(settings, "users", "create", "--email", "x@example.org", "--password",
                 "a long passphrase", *args)
    assert out.exit_code == 1
    assert out.output.strip().count("\n") == 0 and message in out.output
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    assert _links(settings) == []


def test_linking_a_non_investor_is_refused(settings, limited_partner_ids):
    invoke(settings, "users", "create", "--email", "an@example.org", "--role", "analyst",
           "--password", "a long passphrase")
    out = invoke(settings, "users", "link-lp", "--email", "an@example.org",
                 "--limited-partner", str(limited_partner_ids[0]))
    assert out.exit_code == 1 and "only investors act for limited partners" in out.output
    assert _links(settings) == []


def _sign_in_cookie(client, email: str, password: str) -> str:
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client.get_cookie("session").value


@pytest.mark.parametrize("command", [
    ["users", "sign-out", "--email", "ana@example.org"],
    ["users", "set-password", "--email", "ana@example.org", "--password", "a new passphrase"],
])
def test_sign_out_and_new_password_end_the_sessions(settings, app, command):
    invoke(settings, "users", "create", "--email", "ana@example.org", "--role", "officer",
           "--password", "a long passphrase")
    cookie = _sign_in_cookie(app.test_client(), "ana@example.org", "a long passphrase")
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/api/v1/me").status_code == 200
    out = invoke(settings, *command)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["sessions_revoked"] == 1
    assert replay.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("command", [["finance", "show"], ["study", "show"],
                                     ["consultation", "show"]])
def test_an_id_beyond_the_database_range_is_a_usage_error_not_a_traceback(command):
    # ids are PostgreSQL `integer` (2**31 - 1 at most); a larger one never reaches the database
    result = CliRunner().invoke(main, [*command, str(2**31)])
    assert result.exit_code == 2
    assert "is not in the range 1<=x<=2147483647" in result.output
    assert "Traceback" not in result.output
