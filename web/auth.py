"""Sign-in for pages (session cookie, CSRF-protected form) and bearer tokens for the API.

Sessions are revocable on the server: the signed session cookie carries only a random
token naming a ``user_sessions`` row, which sign-out revokes and which expires
``SESSION_MAX_HOURS`` after sign-in or ``SESSION_IDLE_MINUTES`` after its last use. A
replayed cookie of an ended session is anonymous (401 on the API).

Failed bearer tokens are counted per client address (``RATELIMIT_BEARER_FAILURES``, in
the limiter's shared storage); past the limit that address gets 429 for any bearer token
until the window ends, so tokens cannot be guessed at speed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from limits import RateLimitItem, parse
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from fondo.accounts import service as user_service
from fondo.accounts.models import Role, User
from web.context import db
from web.extensions import limiter, login_manager
from web.problems import problem

bp = Blueprint("auth", __name__)

#: Rate limit of sign-in attempts per client address (OWASP ASVS 2.2.1 asks for one).
LOGIN_RATE_LIMIT = "10 per minute"
#: Namespace of the failed-bearer-token counters in the limiter's storage.
BEARER_FAILURE_SCOPE = "bearer-failures"


class SessionUser(UserMixin):
    """What flask-login keeps of a signed-in user: the user and their session's token."""

    def __init__(self, user: User, session_token: str):
        self.id = user.id
        self.email = user.email
        self.role = user.role
        self.session_token = session_token

    def get_id(self) -> str:
        """What the session cookie holds: the session's token, never the user id."""
        return self.session_token


@login_manager.user_loader
def _load_user(session_token: str) -> SessionUser | None:
    config = current_app.config
    # A short database session of its own: refreshing ``last_seen_at`` commits nothing
    # of the request's own work.
    with current_app.extensions["fondo_sessions"]() as session:
        user = user_service.session_user(
            session, session_token, idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]))
        if user is None:
            return None
        answer = SessionUser(user, session_token)
        session.commit()
    return answer


login_manager.login_view = "auth.login"


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("email", validators=[DataRequired()])
    password = PasswordField("password", validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_RATE_LIMIT, methods=["POST"])
def login():
    """Sign-in page."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = db()
        user = user_service.authenticate(session, form.email.data, form.password.data)
        if user is not None:
            max_age = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
            token = user_service.start_session(session, user.id, max_age)
            session.commit()
            login_user(SessionUser(user, token))
            target = request.args.get("next") or ""
            parts = urlsplit(target)
            if not target or parts.scheme or parts.netloc:  # never redirect off-site
                target = url_for("pages.home")  # each role lands on its own home
            return redirect(target)
        error = _("Wrong email or password.")
    elif request.method == "POST":
        error = _("Please fill in a valid email and your password.")
    return render_template("login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    """Sign out (POST with CSRF token): the session is revoked on the server too."""
    if current_user.is_authenticated:
        user_service.end_session(db(), current_user.get_id())
        db().commit()
    logout_user()
    return redirect(url_for("pages.index"))


def _bearer_failure_limit() -> tuple[RateLimitItem, tuple[str, str]]:
    return (parse(str(current_app.config["RATELIMIT_BEARER_FAILURES"])),
            (BEARER_FAILURE_SCOPE, get_remote_address()))


def _refuse_when_too_many_bearer_failures() -> None:
    """429 problem when this client address has used up its failed-token budget."""
    item, keys = _bearer_failure_limit()
    if limiter.limiter.test(item, *keys):
        return
    reset_at = limiter.limiter.get_window_stats(item, *keys).reset_time
    retry_after_s = max(1, math.ceil(reset_at - time.time()))
    response = problem(429, "Too Many Requests",
                       f"Too many failed bearer tokens from this address (limit {item}); "
                       f"try again in {retry_after_s} s.")
    response.headers["Retry-After"] = str(retry_after_s)
    abort(response)


def api_user() -> User | None:
    """The user of this API request, from its bearer token or its signed-in session.

    A bearer token that names no active token counts against the client address's
    failed-token budget (:data:`RATELIMIT_BEARER_FAILURES`); past it, 429.
    """
    if "api_user" in g:
        return g.api_user
    user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        _refuse_when_too_many_bearer_failures()
        user = user_service.user_for_token(db(), header.removeprefix("Bearer ").strip())
        if user is not None:
            db().commit()
        else:
            item, keys = _bearer_failure_limit()
            limiter.limiter.hit(item, *keys)
    elif current_user.is_authenticated:
        user = db().get(User, current_user.id)
    g.api_user = user
    return user


def require_role(*roles: Role | str) -> Callable:
    """Decorator: the caller must be signed in (401) and hold one of ``roles`` (403).

    With no roles, any signed-in user passes. Admins pass every role check.
    """
    wanted = {Role(r) for r in roles}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            user = api_user()
            if user is None:
                abort(401, description="Sign in or send 'Authorization: Bearer <token>'.")
            if wanted and user.role not in wanted and user.role is not Role.ADMIN:
                allowed = ", ".join(sorted(r.value for r in wanted))
                abort(403, description=f"This needs one of the roles: {allowed}.")
            return view(*args, **kwargs)

        return wrapped

    return decorator
