"""Public community portal under ``/consulta/``: no account, Spanish first, phone-friendly,
printable.

Community members read a consultation's notices (with date, time, place and language),
its commitments' status and the public answers, submit feedback or a grievance (name and
contact optional, anonymous allowed, one attachment) and follow it with the receipt
code. Nothing here shows a submitter's name, contact or exact location; every user-typed
text goes through Jinja's autoescaping.

Until the lead merges ``web/translations/strings_consultation.py`` into the catalogues,
the pages look their strings up there when the compiled catalogue has none.

On a phone: every page fits 360 px (wide tables scroll inside themselves). A refused form
shows each error beside its field in the page's language (:data:`FIELD_MESSAGES`). Times
are shown in the communities' own time zone (:func:`web.i18n.community_timezone`). Links
to the portal (the poster's QR code) use ``FONDO_PUBLIC_BASE_URL``; left at its built-in
placeholder, the address the visitor used (:func:`public_base_url`).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import get_locale

from consultation import feedback as fb
from consultation import protocol as pr
from fondo.consultation import service
from fondo.consultation.schemas import (
    FeedbackRequestSchema,
    SubscriptionRequestSchema,
    location_from_form,
)
from fondo.db import run_unit_of_work
from fondo.errors import Busy, FondoError, InvalidInput, NotFound
from fondo.request_body import load_request
from web.context import db, settings
from web.extensions import RECEIPT_LOOKUP_SCOPE, limiter, receipt_lookup_limit
from web.i18n import community_timezone, local_datetime, page_gettext

bp = Blueprint("portal", __name__, url_prefix="/consulta")

#: Shown (in the page's language) when the database stayed busy through every retry.
BUSY_MESSAGE = ("Too many submissions are arriving at once: nothing was stored. Please send "
                "the form again in a few seconds.")


def _rate_limit() -> str:
    return str(current_app.config.get("RATELIMIT_PUBLIC", "10 per minute"))


#: The value ``PUBLIC_BASE_URL`` has when nobody set it (:mod:`fondo.config`'s placeholder):
#: links then use the address the visitor reached the portal by.
UNCONFIGURED_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
#: What a refused field of the feedback form is told, in words a community member can act
#: on (English msgids, shown in the page's language).
FIELD_MESSAGES = {
    "text": "Write your message (at most %(chars)s characters).",
    "category": "Choose a topic from the list.",
    "kind": "Choose opinion or complaint.",
    "name": "Your name is too long.",
    "email": "Write a valid email address, or leave it empty.",
    "phone": "Write a valid phone number (digits, spaces, + or -), or leave it empty.",
    "contact": "Write a valid email address or phone number, or leave them empty.",
    "location": "Write the latitude and longitude in decimal degrees, inside Mexico, or leave "
                "them empty.",
    "attachment": "The attachment must be a PDF, JPEG, PNG or text file of at most %(mb)s MB.",
}


def portal_gettext(msgid: str, **variables) -> str:
    """The page's translation of ``msgid`` (catalogue, then the feature tables)."""
    return page_gettext(msgid, **variables)


def public_base_url() -> str:
    """Base of the links printed on notices and posters: ``FONDO_PUBLIC_BASE_URL``, or the
    address of this request while that is unset."""
    configured = str(settings().get("PUBLIC_BASE_URL") or "").rstrip("/")
    if configured and configured != UNCONFIGURED_PUBLIC_BASE_URL:
        return configured
    return request.url_root.rstrip("/")


def _link_settings() -> dict:
    return dict(settings()) | {"PUBLIC_BASE_URL": public_base_url()}


