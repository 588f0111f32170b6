"""Signed heads of the consultation records: the anchor key, publication and verification.

The record's hash chain and its unsigned anchor (``consultation_anchors``) live in the
database, so a writer of the database could rewrite an event and recompute everything after
it. Each time a head is *published* (a notice is published, a poster printed, the portal
page or ``GET …/anchors`` shows a head that moved) this module signs it with an Ed25519 key
held **outside the database** and keeps the signed head in ``consultation_signed_heads``;
the portal page, the notices and the posters print it. :func:`verify_record` checks the
chain against every signed head (stored, or handed in from a printed copy): a rewrite
below a published head fails even when every hash and the unsigned anchor were recomputed,
because nobody without the key can sign the new head.

The key
-------
``FONDO_ANCHOR_PRIVATE_KEY`` (PEM text, or the base64 of the 32-byte seed), else the PEM file
``FONDO_ANCHOR_KEY_FILE``, else ``instance/anchor_ed25519.pem``, generated on first use with
mode 0600 (embedded mode). Production supplies its own, e.g. made with
``openssl genpkey -algorithm ed25519 -out anchor.pem``, mounted outside the database host.
Verification trusts the key's public half plus ``FONDO_ANCHOR_TRUSTED_KEYS`` (earlier keys,
base64 of the raw 32 bytes, comma-separated). Public keys are never read from the database.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import anchoring as an
from fondo.config import ConfigError
from fondo.consultation.chain import (
    event_rows,
    load_consultation,
    lock_chain,
    verify_consultation,
)
from fondo.consultation.clock import now as clock_now
from fondo.consultation.models import ConsultationAnchor, ConsultationSignedHead
from fondo.errors import InvalidInput, invalid_from

#: Name of the generated key file under ``INSTANCE_PATH``.
KEY_FILE_NAME = "anchor_ed25519.pem"
#: Where a head was published (``consultation_signed_heads.published_in``).
PUBLISHED_IN = ("notice", "poster", "portal", "api", "cli")
#: How the signed bytes are made (printed by ``GET …/anchors`` and the record export).
SIGNED_MESSAGE_RULE = ("Ed25519 (RFC 8032) over the RFC 8785 canonical JSON of {type: "
                       f"'{an.HEAD_TYPE}', consultation_id, event_count, head_hash, signed_at}}; "
                       "head_hash = hash of the event at seq event_count - 1; public keys and "
                       "signatures as standard base64 of the raw bytes")
#: Digits of the head hash shown on the portal, notices and posters.
SHORT_HASH_DIGITS = 16


# --- the key, outside the database -------------------------------------------------------


def key_file(settings: Mapping[str, Any]) -> Path:
    """The anchor key's PEM file: ``ANCHOR_KEY_FILE`` or ``instance/anchor_ed25519.pem``."""
    configured = settings.get("ANCHOR_KEY_FILE")
    return Path(configured) if configured else Path(settings["INSTANCE_PATH"]) / KEY_FILE_NAME


def _generate_key_file(path: Path) -> None:
    """Write a new key to ``path`` once: a 0600 temporary file hard-linked into place, so
    that two processes starting together end up with the same key and nobody reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = an.private_key_pem(Ed25519PrivateKey.generate())
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        tmp.unlink()


def signing_key(settings: Mapping[str, Any], create: bool = True) -> Ed25519PrivateKey | None:
    """The anchor signing key, or ``None`` when there is none yet and ``create`` is false.

    Raises
    ------
    ConfigError
        A configured key cannot be read (the message names the setting).
    """
    text = settings.get("ANCHOR_PRIVATE_KEY")
    if text:
        try:
            return an.private_key_from_bytes(str(text).encode("ascii", "replace"))
        except ValueError as exc:
            raise ConfigError(f"FONDO_ANCHOR_PRIVATE_KEY: {exc}") from None
    path = key_file(settings)
    if not path.exists():
        if settings.get("ANCHOR_KEY_FILE"):
            raise ConfigError(f"FONDO_ANCHOR_KEY_FILE={str(path)!r} does not exist")
        if not create:
            return None
        _generate_key_file(path)
    try:
        return an.private_key_from_bytes(path.read_bytes())
    except ValueError as exc:
        raise ConfigError(f"FONDO_ANCHOR_KEY_FILE ({path}): {exc}") from None


def trusted_keys(settings: Mapping[str, Any]) -> list[bytes]:
    """Raw public keys verification trusts: the signing key's and ``ANCHOR_TRUSTED_KEYS``."""
    keys = []
    own = signing_key(settings, create=False)
    if own is not None:
        keys.append(an.public_key_raw(own))
    for item in str(settings.get("ANCHOR_TRUSTED_KEYS") or "").split(","):
        if not item.strip():
            continue
        try:
            raw = base64.b64decode(item.strip(), validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) != an.PUBLIC_KEY_BYTES:
            raise ConfigError(f"FONDO_ANCHOR_TRUSTED_KEYS: {item.strip()!r} is not the base64 "
                              "of a 32-byte Ed25519 public key")
        keys.append(raw)
    return keys


