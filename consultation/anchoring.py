"""Signed heads of a consultation's record: an anchor the database cannot forge.

The hash chain of :mod:`consultation.record` is unkeyed: whoever can write the database can
rewrite an event and recompute every later hash and the stored head. A *signed head* closes
that gap. It states "the record of consultation *c* had *n* events and ended at hash *h* at
time *t*", signed with an Ed25519 key held outside the database (a key file or a setting).
The head is printed on the portal page, the notices and the posters; verification checks
each signed head against the public key(s) the verifier trusts and against the chain, so a
chain rewritten below a published head fails even when every hash was recomputed.

Notes
-----
Signed bytes (``signed_message``): the RFC 8785 canonical JSON of

    {"type": "fondo.consultation.signed-head/1", "consultation_id": "<id>",
     "event_count": n, "head_hash": "<64 hex>", "signed_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ"}

``head_hash`` is the ``hash`` of the event at ``seq = n - 1``. The signature is pure
Ed25519 (RFC 8032 section 5.1, no pre-hash, no context). Public keys and signatures travel
as standard base64 of the raw 32- and 64-byte strings; a key's id is the first 16 hex
digits of the SHA-256 of its raw 32 bytes.

Checking a set of signed heads against a chain (:func:`check_heads`): the heads are taken
in order of ``event_count``; a head is *good* when its key is trusted, its signature is
valid, it belongs to this consultation, the chain has at least ``event_count`` events and
the hash recomputed from the content of the first ``event_count`` events equals
``head_hash``. At the first head that is not good the check fails and names the first event
after the last good head (``seq = last_good.event_count``, or 0 when none is good): the
rewrite lies somewhere from there on.

References
----------
.. [1] S. Josefsson, I. Liusvaara, "Edwards-Curve Digital Signature Algorithm (EdDSA)",
   RFC 8032, 2017 (Ed25519: section 5.1; test vectors: section 7.1).
.. [2] A. Rundgren, B. Jordan, S. Erdtman, "JSON Canonicalization Scheme (JCS)", RFC 8785.
.. [3] pyca/cryptography, ``cryptography.hazmat.primitives.asymmetric.ed25519``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from consultation import record as rec

__all__ = [
    "HEAD_TYPE",
    "PUBLIC_KEY_BYTES",
    "SIGNATURE_BYTES",
    "SignedHead",
    "HeadStatus",
    "HeadCheck",
    "sign_bytes",
    "verify_bytes",
    "private_key_from_bytes",
    "private_key_pem",
    "public_key_raw",
    "key_id",
    "signed_message",
    "sign_head",
    "signature_status",
    "parse_signed_head",
    "chain_hashes",
    "check_heads",
]

HEAD_TYPE = "fondo.consultation.signed-head/1"
"""``type`` member of every signed message (keeps these signatures from meaning anything else)."""

PUBLIC_KEY_BYTES = 32
"""Length of a raw Ed25519 public key (RFC 8032 section 5.1.5). [bytes]"""

SIGNATURE_BYTES = 64
"""Length of an Ed25519 signature (RFC 8032 section 5.1.6). [bytes]"""

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True)
class SignedHead:
    """A consultation's head (event count and hash at a time), signed with Ed25519.

    Attributes
    ----------
    consultation_id : str
    event_count : int
        Number of events the head covers (the head is the event at ``seq = event_count - 1``).
    head_hash : str
        64 lowercase hex characters.
    signed_at : str
        UTC instant in the record's form ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
    public_key : str
        Standard base64 of the raw 32-byte Ed25519 public key that signed.
    signature : str
        Standard base64 of the 64-byte signature over :func:`signed_message`.
    """

    consultation_id: str
    event_count: int
    head_hash: str
    signed_at: str
    public_key: str
    signature: str

    @property
    def key_id(self) -> str:
        """Id (fingerprint) of the signing key: see :func:`key_id`."""
        return key_id(_b64decode(self.public_key, "public_key"))

    def as_dict(self) -> dict[str, Any]:
        """The head as JSON-able values, with the key id and the algorithm."""
        return {"consultation_id": self.consultation_id, "event_count": self.event_count,
                "head_hash": self.head_hash, "signed_at": self.signed_at,
                "algorithm": "Ed25519", "key_id": self.key_id, "public_key": self.public_key,
                "signature": self.signature}


class HeadStatus:
    """Outcome of one signed head in :func:`check_heads` (plain strings, JSON-able)."""

    GOOD = "good"
    UNTRUSTED_KEY = "untrusted_key"
    BAD_SIGNATURE = "bad_signature"
    OTHER_CONSULTATION = "other_consultation"
    BEYOND_END = "beyond_end"
    HASH_MISMATCH = "hash_mismatch"


@dataclasses.dataclass(frozen=True)
class HeadCheck:
    """Outcome of :func:`check_heads`.

    Attributes
    ----------
    ok : bool
        Every signed head is good.
    first_broken_seq : int or None
        ``seq`` of the first event after the last good head (None when ok).
    reason : str
        Why the first bad head is bad ("" when ok).
    last_good : SignedHead or None
        The good head with the largest count below the first bad one.
    statuses : tuple of (SignedHead, str)
        Every head in ``event_count`` order with its :class:`HeadStatus`.
    """

    ok: bool
    first_broken_seq: int | None
    reason: str
    last_good: SignedHead | None
    statuses: tuple[tuple[SignedHead, str], ...]


def _b64decode(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError):
        raise _field_error(field, f"{field} is not standard base64") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _field_error(field: str, message: str) -> ValueError:
    exc = ValueError(message)
    exc.field = field  # read by fondo.errors.invalid_from
    return exc


def sign_bytes(private_key: Ed25519PrivateKey, message: bytes) -> bytes:
    """Ed25519 signature (RFC 8032 section 5.1.6) of ``message``. [64 bytes]"""
    return private_key.sign(message)


def verify_bytes(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    Parameters
    ----------
    public_key : bytes
        Raw 32-byte public key.
    message, signature : bytes
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def private_key_from_bytes(data: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8, unencrypted) or the base64 of its 32-byte seed.

    Raises
    ------
    ValueError
        When ``data`` is neither, or the PEM holds another kind of key.
    """
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"the anchor key is not a readable PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"the anchor key is a {type(key).__name__}, not an Ed25519 key")
        return key
    try:
        seed = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("the anchor key is neither PEM nor the base64 of a 32-byte "
                         "Ed25519 seed") from None
    if len(seed) != 32:
        raise ValueError(f"an Ed25519 seed has 32 bytes, this one {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    """PEM (PKCS#8, unencrypted) of a private key, as written to the anchor key file."""
    return private_key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def public_key_raw(private_key: Ed25519PrivateKey) -> bytes:
    """Raw 32-byte public key of a private key."""
    return private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key (the key's fingerprint)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def signed_message(consultation_id: str, event_count: int, head_hash: str,
                   signed_at: dt.datetime | str) -> bytes:
    """The bytes an anchor signs: canonical JSON (RFC 8785) of the head, typed.

    Raises
    ------
    ValueError
        On a negative or non-integer count, a hash that is not 64 lowercase hex characters,
        or a time without timezone (the message names the field).
    """
    if isinstance(event_count, bool) or not isinstance(event_count, int) or event_count < 0:
        raise _field_error("event_count", f"event_count must be a whole number >= 0, "
                                          f"got {event_count!r}")
    if not isinstance(head_hash, str) or not _HASH_RE.match(head_hash):
        raise _field_error("head_hash", "head_hash must be 64 lowercase hex characters")
    try:
        at = rec.format_occurred_at(signed_at)
    except ValueError as exc:
        raise _field_error("signed_at", f"signed_at: {exc}") from None
    return rec.canonical_json({"type": HEAD_TYPE, "consultation_id": str(consultation_id),
                               "event_count": event_count, "head_hash": head_hash,
                               "signed_at": at})


def sign_head(private_key: Ed25519PrivateKey, consultation_id: str, event_count: int,
              head_hash: str, signed_at: dt.datetime | str) -> SignedHead:
    """Sign a consultation's head.

    Examples
    --------
    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    >>> head = sign_head(key, "7", 3, "a" * 64, "2026-03-02T16:00:00Z")
    >>> head.signed_at, signature_status(head, [public_key_raw(key)])
    ('2026-03-02T16:00:00.000000Z', ('good', ''))
    """
    message = signed_message(consultation_id, event_count, head_hash, signed_at)
    return SignedHead(str(consultation_id), event_count, head_hash,
                      rec.format_occurred_at(signed_at), _b64(public_key_raw(private_key)),
                      _b64(sign_bytes(private_key, message)))


def signature_status(head: SignedHead, trusted_keys: Sequence[bytes]) -> tuple[str, str]:
    """Whether ``head`` is validly signed by a trusted key, and if not why.

    Parameters
    ----------
    head : SignedHead
    trusted_keys : sequence of bytes
        Raw 32-byte public keys the verifier trusts (never read from the database that
        holds the chain).

    Returns
    -------
    (str, str)
        :data:`HeadStatus.GOOD` and ``""``, or :data:`HeadStatus.UNTRUSTED_KEY` /
        :data:`HeadStatus.BAD_SIGNATURE` and a sentence saying why.
    """
    try:
        public_key = _b64decode(head.public_key, "public_key")
        signature = _b64decode(head.signature, "signature")
        message = signed_message(head.consultation_id, head.event_count, head.head_hash,
                                 head.signed_at)
    except ValueError as exc:
        return HeadStatus.BAD_SIGNATURE, str(exc)
    if public_key not in {bytes(k) for k in trusted_keys}:
        return (HeadStatus.UNTRUSTED_KEY,
                f"signed by key {key_id(public_key)}, which is not among the trusted anchor keys")
    if not verify_bytes(public_key, message, signature):
        return HeadStatus.BAD_SIGNATURE, "the Ed25519 signature does not match the head"
    return HeadStatus.GOOD, ""


def parse_signed_head(obj: Any, where: str = "anchor") -> SignedHead:
    """A :class:`SignedHead` from its JSON form (as :meth:`SignedHead.as_dict` writes it).

    Raises
    ------
    ValueError
        With ``field`` set to ``<where>.<member>`` on a missing or malformed member.
    """
    if not isinstance(obj, Mapping):
        raise _field_error(where, f"{where} must be a JSON object")
    values = {}
    for name in ("consultation_id", "event_count", "head_hash", "signed_at", "public_key",
                 "signature"):
        if name not in obj:
            raise _field_error(f"{where}.{name}", f"{where}.{name} is missing")
        values[name] = obj[name]
    count = values["event_count"]
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _field_error(f"{where}.event_count",
                           f"{where}.event_count must be a whole number >= 1")
    for name in ("consultation_id", "head_hash", "signed_at", "public_key", "signature"):
        if not isinstance(values[name], (str, int)) or isinstance(values[name], bool):
            raise _field_error(f"{where}.{name}", f"{where}.{name} must be a string")
    if not _HASH_RE.match(str(values["head_hash"])):
        raise _field_error(f"{where}.head_hash",
                           f"{where}.head_hash must be 64 lowercase hex characters")
    try:
        signed_at = rec.format_occurred_at(str(values["signed_at"]))
    except ValueError as exc:
        raise _field_error(f"{where}.signed_at", f"{where}.signed_at: {exc}") from None
    for name, size in (("public_key", PUBLIC_KEY_BYTES), ("signature", SIGNATURE_BYTES)):
        raw = _b64decode(str(values[name]), f"{where}.{name}")
        if len(raw) != size:
            raise _field_error(f"{where}.{name}",
                               f"{where}.{name} must decode to {size} bytes, not {len(raw)}")
    return SignedHead(str(values["consultation_id"]), count, str(values["head_hash"]),
                      signed_at, str(values["public_key"]), str(values["signature"]))


def chain_hashes(events: Sequence[Mapping | rec.ChainEvent]) -> list[str]:
    """Hash after each prefix of the chain, recomputed from content: ``[h_0, h_1, …]``.

    ``out[n - 1]`` is the head of the first ``n`` events. Stored ``prev_hash`` and ``hash``
    are ignored, so a content edit shows whether or not the hashes were recomputed.
    Recomputation stops (the list is shorter) at the first event whose content cannot be
    hashed.
    """
    out, prev = [], rec.GENESIS_HASH
    for event in events:
        try:
            prev = rec.event_hash(prev, event)
        except ValueError:
            break
        out.append(prev)
    return out


def check_heads(events: Sequence[Mapping | rec.ChainEvent], heads: Sequence[SignedHead],
                trusted_keys: Sequence[bytes], consultation_id: str) -> HeadCheck:
    """Check signed heads against a consultation's chain; name the first event after the
    last good head.

    Parameters
    ----------
    events : sequence of events
        The consultation's events in ``seq`` order.
    heads : sequence of SignedHead
        Published heads (stored, printed, or handed in by an auditor), in any order.
    trusted_keys : sequence of bytes
        Raw 32-byte public keys the verifier trusts.
    consultation_id : str
        The consultation the chain belongs to.

    Returns
    -------
    HeadCheck
    """
    heads_by_count = [rec.GENESIS_HASH] + chain_hashes(events)  # [n] = head after n events
    statuses: list[tuple[SignedHead, str]] = []
    last_good: SignedHead | None = None
    first_bad: tuple[SignedHead, str, str] | None = None
    for head in sorted(heads, key=lambda h: (h.event_count, h.signed_at)):
        status, problem = _head_status(head, heads_by_count, trusted_keys, str(consultation_id))
        statuses.append((head, status))
        if first_bad is None:
            if status == HeadStatus.GOOD:
                last_good = head
            else:
                first_bad = (head, status, problem)
    if first_bad is None:
        return HeadCheck(True, None, "", last_good, tuple(statuses))
    head, status, problem = first_bad
    seq = last_good.event_count if last_good is not None else 0
    reason = (f"signed head of {head.event_count} events signed at {head.signed_at} "
              f"(key {_safe_key_id(head)}) fails ({status}): {problem}")
    return HeadCheck(False, seq, reason, last_good, tuple(statuses))


def _head_status(head: SignedHead, heads_by_count: list[str], trusted_keys: Sequence[bytes],
                 consultation_id: str) -> tuple[str, str]:
    status, problem = signature_status(head, trusted_keys)
    if status != HeadStatus.GOOD:
        return status, problem
    if head.consultation_id != consultation_id:
        return (HeadStatus.OTHER_CONSULTATION,
                f"the head is of consultation {head.consultation_id}, not {consultation_id}")
    if head.event_count >= len(heads_by_count):
        return (HeadStatus.BEYOND_END,
                (f"the signed head covers {head.event_count} events, the record has "
                 f"{len(heads_by_count) - 1} that hash (events were removed or broken)"))
    if heads_by_count[head.event_count] != head.head_hash:
        return (HeadStatus.HASH_MISMATCH,
                (f"the record's hash after {head.event_count} events differs from the signed "
                 "head (an event up to there was rewritten)"))
    return HeadStatus.GOOD, ""


def _safe_key_id(head: SignedHead) -> str:
    try:
        return head.key_id
    except ValueError:
        return "unreadable"
