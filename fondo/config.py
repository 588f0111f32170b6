"""Settings of a Fondo process: defaults, then ``FONDO_*`` environment variables, then a mapping.

One dictionary of settings drives the web process, the Celery worker and the command line,
so that the three always agree. Keys are upper-case; each may be set from the environment
as ``FONDO_<KEY>`` (for example ``FONDO_DATABASE_URL``).

Modes
-----
*Embedded* (the default): a SQLite file under ``instance/``, a Celery broker on the local
filesystem (kombu's ``filesystem://`` transport) and a SQLite result store, so nothing needs
to be installed or started besides the Fondo process itself.

*Production*: ``FONDO_DATABASE_URL=postgresql+psycopg://…`` (PostGIS),
``FONDO_BROKER_URL=redis://…`` (also the result backend unless ``FONDO_RESULT_BACKEND`` is
set; also the rate-limit storage unless ``FONDO_RATELIMIT_STORAGE_URL`` is set), gunicorn in
front of Flask and any number of ``celery -A fondo.worker worker``. Cookies are ``Secure``
outside embedded mode (``FONDO_SECURE_COOKIES``); behind a reverse proxy set
``FONDO_TRUSTED_PROXIES`` to the number of proxies so that client addresses are real.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Root of the source tree (holds ``data/`` and, by default, ``instance/``)."""

#: URL schemes accepted for ``DATABASE_URL``.
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
#: URL schemes accepted for ``BROKER_URL``.
BROKER_SCHEMES = ("filesystem", "redis", "rediss", "amqp", "pyamqp", "memory")


class ConfigError(RuntimeError):
    """A setting is wrong; the message is one line that names the setting."""


def _defaults(instance_path: Path) -> dict[str, Any]:
    return {
        # Where the embedded database, broker folders and imported layers live.
        "INSTANCE_PATH": str(instance_path),
        "DATA_DIR": str(PROJECT_ROOT / "data"),
        "DATABASE_URL": f"sqlite:///{instance_path / 'fondo.sqlite'}",
        "BROKER_URL": "filesystem://",
        "RESULT_BACKEND": None,  # derived below when not set
        # Run Celery tasks in the calling process (tests of the web shell only).
        "TASK_ALWAYS_EAGER": False,
        "SECRET_KEY": None,  # generated and kept in instance/ when not set
        # Ed25519 key that signs the consultation records' published heads, held outside
        # the database: PEM text or the base64 of its 32-byte seed (secret), else a PEM
        # file (None: instance/anchor_ed25519.pem, generated once with mode 0600).
        "ANCHOR_PRIVATE_KEY": None,
        "ANCHOR_KEY_FILE": None,
        # Earlier anchor public keys still trusted by verification (after a key change):
        # comma-separated base64 of the raw 32 bytes.
        "ANCHOR_TRUSTED_KEYS": "",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        # Rate-limit counters: shared by every web worker (None: the Redis broker in
        # production mode, ``memory://`` only embedded).
        "RATELIMIT_STORAGE_URL": None,
        "RATELIMIT_PUBLIC": "10 per minute",
        # Receipt-code lookups (portal and API together) per client address.
        "RATELIMIT_RECEIPT_LOOKUP": "20 per minute",
        # Failed bearer-token authentications per client address.
        "RATELIMIT_BEARER_FAILURES": "10 per minute",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are
        # trusted (Werkzeug's ProxyFix); 0: none, the socket's peer is the client. [-]
        "TRUSTED_PROXIES": 0,
        # Cookies only over HTTPS (None: true unless embedded, where the app serves
        # http://127.0.0.1 to one person).
        "SECURE_COOKIES": None,
        # A signed-in session ends after this long without a request. [min]
        "SESSION_IDLE_MINUTES": 30,
        # ...and this long after sign-in, however active. [h]
        "SESSION_MAX_HOURS": 12,
        "DEFAULT_LOCALE": "es",
        "LOCALES": "es,en,fr",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 25,
        "MAIL_FROM": "fondo@localhost",
        "SEED_DEMO_ON_FIRST_START": True,
        # Base map of /map: an OpenStreetMap-style https://…/{z}/{x}/{y}.png URL for online
        # use (None: offline, the bundled state and municipal boundaries; no request leaves).
        "MAP_TILE_URL": None,
        # Largest screening a request may ask for (None: the engine's default). [cells]
        "SCREENING_MAX_CELLS": None,
        # Job liveness (fondo.heartbeat). A running task's worker stamps its job this often:
        "JOB_HEARTBEAT_S": 10,  # [s]
        # A started job unstamped for this long lost its worker (killed, out of memory,
        # machine gone) and is re-queued: six missed beats, so that a worker stalled a few
        # seconds by a slow database write is not taken for a dead one. [s]
        "JOB_STALE_AFTER_S": 60,
        # Deliveries of a job (the first included) before the reaper marks it FAILURE
        # instead of re-queuing it: a task that kills its worker every time stops. [-]
        "JOB_MAX_ATTEMPTS": 3,
        # Longest one task may run: the largest screening tile (250,000 cells) or joining
        # the largest screening's tiles. Redis redelivers an unacknowledged task after this
        # long (visibility timeout), so it must not be shorter than any task. [s]
        "TASK_MAX_RUNTIME_S": 1800,
        "TESTING": False,
    }


