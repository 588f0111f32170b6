"""Signed heads of the record (issue 10): Ed25519 against RFC 8032's published vectors, the
signed bytes written out by hand, and a rewrite with recomputed hashes caught by a signed head."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consultation import anchoring as an
from consultation import record as rec

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC)

#: RFC 8032 section 7.1, "TEST 1" and "TEST 2": (secret key, public key, message, signature).
RFC8032_VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     ("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")),
]


def key(seed_byte: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)


def chain(n: int, consultation_id: str = "7") -> list[dict]:
    events: list = []
    for i in range(n):
        events.append(rec.append(events, "step_completed", {"id": f"step_{i}", "note": "n"},
                                 T0 + dt.timedelta(hours=i), consultation_id).as_row())
    return events


def rewrite(events: list[dict], position: int, payload: dict) -> list[dict]:
    """Edit one event's payload and recompute its hash and every later one (an insider)."""
    out = [dict(e) for e in events[:position]]
    for i, event in enumerate(events[position:], start=position):
        event = dict(event, payload=payload if i == position else event["payload"])
        prev = out[-1]["hash"] if out else rec.GENESIS_HASH
        event["prev_hash"] = prev
        event["hash"] = rec.event_hash(prev, event)
        out.append(event)
    return out


@pytest.mark.parametrize("secret, public, message, signature", RFC8032_VECTORS)
def test_ed25519_matches_rfc8032_test_vectors(secret, public, message, signature):
    seed_b64 = base64.b64encode(bytes.fromhex(secret))
    private = an.private_key_from_bytes(seed_b64)
    assert an.public_key_raw(private).hex() == public
    produced = an.sign_bytes(private, bytes.fromhex(message))
    assert produced.hex() == signature
    assert an.verify_bytes(bytes.fromhex(public), bytes.fromhex(message), produced)
    tampered = bytes([produced[0] ^ 1]) + produced[1:]
    assert not an.verify_bytes(bytes.fromhex(public), bytes.fromhex(message), tampered)
    assert not an.verify_bytes(bytes.fromhex(public), bytes.fromhex(message) + b"x", produced)


def test_pem_round_trip_keeps_the_key():
    private = key(3)
    again = an.private_key_from_bytes(an.private_key_pem(private))
    assert an.public_key_raw(again) == an.public_key_raw(private)
    with pytest.raises(ValueError, match="has 32 bytes, this one 31"):
        an.private_key_from_bytes(base64.b64encode(bytes(31)))
    with pytest.raises(ValueError, match="neither PEM nor"):
        an.private_key_from_bytes(b"not a key at all!")


def test_signed_message_is_the_canonical_json_written_by_hand():
    message = an.signed_message("7", 12, "ab" * 32, T0)
    assert message == (b'{"consultation_id":"7","event_count":12,"head_hash":"' + b"ab" * 32
                       + b'","signed_at":"2026-03-02T16:00:00.000000Z",'
                       b'"type":"fondo.consultation.signed-head/1"}')
    with pytest.raises(ValueError) as err:
        an.signed_message("7", 1, "AB" * 32, T0)
    assert err.value.field == "head_hash"
    with pytest.raises(ValueError) as err:
        an.signed_message("7", 1, "ab" * 32, dt.datetime(2026, 3, 2))
    assert err.value.field == "signed_at"


def test_key_id_is_the_sha256_prefix_of_the_raw_public_key():
    # RFC 8032 TEST 1 public key, hashed by coreutils:
    # printf d75a…511a | xxd -r -p | sha256sum  ->  21fe31dfa154a261626bf854046fd227…
    assert an.key_id(bytes.fromhex(RFC8032_VECTORS[0][1])) == "21fe31dfa154a261"


def test_sign_and_check_a_head():
    private = key(1)
    head = an.sign_head(private, "7", 3, "cd" * 32, T0)
    trusted = [an.public_key_raw(private)]
    assert an.signature_status(head, trusted) == (an.HeadStatus.GOOD, "")
    assert an.signature_status(head, [an.public_key_raw(key(2))])[0] == an.HeadStatus.UNTRUSTED_KEY
    for change in ({"event_count": 4}, {"head_hash": "ce" * 32}, {"consultation_id": "8"},
                   {"signed_at": "2026-03-02T16:00:00.000001Z"}):
        forged = dataclasses.replace(head, **change)
        assert an.signature_status(forged, trusted)[0] == an.HeadStatus.BAD_SIGNATURE, change
    assert an.parse_signed_head(head.as_dict()) == head


def test_a_rewrite_with_recomputed_hashes_passes_the_chain_but_not_a_signed_head():
    private = key(1)
    trusted = [an.public_key_raw(private)]
    events = chain(6)
    heads = [an.sign_head(private, "7", n, events[n - 1]["hash"], T0 + dt.timedelta(hours=n))
             for n in (2, 4)]
    assert an.check_heads(events, heads, trusted, "7").ok
    forged = rewrite(events, 3, {"id": "step_3", "note": "otra cosa"})
    assert rec.verify(forged).ok  # the unkeyed chain alone cannot see it
    check = an.check_heads(forged, heads, trusted, "7")
    assert not check.ok
    assert check.first_broken_seq == 2  # first event after the last good head (2 events)
    assert check.last_good == heads[0]
    assert [s for _, s in check.statuses] == [an.HeadStatus.GOOD, an.HeadStatus.HASH_MISMATCH]
    assert "hash_mismatch" in check.reason


