"""Celery tasks. Each receives a job id and JSON-able parameters, never the web app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import shared_task

from fondo.data.manifest import load_manifest
from fondo.data.verification import dataset_status
from fondo.jobs import FondoTask


@shared_task(bind=True, base=FondoTask, name="fondo.data_check")
def data_check(self: FondoTask, job_id: str, params: dict[str, Any]) -> tuple[dict, str]:
    """Verify every bundled dataset's checksum, reporting progress per dataset."""
    data_dir = Path(self.settings["DATA_DIR"])
    datasets = load_manifest(data_dir)
    rows = []
    for done, dataset in enumerate(datasets):
        self.progress(job_id, done, len(datasets), f"checking {dataset.file}")
        status = dataset_status(dataset, data_dir)
        rows.append({"id": dataset.id, "file": dataset.file, "status": status.status,
                     "expected_sha256": status.expected_sha256,
                     "actual_sha256": status.actual_sha256})
    self.progress(job_id, len(datasets), len(datasets), "checked")
    failed = [r["file"] for r in rows if r["status"] != "ok"]
    result = {"datasets": rows, "ok": not failed, "failed": failed}
    return result, f"/api/v1/tasks/{job_id}/result"
