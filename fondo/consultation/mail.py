"""Outgoing messages: e-mail through a real SMTP server, SMS through an outbox.

E-mail goes out with :mod:`smtplib` to ``SMTP_HOST``:``SMTP_PORT`` from ``MAIL_FROM``
(settings). SMS are only *queued* in the ``sms_outbox`` table: a provider (a class
implementing :class:`SmsProvider`) may later be plugged in and called by
:func:`dispatch_sms_outbox`; Fondo configures none, so nothing leaves the outbox yet.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.orm import utcnow
from fondo.consultation.models import SmsOutbox

#: Seconds to wait for the SMTP server before giving up on a message. [s]
SMTP_TIMEOUT_S = 20.0
#: Longest SMS body queued; longer texts are cut with an ellipsis (3 GSM-7 segments). [characters]
SMS_MAX_CHARS = 459


class MailError(RuntimeError):
    """The SMTP server refused or could not be reached; the message says which."""


def build_email(
    settings: Mapping[str, Any],
    to: str,
    subject: str,
    body_text: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A plain-text e-mail (UTF-8) with optional attachments ``(filename, mime, data)``."""
    message = EmailMessage()
    message["From"] = str(settings.get("MAIL_FROM", "fondo@localhost"))
    message["To"] = to
    message["Subject"] = subject.replace("\n", " ").replace("\r", " ")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="fondo.local")
    message.set_content(body_text, charset="utf-8")
    for filename, mime, data in attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send_email(
    settings: Mapping[str, Any],
    to: str,
    subject: str,
    body_text: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> str:
    """Send one e-mail through the configured SMTP server; returns its Message-ID.

    Raises
    ------
    MailError
        Connection refused, timeout, or the server rejected the recipient or message.
    """
    message = build_email(settings, to, subject, body_text, attachments)
    host = str(settings.get("SMTP_HOST", "127.0.0.1"))
    port = int(settings.get("SMTP_PORT", 25))
    try:
        with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}") from exc
    return str(message["Message-ID"])


class SmsProvider(Protocol):
    """What an SMS gateway adapter must offer (none is configured in Fondo yet)."""

    name: str

    def send(self, to_phone: str, body: str) -> str:
        """Send one SMS and return the provider's message reference; raise on failure."""


def queue_sms(session: Session, to_phone: str, body: str,
              consultation_id: int | None = None) -> SmsOutbox:
    """Put an SMS in the outbox (status ``queued``); nothing is sent here."""
    text = body if len(body) <= SMS_MAX_CHARS else body[: SMS_MAX_CHARS - 1] + "…"
    row = SmsOutbox(consultation_id=consultation_id, to_phone=to_phone, body=text,
                    status="queued", created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def dispatch_sms_outbox(session: Session, provider: SmsProvider, limit: int = 100) -> int:
    """Hand queued SMS to ``provider``; returns how many were sent. (Not called by Fondo.)"""
    rows = session.scalars(
        select(SmsOutbox).where(SmsOutbox.status == "queued").order_by(SmsOutbox.id).limit(limit)
    ).all()
    sent = 0
    for row in rows:
        try:
            row.provider_ref = provider.send(row.to_phone, row.body)
            row.status, row.sent_at, row.provider = "sent", utcnow(), provider.name
            sent += 1
        except Exception as exc:  # a provider failure marks the row, never loses it
            row.status, row.error, row.provider = "failed", f"{type(exc).__name__}: {exc}", provider.name
    session.flush()
    return sent
