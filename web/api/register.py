"""``/api/v1/register``: the public register of the fund's projects (issue 11 item 7).

No account needed. JSON (``/api/v1/register``) or CSV (``/api/v1/register.csv``, or
``Accept: text/csv``); what it holds and never holds is :mod:`fondo.fund.register`.
``stage_label`` is in the reader's language, Spanish first (``?lang=en``, ``?lang=fr``);
``fondo projects register`` prints it in English.
"""

from __future__ import annotations

from flask import Response, request
from flask_babel import get_locale, gettext

from fondo.fund import register
from web.api.docs import Blueprint, responses_doc, strict_json
from web.context import db
from web.translations.strings_fund import ES, FR

blp = Blueprint("register", __name__, url_prefix="/api/v1",
                description="Public register of the fund's projects (no account)")


def stage_label(english: str) -> str:
    """A stage's name in the request's language (``?lang=``, cookie, Accept-Language;
    Spanish first), from the catalogues or, until they hold it, this feature's strings."""
    text = gettext(english)
    locale = str(get_locale() or "es")
    if text == english and locale in ("es", "fr"):
        text = (ES if locale == "es" else FR).get(english, english)
    return text


def _csv() -> Response:
    return Response(register.register_csv(db(), stage_label), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="fondo-register.csv"'})


@blp.get("/register")
@blp.doc(**responses_doc(200, None, "The projects (JSON; CSV with Accept: text/csv).",
                         errors=()))
def get_register():
    """Every project of the fund: name, technology, capacity, place, stage, consultation
    status and grievances received and answered — nothing private."""
    accept = request.accept_mimetypes
    if accept["text/csv"] > accept["application/json"]:  # asked for CSV rather than JSON
        return _csv()
    return strict_json(register.register_json(db(), stage_label))


@blp.get("/register.csv")
@blp.doc(**responses_doc(200, None, "The projects as CSV.", mime="text/csv", errors=()))
def get_register_csv():
    """The register as CSV (UTF-8, one header row)."""
    return _csv()
