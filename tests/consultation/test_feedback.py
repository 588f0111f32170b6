"""Feedback and grievances: validation, attachments, receipt codes, status, views."""

import datetime as dt
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consultation import feedback as fb
from consultation.feedback import FeedbackError, FeedbackItem, FeedbackStatus

UTC = dt.timezone.utc
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 10
EXE = b"MZ\x90\x00\x03\x00\x00\x00"


def submission(**kw):
    args = dict(kind="grievance", category="water_and_environment",
                text="El polvo de la obra llega al pozo.", language="es")
    args.update(kw)
    return fb.validate_submission(**args)


def test_anonymous_submission():
    s = submission(anonymous=True)
    assert s.anonymous and s.name is None and s.contact is None
    with pytest.raises(FeedbackError) as info:
        submission(anonymous=True, email="ana@example.org")
    assert info.value.field == "anonymous"


@pytest.mark.parametrize("kw, field", [
    ({"kind": "complaint"}, "kind"),
    ({"category": "weather"}, "category"),
    ({"text": "   "}, "text"),
    ({"text": "x" * (fb.MAX_TEXT_CHARS + 1)}, "text"),
    ({"text": "hola\x00"}, "text"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "12"}, "phone"),
    ({"location": (40.7, -74.0)}, "location"),      # New York
    ({"location": (21.0, -70.0)}, "location"),      # Caribbean east of Mexico
    ({"location": "here"}, "location"),
    ({"language": "Español"}, "language"),
    ({"client_token": "short"}, "client_token"),
])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(FeedbackError) as info:
        submission(**kw)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(field + ":")


def test_contact_normalised():
    s = submission(name=" Ana ", email="ana@example.org", phone="+52 (444) 123-4567",
                   location={"latitude": 21.88, "longitude": -102.29})
    assert s.name == "Ana" and s.contact.phone == "+524441234567"
    assert s.location.latitude == 21.88


def test_mexico_bbox_contains_every_state(data_geo_dir):
    # The bbox constant must contain Natural Earth's 32 states (bundled data).
    import geopandas
    states = geopandas.read_file(data_geo_dir / "mx_states_ne10m.geojson")
    min_lon, min_lat, max_lon, max_lat = states.total_bounds
    b = fb.MEXICO_BBOX
    assert b[0] <= min_lon and b[1] <= min_lat and b[2] >= max_lon and b[3] >= max_lat


@pytest.mark.parametrize("data, mime", [(PDF, "application/pdf"), (PNG, "image/png"),
                                        (JPEG, "image/jpeg"),
                                        ("Queja en texto: ñandú\n".encode(), "text/plain")])
def test_attachment_types_by_magic(data, mime):
    att = fb.validate_attachment("../../etc/foto final.exe", data)
    assert att.mime_type == mime and att.size_bytes == len(data)
    assert "/" not in att.filename and att.filename.startswith("foto_final")
    assert att.filename.endswith({"application/pdf": ".pdf", "image/png": ".png",
                                  "image/jpeg": ".jpg", "text/plain": ".txt"}[mime])


def test_attachment_refusals():
    with pytest.raises(FeedbackError, match="type not allowed") as info:
        fb.validate_attachment("a.pdf", EXE)
    assert info.value.field == "attachment"
    with pytest.raises(FeedbackError, match="does not match content"):
        fb.validate_attachment("a.png", PDF, declared_type="image/png")
    with pytest.raises(FeedbackError, match="empty"):
        fb.validate_attachment("a.txt", b"")
    big = PDF + b"0" * (fb.MAX_ATTACHMENT_BYTES - len(PDF) + 1)
    with pytest.raises(FeedbackError, match=f"limit {5 * 1024 * 1024} bytes"):
        fb.validate_attachment("a.pdf", big)
    exact = PDF + b"0" * (fb.MAX_ATTACHMENT_BYTES - len(PDF))
    assert fb.validate_attachment("a.pdf", exact).size_bytes == 5 * 1024 * 1024
    with pytest.raises(FeedbackError):
        fb.validate_attachment("a.txt", b"\x00\x01binary")


def test_crockford_check_by_hand():
    # "16J" = 1*32^2 + 6*32 + 18 = 1234; 1234 mod 37 = 13 -> symbol 'D'
    assert fb.crockford_check_symbol("16J") == "D"
    # "Z" = 31 -> 31 mod 37 = 31 -> 'Z'; "10" = 32 -> 32 -> '*'; "15" = 37 -> 0 -> '0'
    assert fb.crockford_check_symbol("Z") == "Z"
    assert fb.crockford_check_symbol("10") == "*"
    assert fb.crockford_check_symbol("15") == "0"


def test_receipt_codes():
    codes = {fb.new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{9}[0-9A-HJKMNP-TV-Z*~$=U]", code)
        assert fb.normalize_receipt_code(code) == code
        pretty = fb.format_receipt_code(code)
        assert fb.normalize_receipt_code(pretty.lower()) == code


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=fb.CROCKFORD_ALPHABET, min_size=9, max_size=9), st.integers(0, 8),
       st.sampled_from(fb.CROCKFORD_ALPHABET))
def test_single_substitution_is_caught(data, pos, sub):
    code = data + fb.crockford_check_symbol(data)
    typo = code[:pos] + sub + code[pos + 1:]
    if typo != code:
        with pytest.raises(FeedbackError) as info:
            fb.normalize_receipt_code(typo)
        assert info.value.field == "receipt_code"


def test_receipt_code_confusables_and_errors():
    code = "1O0000000"
    code = code.replace("O", "0") + fb.crockford_check_symbol(code.replace("O", "0"))
    assert fb.normalize_receipt_code("lo000-0000" + code[-1]) == code
    for bad in ("", "ABC", "ABCDEFGHJKMN", "U00000000A"):
        with pytest.raises(FeedbackError):
            fb.normalize_receipt_code(bad)


def test_status_transitions():
    S = FeedbackStatus
    assert fb.transition_status("received", "acknowledged") is S.ACKNOWLEDGED
    assert fb.transition_status(S.ANSWERED, S.ESCALATED) is S.ESCALATED
    with pytest.raises(FeedbackError, match="allowed: acknowledged, escalated") as info:
        fb.transition_status("received", "closed")
    assert info.value.field == "status"
    with pytest.raises(FeedbackError, match="final status"):
        fb.transition_status("closed", "answered")


def test_public_view_redacts_contact():
    s = submission(name="Juana Pérez", email="juana@example.org", phone="4441234567",
                   location=(21.879823, -102.296051), text="<script>alert(1)</script>")
    item = FeedbackItem("ABCDEFGHJ" + fb.crockford_check_symbol("ABCDEFGHJ"), s,
                        dt.datetime(2026, 3, 13, 16, tzinfo=UTC), officer_notes="visitar")
    public = fb.public_view(item)
    text = json.dumps(public)
    for secret in ("Juana", "juana@example.org", "4441234567", "visitar", "<script>",
                   "21.879823"):
        assert secret not in text
    assert public["location"] == {"latitude": 21.88, "longitude": -102.3}
    assert fb.public_view(item, include_text=True)["text"] == "<script>alert(1)</script>"
    officer = fb.officer_view(item)
    assert officer["email"] == "juana@example.org" and officer["name"] == "Juana Pérez"
    assert officer["location"]["latitude"] == 21.879823
