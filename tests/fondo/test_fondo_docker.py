"""The compose file describes web, worker, PostGIS and Redis with the same FONDO_* variables.

There is no Docker engine on this machine: the file is parsed and checked, not run.
"""

import re
from pathlib import Path

import yaml

from fondo.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())


def test_compose_has_the_four_services():
    services = _compose()["services"]
    assert {"web", "worker", "db", "redis"} <= set(services)
    assert "postgis" in services["db"]["image"]
    assert services["redis"]["image"].startswith("redis")
    assert services["worker"]["command"][:4] == ["celery", "-A", "fondo.worker", "worker"]
    assert "web.wsgi:app" in services["web"]["command"]


def test_web_and_worker_share_valid_settings(tmp_path):
    services = _compose()["services"]
    web_env, worker_env = services["web"]["environment"], services["worker"]["environment"]
    assert web_env == worker_env
    assert web_env["FONDO_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert web_env["FONDO_BROKER_URL"].startswith("redis://")
    # Every variable is one Fondo reads, and the values pass Fondo's own validation.
    known = {f"FONDO_{k}" for k in load_settings({"INSTANCE_PATH": str(tmp_path)}, environ={})}
    assert set(web_env) <= known
    resolved = {k: re.sub(r"\$\{(\w+)(:-([^}]*)|:\?[^}]*)?\}",
                          lambda m: m.group(3) if m.group(3) is not None else "x", v)
                for k, v in web_env.items()}
    resolved["FONDO_INSTANCE_PATH"] = str(tmp_path)
    settings = load_settings(environ=resolved)
    assert settings["SMTP_PORT"] == 25


def test_no_secret_is_written_in_the_compose_file():
    env = _compose()["services"]["web"]["environment"]
    assert env["FONDO_SECRET_KEY"].startswith("${")
    assert "${POSTGRES_PASSWORD" in env["FONDO_DATABASE_URL"]


def test_dockerfile_installs_from_the_lock_file():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert "requirements.lock" in text and "gunicorn" in text
