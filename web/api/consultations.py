"""``/api/v1/consultations``: the shared consultation protocol's REST API (issue 6).

Officer endpoints need the ``officer`` role (admins pass); public endpoints (notices,
posters, commitments, feedback submission, receipt lookup, subscription) need no account
and submissions and subscriptions are rate-limited (``RATELIMIT_PUBLIC``). Bodies are
strict JSON objects loaded by the request schemas of :mod:`fondo.consultation.schemas`
(``@blp.arguments``); a bad value is a 422 problem whose ``field`` names it. Every write
is one unit of work (:func:`fondo.db.run_unit_of_work`): the rows and their record events
are committed together or not at all, and a database that stays busy is a 503 problem
with ``Retry-After``, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, request
from marshmallow import Schema, fields
from sqlalchemy.orm import Session

from fondo.accounts.service import Role
from fondo.consultation import service
from fondo.consultation.schemas import (
    CommitmentRequestSchema,
    CommitmentStatusRequestSchema,
    CommunityChangeRequestSchema,
    ConsultationRequestSchema,
    EvidenceRequestSchema,
    FeedbackActionRequestSchema,
    FeedbackRequestSchema,
    MeetingRequestSchema,
    NoticeRequestSchema,
    PhaseChangeRequestSchema,
    SubscriptionRequestSchema,
    TranslationRequestSchema,
    location_from_form,
)
from fondo.consultation.schemas_v2 import (
    DecisionRequestSchema,
    FactRequestSchema,
    IdentificationRequestSchema,
    LanguageAgentRequestSchema,
    ResumeRequestSchema,
    SuspensionRequestSchema,
)
from fondo.db import run_unit_of_work
from fondo.jobs import job_status, launch
from fondo.request_body import load_request
from web.api.docs import Blueprint, request_json, responses_doc
from web.auth import api_user, require_role
from web.context import celery_app, db, settings
from web.extensions import RECEIPT_LOOKUP_SCOPE, limiter, receipt_lookup_limit

blp = Blueprint("consultations", __name__, url_prefix="/api/v1",
                description="Consultations under the shared Canada-Mexico protocol")

OFFICER = Role.OFFICER
T = TypeVar("T")


def public_rate_limit() -> str:
    """The configured limit of public submissions per client address."""
    return str(current_app.config.get("RATELIMIT_PUBLIC", "10 per minute"))


def _actor() -> str:
    return api_user().email


def _write(work: Callable[[Session], T]) -> T:
    """Run a write as one unit of work on the request's session: committed once, run again
    when the database is busy, and a 503 problem with ``Retry-After`` after the last try."""
    return run_unit_of_work(db(), work)


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


# --- consultations ---------------------------------------------------------------------


@blp.get("/consultations")
@require_role()
def list_consultations():
    """Every consultation with its id, project, phase and municipalities."""
    return service.list_consultations(db(), settings())


@blp.post("/consultations")
@require_role(OFFICER)
@blp.arguments(ConsultationRequestSchema)
def create_consultation(body: dict[str, Any]):
    """Open a consultation for a project whose site meets the trigger rule.

    Body: `project_id`, optional `max_distance_km` (default 10), `known_indigenous_localities`,
    `override_reason`. 409 when the rule does not require one (without override) or one is
    already open.
    """
    actor = _actor()
    out = _write(lambda s: service.create_consultation(s, settings(), body, actor))
    return out, 201, {"Location": f"/api/v1/consultations/{out['id']}"}


@blp.get("/consultations/<int:consultation_id>")
@require_role()
def get_consultation(consultation_id: int):
    """A consultation: phase, history, what the next phase still needs, communities, risk."""
    return service.get_consultation(db(), settings(), consultation_id)


@blp.post("/consultations/<int:consultation_id>/communities")
@require_role(OFFICER)
@blp.arguments(CommunityChangeRequestSchema)
def change_communities(body: dict[str, Any], consultation_id: int):
    """Add or remove a community (`action`, `cvegeo`, `reason`; the reason is recorded)."""
    actor = _actor()
    out = _write(lambda s: service.change_communities(s, settings(), consultation_id, body, actor))
    return out


@blp.post("/consultations/<int:consultation_id>/evidence")
@require_role(OFFICER)
@blp.arguments(EvidenceRequestSchema)
def record_evidence(body: dict[str, Any], consultation_id: int):
    """Record `steps`, `artefacts`, `conditions` of the current phase (and, in consultiva,
    the `community_position`)."""
    actor = _actor()
    out = _write(lambda s: service.record_evidence(s, settings(), consultation_id, body, actor))
    return out


@blp.post("/consultations/<int:consultation_id>/phase")
@require_role(OFFICER)
@blp.arguments(PhaseChangeRequestSchema)
def change_phase(body: dict[str, Any], consultation_id: int):
    """Move to `to_phase` (with `reason` for a return); 409 lists what is missing."""
    actor = _actor()
    out = _write(lambda s: service.change_phase(s, settings(), consultation_id, body, actor))
    return out


@blp.post("/consultations/<int:consultation_id>/meetings")
@require_role(OFFICER)
@blp.arguments(MeetingRequestSchema)
def record_meeting(body: dict[str, Any], consultation_id: int):
    """Record a meeting held (`held_at`, `place`, `attendance_count`, …)."""
    actor = _actor()
    out = _write(lambda s: service.record_meeting(s, settings(), consultation_id, body, actor))
    return out, 201


@blp.get("/consultations/<int:consultation_id>/social-risk")
@require_role()
def consultation_social_risk(consultation_id: int):
    """Social risk of the consultation's project."""
    c = service.get_consultation(db(), settings(), consultation_id)
    return service.social_risk_for_project(db(), settings(), c["project_id"])


