"""``fondo consultation …``: the consultation API from the command line (same JSON in and out).

A command that takes a body (``--input FILE``, ``-`` for standard input) reads it as strict
JSON and loads it with the same schema as the REST endpoint it mirrors
(:mod:`fondo.consultation.schemas`), so a bad value fails the same way, naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from marshmallow import Schema

from fondo.commands import (
    DATABASE_ID,
    echo_json,
    handle_errors,
    needs_database,
    read_json_input,
    settings_from,
)
from fondo.consultation import service as s
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
)
from fondo.consultation.schemas_v2 import (
    DecisionRequestSchema,
    FactRequestSchema,
    IdentificationRequestSchema,
    LanguageAgentRequestSchema,
    ResumeRequestSchema,
    SuspensionRequestSchema,
)
from fondo.db import run_unit_of_work, session_scope
from fondo.request_body import load_request


def _run(ctx: click.Context, fn: Callable, *args: Any, commit: bool = True) -> Any:
    """``fn(session, settings, *args)``; with ``commit``, as one unit of work (committed once,
    run again while the database is busy, then a one-line error)."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        if commit:
            return run_unit_of_work(session, lambda ses: fn(ses, settings, *args))
        out = fn(session, settings, *args)
        session.rollback()
    return out


def _body(input_path: str, schema: Schema) -> Any:
    """The request in ``input_path`` (strict JSON), loaded by ``schema``."""
    return load_request(schema, read_json_input(input_path))


_input = click.option("--input", "input_path", required=True, type=str,
                      help="JSON file with the request body ('-' for standard input).")
_by = click.option("--by", "actor", default="cli", show_default=True,
                   help="Who acts (recorded in the consultation's record).")


@click.group("consultation")
def consultation() -> None:
    """Consultations under the shared Canada-Mexico protocol."""


@consultation.command("list")
@click.pass_context
@handle_errors
@needs_database
def list_(ctx):
    """Print the consultations as JSON with their ids."""
    echo_json(_run(ctx, s.list_consultations, commit=False))


