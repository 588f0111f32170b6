"""Constants shared by test modules (importable because pytest puts tests/ on sys.path)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"

import os

#: PostgreSQL server for the second run of the database tests (``.ci/run`` sets it).
PG_URL = os.environ.get("FONDO_TEST_DATABASE_URL")
#: Redis for the real-worker integration tests (``.ci/run`` sets it).
REDIS_URL = os.environ.get("FONDO_TEST_REDIS_URL")
