"""Subscribers and deliveries: notices e-mailed through SMTP and queued as SMS.

A delivery is claimed (a committed row) before it is sent, so two workers delivering the
same notice never send the same message twice, and a retried task skips what was served.
The chain records each delivery with the SHA-256 of the address, never the address.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultation import feedback as fb
from consultation import record as rec
from fondo.consultation.chain import iso, load_consultation, lock_chain, record_event, sha256_text
from fondo.consultation.clock import now as clock_now
from fondo.consultation.mail import MailError, queue_sms, send_email
from fondo.consultation.models import (
    ConsultationDelivery,
    ConsultationNotice,
    ConsultationSubscriber,
)
from fondo.consultation.notices import load_notice, notice_domain, portal_url, poster_pdf
from fondo.db import run_unit_of_work
from fondo.errors import InvalidInput
from fondo.jobs import create_job
from fondo.orm import Job

#: Celery task that delivers a notice (:mod:`fondo.consultation.tasks`).
DELIVER_NOTICE_TASK = "fondo.consultation.deliver_notice"
#: Kind of the job that follows a delivery (``GET /api/v1/tasks/<id>``).
DELIVER_NOTICE_JOB = "consultation_deliver_notice"

#: A claim ("sending") older than this is taken to belong to a worker that died. [minutes]
DELIVERY_CLAIM_STALE_MINUTES = 10


def subscribe(session: Session, consultation_id: Any, body: Mapping[str, Any]) -> dict[str, Any]:
    """Subscribe an e-mail and/or phone to a consultation's notices (public, idempotent).

    Body: as loaded by :class:`~fondo.consultation.schemas.SubscriptionRequestSchema` (``email``,
    ``phone``, ``language``). The answer is the same whether the address was already
    subscribed or not.
    """
    consultation = load_consultation(session, consultation_id)
    language = body.get("language", "es")
    try:
        checked = fb.validate_submission(kind="feedback", category="other", text="-",
                                         email=body.get("email"), phone=body.get("phone"))
    except fb.FeedbackError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    if checked.contact is None:
        raise InvalidInput("give an email or a phone to subscribe", field="email")
    email, phone = checked.contact.email, checked.contact.phone
    if email is not None:
        email = email.lower()
    existing = session.scalars(select(ConsultationSubscriber).where(
        ConsultationSubscriber.consultation_id == consultation.id,
        (ConsultationSubscriber.email == email) | (ConsultationSubscriber.phone == phone))).first()
    if existing is None:
        session.add(ConsultationSubscriber(consultation_id=consultation.id, email=email,
                                           phone=phone, language=language,
                                           is_demo=consultation.is_demo))
        session.flush()
    return {"consultation_id": consultation.id, "subscribed": True}


#: Channel of each contact field of a subscriber (what :func:`deliver_notice` sends on).
SUBSCRIBER_CHANNELS = (("email", "email"), ("phone", "sms"))


def subscriber_view(subscriber: ConsultationSubscriber) -> dict[str, Any]:
    """A subscriber with their contact details (officers only: personal data)."""
    return {"id": subscriber.id, "email": subscriber.email, "phone": subscriber.phone,
            "language": subscriber.language,
            "channels": [channel for field, channel in SUBSCRIBER_CHANNELS
                         if getattr(subscriber, field)],
            "created_at": iso(subscriber.created_at), "is_demo": subscriber.is_demo}


def list_subscribers(session: Session, consultation_id: Any) -> dict[str, Any]:
    """A consultation's subscribers, newest first (officers only: shows the addresses).

    Each has its ``email`` and/or ``phone``, the ``language`` of the notices it receives,
    the ``channels`` a delivery uses (``email``, ``sms``) and when it subscribed.
    """
    consultation = load_consultation(session, consultation_id)
    rows = session.scalars(select(ConsultationSubscriber).where(
        ConsultationSubscriber.consultation_id == consultation.id)
        .order_by(ConsultationSubscriber.created_at.desc(), ConsultationSubscriber.id.desc()))
    subscribers = [subscriber_view(row) for row in rows]
    return {"consultation_id": consultation.id, "subscriber_count": len(subscribers),
            "subscribers": subscribers}


def _notice_message(notice: ConsultationNotice, language: str) -> tuple[str, str]:
    domain = notice_domain(notice, language)
    return domain.title, domain.full_text()


def deliver_notice(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   notice_id: Any, progress: Callable[[int, int, str], None] | None = None,
                   ) -> dict[str, Any]:
    """Send a notice to every subscriber: e-mail through SMTP, SMS into the outbox.

    Idempotent: a subscriber already served (sent or queued) on a channel is skipped, so a
    retried task never sends twice. Each delivery is recorded as one unit of work (the
    row's status, the SMS in the outbox and the chain event, under the chain lock,
    committed together; :func:`fondo.db.run_unit_of_work`), one recipient after another.
    """
    consultation = load_consultation(session, consultation_id)
    notice = load_notice(session, consultation, notice_id)
    subscribers = session.scalars(select(ConsultationSubscriber).where(
        ConsultationSubscriber.consultation_id == consultation.id)
        .order_by(ConsultationSubscriber.id)).all()
    tasks = [(s, ch) for s in subscribers for ch in ("email", "sms")
             if (s.email if ch == "email" else s.phone)]
    counts = {"sent": 0, "queued": 0, "failed": 0, "skipped": 0}
    for done, (sub, channel) in enumerate(tasks):
        if progress:
            progress(done, len(tasks), f"delivering by {channel}")
        row = claim_delivery(session, consultation.id, notice.id, sub.id, channel)
        if row is None:  # served already, or another worker is serving it right now
            counts["skipped"] += 1
            continue
        subject, text = _notice_message(notice, sub.language)
        error = None
        recipient = sub.email if channel == "email" else sub.phone
        if channel == "email":
            attachments = []
            try:
                attachments = [("aviso.pdf" if sub.language == "es" else "notice.pdf",
                                "application/pdf",
                                poster_pdf(session, settings, consultation.id, notice.id,
                                           sub.language))]
            except ValueError:
                attachments = []
            try:
                send_email(settings, recipient, subject, text, attachments)
                status = "sent"
            except MailError as exc:
                status, error = "failed", str(exc)
        else:
            status = "queued"
        run_unit_of_work(session, functools.partial(
            _record_delivery, settings=settings, consultation_id=consultation.id,
            notice_id=notice.id, delivery_id=row.id, channel=channel, recipient=recipient,
            status=status, error=error, subject=subject))
        counts[status] += 1
    if progress:
        progress(len(tasks), len(tasks), "delivered")
    return {"consultation_id": consultation.id, "notice_id": notice.id, **counts}


def _record_delivery(session: Session, settings: Mapping[str, Any], consultation_id: int,
                     notice_id: int, delivery_id: int, channel: str, recipient: str,
                     status: str, error: str | None, subject: str) -> None:
    """One unit of work: a delivery's outcome (and its SMS in the outbox) with its event."""
    consultation = lock_chain(session, consultation_id)
    if channel == "sms":
        queue_sms(session, recipient, f"{subject}. {portal_url(settings, consultation_id)}",
                  consultation_id)
    now = clock_now()
    row = session.get(ConsultationDelivery, delivery_id, populate_existing=True)
    row.status, row.error, row.attempted_at = status, error, now
    session.flush()
    record_event(session, consultation, rec.EventKind.NOTICE_DELIVERED.value, {
        "notice_id": notice_id, "delivery_id": delivery_id, "channel": channel,
        "recipient_sha256": sha256_text(recipient.lower()), "status": status,
        "error": error}, now)


