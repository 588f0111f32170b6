"""Request schemas of the projects and the pipeline (issue 11), one per request.

The REST endpoints (``@blp.arguments``) and the ``fondo projects`` commands
(:func:`fondo.request_body.load_request`) load requests with the same schema, so both
refuse the same input with the same message naming the field. Unknown fields are refused
(a project's ``stage`` is changed by a transition, never by an edit).
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from fondo.fund.models import PipelineStage
from fondo.orm import Technology
from fondo.schema_fields import DATABASE_ID_RANGE, JSONInteger, JSONNumber, database_id

#: Largest capacity a project may declare: ten times the largest solar or wind park in
#: Mexico today (Villanueva, Coahuila, 828 MW AC) rounded up; a larger value is a typo. [MW]
MAX_CAPACITY_MW = 10_000.0
#: Names of projects and the reasons of moves are shown to people: bounded. [characters]
MAX_NAME_CHARS = 200
MAX_REASON_CHARS = 2000
#: Largest DC/AC ratio accepted (PV inverters loaded beyond 2 are not built). [-]
MAX_DC_AC_RATIO = 2.0
#: Stages a project may be given in a transition request.
STAGE_NAMES = tuple(s.value for s in PipelineStage)

CAPACITY_RANGE = validate.Range(min=0.0, max=MAX_CAPACITY_MW, min_inclusive=False)


def _text(description: str, *, max_chars: int, required: bool = False) -> fields.String:
    return fields.String(required=required, allow_none=not required,
                         validate=validate.Length(min=1, max=max_chars),
                         metadata={"description": description})


class _ProjectFields(Schema):
    """Fields a project is created or edited with."""

    class Meta:
        unknown = RAISE

    fund_id = database_id("The fund that holds the project.")
    site_id = database_id("The candidate site (its geometry and stored site check).")
    technology = fields.String(validate=validate.OneOf([t.value for t in Technology]),
                               metadata={"description": "pv or wind."})
    capacity_ac_mw = JSONNumber(allow_none=True, validate=CAPACITY_RANGE, metadata={
        "description": f"Capacity at the grid connection, > 0 and ≤ {MAX_CAPACITY_MW:g}. [MW]"})
    capacity_dc_mw = JSONNumber(allow_none=True, validate=CAPACITY_RANGE, metadata={
        "description": "PV array (DC) capacity, ≥ capacity_ac_mw and ≤ "
                       f"{MAX_DC_AC_RATIO:g} × capacity_ac_mw; wind: leave empty. [MW]"})
    corridor_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=32),
                                metadata={"description": "bajio or noreste."})
    state_key = fields.String(allow_none=True, validate=validate.Regexp(
        r"^(0[1-9]|[12][0-9]|3[0-2])$", error="must be an INEGI state key, 01 … 32"),
        metadata={"description": "INEGI state key (CVE_ENT), two digits."})
    municipality_key = fields.String(allow_none=True, validate=validate.Regexp(
        r"^(0[1-9]|[12][0-9]|3[0-2])[0-9]{3}$",
        error="must be an INEGI municipality key: the state's two digits and three more"),
        metadata={"description": "INEGI municipality key (CVEGEO), five digits."})

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_kwargs: Any) -> None:
        ac, dc = data.get("capacity_ac_mw"), data.get("capacity_dc_mw")
        if ac is not None and dc is not None and not ac <= dc <= MAX_DC_AC_RATIO * ac:
            raise ValidationError(f"must be between capacity_ac_mw ({ac:g}) and "
                                  f"{MAX_DC_AC_RATIO:g} × capacity_ac_mw", "capacity_dc_mw")
        if data.get("technology") == "wind" and dc is not None:
            raise ValidationError("is for PV arrays; a wind park has no DC capacity",
                                  "capacity_dc_mw")
        state, municipality = data.get("state_key"), data.get("municipality_key")
        if state and municipality and not municipality.startswith(state):
            raise ValidationError(f"must belong to state {state} (start with its key)",
                                  "municipality_key")


class ProjectCreateSchema(_ProjectFields):
    """``POST /api/v1/projects``: a new project, at stage ``origination``."""

    name = _text("Name of the project.", max_chars=MAX_NAME_CHARS, required=True)
    technology = fields.String(required=True, validate=validate.OneOf(
        [t.value for t in Technology]), metadata={"description": "pv or wind."})
    capacity_ac_mw = JSONNumber(required=True, validate=CAPACITY_RANGE, metadata={
        "description": f"Capacity at the grid connection, > 0 and ≤ {MAX_CAPACITY_MW:g}. [MW]"})


class ProjectUpdateSchema(_ProjectFields):
    """``PATCH /api/v1/projects/<id>``: the fields to change and the version edited.

    ``version`` is the version the editor read (or send it as ``If-Match: "<version>"``);
    a project changed since answers 409 with its current version.
    """

    name = _text("Name of the project.", max_chars=MAX_NAME_CHARS)
    version = JSONInteger(validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "The version the edit is based on (or the If-Match header)."})


class TransitionRequestSchema(Schema):
    """``POST /api/v1/projects/<id>/transitions``: move the project to another stage."""

    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=validate.OneOf(STAGE_NAMES), metadata={
        "description": "Target stage: " + ", ".join(STAGE_NAMES) + "."})
    reason = _text("Why (required to drop a project, to go back a stage or to re-open one).",
                   max_chars=MAX_REASON_CHARS)


class StudyLinkSchema(Schema):
    """``POST /api/v1/projects/<id>/studies``: link a stored yield study to the project."""

    class Meta:
        unknown = RAISE

    study_id = database_id("The stored yield study.", required=True)


class StudyApprovalSchema(Schema):
    """``POST /api/v1/projects/<id>/studies/<study_id>/approval``: approve a linked study."""

    class Meta:
        unknown = RAISE

    note = _text("What the approval rests on (independent engineer's report, …).",
                 max_chars=MAX_REASON_CHARS)


class P90CaseSchema(Schema):
    """``POST /api/v1/projects/<id>/p90-case``: the P90 case of a finance case."""

    class Meta:
        unknown = RAISE

    case_id = database_id("The project's finance case to re-run on the P90 energy.",
                          required=True)
    study_id = database_id("The approved study whose P90 energy to use (default: the "
                           "project's latest approved study).")


class ProjectListQuerySchema(Schema):
    """Query of ``GET /api/v1/projects`` (query strings are text; other parameters, such as
    ``lang``, are not this schema's)."""

    class Meta:
        unknown = EXCLUDE

    stage = fields.String(load_default=None, validate=validate.OneOf(STAGE_NAMES))
    fund_id = fields.Integer(load_default=None, validate=DATABASE_ID_RANGE)
    technology = fields.String(load_default=None, validate=validate.OneOf(
        [t.value for t in Technology]))
