"""Signed heads of the consultation record on SQLite and PostgreSQL (issue 10, item 3).

An insider with write access to the database rewrites an event, recomputes every later
hash and the unsigned anchor: the chain alone still verifies, the signed heads (Ed25519, key
outside the database) do not, and verification names the first event after the last good
head. Heads signed by another key fail; a published copy catches deleted heads; the portal,
the notice, the poster and ``GET …/anchors`` show the head.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import func, select, text

import fondo.consultation.service as cs
from consultation import anchoring as an
from consultation import record as rec
from fondo.config import ConfigError
from fondo.consultation.anchors import key_file, signing_key, trusted_keys
from fondo.consultation.models import ConsultationEvent, ConsultationSignedHead
from fondo.consultation.schemas import NoticeRequestSchema
from consultation_support import complete_phase, install_clock, make_project
from fondo.db import engine_for, session_scope
from fondo.errors import InvalidInput
from fondo.request_body import load_request

UTC = dt.timezone.utc
#: Tamazunchale, San Luis Potosí (INEGI 240370001): municipality 24037 is INPI type A.
TAMAZUNCHALE = (21.26274, -98.79152)
START = dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
#: RFC 8032 section 7.1 TEST 1: secret key (seed) and public key.
RFC8032_TEST1 = ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


@pytest.fixture
def clock(monkeypatch):
    return install_clock(monkeypatch, START)


@pytest.fixture
def cid(settings, clock) -> int:
    """A consultation at Tamazunchale (just opened)."""
    pid = make_project(settings, TAMAZUNCHALE, "Parque Eólico Huasteca")
    with session_scope(settings) as session:
        return cs.create_consultation(session, settings, {"project_id": pid}, "ana")["id"]


def step(settings, clock, cid: int, step_id: str) -> None:
    clock.advance(minutes=5)
    with session_scope(settings) as session:
        cs.record_evidence(session, settings, cid, {"steps": [step_id]}, "ana")


def publish(settings, cid: int, where: str = "api") -> dict:
    with session_scope(settings) as session:
        return cs.publish_head(session, settings, cid, where)


def verify(settings, cid: int, published=()) -> dict:
    with session_scope(settings) as session:
        return cs.verify_record(session, settings, cid, published)


def length(settings, cid: int) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(ConsultationEvent).where(
            ConsultationEvent.consultation_id == cid))


def signed_rows(settings, cid: int) -> list[tuple[int, str]]:
    with session_scope(settings) as session:
        return [(r.event_count, r.published_in) for r in session.scalars(
            select(ConsultationSignedHead).where(ConsultationSignedHead.consultation_id == cid)
            .order_by(ConsultationSignedHead.id))]


def insider_rewrite(settings, cid: int, seq: int, **payload_changes) -> None:
    """Edit event ``seq``'s payload, recompute its hash and every later one, and move the
    unsigned anchor to the new head: all a writer of the database can do."""
    with session_scope(settings) as session:
        rows = session.scalars(select(ConsultationEvent).where(
            ConsultationEvent.consultation_id == cid).order_by(ConsultationEvent.seq)).all()
        events = [{"consultation_id": str(cid), "seq": r.seq, "kind": r.kind,
                   "payload": dict(r.payload), "occurred_at": r.occurred_at} for r in rows]
    events[seq]["payload"].update(payload_changes)
    with engine_for(settings["DATABASE_URL"]).begin() as conn:
        prev = conn.execute(text("SELECT prev_hash FROM consultation_events WHERE "
                                 "consultation_id = :c AND seq = :s"), {"c": cid, "s": seq}).scalar()
        for event in events[seq:]:
            new_hash = rec.event_hash(prev, event)
            conn.execute(text("UPDATE consultation_events SET payload = :p, prev_hash = :ph, "
                              "hash = :h WHERE consultation_id = :c AND seq = :s"),
                         {"p": json.dumps(event["payload"]), "ph": prev, "h": new_hash,
                          "c": cid, "s": event["seq"]})
            prev = new_hash
        conn.execute(text("UPDATE consultation_anchors SET head_hash = :h WHERE "
                          "consultation_id = :c"), {"h": prev, "c": cid})


@pytest.fixture
def two_heads(settings, clock, cid):
    """Signed heads after the opening (count ``a``) and after three more steps (``b``)."""
    a = length(settings, cid)
    publish(settings, cid)
    for step_id in ("identify_communities", "designate_roles", "assess_depth_of_consultation"):
        step(settings, clock, cid, step_id)
    b = length(settings, cid)
    publish(settings, cid)
    assert b == a + 3 and signed_rows(settings, cid) == [(a, "api"), (b, "api")]
    return a, b


# --- the key ----------------------------------------------------------------------------


def test_key_file_is_made_once_in_the_instance_folder_with_mode_0600(settings):
    path = key_file(settings)
    assert signing_key(settings, create=False) is None and not path.exists()
    first = signing_key(settings)
    assert path == Path(settings["INSTANCE_PATH"]) / "anchor_ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert an.public_key_raw(signing_key(settings)) == an.public_key_raw(first)
    assert trusted_keys(settings) == [an.public_key_raw(first)]


def test_key_from_settings_and_precise_configuration_errors(settings, tmp_path):
    seed = base64.b64encode(bytes.fromhex(RFC8032_TEST1[0])).decode()
    key = signing_key({**settings, "ANCHOR_PRIVATE_KEY": seed})
    assert an.public_key_raw(key).hex() == RFC8032_TEST1[1]
    assert not key_file(settings).exists()  # a configured key writes no file
    with pytest.raises(ConfigError, match="FONDO_ANCHOR_KEY_FILE=.*does not exist"):
        signing_key({**settings, "ANCHOR_KEY_FILE": str(tmp_path / "missing.pem")})
    with pytest.raises(ConfigError, match="FONDO_ANCHOR_PRIVATE_KEY: .*32 bytes"):
        signing_key({**settings, "ANCHOR_PRIVATE_KEY": base64.b64encode(bytes(16)).decode()})
    with pytest.raises(ConfigError, match="FONDO_ANCHOR_TRUSTED_KEYS"):
        trusted_keys({**settings, "ANCHOR_TRUSTED_KEYS": "bm90IGEga2V5"})


# --- publication ------------------------------------------------------------------------


def test_a_head_is_signed_once_and_again_when_it_moves(settings, clock, cid):
    n = length(settings, cid)
    first = publish(settings, cid, "portal")
    head = first["signed_head"]
    assert first["record_ok"] and head["event_count"] == n and signed_rows(settings, cid) == [
        (n, "portal")]
    assert head["signed_at"] == "2026-03-02T16:00:00.000000Z" and head["consultation_id"] == str(cid)
    # checked with the library directly, over the exact text the head carries
    Ed25519PublicKey.from_public_bytes(base64.b64decode(head["public_key"])).verify(
        base64.b64decode(head["signature"]), head["signed_message"].encode())
    assert publish(settings, cid, "portal")["signed_head"] == head  # nothing moved
    step(settings, clock, cid, "identify_communities")
    moved = publish(settings, cid, "poster")["signed_head"]
    assert moved["event_count"] == n + 1 and moved["head_hash"] != head["head_hash"]
    assert signed_rows(settings, cid) == [(n, "portal"), (n + 1, "poster")]
    assert verify(settings, cid)["signed_heads"]["good"] == 2


# --- the bar: a rewrite with recomputed hashes and anchor -------------------------------


def test_rewritten_chain_with_recomputed_anchor_fails_against_the_signed_head(
        settings, cid, two_heads):
    a, b = two_heads
    insider_rewrite(settings, cid, a + 1, by="intruso")
    with session_scope(settings) as session:
        chain_only = cs.verify_consultation(session, cid)
    assert chain_only["ok"], chain_only  # the unkeyed chain and its anchor cannot see it
    out = verify(settings, cid)
    assert not out["ok"]
    assert out["first_broken_seq"] == a and out["first_broken_event"]["seq"] == a
    heads = out["signed_heads"]
    assert heads["last_good"]["event_count"] == a
    assert [h["status"] for h in heads["heads"]] == ["good", "hash_mismatch"]
    assert f"signed head of {b} events" in out["reason"]
    # the rewritten head is never signed: the last good head is shown, flagged
    again = publish(settings, cid, "portal")
    assert not again["record_ok"] and again["signed_head"]["event_count"] == a
    assert [c for c, _ in signed_rows(settings, cid)] == [a, b]


def test_the_cli_and_the_api_fail_naming_the_event(settings, cid, two_heads, client,
                                                    auth_headers):
    from fondo.cli import main

    a, _b = two_heads
    insider_rewrite(settings, cid, a + 2, by="intruso")
    result = CliRunner().invoke(main, ["consultation", "verify", str(cid)],
                                obj={"settings": settings})
    assert result.exit_code == 1
    assert f"record of consultation {cid} is broken at event seq {a}" in result.output
    answer = client.get(f"/api/v1/consultations/{cid}/verify", headers=auth_headers("officer"))
    assert answer.status_code == 200
    assert not answer.json["ok"] and answer.json["first_broken_seq"] == a
    page = client.get(f"/consulta/{cid}").get_data(as_text=True)
    last_good = answer.json["signed_heads"]["last_good"]
    assert "no coincide con sus encabezados firmados" in page
    assert f"tenía {a} eventos" in page and last_good["short_hash"] in page


# --- forged heads -----------------------------------------------------------------------


def test_heads_signed_by_another_key_fail(settings, clock, cid):
    n = length(settings, cid)
    publish(settings, cid)
    step(settings, clock, cid, "identify_communities")
    with session_scope(settings) as session:
        head_hash = session.scalar(select(ConsultationEvent.hash).where(
            ConsultationEvent.consultation_id == cid, ConsultationEvent.seq == n))
    intruder = Ed25519PrivateKey.generate()
    forged = an.sign_head(intruder, str(cid), n + 1, head_hash, clock())
    # the intruder's head, stored beside the real ones
    with session_scope(settings) as session:
        session.add(ConsultationSignedHead(
            consultation_id=cid, event_count=n + 1, head_hash=head_hash,
            signed_at=forged.signed_at, public_key=forged.public_key,
            signature=forged.signature, published_in="api"))
    out = verify(settings, cid)
    assert not out["ok"] and out["first_broken_seq"] == n
    assert out["signed_heads"]["heads"][-1]["status"] == "untrusted_key"
    # ... and with the real public key but the intruder's signature
    real_key = base64.b64encode(an.public_key_raw(signing_key(settings))).decode()
    disguised = an.SignedHead(str(cid), n + 1, head_hash, forged.signed_at, real_key,
                              forged.signature)
    with session_scope(settings) as session:
        session.execute(text("DELETE FROM consultation_signed_heads WHERE public_key = :k"),
                        {"k": forged.public_key})
    out = verify(settings, cid, [disguised])
    assert not out["ok"] and out["first_broken_seq"] == n
    assert out["signed_heads"]["heads"][-1] == {
        "event_count": n + 1, "head_hash": head_hash, "signed_at": forged.signed_at,
        "key_id": an.key_id(base64.b64decode(real_key)), "status": "bad_signature",
        "source": "supplied"}
    assert verify(settings, cid)["ok"]  # the stored heads alone are fine


def test_a_published_copy_catches_deleted_heads(settings, cid, two_heads, tmp_path):
    from fondo.cli import main

    a, _b = two_heads
    with session_scope(settings) as session:
        saved = cs.published_heads(session, settings, cid)  # what GET …/anchors printed
    insider_rewrite(settings, cid, a + 1, by="intruso")
    with engine_for(settings["DATABASE_URL"]).begin() as conn:
        conn.execute(text("DELETE FROM consultation_signed_heads WHERE consultation_id = :c"),
                     {"c": cid})
    assert verify(settings, cid)["ok"]  # with its heads deleted, the database alone agrees
    out = verify(settings, cid, cs.parse_published(saved))
    assert not out["ok"] and out["first_broken_seq"] == a
    copy = tmp_path / "anchors.json"
    copy.write_text(json.dumps(saved))
    result = CliRunner().invoke(main, ["consultation", "verify", str(cid), "--anchors", str(copy)],
                                obj={"settings": settings})
    assert result.exit_code == 1 and f"broken at event seq {a}" in result.output
    assert [h["source"] for h in json.loads(result.stdout)["signed_heads"]["heads"]] == [
        "supplied", "supplied"]


def test_bad_published_copies_are_refused_naming_the_member(settings, cid, tmp_path):
    from fondo.cli import main

    head = publish(settings, cid)["signed_head"]
    cases = [({"signed_heads": [{**head, "signature": "@@"}]}, "signed_heads[0].signature"),
             ({**head, "head_hash": "XYZ"}, "anchor.head_hash"),
             ({"signed_heads": {"a": 1}}, "signed_heads"),
             ([{k: v for k, v in head.items() if k != "event_count"}],
              "signed_heads[0].event_count")]
    copy = tmp_path / "anchors.json"
    for data, field in cases:
        with pytest.raises(InvalidInput) as err:
            cs.parse_published(data)
        assert err.value.field == field
        copy.write_text(json.dumps(data))
        result = CliRunner().invoke(main, ["consultation", "verify", str(cid), "--anchors",
                                           str(copy)], obj={"settings": settings})
        assert result.exit_code == 1 and f"({field})" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1


def test_an_earlier_key_stays_trusted_only_when_listed(settings, clock, cid):
    old = publish(settings, cid)["signed_head"]
    new_seed = base64.b64encode(bytes(range(32))).decode()
    rotated = {**settings, "ANCHOR_PRIVATE_KEY": new_seed}
    out = verify(rotated, cid)
    assert not out["ok"] and out["signed_heads"]["heads"][0]["status"] == "untrusted_key"
    trusting = {**rotated, "ANCHOR_TRUSTED_KEYS": old["public_key"]}
    assert verify(trusting, cid)["ok"]
    step(settings, clock, cid, "identify_communities")
    newer = publish(trusting, cid)["signed_head"]
    assert newer["key_id"] != old["key_id"] and verify(trusting, cid)["signed_heads"]["good"] == 2


# --- where the head is shown ------------------------------------------------------------


def test_portal_page_shows_the_signed_head_in_spanish(client, settings, cid):
    page = client.get(f"/consulta/{cid}").get_data(as_text=True)
    (count, _where), = signed_rows(settings, cid)
    with session_scope(settings) as session:
        head = cs.publish_head(session, settings, cid, "portal")["signed_head"]
    assert "Registro público firmado" in page
    assert f"el registro de esta consulta tenía {count} eventos" in page
    assert head["short_hash"] in page and head["key_id"] in page and head["signature"] in page
    assert signed_rows(settings, cid) == [(count, "portal")]
    english = client.get(f"/consulta/{cid}?lang=en").get_data(as_text=True)
    assert "Signed public record" in english and f"had {count} events" in english
    assert len(signed_rows(settings, cid)) == 1  # the head did not move


def test_notice_page_and_poster_show_the_head_signed_at_publication(client, settings, clock,
                                                                    cid):
    clock.advance(days=20)
    with session_scope(settings) as session:
        complete_phase(session, settings, cid)  # protocol version 2's preparacion
        cs.change_phase(session, settings, cid, {"to_phase": "acuerdos_previos"}, "ana")
        notice = cs.publish_notice(session, settings, cid, load_request(NoticeRequestSchema(), {
            "community": "Tamazunchale", "starts_at": "2026-04-12T10:00:00-06:00",
            "place": "Auditorio municipal", "meeting_language": "Náhuatl"}), "ana")
    n = length(settings, cid)
    assert signed_rows(settings, cid) == [(n, "notice")]
    page = client.get(f"/consulta/{cid}/avisos/{notice['id']}").get_data(as_text=True)
    with session_scope(settings) as session:
        head = cs.publish_head(session, settings, cid, "portal")["signed_head"]
    assert head["event_count"] == n and head["short_hash"] in page
    pdf = client.get(f"/consulta/{cid}/avisos/{notice['id']}/cartel.pdf").data
    assert f"Huella del registro: {head['head_hash']}".encode() in pdf
    assert head["signature"].encode() in pdf
    assert signed_rows(settings, cid) == [(n, "notice")]  # nothing new to sign


def test_anchors_endpoint_is_public_and_verifiable_with_any_ed25519_tool(client, settings,
                                                                         cid):
    answer = client.get(f"/api/v1/consultations/{cid}/anchors")
    assert answer.status_code == 200
    body = answer.json
    public = base64.b64decode(body["public_key"])
    assert body["key_id"] == an.key_id(public) and body["algorithm"] == "Ed25519"
    assert [h["event_count"] for h in body["signed_heads"]] == [length(settings, cid)]
    for head in body["signed_heads"]:
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(head["signature"]), head["signed_message"].encode())
        assert json.loads(head["signed_message"])["head_hash"] == head["head_hash"]
    assert signed_rows(settings, cid) == [(length(settings, cid), "api")]
    missing = client.get("/api/v1/consultations/999999/anchors")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


def test_record_export_carries_the_signed_heads(settings, cid, two_heads):
    _a, b = two_heads
    with session_scope(settings) as session:
        data = cs.record_json(session, settings, cid)
        pdf = cs.record_pdf(session, settings, cid)
    assert data["verification"]["signed_heads"]["good"] == 2
    assert data["verification"]["signed_heads"]["last_good"]["event_count"] == b
    assert "Ed25519" in data["signed_head_rule"]
    assert pdf.startswith(b"%PDF-")


def test_a_stored_head_with_our_key_but_not_our_signature_is_never_shown_as_current(
        settings, clock, cid):
    good = publish(settings, cid)["signed_head"]
    step(settings, clock, cid, "identify_communities")
    with session_scope(settings) as session:
        head_hash = session.scalar(select(ConsultationEvent.hash).where(
            ConsultationEvent.consultation_id == cid,
            ConsultationEvent.seq == good["event_count"]))
        session.add(ConsultationSignedHead(  # an insider's row: our public key, no signature
            consultation_id=cid, event_count=good["event_count"] + 1, head_hash=head_hash,
            signed_at=good["signed_at"], public_key=good["public_key"],
            signature=base64.b64encode(bytes(64)).decode(), published_in="portal"))
    shown = publish(settings, cid, "portal")
    assert not shown["record_ok"] and shown["signed_head"] == good
    out = verify(settings, cid)
    assert not out["ok"] and out["first_broken_seq"] == good["event_count"]
    assert out["signed_heads"]["heads"][-1]["status"] == "bad_signature"
