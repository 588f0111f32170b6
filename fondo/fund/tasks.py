"""Celery task of the fund: the Monte Carlo of the fund's IRR over every project's case.

Idempotent: the job row (:mod:`fondo.jobs`) turns a re-delivery after success into the
stored result; a rerun after a worker died recomputes the same draws (the seed is in the
parameters) and stores nothing else.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from fondo.db import session_scope
from fondo.fund.portfolio import MONTECARLO_TASK, run_montecarlo_job
from fondo.jobs import FondoTask


@shared_task(bind=True, base=FondoTask, name=MONTECARLO_TASK)
def portfolio_montecarlo(self: FondoTask, job_id: str, params: dict[str, Any]
                         ) -> tuple[dict, str]:
    """Run the fund's Monte Carlo of ``params`` (fund_id, draws, seed, as_of_year)."""
    self.progress(job_id, 0, None, "drawing every project's case")

    def on_progress(done: int, total: int) -> None:
        self.progress(job_id, done, total, "projects drawn")

    with session_scope(self.settings) as session:
        result = run_montecarlo_job(session, params, on_progress)
    return result, f"/api/v1/tasks/{job_id}/result"