@blp.get("/projects/<int:project_id>/social-risk")
@require_role()
def project_social_risk(project_id: int):
    """A project's `social_risk` level (low, medium, high, critical) and its inputs."""
    return service.social_risk_for_project(db(), settings(), project_id)


# --- record ----------------------------------------------------------------------------


@blp.get("/consultations/<int:consultation_id>/verify")
@require_role(OFFICER)
def verify(consultation_id: int):
    """Check the hash chain, its anchor and every signed head; names the first broken event
    when it fails (after a rewrite below a signed head: the first event after the last good
    signed head)."""
    return service.verify_record(db(), settings(), consultation_id)


@blp.get("/consultations/<int:consultation_id>/anchors")
def anchors(consultation_id: int):
    """The record's signed heads and the Ed25519 public key that signs them (public).

    Signs the current head first if it moved since the last one. Each head carries the
    exact text signed (`signed_message`), so any Ed25519 tool can check it.
    """
    session = db()
    out = service.published_heads(session, settings(), consultation_id)
    session.commit()
    return out


@blp.get("/consultations/<int:consultation_id>/record.json")
@require_role(OFFICER)
def record_json(consultation_id: int):
    """The whole record (every event, with hashes) and its verification."""
    return service.record_json(db(), settings(), consultation_id)


@blp.get("/consultations/<int:consultation_id>/record.pdf")
@require_role(OFFICER)
def record_pdf(consultation_id: int):
    """The whole record as a PDF for auditors and courts."""
    return _pdf(service.record_pdf(db(), settings(), consultation_id),
                f"consulta-{consultation_id}-registro.pdf")


# --- notices ---------------------------------------------------------------------------


@blp.get("/consultations/<int:consultation_id>/notices")
def list_notices(consultation_id: int):
    """Published notices (public)."""
    return service.list_notices(db(), consultation_id)


@blp.post("/consultations/<int:consultation_id>/notices")
@require_role(OFFICER)
@blp.arguments(NoticeRequestSchema)
def publish_notice(body: dict[str, Any], consultation_id: int):
    """Publish the current phase's notice in Spanish and English (`community`, `starts_at`,
    `ends_at`, `place`, `meeting_language`, `interpreter_language`)."""
    actor = _actor()
    out = _write(lambda s: service.publish_notice(s, settings(), consultation_id, body, actor))
    return out, 201


@blp.get("/consultations/<int:consultation_id>/notices/<int:notice_id>")
def get_notice(consultation_id: int, notice_id: int):
    """One published notice (public)."""
    return service.get_notice(db(), consultation_id, notice_id)


