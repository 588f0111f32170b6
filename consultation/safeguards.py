"""The records protocol version 2 adds, checked before they enter the chain (pure).

Each ``check_*`` function takes the officer's fields (plain values, already typed by the
shell's schema) and returns the payload the chain stores, or raises ``ValueError`` whose
message starts with the offending field (``"budget_mxn: must be > 0"``), so the shell can
name it in its 422 answer.

=========================  ==============================================  =====================
record                     what it holds                                   source
=========================  ==============================================  =====================
identification             outcome, methods (INPI catalogue, census        SCJN 2a./J. 11/2023;
                           speakers per locality, field visit), evidence,  ILO C169 art. 6(1)(a)
                           who decided, reason, localities
fpic_determination         the PS7 circumstances found; FPIC required      IFC PS7 paras. 13-17
                           when any applies, else informed consultation
                           and participation suffices
study_coproduction         how the community made the study: its           ILO C169 art. 7(3)
                           participants, sessions, institutions
advice_resources           budget for independent advice, who chooses      ILO C169 art. 6(1)(c)
                           the adviser
languages                  the agreed languages, each with its INALI       ILO C169 arts. 12,
                           linguistic group and variant                    30(2); INALI 2008
language_agent             a translator or interpreter the community       ILO C169 art. 12
                           accepted, with the reference of the acceptance
participation              disaggregation by age group (if agreed),        IFC PS7; CDI 2013
                           separate sessions
results_scope              how binding the results are, on whom            CDI 2013
negotiation                the six good-faith negotiation elements         IFC GN7 (2012)
attendance                 a meeting's attendance by sex and age group,    IFC PS7; CDI 2013
                           separate session, interpreter
no_coercion_check          at the decision assembly itself                 UNDRIP art. 32(2)
=========================  ==============================================  =====================

The INALI catalogue itself is not bundled (see ``sources`` of ``protocol_v2.yaml``): a
language and variant are checked for presence and length, and recorded as given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Sequence

__all__ = [
    "SPANISH",
    "IDENTIFICATION_METHODS",
    "DOCUMENTARY_METHODS",
    "IDENTIFICATION_OUTCOMES",
    "FPIC_CIRCUMSTANCES",
    "NEGOTIATION_ELEMENTS",
    "SESSION_GROUPS",
    "AGE_GROUPS",
    "AGENT_ROLES",
    "BINDING_PARTIES",
    "FACT_KINDS",
    "is_spanish",
    "language_key",
    "check_identification",
    "check_fact",
    "check_language_agent",
    "check_attendance",
    "check_no_coercion",
    "languages_missing_agents",
    "missing_language_versions",
]

SPANISH = ("español", "espanol", "spanish", "castellano", "es", "spa")
"""Names under which the agreed language is Spanish (no translation needed)."""

IDENTIFICATION_METHODS = ("inpi_catalogue", "census_speakers", "field_visit")
"""How a community is identified at locality level: INPI's catalogue of indigenous
communities, the census count of speakers of indigenous languages per locality, a field
visit."""

DOCUMENTARY_METHODS = ("inpi_catalogue", "census_speakers")

IDENTIFICATION_OUTCOMES = ("community_may_be_affected", "no_community_affected")

FPIC_CIRCUMSTANCES = ("lands_and_natural_resources", "relocation", "critical_cultural_heritage")
"""IFC PS7 circumstances requiring FPIC: impacts on lands and natural resources subject to
traditional ownership or under customary use (paras. 13-14), relocation (para. 15), critical
cultural heritage (paras. 16-17)."""

NEGOTIATION_ELEMENTS = (
    "willingness_to_engage",
    "information_for_negotiation",
    "key_issues_explored",
    "mutually_acceptable_procedures",
    "willingness_to_change_position",
    "sufficient_time_for_decision",
)
"""Elements of good-faith negotiation (IFC Guidance Note 7, 2012), each with its evidence."""

SESSION_GROUPS = ("women", "youth", "elders")
"""Groups that may meet in separate sessions."""

AGE_GROUPS = ("under_18", "18_to_29", "30_to_59", "60_and_over")
"""Age groups of attendance, recorded only where the community agreed to it."""

AGENT_ROLES = ("translator", "interpreter")

BINDING_PARTIES = ("developer", "fund", "authority", "community")

FACT_KINDS = ("fpic_determination", "study_coproduction", "advice_resources", "languages",
              "participation", "results_scope", "negotiation")
"""Records of :func:`check_fact`."""

#: Longest free text of a record. [characters]
MAX_TEXT_CHARS = 5000
#: Longest name of a language or variant. [characters]
MAX_LANGUAGE_CHARS = 200
#: Largest budget accepted. [MXN]
MAX_BUDGET_MXN = 1e10
#: Largest head count of a meeting or study. [persons]
MAX_PERSONS = 1_000_000


def _text(data: Mapping, field: str, required: bool = True, max_chars: int = MAX_TEXT_CHARS):
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"{field}: required")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field}: must be text")
    value = value.strip()
    if len(value) > max_chars:
        raise ValueError(f"{field}: at most {max_chars} characters")
    return value


def _choices(data: Mapping, field: str, allowed: Sequence[str], required: bool = True,
             at_least: int = 1) -> list[str]:
    value = data.get(field)
    if value is None:
        value = []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{field}: must be a list")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise ValueError(f"{field}: {bad} not among {', '.join(allowed)}")
    out = list(dict.fromkeys(value))
    if required and len(out) < at_least:
        raise ValueError(f"{field}: give at least {at_least} of {', '.join(allowed)}")
    return out


def _count(data: Mapping, field: str, minimum: int = 0, required: bool = True):
    value = data.get(field)
    if value is None:
        if required:
            raise ValueError(f"{field}: required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field}: must be a whole number")
    if not minimum <= value <= MAX_PERSONS:
        raise ValueError(f"{field}: must be between {minimum} and {MAX_PERSONS}")
    return value


def _flag(data: Mapping, field: str, default: bool | None = None) -> bool:
    value = data.get(field)
    value = default if value is None else value
    if not isinstance(value, bool):
        raise ValueError(f"{field}: must be true or false")
    return value


def is_spanish(language: str) -> bool:
    """True when ``language`` names Spanish."""
    return str(language).strip().casefold() in SPANISH


def language_key(language: str, variant: str | None) -> tuple[str, str]:
    """Case- and space-insensitive key of an (INALI language, variant) pair."""
    norm = lambda s: " ".join(str(s or "").split()).casefold()  # noqa: E731
    return norm(language), norm(variant)


def check_identification(data: Mapping[str, Any], requirement: str) -> dict[str, Any]:
    """An identification at locality level (trigger "identification required").

    Parameters
    ----------
    data : mapping
        ``outcome`` (:data:`IDENTIFICATION_OUTCOMES`), ``methods`` (of
        :data:`IDENTIFICATION_METHODS`), ``evidence`` (list of {method, reference,
        summary}), ``decided_by``, ``reason``, optional ``localities`` (9-digit INEGI keys
        of the communities that may be affected).
    requirement : str
        The trigger's answer recorded when the consultation was opened.

    Raises
    ------
    ValueError
        A missing or bad field; clearing ("no_community_affected") without a field visit
        and a documentary source, or when the trigger says consultation is required (the
        typology and the known localities never clear).
    """
    outcome = data.get("outcome")
    if outcome not in IDENTIFICATION_OUTCOMES:
        raise ValueError(f"outcome: must be one of {', '.join(IDENTIFICATION_OUTCOMES)}")
    methods = _choices(data, "methods", IDENTIFICATION_METHODS)
    evidence = data.get("evidence")
    if not isinstance(evidence, (list, tuple)) or not evidence:
        raise ValueError("evidence: give at least one item {method, reference, summary}")
    items = []
    for i, e in enumerate(evidence):
        if not isinstance(e, Mapping):
            raise ValueError(f"evidence.{i}: must be an object")
        if e.get("method") not in methods:
            raise ValueError(f"evidence.{i}.method: must be one of the methods given")
        items.append({"method": e["method"],
                      "reference": _text(e, "reference", max_chars=300),
                      "summary": _text(e, "summary", required=False)})
    missing = [m for m in methods if m not in {e["method"] for e in items}]
    if missing:
        raise ValueError(f"evidence: no evidence for method(s) {', '.join(missing)}")
    localities = [str(k) for k in data.get("localities") or []]
    bad = [k for k in localities if not (len(k) == 9 and k.isdigit())]
    if bad:
        raise ValueError(f"localities: {bad[:3]} are not 9-digit INEGI locality keys")
    if outcome == "no_community_affected":
        if requirement == "required":
            raise ValueError("outcome: the trigger requires consultation (INPI type A/B or a known "
                             "indigenous or Afro-Mexican locality): an identification cannot clear it")
        if "field_visit" not in methods or not set(methods) & set(DOCUMENTARY_METHODS):
            raise ValueError("methods: clearing needs a field visit and a documentary source "
                             "(INPI catalogue or census speakers per locality)")
        if localities:
            raise ValueError("localities: none may be listed when no community may be affected")
    return {"outcome": outcome, "methods": methods, "evidence": items,
            "decided_by": _text(data, "decided_by", max_chars=300),
            "reason": _text(data, "reason"), "localities": localities}


def _languages(data: Mapping) -> dict[str, Any]:
    raw = data.get("languages")
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ValueError("languages: give at least one {language, variant}")
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ValueError(f"languages.{i}: must be an object")
        try:
            language = _text(item, "language", max_chars=MAX_LANGUAGE_CHARS)
            spanish = is_spanish(language)
            variant = _text(item, "variant", required=False, max_chars=MAX_LANGUAGE_CHARS)
        except ValueError as exc:
            raise ValueError(f"languages.{i}.{exc}") from None
        if not spanish and variant is None:
            raise ValueError(f"languages.{i}.variant: required (INALI variant)")
        key = language_key(language, variant)
        if key in seen:
            raise ValueError(f"languages.{i}: listed twice")
        seen.add(key)
        out.append({"language": language, "variant": variant, "spanish": spanish})
    return {"languages": out}


def check_fact(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check one record of :data:`FACT_KINDS`; return the payload the chain stores."""
    if kind == "fpic_determination":
        if data.get("circumstances") is None:
            raise ValueError("circumstances: required (an empty list when none applies)")
        circumstances = _choices(data, "circumstances", FPIC_CIRCUMSTANCES, required=False)
        return {"circumstances": circumstances, "fpic_required": bool(circumstances),
                "reason": _text(data, "reason")}
    if kind == "study_coproduction":
        return {"community_participants": _count(data, "community_participants", 1),
                "sessions": _count(data, "sessions", 1),
                "community_institutions": _text(data, "community_institutions", max_chars=500),
                "document": _text(data, "document", required=False, max_chars=300),
                "summary": _text(data, "summary", required=False)}
    if kind == "advice_resources":
        budget = data.get("budget_mxn")
        if isinstance(budget, bool) or not isinstance(budget, (int, float)):
            raise ValueError("budget_mxn: required, a number")
        if not 0 < float(budget) <= MAX_BUDGET_MXN:
            raise ValueError(f"budget_mxn: must be > 0 and <= {MAX_BUDGET_MXN:g}")
        if not _flag(data, "adviser_chosen_by_community", None):
            raise ValueError("adviser_chosen_by_community: the community chooses its adviser")
        return {"budget_mxn": float(budget), "adviser_chosen_by_community": True,
                "description": _text(data, "description"),
                "document": _text(data, "document", required=False, max_chars=300)}
    if kind == "languages":
        return _languages(data)
    if kind == "participation":
        return {"disaggregate_by_age": _flag(data, "disaggregate_by_age", False),
                "separate_sessions": _choices(data, "separate_sessions", SESSION_GROUPS,
                                              required=False),
                "note": _text(data, "note", required=False)}
    if kind == "results_scope":
        return {"statement": _text(data, "statement"),
                "binding_on": _choices(data, "binding_on", BINDING_PARTIES)}
    if kind == "negotiation":
        elements = data.get("elements")
        if not isinstance(elements, Mapping):
            raise ValueError("elements: give the evidence of each of " + ", ".join(NEGOTIATION_ELEMENTS))
        unknown = sorted(set(elements) - set(NEGOTIATION_ELEMENTS))
        if unknown:
            raise ValueError(f"elements: unknown {unknown}")
        missing = [e for e in NEGOTIATION_ELEMENTS
                   if not isinstance(elements.get(e), str) or not elements[e].strip()]
        if missing:
            raise ValueError(f"elements.{missing[0]}: evidence required (missing: {', '.join(missing)})")
        return {"elements": {e: _text(elements, e) for e in NEGOTIATION_ELEMENTS}}
    raise ValueError(f"kind: must be one of {', '.join(FACT_KINDS)}")


