"""Feedback and grievances: validation, attachments, receipt codes, status, views.

A submission needs no account: name and contact are optional, anonymous submissions
are allowed, a location (inside Mexico) and one attachment are optional. Each
submission gets a receipt code; anyone holding it sees the :func:`public_view`, which
never contains the submitter's name or contact details; officers see
:func:`officer_view`.

Notes
-----
Status model (IFC PS1 para. 35; IFC Good Practice Note on grievances, 2009)::

    received ──► acknowledged ──► answered ──► closed
        │              │             │
        └──────────────┴─────────────┴──► escalated ──► answered

``escalated`` means referred to the next level (guarantor or responsible authority)
because the item is serious, overdue, or the submitter is not satisfied with the answer.

References
----------
.. [1] D. Crockford, "Base 32", https://www.crockford.com/base32.html (alphabet and
   check symbol).
.. [2] ISO 32000-1:2008 (PDF header ``%PDF-``); ITU-T T.81 / JFIF (JPEG SOI ``FF D8 FF``);
   ISO/IEC 15948:2004 (PNG signature).
.. [3] ITU-T Recommendation E.164 (phone numbers at most 15 digits).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import re
import secrets
import unicodedata
from typing import Mapping

__all__ = [
    "FeedbackError",
    "FeedbackKind",
    "Category",
    "CATEGORY_LABELS",
    "FeedbackStatus",
    "STATUS_TRANSITIONS",
    "OPEN_STATUSES",
    "MEXICO_BBOX",
    "MAX_TEXT_CHARS",
    "MAX_NAME_CHARS",
    "MAX_ATTACHMENT_BYTES",
    "ALLOWED_MIME_TYPES",
    "CROCKFORD_ALPHABET",
    "CROCKFORD_CHECK_ALPHABET",
    "RECEIPT_DATA_CHARS",
    "PUBLIC_LOCATION_DECIMALS",
    "Contact",
    "Location",
    "Attachment",
    "Submission",
    "FeedbackItem",
    "validate_submission",
    "sniff_mime_type",
    "validate_attachment",
    "crockford_check_symbol",
    "new_receipt_code",
    "normalize_receipt_code",
    "format_receipt_code",
    "transition_status",
    "public_view",
    "officer_view",
]


class FeedbackError(ValueError):
    """Invalid feedback input; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class FeedbackKind(str, enum.Enum):
    """Opinion/suggestion/question vs. grievance (queja)."""

    FEEDBACK = "feedback"
    GRIEVANCE = "grievance"


class Category(str, enum.Enum):
    """Categories of feedback and grievances."""

    LAND_AND_TERRITORY = "land_and_territory"
    WATER_AND_ENVIRONMENT = "water_and_environment"
    HEALTH_AND_SAFETY = "health_and_safety"
    CULTURAL_HERITAGE = "cultural_heritage"
    EMPLOYMENT_AND_PROCUREMENT = "employment_and_procurement"
    BENEFITS_AND_COMPENSATION = "benefits_and_compensation"
    CONSULTATION_PROCESS = "consultation_process"
    CONSTRUCTION_NUISANCE = "construction_nuisance"
    INFORMATION_REQUEST = "information_request"
    OTHER = "other"


CATEGORY_LABELS: Mapping[Category, tuple[str, str]] = {
    Category.LAND_AND_TERRITORY: ("Tierra y territorio", "Land and territory"),
    Category.WATER_AND_ENVIRONMENT: ("Agua y medio ambiente", "Water and environment"),
    Category.HEALTH_AND_SAFETY: ("Salud y seguridad", "Health and safety"),
    Category.CULTURAL_HERITAGE: (
        "Patrimonio cultural y sitios sagrados", "Cultural heritage and sacred sites"),
    Category.EMPLOYMENT_AND_PROCUREMENT: (
        "Empleo y compras locales", "Local employment and procurement"),
    Category.BENEFITS_AND_COMPENSATION: (
        "Beneficios y compensaciones", "Benefits and compensation"),
    Category.CONSULTATION_PROCESS: (
        "Proceso de consulta (avisos, lengua, reuniones)",
        "Consultation process (notices, language, meetings)"),
    Category.CONSTRUCTION_NUISANCE: (
        "Molestias de obra (polvo, ruido, tránsito)",
        "Construction nuisance (dust, noise, traffic)"),
    Category.INFORMATION_REQUEST: ("Solicitud de información", "Information request"),
    Category.OTHER: ("Otro", "Other"),
}
"""(Spanish, English) label of each category."""


