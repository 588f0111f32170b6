"""Printable PDF poster of a consultation notice, with a QR code to the portal page.

The poster states in large type what, when (date and time), where and in which
language, and carries a QR code of the portal URL passed in. It is built in memory
with reportlab and returned as bytes; the QR modules come from the ``qrcode`` library
and are drawn as vector squares (no raster image). Given a signed head of the
consultation's record (:mod:`consultation.anchoring`), the poster prints it in full at the
foot (event count, time, head hash, key id and Ed25519 signature), so that every printed
copy is a published anchor an auditor can check the record against.

References
----------
.. [1] ISO/IEC 18004:2015, QR Code bar code symbology (error-correction level M, quiet
   zone of 4 modules).
"""

from __future__ import annotations

import io

import numpy as np
import qrcode
import qrcode.constants
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from consultation.anchoring import SignedHead
from consultation.notices import Notice

__all__ = ["QR_QUIET_ZONE_MODULES", "PAGE_SIZE_PT", "qr_modules", "anchor_lines", "render_poster"]

QR_QUIET_ZONE_MODULES = 4
"""Light margin around the QR symbol (ISO/IEC 18004:2015, section 5.3.8). [modules]"""

PAGE_SIZE_PT = letter
"""US Letter, the usual paper size in Mexico and Canada. [pt]"""

_QR_SIDE_PT = 60 * mm
_MARGIN_PT = 18 * mm
#: Type size and leading of the signed head's lines (a 64-byte signature in base64, 88
#: characters, plus its label fits the text width in Courier at this size). [pt]
_ANCHOR_FONT_PT = 6.5
_ANCHOR_LEADING_PT = 8.5