def test_forged_and_foreign_heads_fail():
    private, other = key(1), key(2)
    trusted = [an.public_key_raw(private)]
    events = chain(4)
    good = an.sign_head(private, "7", 2, events[1]["hash"], T0)
    # the insider signs the real head with a key of their own
    forged = an.sign_head(other, "7", 4, events[3]["hash"], T0)
    check = an.check_heads(events, [good, forged], trusted, "7")
    assert not check.ok and check.first_broken_seq == 2
    assert check.statuses[1][1] == an.HeadStatus.UNTRUSTED_KEY
    # a genuine head of another consultation
    foreign = an.sign_head(private, "8", 2, events[1]["hash"], T0)
    assert an.check_heads(events, [foreign], trusted, "7").statuses[0][1] == (
        an.HeadStatus.OTHER_CONSULTATION)
    # a head beyond the end: the tail was cut off
    beyond = an.check_heads(events[:3], [good, an.sign_head(private, "7", 4, events[3]["hash"],
                                                             T0)], trusted, "7")
    assert beyond.statuses[1][1] == an.HeadStatus.BEYOND_END and beyond.first_broken_seq == 2


@pytest.mark.parametrize("change, field", [
    ({"signature": None}, "anchor.signature"),
    ({"signature": "@@@"}, "anchor.signature"),
    ({"signature": base64.b64encode(bytes(63)).decode()}, "anchor.signature"),
    ({"public_key": base64.b64encode(bytes(31)).decode()}, "anchor.public_key"),
    ({"head_hash": "zz"}, "anchor.head_hash"),
    ({"event_count": 0}, "anchor.event_count"),
    ({"event_count": True}, "anchor.event_count"),
    ({"signed_at": "2026-03-02 16:00"}, "anchor.signed_at"),
])
def test_parse_signed_head_names_the_bad_member(change, field):
    data = an.sign_head(key(1), "7", 3, "cd" * 32, T0).as_dict()
    for name, value in change.items():
        if value is None:
            del data[name]
        else:
            data[name] = value
    with pytest.raises(ValueError) as err:
        an.parse_signed_head(data)
    assert err.value.field == field


@hsettings(max_examples=25, deadline=None)
@given(n=st.integers(2, 9), data=st.data())
def test_with_a_head_at_every_count_the_rewritten_event_is_named_exactly(n, data):
    """Law: signed heads at every count name the rewritten event itself."""
    private = key(5)
    events = chain(n)
    heads = [an.sign_head(private, "7", k, events[k - 1]["hash"], T0) for k in range(1, n + 1)]
    position = data.draw(st.integers(0, n - 1), label="position")
    forged = rewrite(events, position, {"forged": data.draw(st.integers(-10**6, 10**6), label="value")})
    check = an.check_heads(forged, heads, [an.public_key_raw(private)], "7")
    assert not check.ok and check.first_broken_seq == position


def test_poster_prints_the_signed_head_below_the_url_and_qr_code(protocol):
    import re

    from consultation.notices import NoticeFields, render_notice
    from consultation.poster import qr_modules, render_poster

    url = "https://fondo.example.org/consulta/42"
    mx = dt.timezone(dt.timedelta(hours=-6))
    notice = render_notice(protocol, "informativa", "es", NoticeFields(
        project_name="Parque Solar Los Altos", community="Tancanhuitz",
        starts_at=dt.datetime(2026, 3, 17, 10, 0, tzinfo=mx), ends_at=None, place="Casa comunal",
        meeting_language="Tének", portal_url=url))
    head = an.sign_head(key(1), "42", 12, "ab" * 32, T0)
    pdf = render_poster(notice, url, head)
    # uncompressed page stream: "1 0 0 1 x y Tm (text) Tj"; one "x y w h re f" per QR module
    lines = {text: float(y) for y, text in re.findall(rb"1 0 0 1 [\d.]+ ([\d.]+) Tm \((.*?)\) Tj",
                                                         pdf)}
    printed = {
        "count": b"Registro p\\372blico firmado \\(Ed25519\\): 12 eventos al 2026-03-02 16:00 UTC",
        "hash": b"Huella del registro: " + b"ab" * 32,
        "key": f"Llave {head.key_id}, firma: {head.signature}".encode(),
    }
    for what, text in printed.items():
        assert text in lines, what
    top_of_head = max(lines[t] for t in printed.values())
    assert lines[url.encode()] > top_of_head + 6  # the URL sits above the signed head
    squares = re.findall(rb"[\d.]+ ([\d.]+) [\d.]+ [\d.]+ re f", pdf)
    assert len(squares) == int(qr_modules(url).sum())
    assert min(float(y) for y in squares) > lines[url.encode()]
    english = render_poster(dataclasses.replace(notice, language="en"), url, head)
    assert b"Signed public record \\(Ed25519\\): 12 events as of 2026-03-02 16:00 UTC" in english
    assert render_poster(notice, url, head) == pdf  # reproducible
