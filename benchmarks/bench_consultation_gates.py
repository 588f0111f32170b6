"""Benchmark: the consultation gates a project's pipeline asks for (issue 13).

``project_consultation_gates`` is called by the Fund feature's gates on every stage change and
on the portfolio page, so it must stay cheap: "a few queries". Figures, on a fresh SQLite
instance seeded with the demo fund (its demo consultation walked to seguimiento under
protocol version 2, about 90 events):

- SQL statements per call for the project with the consultation, against the bar of 6;
- time per call for that project, as a ratio against the officer's view of the same
  consultation (``get_consultation``), which reads the same chain: bar 1 (no dearer);
- time per call for a project without a consultation (the trigger on its site, cached per
  site and dataset version), against the same reference.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Calls timed per figure (after one warm-up call).
CALLS = 50
#: Bar on SQL statements per call ("a few queries").
STATEMENT_BAR = 6


def _per_call_ms(fn) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(CALLS):
        fn()
    return (time.perf_counter() - start) / CALLS * 1000.0


def run() -> list[dict]:
    from sqlalchemy import event, select

    import fondo.consultation.service as cs
    from fondo.config import load_settings
    from fondo.consultation.models import Consultation
    from fondo.db import session_scope
    from fondo.fund.service import Project
    from fondo.instance import ensure_ready
    from fondo.seed import seed_all

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(overrides={"INSTANCE_PATH": folder,
                                            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
                                            "DATA_DIR": str(ROOT / "data"),
                                            "SEED_DEMO_ON_FIRST_START": False})
        ensure_ready(settings)
        seed_all(settings, demo=True)
        with session_scope(settings) as session:
            c = session.scalars(select(Consultation)).first()
            with_c = c.project_id
            without_c = session.scalar(select(Project.id).where(Project.id != with_c))
            statements = []
            engine = session.get_bind()
            listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            cs.project_consultation_gates(session, with_c, settings)
            event.remove(engine, "before_cursor_execute", listener)
            gates_ms = _per_call_ms(lambda: cs.project_consultation_gates(session, with_c,
                                                                          settings))
            view_ms = _per_call_ms(lambda: cs.get_consultation(session, settings, c.id))
            bare_ms = _per_call_ms(lambda: cs.project_consultation_gates(session, without_c,
                                                                         settings))
    return [
        {"name": "gates SQL statements per call", "value": len(statements), "unit": "statements",
         "reference": "bar", "reference_value": STATEMENT_BAR,
         "ratio": len(statements) / STATEMENT_BAR, "bar": f"<= {STATEMENT_BAR}",
         "passed": len(statements) <= STATEMENT_BAR},
        {"name": "gates, project with its consultation", "value": gates_ms, "unit": "ms",
         "reference": "get_consultation", "reference_value": view_ms,
         "ratio": gates_ms / view_ms, "bar": "ratio <= 1", "passed": gates_ms <= view_ms},
        {"name": "gates, project without consultation", "value": bare_ms, "unit": "ms",
         "reference": "get_consultation", "reference_value": view_ms,
         "ratio": bare_ms / view_ms, "bar": "ratio <= 1", "passed": bare_ms <= view_ms},
    ]