def qr_modules(url: str) -> np.ndarray:
    """Boolean module matrix (True = dark) of the QR code of ``url``, without quiet zone.

    Error-correction level M (about 15 % of codewords recoverable, ISO/IEC 18004).
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be an http(s) URL, got {url!r}")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def _check_encodable(text: str, what: str) -> str:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise ValueError(
            f"{what} has character {bad!r} (U+{ord(bad):04X}) that the poster's standard "
            "font cannot print; publish that text on the portal instead"
        ) from None
    return text


def _wrap(c: canvas.Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines = []
    for paragraph in text.split("\n"):
        words, line = paragraph.split(" "), ""
        for w in words:
            trial = (line + " " + w).strip()
            if c.stringWidth(trial, font, size) <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = w
        lines.append(line)
    return lines


def anchor_lines(signed_head: SignedHead, language: str) -> list[str]:
    """The poster's lines stating a signed head of the record, in ``language`` (es or en).

    Examples
    --------
    >>> head = SignedHead("7", 12, "ab" * 32, "2026-03-02T16:00:00.000000Z",
    ...                   "A" * 43 + "=", "B" * 86 + "==")
    >>> anchor_lines(head, "es")[0]
    'Registro público firmado (Ed25519): 12 eventos al 2026-03-02 16:00 UTC'
    """
    at = f"{signed_head.signed_at[:10]} {signed_head.signed_at[11:16]} UTC"
    if language == "es":
        return [f"Registro público firmado (Ed25519): {signed_head.event_count} eventos al {at}",
                f"Huella del registro: {signed_head.head_hash}",
                f"Llave {signed_head.key_id}, firma: {signed_head.signature}"]
    return [f"Signed public record (Ed25519): {signed_head.event_count} events as of {at}",
            f"Record hash: {signed_head.head_hash}",
            f"Key {signed_head.key_id}, signature: {signed_head.signature}"]


def render_poster(notice: Notice, portal_url: str,
                  signed_head: SignedHead | None = None) -> bytes:
    """A one-page PDF poster for ``notice`` with a QR code to ``portal_url``.

    Parameters
    ----------
    notice : Notice
        From :func:`consultation.notices.render_notice`.
    portal_url : str
        Public page of the consultation; encoded in the QR code and printed below it.
    signed_head : SignedHead, optional
        The record's signed head, printed in full at the foot (:func:`anchor_lines`).

    Returns
    -------
    bytes
        A PDF document (uncompressed page stream, reproducible: no creation date).

    Raises
    ------
    ValueError
        If ``portal_url`` is not http(s) or a text has characters outside Windows-1252
        (the standard PDF fonts' encoding).
    """
    modules = qr_modules(portal_url)
    f = notice.fields
    es = notice.language == "es"
    labels = (("Fecha", "Hora", "Lugar", "Lengua") if es else ("Date", "Time", "Place", "Language"))
    rows = list(zip(labels, (f["date"], f["time"], f["place"], f["meeting_language"])))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=PAGE_SIZE_PT, invariant=1, pageCompression=0)
    c.setTitle(_check_encodable(notice.title, "title"))
    width, height = PAGE_SIZE_PT
    text_width = width - 2 * _MARGIN_PT
    y = height - _MARGIN_PT
    c.setFont("Helvetica-Bold", 13)
    header = "AVISO DE CONSULTA" if es else "CONSULTATION NOTICE"
    c.drawString(_MARGIN_PT, y - 13, header)
    y -= 34
    for line in _wrap(c, _check_encodable(notice.title, "title"), "Helvetica-Bold", 22, text_width):
        c.setFont("Helvetica-Bold", 22)
        c.drawString(_MARGIN_PT, y - 22, line)
        y -= 28
    y -= 10
    for label, value in rows:
        c.setFont("Helvetica-Bold", 18)
        c.drawString(_MARGIN_PT, y - 18, label + ":")
        value_lines = _wrap(c, _check_encodable(value, label), "Helvetica", 18, text_width - 90)
        for line in value_lines:
            c.setFont("Helvetica", 18)
            c.drawString(_MARGIN_PT + 90, y - 18, line)
            y -= 24
        y -= 6
    if f.get("interpreter_language"):
        c.setFont("Helvetica", 14)
        interp = _check_encodable(f["interpreter_language"], "interpreter_language")
        c.drawString(_MARGIN_PT, y - 14,
                     ("Intérprete: " if es else "Interpreter: ") + interp)
        y -= 24
    if notice.translations:
        names = ", ".join(t.language_name for t in notice.translations)
        c.setFont("Helvetica", 12)
        c.drawString(_MARGIN_PT, y - 12, _check_encodable(
            ("Aviso también en: " if es else "Notice also in: ") + names, "translation names"))
        y -= 20
    # The signed head at the foot, the URL and the QR code above it.
    foot = _MARGIN_PT
    if signed_head is not None:
        lines = anchor_lines(signed_head, notice.language)
        c.setFont("Courier", _ANCHOR_FONT_PT)
        for i, line in enumerate(reversed(lines)):
            c.drawString(_MARGIN_PT, _MARGIN_PT + i * _ANCHOR_LEADING_PT,
                         _check_encodable(line, "signed head"))
        foot += len(lines) * _ANCHOR_LEADING_PT + 6
    # QR code, bottom centre, with its quiet zone left white.
    n = modules.shape[0]
    module_pt = _QR_SIDE_PT / (n + 2 * QR_QUIET_ZONE_MODULES)
    x0 = (width - _QR_SIDE_PT) / 2 + QR_QUIET_ZONE_MODULES * module_pt
    y_top = foot + 14 + _QR_SIDE_PT - QR_QUIET_ZONE_MODULES * module_pt
    c.setFillColorRGB(0, 0, 0)
    rows_idx, cols_idx = np.nonzero(modules)
    for r, col in zip(rows_idx.tolist(), cols_idx.tolist()):
        c.rect(x0 + col * module_pt, y_top - (r + 1) * module_pt, module_pt, module_pt,
               stroke=0, fill=1)
    c.setFont("Helvetica", 11)
    c.drawCentredString(width / 2, foot, _check_encodable(portal_url, "portal_url"))
    c.showPage()
    c.save()
    return buf.getvalue()