@consultation.command("show")
@click.argument("consultation_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def show(ctx, consultation_id):
    """One consultation (as GET /api/v1/consultations/ID)."""
    echo_json(_run(ctx, s.get_consultation, consultation_id, commit=False))


@consultation.command("create")
@_input
@_by
@click.pass_context
@handle_errors
@needs_database
def create(ctx, input_path, actor):
    """Open a consultation (body as POST /api/v1/consultations)."""
    body = _body(input_path, ConsultationRequestSchema())
    echo_json(_run(ctx, lambda ses, st: s.create_consultation(ses, st, body, actor)))


def _officer_command(name: str, service: Callable, schema: type[Schema], doc: str,
                     ) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("consultation_id", type=DATABASE_ID)
    @_input
    @_by
    @click.pass_context
    @handle_errors
    @needs_database
    def command(ctx, consultation_id, input_path, actor):
        body = _body(input_path, schema())
        echo_json(_run(ctx, lambda ses, st: service(ses, st, consultation_id, body, actor)))

    return command


for _name, _service, _schema, _doc in (
    ("communities", s.change_communities, CommunityChangeRequestSchema,
     "Add or remove a community (as POST …/communities)."),
    ("evidence", s.record_evidence, EvidenceRequestSchema,
     "Record steps, artefacts, conditions (as POST …/evidence)."),
    ("phase", s.change_phase, PhaseChangeRequestSchema,
     "Move the phase (as POST …/phase); refusal lists what is missing."),
    ("meeting", s.record_meeting, MeetingRequestSchema, "Record a meeting held (as POST …/meetings)."),
    ("notice", s.publish_notice, NoticeRequestSchema,
     "Publish the current phase's notice (as POST …/notices)."),
    ("commitment-add", s.add_commitment, CommitmentRequestSchema,
     "Record a commitment (as POST …/commitments)."),
    ("identify", s.record_identification, IdentificationRequestSchema,
     "Record the locality-level identification (as POST …/identification)."),
    ("record-add", s.record_fact, FactRequestSchema,
     "Record one of protocol version 2's records by kind (as POST …/records)."),
    ("language-agent", s.add_language_agent, LanguageAgentRequestSchema,
     "Record a translator or interpreter the community accepted (as POST …/language-agents)."),
    ("suspend", s.suspend_consultation, SuspensionRequestSchema,
     "Suspend: the phase and every clock stop (as POST …/suspension)."),
    ("resume", s.resume_consultation, ResumeRequestSchema,
     "Resume a suspended consultation (as POST …/resumption)."),
):
    consultation.add_command(_officer_command(_name, _service, _schema, _doc))


@consultation.command("translation")
@click.argument("consultation_id", type=DATABASE_ID)
@click.argument("notice_id", type=DATABASE_ID)
@_input
@_by
@click.pass_context
@handle_errors
@needs_database
def translation(ctx, consultation_id, notice_id, input_path, actor):
    """Attach a translation to a notice (as POST …/notices/NID/translations)."""
    body = _body(input_path, TranslationRequestSchema())
    echo_json(_run(ctx, lambda ses, st: s.add_notice_translation(ses, st, consultation_id,
                                                                 notice_id, body, actor)))


@consultation.command("deliver")
@click.argument("consultation_id", type=DATABASE_ID)
@click.argument("notice_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def deliver(ctx, consultation_id, notice_id):
    """E-mail a notice to subscribers and queue SMS, here and now (prints the counts)."""
    echo_json(_run(ctx, lambda ses, st: s.deliver_notice(ses, st, consultation_id, notice_id)))


@consultation.command("poster")
@click.argument("consultation_id", type=DATABASE_ID)
@click.argument("notice_id", type=DATABASE_ID)
@click.option("--lang", default="es", type=click.Choice(["es", "en"]), show_default=True)
@click.option("--output", required=True, type=click.Path(dir_okay=False))
@click.pass_context
@handle_errors
@needs_database
def poster(ctx, consultation_id, notice_id, lang, output):
    """Write the notice's printable PDF poster to OUTPUT (with the record's signed head,
    signed and kept now if the head moved)."""
    data = _run(ctx, lambda ses, st: s.poster_pdf(ses, st, consultation_id, notice_id, lang))
    Path(output).write_bytes(data)
    echo_json({"output": output, "bytes": len(data)})


@consultation.command("subscribe")
@click.argument("consultation_id", type=DATABASE_ID)
@_input
@click.pass_context
@handle_errors
@needs_database
def subscribe(ctx, consultation_id, input_path):
    """Subscribe an e-mail/phone to the notices (as POST …/subscribers)."""
    body = _body(input_path, SubscriptionRequestSchema())
    echo_json(_run(ctx, lambda ses, st: s.subscribe(ses, consultation_id, body)))


@consultation.command("subscribers")
@click.argument("consultation_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def subscribers(ctx, consultation_id):
    """Who receives the notices, with their addresses, newest first (as GET …/subscribers)."""
    echo_json(_run(ctx, lambda ses, st: s.list_subscribers(ses, consultation_id), commit=False))


@consultation.command("submit")
@click.argument("consultation_id", type=DATABASE_ID)
@_input
@click.pass_context
@handle_errors
@needs_database
def submit(ctx, consultation_id, input_path):
    """Submit feedback or a grievance (as POST …/feedback); prints the receipt."""
    body = _body(input_path, FeedbackRequestSchema())
    echo_json(_run(ctx, lambda ses, st: s.submit_feedback(ses, st, consultation_id, body)[0]))


@consultation.command("receipt")
@click.argument("code")
@click.pass_context
@handle_errors
@needs_database
def receipt(ctx, code):
    """Status and public answer of a submission (as GET /api/v1/feedback/CODE)."""
    echo_json(_run(ctx, lambda ses, st: s.feedback_by_receipt(ses, code), commit=False))


@consultation.command("feedback")
@click.argument("consultation_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def feedback(ctx, consultation_id):
    """Every submission with contact details and SLA timers (as GET …/feedback)."""
    echo_json(_run(ctx, lambda ses, st: s.list_feedback(ses, consultation_id), commit=False))


@consultation.command("feedback-action")
@click.argument("consultation_id", type=DATABASE_ID)
@click.argument("feedback_id", type=DATABASE_ID)
@_input
@_by
@click.pass_context
@handle_errors
@needs_database
def feedback_action(ctx, consultation_id, feedback_id, input_path, actor):
    """Acknowledge, answer, escalate or close a submission (as POST …/feedback/FID/actions)."""
    body = _body(input_path, FeedbackActionRequestSchema())
    echo_json(_run(ctx, lambda ses, st: s.feedback_action(ses, st, consultation_id, feedback_id,
                                                          body, actor)))


@consultation.command("commitments")
@click.argument("consultation_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def commitments(ctx, consultation_id):
    """Public status of the commitments (as GET …/commitments)."""
    echo_json(_run(ctx, lambda ses, st: s.list_commitments(ses, consultation_id), commit=False))


@consultation.command("commitment-status")
@click.argument("consultation_id", type=DATABASE_ID)
@click.argument("commitment_id")
@_input
@_by
@click.pass_context
@handle_errors
@needs_database
def commitment_status(ctx, consultation_id, commitment_id, input_path, actor):
    """Change a commitment's status (as POST …/commitments/CID/status)."""
    body = _body(input_path, CommitmentStatusRequestSchema())
    echo_json(_run(ctx, lambda ses, st: s.change_commitment(ses, st, consultation_id,
                                                            commitment_id, body, actor)))


@consultation.command("social-risk")
@click.argument("project_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def social_risk(ctx, project_id):
    """A project's social risk (as GET /api/v1/projects/ID/social-risk)."""
    echo_json(_run(ctx, lambda ses, st: s.social_risk_for_project(ses, st, project_id),
                   commit=False))


@consultation.command("verify")
@click.argument("consultation_id", type=DATABASE_ID)
@click.option("--anchors", "anchors_path", default=None, type=str,
              help="JSON file of published signed heads to check too (one head, a list, or "
                   "the answer of GET …/anchors; '-' for standard input).")
@click.pass_context
@handle_errors
@needs_database
def verify(ctx, consultation_id, anchors_path):
    """Check the record (hash chain, anchor, every signed head); exit 1 naming the first
    broken event."""
    published = s.parse_published(read_json_input(anchors_path)) if anchors_path else []
    out = _run(ctx, lambda ses, st: s.verify_record(ses, st, consultation_id, published),
               commit=False)
    echo_json(out)
    if not out["ok"]:
        where = (f"is broken at event seq {out['first_broken_seq']}"
                 if out["first_broken_seq"] is not None else "fails its check")
        click.echo(f"error: record of consultation {consultation_id} {where}: {out['reason']}",
                   err=True)
        raise SystemExit(1)


@consultation.command("anchors")
@click.argument("consultation_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def anchors(ctx, consultation_id):
    """The anchor public key and every signed head (as GET …/anchors; signs the head if it
    moved)."""
    echo_json(_run(ctx, lambda ses, st: s.published_heads(ses, st, consultation_id, "cli")))


@consultation.command("record")
@click.argument("consultation_id", type=DATABASE_ID)
@click.option("--pdf", "pdf_path", default=None, type=click.Path(dir_okay=False),
              help="Write the PDF export here instead of printing the JSON.")
@click.pass_context
@handle_errors
@needs_database
def record(ctx, consultation_id, pdf_path):
    """Export the whole record (as GET …/record.json, or record.pdf with --pdf)."""
    if pdf_path:
        data = _run(ctx, lambda ses, st: s.record_pdf(ses, st, consultation_id), commit=False)
        Path(pdf_path).write_bytes(data)
        echo_json({"output": pdf_path, "bytes": len(data)})
    else:
        echo_json(_run(ctx, lambda ses, st: s.record_json(ses, st, consultation_id), commit=False))


@consultation.command("seed-demo")
@click.pass_context
@handle_errors
@needs_database
def seed_demo(ctx):
    """Add the demo consultation (needs `fondo seed --demo`; labelled as demo)."""
    echo_json(_run(ctx, s.seed_demo_consultation))


@consultation.command("language-agents")
@click.argument("consultation_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def language_agents(ctx, consultation_id):
    """Translators and interpreters with their names (as GET …/language-agents)."""
    echo_json(_run(ctx, lambda ses, st: s.list_language_agents(ses, consultation_id),
                   commit=False))


@consultation.command("gates")
@click.argument("project_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def gates(ctx, project_id):
    """What the pipeline gates need (as GET /api/v1/projects/ID/consultation-gates)."""
    echo_json(_run(ctx, lambda ses, st: s.project_consultation_gates(ses, project_id, st),
                   commit=False))


@consultation.command("decisions")
@click.argument("project_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def decisions(ctx, project_id):
    """A project's permits, land contracts and SIA resolution (as GET …/projects/ID/decisions)."""
    echo_json(_run(ctx, s.list_project_decisions, project_id, commit=False))


@consultation.command("decision")
@click.argument("project_id", type=DATABASE_ID)
@_input
@_by
@click.pass_context
@handle_errors
@needs_database
def decision(ctx, project_id, input_path, actor):
    """Record a permit, land contract or SIA resolution (as POST …/projects/ID/decisions)."""
    body = _body(input_path, DecisionRequestSchema())
    echo_json(_run(ctx, lambda ses, st: s.record_project_decision(ses, st, project_id, body,
                                                                  actor)))