def check_language_agent(data: Mapping[str, Any], agreed: Iterable[Mapping[str, Any]],
                         today: dt.date) -> dict[str, Any]:
    """A translator or interpreter the community accepted, for an agreed language."""
    role = data.get("role")
    if role not in AGENT_ROLES:
        raise ValueError(f"role: must be one of {', '.join(AGENT_ROLES)}")
    name = _text(data, "name", max_chars=200)
    language = _text(data, "language", max_chars=MAX_LANGUAGE_CHARS)
    variant = _text(data, "variant", max_chars=MAX_LANGUAGE_CHARS)
    keys = {language_key(a["language"], a["variant"]) for a in agreed if not a.get("spanish")}
    if language_key(language, variant) not in keys:
        raise ValueError("language: not among the agreed languages other than Spanish "
                         "(record the languages first)")
    accepted_on = data.get("accepted_on")
    if not isinstance(accepted_on, dt.date) or isinstance(accepted_on, dt.datetime):
        raise ValueError("accepted_on: required, a date")
    if accepted_on > today:
        raise ValueError("accepted_on: in the future")
    return {"role": role, "name": name, "language": language, "variant": variant,
            "accepted_on": accepted_on,
            "acceptance_reference": _text(data, "acceptance_reference", max_chars=300)}


