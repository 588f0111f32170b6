"""The officers' consultation desk under ``/desk``: the consultations (a new one opened from
the list), and one
consultation's page with its phase and what the protocol still needs to advance, the
feedback and grievance queue (overdue first) with its actions, commitments, notices (published
from the page) and their deliveries (sent from the page, as the API's task), the subscribers (their addresses: officers only), and the record's
verification and export.

Every page reads :mod:`fondo.consultation.service`, the module the REST API reads, and
every action is a plain HTML form (keyboard and screen-reader usable, no script needed)
whose body is loaded by the API's own request schema (:func:`fondo.request_body.load_request`)
and written as one unit of work (:func:`fondo.db.run_unit_of_work`), as the API writes
it. A refused action shows the page again with the reason next to the item, status 4xx,
and nothing stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from fondo.accounts.models import Role
from fondo.consultation import service
from fondo.consultation.schemas import (
    CommitmentStatusRequestSchema,
    ConsultationRequestSchema,
    EvidenceRequestSchema,
    FeedbackActionRequestSchema,
    MeetingRequestSchema,
    NoticeRequestSchema,
    PhaseChangeRequestSchema,
)
from fondo.db import run_unit_of_work
from fondo.errors import FondoError
from fondo.fund import projects
from fondo.jobs import launch
from fondo.request_body import load_request
from web.context import celery_app, db, settings
from web.i18n import community_timezone
from web.i18n import page_gettext as _
from web.pages import page_roles
from web.work_labels import work_label

bp = Blueprint("desk_pages", __name__, url_prefix="/desk")
bp.add_app_template_global(work_label, "work_label")

#: Actions of the queue, in the order a submission goes through them.
FEEDBACK_ACTIONS = ("acknowledge", "answer", "escalate", "close")
#: Statuses after which no action is offered.
FINAL_STATUSES = ("closed",)
#: Follow-up statuses of a commitment (``consultation.agreements.CommitmentStatus``).
COMMITMENT_STATUSES = ("pending", "in_progress", "fulfilled", "cancelled")


def queue_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The queue as officers work it: overdue first, then open items by the soonest due
    date (answer, else acknowledgement), closed last; ties by submission time."""

    def key(item: dict[str, Any]) -> tuple:
        closed = item.get("status") in FINAL_STATUSES
        due = item.get("answer_due_at") or item.get("acknowledge_due_at") or "9999"
        return (not item.get("overdue"), closed, str(due), str(item.get("submitted_at")))

    return sorted(items, key=key)


def _index(errors: dict[str, str] | None = None, status: int = 200,
           form: dict[str, str] | None = None):
    session = db()
    session.rollback()  # read what is committed (a refused action left nothing behind)
    rows = service.list_consultations(session, settings())["consultations"]
    for row in rows:
        row["overdue_count"] = service.list_feedback(session, row["id"])["overdue_count"]
    sited = [p for p in projects.list_projects(session) if p.site_id is not None]
    return render_template("desk/list.html", consultations=rows, projects=sited,
                           errors=errors or {}, form=form or {}), status


@bp.get("/")
@page_roles(Role.OFFICER)
def index():
    """Every consultation with its phase, communities and overdue submissions, and the form
    that opens one for a project's site."""
    return _index()


def consultation_body(form) -> dict[str, Any]:
    """The request of the form that opens a consultation (``POST /api/v1/consultations``):
    numbers stay text when they are not numbers, for the API's schema to refuse naming the
    field; the known indigenous localities are INEGI keys separated by spaces or commas."""
    body: dict[str, Any] = {}
    raw = form.get("project_id", "").strip()
    if raw:
        body["project_id"] = int(raw) if raw.isdigit() else raw
    raw = form.get("max_distance_km", "").strip()
    if raw:
        try:
            body["max_distance_km"] = float(raw)
        except ValueError:
            body["max_distance_km"] = raw
    keys = [k for k in re.split(r"[\s,;]+", form.get("known_indigenous_localities", "")) if k]
    if keys:
        body["known_indigenous_localities"] = keys
    return body | form_texts(form, ("override_reason",))


