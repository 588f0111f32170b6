"""Feedback and grievances: public submissions, receipts, SLA timers and officers' actions.

A submission is checked by :func:`consultation.feedback.validate_submission` (the domain's
rules: text, contact, anonymity, location inside Mexico, attachment type and size), stored
with the submitter's private details, and appended to the chain as its public view plus the
SHA-256 of its text. Anyone holding the receipt code sees its status and public answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from consultation import feedback as fb
from consultation import protocol as pr
from consultation import record as rec
from consultation import sla
from consultation import suspension as sp
from fondo.consultation.chain import (
    event_rows,
    load_consultation,
    lock_chain,
    protocol_of,
    record_event,
    sha256_text,
)
from fondo.consultation.clock import now as clock_now
from fondo.consultation.group_commit import CHAINS
from fondo.consultation.models import ConsultationFeedback
from fondo.errors import Conflict, InvalidInput, NotFound

#: Feedback actions of officers and the status each leads to.
FEEDBACK_ACTIONS = {
    "acknowledge": fb.FeedbackStatus.ACKNOWLEDGED,
    "answer": fb.FeedbackStatus.ANSWERED,
    "escalate": fb.FeedbackStatus.ESCALATED,
    "close": fb.FeedbackStatus.CLOSED,
}
_ACTION_EVENT = {
    "acknowledge": rec.EventKind.FEEDBACK_ACKNOWLEDGED.value,
    "answer": rec.EventKind.FEEDBACK_ANSWERED.value,
    "escalate": rec.EventKind.FEEDBACK_ESCALATED.value,
    "close": rec.EventKind.FEEDBACK_CLOSED.value,
}

#: An attachment as it arrives: (file name, content, declared content type).
Upload = tuple[str, bytes, str | None]


def feedback_item(row: ConsultationFeedback) -> fb.FeedbackItem:
    """The domain's view of a stored submission."""
    contact = fb.Contact(row.email, row.phone) if (row.email or row.phone) else None
    location = (fb.Location(row.latitude_deg, row.longitude_deg)
                if row.latitude_deg is not None else None)
    attachment = (fb.Attachment(row.attachment_filename, row.attachment_mime_type,
                                row.attachment_size_bytes, row.attachment_sha256)
                  if row.attachment_sha256 else None)
    submission = fb.Submission(fb.FeedbackKind(row.kind), fb.Category(row.category), row.text,
                               row.language, row.anonymous, row.name, contact, location,
                               attachment, row.client_token)
    return fb.FeedbackItem(row.receipt_code, submission, row.submitted_at,
                           fb.FeedbackStatus(row.status), row.acknowledged_at, row.answered_at,
                           row.closed_at, row.escalated_at, row.public_answer, row.officer_notes)


@dataclasses.dataclass(frozen=True)
class CheckedSubmission:
    """A submission that passed the domain's checks, ready to store (no database needed)."""

    submission: fb.Submission
    attachment: fb.Attachment | None
    attachment_data: bytes | None
    email: str | None
    phone: str | None
    content_sha256: str


def check_submission(body: Mapping[str, Any], attachment: Upload | None = None,
                     ) -> CheckedSubmission:
    """Check a public submission (the domain's rules; :class:`~fondo.errors.InvalidInput`
    naming the field). Body: as :func:`submit_feedback` takes it."""
    if attachment is None:
        attachment = body.get("attachment")
    try:
        checked_attachment = (fb.validate_attachment(*attachment) if attachment is not None
                              else None)
        submission = fb.validate_submission(
            kind=body.get("kind"), category=body.get("category"), text=body.get("text"),
            language=body.get("language", "es"), anonymous=body.get("anonymous", False),
            name=body.get("name"), email=body.get("email"), phone=body.get("phone"),
            location=body.get("location"), attachment=checked_attachment,
            client_token=body.get("client_token"))
    except fb.FeedbackError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    content = {"kind": submission.kind.value, "category": submission.category.value,
               "text": submission.text, "language": submission.language,
               "anonymous": submission.anonymous, "name": submission.name,
               "email": submission.contact.email if submission.contact else None,
               "phone": submission.contact.phone if submission.contact else None,
               "location": dataclasses.asdict(submission.location) if submission.location else None,
               "attachment_sha256": checked_attachment.sha256 if checked_attachment else None}
    return CheckedSubmission(submission, checked_attachment,
                             attachment[1] if checked_attachment else None, content["email"],
                             content["phone"],
                             hashlib.sha256(rec.canonical_json(content)).hexdigest())


