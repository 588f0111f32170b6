"""Public community portal under ``/consulta/``: no account, Spanish first, phone-friendly,
printable.

Community members read a consultation's notices (with date, time, place and language),
its commitments' status and the public answers, submit feedback or a grievance (name and
contact optional, anonymous allowed, one attachment) and follow it with the receipt
code. Nothing here shows a submitter's name, contact or exact location; every user-typed
text goes through Jinja's autoescaping.

Until the lead merges ``web/translations/strings_consultation.py`` into the catalogues,
the pages look their strings up there when the compiled catalogue has none.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import get_locale, gettext

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
from web.translations.strings_consultation import ES, FR

bp = Blueprint("portal", __name__, url_prefix="/consulta")

#: Shown (in the page's language) when the database stayed busy through every retry.
BUSY_MESSAGE = ("Too many submissions are arriving at once: nothing was stored. Please send "
                "the form again in a few seconds.")


def _rate_limit() -> str:
    return str(current_app.config.get("RATELIMIT_PUBLIC", "10 per minute"))


def portal_gettext(msgid: str, **variables) -> str:
    """``gettext`` with a fallback to this feature's own Spanish/French strings."""
    text = gettext(msgid, **variables)
    locale = str(get_locale() or "es")
    if text == (msgid % variables if variables else msgid) and locale in ("es", "fr"):
        table = ES if locale == "es" else FR
        if msgid in table:
            text = table[msgid] % variables if variables else table[msgid]
    return text


def _lang() -> str:
    locale = str(get_locale() or "es")
    return locale if locale in pr.LANGUAGES else "es"


def _render(template: str, status: int = 200, **context):
    context.setdefault("lang", _lang())
    return render_template(f"portal/{template}", _=portal_gettext, **context), status


def _categories(lang: str) -> list[tuple[str, str]]:
    return [(c.value, fb.CATEGORY_LABELS[c][0 if lang == "es" else 1]) for c in fb.Category]


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
    return _render("feedback_form.html", c=c, form={}, error=None, field=None,
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
        page = _render("feedback_form.html", 503 if busy else 422, c=c, form=form,
                       error=portal_gettext(BUSY_MESSAGE) if busy else exc.detail,
                       field=exc.field, client_token=form.get("client_token")
                       or secrets.token_urlsafe(24), categories=_categories(_lang()),
                       max_mb=fb.MAX_ATTACHMENT_BYTES // (1024 * 1024))
        if busy:
            return page[0], page[1], {"Retry-After": str(exc.retry_after_s)}
        return page
    return _render("receipt.html", 201, item=view, just_submitted=True)


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
    return _render("receipt.html", item=view, just_submitted=False)


@bp.get("/<int:consultation_id>/avisos/<int:notice_id>")
def notice(consultation_id: int, notice_id: int):
    """A notice, printable (date, time, place, language; translations)."""
    c = service.get_consultation(db(), settings(), consultation_id)
    n = service.get_notice(db(), consultation_id, notice_id)
    return _render("notice.html", c=c, n=n, signed=_signed_head(consultation_id))


@bp.get("/<int:consultation_id>/avisos/<int:notice_id>/cartel.pdf")
def poster(consultation_id: int, notice_id: int):
    """The notice's PDF poster with a QR code to this portal."""
    lang = request.args.get("lang", _lang())
    if lang not in pr.LANGUAGES:
        abort(404)
    data = run_unit_of_work(db(), lambda s: service.poster_pdf(  # keeps the head it signs
        s, settings(), consultation_id, notice_id, lang))
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