class FeedbackStatus(str, enum.Enum):
    """Lifecycle status of a submission."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    CLOSED = "closed"
    ESCALATED = "escalated"


STATUS_TRANSITIONS: Mapping[FeedbackStatus, frozenset[FeedbackStatus]] = {
    FeedbackStatus.RECEIVED: frozenset({FeedbackStatus.ACKNOWLEDGED, FeedbackStatus.ESCALATED}),
    FeedbackStatus.ACKNOWLEDGED: frozenset({FeedbackStatus.ANSWERED, FeedbackStatus.ESCALATED}),
    FeedbackStatus.ESCALATED: frozenset({FeedbackStatus.ANSWERED}),
    FeedbackStatus.ANSWERED: frozenset({FeedbackStatus.CLOSED, FeedbackStatus.ESCALATED}),
    FeedbackStatus.CLOSED: frozenset(),
}
"""Allowed status changes."""

OPEN_STATUSES = frozenset(
    {FeedbackStatus.RECEIVED, FeedbackStatus.ACKNOWLEDGED, FeedbackStatus.ESCALATED}
)
"""Statuses of an item still waiting for an answer."""

MEXICO_BBOX = (-118.5, 14.5, -86.7, 32.75)
"""(min lon, min lat, max lon, max lat) of Mexico incl. islands. [degrees, EPSG:4326]

Extreme points published by INEGI (north 32°43′ N, Baja California; south 14°32′ N,
Suchiate river, Chiapas; east 86°42′ W, Isla Mujeres; west 118°22′ W, Isla Guadalupe),
rounded outward; the test suite checks it contains every state in
``data/geo/mx_states_ne10m.geojson``.
"""

MAX_TEXT_CHARS = 5000
"""Longest submission text. [characters] (fund decision)"""

MAX_NAME_CHARS = 200
"""Longest submitter name. [characters] (fund decision)"""

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
"""Largest attachment: 5 MB (5 MiB). [bytes] (fund decision, issue 6)"""

MAX_FILENAME_CHARS = 120
"""Longest stored attachment file name. [characters]"""

PDF_MAGIC = b"%PDF-"
"""PDF header (ISO 32000-1:2008, section 7.5.2)."""

JPEG_MAGIC = b"\xff\xd8\xff"
"""JPEG start-of-image marker followed by a marker prefix (ITU-T T.81)."""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
"""PNG signature (ISO/IEC 15948:2004, section 5.2)."""

ALLOWED_MIME_TYPES = ("application/pdf", "image/jpeg", "image/png", "text/plain")
"""Attachment types accepted, identified by content (magic bytes), not by name."""

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base-32 symbols (no I, L, O, U)."""

CROCKFORD_CHECK_ALPHABET = CROCKFORD_ALPHABET + "*~$=U"
"""Crockford check symbols: value mod 37."""

RECEIPT_DATA_CHARS = 9
"""Random symbols in a receipt code (45 bits from ``secrets``); plus 1 check symbol."""

PUBLIC_LOCATION_DECIMALS = 2
"""Decimals of latitude/longitude kept in the public view (~1 km). [degrees]"""

_EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_PHONE_RE = re.compile(r"^\+?[0-9]{8,15}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_TEXT_CONTROL_OK = {"\n", "\t"}


def _clean_text(value, field: str, max_chars: int, multiline: bool, required: bool) -> str | None:
    if value is None:
        if required:
            raise FeedbackError(field, "is required")
        return None
    if not isinstance(value, str):
        raise FeedbackError(field, f"must be text, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    for ch in text:
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in _TEXT_CONTROL_OK):
            raise FeedbackError(field, f"contains a control character U+{ord(ch):04X}")
    if not text:
        if required:
            raise FeedbackError(field, "is required")
        return None
    if len(text) > max_chars:
        raise FeedbackError(field, f"is {len(text)} characters long, limit {max_chars}")
    return text


@dataclasses.dataclass(frozen=True)
class Contact:
    """Optional contact details; shown to officers only."""

    email: str | None = None
    phone: str | None = None


@dataclasses.dataclass(frozen=True)
class Location:
    """A point inside Mexico. [degrees, EPSG:4326]"""

    latitude: float
    longitude: float


@dataclasses.dataclass(frozen=True)
class Attachment:
    """A validated attachment; ``size_bytes`` [bytes], ``sha256`` of the content."""

    filename: str
    mime_type: str
    size_bytes: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class Submission:
    """A validated, normalised submission (before storage)."""

    kind: FeedbackKind
    category: Category
    text: str
    language: str
    anonymous: bool
    name: str | None
    contact: Contact | None
    location: Location | None
    attachment: Attachment | None
    client_token: str | None


@dataclasses.dataclass(frozen=True)
class FeedbackItem:
    """A stored submission with its lifecycle (built by the shell from its rows)."""

    receipt_code: str
    submission: Submission
    submitted_at: dt.datetime
    status: FeedbackStatus = FeedbackStatus.RECEIVED
    acknowledged_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    escalated_at: dt.datetime | None = None
    public_answer: str | None = None
    officer_notes: str | None = None


def _location(value) -> Location | None:
    if value is None:
        return None
    if isinstance(value, Location):
        lat, lon = value.latitude, value.longitude
    elif isinstance(value, Mapping):
        lat, lon = value.get("latitude"), value.get("longitude")
    else:
        try:
            lat, lon = value
        except (TypeError, ValueError):
            raise FeedbackError("location", "must be (latitude, longitude)") from None
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise FeedbackError("location", f"latitude/longitude must be numbers, got {lat!r}, {lon!r}"
                            ) from None
    min_lon, min_lat, max_lon, max_lat = MEXICO_BBOX
    if not (min_lat <= lat <= max_lat) or not (min_lon <= lon <= max_lon):
        raise FeedbackError(
            "location",
            f"({lat}, {lon}) is outside Mexico's bounding box "
            f"lat {min_lat}..{max_lat}, lon {min_lon}..{max_lon}",
        )
    return Location(lat, lon)


def _contact(email, phone) -> Contact | None:
    email = _clean_text(email, "email", 254, False, False)
    phone = _clean_text(phone, "phone", 32, False, False)
    if email is not None and not _EMAIL_RE.match(email):
        raise FeedbackError("email", f"{email!r} is not an e-mail address")
    if phone is not None:
        digits = re.sub(r"[\s().-]", "", phone)
        if not _PHONE_RE.match(digits):
            raise FeedbackError("phone", "must have 8 to 15 digits, optionally a leading +")
        phone = digits
    if email is None and phone is None:
        return None
    return Contact(email=email, phone=phone)


def validate_submission(
    *,
    kind: str | FeedbackKind,
    category: str | Category,
    text: str,
    language: str = "es",
    anonymous: bool = False,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    location=None,
    attachment: Attachment | None = None,
    client_token: str | None = None,
) -> Submission:
    """Validate and normalise a public submission.

    Parameters
    ----------
    kind : {"feedback", "grievance"}
    category : str
        A :class:`Category` value.
    text : str
        The submission, 1 to :data:`MAX_TEXT_CHARS` characters after trimming.
    language : str
        BCP-47-like code of the text ("es", "en", "nah", …).
    anonymous : bool
        If True, no name or contact may be given.
    name, email, phone : str, optional
    location : (latitude, longitude) or Location or mapping, optional
        Inside :data:`MEXICO_BBOX`. [degrees]
    attachment : Attachment, optional
        From :func:`validate_attachment`.
    client_token : str, optional
        Idempotency token chosen by the client (8-128 URL-safe characters).

    Returns
    -------
    Submission

    Raises
    ------
    FeedbackError
        With ``field`` set to the offending field.
    """
    try:
        kind = FeedbackKind(kind)
    except ValueError:
        raise FeedbackError(
            "kind", f"{kind!r} is not one of {[k.value for k in FeedbackKind]}") from None
    try:
        category = Category(category)
    except ValueError:
        raise FeedbackError(
            "category", f"{category!r} is not one of {[c.value for c in Category]}") from None
    text = _clean_text(text, "text", MAX_TEXT_CHARS, True, True)
    if not isinstance(language, str) or not _LANG_RE.match(language):
        raise FeedbackError("language", f"{language!r} is not a language code such as 'es'")
    if not isinstance(anonymous, bool):
        raise FeedbackError("anonymous", "must be true or false")
    name = _clean_text(name, "name", MAX_NAME_CHARS, False, False)
    contact = _contact(email, phone)
    if anonymous and (name is not None or contact is not None):
        raise FeedbackError("anonymous", "an anonymous submission cannot carry a name or contact")
    if attachment is not None and not isinstance(attachment, Attachment):
        raise FeedbackError("attachment", "must come from validate_attachment")
    if client_token is not None and (
        not isinstance(client_token, str) or not re.fullmatch(r"[A-Za-z0-9_-]{8,128}", client_token)
    ):
        raise FeedbackError("client_token", "must be 8-128 characters of A-Z a-z 0-9 _ -")
    return Submission(
        kind=kind,
        category=category,
        text=text,
        language=language,
        anonymous=anonymous,
        name=name,
        contact=contact,
        location=_location(location),
        attachment=attachment,
        client_token=client_token,
    )


def _is_plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(
        unicodedata.category(ch) != "Cc" or ch in "\n\r\t\f" for ch in text.lstrip("\ufeff")
    )


def sniff_mime_type(data: bytes) -> str | None:
    """MIME type of ``data`` by its magic bytes, or None if not an allowed type.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    str or None
        One of :data:`ALLOWED_MIME_TYPES`. Plain text means valid UTF-8 without
        control characters other than tab, newline, carriage return and form feed.
    """
    if data.startswith(PDF_MAGIC):
        return "application/pdf"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data and _is_plain_text(data):
        return "text/plain"
    return None


def _safe_filename(filename: str, mime_type: str) -> str:
    base = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "adjunto"
    ext = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png",
           "text/plain": ".txt"}[mime_type]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return stem[: MAX_FILENAME_CHARS - len(ext)] + ext


