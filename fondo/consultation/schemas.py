"""One marshmallow schema per consultation request, shared by the REST API and the CLI.

The REST endpoints (``/api/v1/consultations…``) load their JSON bodies with
``@blp.arguments(Schema)``; the ``fondo consultation … --input FILE`` commands load the same
JSON with :func:`fondo.request_body.load_request`; the portal loads its forms with the same
schemas. A bad value is a 422 problem (or a one-line CLI error) naming the field as a JSON
path (``location.latitude``, ``steps[0]``); a field the schema does not know is refused.

The schemas check the shape of a request: types, required fields, enumerations, lengths,
ranges, timezone-aware instants. The domain's own rules stay in :mod:`consultation` (a
submission's text, contact and location in :func:`consultation.feedback.validate_submission`,
a notice's lead time, the protocol's phases and transitions) and are checked by the services.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from consultation import agreements as ag
from consultation import feedback as fb
from consultation import notices as nt
from consultation import protocol as pr
from consultation import safeguards as sg
from consultation import trigger as tg
from fondo.consultation.feedback import FEEDBACK_ACTIONS
from fondo.schema_fields import JSONBoolean, JSONInteger, JSONNumber, database_id

#: Largest screening radius an officer may ask for. [km] (fund decision: beyond 50 km the
#: municipal typology says nothing about a site's neighbours)
MAX_SCREENING_DISTANCE_KM = 50.0
#: Longest officer note or reason. [characters]
MAX_REASON_CHARS = 2000
#: Longest public answer to a submission, or officer's note on it. [characters]
MAX_ANSWER_CHARS = 5000
#: Longest reference to a document (file name, archive number) or a meeting's place. [characters]
MAX_REFERENCE_CHARS = 300
#: Most people recorded at one meeting: a full stadium; a community assembly is far smaller.
#: [persons]
MAX_ATTENDANCE = 100_000
#: Largest amount of one commitment: 100 000 million MXN, more than the whole cost of any
#: single renewable park. [MXN]
MAX_COMMITMENT_MXN = 1e11
#: Community positions an officer may record in the consultiva phase.
COMMUNITY_POSITIONS = ("consent", "agreement", "refusal")
#: Longest base64 text of an attachment (the decoded limit is checked again by the domain).
MAX_ATTACHMENT_BASE64_CHARS = (fb.MAX_ATTACHMENT_BYTES * 4) // 3 + 8
_INEGI_LOCALITY = re.compile(r"[0-9]{9}")


class Text(fields.String):
    """Text with surrounding whitespace removed; blank text counts as absent.

    A required ``Text`` refuses blank text as missing; an optional one loads it as ``None``
    (give ``allow_none=True`` so that ``null`` is accepted too).
    """

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any):
        if isinstance(value, str) and not value.strip():
            if self.required:
                raise self.make_error("required")
            return None
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _optional_text(max_chars: int, description: str) -> Text:
    return Text(load_default=None, allow_none=True, validate=validate.Length(max=max_chars),
                metadata={"description": description})


def _required_text(max_chars: int, description: str) -> Text:
    return Text(required=True, validate=validate.Length(max=max_chars),
                metadata={"description": description})


def _inegi_keys(values: list[str]) -> None:
    bad = [v for v in values if not _INEGI_LOCALITY.fullmatch(v)]
    if bad:
        raise ValidationError(f"{bad} are not 9-digit INEGI locality keys")


class RequestSchema(Schema):
    """Base of the consultation requests: a field the schema does not know is refused."""

    class Meta:
        unknown = RAISE


# --- consultations and phases ----------------------------------------------------------


class ConsultationRequestSchema(RequestSchema):
    """Open a consultation (``POST /consultations``, ``fondo consultation create``)."""

    project_id = database_id("The project whose site is screened.", required=True)
    max_distance_km = JSONNumber(
        load_default=tg.SCREENING_DISTANCE_KM,
        validate=validate.Range(min=0, max=MAX_SCREENING_DISTANCE_KM, min_inclusive=False),
        metadata={"description": "Screening radius around the site. [km]"})
    known_indigenous_localities = fields.List(
        fields.String(metadata={"pattern": "^[0-9]{9}$"}), load_default=list,
        validate=_inegi_keys,
        metadata={"description": "INEGI keys of localities known to be indigenous."})
    override_reason = _optional_text(
        MAX_REASON_CHARS, "Why to open a consultation the siting rule does not require.")


class CommunityChangeRequestSchema(RequestSchema):
    """Add or remove a community (``POST …/communities``, ``fondo consultation communities``)."""

    action = fields.String(required=True, validate=validate.OneOf(("add", "remove")))
    cvegeo = fields.String(required=True,
                           validate=validate.Regexp(r"^[0-9]{9}$",
                                                    error="cvegeo must be a 9-digit INEGI "
                                                          "locality key"),
                           metadata={"description": "INEGI locality key."})
    reason = _required_text(MAX_REASON_CHARS, "Why (recorded in the consultation's record).")
    name = fields.String(load_default=None, allow_none=True,
                         metadata={"description": "Name of the community (default: INEGI's)."})


class EvidenceRequestSchema(RequestSchema):
    """Steps, artefacts and conditions of the current phase (``POST …/evidence``,
    ``fondo consultation evidence``)."""

    steps = fields.List(fields.String(), load_default=list,
                        metadata={"description": "Protocol ids of steps done."})
    artefacts = fields.List(fields.String(), load_default=list,
                            metadata={"description": "Protocol ids of artefacts held."})
    conditions = fields.List(fields.String(), load_default=list,
                             metadata={"description": "Protocol ids of exit conditions met."})
    note = _optional_text(MAX_REASON_CHARS, "A note recorded with each item.")
    document = _optional_text(MAX_REFERENCE_CHARS, "A reference: file name, archive number.")
    community_position = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(COMMUNITY_POSITIONS),
        metadata={"description": "The community's position (consultiva phase only)."})


class PhaseChangeRequestSchema(RequestSchema):
    """Move the consultation (``POST …/phase``, ``fondo consultation phase``)."""

    to_phase = fields.String(required=True,
                             metadata={"description": "A phase id of the consultation's "
                                                      "protocol."})
    reason = _optional_text(MAX_REASON_CHARS, "Why (required to return to an earlier phase).")


class MeetingRequestSchema(RequestSchema):
    """A meeting held (``POST …/meetings``, ``fondo consultation meeting``)."""

    held_at = fields.AwareDateTime(required=True,
                                   metadata={"description": "ISO-8601 with a UTC offset."})
    place = _required_text(MAX_REFERENCE_CHARS, "Where it was held.")
    attendance_count = JSONInteger(required=True,
                                   validate=validate.Range(min=0, max=MAX_ATTENDANCE),
                                   metadata={"description": "People present. [persons]"})
    interpreter_language = _optional_text(MAX_REFERENCE_CHARS, "Language interpreted into.")
    minutes_reference = _optional_text(MAX_REFERENCE_CHARS, "Reference of the minutes.")
    summary = _optional_text(MAX_REASON_CHARS, "What was discussed.")
    # protocol version 2 (issue 13)
    attendance_women = JSONInteger(load_default=None, allow_none=True,
                                   validate=validate.Range(min=0, max=MAX_ATTENDANCE),
                                   metadata={"description": "Women present (version 2). [persons]"})
    attendance_men = JSONInteger(load_default=None, allow_none=True,
                                 validate=validate.Range(min=0, max=MAX_ATTENDANCE),
                                 metadata={"description": "Men present (version 2). [persons]"})
    attendance_other_or_unstated = JSONInteger(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=MAX_ATTENDANCE),
        metadata={"description": "Others or sex not stated (version 2). [persons]"})
    attendance_by_age_group = fields.Dict(
        keys=fields.String(validate=validate.OneOf(sg.AGE_GROUPS)),
        values=JSONInteger(validate=validate.Range(min=0, max=MAX_ATTENDANCE)),
        load_default=None, allow_none=True,
        metadata={"description": "People present by age group, only where the community "
                                 "agreed to record it. [persons]"})
    separate_session_for = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(sg.SESSION_GROUPS),
        metadata={"description": "A separate session of this group."})
    interpreter_ids = fields.List(
        JSONInteger(validate=validate.Range(min=1, max=2**31 - 1)), load_default=list,
        metadata={"description": "Accepted interpreters present, one per agreed language "
                                 "other than Spanish (version 2)."})
    decision_assembly = JSONBoolean(load_default=False,
                                    metadata={"description": "The consultiva decision assembly."})
    no_coercion_check = fields.Nested(
        "NoCoercionCheckSchema", load_default=None, allow_none=True,
        metadata={"description": "Done at the decision assembly itself (version 2)."})


class NoCoercionCheckSchema(RequestSchema):
    """The no-coercion check at the decision assembly (version 2)."""

    asked_publicly = JSONBoolean(required=True, metadata={
        "description": "The assembly was asked, in its language, whether anyone was pressed, "
                       "threatened or offered something for their answer."})
    coercion_reported = JSONBoolean(required=True)
    guarantor_present = JSONBoolean(required=True)
    note = _optional_text(MAX_REASON_CHARS, "What was said.")


# --- notices and subscriptions ---------------------------------------------------------


class NoticeRequestSchema(RequestSchema):
    """Publish the current phase's notice (``POST …/notices``, ``fondo consultation notice``)."""

    community = _required_text(nt.MAX_FIELD_CHARS, "The community the meeting is for.")
    starts_at = fields.AwareDateTime(required=True,
                                     metadata={"description": "ISO-8601 with a UTC offset."})
    ends_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                   metadata={"description": "ISO-8601 with a UTC offset."})
    place = _required_text(nt.MAX_FIELD_CHARS, "Where the meeting is held.")
    meeting_language = _required_text(nt.MAX_FIELD_CHARS, "Language the meeting is held in.")
    interpreter_language = _optional_text(nt.MAX_FIELD_CHARS, "Language of the interpreter.")
    community_language_versions = fields.List(
        fields.Nested("CommunityLanguageVersionSchema"), load_default=list,
        metadata={"description": "Version 2: the notice in each agreed language other than "
                                 "Spanish, made or validated by an accepted translator."})