def languages_missing_agents(agreed: Iterable[Mapping[str, Any]],
                             agents: Iterable[Mapping[str, Any]]) -> list[str]:
    """``"<role> for <language> (<variant>)"`` for each agreed language lacking one."""
    have = {(a["role"], language_key(a["language"], a["variant"])) for a in agents}
    out = []
    for lang in agreed:
        if lang.get("spanish"):
            continue
        key = language_key(lang["language"], lang["variant"])
        for role in AGENT_ROLES:
            if (role, key) not in have:
                out.append(f"{role} for {lang['language']} ({lang['variant']})")
    return out


def missing_language_versions(agreed: Iterable[Mapping[str, Any]],
                              versions: Iterable[Mapping[str, Any]]) -> list[str]:
    """Agreed languages other than Spanish that ``versions`` lack, as ``"language (variant)"``."""
    have = {language_key(v["language"], v["variant"]) for v in versions}
    return [f"{a['language']} ({a['variant']})" for a in agreed
            if not a.get("spanish") and language_key(a["language"], a["variant"]) not in have]


def check_attendance(data: Mapping[str, Any], disaggregate_by_age: bool) -> dict[str, Any]:
    """A meeting's attendance by sex (and age group where agreed), and its session."""
    women = _count(data, "attendance_women")
    men = _count(data, "attendance_men")
    other = _count(data, "attendance_other_or_unstated", required=False) or 0
    ages = data.get("attendance_by_age_group")
    if ages is not None:
        if not disaggregate_by_age:
            raise ValueError("attendance_by_age_group: the community did not agree to record ages")
        if not isinstance(ages, Mapping) or set(ages) - set(AGE_GROUPS):
            raise ValueError(f"attendance_by_age_group: keys among {', '.join(AGE_GROUPS)}")
        ages = {k: _count(ages, k) for k in AGE_GROUPS if k in ages}
        if sum(ages.values()) > women + men + other:
            raise ValueError("attendance_by_age_group: more people than the attendance by sex")
    session = data.get("separate_session_for")
    if session is not None and session not in SESSION_GROUPS:
        raise ValueError(f"separate_session_for: one of {', '.join(SESSION_GROUPS)}")
    if session == "women" and men:
        raise ValueError("attendance_men: a separate session of women has no men attending")
    return {"attendance_women": women, "attendance_men": men,
            "attendance_other_or_unstated": other, "attendance_by_age_group": ages,
            "separate_session_for": session}


def check_no_coercion(data: Mapping[str, Any]) -> dict[str, Any]:
    """The no-coercion check done at the decision assembly itself.

    ``asked_publicly`` (the assembly was asked, in its language, whether anyone was pressed,
    threatened or offered something for their answer), ``coercion_reported`` and
    ``guarantor_present`` are required; ``passed`` is true only when the question was asked,
    nothing was reported and the guarantor was there.
    """
    asked = _flag(data, "asked_publicly", None)
    reported = _flag(data, "coercion_reported", None)
    guarantor = _flag(data, "guarantor_present", None)
    return {"asked_publicly": asked, "coercion_reported": reported,
            "guarantor_present": guarantor, "note": _text(data, "note", required=False),
            "passed": asked and not reported and guarantor}