_BOOL_KEYS = {"TASK_ALWAYS_EAGER", "SEED_DEMO_ON_FIRST_START", "TESTING", "SECURE_COOKIES"}
_INT_KEYS = {"JOB_HEARTBEAT_S", "JOB_STALE_AFTER_S", "JOB_MAX_ATTEMPTS", "TASK_MAX_RUNTIME_S",
             "SMTP_PORT", "SCREENING_MAX_CELLS", "TRUSTED_PROXIES", "SESSION_IDLE_MINUTES",
             "SESSION_MAX_HOURS"}
#: Integer settings that must be at least this much.
_INT_MINIMUM = {"TRUSTED_PROXIES": 0, "SESSION_IDLE_MINUTES": 1, "SESSION_MAX_HOURS": 1,
                "JOB_HEARTBEAT_S": 1, "JOB_STALE_AFTER_S": 2, "JOB_MAX_ATTEMPTS": 1,
                "TASK_MAX_RUNTIME_S": 1}


def _coerce(key: str, value: Any) -> Any:
    if key in _BOOL_KEYS and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"FONDO_{key}={value!r} is not a boolean (use true or false)")
    if key in _INT_KEYS and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"FONDO_{key}={value!r} is not an integer") from None
    return value


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return the settings: defaults, then ``FONDO_*`` variables, then ``overrides``.

    Parameters
    ----------
    overrides : mapping, optional
        Highest-priority settings (a test passes its throwaway database here).
    environ : mapping, optional
        Environment to read; ``os.environ`` by default.

    Raises
    ------
    ConfigError
        A URL has an unknown scheme or a value has the wrong type.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    instance = Path(
        overrides.get("INSTANCE_PATH")
        or environ.get("FONDO_INSTANCE_PATH")
        or PROJECT_ROOT / "instance"
    )
    settings = _defaults(instance)
    for key in list(settings):
        env_key = f"FONDO_{key}"
        if env_key in environ:
            settings[key] = _coerce(key, environ[env_key])
    for key, value in overrides.items():
        settings[key] = _coerce(key, value)
    validate(settings)
    if not settings["RESULT_BACKEND"]:
        settings["RESULT_BACKEND"] = default_result_backend(settings)
    if not settings["RATELIMIT_STORAGE_URL"]:
        settings["RATELIMIT_STORAGE_URL"] = default_ratelimit_storage(settings)
    if settings["SECURE_COOKIES"] is None:
        settings["SECURE_COOKIES"] = not is_embedded(settings)
    return settings


