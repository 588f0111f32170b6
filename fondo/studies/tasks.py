"""Celery task of the yield shell: a stored study, with progress stages.

Idempotent: the job row (:mod:`fondo.jobs`) turns a re-delivery after success into the
stored result; a rerun after a worker died mid-task recomputes the same numbers from the
fully resolved stored request and rewrites the same hourly file (atomically, by rename) and
the same study row, so there is never a half-written file or a second result.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from fondo.jobs import FondoTask
from fondo.studies.service import STUDY_TASK, run_stored_study, study_url


@shared_task(bind=True, base=FondoTask, name=STUDY_TASK)
def study(self: FondoTask, job_id: str, params: dict[str, Any]) -> tuple[dict, str]:
    """Run stored yield study ``params["study_id"]``; stages: weather, simulation, writing."""
    study_id = int(params["study_id"])

    def on_progress(done: int, total: int, stage: str) -> None:
        self.progress(job_id, done, total, stage)

    record = run_stored_study(self.settings, study_id, on_progress)
    summary = {key: record[key] for key in ("id", "technology", "status", "energy_p50_mwh",
                                            "energy_p90_mwh", "links")}
    return {"study_id": study_id, "study": summary}, study_url(study_id)