def store_submission(session: Session, consultation_id: Any, checked: CheckedSubmission,
                     ) -> tuple[dict[str, Any], bool]:
    """Store a checked submission and its ``feedback_received`` event under the chain lock
    (taken first); returns (public view with receipt code, created?). The caller commits.

    The same ``client_token`` with the same content returns the stored submission (created
    False); with different content it is a 409. Nothing is written before either answer.
    """
    consultation = lock_chain(session, consultation_id)
    submission, attachment = checked.submission, checked.attachment
    token = submission.client_token
    code = fb.new_receipt_code()
    while True:  # one query: the token's earlier submission, or a clash of receipt codes
        same = [ConsultationFeedback.receipt_code == code]
        if token is not None:
            same.append((ConsultationFeedback.consultation_id == consultation.id)
                        & (ConsultationFeedback.client_token == token))
        found = session.scalars(select(ConsultationFeedback).where(or_(*same))).all()
        prior = next((r for r in found if token is not None and r.client_token == token
                      and r.consultation_id == consultation.id), None)
        if prior is not None:  # the same submission sent again: its first receipt
            if prior.content_sha256 != checked.content_sha256:
                raise Conflict("this client_token was already used for a different "
                               "submission", field="client_token")
            return public_feedback(prior), False
        if not found:
            break
        code = fb.new_receipt_code()
    now = clock_now()
    row = ConsultationFeedback(
        consultation_id=consultation.id, receipt_code=code, client_token=token,
        content_sha256=checked.content_sha256, kind=submission.kind.value,
        category=submission.category.value, text=submission.text, language=submission.language,
        anonymous=submission.anonymous, name=submission.name,
        email=checked.email, phone=checked.phone,
        latitude_deg=submission.location.latitude if submission.location else None,
        longitude_deg=submission.location.longitude if submission.location else None,
        attachment_filename=attachment.filename if attachment else None,
        attachment_mime_type=attachment.mime_type if attachment else None,
        attachment_size_bytes=attachment.size_bytes if attachment else None,
        attachment_sha256=attachment.sha256 if attachment else None,
        attachment_data=checked.attachment_data,
        status=fb.FeedbackStatus.RECEIVED.value, submitted_at=now,
        is_demo=consultation.is_demo)
    session.add(row)
    session.flush()
    payload = fb.public_view(feedback_item(row))
    payload.update({"feedback_id": row.id, "text_sha256": sha256_text(row.text),
                    "attachment_sha256": row.attachment_sha256})
    record_event(session, consultation, rec.EventKind.FEEDBACK_RECEIVED.value, payload, now)
    return public_feedback(row), True


def submit_feedback(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                    body: Mapping[str, Any], attachment: Upload | None = None,
                    ) -> tuple[dict[str, Any], bool]:
    """Store a public submission; returns (public view with receipt code, created?).

    Body: as loaded by :class:`~fondo.consultation.schemas.FeedbackRequestSchema`
    (``kind``, ``category``, ``text``, optional ``language``, ``anonymous``, ``name``,
    ``email``, ``phone``, ``location`` {latitude, longitude}, ``client_token``, and
    ``attachment`` already decoded to (filename, bytes, declared type)); a multipart form's
    file comes as ``attachment`` instead.

    The same ``client_token`` with the same content returns the stored submission
    (created False); with different content it is a 409. The submission is checked
    (:func:`check_submission`) before the chain lock is taken; the row and its event are
    written under it (:func:`store_submission`), for the caller to commit together.
    """
    checked = check_submission(body, attachment)
    return store_submission(session, consultation_id, checked)


