"""Public notices: rendered in Spanish and English, translated, printed as posters.

The texts come from the protocol's templates (:mod:`consultation.notices`, pure); this
module stores them, records them on the chain (titles and the SHA-256 of the bodies), and
ticks the phase's ``publish_notice`` step and ``notice_published`` artefact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import notices as nt
from consultation import protocol as pr
from consultation import record as rec
from consultation import safeguards as sg
from consultation.anchoring import parse_signed_head
from consultation.poster import render_poster
from fondo.consultation.anchors import publish_head
from fondo.consultation.chain import (
    event_rows,
    iso,
    load_consultation,
    lock_chain,
    protocol_of,
    record_event,
    record_missing_evidence,
    sha256_text,
    state_of,
)
from fondo.consultation.clock import now as clock_now
from fondo.consultation.models import Consultation, ConsultationNotice
from fondo.consultation.safeguards import accepted_agent, agreed_languages, refuse_if_suspended
from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.fund.service import Project

#: Fields a rendering error may name, in the order its message is searched for them.
_NOTICE_FIELDS = ("ends_at", "starts_at", "portal_url", "place", "community", "meeting_language",
                  "interpreter_language")
_TRANSLATION_FIELDS = ("language_name", "language_code", "translated_by", "title")


def portal_url(settings: Mapping[str, Any], consultation_id: int) -> str:
    """Public portal page of a consultation (encoded in posters' QR codes)."""
    base = str(settings.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")).rstrip("/")
    return f"{base}/consulta/{consultation_id}"


def notice_domain(notice: ConsultationNotice, language: str) -> nt.Notice:
    """The domain's view of a stored notice in one of the protocol's languages."""
    translations = tuple(nt.Translation(t["language_name"], t.get("language_code"), t["title"],
                                        t["body"], t["translated_by"])
                         for t in notice.translations or [])
    fields = dict(notice.fields[language])
    return nt.Notice(protocol_version=notice.fields["protocol_version"], phase_id=notice.phase,
                     language=language,
                     title=notice.title_es if language == "es" else notice.title_en,
                     body=notice.body_es if language == "es" else notice.body_en,
                     fields=fields, translations=translations)


def notice_view(notice: ConsultationNotice) -> dict[str, Any]:
    """A published notice (public)."""
    return {"id": notice.id, "consultation_id": notice.consultation_id, "phase": notice.phase,
            "community": notice.community, "place": notice.place,
            "meeting_language": notice.meeting_language,
            "interpreter_language": notice.interpreter_language,
            "starts_at": iso(notice.starts_at), "ends_at": iso(notice.ends_at),
            "es": {"title": notice.title_es, "body": notice.body_es,
                   "date": notice.fields["es"]["date"], "time": notice.fields["es"]["time"]},
            "en": {"title": notice.title_en, "body": notice.body_en,
                   "date": notice.fields["en"]["date"], "time": notice.fields["en"]["time"]},
            "translations": notice.translations or [],
            "published_at": iso(notice.published_at), "is_demo": notice.is_demo}


def publish_notice(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Render and publish the current phase's notice in Spanish and English.

    Body: as loaded by :class:`~fondo.consultation.schemas.NoticeRequestSchema` (``community``,
    ``starts_at``, optional ``ends_at`` (timezone-aware datetimes), ``place``,
    ``meeting_language``, optional ``interpreter_language``). The meeting must be at least
    the protocol's lead time after now.
    """
    consultation = lock_chain(session, consultation_id)
    protocol = protocol_of(consultation)
    phase = protocol.phase(consultation.phase)
    if phase.notice_templates is None:
        with_notice = [p.phase_id for p in protocol.phases if p.notice_templates is not None]
        raise Conflict(f"phase {phase.phase_id!r} has no public notice; phases with notices: "
                       f"{', '.join(with_notice)}", field="phase")
    starts_at, ends_at = body["starts_at"], body.get("ends_at")
    interpreter = body.get("interpreter_language")
    versions = community_versions(session, consultation, phase, body)
    now = clock_now()
    try:
        nt.check_lead_time(now, starts_at, protocol)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="starts_at") from None
    project = session.get(Project, consultation.project_id)
    fields = nt.NoticeFields(project_name=project.name, community=body["community"],
                             starts_at=starts_at, ends_at=ends_at, place=body["place"],
                             meeting_language=body["meeting_language"],
                             portal_url=portal_url(settings, consultation.id),
                             interpreter_language=interpreter)
    rendered = {}
    for language in pr.LANGUAGES:
        try:
            rendered[language] = nt.render_notice(protocol, phase.phase_id, language, fields)
        except ValueError as exc:
            message = str(exc)
            field = next((f for f in _NOTICE_FIELDS if f in message), "body")
            raise InvalidInput(message, field=field) from None
    notice = ConsultationNotice(
        consultation_id=consultation.id, phase=phase.phase_id, community=body["community"],
        place=body["place"], meeting_language=body["meeting_language"],
        interpreter_language=interpreter, starts_at=starts_at, ends_at=ends_at,
        title_es=rendered["es"].title, body_es=rendered["es"].body,
        title_en=rendered["en"].title, body_en=rendered["en"].body,
        fields={"protocol_version": protocol.version, "es": rendered["es"].fields,
                "en": rendered["en"].fields},
        translations=[v["translation"] for v in versions], published_at=now, published_by=actor,
        is_demo=consultation.is_demo)
    session.add(notice)
    session.flush()
    record_event(session, consultation, rec.EventKind.NOTICE_PUBLISHED.value, {
        "notice_id": notice.id, "phase": phase.phase_id, "title_es": notice.title_es,
        "title_en": notice.title_en, "starts_at": starts_at.isoformat(),
        "ends_at": iso(ends_at), "place": notice.place,
        "meeting_language": notice.meeting_language, "interpreter_language": interpreter,
        "body_es_sha256": sha256_text(notice.body_es),
        "body_en_sha256": sha256_text(notice.body_en), "by": actor}, now)
    for v in versions:
        t = v["translation"]
        record_event(session, consultation, rec.EventKind.TRANSLATION_ADDED.value, {
            "notice_id": notice.id, "language_name": t["language_name"], "language_code": None,
            "translated_by": t["translated_by"], "title": t["title"],
            "body_sha256": sha256_text(t["body"]), "inali_language": t["inali_language"],
            "inali_variant": t["inali_variant"], "translator_id": t["translator_id"],
            "by": actor}, now)
    if versions:
        record_missing_evidence(session, consultation, phase, "artefact_added",
                                "notice_in_community_language", f"notice {notice.id}", actor, now)
    record_missing_evidence(session, consultation, phase, "step_completed", "publish_notice",
                            f"notice {notice.id}", actor, now)
    record_missing_evidence(session, consultation, phase, "artefact_added", "notice_published",
                            f"notice {notice.id}", actor, now)
    publish_head(session, settings, consultation.id, "notice")  # the notice shows it
    return notice_view(notice)


def community_versions(session: Session, consultation: Consultation, phase: pr.Phase,
                       body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Version 2: the notice's versions in the agreed community languages, checked.

    Where the phase's notice needs them (``notice_requires_community_language``), every agreed
    language other than Spanish needs its version, made or validated by a translator the
    community accepted for that language and variant (ILO C169 arts. 12 and 30(2)).
    """
    given = list(body.get("community_language_versions") or [])
    if consultation.protocol_version == pr.V1_PROTOCOL_VERSION:
        if given:
            raise InvalidInput("community_language_versions belong to protocol version 2; use "
                               "…/translations", field="community_language_versions")
        return []
    rows = event_rows(session, consultation.id)
    refuse_if_suspended(state_of(consultation, rows))
    agreed = agreed_languages(rows)
    if agreed is None and (given or phase.notice_requires_community_language):
        raise Conflict("record the community's languages (acuerdos previos, record kind "
                       "'languages') before publishing this notice",
                       field="community_language_versions")
    agreed = agreed or []
    keys = {sg.language_key(a["language"], a["variant"]) for a in agreed if not a["spanish"]}
    out = []
    for i, v in enumerate(given):
        field = f"community_language_versions.{i}"
        if sg.language_key(v["language"], v["variant"]) not in keys:
            raise InvalidInput(f"{v['language']} ({v['variant']}) is not an agreed community "
                               "language", field=field + ".language")
        agent = accepted_agent(session, consultation.id, v["translator_id"], "translator",
                               v["language"], v["variant"], field + ".translator_id")
        out.append({"translation": {
            "language_name": f"{v['language']} ({v['variant']})", "language_code": None,
            "title": v["title"], "body": v["body"],
            "translated_by": f"translator {agent.id}, accepted on {agent.accepted_on.isoformat()}"
                             f" ({agent.acceptance_reference})",
            "inali_language": v["language"], "inali_variant": v["variant"],
            "translator_id": agent.id}})
    if phase.notice_requires_community_language:
        missing = sg.missing_language_versions(
            agreed, [{"language": v["language"], "variant": v["variant"]} for v in given])
        if missing:
            raise InvalidInput("the notice cannot be published without its version in "
                               + ", ".join(missing) + ", made or validated by a translator the "
                               "community accepted", field="community_language_versions")
    return out


def load_notice(session: Session, consultation: Consultation, notice_id: Any) -> ConsultationNotice:
    """A notice of the consultation, or :class:`~fondo.errors.NotFound`."""
    try:
        nid = int(notice_id)
    except (TypeError, ValueError):
        raise NotFound(f"notice {notice_id!r} does not exist") from None
    notice = session.get(ConsultationNotice, nid)
    if notice is None or notice.consultation_id != consultation.id:
        raise NotFound(f"notice {nid} does not exist in consultation {consultation.id}")
    return notice


def list_notices(session: Session, consultation_id: Any) -> dict[str, Any]:
    """Published notices of a consultation, newest first (public)."""
    consultation = load_consultation(session, consultation_id)
    rows = session.scalars(select(ConsultationNotice).where(
        ConsultationNotice.consultation_id == consultation.id)
        .order_by(ConsultationNotice.id.desc())).all()
    return {"notices": [notice_view(n) for n in rows]}


def get_notice(session: Session, consultation_id: Any, notice_id: Any) -> dict[str, Any]:
    """One published notice (public)."""
    consultation = load_consultation(session, consultation_id)
    return notice_view(load_notice(session, consultation, notice_id))


def add_notice_translation(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                           notice_id: Any, body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Attach an officer-supplied translation (body as loaded by
    :class:`~fondo.consultation.schemas.TranslationRequestSchema`: ``language_name``, optional
    ``language_code`` (ISO 639-3), ``title``, ``body``, ``translated_by``)."""
    consultation = lock_chain(session, consultation_id)
    notice = load_notice(session, consultation, notice_id)
    try:
        updated = nt.add_translation(notice_domain(notice, "es"),
                                     body.get("language_name"), body.get("title"),
                                     body.get("body"), body.get("translated_by"),
                                     language_code=body.get("language_code"))
    except (ValueError, TypeError) as exc:
        message = str(exc)
        field = next((f for f in _TRANSLATION_FIELDS
                      if f"'{f}'" in message or message.startswith(f)), "body")
        raise InvalidInput(message, field=field) from None
    t = updated.translations[-1]
    notice.translations = list(notice.translations or []) + [dataclasses.asdict(t)]
    record_event(session, consultation, rec.EventKind.TRANSLATION_ADDED.value, {
        "notice_id": notice.id, "language_name": t.language_name,
        "language_code": t.language_code, "translated_by": t.translated_by,
        "title": t.title, "body_sha256": sha256_text(t.body), "by": actor})
    phase = protocol_of(consultation).phase(consultation.phase)
    if notice.phase == phase.phase_id:
        record_missing_evidence(session, consultation, phase, "artefact_added",
                                "information_in_community_language",
                                f"notice {notice.id} in {t.language_name}", actor)
    return notice_view(notice)


def poster_pdf(session: Session, settings: Mapping[str, Any], consultation_id: Any,
               notice_id: Any, language: str = "es") -> bytes:
    """The printable PDF poster of a notice, with a QR code to the portal page and the
    record's signed head (signed now if the head moved: the caller commits to keep it)."""
    if language not in pr.LANGUAGES:
        raise InvalidInput(f"lang must be one of {', '.join(pr.LANGUAGES)}", field="lang")
    consultation = load_consultation(session, consultation_id)
    notice = load_notice(session, consultation, notice_id)
    domain = notice_domain(notice, language)
    signed = publish_head(session, settings, consultation.id, "poster")["signed_head"]
    head = parse_signed_head(signed) if signed is not None else None
    try:
        return render_poster(domain, portal_url(settings, consultation.id), head)
    except ValueError:
        # A translation's name outside the standard fonts: print the poster without it (the
        # portal shows every translation).
        return render_poster(dataclasses.replace(domain, translations=()),
                             portal_url(settings, consultation.id), head)