def create_delivery_job(session: Session, consultation_id: Any, notice_id: Any,
                        user_id: int | None = None) -> Job:
    """Add the job of a notice's delivery (not committed); a 404 for an unknown notice.

    The caller commits, then sends :data:`DELIVER_NOTICE_TASK` with ``job.params``
    (:func:`fondo.jobs.launch`), as ``POST …/notices/<id>/deliver`` and the desk's button do.
    """
    consultation = load_consultation(session, consultation_id)
    notice = load_notice(session, consultation, notice_id)
    params = {"consultation_id": consultation.id, "notice_id": notice.id}
    return create_job(session, DELIVER_NOTICE_JOB, params, user_id=user_id)


def claim_delivery(session: Session, consultation_id: int, notice_id: int, subscriber_id: int,
                   channel: str) -> ConsultationDelivery | None:
    """Claim one (notice, subscriber, channel) delivery before sending it, or return None.

    The claim is a committed row in state ``sending``; the table's unique key makes it
    atomic, so two workers delivering the same notice never send the same message twice.
    A delivery already sent or queued is not claimed again; a failed one, or a claim left
    by a worker that died more than :data:`DELIVERY_CLAIM_STALE_MINUTES` ago, is retried.
    """
    now = clock_now()
    prior = session.scalars(select(ConsultationDelivery).where(
        ConsultationDelivery.notice_id == notice_id,
        ConsultationDelivery.subscriber_id == subscriber_id,
        ConsultationDelivery.channel == channel)).first()
    if prior is not None:
        if prior.status in ("sent", "queued"):
            return None
        stale = now - dt.timedelta(minutes=DELIVERY_CLAIM_STALE_MINUTES)
        if prior.status == "sending" and prior.attempted_at and prior.attempted_at > stale:
            return None
        prior.status, prior.attempted_at = "sending", now
        session.commit()
        return prior
    row = ConsultationDelivery(consultation_id=consultation_id, notice_id=notice_id,
                               subscriber_id=subscriber_id, channel=channel, status="sending",
                               attempted_at=now)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # another worker claimed it first
        session.rollback()
        return None
    return row


def list_deliveries(session: Session, consultation_id: Any, notice_id: Any) -> dict[str, Any]:
    """Deliveries of a notice (officers: shows the addresses)."""
    consultation = load_consultation(session, consultation_id)
    notice = load_notice(session, consultation, notice_id)
    out = []
    for d in session.scalars(select(ConsultationDelivery).where(
            ConsultationDelivery.notice_id == notice.id).order_by(ConsultationDelivery.id)):
        sub = session.get(ConsultationSubscriber, d.subscriber_id)
        out.append({"id": d.id, "channel": d.channel, "status": d.status, "error": d.error,
                    "recipient": sub.email if d.channel == "email" else sub.phone,
                    "attempted_at": iso(d.attempted_at)})
    return {"notice_id": notice.id, "deliveries": out}