@blp.post("/consultations/<int:consultation_id>/notices/<int:notice_id>/translations")
@require_role(OFFICER)
@blp.arguments(TranslationRequestSchema)
def add_translation(body: dict[str, Any], consultation_id: int, notice_id: int):
    """Attach a translation in the community's language (`language_name`, `language_code`,
    `title`, `body`, `translated_by`)."""
    actor = _actor()
    out = _write(lambda s: service.add_notice_translation(s, settings(), consultation_id,
                                                          notice_id, body, actor))
    return out, 201


@blp.get("/consultations/<int:consultation_id>/notices/<int:notice_id>/poster.pdf")
def poster(consultation_id: int, notice_id: int):
    """Printable PDF poster (date, time, place, language, QR code to the portal); `?lang=es|en`."""
    lang = request.args.get("lang", "es")
    return _pdf(service.poster_pdf(db(), settings(), consultation_id, notice_id, lang),
                f"aviso-{notice_id}-{lang}.pdf")


@blp.post("/consultations/<int:consultation_id>/notices/<int:notice_id>/deliver")
@require_role(OFFICER)
def deliver(consultation_id: int, notice_id: int):
    """E-mail the notice to subscribers and queue SMS, as a task (202; follow `Location`)."""
    session = db()
    job = service.create_delivery_job(session, consultation_id, notice_id, api_user().id)
    session.commit()
    launch(celery_app(), service.DELIVER_NOTICE_TASK, job, job.params)
    session.refresh(job)
    return job_status(job), 202, {"Location": f"/api/v1/tasks/{job.id}"}


@blp.get("/consultations/<int:consultation_id>/notices/<int:notice_id>/deliveries")
@require_role(OFFICER)
def deliveries(consultation_id: int, notice_id: int):
    """Each delivery of the notice (addresses shown to officers only)."""
    return service.list_deliveries(db(), consultation_id, notice_id)


class SubscriberSchema(Schema):
    """A subscriber to a consultation's notices (personal data: officers only)."""

    id = fields.Integer()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    language = fields.String(metadata={"description": "Language of the notices it receives."})
    channels = fields.List(fields.String(), metadata={
        "description": "What a delivery uses: `email` (SMTP), `sms` (the outbox)."})
    created_at = fields.String(metadata={"description": "ISO-8601 UTC, when it subscribed."})
    is_demo = fields.Boolean()


class SubscriberListSchema(Schema):
    """A consultation's subscribers, newest first."""

    consultation_id = fields.Integer()
    subscriber_count = fields.Integer()
    subscribers = fields.List(fields.Nested(SubscriberSchema))


@blp.get("/consultations/<int:consultation_id>/subscribers")
@require_role(OFFICER)
@blp.doc(**responses_doc(200, SubscriberListSchema, "The subscribers, newest first."))
def list_subscribers(consultation_id: int):
    """Who receives the notices: `email`, `phone`, `language`, `channels`, `created_at`,
    newest first (officers and admins only: community members' personal data)."""
    return service.list_subscribers(db(), consultation_id)


@blp.post("/consultations/<int:consultation_id>/subscribers")
@limiter.limit(public_rate_limit)
@blp.arguments(SubscriptionRequestSchema)
def subscribe(body: dict[str, Any], consultation_id: int):
    """Subscribe an `email` and/or `phone` to the notices (public; same answer either way)."""
    out = _write(lambda s: service.subscribe(s, consultation_id, body))
    return out, 201


# --- feedback and grievances -----------------------------------------------------------


#: The multipart form of a submission: the JSON body's fields as form fields, with the
#: location as ``latitude``/``longitude`` and the attachment as a file.
_SUBMISSION_FORM = {
    "type": "object",
    "required": ["kind", "category", "text"],
    "properties": {
        **{name: {"type": "string"} for name in (
            "kind", "category", "text", "language", "anonymous", "name", "email", "phone",
            "latitude", "longitude", "client_token")},
        "attachment": {"type": "string", "format": "binary"},
    },
}