def submit_feedback_committed(session: Session, settings: Mapping[str, Any],
                              consultation_id: Any, body: Mapping[str, Any],
                              attachment: Upload | None = None) -> tuple[dict[str, Any], bool]:
    """:func:`submit_feedback`, committed: checked in the calling thread, then stored in a
    transaction shared with the submissions to the same consultation that arrive at the
    same moment (:mod:`~fondo.consultation.group_commit`), retried when the database is
    busy (:class:`~fondo.errors.Busy` after the last try). What the web endpoints call.
    """
    checked = check_submission(body, attachment)
    try:
        cid = int(consultation_id)
    except (TypeError, ValueError):
        raise NotFound(f"consultation {consultation_id!r} does not exist") from None
    key = (session.get_bind().url.render_as_string(hide_password=True), cid)
    return CHAINS.run(session, key, lambda s: lock_chain(s, cid),
                      lambda s: store_submission(s, cid, checked))


def public_feedback(row: ConsultationFeedback) -> dict[str, Any]:
    """A submission as its submitter sees it with the receipt code (no contact details)."""
    view = fb.public_view(feedback_item(row), include_text=True)
    view["receipt_code_display"] = fb.format_receipt_code(row.receipt_code)
    view["consultation_id"] = row.consultation_id
    return view


def feedback_by_receipt(session: Session, code: Any) -> dict[str, Any]:
    """What anyone holding a receipt code sees; unknown or malformed code → the same 404."""
    not_found = NotFound("no submission with this receipt code")
    try:
        normal = fb.normalize_receipt_code(code if isinstance(code, str) else "")
    except fb.FeedbackError:
        raise not_found from None
    row = session.scalars(select(ConsultationFeedback).where(
        ConsultationFeedback.receipt_code == normal)).first()
    if row is None:
        raise not_found
    return public_feedback(row)


def sla_frame(rows: list[ConsultationFeedback], now: dt.datetime,
              protocol: pr.Protocol, paused_days: tuple[dt.date, ...] = ()) -> pd.DataFrame:
    """Due dates and overdue flags of submissions, indexed by their id; ``paused_days`` are
    the local days a suspension stopped the clocks (:func:`consultation.suspension.paused_local_days`)."""
    frame = pd.DataFrame({
        "id": [r.id for r in rows],
        "received_at": pd.to_datetime([r.submitted_at for r in rows], utc=True),
        "acknowledged_at": pd.to_datetime([r.acknowledged_at for r in rows], utc=True),
        "answered_at": pd.to_datetime([r.answered_at or (r.closed_at if r.status == "closed"
                                                         else None) for r in rows], utc=True),
    })
    return sla.overdue(frame, now, protocol.sla, extra_rest_days=paused_days).set_index("id")


def paused_days_of(session: Session, consultation_id: int, now: dt.datetime,
                   rows: list[dict] | None = None) -> tuple[dt.date, ...]:
    """Local days on which the consultation's suspensions stopped the SLA clocks."""
    rows = rows if rows is not None else event_rows(session, consultation_id)
    return sp.paused_local_days(sp.suspensions_from_events(rows), now)


def feedback_rows(session: Session, consultation_id: int) -> list[ConsultationFeedback]:
    """Every submission of a consultation, oldest first."""
    return list(session.scalars(select(ConsultationFeedback).where(
        ConsultationFeedback.consultation_id == consultation_id)
        .order_by(ConsultationFeedback.id)).all())


def list_feedback(session: Session, consultation_id: Any) -> dict[str, Any]:
    """Every submission with contact details and SLA timers (officers only)."""
    consultation = load_consultation(session, consultation_id)
    rows = feedback_rows(session, consultation.id)
    now = clock_now()
    frame = sla_frame(rows, now, protocol_of(consultation),
                      paused_days_of(session, consultation.id, now))
    out = []
    for r in rows:
        view = fb.officer_view(feedback_item(r))
        s = frame.loc[r.id]
        view.update({"id": r.id, "acknowledge_due_at": s["acknowledge_due_at"].isoformat(),
                     "answer_due_at": s["answer_due_at"].isoformat(),
                     "acknowledge_overdue": bool(s["acknowledge_overdue"]),
                     "answer_overdue": bool(s["answer_overdue"]), "overdue": bool(s["overdue"])})
        out.append(view)
    return {"consultation_id": consultation.id, "feedback": out,
            "overdue_count": sum(v["overdue"] for v in out)}


