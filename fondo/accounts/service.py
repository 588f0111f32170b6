"""Users, roles, password hashes (argon2id), API bearer tokens, sign-in sessions and the
investors' limited partners."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.accounts.models import ApiToken, Role, User, UserSession
from fondo.fund import service as fund_service
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
    session: Session, email: str, role: str, password: str, display_name: str | None = None,
    limited_partner_ids: Iterable[int] = (),
) -> User:
    """Add a user; raise :class:`InvalidInput` or :class:`Conflict` on bad input.

    ``limited_partner_ids`` links an investor to the limited partners they act for (see
    :func:`link_limited_partner`); other roles take none.
    """
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
    lp_ids = list(dict.fromkeys(limited_partner_ids))
    if lp_ids:
        _check_limited_partners(session, role_value, lp_ids)
    user = User(email=email, role=role_value, password_hash=hash_password(password),
                display_name=display_name)
    session.add(user)
    session.flush()
    for lp_id in lp_ids:
        fund_service.link_user(session, lp_id, user.id)
    return user


def get_user_by_email(session: Session, email: str) -> User:
    """The user with ``email`` or :class:`NotFound` naming the field."""
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email}", field="email")
    return user


def set_password(session: Session, email: str, password: str) -> int:
    """Give a user a new password and end all their signed-in sessions; return how many."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    user = get_user_by_email(session, email)
    user.password_hash = hash_password(password)
    return revoke_sessions(session, user.id)


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
    now = utcnow()
    # like a session's last_seen_at: one write per interval, not one write (and fsync) per call
    if row.last_used_at is None or now - row.last_used_at >= timedelta(seconds=SESSION_TOUCH_INTERVAL_S):
        row.last_used_at = now
    return row.user


# --------------------------------------------------------------------------- sessions

#: How often a session's ``last_seen_at`` is rewritten: the idle lifetime is enforced to
#: within this much, and an active user costs one write per interval, not per request. [s]
SESSION_TOUCH_INTERVAL_S = 60


def start_session(session: Session, user_id: int, max_age: timedelta) -> str:
    """Record a new signed-in session for ``user_id``; return its token (stored hashed).

    Parameters
    ----------
    max_age : timedelta
        Absolute lifetime: the session ends this long after sign-in, however active.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # the user's ended sessions are of no further use: keep the table to live ones
    session.execute(delete(UserSession).where(
        UserSession.user_id == user_id,
        or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now)))
    session.add(UserSession(user_id=user_id, token_sha256=_token_digest(token), created_at=now,
                            last_seen_at=now, expires_at=now + max_age))
    session.flush()
    return token


def session_user(session: Session, token: str, idle: timedelta,
                 now: datetime | None = None) -> User | None:
    """The active user of a valid session ``token``, or None.

    Valid: not revoked, before ``expires_at`` and used within ``idle``. A valid session's
    ``last_seen_at`` moves to ``now`` (at most once per :data:`SESSION_TOUCH_INTERVAL_S`);
    the caller commits.
    """
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_sha256 == _token_digest(token)))
    if (row is None or row.revoked_at is not None or now >= row.expires_at
            or now - row.last_seen_at >= idle or not row.user.is_active):
        return None
    if (now - row.last_seen_at).total_seconds() >= SESSION_TOUCH_INTERVAL_S:
        row.last_seen_at = now
    return row.user


def end_session(session: Session, token: str) -> bool:
    """Revoke the session ``token`` (sign-out); True when it was live."""
    row = session.scalar(select(UserSession).where(UserSession.token_sha256 == _token_digest(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def revoke_sessions(session: Session, user_id: int) -> int:
    """Revoke every live session of ``user_id`` (password change, an admin); return how many."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0


# --------------------------------------------------------------------------- investors


def _check_limited_partners(session: Session, role: Role, lp_ids: Iterable[int]) -> None:
    if role is not Role.INVESTOR:
        raise InvalidInput(f"only investors act for limited partners, not a {role.value}",
                           field="limited_partner_ids")
    for lp_id in lp_ids:
        if not fund_service.limited_partner_exists(session, lp_id):
            raise InvalidInput(f"no limited partner with id {lp_id}", field="limited_partner_ids")


def link_limited_partner(session: Session, email: str, limited_partner_id: int,
                         linked: bool = True) -> list[int]:
    """Link (or with ``linked=False`` unlink) an investor and a limited partner.

    An investor sees the finance cases of the funds of the limited partners they act
    for. Returns the user's limited-partner ids afterwards.
    """
    user = get_user_by_email(session, email)
    if linked:
        _check_limited_partners(session, user.role, [limited_partner_id])
        fund_service.link_user(session, limited_partner_id, user.id)
    else:
        fund_service.unlink_user(session, limited_partner_id, user.id)
    return fund_service.limited_partner_ids_of_user(session, user.id)


def limited_partner_ids(session: Session, user: User) -> list[int]:
    """Ids of the limited partners ``user`` acts for, ascending."""
    return fund_service.limited_partner_ids_of_user(session, user.id)


def investor_fund_ids(session: Session, user: User) -> set[int] | None:
    """Funds whose cases ``user`` may see: None for fund staff (all), else the funds of
    the investor's limited partners (maybe none)."""
    if user.role is not Role.INVESTOR:
        return None
    return fund_service.fund_ids_of_user(session, user.id)
