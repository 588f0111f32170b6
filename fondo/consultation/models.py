"""Tables of the consultation shell (issue 6), beside ``consultations`` and ``consultation_events``.

The record itself is ``consultation_events`` (below): append-only, hash
chained. The tables here hold the working state the officers and the portal need (feedback
items with their private contact details, notices, subscribers, deliveries, commitments, the
SMS outbox) and :class:`ConsultationAnchor`, the last head hash and length of each chain, so
that cutting off the tail of a record is detected too. Every state change of these tables is
also appended to the chain (without personal contact details).

ORM guards: this module forbids ``UPDATE`` and ``DELETE`` of :class:`ConsultationEvent`
through the ORM (the code has no such path; a flush that tries raises).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from fondo.orm import Base, UTCDateTime, utcnow


class Consultation(Base):
    """A consultation of the communities around a project under the shared protocol."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    protocol_version: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(64))
    communities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)



class ConsultationEvent(Base):
    """One link of a consultation's append-only, hash-chained record.

    ``hash`` = SHA-256 over ``prev_hash`` and the canonical JSON of the event; the code has
    no update or delete path for this table.
    """

    __tablename__ = "consultation_events"
    __table_args__ = (UniqueConstraint("consultation_id", "seq", name="uq_consultation_events_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[str] = mapped_column(String(40))  # UTC ISO-8601, as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)



class ConsultationAnchor(Base):
    """Head hash and length of a consultation's chain after the last append.

    Verification compares the chain against it: a record whose tail was cut off is still
    a valid shorter chain, but no longer ends at this head.
    """

    __tablename__ = "consultation_anchors"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), primary_key=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsultationSignedHead(Base):
    """A published head of a consultation's chain, signed with the anchor key (issue 10).

    The Ed25519 key lives outside the database (:mod:`fondo.consultation.anchors`), so a
    writer of the database can delete these rows but cannot make new valid ones; the code
    has no update or delete path. ``signed_at`` is kept as signed (the record's UTC text).
    """

    __tablename__ = "consultation_signed_heads"
    __table_args__ = (
        UniqueConstraint("consultation_id", "event_count", "public_key",
                         name="uq_consultation_signed_heads_count"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    event_count: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of the raw 32 bytes
    signature: Mapped[str] = mapped_column(String(128))  # base64 of the 64 bytes
    published_in: Mapped[str] = mapped_column(String(16))  # notice | poster | portal | api | cli


class ConsultationFeedback(Base):
    """A public submission (feedback or grievance) with its lifecycle.

    ``name``, ``email``, ``phone`` and the exact location are shown to officers only.
    """

    __tablename__ = "consultation_feedback"
    __table_args__ = (
        UniqueConstraint("consultation_id", "client_token", name="uq_consultation_feedback_token"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    receipt_code: Mapped[str] = mapped_column(String(16), unique=True)
    client_token: Mapped[str | None] = mapped_column(String(128))
    content_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    latitude_deg: Mapped[float | None] = mapped_column(Float)
    longitude_deg: Mapped[float | None] = mapped_column(Float)
    attachment_filename: Mapped[str | None] = mapped_column(String(120))
    attachment_mime_type: Mapped[str | None] = mapped_column(String(64))
    attachment_size_bytes: Mapped[int | None] = mapped_column(Integer)
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))
    attachment_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="received")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    public_answer: Mapped[str | None] = mapped_column(Text)
    officer_notes: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsultationNotice(Base):
    """A published notice of a phase, rendered in Spanish and English, plus translations."""

    __tablename__ = "consultation_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    phase: Mapped[str] = mapped_column(String(64))
    community: Mapped[str] = mapped_column(String(300))
    place: Mapped[str] = mapped_column(String(300))
    meeting_language: Mapped[str] = mapped_column(String(300))
    interpreter_language: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    title_es: Mapped[str] = mapped_column(Text)
    body_es: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    translations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str | None] = mapped_column(String(320))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsultationSubscriber(Base):
    """Someone who asked to receive a consultation's notices by e-mail or SMS."""

    __tablename__ = "consultation_subscribers"
    __table_args__ = (
        UniqueConstraint("consultation_id", "email", name="uq_consultation_subscribers_email"),
        UniqueConstraint("consultation_id", "phone", name="uq_consultation_subscribers_phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="es")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsultationDelivery(Base):
    """One delivery of a notice to one subscriber over one channel (e-mail or SMS)."""

    __tablename__ = "consultation_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "subscriber_id", "channel",
                         name="uq_consultation_deliveries_notice_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("consultation_notices.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("consultation_subscribers.id"))
    channel: Mapped[str] = mapped_column(String(8))  # "email" | "sms"
    status: Mapped[str] = mapped_column(String(16))  # "sending" | "sent" | "queued" | "failed"
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsOutbox(Base):
    """SMS waiting for a provider (none is called by Fondo yet): see :mod:`fondo.mail`."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"), index=True)
    to_phone: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | sent | failed
    provider: Mapped[str | None] = mapped_column(String(64))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConsultationCommitment(Base):
    """A commitment agreed in the consultiva phase, followed up in seguimiento (public)."""

    __tablename__ = "consultation_commitments"
    __table_args__ = (
        UniqueConstraint("consultation_id", "commitment_code",
                         name="uq_consultation_commitments_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    commitment_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date] = mapped_column(Date)
    agreed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    amount_mxn: Mapped[float | None] = mapped_column(Float)
    status_reason: Mapped[str | None] = mapped_column(Text)
    fulfilled_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ProjectDecision(Base):
    """A permit, land contract or social-impact-assessment resolution of a project, with its
    date (issue 13, "prior" tied to the pipeline).

    A decision dated before the phase the protocol allows is refused unless it is recorded as
    a past fact with ``premature_reason``; it then shows as premature in the project's gates.
    When the project has a consultation, the decision is also appended to its chain.
    """

    __tablename__ = "project_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))
    kind: Mapped[str] = mapped_column(String(32))  # permit | land_contract | sia_resolution
    decision_date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(300))
    authority: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    premature_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsultationLanguageAgent(Base):
    """A translator or interpreter the community accepted (protocol version 2).

    The name is shown to officers only; the chain keeps its SHA-256, the role, the INALI
    language and variant, and the reference of the community's acceptance.
    """

    __tablename__ = "consultation_language_agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # translator | interpreter
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(120))  # INALI agrupación lingüística
    variant: Mapped[str] = mapped_column(String(200))  # INALI variante lingüística
    accepted_on: Mapped[date] = mapped_column(Date)
    acceptance_reference: Mapped[str] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RecordIsAppendOnly(RuntimeError):
    """Raised when code tries to update or delete a row of ``consultation_events``."""


@event.listens_for(ConsultationEvent, "before_update")
def _no_update(_mapper, _connection, target) -> None:  # pragma: no cover - guard
    raise RecordIsAppendOnly(
        f"consultation_events is append-only: refusing to update event seq {target.seq}")


@event.listens_for(ConsultationEvent, "before_delete")
def _no_delete(_mapper, _connection, target) -> None:  # pragma: no cover - guard
    raise RecordIsAppendOnly(
        f"consultation_events is append-only: refusing to delete event seq {target.seq}")


@event.listens_for(ConsultationSignedHead, "before_update")
@event.listens_for(ConsultationSignedHead, "before_delete")
def _no_change_of_signed_heads(_mapper, _connection, target) -> None:  # pragma: no cover
    raise RecordIsAppendOnly(
        f"consultation_signed_heads is append-only: refusing to change the head of "
        f"{target.event_count} events")
