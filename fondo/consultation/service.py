"""Consultation services (issue 6): the shell around the pure :mod:`consultation` domain.

Every function here takes a SQLAlchemy session (and the settings where files, mail or URLs
are involved), never commits except where it says so (:func:`deliver_notice` commits per
recipient so that a crash never sends twice), and returns JSON-able dicts: the REST API and
the ``fondo consultation`` commands print exactly these.

Every state change is appended to the consultation's hash chain (``consultation_events``)
in the same transaction as the change, through :func:`record_event`, the only writer of that
table. Chain payloads never hold a submitter's name or contact, an e-mail address or a phone
number: deliveries carry a SHA-256 of the address, feedback its public view plus the SHA-256
of its text, so that the record proves content without keeping personal data forever.

The clock is :func:`clock` (UTC, timezone-aware), looked up on every call so that tests can
move time forward through the protocol's minimum durations.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import html
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consultation import agreements as ag
from consultation import feedback as fb
from consultation import notices as nt
from consultation import protocol as pr
from consultation import record as rec
from consultation import risk as rk
from consultation import sla
from consultation import trigger as tg
from fondo.errors import Conflict, InvalidInput, NotFound, invalid_from
from fondo.consultation.models import Consultation, ConsultationEvent
from fondo.fund.service import Project
from fondo.orm import utcnow
from fondo.consultation.models import (
    ConsultationAnchor,
    ConsultationCommitment,
    ConsultationDelivery,
    ConsultationFeedback,
    ConsultationNotice,
    ConsultationSubscriber,
)

#: Datasets (layer names in ``data/manifest.json``) the trigger rule reads.
TYPOLOGY_LAYER = "indigenous_typology"
LOCALITIES_LAYER = "localities_points"
#: Largest screening radius an officer may ask for. [km] (fund decision: beyond 50 km the
#: municipal typology says nothing about a site's neighbours)
MAX_SCREENING_DISTANCE_KM = 50.0
#: Community positions an officer may record in the consultiva phase.
COMMUNITY_POSITIONS = ("consent", "agreement", "refusal")
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
#: Phases in which commitments may be recorded (agreed in consultiva, amended in seguimiento).
COMMITMENT_PHASES = ("consultiva", "seguimiento")
#: Longest officer note or reason. [characters]
MAX_REASON_CHARS = 2000
#: Longest public answer to a submission. [characters]
MAX_ANSWER_CHARS = 5000


def clock() -> dt.datetime:
    """Now, UTC, timezone-aware (module attribute: tests replace it to move time)."""
    return utcnow()


def _now() -> dt.datetime:
    import fondo.consultation.service as me  # looked up at call time so tests can replace it

    return me.clock()


# --- small helpers ---------------------------------------------------------------------


def portal_url(settings: Mapping[str, Any], consultation_id: int) -> str:
    """Public portal page of a consultation (encoded in posters' QR codes)."""
    base = str(settings.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")).rstrip("/")
    return f"{base}/consulta/{consultation_id}"


def _text(body: Mapping[str, Any], field: str, *, required: bool = True,
          max_chars: int = MAX_REASON_CHARS) -> str | None:
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    value = value.strip()
    if len(value) > max_chars:
        raise InvalidInput(f"{field} is {len(value)} characters, limit {max_chars}", field=field)
    return value


def _body(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidInput("the request body must be a JSON object", field="body")
    return body


def _parse_instant(value: Any, field: str, required: bool = True) -> dt.datetime | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{field} is required (ISO-8601 with a UTC offset)", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be an ISO-8601 text", field=field)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not ISO-8601", field=field) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset, e.g. 2026-03-17T10:00:00-06:00",
                           field=field)
    return parsed


def _parse_date(value: Any, field: str) -> dt.date:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} is required as YYYY-MM-DD", field=field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not a date YYYY-MM-DD", field=field) from None


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(sla.MEXICO_CITY_TZ).date()


def _sha256_text(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


# --- the record ------------------------------------------------------------------------


def _event_rows(session: Session, consultation_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ConsultationEvent).where(ConsultationEvent.consultation_id == consultation_id)
        .order_by(ConsultationEvent.seq, ConsultationEvent.id)
    ).all()
    return [{"id": r.id, "consultation_id": r.consultation_id, "seq": r.seq, "kind": r.kind,
             "payload": r.payload, "occurred_at": r.occurred_at, "prev_hash": r.prev_hash,
             "hash": r.hash} for r in rows]


def record_event(session: Session, consultation: Consultation, kind: str, payload: Any,
                 now: dt.datetime | None = None) -> ConsultationEvent:
    """Append one event to the consultation's chain (the only writer of the table).

    The consultation row is locked (``SELECT … FOR UPDATE`` on PostgreSQL) so that two
    concurrent appends cannot take the same ``seq``; the anchor moves to the new head.
    """
    now = now or _now()
    session.execute(select(Consultation.id).where(Consultation.id == consultation.id)
                    .with_for_update())
    last = session.scalars(
        select(ConsultationEvent).where(ConsultationEvent.consultation_id == consultation.id)
        .order_by(ConsultationEvent.seq.desc()).limit(1)
    ).first()
    chain = []
    if last is not None:
        chain = [{"consultation_id": str(last.consultation_id), "seq": last.seq,
                  "kind": last.kind, "payload": last.payload, "occurred_at": last.occurred_at,
                  "prev_hash": last.prev_hash, "hash": last.hash}]
        last_at = dt.datetime.fromisoformat(last.occurred_at.replace("Z", "+00:00"))
        now = max(now, last_at)  # the record's time never goes backwards
    try:
        new = rec.append(chain, kind, payload, now, consultation_id=str(consultation.id))
    except ValueError as exc:
        raise invalid_from(exc, "payload") from None
    row = ConsultationEvent(consultation_id=consultation.id, seq=new.seq, kind=new.kind,
                            payload=new.payload, occurred_at=new.occurred_at,
                            prev_hash=new.prev_hash, hash=new.hash)
    session.add(row)
    anchor = session.get(ConsultationAnchor, consultation.id)
    if anchor is None:
        anchor = ConsultationAnchor(consultation_id=consultation.id)
        session.add(anchor)
    anchor.head_hash, anchor.event_count, anchor.updated_at = new.hash, new.seq + 1, utcnow()
    session.flush()
    return row


def verify_consultation(session: Session, consultation_id: int) -> dict[str, Any]:
    """Check a consultation's chain against itself and its anchor; name the first broken event."""
    _get(session, consultation_id)
    rows = _event_rows(session, consultation_id)
    anchor = session.get(ConsultationAnchor, consultation_id)
    result = rec.verify(rows, expected_head=anchor.head_hash if anchor else None,
                        expected_length=anchor.event_count if anchor else None)
    out = {"consultation_id": consultation_id, "ok": result.ok,
           "first_broken_seq": result.first_broken_seq, "reason": result.reason,
           "length": result.length, "head_hash": result.head_hash,
           "expected_head": anchor.head_hash if anchor else None,
           "expected_length": anchor.event_count if anchor else None,
           "first_broken_event": None}
    if not result.ok and result.first_broken_seq is not None:
        i = result.first_broken_seq
        if i < len(rows):
            r = rows[i]
            out["first_broken_event"] = {"row_id": r["id"], "position": i, "seq": r["seq"],
                                         "kind": r["kind"], "occurred_at": r["occurred_at"]}
        else:
            out["first_broken_event"] = {"row_id": None, "position": i, "seq": i,
                                         "kind": None, "occurred_at": None}
    return out


# --- consultations ---------------------------------------------------------------------


def _get(session: Session, consultation_id: Any) -> Consultation:
    try:
        cid = int(consultation_id)
    except (TypeError, ValueError):
        raise NotFound(f"consultation {consultation_id!r} does not exist") from None
    consultation = session.get(Consultation, cid)
    if consultation is None:
        raise NotFound(f"consultation {cid} does not exist")
    return consultation


def _protocol(consultation: Consultation) -> pr.Protocol:
    return pr.load_protocol(consultation.protocol_version)