class CommunityLanguageVersionSchema(RequestSchema):
    """A notice in a community language (version 2)."""

    language = _required_text(sg.MAX_LANGUAGE_CHARS, "INALI linguistic group, e.g. 'Náhuatl'.")
    variant = _required_text(sg.MAX_LANGUAGE_CHARS, "INALI variant, e.g. 'náhuatl de la "
                                                    "Huasteca potosina'.")
    title = _required_text(nt.MAX_FIELD_CHARS, "The notice's title in that language.")
    body = _required_text(20_000, "The notice's text in that language.")
    translator_id = JSONInteger(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                                metadata={"description": "The accepted translator who made or "
                                                         "validated it."})


class TranslationRequestSchema(RequestSchema):
    """A translation of a notice (``POST …/notices/ID/translations``,
    ``fondo consultation translation``)."""

    language_name = fields.String(required=True,
                                  metadata={"description": "As the community names it."})
    language_code = fields.String(load_default=None, allow_none=True,
                                  metadata={"description": "ISO 639-3 code, e.g. 'hus'."})
    title = fields.String(required=True)
    body = fields.String(required=True)
    translated_by = fields.String(required=True,
                                  metadata={"description": "Person or institution."})


class SubscriptionRequestSchema(RequestSchema):
    """Subscribe to a consultation's notices (``POST …/subscribers``, the portal's form,
    ``fondo consultation subscribe``); give an e-mail, a phone or both."""

    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True,
                          metadata={"description": "8 to 15 digits, optionally a leading +."})
    language = fields.String(load_default="es", validate=validate.OneOf(pr.LANGUAGES))