@bp.post("/")
@page_roles(Role.OFFICER)
def open_consultation():
    """Open a consultation (the API's service): the siting rule screens the project's site;
    a refusal (a consultation already open, a site the rule does not require one for, without
    a reason to open it anyway) is shown beside the form, nothing stored."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    actor = current_user.email
    try:
        loaded = load_request(ConsultationRequestSchema(), consultation_body(request.form))
        out = run_unit_of_work(db(), lambda s: service.create_consultation(s, settings(), loaded,
                                                                            actor))
    except FondoError as exc:
        db().rollback()
        return _index({"open": _refusal_text(exc)}, exc.status, form)
    return redirect(url_for("desk_pages.consultation", consultation_id=out["id"]), 303)


def _page(consultation_id: int, errors: dict[str, str] | None = None, status: int = 200,
          form: dict[str, str] | None = None):
    session = db()
    session.rollback()  # read what is committed (a refused action left nothing behind)
    consultation = service.get_consultation(session, settings(), consultation_id)
    feedback = service.list_feedback(session, consultation_id)
    notices = service.list_notices(session, consultation_id)["notices"]
    for notice in notices:
        notice["deliveries"] = service.list_deliveries(
            session, consultation_id, notice["id"])["deliveries"]
    context = {
        "c": consultation,
        "queue": queue_order(feedback["feedback"]),
        "overdue_count": feedback["overdue_count"],
        "commitments": service.list_commitments(session, consultation_id)["commitments"],
        "notices": notices,
        "subscribers": service.list_subscribers(session, consultation_id)["subscribers"],
        "verification": service.verify_consultation(session, consultation_id),
        "errors": errors or {},
        "form": form or {},
        "actions": FEEDBACK_ACTIONS,
        "final_statuses": FINAL_STATUSES,
        "commitment_statuses": COMMITMENT_STATUSES,
    }
    return render_template("desk/consultation.html", **context), status


@bp.get("/<int:consultation_id>")
@page_roles(Role.OFFICER)
def consultation(consultation_id: int):
    """One consultation at work."""
    return _page(consultation_id)


def _act(consultation_id: int, error_key: str, schema: Any, body: dict[str, Any],
         work: Callable[[Any, dict[str, Any]], Any], anchor: str):
    """Load ``body`` with the API's ``schema``, run ``work`` as one unit of work, then go
    back to the page (303); a refusal shows the page again with the reason (4xx)."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        loaded = load_request(schema, body)
        run_unit_of_work(db(), lambda s: work(s, loaded))
    except FondoError as exc:
        return _refused(consultation_id, error_key, exc, form)
    return redirect(url_for("desk_pages.consultation", consultation_id=consultation_id,
                            _anchor=anchor), 303)


def _refused(consultation_id: int, error_key: str, exc: FondoError,
             form: dict[str, str] | None = None):
    """The page again, nothing stored, with the refusal's reason (and the field it names)
    beside the item ``error_key``."""
    db().rollback()
    return _page(consultation_id, {error_key: _refusal_text(exc)}, exc.status, form)


def _refusal_text(exc: FondoError) -> str:
    """A refusal's reason as the page shows it, with the field it names."""
    field = f" ({exc.field})" if getattr(exc, "field", None) else ""
    return _("Not accepted: %(reason)s", reason=exc.detail) + field


