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


def _get(ctx: click.Context, fn: Callable, *args: Any) -> None:
    """Print ``fn(session, settings, *args)``, read without storing anything (a GET)."""
    echo_json(_run(ctx, fn, *args, commit=False))


def _post(ctx: click.Context, input_path: str, schema: type[Schema], fn: Callable) -> None:
    """Load the body in ``input_path`` with ``schema``, then print ``fn(session, settings,
    body)`` run as one unit of work (a POST)."""
    body = _body(input_path, schema())
    echo_json(_run(ctx, fn, body))


_input = click.option("--input", "input_path", required=True, type=str,
                      help="JSON file with the request body ('-' for standard input).")
_by = click.option("--by", "actor", default="cli", show_default=True,
                   help="Who acts (recorded in the consultation's record).")
_consultation_id = click.argument("consultation_id", type=DATABASE_ID)
_notice_id = click.argument("notice_id", type=DATABASE_ID)
_project_id = click.argument("project_id", type=DATABASE_ID)


@click.group("consultation")
def consultation() -> None:
    """Consultations under the shared Canada-Mexico protocol."""


def _command(name: str, *params: Callable, **attrs: Any) -> Callable:
    """Register ``fondo consultation NAME``: ``params`` (its arguments and options, top first)
    over the context, one-line errors and a ready database, as every command here has them;
    ``attrs`` go to :meth:`click.Group.command`."""

    def register(function: Callable) -> click.Command:
        command = click.pass_context(handle_errors(needs_database(function)))
        for param in reversed(params):
            command = param(command)
        return consultation.command(name, **attrs)(command)

    return register


@_command("list")
def list_(ctx):
    """Print the consultations as JSON with their ids."""
    _get(ctx, s.list_consultations)


@_command("show", _consultation_id)
def show(ctx, consultation_id):
    """One consultation (as GET /api/v1/consultations/ID)."""
    _get(ctx, s.get_consultation, consultation_id)


@_command("create", _input, _by)
def create(ctx, input_path, actor):
    """Open a consultation (body as POST /api/v1/consultations)."""
    _post(ctx, input_path, ConsultationRequestSchema,
          lambda ses, st, body: s.create_consultation(ses, st, body, actor))


def _officer_command(name: str, service: Callable, schema: type[Schema], doc: str,
                     ) -> click.Command:
    @_command(name, _consultation_id, _input, _by, help=doc)
    def command(ctx, consultation_id, input_path, actor):
        _post(ctx, input_path, schema,
              lambda ses, st, body: service(ses, st, consultation_id, body, actor))

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
    _officer_command(_name, _service, _schema, _doc)


@_command("translation", _consultation_id, _notice_id, _input, _by)
def translation(ctx, consultation_id, notice_id, input_path, actor):
    """Attach a translation to a notice (as POST …/notices/NID/translations)."""
    _post(ctx, input_path, TranslationRequestSchema,
          lambda ses, st, body: s.add_notice_translation(ses, st, consultation_id, notice_id,
                                                         body, actor))


@_command("deliver", _consultation_id, _notice_id)
def deliver(ctx, consultation_id, notice_id):
    """E-mail a notice to subscribers and queue SMS, here and now (prints the counts)."""
    echo_json(_run(ctx, lambda ses, st: s.deliver_notice(ses, st, consultation_id, notice_id)))


@_command("poster", _consultation_id, _notice_id,
          click.option("--lang", default="es", type=click.Choice(["es", "en"]), show_default=True),
          click.option("--output", required=True, type=click.Path(dir_okay=False)))
def poster(ctx, consultation_id, notice_id, lang, output):
    """Write the notice's printable PDF poster to OUTPUT (with the record's signed head,
    signed and kept now if the head moved)."""
    data = _run(ctx, lambda ses, st: s.poster_pdf(ses, st, consultation_id, notice_id, lang))
    Path(output).write_bytes(data)
    echo_json({"output": output, "bytes": len(data)})


@_command("subscribe", _consultation_id, _input)
def subscribe(ctx, consultation_id, input_path):
    """Subscribe an e-mail/phone to the notices (as POST …/subscribers)."""
    _post(ctx, input_path, SubscriptionRequestSchema,
          lambda ses, st, body: s.subscribe(ses, consultation_id, body))


@_command("subscribers", _consultation_id)
def subscribers(ctx, consultation_id):
    """Who receives the notices, with their addresses, newest first (as GET …/subscribers)."""
    _get(ctx, lambda ses, st: s.list_subscribers(ses, consultation_id))


