"""Users, roles, password hashes (argon2id) and API bearer tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.accounts.models import ApiToken, Role, User
from fondo.orm import utcnow

#: Shortest password accepted (NIST SP 800-63B §5.1.1.2 asks for at least 8 characters).
MIN_PASSWORD_LENGTH = 8
#: Prefix that makes Fondo tokens recognisable to secret scanners.
TOKEN_PREFIX = "fondo_"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (argon2-cffi's RFC 9106 defaults)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, email: str, role: str, password: str, display_name: str | None = None
) -> User:
    """Add a user; raise :class:`InvalidInput` or :class:`Conflict` on bad input."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    try:
        role_value = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {role!r}; use one of {allowed}", field="role") from None
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} already exists", field="email")
    user = User(email=email, role=role_value, password_hash=hash_password(password),
                display_name=display_name)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None or not user.is_active:
        hash_password(password or "x")  # same work either way: no timing oracle on emails
        return None
    return user if verify_password(user.password_hash, password or "") else None


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, email: str, name: str | None = None) -> str:
    """Create a bearer token for the user with ``email``; return it (shown once, stored hashed)."""
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email}", field="email")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_token_digest(token), name=name))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning an unrevoked ``token``, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    row.last_used_at = utcnow()
    return row.user