def field_message(field: str | None) -> str:
    """The message of a refused field in the page's language (its form name)."""
    name = (field or "").rsplit(".", 1)[-1]
    if name in ("latitude", "longitude", "lat", "lon"):
        name = "location"
    if name not in FIELD_MESSAGES:
        return page_gettext("Check this field.")
    return page_gettext(FIELD_MESSAGES[name], chars=fb.MAX_TEXT_CHARS,
                        mb=fb.MAX_ATTACHMENT_BYTES // (1024 * 1024))


def label(spanish: str | None, english: str | None) -> str:
    """A label the protocol carries in Spanish and English, in the page's language (French
    through the translation tables, English when they lack it)."""
    locale = str(get_locale() or "es")
    if locale == "es":
        return spanish or english or ""
    if locale == "en":
        return english or spanish or ""
    return page_gettext(english) if english else (spanish or "")


def _zone(consultation: dict | None):
    states = [m.get("state") for m in (consultation or {}).get("municipalities") or []]
    return community_timezone([s for s in states if s])


def _lang() -> str:
    """Language of the protocol's own texts (Spanish or English; French pages show the
    English texts, marked as such)."""
    locale = str(get_locale() or "es")
    return locale if locale in pr.LANGUAGES else "en"


def _render(template: str, status: int = 200, **context):
    context.setdefault("lang", _lang())
    context.setdefault("tz", _zone(context.get("c")))
    return render_template(f"portal/{template}", _=portal_gettext, label=label,
                           local_datetime=local_datetime, **context), status


def _categories(lang: str) -> list[tuple[str, str]]:
    del lang
    return [(c.value, label(*fb.CATEGORY_LABELS[c])) for c in fb.Category]


@bp.get("/")
def index():
    """Consultations in progress and closed."""
    return _render("index.html", consultations=service.list_consultations(db(), settings())
                   ["consultations"])


def _signed_head(consultation_id: int) -> dict | None:
    """The record's signed head to show, signed and committed now if the head moved (None
    when the database stayed busy: the page shows no head rather than fail)."""
    try:
        return run_unit_of_work(db(), lambda s: service.publish_head(
            s, settings(), consultation_id, "portal"))
    except Busy:
        return None


@bp.get("/<int:consultation_id>")
def consultation(consultation_id: int):
    """One consultation: phase, communities, notices, commitments, public answers."""
    session = db()
    c = service.get_consultation(session, settings(), consultation_id)
    protocol = pr.load_protocol(c["protocol_version"])
    return _render("consultation.html", c=c, protocol=protocol,
                   notices=service.list_notices(session, consultation_id)["notices"],
                   commitments=service.list_commitments(session, consultation_id)["commitments"],
                   answers=service.public_feedback_list(session, consultation_id),
                   signed=_signed_head(consultation_id))


@bp.get("/<int:consultation_id>/opinion")
def feedback_form(consultation_id: int):
    """The feedback and grievance form."""
    c = service.get_consultation(db(), settings(), consultation_id)
    return _render("feedback_form.html", c=c, form={}, error=None, field=None, fields={},
                   client_token=secrets.token_urlsafe(24), categories=_categories(_lang()),
                   max_mb=fb.MAX_ATTACHMENT_BYTES // (1024 * 1024))


@bp.post("/<int:consultation_id>/opinion")
@limiter.limit(_rate_limit)
def submit_feedback(consultation_id: int):
    """Store a submission and show its receipt code (re-shows the form on a bad field)."""
    session = db()
    c = service.get_consultation(session, settings(), consultation_id)
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    body = {k: v for k, v in form.items() if v.strip()}
    body["anonymous"] = form.get("anonymous") in ("1", "on", "true")
    lat, lon = body.pop("latitude", None), body.pop("longitude", None)
    if lat or lon:
        body["location"] = location_from_form(lat, lon)
    upload = request.files.get("attachment")
    attachment = None
    if upload is not None and upload.filename:
        attachment = (upload.filename, upload.read(), upload.mimetype or None)
    try:
        view, _created = service.submit_feedback_committed(
            session, settings(), consultation_id, load_request(FeedbackRequestSchema(), body),
            attachment)
    except (InvalidInput, Busy) as exc:
        # Busy: the same form (and client_token) sent again stores the submission once.
        busy = isinstance(exc, Busy)
        fields = {} if busy else {_form_field(f): field_message(f) for f in
                                  ((exc.extra or {}).get("errors") or {exc.field: []})}
        page = _render("feedback_form.html", 503 if busy else 422, c=c, form=form,
                       error=portal_gettext(BUSY_MESSAGE) if busy else portal_gettext(
                           "Your submission was not sent: check the fields marked below."),
                       field=exc.field, fields=fields, client_token=form.get("client_token")
                       or secrets.token_urlsafe(24), categories=_categories(_lang()),
                       max_mb=fb.MAX_ATTACHMENT_BYTES // (1024 * 1024))
        if busy:
            return page[0], page[1], {"Retry-After": str(exc.retry_after_s)}
        return page
    return _render("receipt.html", 201, item=view, just_submitted=True, tz=_zone(c))


@bp.get("/recibo")
@limiter.shared_limit(receipt_lookup_limit, scope=RECEIPT_LOOKUP_SCOPE,
                      exempt_when=lambda: not request.args.get("codigo", "").strip())
def receipt_lookup():
    """Look up a submission by its receipt code (``?codigo=``)."""
    code = request.args.get("codigo", "").strip()
    if not code:
        return _render("receipt_lookup.html")
    try:
        view = service.feedback_by_receipt(db(), code)
    except NotFound:
        return _render("receipt_lookup.html", 404, not_found=True)
    try:
        zone = _zone(service.get_consultation(db(), settings(), view["consultation_id"]))
    except FondoError:
        zone = None
    return _render("receipt.html", item=view, just_submitted=False, tz=zone)


@bp.get("/<int:consultation_id>/avisos/<int:notice_id>")
def notice(consultation_id: int, notice_id: int):
    """A notice, printable (date, time, place, language; translations)."""
    c = service.get_consultation(db(), settings(), consultation_id)
    n = service.get_notice(db(), consultation_id, notice_id)
    return _render("notice.html", c=c, n=n, signed=_signed_head(consultation_id))


def _form_field(field: str | None) -> str:
    """The form input a service field names (``location.latitude`` → ``latitude``)."""
    name = (field or "body").rsplit(".", 1)[-1]
    return {"lat": "latitude", "lon": "longitude", "location": "latitude"}.get(name, name)


@bp.get("/<int:consultation_id>/avisos/<int:notice_id>/cartel.pdf")
def poster(consultation_id: int, notice_id: int):
    """The notice's PDF poster with a QR code to this portal."""
    lang = request.args.get("lang", _lang())
    if lang not in pr.LANGUAGES:
        abort(404)
    link_settings = _link_settings()  # the QR code points at the public address
    data = run_unit_of_work(db(), lambda s: service.poster_pdf(  # keeps the head it signs
        s, link_settings, consultation_id, notice_id, lang))
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="aviso-{notice_id}.pdf"'})


@bp.post("/<int:consultation_id>/suscribir")
@limiter.limit(_rate_limit)
def subscribe(consultation_id: int):
    """Subscribe an e-mail or phone to the notices."""
    session = db()
    c = service.get_consultation(session, settings(), consultation_id)
    body = {k: v.strip() for k, v in request.form.items()
            if k in ("email", "phone") and v.strip()}
    body["language"] = _lang()
    try:
        service.subscribe(session, consultation_id, load_request(SubscriptionRequestSchema(), body))
    except FondoError as exc:
        session.rollback()
        return _render("subscribed.html", 422, c=c, error=exc.detail)
    session.commit()
    return _render("subscribed.html", c=c, error=None)