# --- feedback and grievances -----------------------------------------------------------


class FeedbackLocationSchema(RequestSchema):
    """A point inside Mexico. [degrees, EPSG:4326]"""

    latitude = JSONNumber(required=True, validate=validate.Range(min=-90.0, max=90.0),
                          metadata={"description": "Inside Mexico (checked by the domain). [°]"})
    longitude = JSONNumber(required=True, validate=validate.Range(min=-180.0, max=180.0),
                           metadata={"description": "Inside Mexico (checked by the domain). [°]"})


def location_from_form(latitude: str | None, longitude: str | None) -> dict[str, Any]:
    """The ``location`` of a submission sent as a form (text fields): decimal text becomes
    a number, other text stays text, so that :class:`FeedbackLocationSchema` names it.

    >>> location_from_form("21.26", " -98.79")
    {'latitude': 21.26, 'longitude': -98.79}
    >>> location_from_form("norte", None)
    {'latitude': 'norte', 'longitude': None}
    """
    def number(text: str | None) -> Any:
        try:
            return float(text.strip()) if isinstance(text, str) else text
        except ValueError:
            return text

    return {"latitude": number(latitude), "longitude": number(longitude)}


class FeedbackAttachmentSchema(RequestSchema):
    """A file sent inside a JSON submission; loads as (filename, bytes, declared type)."""

    filename = fields.String(load_default="", allow_none=True)
    content_type = fields.String(load_default=None, allow_none=True,
                                 metadata={"description": "Must agree with the content."})
    content_base64 = fields.String(required=True,
                                   metadata={"description": "PDF, JPEG, PNG or plain text, at "
                                                            "most 5 MB, base64."})

    @post_load
    def _decode(self, data: dict[str, Any], **_kwargs: Any) -> tuple[str, bytes, str | None]:
        text = data["content_base64"]
        if len(text) > MAX_ATTACHMENT_BASE64_CHARS:
            raise ValidationError(f"attachment is over the limit of {fb.MAX_ATTACHMENT_BYTES} "
                                  "bytes (5 MB)")
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("attachment.content_base64 is not base64") from None
        return data.get("filename") or "", raw, data.get("content_type")


