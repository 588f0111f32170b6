"""Celery tasks of the finance shell: a Monte Carlo of a stored case, with progress.

Idempotent: the job row (see :mod:`fondo.jobs`) turns a re-delivery after success into the
stored result; a rerun after a worker died mid-task recomputes the same draws (the seed is
in the spec) and rewrites the same run row, so no second result ever appears.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from fondo.db import session_scope
from fondo.finance.models import FinanceCase, FinanceMonteCarloRun
from fondo.finance.service import MONTECARLO_TASK, montecarlo_run_url, run_montecarlo_for_case
from fondo.jobs import FondoTask, JobState
from fondo.orm import utcnow


@shared_task(bind=True, base=FondoTask, name=MONTECARLO_TASK)
def montecarlo(self: FondoTask, job_id: str, params: dict[str, Any]) -> tuple[dict, str]:
    """Run ``params["spec"]`` over case ``params["case_id"]``, storing into run ``params["run_id"]``."""
    case_id, run_id, spec = params["case_id"], params["run_id"], params["spec"]
    with session_scope(self.settings) as session:
        request = session.get(FinanceCase, case_id).request
        session.get(FinanceMonteCarloRun, run_id).status = JobState.STARTED
    self.progress(job_id, 0, spec["n_draws"], "drawing")

    def on_progress(done: int, total: int) -> None:
        self.progress(job_id, done, total, "draws evaluated")

    try:
        summary = run_montecarlo_for_case(request, spec, on_progress)
    except Exception:
        with session_scope(self.settings) as session:
            session.get(FinanceMonteCarloRun, run_id).status = JobState.FAILURE
        raise
    with session_scope(self.settings) as session:
        run = session.get(FinanceMonteCarloRun, run_id)
        run.summary = summary
        run.status = JobState.SUCCESS
        run.finished_at = utcnow()
    result = {"case_id": case_id, "run_id": run_id, "spec": spec, "summary": summary}
    return result, montecarlo_run_url(case_id, run_id)
