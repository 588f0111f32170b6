"""Page language: translated strings, enum values, numbers and dates in the reader's locale.

Every page renders its text through :func:`page_gettext` (installed as the templates'
``_`` and ``gettext`` by :func:`install`): the compiled Babel catalogue first, then the
feature tables still waiting for ``make i18n`` (``web/translations/strings_*.py``), so a
string added by a feature is Spanish and French from its first commit.

Enumerated values that a page shows (a project's stage, its technology, a feedback status,
a consultation phase) are translated through :func:`value_label`: an unknown value (a
state added by a later feature) is shown humanised, never as an error.

Numbers and dates follow the locale (Babel's CLDR data through flask-babel): ``1 234,5``
in French, ``1,234.5`` in Spanish (Mexico) and English. Community-facing times are shown
in the community's own time zone (:func:`community_timezone`), never in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask_babel import get_locale, gettext

from web.translations import strings_consultation, strings_investor, strings_pages

#: Locale of each interface language for numbers and dates (Spanish as written in Mexico).
NUMBER_LOCALES = {"es": "es_MX", "en": "en", "fr": "fr_CA"}
#: Time zone of the communities when the municipality's own is not known: central Mexico
#: (IANA tzdata ``America/Mexico_City``; the Bajío and most of the northeast keep it).
DEFAULT_COMMUNITY_TIMEZONE = "America/Mexico_City"
#: States whose official time differs from central Mexico's (IANA tzdata ``zone1970.tab``
#: comments; Ley del Sistema de Horario en los Estados Unidos Mexicanos, DOF 2022-10-28).
#: The northern border strip of Chihuahua, Coahuila, Nuevo León and Tamaulipas follows US
#: daylight time (``America/Matamoros``, ``America/Ojinaga``); the portal shows the state's
#: main zone, as its municipalities' list gives no finer place.
STATE_TIMEZONES = {
    "Baja California": "America/Tijuana",
    "Baja California Sur": "America/Mazatlan",
    "Chihuahua": "America/Chihuahua",
    "Nayarit": "America/Mazatlan",
    "Sinaloa": "America/Mazatlan",
    "Sonora": "America/Hermosillo",
    "Quintana Roo": "America/Cancun",
}


def _tables() -> tuple[dict[str, str], ...]:
    locale = str(get_locale() or "es") if has_request_context() else "es"
    if locale == "es":
        return strings_pages.ES, strings_consultation.ES, strings_investor.ES
    if locale == "fr":
        return strings_pages.FR, strings_consultation.FR, strings_investor.FR
    return ()


def page_gettext(msgid: str, **variables: Any) -> str:
    """``gettext`` with the feature tables as fallback (``%(name)s`` variables filled)."""
    untranslated = msgid % variables if variables else msgid
    text = gettext(msgid, **variables) if has_request_context() else untranslated
    if text == untranslated:
        for table in _tables():
            if msgid in table:
                return table[msgid] % variables if variables else table[msgid]
    return text


def value_label(kind: str, value: Any) -> str:
    """A stored enumerated value in the page's language (``kind`` is ``stage``,
    ``technology``, ``status``, ``phase``, ``role``…); unknown values humanised."""
    raw = getattr(value, "value", value)
    if raw is None:
        return ""
    msgid = strings_pages.VALUE_MSGIDS.get(kind, {}).get(str(raw))
    if msgid is None:
        return str(raw).replace("_", " ").capitalize()
    return page_gettext(msgid)


def language() -> str:
    """The page's interface language (``es``, ``en`` or ``fr``)."""
    return str(get_locale() or "es")


def number(value: Any, digits: int = 0) -> str:
    """A number in the page's locale with ``digits`` decimals (``—`` for None)."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    value = round(float(value), digits) + 0.0  # -0.0001 shows as 0, never as "-0"
    return babel_numbers.format_decimal(float(value), format=pattern,
                          locale=NUMBER_LOCALES.get(language(), language()))


def percent(fraction: Any, digits: int = 1) -> str:
    """A fraction shown as a percentage in the page's locale (``0.0735`` → ``7.4 %``)."""
    if fraction is None:
        return "—"
    return f"{number(100.0 * float(fraction), digits)} %"


def community_timezone(states: list[str] | tuple[str, ...] = ()) -> ZoneInfo:
    """The time zone of a consultation's communities: that of their (first) state when it
    differs from central Mexico's, else ``America/Mexico_City``."""
    for state in states:
        if state in STATE_TIMEZONES:
            return ZoneInfo(STATE_TIMEZONES[state])
    return ZoneInfo(DEFAULT_COMMUNITY_TIMEZONE)


def local_datetime(value: Any, tz: ZoneInfo | None = None, fmt: str = "medium") -> str:
    """An aware datetime (or ISO text) in ``tz`` (default: central Mexico), formatted for
    the page's locale, with its UTC offset so no reader mistakes it for UTC."""
    if value in (None, ""):
        return ""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:  # the database's datetimes are UTC
        when = when.replace(tzinfo=dt.timezone.utc)
    zone = tz or ZoneInfo(DEFAULT_COMMUNITY_TIMEZONE)
    local = when.astimezone(zone)
    text = babel_dates.format_datetime(local, fmt, tzinfo=zone,
                                       locale=NUMBER_LOCALES.get(language(), language()))
    return f"{text} {_offset(local)}"


def _offset(local: dt.datetime) -> str:
    offset = local.strftime("%z")  # +hhmm or -hhmm
    return f"(UTC{offset[:3]}:{offset[3:]})"


def install(app: Flask) -> None:
    """Make :func:`page_gettext` the templates' ``_`` and add the formatting helpers."""
    app.jinja_env.globals.update(
        _=page_gettext, gettext=page_gettext, value_label=value_label, number=number,
        percent=percent, local_datetime=local_datetime, page_language=language)


def allowed_locales() -> list[str]:
    """The interface languages the app offers (``LOCALES`` setting)."""
    return [x.strip() for x in str(current_app.config["LOCALES"]).split(",")]