# --- stored signed heads ----------------------------------------------------------------


def _head(row: ConsultationSignedHead) -> an.SignedHead:
    return an.SignedHead(str(row.consultation_id), row.event_count, row.head_hash,
                         row.signed_at, row.public_key, row.signature)


def stored_heads(session: Session, consultation_id: int) -> list[an.SignedHead]:
    """Every signed head kept for a consultation, oldest first."""
    rows = session.scalars(select(ConsultationSignedHead).where(
        ConsultationSignedHead.consultation_id == consultation_id)
        .order_by(ConsultationSignedHead.event_count, ConsultationSignedHead.id)).all()
    return [_head(r) for r in rows]


def head_view(head: an.SignedHead) -> dict[str, Any]:
    """A signed head as printed: every value, the short hash, the date and the signed text."""
    return {**head.as_dict(), "short_hash": head.head_hash[:SHORT_HASH_DIGITS],
            "signed_on": head.signed_at[:10],
            "signed_message": an.signed_message(head.consultation_id, head.event_count,
                                                head.head_hash, head.signed_at).decode("utf-8")}


def publish_head(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                 published_in: str) -> dict[str, Any]:
    """The consultation's signed head to publish; signs (and adds to the session) a new one
    when the head moved since the last.

    "Moved" compares the newest head signed with the current key with the unsigned anchor
    (``consultation_anchors``). A new head is signed under the consultation's chain lock
    (:func:`~fondo.consultation.chain.lock_chain`: one signer at a time) and only after the
    chain, its unsigned anchor and every signed head verified: a rewritten record never gets
    a signature. The caller commits.

    Returns
    -------
    dict
        ``signed_head`` (see :func:`head_view`, or None before the first event), ``current``
        (it is the record's head now) and ``record_ok`` (False when the record failed
        verification, in which case the last good signed head is shown, not renewed).
    """
    if published_in not in PUBLISHED_IN:
        raise ValueError(f"published_in must be one of {PUBLISHED_IN}, got {published_in!r}")
    consultation = load_consultation(session, consultation_id)
    key = signing_key(settings)
    public_key = base64.b64encode(an.public_key_raw(key)).decode("ascii")
    current = _current_signed(session, consultation.id, public_key)
    if current is not None:
        return current
    lock_chain(session, consultation.id)  # one signer at a time; re-read under the lock
    current = _current_signed(session, consultation.id, public_key)
    if current is not None:
        return current
    verdict = verify_record(session, settings, consultation.id)
    if verdict["first_broken_seq"] is not None:  # the chain or a signed head fails
        return {"signed_head": verdict["signed_heads"]["last_good"], "current": False,
                "record_ok": False}
    head = an.sign_head(key, str(consultation.id), verdict["length"], verdict["head_hash"],
                        clock_now())
    session.add(ConsultationSignedHead(
        consultation_id=consultation.id, event_count=head.event_count,
        head_hash=head.head_hash, signed_at=head.signed_at, public_key=head.public_key,
        signature=head.signature, published_in=published_in))
    session.flush()
    return {"signed_head": head_view(head), "current": True, "record_ok": True}


def _current_signed(session: Session, consultation_id: int,
                    public_key: str) -> dict[str, Any] | None:
    """What :func:`publish_head` answers when nothing needs signing, else None."""
    unsigned = session.scalars(select(ConsultationAnchor).where(
        ConsultationAnchor.consultation_id == consultation_id)
        .execution_options(populate_existing=True)).first()
    if unsigned is None:  # no event yet
        return {"signed_head": None, "current": True, "record_ok": True}
    latest = session.scalars(select(ConsultationSignedHead).where(
        ConsultationSignedHead.consultation_id == consultation_id,
        ConsultationSignedHead.public_key == public_key)
        .order_by(ConsultationSignedHead.event_count.desc(), ConsultationSignedHead.id.desc())
        .limit(1)).first()
    if latest is None or (latest.event_count, latest.head_hash) != (
            unsigned.event_count, unsigned.head_hash):
        return None
    head = _head(latest)  # a row with our key but not our signature is no shortcut
    if an.signature_status(head, [base64.b64decode(public_key)])[0] != an.HeadStatus.GOOD:
        return None
    return {"signed_head": head_view(head), "current": True, "record_ok": True}