def _state(consultation: Consultation, rows: list[dict]) -> pr.ConsultationState:
    history = []
    for r in rows:
        at = dt.datetime.fromisoformat(r["occurred_at"].replace("Z", "+00:00"))
        if r["kind"] == rec.EventKind.CONSULTATION_OPENED.value:
            history.append(pr.PhaseEntry(r["payload"]["phase"], at))
        elif r["kind"] == rec.EventKind.PHASE_CHANGED.value:
            history.append(pr.PhaseEntry(r["payload"]["to"], at, r["payload"].get("reason", "")))
    if not history:
        raise Conflict(f"consultation {consultation.id} has no opening event in its record")
    return pr.ConsultationState(consultation.protocol_version, history[-1].phase_id,
                                history[-1].entered_at, tuple(history))


def _phase_rows(rows: list[dict]) -> list[dict]:
    """Events since the current phase was entered."""
    start = 0
    for i, r in enumerate(rows):
        if r["kind"] in (rec.EventKind.CONSULTATION_OPENED.value, rec.EventKind.PHASE_CHANGED.value):
            start = i
    return rows[start:]


def _evidence(rows: list[dict], reason: str = "") -> pr.PhaseEvidence:
    got = {"step_completed": set(), "artefact_added": set(), "condition_met": set()}
    for r in _phase_rows(rows):
        if r["kind"] in got:
            got[r["kind"]].add(r["payload"]["id"])
    return pr.PhaseEvidence(steps=got["step_completed"], artefacts=got["artefact_added"],
                            conditions=got["condition_met"], reason=reason)