def default_ratelimit_storage(settings: Mapping[str, Any]) -> str:
    """Rate-limit storage: the Redis broker in production mode, else this process's memory.

    Every gunicorn worker must count against the same budget, so a production web tier
    (broker on Redis) keeps its counters in Redis; ``memory://`` is right only for the
    single embedded process.
    """
    scheme = urlsplit(settings["BROKER_URL"]).scheme
    if scheme in {"redis", "rediss"}:
        return settings["BROKER_URL"]
    return "memory://"


def default_result_backend(settings: Mapping[str, Any]) -> str:
    """Celery result backend matching the broker: Redis with Redis, SQLite when embedded."""
    scheme = urlsplit(settings["BROKER_URL"]).scheme
    if scheme in {"redis", "rediss"}:
        return settings["BROKER_URL"]
    if scheme == "memory":
        return "cache+memory://"
    return f"db+sqlite:///{Path(settings['INSTANCE_PATH']) / 'celery-results.sqlite'}"


def validate(settings: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` with one clear line for a wrong setting."""
    db_scheme = urlsplit(str(settings["DATABASE_URL"])).scheme
    if db_scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            f"FONDO_DATABASE_URL has unknown scheme {db_scheme!r}; "
            f"use one of {', '.join(DATABASE_SCHEMES)}"
        )
    broker_scheme = urlsplit(str(settings["BROKER_URL"])).scheme
    if broker_scheme not in BROKER_SCHEMES:
        raise ConfigError(
            f"FONDO_BROKER_URL has unknown scheme {broker_scheme!r}; "
            f"use one of {', '.join(BROKER_SCHEMES)}"
        )
    for key, minimum in _INT_MINIMUM.items():
        value = settings.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ConfigError(f"FONDO_{key}={value!r} must be a whole number >= {minimum}")
    if settings["JOB_STALE_AFTER_S"] < 2 * settings["JOB_HEARTBEAT_S"]:
        raise ConfigError(f"FONDO_JOB_STALE_AFTER_S={settings['JOB_STALE_AFTER_S']} must be at "
                          f"least twice FONDO_JOB_HEARTBEAT_S={settings['JOB_HEARTBEAT_S']}")
    locales = [x.strip() for x in str(settings["LOCALES"]).split(",") if x.strip()]
    if settings["DEFAULT_LOCALE"] not in locales:
        raise ConfigError(
            f"FONDO_DEFAULT_LOCALE={settings['DEFAULT_LOCALE']!r} is not among FONDO_LOCALES"
        )


def is_embedded(settings: Mapping[str, Any]) -> bool:
    """True when the broker is the no-server filesystem transport."""
    return urlsplit(settings["BROKER_URL"]).scheme == "filesystem"


def broker_folder(settings: Mapping[str, Any]) -> Path:
    """Folder of the embedded filesystem broker's messages."""
    return Path(settings["INSTANCE_PATH"]) / "broker"


def secret_key(settings: Mapping[str, Any]) -> str:
    """The configured secret key, or one generated once and kept in ``instance/secret_key``.

    No secret is stored in the repository: production sets ``FONDO_SECRET_KEY``.
    """
    if settings.get("SECRET_KEY"):
        return str(settings["SECRET_KEY"])
    import secrets

    path = Path(settings["INSTANCE_PATH"]) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def public_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings safe to show (passwords in URLs and secrets removed)."""
    shown: dict[str, Any] = {}
    for key, value in settings.items():
        if key in {"SECRET_KEY", "ANCHOR_PRIVATE_KEY"}:
            continue
        if isinstance(value, str) and "://" in value:
            parts = urlsplit(value)
            if parts.password:
                value = value.replace(f":{parts.password}@", ":***@")
        shown[key] = value
    return json.loads(json.dumps(shown, default=str))