def _submission() -> tuple[dict[str, Any], tuple[str, bytes, str | None] | None]:
    """The submission (loaded by its schema) and a multipart form's attached file."""
    if request.mimetype != "multipart/form-data":
        return load_request(FeedbackRequestSchema(), request_json()), None
    body: dict[str, Any] = {k: v for k, v in request.form.items() if v != ""}
    body["anonymous"] = body.get("anonymous") in ("1", "true", "on", "yes")
    if "latitude" in body or "longitude" in body:
        body["location"] = location_from_form(body.pop("latitude", None),
                                              body.pop("longitude", None))
    upload = request.files.get("attachment")
    attachment = None
    if upload is not None and upload.filename:
        attachment = (upload.filename, upload.read(), upload.mimetype or None)
    return load_request(FeedbackRequestSchema(), body), attachment


@blp.post("/consultations/<int:consultation_id>/feedback")
@limiter.limit(public_rate_limit)
@blp.doc(requestBody={"required": True, "description": "The submission, as JSON or a form.",
                      "content": {"application/json": {"schema": FeedbackRequestSchema},
                                  "multipart/form-data": {"schema": _SUBMISSION_FORM}}})
def submit_feedback(consultation_id: int):
    """Submit feedback or a grievance without an account; returns the receipt code.

    JSON (or multipart with an `attachment` file): `kind`, `category`, `text`, optional
    `language`, `anonymous`, `name`, `email`, `phone`, `location`, `client_token`,
    `attachment` {filename, content_type, content_base64}. The same `client_token` twice
    stores once (200 the second time). Both forms are loaded by the same schema; a bad
    value is a 422 problem naming the field.
    """
    body, attachment = _submission()
    out, created = service.submit_feedback_committed(db(), settings(), consultation_id, body,
                                                     attachment)
    return out, (201 if created else 200)


@blp.get("/feedback/<code>")
@limiter.shared_limit(receipt_lookup_limit, scope=RECEIPT_LOOKUP_SCOPE)
def feedback_by_receipt(code: str):
    """Status and public answer of a submission, for anyone holding its receipt code.

    Rate-limited per client address together with the portal's lookup page
    (``RATELIMIT_RECEIPT_LOOKUP``; 429 problem past it)."""
    return service.feedback_by_receipt(db(), code)


@blp.get("/consultations/<int:consultation_id>/feedback")
@require_role(OFFICER)
def list_feedback(consultation_id: int):
    """Every submission with contact details and SLA timers; overdue items flagged."""
    return service.list_feedback(db(), consultation_id)


@blp.post("/consultations/<int:consultation_id>/feedback/<int:feedback_id>/actions")
@require_role(OFFICER)
@blp.arguments(FeedbackActionRequestSchema)
def feedback_action(body: dict[str, Any], consultation_id: int, feedback_id: int):
    """Triage: `action` acknowledge | answer | escalate | close (+ `public_answer`,
    `officer_notes`, `reason`)."""
    actor = _actor()
    out = _write(lambda s: service.feedback_action(s, settings(), consultation_id, feedback_id,
                                                   body, actor))
    return out


