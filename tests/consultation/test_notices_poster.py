"""Notices (templates, translation, escaping) and the PDF poster."""

import datetime as dt

import pytest

from consultation.notices import (
    NoticeFields, add_translation, check_lead_time, render_notice,
)
from consultation.poster import QR_QUIET_ZONE_MODULES, qr_modules, render_poster

MX = dt.timezone(dt.timedelta(hours=-6))
URL = "https://fondo.example.org/consulta/42"


def fields(**kw):
    args = dict(project_name="Parque Solar Los Altos", community="Tancanhuitz",
                starts_at=dt.datetime(2026, 3, 17, 10, 0, tzinfo=MX),
                ends_at=dt.datetime(2026, 3, 17, 14, 0, tzinfo=MX),
                place="Casa comunal, plaza principal", meeting_language="Tének",
                portal_url=URL, interpreter_language="Tének")
    args.update(kw)
    return NoticeFields(**args)


def test_spanish_notice_has_date_time_place_language(protocol):
    n = render_notice(protocol, "informativa", "es", fields())
    assert "Fecha: martes 17 de marzo de 2026" in n.body
    assert "Hora: 10:00 a 14:00 h (hora del centro de México)" in n.body
    assert "Lugar: Casa comunal, plaza principal" in n.body
    assert "Lengua de la reunión: Tének" in n.body
    assert "Habrá intérprete en Tének." in n.body
    assert n.title == "Aviso de consulta: sesión informativa — Parque Solar Los Altos"
    assert n.fields["starts_at"] == "2026-03-17T10:00:00-06:00"
    assert n.protocol_version == protocol.version


def test_english_notice_and_timezone_conversion(protocol):
    # 16:00 UTC is 10:00 in Mexico City (UTC-6, no DST since 2022).
    f = fields(starts_at=dt.datetime(2026, 3, 17, 16, 0, tzinfo=dt.timezone.utc), ends_at=None,
               interpreter_language=None)
    n = render_notice(protocol, "consultiva", "en", f)
    assert "Date: Tuesday 17 March 2026" in n.body
    assert "Time: 10:00 h (central Mexico time)" in n.body
    assert "No interpreter scheduled" in n.body


def test_injection_is_inert(protocol):
    f = fields(place="Salón <script>alert(1)</script>\n$portal_url {0.__class__}",
               community="${place}")
    n = render_notice(protocol, "acuerdos_previos", "es", f)
    # Field values are substituted once: no template expansion, no line injection.
    assert "Lugar: Salón <script>alert(1)</script> $portal_url {0.__class__}\n" in n.body
    assert "comunidad de ${place}" in n.body
    assert "<script>" not in n.body_html and "&lt;script&gt;" in n.body_html


def test_translation_names_language(protocol):
    n = render_notice(protocol, "informativa", "es", fields())
    t = add_translation(n, "Tének (huasteco)", "Atáj an tsalpadh", "Texto en tének.\nLínea 2",
                        translated_by="Intérprete certificado INALI", language_code="hus")
    assert t.translations[0].language_name == "Tének (huasteco)"
    assert "— Traducción al Tének (huasteco) —" in t.full_text()
    assert n.translations == ()
    with pytest.raises(ValueError, match="ISO 639-3"):
        add_translation(n, "Tének", "t", "b", "x", language_code="huasteco")
    with pytest.raises(ValueError, match="already has a translation"):
        add_translation(t, "Tének (huasteco)", "t", "b", "x")
    with pytest.raises(ValueError, match="required"):
        add_translation(n, "Tének", "t", "  ", "x")


def test_notice_refusals(protocol):
    with pytest.raises(ValueError, match="no public notice"):
        render_notice(protocol, "deliberativa", "es", fields())
    with pytest.raises(ValueError, match="language must be one of"):
        render_notice(protocol, "informativa", "fr", fields())
    with pytest.raises(ValueError, match="'place' is required"):
        render_notice(protocol, "informativa", "es", fields(place=" "))
    with pytest.raises(ValueError, match="timezone-aware"):
        render_notice(protocol, "informativa", "es", fields(starts_at=dt.datetime(2026, 3, 17)))
    with pytest.raises(ValueError, match="must be after"):
        render_notice(protocol, "informativa", "es",
                      fields(ends_at=dt.datetime(2026, 3, 17, 9, 0, tzinfo=MX)))
    with pytest.raises(ValueError, match="http"):
        render_notice(protocol, "informativa", "es", fields(portal_url="javascript:alert(1)"))


def test_lead_time(protocol):
    start = dt.datetime(2026, 3, 17, 10, tzinfo=MX)
    check_lead_time(start - dt.timedelta(days=7), start, protocol)
    with pytest.raises(ValueError, match="requires at least 7"):
        check_lead_time(start - dt.timedelta(days=6, hours=23), start, protocol)


def test_qr_modules():
    m = qr_modules(URL)
    # QR version v has 17 + 4 v modules per side (ISO/IEC 18004); finder pattern top-left:
    # 7x7 dark ring with a dark 3x3 centre.
    n = m.shape[0]
    assert m.shape == (n, n) and (n - 17) % 4 == 0
    finder = m[:7, :7]
    assert finder[0].all() and finder[6].all() and finder[:, 0].all() and finder[:, 6].all()
    assert not finder[1, 1:6].any() and finder[2:5, 2:5].all()
    assert m[:7, -7:][0].all() and m[-7:, :7][0].all()
    with pytest.raises(ValueError, match="http"):
        qr_modules("ftp://x")


def test_poster_pdf(protocol):
    n = render_notice(protocol, "informativa", "es", fields())
    pdf = render_poster(n, URL)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    # Page stream is uncompressed: the text and one filled square per dark module appear.
    for text in (b"Fecha:", b"Hora:", b"Lugar:", b"Lengua:", b"17 de marzo de 2026",
                 b"10:00 a 14:00 h", URL.encode()):
        assert text in pdf, text
    assert pdf.count(b" re f") == int(qr_modules(URL).sum())
    # Reproducible: same input, same bytes.
    assert render_poster(n, URL) == pdf
    assert QR_QUIET_ZONE_MODULES == 4


def test_poster_refuses_unprintable(protocol):
    n = render_notice(protocol, "informativa", "es", fields(place="Casa ꞌcomunal"))
    with pytest.raises(ValueError, match="U\\+A78C"):
        render_poster(n, URL)