class FeedbackRequestSchema(RequestSchema):
    """Feedback or a grievance (``POST …/feedback`` as JSON or a multipart form, the portal's
    form, ``fondo consultation submit``); the domain checks text, contact and location."""

    kind = fields.String(required=True,
                         validate=validate.OneOf([k.value for k in fb.FeedbackKind]))
    category = fields.String(required=True,
                             validate=validate.OneOf([c.value for c in fb.Category]))
    text = fields.String(required=True)
    language = fields.String(load_default="es",
                             metadata={"description": "Language code of the text, e.g. 'es'."})
    anonymous = JSONBoolean(load_default=False,
                              metadata={"description": "No name or contact may be given."})
    name = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    location = fields.Nested(FeedbackLocationSchema, load_default=None, allow_none=True)
    client_token = fields.String(load_default=None, allow_none=True,
                                 metadata={"description": "Idempotency token: 8-128 characters "
                                                          "of A-Z a-z 0-9 _ -."})
    attachment = fields.Nested(FeedbackAttachmentSchema, load_default=None, allow_none=True)


class FeedbackActionRequestSchema(RequestSchema):
    """An officer's action on a submission (``POST …/feedback/ID/actions``,
    ``fondo consultation feedback-action``): ``answer`` needs ``public_answer``,
    ``escalate`` needs ``reason``."""

    action = fields.String(required=True, validate=validate.OneOf(list(FEEDBACK_ACTIONS)))
    public_answer = _optional_text(MAX_ANSWER_CHARS, "Shown to anyone holding the receipt code.")
    officer_notes = _optional_text(MAX_ANSWER_CHARS, "Seen by officers only.")
    reason = _optional_text(MAX_REASON_CHARS, "Why (recorded).")

    @validates_schema
    def _needed_for_action(self, data: dict[str, Any], **_kwargs: Any) -> None:
        needed = {"answer": "public_answer", "escalate": "reason"}.get(data["action"])
        if needed and not data.get(needed):
            raise ValidationError(f"{needed} is required to {data['action']}", field_name=needed)


# --- commitments -----------------------------------------------------------------------


class CommitmentRequestSchema(RequestSchema):
    """A commitment agreed with the community (``POST …/commitments``,
    ``fondo consultation commitment-add``)."""

    kind = fields.String(required=True,
                         validate=validate.OneOf([k.value for k in ag.CommitmentKind]))
    description = fields.String(required=True)
    owner = fields.String(required=True, metadata={"description": "Who must fulfil it."})
    due_date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD."})
    amount_mxn = JSONNumber(load_default=None, allow_none=True,
                            validate=validate.Range(min=0, max=MAX_COMMITMENT_MXN),
                            metadata={"description": "Amount committed. [MXN]"})
    commitment_id = fields.String(load_default=None, allow_none=True,
                                  metadata={"description": "Default: C-<n>."})


class CommitmentStatusRequestSchema(RequestSchema):
    """Follow-up of a commitment (``POST …/commitments/ID/status``,
    ``fondo consultation commitment-status``); cancelling needs a reason."""

    status = fields.String(required=True,
                           validate=validate.OneOf([s.value for s in ag.CommitmentStatus]))
    reason = _optional_text(MAX_REASON_CHARS, "Why (required to cancel).")