@_command("submit", _consultation_id, _input)
def submit(ctx, consultation_id, input_path):
    """Submit feedback or a grievance (as POST …/feedback); prints the receipt."""
    _post(ctx, input_path, FeedbackRequestSchema,
          lambda ses, st, body: s.submit_feedback(ses, st, consultation_id, body)[0])


@_command("receipt", click.argument("code"))
def receipt(ctx, code):
    """Status and public answer of a submission (as GET /api/v1/feedback/CODE)."""
    _get(ctx, lambda ses, st: s.feedback_by_receipt(ses, code))


@_command("feedback", _consultation_id)
def feedback(ctx, consultation_id):
    """Every submission with contact details and SLA timers (as GET …/feedback)."""
    _get(ctx, lambda ses, st: s.list_feedback(ses, consultation_id))


@_command("feedback-action", _consultation_id, click.argument("feedback_id", type=DATABASE_ID),
          _input, _by)
def feedback_action(ctx, consultation_id, feedback_id, input_path, actor):
    """Acknowledge, answer, escalate or close a submission (as POST …/feedback/FID/actions)."""
    _post(ctx, input_path, FeedbackActionRequestSchema,
          lambda ses, st, body: s.feedback_action(ses, st, consultation_id, feedback_id, body,
                                                  actor))


@_command("commitments", _consultation_id)
def commitments(ctx, consultation_id):
    """Public status of the commitments (as GET …/commitments)."""
    _get(ctx, lambda ses, st: s.list_commitments(ses, consultation_id))


@_command("commitment-status", _consultation_id, click.argument("commitment_id"), _input, _by)
def commitment_status(ctx, consultation_id, commitment_id, input_path, actor):
    """Change a commitment's status (as POST …/commitments/CID/status)."""
    _post(ctx, input_path, CommitmentStatusRequestSchema,
          lambda ses, st, body: s.change_commitment(ses, st, consultation_id, commitment_id,
                                                    body, actor))


@_command("social-risk", _project_id)
def social_risk(ctx, project_id):
    """A project's social risk (as GET /api/v1/projects/ID/social-risk)."""
    _get(ctx, lambda ses, st: s.social_risk_for_project(ses, st, project_id))


@_command("verify", _consultation_id,
          click.option("--anchors", "anchors_path", default=None, type=str,
                       help="JSON file of published signed heads to check too (one head, a "
                            "list, or the answer of GET …/anchors; '-' for standard input)."))
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


@_command("anchors", _consultation_id)
def anchors(ctx, consultation_id):
    """The anchor public key and every signed head (as GET …/anchors; signs the head if it
    moved)."""
    echo_json(_run(ctx, lambda ses, st: s.published_heads(ses, st, consultation_id, "cli")))


@_command("record", _consultation_id,
          click.option("--pdf", "pdf_path", default=None, type=click.Path(dir_okay=False),
                       help="Write the PDF export here instead of printing the JSON."))
def record(ctx, consultation_id, pdf_path):
    """Export the whole record (as GET …/record.json, or record.pdf with --pdf)."""
    if pdf_path:
        data = _run(ctx, lambda ses, st: s.record_pdf(ses, st, consultation_id), commit=False)
        Path(pdf_path).write_bytes(data)
        echo_json({"output": pdf_path, "bytes": len(data)})
    else:
        _get(ctx, lambda ses, st: s.record_json(ses, st, consultation_id))


@_command("seed-demo")
def seed_demo(ctx):
    """Add the demo consultation (needs `fondo seed --demo`; labelled as demo)."""
    echo_json(_run(ctx, s.seed_demo_consultation))


@_command("language-agents", _consultation_id)
def language_agents(ctx, consultation_id):
    """Translators and interpreters with their names (as GET …/language-agents)."""
    _get(ctx, lambda ses, st: s.list_language_agents(ses, consultation_id))


@_command("gates", _project_id)
def gates(ctx, project_id):
    """What the pipeline gates need (as GET /api/v1/projects/ID/consultation-gates)."""
    _get(ctx, lambda ses, st: s.project_consultation_gates(ses, project_id, st))


@_command("decisions", _project_id)
def decisions(ctx, project_id):
    """A project's permits, land contracts and SIA resolution (as GET …/projects/ID/decisions)."""
    _get(ctx, s.list_project_decisions, project_id)


@_command("decision", _project_id, _input, _by)
def decision(ctx, project_id, input_path, actor):
    """Record a permit, land contract or SIA resolution (as POST …/projects/ID/decisions)."""
    _post(ctx, input_path, DecisionRequestSchema,
          lambda ses, st, body: s.record_project_decision(ses, st, project_id, body, actor))
