"""Celery tasks of the consultation shell: delivering a notice to its subscribers."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from fondo.consultation.deliveries import DELIVER_NOTICE_TASK
from fondo.consultation.deliveries import deliver_notice as deliver
from fondo.db import session_scope
from fondo.jobs import FondoTask


@shared_task(bind=True, base=FondoTask, name=DELIVER_NOTICE_TASK)
def deliver_notice(self: FondoTask, job_id: str, params: dict[str, Any]) -> tuple[dict, str]:
    """E-mail a published notice to subscribers (SMTP) and queue its SMS (outbox).

    Idempotent: deliveries already made are skipped, so a retried or re-delivered task
    never sends a second e-mail to the same subscriber.
    """
    cid, nid = int(params["consultation_id"]), int(params["notice_id"])
    with session_scope(self.settings) as session:
        result = deliver(
            session, self.settings, cid, nid,
            progress=lambda done, total, stage: self.progress(job_id, done, total, stage))
    return result, f"/api/v1/consultations/{cid}/notices/{nid}/deliveries"