def _text(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


@bp.post("/<int:consultation_id>/feedback/<int:feedback_id>")
@page_roles(Role.OFFICER)
def feedback_action(consultation_id: int, feedback_id: int):
    """Acknowledge, answer, escalate or close a submission (the API's action)."""
    body = {k: v for k, v in {"action": request.form.get("action", ""),
                              "public_answer": _text("public_answer"),
                              "officer_notes": _text("officer_notes"),
                              "reason": _text("reason")}.items() if v is not None}
    actor = current_user.email
    return _act(consultation_id, f"feedback-{feedback_id}", FeedbackActionRequestSchema(), body,
                lambda s, b: service.feedback_action(s, settings(), consultation_id,
                                                     feedback_id, b, actor),
                f"feedback-{feedback_id}")


@bp.post("/<int:consultation_id>/evidence")
@page_roles(Role.OFFICER)
def evidence(consultation_id: int):
    """Record steps done, artefacts held (minutes, reports: their reference) and
    conditions met in the current phase."""
    body: dict[str, Any] = {"steps": request.form.getlist("steps"),
                            "artefacts": request.form.getlist("artefacts"),
                            "conditions": request.form.getlist("conditions")}
    for name in ("note", "document"):
        if _text(name):
            body[name] = _text(name)
    actor = current_user.email
    return _act(consultation_id, "evidence", EvidenceRequestSchema(), body,
                lambda s, b: service.record_evidence(s, settings(), consultation_id, b, actor),
                "phase")


@bp.post("/<int:consultation_id>/phase")
@page_roles(Role.OFFICER)
def phase(consultation_id: int):
    """Move the consultation; the protocol's refusal lists what is missing."""
    body: dict[str, Any] = {"to_phase": request.form.get("to_phase", "")}
    if _text("reason"):
        body["reason"] = _text("reason")
    actor = current_user.email
    return _act(consultation_id, "phase", PhaseChangeRequestSchema(), body,
                lambda s, b: service.change_phase(s, settings(), consultation_id, b, actor),
                "phase")


#: Whole-number fields of the meeting form.
MEETING_COUNTS = ("attendance_count", "attendance_women", "attendance_men",
                  "attendance_other_or_unstated")
#: Text fields of the meeting form.
MEETING_TEXTS = ("place", "interpreter_language", "minutes_reference", "summary")


def local_datetime_text(raw: str, states: list[str]) -> str:
    """A time typed as the community's local time (a ``datetime-local`` value) as ISO-8601
    with the community's UTC offset; text that is no time stays as typed, for the API's
    schema to refuse naming the field."""
    import datetime as dt

    try:
        local = dt.datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if local.tzinfo is None:
        local = local.replace(tzinfo=community_timezone(states))
    return local.isoformat()


def _states(consultation_id: int) -> list[str]:
    """The states of the consultation's municipalities (their time zone is the community's)."""
    consultation = service.get_consultation(db(), settings(), consultation_id)
    return [m["state"] for m in consultation.get("municipalities") or []]


def form_texts(form, names: tuple[str, ...]) -> dict[str, str]:
    """The text fields ``names`` of a form, stripped; empty ones left out."""
    return {name: form.get(name).strip() for name in names if form.get(name, "").strip()}


def meeting_body(form, states: list[str]) -> dict[str, Any]:
    """The meeting request of the form: ``held_at`` typed as the community's local time
    (a ``datetime-local`` value) gets the community's UTC offset; counts stay text when
    they are not whole numbers, for the API's schema to refuse naming the field."""
    body: dict[str, Any] = {}
    raw = form.get("held_at", "").strip()
    if raw:
        body["held_at"] = local_datetime_text(raw, states)
    for name in MEETING_COUNTS:
        value = form.get(name, "").strip()
        if value:
            body[name] = int(value) if value.isdigit() else value
    return body | form_texts(form, MEETING_TEXTS)


@bp.post("/<int:consultation_id>/meetings")
@page_roles(Role.OFFICER)
def meeting(consultation_id: int):
    """Record a meeting held, with the reference of its minutes (the API's meeting)."""
    body = meeting_body(request.form, _states(consultation_id))
    actor = current_user.email
    return _act(consultation_id, "meeting", MeetingRequestSchema(), body,
                lambda s, b: service.record_meeting(s, settings(), consultation_id, b, actor),
                "meetings")


@bp.post("/<int:consultation_id>/commitments/<commitment_id>")
@page_roles(Role.OFFICER)
def commitment(consultation_id: int, commitment_id: str):
    """Follow a commitment up: its status (a reason to cancel), recorded."""
    body: dict[str, Any] = {"status": request.form.get("status", "")}
    if _text("reason"):
        body["reason"] = _text("reason")
    actor = current_user.email
    return _act(consultation_id, f"commitment-{commitment_id}", CommitmentStatusRequestSchema(),
                body, lambda s, b: service.change_commitment(s, settings(), consultation_id,
                                                             commitment_id, b, actor),
                "commitments")


#: Times of the notice form, typed as the community's local time.
NOTICE_TIMES = ("starts_at", "ends_at")
#: Text fields of the notice form.
NOTICE_TEXTS = ("community", "place", "meeting_language", "interpreter_language")


def notice_body(form, states: list[str]) -> dict[str, Any]:
    """The notice request of the form (``POST …/notices``): the meeting's start and end typed
    as the community's local time get its UTC offset; empty fields are left out, for the
    API's schema to name the one that is required."""
    body: dict[str, Any] = {}
    for name in NOTICE_TIMES:
        if form.get(name, "").strip():
            body[name] = local_datetime_text(form.get(name).strip(), states)
    return body | form_texts(form, NOTICE_TEXTS)


@bp.post("/<int:consultation_id>/notices")
@page_roles(Role.OFFICER)
def notice(consultation_id: int):
    """Publish the current phase's notice (the API's notice). Its versions in the agreed
    community languages (protocol version 2) are given through the API; without them the
    protocol's refusal is shown beside the form."""
    body = notice_body(request.form, _states(consultation_id))
    actor = current_user.email
    return _act(consultation_id, "notice", NoticeRequestSchema(), body,
                lambda s, b: service.publish_notice(s, settings(), consultation_id, b, actor),
                "notices")


@bp.post("/<int:consultation_id>/notices/<int:notice_id>/deliver")
@page_roles(Role.OFFICER)
def deliver(consultation_id: int, notice_id: int):
    """Send a notice to the subscribers: the API's delivery task (e-mail and SMS; a
    subscriber already served is skipped), then back to the notice."""
    session = db()
    try:
        job = service.create_delivery_job(session, consultation_id, notice_id, current_user.id)
        session.commit()
        launch(celery_app(), service.DELIVER_NOTICE_TASK, job, job.params)
    except FondoError as exc:
        return _refused(consultation_id, f"notice-{notice_id}", exc)
    return redirect(url_for("desk_pages.consultation", consultation_id=consultation_id,
                            _anchor=f"notice-{notice_id}"), 303)
