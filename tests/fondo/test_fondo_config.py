"""Settings: defaults, then FONDO_* variables, then the mapping; wrong settings fail clearly."""

import pytest

from fondo.config import ConfigError, is_embedded, load_settings, public_settings


def test_embedded_default_is_sqlite_and_filesystem_broker(tmp_path):
    s = load_settings({"INSTANCE_PATH": str(tmp_path)}, environ={})
    assert s["DATABASE_URL"] == f"sqlite:///{tmp_path / 'fondo.sqlite'}"
    assert s["BROKER_URL"] == "filesystem://"
    assert s["RESULT_BACKEND"].startswith("db+sqlite:///")
    assert is_embedded(s)


def test_environment_overrides_defaults_and_mapping_overrides_environment(tmp_path):
    env = {"FONDO_DATABASE_URL": "postgresql+psycopg://u@h/db", "FONDO_BROKER_URL": "redis://h:6379/0",
           "FONDO_INSTANCE_PATH": str(tmp_path)}
    s = load_settings(environ=env)
    assert s["DATABASE_URL"] == "postgresql+psycopg://u@h/db"
    assert s["RESULT_BACKEND"] == "redis://h:6379/0"  # Redis is also the result backend
    s = load_settings({"DATABASE_URL": "sqlite:///x.sqlite"}, environ=env)
    assert s["DATABASE_URL"] == "sqlite:///x.sqlite"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FONDO_DATABASE_URL": "mysql://u@h/db"}, "FONDO_DATABASE_URL has unknown scheme 'mysql'"),
        ({"FONDO_BROKER_URL": "kafka://h"}, "FONDO_BROKER_URL has unknown scheme 'kafka'"),
        ({"FONDO_TASK_ALWAYS_EAGER": "maybe"}, "FONDO_TASK_ALWAYS_EAGER='maybe' is not a boolean"),
        ({"FONDO_SMTP_PORT": "twenty-five"}, "FONDO_SMTP_PORT='twenty-five' is not an integer"),
        ({"FONDO_DEFAULT_LOCALE": "de"}, "FONDO_DEFAULT_LOCALE='de' is not among FONDO_LOCALES"),
    ],
)
def test_wrong_setting_is_one_clear_line(env, expected, tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings({"INSTANCE_PATH": str(tmp_path)}, environ=env)
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_public_settings_hide_secrets(tmp_path):
    s = load_settings({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s3cret",
                       "DATABASE_URL": "postgresql+psycopg://fondo:hunter2@db/fondo"}, environ={})
    shown = public_settings(s)
    assert "SECRET_KEY" not in shown
    assert "hunter2" not in str(shown)
