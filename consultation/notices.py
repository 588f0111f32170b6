"""Consultation notices: per-phase templates in Spanish and English, plus translations.

A notice always states the date, the time, the place and the language of the meeting
(Decidim users complain that notices lack date, time and place). Templates live in the
protocol (``protocol.yaml``, key ``notice`` of each phase) so that their wording is
versioned with it; they are :class:`string.Template` strings, so field values are never
interpreted as format directives.

Output is plain text: control characters are removed from field values and single-line
fields cannot break lines. It is **not** HTML: the web layer escapes it, or uses
:attr:`Notice.body_html`, which is escaped here.

A translation into the community's language is text supplied by an officer;
:func:`add_translation` records it with the language's name so that the notice names it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import string
import unicodedata

from consultation.protocol import LANGUAGES, Protocol

__all__ = [
    "MONTHS_ES",
    "MONTHS_EN",
    "WEEKDAYS_ES",
    "WEEKDAYS_EN",
    "MAX_FIELD_CHARS",
    "MAX_TRANSLATION_CHARS",
    "NoticeFields",
    "Notice",
    "Translation",
    "format_date",
    "format_time",
    "render_notice",
    "add_translation",
    "check_lead_time",
]

MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
"""Spanish month names (no locale dependency)."""
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
"""English month names."""
WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
"""Spanish weekday names, Monday first."""
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""English weekday names, Monday first."""

MAX_FIELD_CHARS = 300
"""Longest single-line field value. [characters]"""
MAX_TRANSLATION_CHARS = 10000
"""Longest officer-supplied translation. [characters]"""

_ISO639_3 = re.compile(r"^[a-z]{3}$")


def _one_line(value, name: str, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"notice field {name!r} is required")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"notice field {name!r} must be text, got {type(value).__name__}")
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in unicodedata.normalize("NFC", value)
    )
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_FIELD_CHARS:
        raise ValueError(f"notice field {name!r} is {len(text)} characters, limit {MAX_FIELD_CHARS}")
    return text


def _multi_line(value: str, name: str, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is required text")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in "\n\t").strip()
    if len(text) > max_chars:
        raise ValueError(f"{name} is {len(text)} characters, limit {max_chars}")
    return text


@dataclasses.dataclass(frozen=True)
class NoticeFields:
    """What a meeting notice says.

    Attributes
    ----------
    starts_at, ends_at : datetime
        Timezone-aware; shown in ``timezone`` (America/Mexico_City by default).
    meeting_language : str
        Name of the language the meeting is held in, e.g. "Español" or "Tének".
    interpreter_language : str, optional
        Name of the language an interpreter will interpret into, if any.
    """

    project_name: str
    community: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str
    meeting_language: str
    portal_url: str
    interpreter_language: str | None = None
    timezone: str = "America/Mexico_City"


@dataclasses.dataclass(frozen=True)
class Translation:
    """Officer-supplied translation of a notice into the community's language."""

    language_name: str
    language_code: str | None
    title: str
    body: str
    translated_by: str


@dataclasses.dataclass(frozen=True)
class Notice:
    """A rendered notice: plain text plus the structured fields it was built from."""

    protocol_version: str
    phase_id: str
    language: str
    title: str
    body: str
    fields: dict
    translations: tuple[Translation, ...] = ()

    @property
    def body_html(self) -> str:
        """The body HTML-escaped, lines joined with ``<br>``."""
        return "<br>\n".join(html.escape(line) for line in self.body.split("\n"))

    def full_text(self) -> str:
        """Title, body and every translation, each translation headed by its language."""
        parts = [self.title, "", self.body]
        for t in self.translations:
            head = (f"Traducción al {t.language_name}" if self.language == "es"
                    else f"Translation into {t.language_name}")
            parts += ["", f"— {head} —", t.title, "", t.body]
        return "\n".join(parts)


def _zone(name: str):
    from zoneinfo import ZoneInfo
    try:
        return ZoneInfo(name)
    except Exception as exc:  # zoneinfo raises several types
        raise ValueError(f"unknown time zone {name!r}") from exc


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def format_date(value: dt.datetime, language: str) -> str:
    """'martes 17 de marzo de 2026' / 'Tuesday 17 March 2026' (in ``value``'s zone)."""
    if language == "es":
        return (f"{WEEKDAYS_ES[value.weekday()]} {value.day} de {MONTHS_ES[value.month - 1]} "
                f"de {value.year}")
    if language == "en":
        return f"{WEEKDAYS_EN[value.weekday()]} {value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")


def format_time(start: dt.datetime, end: dt.datetime | None, tz_label: str, language: str) -> str:
    """'10:00 a 14:00 h (hora del centro de México)' and its English counterpart."""
    text = f"{start:%H:%M}"
    if end is not None:
        text += (" a " if language == "es" else " to ") + f"{end:%H:%M}"
    return text + (f" h ({tz_label})")


