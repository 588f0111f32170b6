"""``/api/v1/me`` and user administration."""

from __future__ import annotations

from web.api.docs import Blueprint
from marshmallow import Schema, fields

from fondo.accounts import service as user_service
from fondo.accounts.models import Role
from fondo.schema_fields import DATABASE_ID_RANGE, JSONInteger
from web.auth import api_user, require_role
from web.context import db

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users and roles")


class UserSchema(Schema):
    """A user as shown by the API (never the password hash)."""

    id = fields.Integer(dump_only=True)
    email = fields.Email(required=True)
    role = fields.String(required=True, metadata={"enum": [r.value for r in Role]})
    display_name = fields.String(allow_none=True)
    limited_partner_ids = fields.List(
        JSONInteger(validate=DATABASE_ID_RANGE), load_default=list,
        metadata={"description": "Investors: the limited partners they act for (they see "
                                 "the finance cases of these LPs' funds)."})


class NewUserSchema(UserSchema):
    """A user to create."""

    password = fields.String(required=True, load_only=True)


def _dump(user) -> dict:
    return {"id": user.id, "email": user.email, "role": user.role.value,
            "display_name": user.display_name,
            "limited_partner_ids": user_service.limited_partner_ids(db(), user)}


@blp.get("/me")
@require_role()
@blp.response(200, UserSchema)
def me():
    """The signed-in user."""
    return _dump(api_user())


@blp.post("/users")
@require_role(Role.ADMIN)
@blp.arguments(NewUserSchema)
@blp.response(201, UserSchema)
def create_user(body):
    """Create a user (admins only)."""
    session = db()
    user = user_service.create_user(session, body["email"], body["role"], body["password"],
                                    body.get("display_name"), body["limited_partner_ids"])
    session.commit()
    return _dump(user)