def published_heads(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                    published_in: str = "api") -> dict[str, Any]:
    """The public key and every signed head of a consultation, newest first (public).

    Publishes (signs) the current head first if it moved; the caller commits.
    """
    consultation = load_consultation(session, consultation_id)
    current = publish_head(session, settings, consultation.id, published_in)
    key = an.public_key_raw(signing_key(settings))
    heads = sorted(stored_heads(session, consultation.id),
                   key=lambda h: (h.event_count, h.signed_at), reverse=True)
    return {"consultation_id": consultation.id, "algorithm": "Ed25519",
            "public_key": base64.b64encode(key).decode("ascii"), "key_id": an.key_id(key),
            "trusted_key_ids": [an.key_id(k) for k in trusted_keys(settings)],
            "signed_message_rule": SIGNED_MESSAGE_RULE, "record_ok": current["record_ok"],
            "signed_heads": [head_view(h) for h in heads]}


# --- verification -----------------------------------------------------------------------


def parse_published(data: Any) -> list[an.SignedHead]:
    """Signed heads handed in by an auditor: one head, a list, or ``GET …/anchors``' answer.

    Raises
    ------
    InvalidInput
        Naming the member (``signed_heads[2].head_hash``) that is missing or malformed.
    """
    if isinstance(data, Mapping) and "signed_heads" in data:
        data, where = data["signed_heads"], "signed_heads"
    elif isinstance(data, Mapping):
        data, where = [data], None
    else:
        where = "signed_heads"
    if not isinstance(data, list):
        raise InvalidInput("signed_heads must be a list of signed heads", field="signed_heads")
    try:
        return [an.parse_signed_head(item, f"{where}[{i}]" if where else "anchor")
                for i, item in enumerate(data)]
    except ValueError as exc:
        raise invalid_from(exc, "signed_heads") from None


def _event_at(rows: list[dict], position: int) -> dict[str, Any]:
    if position < len(rows):
        r = rows[position]
        return {"row_id": r["id"], "position": position, "seq": r["seq"], "kind": r["kind"],
                "occurred_at": r["occurred_at"]}
    return {"row_id": None, "position": position, "seq": position, "kind": None,
            "occurred_at": None}


def verify_record(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                  published: Iterable[an.SignedHead] = ()) -> dict[str, Any]:
    """Check a consultation's record: the chain, its unsigned anchor and every signed head.

    Parameters
    ----------
    published : iterable of SignedHead
        Heads from outside the database (a poster, a saved ``GET …/anchors``), checked
        beside the stored ones.

    Returns
    -------
    dict
        What :func:`~fondo.consultation.chain.verify_consultation` returns (``ok``,
        ``first_broken_seq``, ``reason``, ``first_broken_event``…), with ``ok`` false also
        when a signed head fails, ``first_broken_seq`` then the first event after the last
        good head (the smaller of the two when both fail), and ``signed_heads``: ``ok``,
        ``checked``, ``good``, ``first_broken_seq``, ``reason``, ``last_good``,
        ``unsigned_events`` (events after the last good head), ``trusted_key_ids`` and
        each head's ``status``.
    """
    consultation = load_consultation(session, consultation_id)
    out = verify_consultation(session, consultation.id)
    rows = event_rows(session, consultation.id)
    supplied = list(published)
    stored = stored_heads(session, consultation.id)
    keys = trusted_keys(settings)
    check = an.check_heads(rows, stored + supplied, keys, str(consultation.id))
    sources = {id(h): "stored" for h in stored} | {id(h): "supplied" for h in supplied}
    last_good = check.last_good
    out["signed_heads"] = {
        "ok": check.ok, "checked": len(check.statuses),
        "good": sum(s == an.HeadStatus.GOOD for _, s in check.statuses),
        "first_broken_seq": check.first_broken_seq, "reason": check.reason,
        "last_good": head_view(last_good) if last_good is not None else None,
        "unsigned_events": out["length"] - (last_good.event_count if last_good else 0),
        "trusted_key_ids": [an.key_id(k) for k in keys],
        "heads": [{"event_count": h.event_count, "head_hash": h.head_hash,
                   "signed_at": h.signed_at, "key_id": _key_id_or_none(h), "status": s,
                   "source": sources[id(h)]} for h, s in check.statuses],
    }
    if not check.ok:
        chain_seq = out["first_broken_seq"]
        if out["ok"] or chain_seq is None or check.first_broken_seq < chain_seq:
            out["first_broken_seq"] = check.first_broken_seq
            out["reason"] = check.reason
            out["first_broken_event"] = _event_at(rows, check.first_broken_seq)
        out["ok"] = False
    return out


def _key_id_or_none(head: an.SignedHead) -> str | None:
    try:
        return head.key_id
    except ValueError:
        return None

