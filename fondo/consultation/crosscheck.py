"""The working tables against the record: every chained row must have its event.

A chained write stores a row and its event in one transaction (:mod:`fondo.consultation.chain`),
so a row that the chain does not record is a write that went around the record (a raw
``INSERT``, an old bug, a restore of one table). :func:`unrecorded_rows` replays the events
of a consultation and compares what they say with the rows:

=============================  ==============================================================
table                          must agree with
=============================  ==============================================================
``consultations``              ``phase``: the last ``consultation_opened``/``phase_changed``;
                               ``communities``: the opening's list plus ``community_added``
                               and minus ``community_removed``
``consultation_feedback``      a ``feedback_received`` event with its ``feedback_id``; its
                               ``status``: that of the last ``feedback_*`` event about it
``consultation_notices``       a ``notice_published`` event with its ``notice_id``; as many
                               ``translation_added`` events as it has translations
``consultation_deliveries``    once sent, queued or failed: the ``status`` of the last
                               ``notice_delivered`` event with its ``delivery_id`` (a claim,
                               ``sending``, is not a delivery yet)
``consultation_commitments``   a ``commitment_recorded`` event with its code; its ``status``:
                               the last ``commitment_status_changed`` (else ``pending``)
``consultation_language_       a ``language_agent_accepted`` event with its ``agent_id``, the
agents``                       SHA-256 of its name, its role, language and variant
``project_decisions``          (those of this consultation) a ``project_decision_recorded``
                               event with its ``decision_id``, kind and date
=============================  ==============================================================
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import record as rec
from fondo.consultation.models import (
    Consultation,
    ConsultationCommitment,
    ConsultationDelivery,
    ConsultationFeedback,
    ConsultationLanguageAgent,
    ConsultationNotice,
    ProjectDecision,
)

K = rec.EventKind
#: Events that tell a submission's status (the receipt, then each officer's action).
FEEDBACK_EVENTS = {K.FEEDBACK_RECEIVED.value, K.FEEDBACK_ACKNOWLEDGED.value,
                   K.FEEDBACK_ANSWERED.value, K.FEEDBACK_ESCALATED.value,
                   K.FEEDBACK_CLOSED.value}
#: Delivery statuses that the record holds (``sending`` is a claim before the send).
RECORDED_DELIVERY_STATUSES = ("sent", "queued", "failed")
#: Status of a commitment that no status change followed.
INITIAL_COMMITMENT_STATUS = "pending"


class _Replay:
    """What the events say about the rows, in the order they were appended."""

    def __init__(self, rows: list[dict]):
        self.phase: str | None = None
        self.communities: set[str] = set()
        self.feedback: dict[Any, str | None] = {}
        self.notices: set[Any] = set()
        self.translations: Counter = Counter()
        self.deliveries: dict[Any, str | None] = {}
        self.commitments: dict[str, str] = {}
        for r in rows:
            payload = r["payload"] if isinstance(r["payload"], dict) else {}
            self._apply(r["kind"], payload)

    def _apply(self, kind: str, p: dict) -> None:
        if kind == K.CONSULTATION_OPENED.value:
            self.phase = p.get("phase")
            self.communities = {c.get("cvegeo") for c in p.get("communities") or []
                                if isinstance(c, dict)}
        elif kind == K.PHASE_CHANGED.value:
            self.phase = p.get("to")
        elif kind == K.COMMUNITY_ADDED.value:
            self.communities.add(p.get("cvegeo"))
        elif kind == K.COMMUNITY_REMOVED.value:
            self.communities.discard(p.get("cvegeo"))
        elif kind in FEEDBACK_EVENTS and "feedback_id" in p:
            self.feedback[p["feedback_id"]] = p.get("status")
        elif kind == K.NOTICE_PUBLISHED.value:
            self.notices.add(p.get("notice_id"))
        elif kind == K.TRANSLATION_ADDED.value:
            self.translations[p.get("notice_id")] += 1
        elif kind == K.NOTICE_DELIVERED.value:
            self.deliveries[p.get("delivery_id")] = p.get("status")
        elif kind == K.COMMITMENT_RECORDED.value:
            self.commitments[str(p.get("commitment_id"))] = INITIAL_COMMITMENT_STATUS
        elif kind == K.COMMITMENT_STATUS_CHANGED.value:
            self.commitments[str(p.get("commitment_id"))] = p.get("to")


def unrecorded_rows(session: Session, consultation: Consultation,
                    rows: list[dict]) -> list[dict[str, Any]]:
    """Rows of the consultation's working tables that its events (``rows``, in chain order)
    do not record, each as ``{"table", "id", "problem"}``, table by table, oldest first."""
    said = _Replay(rows)
    cid = consultation.id
    out: list[dict[str, Any]] = []

    def add(table: str, row_id: Any, problem: str) -> None:
        out.append({"table": table, "id": row_id, "problem": problem})

    if said.phase is not None and consultation.phase != said.phase:
        add("consultations", cid, f"phase {consultation.phase!r} but the record says "
                                  f"{said.phase!r}")
    stored = {c.get("cvegeo") for c in consultation.communities or [] if isinstance(c, dict)}
    if rows and stored != said.communities:
        differ = ", ".join(sorted(map(str, stored ^ said.communities)))
        add("consultations", cid, f"communities {differ} differ from the record")
    for f in session.scalars(select(ConsultationFeedback).where(
            ConsultationFeedback.consultation_id == cid).order_by(ConsultationFeedback.id)):
        if f.id not in said.feedback:
            add("consultation_feedback", f.id, f"no {K.FEEDBACK_RECEIVED.value} event")
        elif said.feedback[f.id] != f.status:
            add("consultation_feedback", f.id, f"status {f.status!r} but the record's last "
                                               f"event says {said.feedback[f.id]!r}")
    for n in session.scalars(select(ConsultationNotice).where(
            ConsultationNotice.consultation_id == cid).order_by(ConsultationNotice.id)):
        if n.id not in said.notices:
            add("consultation_notices", n.id, f"no {K.NOTICE_PUBLISHED.value} event")
        elif len(n.translations or []) != said.translations[n.id]:
            add("consultation_notices", n.id,
                f"{len(n.translations or [])} translation(s) but the record has "
                f"{said.translations[n.id]} {K.TRANSLATION_ADDED.value} event(s)")
    for d in session.scalars(select(ConsultationDelivery).where(
            ConsultationDelivery.consultation_id == cid,
            ConsultationDelivery.status.in_(RECORDED_DELIVERY_STATUSES))
            .order_by(ConsultationDelivery.id)):
        if d.id not in said.deliveries:
            add("consultation_deliveries", d.id, f"no {K.NOTICE_DELIVERED.value} event")
        elif said.deliveries[d.id] != d.status:
            add("consultation_deliveries", d.id, f"status {d.status!r} but the record's last "
                                                 f"event says {said.deliveries[d.id]!r}")
    for c in session.scalars(select(ConsultationCommitment).where(
            ConsultationCommitment.consultation_id == cid).order_by(ConsultationCommitment.id)):
        if c.commitment_code not in said.commitments:
            add("consultation_commitments", c.id,
                f"no {K.COMMITMENT_RECORDED.value} event for {c.commitment_code}")
        elif said.commitments[c.commitment_code] != c.status:
            add("consultation_commitments", c.id,
                f"status {c.status!r} but the record says {said.commitments[c.commitment_code]!r}")
    _v2_rows(session, cid, rows, add)
    return out


def _v2_rows(session: Session, cid: int, rows: list[dict], add) -> None:
    """Protocol version 2's tables: language agents and project decisions (issue 13)."""
    agents = {r["payload"].get("agent_id"): r["payload"] for r in rows
              if r["kind"] == "language_agent_accepted"}
    for a in session.scalars(select(ConsultationLanguageAgent).where(
            ConsultationLanguageAgent.consultation_id == cid).order_by(ConsultationLanguageAgent.id)):
        said = agents.get(a.id)
        name_sha = hashlib.sha256(a.name.encode("utf-8")).hexdigest()
        if said is None:
            add("consultation_language_agents", a.id, "no language_agent_accepted event")
        elif (said.get("name_sha256"), said.get("role"), said.get("language"),
              said.get("variant")) != (name_sha, a.role, a.language, a.variant):
            add("consultation_language_agents", a.id, "name, role or language differ from the "
                                                      "record")
    decisions = {r["payload"].get("decision_id"): r["payload"] for r in rows
                 if r["kind"] == "project_decision_recorded"}
    for d in session.scalars(select(ProjectDecision).where(
            ProjectDecision.consultation_id == cid).order_by(ProjectDecision.id)):
        said = decisions.get(d.id)
        if said is None:
            add("project_decisions", d.id, "no project_decision_recorded event")
        elif (said.get("kind"), said.get("decision_date")) != (d.kind, d.decision_date.isoformat()):
            add("project_decisions", d.id, "kind or date differ from the record")