def validate_attachment(
    filename: str, data: bytes, declared_type: str | None = None
) -> Attachment:
    """Check an attachment's type (by content) and size.

    Parameters
    ----------
    filename : str
        Name given by the client; only a sanitised base name is kept, with the
        extension of the detected type.
    data : bytes
        The content, at most :data:`MAX_ATTACHMENT_BYTES`. [bytes]
    declared_type : str, optional
        Content type declared by the client; must agree with the detected one.

    Returns
    -------
    Attachment

    Raises
    ------
    FeedbackError
        ``field="attachment"`` for an empty, oversized, unrecognised or mislabelled file.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FeedbackError("attachment", "content must be bytes")
    data = bytes(data)
    if not data:
        raise FeedbackError("attachment", "file is empty")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise FeedbackError(
            "attachment", f"file is {len(data)} bytes, limit {MAX_ATTACHMENT_BYTES} bytes (5 MB)"
        )
    mime = sniff_mime_type(data)
    if mime is None:
        raise FeedbackError(
            "attachment", f"file type not allowed; allowed: {', '.join(ALLOWED_MIME_TYPES)}"
        )
    if declared_type is not None:
        declared = declared_type.split(";", 1)[0].strip().lower()
        if declared != mime:
            raise FeedbackError(
                "attachment", f"declared type {declared!r} does not match content ({mime})"
            )
    return Attachment(
        filename=_safe_filename(filename or "", mime),
        mime_type=mime,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def crockford_check_symbol(symbols: str) -> str:
    """Crockford check symbol of a base-32 string: its value mod 37.

    Parameters
    ----------
    symbols : str
        Upper-case Crockford base-32 symbols.

    Examples
    --------
    >>> crockford_check_symbol("16J")   # 1*1024 + 6*32 + 18 = 1234; 1234 mod 37 = 13
    'D'
    """
    value = 0
    for ch in symbols:
        idx = CROCKFORD_ALPHABET.find(ch)
        if idx < 0:
            raise ValueError(f"{ch!r} is not a Crockford base-32 symbol")
        value = value * 32 + idx
    return CROCKFORD_CHECK_ALPHABET[value % 37]


def new_receipt_code() -> str:
    """A fresh receipt code: 9 random Crockford symbols + 1 check symbol (10 characters).

    The randomness comes from :mod:`secrets`; collisions must still be checked by the
    shell against stored codes (45 bits: about 1 in 3.5e13 per pair).
    """
    data = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(RECEIPT_DATA_CHARS))
    return data + crockford_check_symbol(data)


def normalize_receipt_code(text: str) -> str:
    """Canonical form of a typed receipt code, or ``FeedbackError(field="receipt_code")``.

    Upper-cases, drops spaces and hyphens, reads I/L as 1 and O as 0 (Crockford decoding),
    then checks the length and the check symbol.
    """
    if not isinstance(text, str):
        raise FeedbackError("receipt_code", "must be text")
    code = re.sub(r"[\s-]", "", text).upper()
    data, check = code[:-1], code[-1:]
    data = data.translate(str.maketrans({"I": "1", "L": "1", "O": "0"}))
    if len(code) != RECEIPT_DATA_CHARS + 1:
        raise FeedbackError(
            "receipt_code", f"must have {RECEIPT_DATA_CHARS + 1} characters, got {len(code)}")
    if any(ch not in CROCKFORD_ALPHABET for ch in data):
        raise FeedbackError("receipt_code", "contains a character outside the code alphabet")
    if check not in CROCKFORD_CHECK_ALPHABET or crockford_check_symbol(data) != check:
        raise FeedbackError("receipt_code", "check character does not match (typing error?)")
    return data + check


def format_receipt_code(code: str) -> str:
    """Display form ``XXXXX-XXXXX`` of a normalised receipt code."""
    code = normalize_receipt_code(code)
    return code[:5] + "-" + code[5:]


def transition_status(current: str | FeedbackStatus, new: str | FeedbackStatus) -> FeedbackStatus:
    """Validate a status change and return the new status.

    Raises
    ------
    FeedbackError
        ``field="status"`` naming the allowed next statuses.
    """
    try:
        current, new = FeedbackStatus(current), FeedbackStatus(new)
    except ValueError as exc:
        raise FeedbackError("status", str(exc)) from None
    allowed = STATUS_TRANSITIONS[current]
    if new not in allowed:
        names = ", ".join(sorted(s.value for s in allowed)) or "none (final status)"
        raise FeedbackError(
            "status", f"cannot go from {current.value!r} to {new.value!r}; allowed: {names}"
        )
    return new


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {value.isoformat()}")
    return value.isoformat()


def public_view(item: FeedbackItem, include_text: bool = False) -> dict:
    """What anyone holding the receipt code may see (JSON-able).

    Never contains the name, e-mail, phone, attachment name or officer notes; the
    location is rounded to :data:`PUBLIC_LOCATION_DECIMALS` decimals. The text is
    included only with ``include_text=True``. Values are plain text: the web layer
    must escape them when rendering HTML.
    """
    sub = item.submission
    label_es, label_en = CATEGORY_LABELS[sub.category]
    view = {
        "receipt_code": item.receipt_code,
        "kind": sub.kind.value,
        "category": sub.category.value,
        "category_label_es": label_es,
        "category_label_en": label_en,
        "status": FeedbackStatus(item.status).value,
        "submitted_at": _iso(item.submitted_at),
        "acknowledged_at": _iso(item.acknowledged_at),
        "answered_at": _iso(item.answered_at),
        "closed_at": _iso(item.closed_at),
        "escalated_at": _iso(item.escalated_at),
        "public_answer": item.public_answer,
        "anonymous": sub.anonymous,
        "has_attachment": sub.attachment is not None,
        "location": None,
    }
    if sub.location is not None:
        view["location"] = {
            "latitude": round(sub.location.latitude, PUBLIC_LOCATION_DECIMALS),
            "longitude": round(sub.location.longitude, PUBLIC_LOCATION_DECIMALS),
        }
    if include_text:
        view["text"] = sub.text
    return view


def officer_view(item: FeedbackItem) -> dict:
    """Everything, for officers (JSON-able): public view plus text, name, contact, exact
    location, attachment metadata and officer notes."""
    sub = item.submission
    view = public_view(item, include_text=True)
    view.update(
        {
            "language": sub.language,
            "name": sub.name,
            "email": sub.contact.email if sub.contact else None,
            "phone": sub.contact.phone if sub.contact else None,
            "location": (
                {"latitude": sub.location.latitude, "longitude": sub.location.longitude}
                if sub.location else None
            ),
            "attachment": dataclasses.asdict(sub.attachment) if sub.attachment else None,
            "client_token": sub.client_token,
            "officer_notes": item.officer_notes,
        }
    )
    return view
