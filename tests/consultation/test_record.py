"""Hash chain: canonical JSON (RFC 8785 vectors) and tamper evidence (Hypothesis)."""

import copy
import datetime as dt
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultation.record import (
    GENESIS_HASH, ChainEvent, append, canonical_json, event_hash, format_occurred_at, verify,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
HYPOTHESIS = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])


def test_rfc8785_vectors(reference_dir):
    cases = json.loads((reference_dir / "rfc8785_vectors.json").read_text("utf-8"))["cases"]
    for case in cases:
        assert canonical_json(json.loads(case["input_json"])).decode("utf-8") == case["canonical"], \
            case["name"]


def test_canonical_json_refusals():
    with pytest.raises(ValueError, match=r"\$\.a\[1\]: non-finite"):
        canonical_json({"a": [1, float("nan")]})
    with pytest.raises(ValueError, match="outside"):
        canonical_json(2**53)
    with pytest.raises(ValueError, match="not a string"):
        canonical_json({1: "x"})
    with pytest.raises(ValueError, match="lone surrogate"):
        canonical_json("\ud800")
    with pytest.raises(ValueError, match="set is not a JSON value"):
        canonical_json({"a": {1, 2}})


def test_event_hash_by_hand():
    # sha256 over the 64 ASCII zeros followed by the canonical JSON, spelled out.
    event = {"consultation_id": "c-1", "seq": 0, "kind": "consultation_opened",
             "payload": {"b": 1, "a": "ñ"}, "occurred_at": "2026-02-02T12:00:00.000000Z"}
    text = ('{"consultation_id":"c-1","kind":"consultation_opened","occurred_at":'
            '"2026-02-02T12:00:00.000000Z","payload":{"a":"ñ","b":1},"seq":0}')
    expected = hashlib.sha256(("0" * 64 + text).encode("utf-8")).hexdigest()
    assert event_hash(GENESIS_HASH, event) == expected
    with pytest.raises(ValueError, match="64 lowercase hex"):
        event_hash("abc", event)


