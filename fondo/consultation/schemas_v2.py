"""Request schemas of protocol version 2's records (issue 13), shared by the REST API and the
CLI, like :mod:`fondo.consultation.schemas`.

The schemas check shapes (types, enumerations, lengths); the rules that tie fields together
(an identification that clears needs a field visit and a documentary source; a budget above
zero; every negotiation element evidenced) are :mod:`consultation.safeguards`, checked by the
services with the field named.
"""

from __future__ import annotations

from marshmallow import fields, validate

from consultation import protocol as pr
from consultation import safeguards as sg
from consultation import suspension as sp
from fondo.consultation.schemas import (
    MAX_REASON_CHARS,
    MAX_REFERENCE_CHARS,
    RequestSchema,
    _inegi_keys,
    _optional_text,
    _required_text,
)
from fondo.schema_fields import JSONBoolean, JSONInteger, JSONNumber


class IdentificationEvidenceSchema(RequestSchema):
    """One piece of evidence of an identification."""

    method = fields.String(required=True, validate=validate.OneOf(sg.IDENTIFICATION_METHODS))
    reference = _required_text(MAX_REFERENCE_CHARS, "Catalogue entry, census table, visit report.")
    summary = _optional_text(MAX_REASON_CHARS, "What it shows.")


class IdentificationRequestSchema(RequestSchema):
    """The locality-level identification (``POST …/identification``,
    ``fondo consultation identify``)."""

    outcome = fields.String(required=True, validate=validate.OneOf(sg.IDENTIFICATION_OUTCOMES))
    methods = fields.List(fields.String(validate=validate.OneOf(sg.IDENTIFICATION_METHODS)),
                          required=True, validate=validate.Length(min=1),
                          metadata={"description": "INPI catalogue, census speakers of "
                                                   "indigenous languages per locality, field visit."})
    evidence = fields.List(fields.Nested(IdentificationEvidenceSchema), required=True,
                           validate=validate.Length(min=1, max=50))
    decided_by = _required_text(MAX_REFERENCE_CHARS, "Who decided (name and office).")
    reason = _required_text(MAX_REASON_CHARS, "Why (recorded in the chain).")
    localities = fields.List(fields.String(metadata={"pattern": "^[0-9]{9}$"}), load_default=list,
                             validate=_inegi_keys,
                             metadata={"description": "INEGI keys of the communities that may be "
                                                      "affected."})


class LanguageSchema(RequestSchema):
    """An agreed language (INALI linguistic group and variant; Spanish needs no variant)."""

    language = _required_text(sg.MAX_LANGUAGE_CHARS, "INALI linguistic group, or 'español'.")
    variant = _optional_text(sg.MAX_LANGUAGE_CHARS, "INALI variant (required but for Spanish).")


class FactRequestSchema(RequestSchema):
    """One of version 2's records (``POST …/records``, ``fondo consultation record``); the
    fields used depend on ``kind``."""

    kind = fields.String(required=True, validate=validate.OneOf(sg.FACT_KINDS))
    # fpic_determination
    circumstances = fields.List(fields.String(validate=validate.OneOf(sg.FPIC_CIRCUMSTANCES)),
                                load_default=None, metadata={"description": "PS7 circumstances "
                                                             "found (fpic_determination)."})
    reason = _optional_text(MAX_REASON_CHARS, "Why (fpic_determination).")
    # study_coproduction
    community_participants = JSONInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=sg.MAX_PERSONS),
        metadata={"description": "Community members who made the study. [persons]"})
    sessions = JSONInteger(load_default=None, allow_none=True,
                           validate=validate.Range(min=1, max=sg.MAX_PERSONS),
                           metadata={"description": "Working sessions with the community."})
    community_institutions = _optional_text(500, "Institutions of the community that took part.")
    document = _optional_text(MAX_REFERENCE_CHARS, "Reference of the document.")
    summary = _optional_text(sg.MAX_TEXT_CHARS, "Summary.")
    # advice_resources
    budget_mxn = JSONNumber(load_default=None, validate=validate.Range(
        min=0, max=sg.MAX_BUDGET_MXN, min_inclusive=False),
        metadata={"description": "Budget for independent advice. [MXN]"})
    adviser_chosen_by_community = JSONBoolean(load_default=None)
    description = _optional_text(sg.MAX_TEXT_CHARS, "What the resources pay for.")
    # languages
    languages = fields.List(fields.Nested(LanguageSchema), load_default=None,
                            validate=validate.Length(min=1, max=20))
    # participation
    disaggregate_by_age = JSONBoolean(load_default=None)
    separate_sessions = fields.List(fields.String(validate=validate.OneOf(sg.SESSION_GROUPS)),
                                    load_default=None)
    note = _optional_text(sg.MAX_TEXT_CHARS, "Note.")
    # results_scope
    statement = _optional_text(sg.MAX_TEXT_CHARS, "How binding the results are, and on whom.")
    binding_on = fields.List(fields.String(validate=validate.OneOf(sg.BINDING_PARTIES)),
                             load_default=None)
    # negotiation
    elements = fields.Dict(keys=fields.String(validate=validate.OneOf(sg.NEGOTIATION_ELEMENTS)),
                           values=fields.String(validate=validate.Length(max=sg.MAX_TEXT_CHARS)),
                           load_default=None,
                           metadata={"description": "Evidence of each good-faith negotiation "
                                                    "element (IFC GN7)."})


class LanguageAgentRequestSchema(RequestSchema):
    """A translator or interpreter the community accepted (``POST …/language-agents``,
    ``fondo consultation language-agent``)."""

    role = fields.String(required=True, validate=validate.OneOf(sg.AGENT_ROLES))
    name = _required_text(200, "Full name (officers only).")
    language = _required_text(sg.MAX_LANGUAGE_CHARS, "INALI linguistic group.")
    variant = _required_text(sg.MAX_LANGUAGE_CHARS, "INALI variant.")
    accepted_on = fields.Date(required=True, metadata={"description": "YYYY-MM-DD."})
    acceptance_reference = _required_text(MAX_REFERENCE_CHARS,
                                          "Where the community's acceptance is recorded.")


class SuspensionRequestSchema(RequestSchema):
    """Suspend a consultation (``POST …/suspension``, ``fondo consultation suspend``)."""

    kind = fields.String(required=True, validate=validate.OneOf(sp.SUSPENSION_KINDS))
    reason = _required_text(MAX_REASON_CHARS, "Why (recorded in the chain).")
    reference = _optional_text(MAX_REFERENCE_CHARS, "Court file, report number, electoral "
                                                    "calendar.")


class ResumeRequestSchema(RequestSchema):
    """Resume a suspended consultation (``POST …/resumption``, ``fondo consultation resume``)."""

    reason = _required_text(MAX_REASON_CHARS, "Why it may resume.")


class DecisionRequestSchema(RequestSchema):
    """A project's permit, land contract or social impact assessment resolution
    (``POST /projects/ID/decisions``, ``fondo consultation decision``)."""

    kind = fields.String(required=True, validate=validate.OneOf(pr.DECISION_KINDS))
    decision_date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD."})
    reference = _required_text(MAX_REFERENCE_CHARS, "Permit number, contract, resolution.")
    authority = _optional_text(MAX_REFERENCE_CHARS, "Who granted or signed it.")
    description = _optional_text(MAX_REASON_CHARS, "What it allows.")
    premature_reason = _optional_text(
        MAX_REASON_CHARS, "Only to record a decision already taken before the protocol allows it "
                          "(it then shows as premature and blocks the project's gates).")