def public_feedback_list(session: Session, consultation_id: Any) -> list[dict[str, Any]]:
    """Submissions as the public page lists them: category, status, dates and public answer
    only (no text, no name, no contact, no location)."""
    consultation = load_consultation(session, consultation_id)
    out = []
    for r in feedback_rows(session, consultation.id):
        v = fb.public_view(feedback_item(r))
        out.append({k: v[k] for k in ("kind", "category", "category_label_es",
                                      "category_label_en", "status", "submitted_at",
                                      "answered_at", "public_answer")})
    return out


def feedback_action(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                    feedback_id: Any, body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Officer triage, body as loaded by :class:`~fondo.consultation.schemas.FeedbackActionRequestSchema`:
    ``action`` acknowledge | answer | escalate | close, with ``public_answer`` (given to
    answer), ``officer_notes`` and ``reason`` (given to escalate). The status is read
    under the chain lock, so two officers acting at once are recorded one after the other."""
    consultation = lock_chain(session, consultation_id)
    try:
        fid = int(feedback_id)
    except (TypeError, ValueError):
        raise NotFound(f"submission {feedback_id!r} does not exist") from None
    row = session.get(ConsultationFeedback, fid, populate_existing=True)
    if row is None or row.consultation_id != consultation.id:
        raise NotFound(f"submission {fid} does not exist in consultation {consultation.id}")
    action = body["action"]
    answer, notes, reason = (body.get("public_answer"), body.get("officer_notes"),
                             body.get("reason"))
    current = row.status
    if action == "answer" and current == fb.FeedbackStatus.RECEIVED.value:
        current = fb.FeedbackStatus.ACKNOWLEDGED.value
    try:
        new = fb.transition_status(current, FEEDBACK_ACTIONS[action])
    except fb.FeedbackError as exc:
        raise Conflict(str(exc), field="action") from None
    now = clock_now()
    if action == "answer" and row.status == fb.FeedbackStatus.RECEIVED.value:
        # Answering a fresh item acknowledges it too (both are recorded).
        row.status, row.acknowledged_at = fb.FeedbackStatus.ACKNOWLEDGED.value, now
        record_event(session, consultation, _ACTION_EVENT["acknowledge"], {
            "feedback_id": row.id, "receipt_code": row.receipt_code, "status": row.status,
            "public_answer": None, "reason": "answered directly", "by": actor}, now)
    row.status = new.value
    if action == "acknowledge":
        row.acknowledged_at = now
    elif action == "answer":
        row.answered_at, row.public_answer = now, answer
        row.acknowledged_at = row.acknowledged_at or now
    elif action == "escalate":
        row.escalated_at = now
    else:
        row.closed_at = now
    if notes:
        row.officer_notes = ((row.officer_notes + "\n") if row.officer_notes else "") + notes
    session.flush()
    record_event(session, consultation, _ACTION_EVENT[action], {
        "feedback_id": row.id, "receipt_code": row.receipt_code, "status": row.status,
        "public_answer": answer, "reason": reason, "by": actor}, now)
    view = fb.officer_view(feedback_item(row))
    view["id"] = row.id
    return view


def feedback_attachment(session: Session, consultation_id: Any, feedback_id: Any,
                        ) -> tuple[str, str, bytes]:
    """(filename, mime type, bytes) of a submission's attachment (officers only)."""
    consultation = load_consultation(session, consultation_id)
    row = session.get(ConsultationFeedback, int(feedback_id)) if str(feedback_id).isdigit() else None
    if row is None or row.consultation_id != consultation.id or row.attachment_data is None:
        raise NotFound("no such attachment")
    return row.attachment_filename, row.attachment_mime_type, row.attachment_data
