"""Hash chain: canonical JSON (RFC 8785 vectors) and tamper evidence (Hypothesis)."""

import copy
import datetime as dt
import hashlib
import json
import math
import random
import struct
from collections.abc import Mapping
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultation.record import (
    GENESIS_HASH, MAX_SAFE_INTEGER, ChainEvent, append, canonical_json, event_hash,
    format_occurred_at, verify,
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



# --- Reference: the hand-written RFC 8785 encoder that ``rfc8785.dumps`` replaced. -------------
# Every chain hash stored before the switch was made with it, so for every value it accepts the
# library must write the same bytes. Kept verbatim (Fondo commit e2dc6d0,
# consultation/record.py ``_number`` and ``_encode``).

def _reference_number(value: float) -> str:
    """ECMAScript Number::toString for a finite float (RFC 8785 section 3.2.2.3)."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    if "." in mantissa:
        whole, frac = mantissa.split(".")
    else:
        whole, frac = mantissa, ""
    digits = (whole + frac).lstrip("0")
    # decimal exponent n such that value = 0.digits × 10^n
    lead_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    n = len(whole) - lead_zeros + (int(exponent) if exponent else 0)
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        e_text = f"e+{e}" if e >= 0 else f"e-{-e}"
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + e_text
    return sign + text


def _reference_encode(obj, path):
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        if abs(obj) > MAX_SAFE_INTEGER:
            raise ValueError(f"{path}: integer {obj} outside ±(2**53 - 1) (I-JSON)")
        return str(int(obj))
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"{path}: non-finite number {obj!r} has no JSON form")
        return _reference_number(obj)
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{path}: string has a lone surrogate and is not UTF-8") from exc
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, Mapping):
        for key in obj:
            if not isinstance(key, str):
                raise ValueError(f"{path}: object key {key!r} is not a string")
        keys = sorted(obj, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(
            _reference_encode(k, path) + ":" + _reference_encode(obj[k], f"{path}.{k}")
            for k in keys
        ) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_reference_encode(v, f"{path}[{i}]") for i, v in enumerate(obj)) + "]"
    raise ValueError(f"{path}: {type(obj).__name__} is not a JSON value")


def reference_canonical_json(obj) -> bytes:
    return _reference_encode(obj, "$").encode("utf-8")


#: JSON-like values the reference accepts: every character but lone surrogates (control
#: characters, quotes, backslashes, astral planes), every finite double (subnormals, ±0,
#: the 1e-7 and 1e21 notation switches), integers up to the I-JSON limit, tuples and
#: read-only mappings as well as lists and dicts.
json_like_values = st.recursive(
    st.none() | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e21, 1e-7, 1e-6, 9.999999999999999e20, 5e-324, 1.7976931348623157e308,
                       -0.0, 2.0**53, 0.1 + 0.2])
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.lists(children, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=6), children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4).map(MappingProxyType),
    max_leaves=12,
)
#: Values either side refuses: NaN, ±inf, integers past ±(2^53 − 1), lone surrogates,
#: non-string keys and non-JSON types, mixed with valid ones.
json_like_or_invalid = st.recursive(
    json_like_values
    | st.sampled_from([math.nan, math.inf, -math.inf, 2**53, -(2**53), 10**30, "\ud800",
                       "a\udfff", {1, 2}, b"bytes", dt.date(2026, 2, 2)]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=4) | st.integers(0, 3) | st.just("\udc00"), children,
                      max_size=3),
    max_leaves=8,
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like_values)
def test_canonical_json_same_bytes_as_the_reference_encoder(value):
    assert canonical_json(value) == reference_canonical_json(value)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like_or_invalid)
def test_canonical_json_refuses_what_the_reference_refuses(value):
    try:
        expected = reference_canonical_json(value)
    except ValueError:
        with pytest.raises(ValueError, match=r"^\$"):  # the message starts with the path
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


def test_canonical_json_same_bytes_for_random_doubles():
    # 20,000 doubles drawn from all bit patterns (every exponent, not only "nice" numbers).
    rng = random.Random(8785)
    doubles = (struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
               for _ in range(20_000))
    values = [x for x in doubles if math.isfinite(x)]
    assert canonical_json(values) == reference_canonical_json(values)


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