def _datasets(settings: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    from fondo.data.datasets import load_table

    data_dir = Path(settings["DATA_DIR"])
    typology = load_table(data_dir, TYPOLOGY_LAYER)
    localities = load_table(data_dir, LOCALITIES_LAYER)
    localities = localities.loc[localities["lat"].notna() & localities["lon"].notna()]
    return typology, localities


def _site_point(project: Project) -> tuple[float, float]:
    if project.site is None or project.site.geometry is None:
        raise InvalidInput(f"project {project.id} has no site to screen", field="project_id")
    point = project.site.geometry.centroid
    return float(point.y), float(point.x)


def run_trigger(settings: Mapping[str, Any], project: Project, max_distance_km: float,
                known: list[str]) -> tuple[tg.TriggerResult, float, float, pd.DataFrame]:
    """The siting rule on the bundled INPI typology and INEGI localities near the project."""
    lat, lon = _site_point(project)
    typology, localities = _datasets(settings)
    near = tg.localities_within_km(localities, lat, lon, max_distance_km)
    try:
        result = tg.consultation_required(typology, near, max_distance_km=max_distance_km,
                                          known_indigenous_localities=known)
    except ValueError as exc:
        raise invalid_from(exc, "project_id") from None
    return result, lat, lon, typology


def _community_rows(result: tg.TriggerResult, localities: pd.DataFrame,
                    typology: pd.DataFrame) -> list[dict]:
    names = typology.set_index("cvegeo")
    out = []
    for row in result.localities.itertuples(index=False):
        mun = names.loc[row.cvegeo_mun] if row.cvegeo_mun in names.index else None
        out.append({"cvegeo": row.cvegeo, "name": row.nom_loc, "cvegeo_mun": row.cvegeo_mun,
                    "municipality": None if mun is None else str(mun["nom_mun"]),
                    "state": None if mun is None else str(mun["nom_ent"]),
                    "tipo_code": str(row.tipo_code), "dist_km": round(float(row.dist_km), 3),
                    "reason": str(row.reason), "source": "trigger"})
    return out


def _municipalities(communities: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for c in communities:
        key = c.get("cvegeo_mun") or c["cvegeo"][:5]
        entry = seen.setdefault(key, {"cvegeo": key, "name": c.get("municipality"),
                                      "state": c.get("state"), "tipo_code": c.get("tipo_code"),
                                      "n_localities": 0})
        entry["n_localities"] += 1
    return list(seen.values())


def create_consultation(session: Session, settings: Mapping[str, Any], body: Any,
                        actor: str) -> dict[str, Any]:
    """Open a consultation for a project whose site meets the trigger rule.

    Body: ``project_id``; optional ``max_distance_km`` (default 10), ``known_indigenous_localities``
    (9-digit INEGI keys), ``override_reason`` (open although the rule does not require it).
    """
    body = _body(body)
    project_id = body.get("project_id")
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise InvalidInput("project_id is required (an integer)", field="project_id")
    project = session.get(Project, project_id)
    if project is None:
        raise InvalidInput(f"project {project_id} does not exist", field="project_id")
    distance = body.get("max_distance_km", tg.SCREENING_DISTANCE_KM)
    if (not isinstance(distance, (int, float)) or isinstance(distance, bool)
            or not 0 < distance <= MAX_SCREENING_DISTANCE_KM):
        raise InvalidInput(f"max_distance_km must be a number in (0, {MAX_SCREENING_DISTANCE_KM:g}]",
                           field="max_distance_km")
    known = body.get("known_indigenous_localities", [])
    if not isinstance(known, list) or not all(isinstance(k, str) and k.isdigit() and len(k) == 9
                                              for k in known):
        raise InvalidInput("known_indigenous_localities must be a list of 9-digit INEGI keys",
                           field="known_indigenous_localities")
    override = _text(body, "override_reason", required=False)
    open_ = session.scalar(select(Consultation).where(Consultation.project_id == project.id,
                                                      Consultation.phase != "cerrada"))
    if open_ is not None:
        raise Conflict(f"project {project.id} already has consultation {open_.id} in progress",
                       field="project_id", extra={"consultation_id": open_.id})
    result, lat, lon, typology = run_trigger(settings, project, float(distance), known)
    if not result.required and not override:
        raise Conflict(
            "the siting rule does not require a consultation for this site"
            + (" (review recommended: type-C municipality with indigenous population)"
               if result.review_recommended else "")
            + "; give override_reason to open one anyway",
            field="project_id",
            extra={"review_recommended": result.review_recommended,
                   "review_municipalities": result.review_municipalities["cvegeo"].tolist()})
    now = _now()
    protocol = pr.load_protocol()
    state = pr.start_consultation(now, protocol)
    communities = _community_rows(result, None, typology)
    consultation = Consultation(project_id=project.id, protocol_version=protocol.version,
                                phase=state.phase_id, communities=communities,
                                is_demo=bool(project.is_demo), created_at=now)
    session.add(consultation)
    session.flush()
    record_event(session, consultation, rec.EventKind.CONSULTATION_OPENED.value, {
        "project_id": project.id, "project_name": project.name,
        "protocol_version": protocol.version, "phase": state.phase_id,
        "trigger": {"required": result.required, "review_recommended": result.review_recommended,
                    "rule": result.rule, "max_distance_km": result.max_distance_km,
                    "site": {"latitude": round(lat, 6), "longitude": round(lon, 6)},
                    "override_reason": override},
        "municipalities": _municipalities(communities),
        "communities": communities, "by": actor}, now)
    return consultation_resource(session, settings, consultation)


def consultation_resource(session: Session, settings: Mapping[str, Any],
                          consultation: Consultation) -> dict[str, Any]:
    """A consultation as the API shows it (public facts plus the officer's next-step view)."""
    protocol = _protocol(consultation)
    rows = _event_rows(session, consultation.id)
    state = _state(consultation, rows)
    now = _now()
    phase = protocol.phase(state.phase_id)
    missing = None
    if not phase.terminal:
        m = pr.missing_for_exit(protocol, phase.phase_id, _evidence(rows), state.phase_started_at,
                                max(now, state.phase_started_at))
        missing = {"steps": list(m.steps), "artefacts": list(m.artefacts),
                   "conditions": list(m.conditions), "days_remaining": m.days_remaining}
    project = session.get(Project, consultation.project_id)
    anchor = session.get(ConsultationAnchor, consultation.id)
    return {
        "id": consultation.id, "project_id": consultation.project_id,
        "project_name": project.name if project else None,
        "protocol_version": consultation.protocol_version, "phase": state.phase_id,
        "phase_name_es": phase.name_es, "phase_name_en": phase.name_en,
        "phase_started_at": state.phase_started_at.isoformat(),
        "history": [{"phase": h.phase_id, "entered_at": h.entered_at.isoformat(),
                     "reason": h.reason} for h in state.history],
        "allowed_moves": list(pr.allowed_moves(state, protocol)),
        "missing_for_next_phase": missing,
        "communities": consultation.communities,
        "municipalities": _municipalities(consultation.communities),
        "is_demo": consultation.is_demo,
        "created_at": _iso(consultation.created_at),
        "portal_url": portal_url(settings, consultation.id),
        "event_count": anchor.event_count if anchor else 0,
        "head_hash": anchor.head_hash if anchor else None,
        "social_risk": _risk(session, consultation, now, rows=rows)["social_risk"],
    }


def get_consultation(session: Session, settings: Mapping[str, Any], consultation_id: Any) -> dict:
    """One consultation (404 if unknown)."""
    return consultation_resource(session, settings, _get(session, consultation_id))


def list_consultations(session: Session, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every consultation, newest first, with its id, project and phase."""
    out = []
    for c in session.scalars(select(Consultation).order_by(Consultation.id.desc())):
        project = session.get(Project, c.project_id)
        phase = _protocol(c).phase(c.phase)
        out.append({"id": c.id, "project_id": c.project_id,
                    "project_name": project.name if project else None,
                    "phase": c.phase, "phase_name_es": phase.name_es, "phase_name_en": phase.name_en,
                    "protocol_version": c.protocol_version, "is_demo": c.is_demo,
                    "municipalities": _municipalities(c.communities),
                    "portal_url": portal_url(settings, c.id)})
    return {"consultations": out}


def change_communities(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                       body: Any, actor: str) -> dict[str, Any]:
    """Add or remove one community, with the reason recorded (body: action, cvegeo, reason)."""
    body = _body(body)
    consultation = _get(session, consultation_id)
    action = body.get("action")
    if action not in ("add", "remove"):
        raise InvalidInput("action must be 'add' or 'remove'", field="action")
    cvegeo = body.get("cvegeo")
    if not isinstance(cvegeo, str) or not (cvegeo.isdigit() and len(cvegeo) == 9):
        raise InvalidInput("cvegeo must be a 9-digit INEGI locality key", field="cvegeo")
    reason = _text(body, "reason")
    current = list(consultation.communities or [])
    entry = next((c for c in current if c["cvegeo"] == cvegeo), None)
    if action == "add":
        typology, localities = _datasets(settings)
        match = localities.loc[localities["cvegeo"] == cvegeo]
        if match.empty:
            raise InvalidInput(f"no INEGI locality {cvegeo} in the bundled localities",
                               field="cvegeo")
        loc = match.iloc[0]
        mun = typology.loc[typology["cvegeo"] == cvegeo[:5]]
        entry = {"cvegeo": cvegeo, "name": str(body.get("name") or loc["nom_loc"]),
                 "cvegeo_mun": cvegeo[:5], "municipality": str(loc["nom_mun"]),
                 "state": str(loc["nom_ent"]),
                 "tipo_code": str(mun["tipo_code"].iloc[0]) if len(mun) else None,
                 "dist_km": None, "reason": reason, "source": "officer"}
    name = entry["name"] if entry else str(body.get("name") or cvegeo)
    try:
        tg.apply_community_changes([c["cvegeo"] for c in current],
                                   [tg.CommunityChange(action, cvegeo, name, reason, actor)])
    except ValueError as exc:
        raise Conflict(str(exc).split(": ", 1)[-1], field="cvegeo") from None
    if action == "add":
        current.append(entry)
    else:
        current = [c for c in current if c["cvegeo"] != cvegeo]
    consultation.communities = current
    kind = (rec.EventKind.COMMUNITY_ADDED if action == "add" else rec.EventKind.COMMUNITY_REMOVED).value
    record_event(session, consultation, kind, {"cvegeo": cvegeo, "name": name, "reason": reason,
                                               "by": actor})
    return consultation_resource(session, settings, consultation)


# --- phases ----------------------------------------------------------------------------


def _check_condition(session: Session, consultation: Consultation, condition: str) -> None:
    """Conditions the database can check are checked, not merely asserted."""
    if condition == "no_open_grievances":
        n = session.scalar(select(func.count()).select_from(ConsultationFeedback).where(
            ConsultationFeedback.consultation_id == consultation.id,
            ConsultationFeedback.status.in_([s.value for s in fb.OPEN_STATUSES])))
        if n:
            raise Conflict(f"{n} submission(s) still open: answer them first", field="conditions")
    if condition == "all_commitments_closed":
        n = session.scalar(select(func.count()).select_from(ConsultationCommitment).where(
            ConsultationCommitment.consultation_id == consultation.id,
            ConsultationCommitment.status.notin_([s.value for s in ag.CLOSED_COMMITMENT_STATUSES])))
        if n:
            raise Conflict(f"{n} commitment(s) neither fulfilled nor cancelled", field="conditions")
    if condition == "agreements_recorded":
        n = session.scalar(select(func.count()).select_from(ConsultationCommitment).where(
            ConsultationCommitment.consultation_id == consultation.id))
        if not n:
            raise Conflict("no commitment recorded yet", field="conditions")


def record_evidence(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                    body: Any, actor: str) -> dict[str, Any]:
    """Record steps done, artefacts held and exit conditions met in the current phase.

    Body: ``steps``, ``artefacts``, ``conditions`` (lists of protocol ids), optional ``note``,
    optional ``document`` (a reference: file name, archive number) and, in consultiva,
    ``community_position`` (consent, agreement or refusal).
    """
    body = _body(body)
    consultation = _get(session, consultation_id)
    protocol = _protocol(consultation)
    phase = protocol.phase(consultation.phase)
    note = _text(body, "note", required=False)
    document = _text(body, "document", required=False, max_chars=300)
    rows = _event_rows(session, consultation.id)
    have = _evidence(rows)
    wanted = []
    for field, items, kind, done in (("steps", phase.steps, "step_completed", have.steps),
                                     ("artefacts", phase.artefacts, "artefact_added", have.artefacts),
                                     ("conditions", phase.exit_conditions, "condition_met",
                                      have.conditions)):
        ids = body.get(field, [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidInput(f"{field} must be a list of ids", field=field)
        valid = [i.item_id for i in items]
        unknown = [i for i in ids if i not in valid]
        if unknown:
            raise InvalidInput(f"{field} {unknown} are not in phase {phase.phase_id}; valid: "
                               f"{', '.join(valid) or 'none'}", field=field)
        wanted += [(kind, i) for i in dict.fromkeys(ids) if i not in done]
    position = body.get("community_position")
    if position is not None:
        if phase.phase_id != "consultiva":
            raise Conflict("the community's position is recorded in the consultiva phase",
                           field="community_position")
        if position not in COMMUNITY_POSITIONS:
            raise InvalidInput(f"community_position must be one of {list(COMMUNITY_POSITIONS)}",
                               field="community_position")
    if not wanted and position is None:
        raise InvalidInput("nothing new to record: give steps, artefacts, conditions or "
                           "community_position", field="steps")
    for kind, item in wanted:
        if kind == "condition_met":
            _check_condition(session, consultation, item)
    for kind, item in wanted:
        record_event(session, consultation, kind, {"phase": phase.phase_id, "id": item,
                                                   "note": note, "document": document,
                                                   "by": actor})
    if position is not None:
        record_event(session, consultation, "community_position_recorded",
                     {"phase": phase.phase_id, "position": position, "note": note, "by": actor})
    return consultation_resource(session, settings, consultation)


def change_phase(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                 body: Any, actor: str) -> dict[str, Any]:
    """Move the consultation (body: ``to_phase``, ``reason``); 409 lists what is missing."""
    body = _body(body)
    consultation = _get(session, consultation_id)
    protocol = _protocol(consultation)
    to_phase = body.get("to_phase")
    if not isinstance(to_phase, str) or to_phase not in protocol.phase_ids:
        raise InvalidInput(f"to_phase must be one of {', '.join(protocol.phase_ids)}",
                           field="to_phase")
    reason = _text(body, "reason", required=False) or ""
    rows = _event_rows(session, consultation.id)
    state = _state(consultation, rows)
    now = max(_now(), state.phase_started_at)
    try:
        new = pr.advance(state, to_phase, _evidence(rows, reason), now, protocol)
    except pr.TransitionError as exc:
        missing = None
        if exc.missing is not None:
            missing = {"steps": list(exc.missing.steps), "artefacts": list(exc.missing.artefacts),
                       "conditions": list(exc.missing.conditions),
                       "days_remaining": exc.missing.days_remaining}
        raise Conflict(str(exc), field="to_phase",
                       extra={"from_phase": exc.from_phase, "to_phase": exc.to_phase,
                              "missing": missing,
                              "allowed_moves": list(pr.allowed_moves(state, protocol))}) from None
    consultation.phase = new.phase_id
    record_event(session, consultation, rec.EventKind.PHASE_CHANGED.value,
                 {"from": state.phase_id, "to": new.phase_id, "reason": reason, "by": actor}, now)
    return consultation_resource(session, settings, consultation)


def record_meeting(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   body: Any, actor: str) -> dict[str, Any]:
    """Record a meeting held (body: held_at, place, attendance_count, optional
    interpreter_language, minutes_reference, summary)."""
    body = _body(body)
    consultation = _get(session, consultation_id)
    held_at = _parse_instant(body.get("held_at"), "held_at")
    place = _text(body, "place", max_chars=300)
    count = body.get("attendance_count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise InvalidInput("attendance_count must be a whole number >= 0", field="attendance_count")
    payload = {"phase": consultation.phase, "held_at": held_at.isoformat(), "place": place,
               "attendance_count": count,
               "interpreter_language": _text(body, "interpreter_language", required=False,
                                             max_chars=300),
               "minutes_reference": _text(body, "minutes_reference", required=False, max_chars=300),
               "summary": _text(body, "summary", required=False), "by": actor}
    event = record_event(session, consultation, rec.EventKind.MEETING_HELD.value, payload)
    return {"consultation_id": consultation.id, "seq": event.seq, **payload}


# --- notices ---------------------------------------------------------------------------


def _notice_domain(notice: ConsultationNotice, language: str) -> nt.Notice:
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
            "starts_at": _iso(notice.starts_at), "ends_at": _iso(notice.ends_at),
            "es": {"title": notice.title_es, "body": notice.body_es,
                   "date": notice.fields["es"]["date"], "time": notice.fields["es"]["time"]},
            "en": {"title": notice.title_en, "body": notice.body_en,
                   "date": notice.fields["en"]["date"], "time": notice.fields["en"]["time"]},
            "translations": notice.translations or [],
            "published_at": _iso(notice.published_at), "is_demo": notice.is_demo}


def publish_notice(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   body: Any, actor: str) -> dict[str, Any]:
    """Render and publish the current phase's notice in Spanish and English.

    Body: ``community``, ``starts_at``, optional ``ends_at`` (ISO-8601 with offset),
    ``place``, ``meeting_language``, optional ``interpreter_language``. The meeting must
    be at least the protocol's lead time after now.
    """
    body = _body(body)
    consultation = _get(session, consultation_id)
    protocol = _protocol(consultation)
    phase = protocol.phase(consultation.phase)
    if phase.notice_templates is None:
        with_notice = [p.phase_id for p in protocol.phases if p.notice_templates is not None]
        raise Conflict(f"phase {phase.phase_id!r} has no public notice; phases with notices: "
                       f"{', '.join(with_notice)}", field="phase")
    starts_at = _parse_instant(body.get("starts_at"), "starts_at")
    ends_at = _parse_instant(body.get("ends_at"), "ends_at", required=False)
    texts = {f: _text(body, f, max_chars=nt.MAX_FIELD_CHARS)
             for f in ("community", "place", "meeting_language")}
    interpreter = _text(body, "interpreter_language", required=False, max_chars=nt.MAX_FIELD_CHARS)
    now = _now()
    try:
        nt.check_lead_time(now, starts_at, protocol)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="starts_at") from None
    project = session.get(Project, consultation.project_id)
    fields = nt.NoticeFields(project_name=project.name, community=texts["community"],
                             starts_at=starts_at, ends_at=ends_at, place=texts["place"],
                             meeting_language=texts["meeting_language"],
                             portal_url=portal_url(settings, consultation.id),
                             interpreter_language=interpreter)
    rendered = {}
    for language in pr.LANGUAGES:
        try:
            rendered[language] = nt.render_notice(protocol, phase.phase_id, language, fields)
        except ValueError as exc:
            message = str(exc)
            field = next((f for f in ("ends_at", "starts_at", "portal_url", "place", "community",
                                      "meeting_language", "interpreter_language")
                          if f in message), "body")
            raise InvalidInput(message, field=field) from None
    notice = ConsultationNotice(
        consultation_id=consultation.id, phase=phase.phase_id, community=texts["community"],
        place=texts["place"], meeting_language=texts["meeting_language"],
        interpreter_language=interpreter, starts_at=starts_at, ends_at=ends_at,
        title_es=rendered["es"].title, body_es=rendered["es"].body,
        title_en=rendered["en"].title, body_en=rendered["en"].body,
        fields={"protocol_version": protocol.version, "es": rendered["es"].fields,
                "en": rendered["en"].fields},
        translations=[], published_at=now, published_by=actor, is_demo=consultation.is_demo)
    session.add(notice)
    session.flush()
    record_event(session, consultation, rec.EventKind.NOTICE_PUBLISHED.value, {
        "notice_id": notice.id, "phase": phase.phase_id, "title_es": notice.title_es,
        "title_en": notice.title_en, "starts_at": starts_at.isoformat(),
        "ends_at": _iso(ends_at), "place": notice.place,
        "meeting_language": notice.meeting_language, "interpreter_language": interpreter,
        "body_es_sha256": _sha256_text(notice.body_es),
        "body_en_sha256": _sha256_text(notice.body_en), "by": actor}, now)
    rows = _event_rows(session, consultation.id)
    have = _evidence(rows)
    if "publish_notice" in {s.item_id for s in phase.steps} and "publish_notice" not in have.steps:
        record_event(session, consultation, "step_completed",
                     {"phase": phase.phase_id, "id": "publish_notice", "note": f"notice {notice.id}",
                      "document": None, "by": actor}, now)
    if ("notice_published" in {a.item_id for a in phase.artefacts}
            and "notice_published" not in have.artefacts):
        record_event(session, consultation, "artefact_added",
                     {"phase": phase.phase_id, "id": "notice_published",
                      "note": f"notice {notice.id}", "document": None, "by": actor}, now)
    return notice_view(notice)


def _notice(session: Session, consultation: Consultation, notice_id: Any) -> ConsultationNotice:
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
    consultation = _get(session, consultation_id)
    rows = session.scalars(select(ConsultationNotice).where(
        ConsultationNotice.consultation_id == consultation.id)
        .order_by(ConsultationNotice.id.desc())).all()
    return {"notices": [notice_view(n) for n in rows]}


def get_notice(session: Session, consultation_id: Any, notice_id: Any) -> dict[str, Any]:
    """One published notice (public)."""
    consultation = _get(session, consultation_id)
    return notice_view(_notice(session, consultation, notice_id))


def add_notice_translation(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                           notice_id: Any, body: Any, actor: str) -> dict[str, Any]:
    """Attach an officer-supplied translation (body: language_name, optional language_code
    (ISO 639-3), title, body, translated_by)."""
    payload = _body(body)
    consultation = _get(session, consultation_id)
    notice = _notice(session, consultation, notice_id)
    try:
        updated = nt.add_translation(_notice_domain(notice, "es"),
                                     payload.get("language_name"), payload.get("title"),
                                     payload.get("body"), payload.get("translated_by"),
                                     language_code=payload.get("language_code"))
    except (ValueError, TypeError) as exc:
        message = str(exc)
        field = next((f for f in ("language_name", "language_code", "translated_by", "title")
                      if f"'{f}'" in message or message.startswith(f)), "body")
        raise InvalidInput(message, field=field) from None
    t = updated.translations[-1]
    notice.translations = list(notice.translations or []) + [dataclasses.asdict(t)]
    record_event(session, consultation, rec.EventKind.TRANSLATION_ADDED.value, {
        "notice_id": notice.id, "language_name": t.language_name,
        "language_code": t.language_code, "translated_by": t.translated_by,
        "title": t.title, "body_sha256": _sha256_text(t.body), "by": actor})
    protocol = _protocol(consultation)
    phase = protocol.phase(consultation.phase)
    artefact = "information_in_community_language"
    if (notice.phase == phase.phase_id and artefact in {a.item_id for a in phase.artefacts}
            and artefact not in _evidence(_event_rows(session, consultation.id)).artefacts):
        record_event(session, consultation, "artefact_added",
                     {"phase": phase.phase_id, "id": artefact,
                      "note": f"notice {notice.id} in {t.language_name}", "document": None,
                      "by": actor})
    return notice_view(notice)


def poster_pdf(session: Session, settings: Mapping[str, Any], consultation_id: Any,
               notice_id: Any, language: str = "es") -> bytes:
    """The printable PDF poster of a notice, with a QR code to the portal page."""
    from consultation.poster import render_poster

    if language not in pr.LANGUAGES:
        raise InvalidInput(f"lang must be one of {', '.join(pr.LANGUAGES)}", field="lang")
    consultation = _get(session, consultation_id)
    notice = _notice(session, consultation, notice_id)
    domain = _notice_domain(notice, language)
    try:
        return render_poster(domain, portal_url(settings, consultation.id))
    except ValueError:
        # A translation's name outside the standard fonts: print the poster without it (the
        # portal shows every translation).
        return render_poster(dataclasses.replace(domain, translations=()),
                             portal_url(settings, consultation.id))


# --- subscribers and deliveries --------------------------------------------------------


def subscribe(session: Session, consultation_id: Any, body: Any) -> dict[str, Any]:
    """Subscribe an e-mail and/or phone to a consultation's notices (public, idempotent).

    The answer is the same whether the address was already subscribed or not.
    """
    body = _body(body)
    consultation = _get(session, consultation_id)
    language = body.get("language", "es")
    if language not in pr.LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(pr.LANGUAGES)}", field="language")
    try:
        checked = fb.validate_submission(kind="feedback", category="other", text="-",
                                         email=body.get("email"), phone=body.get("phone"))
    except fb.FeedbackError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    if checked.contact is None:
        raise InvalidInput("give an email or a phone to subscribe", field="email")
    email, phone = checked.contact.email, checked.contact.phone
    if email is not None:
        email = email.lower()
    existing = session.scalars(select(ConsultationSubscriber).where(
        ConsultationSubscriber.consultation_id == consultation.id,
        (ConsultationSubscriber.email == email) | (ConsultationSubscriber.phone == phone))).first()
    if existing is None:
        session.add(ConsultationSubscriber(consultation_id=consultation.id, email=email,
                                           phone=phone, language=language,
                                           is_demo=consultation.is_demo))
        session.flush()
    return {"consultation_id": consultation.id, "subscribed": True}


def _notice_message(notice: ConsultationNotice, language: str) -> tuple[str, str]:
    domain = _notice_domain(notice, language)
    return domain.title, domain.full_text()


def deliver_notice(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   notice_id: Any, progress: Callable[[int, int, str], None] | None = None,
                   ) -> dict[str, Any]:
    """Send a notice to every subscriber: e-mail through SMTP, SMS into the outbox.

    Idempotent: a subscriber already served (sent or queued) on a channel is skipped, so a
    retried task never sends twice. Each delivery is a row and a chain event, committed one
    by one.
    """
    from fondo.consultation.mail import MailError, queue_sms, send_email

    consultation = _get(session, consultation_id)
    notice = _notice(session, consultation, notice_id)
    subscribers = session.scalars(select(ConsultationSubscriber).where(
        ConsultationSubscriber.consultation_id == consultation.id)
        .order_by(ConsultationSubscriber.id)).all()
    tasks = [(s, ch) for s in subscribers for ch in ("email", "sms")
             if (s.email if ch == "email" else s.phone)]
    counts = {"sent": 0, "queued": 0, "failed": 0, "skipped": 0}
    for done, (sub, channel) in enumerate(tasks):
        if progress:
            progress(done, len(tasks), f"delivering by {channel}")
        row = _claim_delivery(session, consultation.id, notice.id, sub.id, channel)
        if row is None:  # served already, or another worker is serving it right now
            counts["skipped"] += 1
            continue
        subject, text = _notice_message(notice, sub.language)
        error = None
        recipient = sub.email if channel == "email" else sub.phone
        if channel == "email":
            attachments = []
            try:
                attachments = [("aviso.pdf" if sub.language == "es" else "notice.pdf",
                                "application/pdf",
                                poster_pdf(session, settings, consultation.id, notice.id,
                                           sub.language))]
            except ValueError:
                attachments = []
            try:
                send_email(settings, recipient, subject, text, attachments)
                status = "sent"
            except MailError as exc:
                status, error = "failed", str(exc)
        else:
            queue_sms(session, recipient, f"{subject}. {portal_url(settings, consultation.id)}",
                      consultation.id)
            status = "queued"
        counts[status] += 1
        now = _now()
        row.status, row.error, row.attempted_at = status, error, now
        session.flush()
        record_event(session, consultation, rec.EventKind.NOTICE_DELIVERED.value, {
            "notice_id": notice.id, "delivery_id": row.id, "channel": channel,
            "recipient_sha256": _sha256_text(recipient.lower()), "status": status,
            "error": error}, now)
        session.commit()
    if progress:
        progress(len(tasks), len(tasks), "delivered")
    return {"consultation_id": consultation.id, "notice_id": notice.id, **counts}


#: A claim ("sending") older than this is taken to belong to a worker that died. [minutes]
DELIVERY_CLAIM_STALE_MINUTES = 10


def _claim_delivery(session: Session, consultation_id: int, notice_id: int, subscriber_id: int,
                    channel: str) -> ConsultationDelivery | None:
    """Claim one (notice, subscriber, channel) delivery before sending it, or return None.

    The claim is a committed row in state ``sending``; the table's unique key makes it
    atomic, so two workers delivering the same notice never send the same message twice.
    A delivery already sent or queued is not claimed again; a failed one, or a claim left
    by a worker that died more than :data:`DELIVERY_CLAIM_STALE_MINUTES` ago, is retried.
    """
    now = _now()
    prior = session.scalars(select(ConsultationDelivery).where(
        ConsultationDelivery.notice_id == notice_id,
        ConsultationDelivery.subscriber_id == subscriber_id,
        ConsultationDelivery.channel == channel)).first()
    if prior is not None:
        if prior.status in ("sent", "queued"):
            return None
        stale = now - dt.timedelta(minutes=DELIVERY_CLAIM_STALE_MINUTES)
        if prior.status == "sending" and prior.attempted_at and prior.attempted_at > stale:
            return None
        prior.status, prior.attempted_at = "sending", now
        session.commit()
        return prior
    row = ConsultationDelivery(consultation_id=consultation_id, notice_id=notice_id,
                               subscriber_id=subscriber_id, channel=channel, status="sending",
                               attempted_at=now)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # another worker claimed it first
        session.rollback()
        return None
    return row


def list_deliveries(session: Session, consultation_id: Any, notice_id: Any) -> dict[str, Any]:
    """Deliveries of a notice (officers: shows the addresses)."""
    consultation = _get(session, consultation_id)
    notice = _notice(session, consultation, notice_id)
    out = []
    for d in session.scalars(select(ConsultationDelivery).where(
            ConsultationDelivery.notice_id == notice.id).order_by(ConsultationDelivery.id)):
        sub = session.get(ConsultationSubscriber, d.subscriber_id)
        out.append({"id": d.id, "channel": d.channel, "status": d.status, "error": d.error,
                    "recipient": sub.email if d.channel == "email" else sub.phone,
                    "attempted_at": _iso(d.attempted_at)})
    return {"notice_id": notice.id, "deliveries": out}


# --- feedback and grievances -----------------------------------------------------------


def _item(row: ConsultationFeedback) -> fb.FeedbackItem:
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


def _decode_attachment(value: Any) -> tuple[str, bytes, str | None] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput("attachment must be an object {filename, content_type, content_base64}",
                           field="attachment")
    data = value.get("content_base64")
    if not isinstance(data, str):
        raise InvalidInput("attachment.content_base64 is required", field="attachment")
    if len(data) > (fb.MAX_ATTACHMENT_BYTES * 4) // 3 + 8:
        raise InvalidInput(f"attachment is over the limit of {fb.MAX_ATTACHMENT_BYTES} bytes (5 MB)",
                           field="attachment")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("attachment.content_base64 is not base64", field="attachment") from None
    return str(value.get("filename") or ""), raw, value.get("content_type")


def submit_feedback(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                    body: Any, attachment: tuple[str, bytes, str | None] | None = None,
                    ) -> tuple[dict[str, Any], bool]:
    """Store a public submission; returns (public view with receipt code, created?).

    Body: ``kind`` (feedback | grievance), ``category``, ``text``, optional ``language``,
    ``anonymous``, ``name``, ``email``, ``phone``, ``location`` {latitude, longitude},
    ``client_token`` (idempotency), ``attachment`` {filename, content_type, content_base64}
    (or pass ``attachment`` as (filename, bytes, declared type) from a multipart form).

    The same ``client_token`` with the same content returns the stored submission
    (created False); with different content it is a 409.
    """
    body = _body(body)
    consultation = _get(session, consultation_id)
    if attachment is None:
        attachment = _decode_attachment(body.get("attachment"))
    try:
        checked_attachment = (fb.validate_attachment(*attachment) if attachment is not None
                              else None)
        location = body.get("location")
        submission = fb.validate_submission(
            kind=body.get("kind"), category=body.get("category"), text=body.get("text"),
            language=body.get("language", "es"), anonymous=body.get("anonymous", False),
            name=body.get("name"), email=body.get("email"), phone=body.get("phone"),
            location=location, attachment=checked_attachment,
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
    content_sha = hashlib.sha256(rec.canonical_json(content)).hexdigest()

    def existing_for_token() -> ConsultationFeedback | None:
        if submission.client_token is None:
            return None
        return session.scalars(select(ConsultationFeedback).where(
            ConsultationFeedback.consultation_id == consultation.id,
            ConsultationFeedback.client_token == submission.client_token)).first()

    def replay(row: ConsultationFeedback) -> tuple[dict[str, Any], bool]:
        if row.content_sha256 != content_sha:
            raise Conflict("this client_token was already used for a different submission",
                           field="client_token")
        return _public_feedback(row), False

    prior = existing_for_token()
    if prior is not None:
        return replay(prior)
    code = fb.new_receipt_code()
    while session.scalar(select(ConsultationFeedback.id).where(
            ConsultationFeedback.receipt_code == code)) is not None:
        code = fb.new_receipt_code()
    now = _now()
    row = ConsultationFeedback(
        consultation_id=consultation.id, receipt_code=code, client_token=submission.client_token,
        content_sha256=content_sha, kind=submission.kind.value,
        category=submission.category.value, text=submission.text, language=submission.language,
        anonymous=submission.anonymous, name=submission.name,
        email=content["email"], phone=content["phone"],
        latitude_deg=submission.location.latitude if submission.location else None,
        longitude_deg=submission.location.longitude if submission.location else None,
        attachment_filename=checked_attachment.filename if checked_attachment else None,
        attachment_mime_type=checked_attachment.mime_type if checked_attachment else None,
        attachment_size_bytes=checked_attachment.size_bytes if checked_attachment else None,
        attachment_sha256=checked_attachment.sha256 if checked_attachment else None,
        attachment_data=attachment[1] if checked_attachment else None,
        status=fb.FeedbackStatus.RECEIVED.value, submitted_at=now,
        is_demo=consultation.is_demo)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        prior = existing_for_token()
        if prior is not None:  # the same token raced in a moment earlier
            return replay(prior)
        raise
    payload = fb.public_view(_item(row))
    payload.update({"feedback_id": row.id, "text_sha256": _sha256_text(row.text),
                    "attachment_sha256": row.attachment_sha256})
    record_event(session, consultation, rec.EventKind.FEEDBACK_RECEIVED.value, payload, now)
    return _public_feedback(row), True


def _public_feedback(row: ConsultationFeedback) -> dict[str, Any]:
    view = fb.public_view(_item(row), include_text=True)
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
    return _public_feedback(row)


def _sla_frame(rows: list[ConsultationFeedback], now: dt.datetime,
               protocol: pr.Protocol) -> pd.DataFrame:
    frame = pd.DataFrame({
        "id": [r.id for r in rows],
        "received_at": pd.to_datetime([r.submitted_at for r in rows], utc=True),
        "acknowledged_at": pd.to_datetime([r.acknowledged_at for r in rows], utc=True),
        "answered_at": pd.to_datetime([r.answered_at or (r.closed_at if r.status == "closed"
                                                         else None) for r in rows], utc=True),
    })
    return sla.overdue(frame, now, protocol.sla).set_index("id")


def _feedback_rows(session: Session, consultation_id: int) -> list[ConsultationFeedback]:
    return list(session.scalars(select(ConsultationFeedback).where(
        ConsultationFeedback.consultation_id == consultation_id)
        .order_by(ConsultationFeedback.id)).all())


def list_feedback(session: Session, consultation_id: Any) -> dict[str, Any]:
    """Every submission with contact details and SLA timers (officers only)."""
    consultation = _get(session, consultation_id)
    rows = _feedback_rows(session, consultation.id)
    frame = _sla_frame(rows, _now(), _protocol(consultation))
    out = []
    for r in rows:
        view = fb.officer_view(_item(r))
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
    consultation = _get(session, consultation_id)
    out = []
    for r in _feedback_rows(session, consultation.id):
        v = fb.public_view(_item(r))
        out.append({k: v[k] for k in ("kind", "category", "category_label_es",
                                      "category_label_en", "status", "submitted_at",
                                      "answered_at", "public_answer")})
    return out


def feedback_action(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                    feedback_id: Any, body: Any, actor: str) -> dict[str, Any]:
    """Officer triage: ``action`` acknowledge | answer | escalate | close, with
    ``public_answer`` (required to answer), ``officer_notes`` and ``reason``."""
    body = _body(body)
    consultation = _get(session, consultation_id)
    try:
        fid = int(feedback_id)
    except (TypeError, ValueError):
        raise NotFound(f"submission {feedback_id!r} does not exist") from None
    row = session.get(ConsultationFeedback, fid)
    if row is None or row.consultation_id != consultation.id:
        raise NotFound(f"submission {fid} does not exist in consultation {consultation.id}")
    action = body.get("action")
    if action not in FEEDBACK_ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(FEEDBACK_ACTIONS)}", field="action")
    answer = _text(body, "public_answer", required=action == "answer", max_chars=MAX_ANSWER_CHARS)
    notes = _text(body, "officer_notes", required=False, max_chars=MAX_ANSWER_CHARS)
    reason = _text(body, "reason", required=action == "escalate")
    current = row.status
    if action == "answer" and current == fb.FeedbackStatus.RECEIVED.value:
        current = fb.FeedbackStatus.ACKNOWLEDGED.value
    try:
        new = fb.transition_status(current, FEEDBACK_ACTIONS[action])
    except fb.FeedbackError as exc:
        raise Conflict(str(exc), field="action") from None
    now = _now()
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
    view = fb.officer_view(_item(row))
    view["id"] = row.id
    return view


def feedback_attachment(session: Session, consultation_id: Any, feedback_id: Any,
                        ) -> tuple[str, str, bytes]:
    """(filename, mime type, bytes) of a submission's attachment (officers only)."""
    consultation = _get(session, consultation_id)
    row = session.get(ConsultationFeedback, int(feedback_id)) if str(feedback_id).isdigit() else None
    if row is None or row.consultation_id != consultation.id or row.attachment_data is None:
        raise NotFound("no such attachment")
    return row.attachment_filename, row.attachment_mime_type, row.attachment_data


# --- commitments -----------------------------------------------------------------------


def _commitment_domain(row: ConsultationCommitment) -> ag.Commitment:
    return ag.Commitment(row.commitment_code, ag.CommitmentKind(row.kind), row.description,
                         row.owner, row.due_date, row.agreed_on, ag.CommitmentStatus(row.status),
                         row.amount_mxn, row.status_reason or "", row.fulfilled_on)


def _commitment_rows(session: Session, consultation_id: int) -> list[ConsultationCommitment]:
    return list(session.scalars(select(ConsultationCommitment).where(
        ConsultationCommitment.consultation_id == consultation_id)
        .order_by(ConsultationCommitment.id)).all())


def list_commitments(session: Session, consultation_id: Any) -> dict[str, Any]:
    """Public status of every commitment, with a ``late`` flag."""
    consultation = _get(session, consultation_id)
    today = _local_today(_now())
    rows = _commitment_rows(session, consultation.id)
    return {"consultation_id": consultation.id,
            "commitments": ag.public_commitments([_commitment_domain(r) for r in rows], today)}


def _field_of(message: str, fields: tuple[str, ...], default: str) -> str:
    return next((f for f in fields if f in message), default)


def add_commitment(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   body: Any, actor: str) -> dict[str, Any]:
    """Record a commitment (body: kind, description, owner, due_date, optional amount_mxn and
    commitment_id); only in the consultiva or seguimiento phase."""
    body = _body(body)
    consultation = _get(session, consultation_id)
    if consultation.phase not in COMMITMENT_PHASES:
        raise Conflict(f"commitments are recorded in {' or '.join(COMMITMENT_PHASES)}; the "
                       f"consultation is in {consultation.phase}", field="phase")
    now = _now()
    due = _parse_date(body.get("due_date"), "due_date")
    amount = body.get("amount_mxn")
    if amount is not None and (not isinstance(amount, (int, float)) or isinstance(amount, bool)):
        raise InvalidInput("amount_mxn must be a number", field="amount_mxn")
    n = session.scalar(select(func.count()).select_from(ConsultationCommitment).where(
        ConsultationCommitment.consultation_id == consultation.id))
    code = body.get("commitment_id") or f"C-{n + 1}"
    try:
        c = ag.new_commitment(str(code), body.get("kind"), body.get("description"),
                              body.get("owner"), due, _local_today(now),
                              float(amount) if amount is not None else None)
    except ValueError as exc:
        field = _field_of(str(exc), ("commitment_id", "description", "owner", "due_date",
                                     "amount_mxn", "kind"), "kind")
        raise InvalidInput(str(exc), field=field) from None
    if session.scalar(select(ConsultationCommitment.id).where(
            ConsultationCommitment.consultation_id == consultation.id,
            ConsultationCommitment.commitment_code == c.commitment_id)) is not None:
        raise Conflict(f"commitment {c.commitment_id} already exists", field="commitment_id")
    row = ConsultationCommitment(consultation_id=consultation.id, commitment_code=c.commitment_id,
                                 kind=c.kind.value, description=c.description, owner=c.owner,
                                 due_date=c.due_date, agreed_on=c.agreed_on, status=c.status.value,
                                 amount_mxn=c.amount_mxn, is_demo=consultation.is_demo)
    session.add(row)
    session.flush()
    record_event(session, consultation, rec.EventKind.COMMITMENT_RECORDED.value, {
        "commitment_id": c.commitment_id, "kind": c.kind.value, "description": c.description,
        "owner": c.owner, "due_date": c.due_date.isoformat(), "agreed_on": c.agreed_on.isoformat(),
        "amount_mxn": c.amount_mxn, "by": actor}, now)
    return ag.public_commitments([c], _local_today(now))[0]


def change_commitment(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                      commitment_id: str, body: Any, actor: str) -> dict[str, Any]:
    """Follow-up: change a commitment's status (body: status, reason; cancel needs a reason)."""
    body = _body(body)
    consultation = _get(session, consultation_id)
    row = session.scalars(select(ConsultationCommitment).where(
        ConsultationCommitment.consultation_id == consultation.id,
        ConsultationCommitment.commitment_code == str(commitment_id))).first()
    if row is None:
        raise NotFound(f"commitment {commitment_id} does not exist in consultation {consultation.id}")
    status = body.get("status")
    if status not in [s.value for s in ag.CommitmentStatus]:
        raise InvalidInput(f"status must be one of {[s.value for s in ag.CommitmentStatus]}",
                           field="status")
    reason = _text(body, "reason", required=False) or ""
    now = _now()
    try:
        c = ag.change_status(_commitment_domain(row), status, _local_today(now), reason)
    except ValueError as exc:
        field = "reason" if "reason" in str(exc) else "status"
        raise (InvalidInput if field == "reason" else Conflict)(str(exc), field=field) from None
    before = row.status
    row.status, row.status_reason, row.fulfilled_on = c.status.value, c.status_reason, c.fulfilled_on
    session.flush()
    record_event(session, consultation, rec.EventKind.COMMITMENT_STATUS_CHANGED.value, {
        "commitment_id": c.commitment_id, "from": before, "to": c.status.value,
        "reason": reason, "by": actor}, now)
    return ag.public_commitments([c], _local_today(now))[0]


# --- social risk -----------------------------------------------------------------------


def _risk(session: Session, consultation: Consultation, now: dt.datetime,
          rows: list[dict] | None = None) -> dict[str, Any]:
    protocol = _protocol(consultation)
    items = _feedback_rows(session, consultation.id)
    frame = _sla_frame(items, now, protocol)
    grievances = [r for r in items if r.kind == fb.FeedbackKind.GRIEVANCE.value]
    open_statuses = {s.value for s in fb.OPEN_STATUSES}
    open_g = [r for r in grievances if r.status in open_statuses]
    escalated = sum(r.status == fb.FeedbackStatus.ESCALATED.value for r in grievances)
    overdue_g = sum(bool(frame.loc[r.id, "overdue"]) for r in open_g)
    overdue_all = int(frame["overdue"].sum()) if len(frame) else 0
    today = _local_today(now)
    late = len(ag.late_commitments(
        [_commitment_domain(r) for r in _commitment_rows(session, consultation.id)], today))
    rows = rows if rows is not None else _event_rows(session, consultation.id)
    positions = [r["payload"]["position"] for r in rows if r["kind"] == "community_position_recorded"]
    withheld = bool(positions) and positions[-1] == "refusal"
    level = rk.social_risk(consultation.phase, len(open_g), overdue_g, late, escalated, withheld, True)
    return {"consultation_id": consultation.id, "phase": consultation.phase,
            "consultation_required": True, "open_grievances": len(open_g),
            "overdue_grievances": overdue_g, "overdue_submissions": overdue_all,
            "escalated_grievances": escalated, "late_commitments": late,
            "consent_withheld": withheld, "social_risk": level, "as_of": now.isoformat()}


def social_risk_for_project(session: Session, settings: Mapping[str, Any],
                            project_id: Any) -> dict[str, Any]:
    """The project's social risk level (read by the pipeline gates and the portfolio)."""
    try:
        pid = int(project_id)
    except (TypeError, ValueError):
        raise NotFound(f"project {project_id!r} does not exist") from None
    project = session.get(Project, pid)
    if project is None:
        raise NotFound(f"project {pid} does not exist")
    now = _now()
    consultation = session.scalars(select(Consultation).where(Consultation.project_id == pid)
                                   .order_by(Consultation.id.desc())).first()
    if consultation is not None:
        return {"project_id": pid, **_risk(session, consultation, now)}
    required = False
    if project.site is not None:
        required = run_trigger(settings, project, tg.SCREENING_DISTANCE_KM, [])[0].required
    level = rk.social_risk(rk.NOT_STARTED, 0, 0, 0, 0, False, required)
    return {"project_id": pid, "consultation_id": None, "phase": rk.NOT_STARTED,
            "consultation_required": required, "open_grievances": 0, "overdue_grievances": 0,
            "overdue_submissions": 0, "escalated_grievances": 0, "late_commitments": 0,
            "consent_withheld": False, "social_risk": level, "as_of": now.isoformat()}


# --- record export ---------------------------------------------------------------------


def record_json(session: Session, settings: Mapping[str, Any], consultation_id: Any) -> dict:
    """The whole record for auditors and courts: consultation, every event, verification."""
    consultation = _get(session, consultation_id)
    rows = _event_rows(session, consultation.id)
    events = [{k: r[k] for k in ("seq", "kind", "occurred_at", "payload", "prev_hash", "hash")}
              for r in rows]
    return {"consultation": consultation_resource(session, settings, consultation),
            "hash_rule": "hash_n = sha256(prev_hash_n || RFC 8785 canonical JSON of "
                         "{consultation_id, seq, kind, payload, occurred_at}); prev_hash_0 = 64 zeros",
            "events": events, "verification": verify_consultation(session, consultation.id),
            "exported_at": _now().isoformat()}


_PDF_FONT_PATHS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                   Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"))


def _pdf_fonts() -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if all(p.exists() for p in _PDF_FONT_PATHS):
        if "FondoSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("FondoSans", str(_PDF_FONT_PATHS[0])))
            pdfmetrics.registerFont(TTFont("FondoMono", str(_PDF_FONT_PATHS[1])))
        return "FondoSans", "FondoMono"
    return "Helvetica", "Courier"


def record_pdf(session: Session, settings: Mapping[str, Any], consultation_id: Any) -> bytes:
    """The whole record as a PDF (reportlab): summary, verification, every event in full."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    data = record_json(session, settings, consultation_id)
    try:  # the standard PDF fonts print Windows-1252; other scripts need an embedded font
        json.dumps(data, ensure_ascii=False).encode("cp1252")
        sans, mono = "Helvetica", "Courier"
    except UnicodeEncodeError:
        sans, mono = _pdf_fonts()
    normal = ParagraphStyle("n", fontName=sans, fontSize=9, leading=11)
    head = ParagraphStyle("h", fontName=sans, fontSize=14, leading=17, spaceAfter=6)
    code = ParagraphStyle("c", fontName=mono, fontSize=7, leading=8.5)

    def p(text: str, style=normal) -> Paragraph:
        return Paragraph(html.escape(text).replace("\n", "<br/>"), style)

    c = data["consultation"]
    v = data["verification"]
    story = [p(f"Registro de consulta / Consultation record #{c['id']}", head),
             p(f"Proyecto / Project: {c['project_name']} (#{c['project_id']})"
               + ("  [DEMOSTRACIÓN / DEMO]" if c["is_demo"] else "")),
             p(f"Protocolo / Protocol: {c['protocol_version']} — fase / phase: {c['phase']}"),
             p(f"Exportado / Exported: {data['exported_at']}"),
             p(f"Verificación / Verification: {'OK' if v['ok'] else 'FALLA / BROKEN'} — "
               f"{v['length']} eventos / events; head {v['head_hash']}"
               + ("" if v["ok"] else f"; primer evento roto / first broken event: seq "
                  f"{v['first_broken_seq']} ({v['reason']})")),
             p(data["hash_rule"], code), Spacer(1, 4 * mm)]
    for e in data["events"]:
        story.append(p(f"#{e['seq']}  {e['occurred_at']}  {e['kind']}", normal))
        story.append(p(json.dumps(e["payload"], ensure_ascii=False, indent=1, sort_keys=True), code))
        story.append(p(f"prev {e['prev_hash']}\nhash {e['hash']}", code))
        story.append(Spacer(1, 2 * mm))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=letter, title=f"Consultation record {c['id']}",
                            leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, invariant=1)
    doc.build(story)
    return buf.getvalue()


# --- demo ------------------------------------------------------------------------------

#: Demo consultation content (fictitious, labelled as demo; places are real localities).
DEMO_CONSULTATION_PROJECT = "Demo – Parque solar San Luis Potosí Altiplano"


def seed_demo_consultation(session: Session, settings: Mapping[str, Any]) -> dict[str, int]:
    """A demo consultation in progress on the demo wind project (idempotent, labelled demo):
    notices published, feedback received and answered, a commitment in follow-up.

    Needs the demo fund (``fondo seed --demo``). Phases are walked with the protocol's
    minimum durations by back-dating the demo's clock, so the record stays a valid chain.
    """
    import fondo.consultation.service as me

    project = session.scalar(select(Project).where(Project.name == DEMO_CONSULTATION_PROJECT))
    if project is None or session.scalar(select(Consultation.id).where(
            Consultation.project_id == project.id)) is not None:
        return {"demo_consultations": 0}
    protocol = pr.load_protocol()
    real_clock = me.clock
    start = utcnow() - dt.timedelta(days=130)
    moment = [start]
    me.clock = lambda: moment[0]
    actor = "demo"
    try:
        result, *_ = run_trigger(settings, project, tg.SCREENING_DISTANCE_KM, [])
        body = {"project_id": project.id}
        if not result.required:
            body["override_reason"] = "Demostración: consulta voluntaria (datos ficticios)"
        cid = create_consultation(session, settings, body, actor)["id"]
        subscribe(session, cid, {"email": "vecinos-demo@example.org", "language": "es"})
        for phase in protocol.phases[:-2]:  # up to consultiva, then into seguimiento
            if phase.notice_templates is not None:
                c = _get(session, cid)
                community = (c.communities[0]["name"] if c.communities else "Soto la Marina")
                day = (moment[0] + dt.timedelta(days=protocol.sla.notice_min_lead_days + 1))
                meeting = dt.datetime.combine(day.astimezone(sla.MEXICO_CITY_TZ).date(),
                                              dt.time(10, 0), tzinfo=sla.MEXICO_CITY_TZ)
                publish_notice(session, settings, cid, {
                    "community": community, "starts_at": meeting.isoformat(),
                    "ends_at": (meeting + dt.timedelta(hours=3)).isoformat(),
                    "place": "Salón ejidal (demostración)", "meeting_language": "Español"}, actor)
            if phase.phase_id == "informativa":
                view, _ = submit_feedback(session, settings, cid, {
                    "kind": "grievance", "category": "water_and_environment", "anonymous": True,
                    "text": "Demostración: ¿afectará el parque al pozo del ejido?"})
                row = session.scalar(select(ConsultationFeedback).where(
                    ConsultationFeedback.receipt_code == view["receipt_code"]))
                feedback_action(session, settings, cid, row.id, {
                    "action": "answer",
                    "public_answer": "Demostración: el parque no usa agua del pozo; se hará "
                                     "monitoreo trimestral."}, actor)
            if phase.phase_id == "consultiva":
                add_commitment(session, settings, cid, {
                    "kind": "mitigation", "owner": "Promovente (demostración)",
                    "description": "Monitoreo trimestral del pozo del ejido (demostración)",
                    "due_date": (moment[0] + dt.timedelta(days=180)).date().isoformat()}, actor)
            record_evidence(session, settings, cid, {
                "steps": [s.item_id for s in phase.steps],
                "artefacts": [a.item_id for a in phase.artefacts],
                "conditions": [x.item_id for x in phase.exit_conditions],
                "note": "Demostración"}, actor) if _missing_any(session, cid) else None
            moment[0] = moment[0] + dt.timedelta(days=max(phase.min_days, 1))
            change_phase(session, settings, cid,
                         {"to_phase": protocol.next_phase(phase.phase_id).phase_id}, actor)
        change_commitment(session, settings, cid, "C-1", {"status": "in_progress"}, actor)
    finally:
        me.clock = real_clock
    return {"demo_consultations": 1}


def _missing_any(session: Session, consultation_id: int) -> bool:
    c = _get(session, consultation_id)
    rows = _event_rows(session, c.id)
    protocol = _protocol(c)
    phase = protocol.phase(c.phase)
    have = _evidence(rows)
    return bool({s.item_id for s in phase.steps} - have.steps
                or {a.item_id for a in phase.artefacts} - have.artefacts
                or {x.item_id for x in phase.exit_conditions} - have.conditions)