def test_occurred_at_normalisation():
    local = dt.datetime(2026, 2, 2, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    assert format_occurred_at(local) == "2026-02-02T12:00:00.000000Z"
    assert format_occurred_at("2026-02-02T06:00:00-06:00") == "2026-02-02T12:00:00.000000Z"
    with pytest.raises(ValueError, match="naive"):
        format_occurred_at(dt.datetime(2026, 2, 2))
    with pytest.raises(ValueError, match="naive"):
        format_occurred_at("2026-02-02T06:00:00")


def build_chain(payloads, cid="cons-7"):
    chain = []
    for i, p in enumerate(payloads):
        chain.append(append(chain, "feedback_received", p, T0 + dt.timedelta(minutes=i),
                            consultation_id=cid if not chain else None))
    return chain


def test_append_and_verify_ok():
    chain = build_chain([{"n": i} for i in range(4)])
    assert [e.seq for e in chain] == [0, 1, 2, 3]
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(chain[i].prev_hash == chain[i - 1].hash for i in range(1, 4))
    res = verify([e.as_row() for e in chain])
    assert res.ok and res.first_broken_seq is None and res.length == 4
    assert res.head_hash == chain[-1].hash
    assert verify([]).ok


def test_append_refusals():
    with pytest.raises(ValueError, match="consultation_id is required"):
        append([], "meeting_held", {}, T0)
    chain = build_chain([{}])
    with pytest.raises(ValueError, match="earlier than the last"):
        append(chain, "meeting_held", {}, T0 - dt.timedelta(seconds=1))
    with pytest.raises(ValueError, match="snake_case"):
        append(chain, "Meeting Held", {}, T0)
    with pytest.raises(ValueError, match="differs from the chain"):
        append(chain, "meeting_held", {}, T0, consultation_id="other")


def test_round_trip_through_json_text_keeps_hashes():
    # What the database does: payload stored as JSON text and parsed back.
    chain = build_chain([{"lat": 21.87982, "amount_mxn": 1.5e6, "txt": "<script>"}, [1, 2.0]])
    rows = [json.loads(json.dumps(e.as_row())) for e in chain]
    assert verify(rows).ok


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@HYPOTHESIS
@given(st.lists(json_values, min_size=2, max_size=7), st.data())
def test_any_edit_is_detected_at_that_event(payloads, data):
    chain = [e.as_row() for e in build_chain(payloads)]
    k = data.draw(st.integers(0, len(chain) - 1))
    field = data.draw(st.sampled_from(["payload", "kind", "occurred_at", "consultation_id", "seq",
                                       "hash", "prev_hash"]))
    rows = copy.deepcopy(chain)
    if field == "payload":
        rows[k]["payload"] = {"tampered": rows[k]["payload"]}
    elif field == "kind":
        rows[k]["kind"] = "feedback_answered"
    elif field == "occurred_at":
        rows[k]["occurred_at"] = "2020-01-01T00:00:00.000000Z"
    elif field == "consultation_id":
        rows[k]["consultation_id"] = "cons-8"
    elif field == "seq":
        rows[k]["seq"] = rows[k]["seq"] + 100
    elif field == "hash":
        rows[k]["hash"] = "f" * 64
    else:
        rows[k]["prev_hash"] = "e" * 64
    res = verify(rows)
    assert not res.ok
    assert res.first_broken_seq == k, res.reason


@HYPOTHESIS
@given(st.lists(json_values, min_size=3, max_size=7), st.data())
def test_rehashed_edit_is_detected_at_the_next_event(payloads, data):
    # A forger who also recomputes the edited event's hash breaks the link to the next.
    chain = [e.as_row() for e in build_chain(payloads)]
    k = data.draw(st.integers(0, len(chain) - 2))
    rows = copy.deepcopy(chain)
    rows[k]["payload"] = {"tampered": True}
    rows[k]["hash"] = event_hash(rows[k]["prev_hash"], rows[k])
    res = verify(rows)
    assert not res.ok and res.first_broken_seq == k + 1


@HYPOTHESIS
@given(st.lists(json_values, min_size=2, max_size=7), st.data())
def test_deletion_is_detected(payloads, data):
    chain = [e.as_row() for e in build_chain(payloads)]
    n = len(chain)
    k = data.draw(st.integers(0, n - 1))
    rows = chain[:k] + chain[k + 1:]
    if k < n - 1:
        res = verify(rows)
        assert not res.ok and res.first_broken_seq == k
    else:
        # Tail truncation leaves a valid shorter chain: only an anchor reveals it.
        assert verify(rows).ok
        res = verify(rows, expected_head=chain[-1]["hash"])
        assert not res.ok and res.first_broken_seq == n - 1
        res = verify(rows, expected_length=n)
        assert not res.ok and res.first_broken_seq == n - 1


@HYPOTHESIS
@given(st.lists(json_values, min_size=2, max_size=7), st.data())
def test_reordering_is_detected_at_the_first_moved_event(payloads, data):
    chain = [e.as_row() for e in build_chain(payloads)]
    i = data.draw(st.integers(0, len(chain) - 2))
    j = data.draw(st.integers(i + 1, len(chain) - 1))
    rows = list(chain)
    rows[i], rows[j] = rows[j], rows[i]
    res = verify(rows)
    assert not res.ok and res.first_broken_seq == i
    # Swapping contents while keeping the seq column in place is caught at i too.
    rows = copy.deepcopy(chain)
    rows[i]["seq"], rows[j]["seq"] = rows[j]["seq"], rows[i]["seq"]
    rows[i], rows[j] = rows[j], rows[i]
    res = verify(rows)
    assert not res.ok and res.first_broken_seq == i


@HYPOTHESIS
@given(st.lists(json_values, min_size=1, max_size=6), st.data(), json_values)
def test_insertion_is_detected(payloads, data, forged_payload):
    chain = [e.as_row() for e in build_chain(payloads)]
    k = data.draw(st.integers(0, len(chain)))
    # The forger builds a well-formed event on top of event k-1 and renumbers the rest.
    forged = append([ChainEvent(**r) for r in chain[:k]], "feedback_answered", forged_payload,
                    chain[k - 1]["occurred_at"] if k else T0, consultation_id="cons-7").as_row()
    rows = chain[:k] + [forged] + [dict(r, seq=r["seq"] + 1) for r in chain[k:]]
    res = verify(rows)
    if k == len(chain):
        # Appending at the end is what append() does; an anchor catches the extension.
        assert res.ok
        assert not verify(rows, expected_length=len(chain)).ok
    else:
        assert not res.ok and res.first_broken_seq == k + 1


def test_verify_reason_names_event():
    chain = [e.as_row() for e in build_chain([{"a": 1}, {"a": 2}, {"a": 3}])]
    chain[1]["payload"] = {"a": 20}
    res = verify(chain)
    assert res.first_broken_seq == 1 and "event 1" in res.reason and "edited" in res.reason
    bad = [dict(chain[0])]
    del bad[0]["hash"]
    res = verify(bad)
    assert not res.ok and res.first_broken_seq == 0 and "malformed" in res.reason