@blp.get("/consultations/<int:consultation_id>/feedback/<int:feedback_id>/attachment")
@require_role(OFFICER)
def feedback_attachment(consultation_id: int, feedback_id: int):
    """The attachment of a submission (officers only; served as a download)."""
    filename, mime, data = service.feedback_attachment(db(), consultation_id, feedback_id)
    return Response(data, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- commitments -----------------------------------------------------------------------


@blp.get("/consultations/<int:consultation_id>/commitments")
def list_commitments(consultation_id: int):
    """Public status of the commitments, with a `late` flag."""
    return service.list_commitments(db(), consultation_id)


@blp.post("/consultations/<int:consultation_id>/commitments")
@require_role(OFFICER)
@blp.arguments(CommitmentRequestSchema)
def add_commitment(body: dict[str, Any], consultation_id: int):
    """Record a commitment (`kind`, `description`, `owner`, `due_date`, `amount_mxn`)."""
    actor = _actor()
    out = _write(lambda s: service.add_commitment(s, settings(), consultation_id, body, actor))
    return out, 201


@blp.post("/consultations/<int:consultation_id>/commitments/<commitment_id>/status")
@require_role(OFFICER)
@blp.arguments(CommitmentStatusRequestSchema)
def change_commitment(body: dict[str, Any], consultation_id: int, commitment_id: str):
    """Follow-up: `status` pending | in_progress | fulfilled | cancelled (+ `reason`)."""
    actor = _actor()
    out = _write(lambda s: service.change_commitment(s, settings(), consultation_id,
                                                     commitment_id, body, actor))
    return out


# --- protocol version 2 (issue 13) -------------------------------------------------------


@blp.post("/consultations/<int:consultation_id>/identification")
@require_role(OFFICER)
@blp.arguments(IdentificationRequestSchema)
def record_identification(body: dict[str, Any], consultation_id: int):
    """Record the locality-level identification (trigger "identification required"): `outcome`,
    `methods`, `evidence`, `decided_by`, `reason`, `localities`. Clearing needs a field visit and
    a documentary source, and never clears a site the trigger says requires consultation."""
    actor = _actor()
    return _write(lambda s: service.record_identification(s, settings(), consultation_id, body,
                                                          actor)), 201


@blp.post("/consultations/<int:consultation_id>/records")
@require_role(OFFICER)
@blp.arguments(FactRequestSchema)
def record_fact(body: dict[str, Any], consultation_id: int):
    """Record one of version 2's records (`kind`: fpic_determination, study_coproduction,
    advice_resources, languages, participation, results_scope, negotiation; fields by kind)."""
    actor = _actor()
    return _write(lambda s: service.record_fact(s, settings(), consultation_id, body, actor)), 201


@blp.get("/consultations/<int:consultation_id>/language-agents")
@require_role(OFFICER)
def list_language_agents(consultation_id: int):
    """Translators and interpreters the community accepted, with their names (officers only)."""
    return service.list_language_agents(db(), consultation_id)


@blp.post("/consultations/<int:consultation_id>/language-agents")
@require_role(OFFICER)
@blp.arguments(LanguageAgentRequestSchema)
def add_language_agent(body: dict[str, Any], consultation_id: int):
    """Record a translator or interpreter the community accepted, for an agreed language."""
    actor = _actor()
    return _write(lambda s: service.add_language_agent(s, settings(), consultation_id, body,
                                                       actor)), 201


@blp.post("/consultations/<int:consultation_id>/suspension")
@require_role(OFFICER)
@blp.arguments(SuspensionRequestSchema)
def suspend_consultation(body: dict[str, Any], consultation_id: int):
    """Suspend (`kind`: court_suspension, coercion_report, electoral_blackout; `reason`): the
    phase and every clock stop until it resumes."""
    actor = _actor()
    return _write(lambda s: service.suspend_consultation(s, settings(), consultation_id, body,
                                                         actor))


@blp.post("/consultations/<int:consultation_id>/resumption")
@require_role(OFFICER)
@blp.arguments(ResumeRequestSchema)
def resume_consultation(body: dict[str, Any], consultation_id: int):
    """Resume a suspended consultation (`reason`); the clocks restart where they stopped."""
    actor = _actor()
    return _write(lambda s: service.resume_consultation(s, settings(), consultation_id, body,
                                                        actor))


@blp.get("/projects/<int:project_id>/consultation-gates")
@require_role()
def project_consultation_gates(project_id: int):
    """What the pipeline gates need: `requirement`, `identification_pending`, `consultation_id`,
    `state`, `agreement_reached`, `consent_withheld`, `overdue_grievances`,
    `premature_decisions`, `financial_close_allowed_by_protocol`."""
    return service.project_consultation_gates(db(), project_id, settings())


@blp.get("/projects/<int:project_id>/decisions")
@require_role()
def list_project_decisions(project_id: int):
    """A project's permits, land contracts and SIA resolution, oldest first."""
    return service.list_project_decisions(db(), settings(), project_id)


@blp.post("/projects/<int:project_id>/decisions")
@require_role(OFFICER)
@blp.arguments(DecisionRequestSchema)
def record_project_decision(body: dict[str, Any], project_id: int):
    """Record a permit, land contract or SIA resolution with its date; 409 before the phase
    the protocol allows (give `premature_reason` only to record one already taken: it then
    shows as premature in the gates)."""
    actor = _actor()
    return _write(lambda s: service.record_project_decision(s, settings(), project_id, body,
                                                            actor)), 201
