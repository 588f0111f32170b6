"""Marshmallow schemas shared by API blueprints (they generate the OpenAPI document)."""

from marshmallow import Schema, fields


class ProgressSchema(Schema):
    """Progress of a long task."""

    done = fields.Integer(required=True, metadata={"description": "Units of work done."})
    total = fields.Integer(allow_none=True, metadata={"description": "Units of work in all."})
    stage = fields.String(allow_none=True, metadata={"description": "What the task is doing."})


class TaskSchema(Schema):
    """State of a long task (a Celery task with a job row)."""

    id = fields.String(required=True)
    kind = fields.String(required=True)
    state = fields.String(
        required=True,
        metadata={"enum": ["PENDING", "STARTED", "PROGRESS", "SUCCESS", "FAILURE"]},
    )
    progress = fields.Nested(ProgressSchema, required=True)
    result_url = fields.String(allow_none=True, metadata={"description": "Where the result is."})
    error = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    field = fields.String(metadata={"description": "The request field at fault, if any."})
    errors = fields.Dict(metadata={"description": "Validation messages per field."})