def render_notice(
    protocol: Protocol, phase_id: str, language: str, fields: NoticeFields
) -> Notice:
    """Render the notice of ``phase_id`` in ``language`` ("es" or "en").

    Parameters
    ----------
    protocol : Protocol
    phase_id : str
        A phase with notice templates (acuerdos_previos, informativa, consultiva,
        seguimiento).
    language : {"es", "en"}
    fields : NoticeFields

    Returns
    -------
    Notice

    Raises
    ------
    ValueError
        Phase without notice, unknown language, missing field, naive datetime, end
        before start, or a portal URL that is not http(s).
    """
    phase = protocol.phase(phase_id)
    if phase.notice_templates is None:
        with_notice = [p.phase_id for p in protocol.phases if p.notice_templates is not None]
        raise ValueError(
            f"phase {phase_id!r} has no public notice; phases with notices: {', '.join(with_notice)}"
        )
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    tz = _zone(fields.timezone)
    start = _aware(fields.starts_at, "starts_at").astimezone(tz)
    end = None
    if fields.ends_at is not None:
        end = _aware(fields.ends_at, "ends_at").astimezone(tz)
        if end <= start:
            raise ValueError(f"ends_at ({end.isoformat()}) must be after starts_at ({start.isoformat()})")
    portal_url = _one_line(fields.portal_url, "portal_url")
    if not re.match(r"^https?://[^\s<>\"']+$", portal_url):
        raise ValueError(f"portal_url must be an http(s) URL, got {portal_url!r}")
    interpreter = _one_line(fields.interpreter_language, "interpreter_language", required=False)
    tz_label = ("hora del centro de México" if language == "es" else "central Mexico time") \
        if fields.timezone == "America/Mexico_City" else fields.timezone
    values = {
        "project_name": _one_line(fields.project_name, "project_name"),
        "community": _one_line(fields.community, "community"),
        "date": format_date(start, language),
        "time": format_time(start, end, tz_label, language),
        "place": _one_line(fields.place, "place"),
        "meeting_language": _one_line(fields.meeting_language, "meeting_language"),
        "portal_url": portal_url,
    }
    if interpreter:
        values["interpreter_line"] = (
            f"Habrá intérprete en {interpreter}." if language == "es"
            else f"An interpreter into {interpreter} will be present."
        )
    else:
        values["interpreter_line"] = (
            "Sin intérprete programado; puede solicitarlo en el portal." if language == "es"
            else "No interpreter scheduled; one may be requested on the portal."
        )
    title = string.Template(phase.notice_templates["title"][language]).substitute(values)
    body = string.Template(phase.notice_templates["body"][language]).substitute(values)
    structured = dict(values)
    structured.update(
        {
            "starts_at": start.isoformat(),
            "ends_at": end.isoformat() if end else None,
            "timezone": fields.timezone,
            "interpreter_language": interpreter or None,
            "phase_name": phase.name(language),
        }
    )
    return Notice(
        protocol_version=protocol.version,
        phase_id=phase.phase_id,
        language=language,
        title=title,
        body=body,
        fields=structured,
    )


def add_translation(
    notice: Notice,
    language_name: str,
    title: str,
    body: str,
    translated_by: str,
    language_code: str | None = None,
) -> Notice:
    """A copy of ``notice`` with an officer-supplied translation attached.

    Parameters
    ----------
    notice : Notice
    language_name : str
        Name of the language as the community names it, e.g. "Tének (huasteco)".
    title, body : str
        The translated text (plain text).
    translated_by : str
        Who translated it (person or institution).
    language_code : str, optional
        ISO 639-3 code, e.g. "hus" (Huastec).

    Returns
    -------
    Notice
    """
    name = _one_line(language_name, "language_name")
    if language_code is not None and not _ISO639_3.match(language_code):
        raise ValueError(f"language_code must be an ISO 639-3 code (3 letters), got {language_code!r}")
    if any(t.language_name == name for t in notice.translations):
        raise ValueError(f"notice already has a translation into {name!r}")
    translation = Translation(
        language_name=name,
        language_code=language_code,
        title=_one_line(title, "title"),
        body=_multi_line(body, "translation body", MAX_TRANSLATION_CHARS),
        translated_by=_one_line(translated_by, "translated_by"),
    )
    return dataclasses.replace(notice, translations=notice.translations + (translation,))


def check_lead_time(published_at: dt.datetime, starts_at: dt.datetime, protocol: Protocol) -> None:
    """Raise ``ValueError`` if a notice is published less than the protocol's minimum lead
    time (``sla.notice_min_lead_days``, calendar days) before the meeting."""
    published_at = _aware(published_at, "published_at")
    starts_at = _aware(starts_at, "starts_at")
    lead = starts_at - published_at
    need = dt.timedelta(days=protocol.sla.notice_min_lead_days)
    if lead < need:
        raise ValueError(
            f"notice published {lead.total_seconds() / 86400:.1f} days before the meeting; "
            f"protocol {protocol.version} requires at least {protocol.sla.notice_min_lead_days}"
        )
