"""Consultation services (issue 6): the feature's public face, the shell around the pure
:mod:`consultation` domain.

Code outside this package (the REST API, the portal, the seed, the CLI, other features)
imports the consultation feature through this module only (and, in ``web``, its
:mod:`~fondo.consultation.schemas`). The functions live in modules cut by what they do:

- :mod:`~fondo.consultation.chain`: the hash-chained record, its anchor and verification;
- :mod:`~fondo.consultation.anchors`: signed heads (Ed25519, key outside the database),
  their publication and the record's full verification;
- :mod:`~fondo.consultation.communities`: the siting rule on the bundled datasets;
- :mod:`~fondo.consultation.lifecycle`: opening, communities, evidence, phases, meetings;
- :mod:`~fondo.consultation.notices`: notices, translations, posters;
- :mod:`~fondo.consultation.deliveries`: subscribers, e-mail and SMS deliveries;
- :mod:`~fondo.consultation.feedback`: submissions, receipts, SLA timers, officers' actions
  (public submissions committed in groups: :mod:`~fondo.consultation.group_commit`);
- :mod:`~fondo.consultation.commitments`: commitments and their follow-up;
- :mod:`~fondo.consultation.social_risk`: a project's social risk level;
- :mod:`~fondo.consultation.exports`: the record as JSON and PDF;
- :mod:`~fondo.consultation.safeguards`: protocol version 2's records (identification,
  consent determination, co-produced study, advice resources, languages, translators and
  interpreters, participation, results scope, negotiation) and suspensions;
- :mod:`~fondo.consultation.decisions`: a project's permits, land contracts and social impact
  assessment resolution, refused before the protocol's phase;
- :mod:`~fondo.consultation.project_status`: what the pipeline gates need
  (:func:`project_consultation_gates`);
- :mod:`~fondo.consultation.demo`: the demo consultation.

Every function takes a SQLAlchemy session (and the settings where files, mail or URLs are
involved), never commits except where it says so (:func:`deliver_notice` commits per
recipient so that a crash never sends twice, and :func:`submit_feedback_committed` commits
the submission), and returns JSON-able dicts: the REST API and
the ``fondo consultation`` commands print exactly these. Request bodies arrive loaded by
their schema in :mod:`~fondo.consultation.schemas`. The services' clock is
:func:`fondo.consultation.clock.clock` (tests replace it to move time).
"""

from __future__ import annotations

from fondo.consultation.anchors import (
    parse_published,
    publish_head,
    published_heads,
    verify_record,
)
from fondo.consultation.chain import verify_consultation
from fondo.consultation.commitments import add_commitment, change_commitment, list_commitments
from fondo.consultation.deliveries import (
    DELIVER_NOTICE_TASK,
    DELIVERY_CLAIM_STALE_MINUTES,
    claim_delivery,
    create_delivery_job,
    deliver_notice,
    list_deliveries,
    list_subscribers,
    subscribe,
)
from fondo.consultation.decisions import list_project_decisions, record_project_decision
from fondo.consultation.demo import seed_demo_consultation
from fondo.consultation.exports import record_json, record_pdf
from fondo.consultation.feedback import (
    feedback_action,
    feedback_attachment,
    feedback_by_receipt,
    list_feedback,
    public_feedback_list,
    submit_feedback,
    submit_feedback_committed,
)
from fondo.consultation.lifecycle import (
    change_communities,
    change_phase,
    create_consultation,
    get_consultation,
    list_consultations,
    record_evidence,
    record_meeting,
)
from fondo.consultation.notices import (
    add_notice_translation,
    get_notice,
    list_notices,
    poster_pdf,
    publish_notice,
)
from fondo.consultation.project_status import project_consultation_gates
from fondo.consultation.safeguards import (
    add_language_agent,
    list_language_agents,
    record_fact,
    record_identification,
    resume_consultation,
    suspend_consultation,
)
from fondo.consultation.social_risk import social_risk_for_project

__all__ = [
    "DELIVER_NOTICE_TASK",
    "DELIVERY_CLAIM_STALE_MINUTES",
    "add_commitment",
    "add_language_agent",
    "add_notice_translation",
    "change_commitment",
    "change_communities",
    "change_phase",
    "claim_delivery",
    "create_consultation",
    "create_delivery_job",
    "deliver_notice",
    "feedback_action",
    "feedback_attachment",
    "feedback_by_receipt",
    "get_consultation",
    "get_notice",
    "list_commitments",
    "list_consultations",
    "list_deliveries",
    "list_feedback",
    "list_language_agents",
    "list_project_decisions",
    "list_subscribers",
    "list_notices",
    "parse_published",
    "poster_pdf",
    "project_consultation_gates",
    "public_feedback_list",
    "publish_head",
    "publish_notice",
    "published_heads",
    "record_evidence",
    "record_fact",
    "record_identification",
    "record_json",
    "record_meeting",
    "record_pdf",
    "record_project_decision",
    "resume_consultation",
    "seed_demo_consultation",
    "social_risk_for_project",
    "submit_feedback",
    "submit_feedback_committed",
    "subscribe",
    "suspend_consultation",
    "verify_consultation",
    "verify_record",
]
