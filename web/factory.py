"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from fondo.celery_app import make_celery
from fondo.config import load_settings, secret_key
from fondo.db import session_factory
from fondo.errors import FondoError
from fondo.schema_fields import MAX_DATABASE_ID
from web import auth, i18n, pages, portal, studies_pages
from web import map as map_pages, screening_pages
from web import desk_pages, finance_pages, investor_pages, pipeline_pages
from web.api import swagger
from web.api import register_api
from web.extensions import api, babel, csrf, limiter, login_manager
from web.problems import fondo_error_response, problem_response

#: HSTS sent over HTTPS: browsers use only HTTPS for a year, subdomains included (RFC 6797).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
#: Largest request body accepted (attachments included). [bytes]
MAX_CONTENT_LENGTH_BYTES = 16 * 1024 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Fondo web app.

    Parameters
    ----------
    config : mapping, optional
        Settings that take precedence over defaults and ``FONDO_*`` environment variables
        (tests pass a throwaway ``DATABASE_URL`` and ``INSTANCE_PATH`` here).
    """
    settings = load_settings(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    Path(settings["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["SECURE_COOKIES"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings["SECURE_COOKIES"],
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in _csrf_protect below (bearer calls exempt)
        RATELIMIT_STORAGE_URI=settings["RATELIMIT_STORAGE_URL"],
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_DEFAULT_LOCALE=settings["DEFAULT_LOCALE"],
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        API_TITLE="Fondo API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "REST API of Fondo, the Canada-Mexico renewable co-investment fund. "
                    "Errors are RFC 9457 problem details (application/problem+json). "
                    "Authenticate with `Authorization: Bearer <token>` "
                    "(`fondo tokens create --email ...`)."
                )
            },
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
            },
        },
    )
    if settings["TRUSTED_PROXIES"] > 0:
        # Client address, scheme and host from the X-Forwarded-* headers that the trusted
        # proxies set (only the last n hops: a client cannot forge past them).
        n = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    # Ids in URLs are 64-bit: a larger number is no route (404), not a database overflow.
    app.url_map.converters["int"] = BoundedIntConverter
    app.extensions["fondo_settings"] = settings
    app.extensions["fondo_sessions"] = session_factory(settings)
    app.extensions["celery"] = make_celery(settings)

    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    api.init_app(app)

    _register_blueprints(app)
    app.register_error_handler(FondoError, fondo_error_response)
    app.register_error_handler(HTTPException, problem_response)
    app.before_request(_csrf_protect)
    app.teardown_appcontext(_close_session)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"get_locale": get_locale})
    i18n.install(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to the range of database ids (a larger id is a 404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(url_map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    """Pages first, then the REST API: every blueprint of the app is listed here."""
    for blueprint in (pages.bp, auth.bp, portal.bp, studies_pages.bp, map_pages.bp,
                      screening_pages.bp, swagger.bp,
                      desk_pages.bp, pipeline_pages.bp, finance_pages.bp, investor_pages.bp):
        app.register_blueprint(blueprint)
    register_api(api)


def _select_locale() -> str:
    """Locale from ``?lang=``, then the ``lang`` cookie, then Accept-Language, then Spanish."""
    allowed = [x.strip() for x in str(current_app.config["LOCALES"]).split(",")]
    asked = request.args.get("lang") or request.cookies.get("lang")
    if asked in allowed:
        return asked
    return request.accept_languages.best_match(allowed) or current_app.config["DEFAULT_LOCALE"]


def _csrf_protect() -> None:
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if request.path.startswith("/api/") and (
        request.headers.get("Authorization", "").startswith("Bearer ")
        or not request.cookies.get("session")
    ):
        # Bearer-token and cookie-less API calls carry no ambient credentials: no CSRF risk.
        return
    csrf.protect()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'",
    )
    if request.is_secure:  # HTTPS as the client sees it (after ProxyFix)
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response
