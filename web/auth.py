"""Sign-in for pages (session cookie, CSRF-protected form) and bearer tokens for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from fondo.accounts import service as user_service
from fondo.accounts.models import Role, User
from web.context import db
from web.extensions import limiter, login_manager

bp = Blueprint("auth", __name__)

#: Rate limit of sign-in attempts per client address (OWASP ASVS 2.2.1 asks for one).
LOGIN_RATE_LIMIT = "10 per minute"


class SessionUser(UserMixin):
    """What flask-login keeps of a signed-in user."""

    def __init__(self, user: User):
        self.id = str(user.id)
        self.email = user.email
        self.role = user.role


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    user = db().get(User, int(user_id))
    return SessionUser(user) if user is not None and user.is_active else None


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
        user = user_service.authenticate(db(), form.email.data, form.password.data)
        if user is not None:
            login_user(SessionUser(user))
            db().commit()
            target = request.args.get("next") or ""
            parts = urlsplit(target)
            if not target or parts.scheme or parts.netloc:  # never redirect off-site
                target = url_for("pages.index")
            return redirect(target)
        error = _("Wrong email or password.")
    elif request.method == "POST":
        error = _("Please fill in a valid email and your password.")
    return render_template("login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    """Sign out (POST with CSRF token)."""
    logout_user()
    return redirect(url_for("pages.index"))


def api_user() -> User | None:
    """The user of this API request, from its bearer token or its signed-in session."""
    if "api_user" in g:
        return g.api_user
    user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_service.user_for_token(db(), header.removeprefix("Bearer ").strip())
        if user is not None:
            db().commit()
    elif current_user.is_authenticated:
        user = db().get(User, int(current_user.id))
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
