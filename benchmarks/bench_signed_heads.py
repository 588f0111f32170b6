"""Signed heads benchmark (issue 10): what checking the record's signed heads adds.

Figures, on a chain of 10,000 events:

- seconds for :func:`consultation.anchoring.check_heads` with 100 signed heads, as a ratio
  against :func:`consultation.record.verify` of the same chain (the check every
  verification already pays). Bar (ours): ≤ 1.5× — the heads are checked in one more pass
  over the chain plus one Ed25519 verification per head;
- seconds to sign one head, as a ratio against the same reference (signing happens when a
  head is published, e.g. a portal view after the record moved). Bar: ≤ 0.01×.
"""

from __future__ import annotations

import datetime as dt
import time

#: Events in the benchmark chain.
N_EVENTS = 10_000
#: Signed heads checked against it.
N_HEADS = 100
#: Largest acceptable cost of the head check relative to the chain's own verification.
BAR_CHECK_RATIO = 1.5
#: Largest acceptable cost of one signature relative to the chain's verification.
BAR_SIGN_RATIO = 0.01
REPEATS = 3


def _chain():
    from consultation import record as rec

    t0 = dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.timezone.utc)
    events = []
    for i in range(N_EVENTS):
        events.append(rec.append(events[-1:], "feedback_received",
                                 {"feedback_id": i, "category": "other", "text_sha256": "ab" * 32},
                                 t0 + dt.timedelta(minutes=i), "1").as_row())
    return events


def run() -> list[dict]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from consultation import anchoring as an
    from consultation import record as rec

    events = _chain()
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    trusted = [an.public_key_raw(key)]
    step = N_EVENTS // N_HEADS
    heads = [an.sign_head(key, "1", n, events[n - 1]["hash"], events[n - 1]["occurred_at"])
             for n in range(step, N_EVENTS + 1, step)]
    best_ref = best_check = best_sign = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        assert rec.verify(events).ok
        best_ref = min(best_ref, time.perf_counter() - t0)
        t0 = time.perf_counter()
        check = an.check_heads(events, heads, trusted, "1")
        best_check = min(best_check, time.perf_counter() - t0)
        t0 = time.perf_counter()
        an.sign_head(key, "1", N_EVENTS, events[-1]["hash"], events[-1]["occurred_at"])
        best_sign = min(best_sign, time.perf_counter() - t0)
    check_ratio, sign_ratio = best_check / best_ref, best_sign / best_ref
    reference = f"record.verify of {N_EVENTS} events"
    return [
        {"name": f"signed-head check ({N_HEADS} heads, {N_EVENTS} events)", "value": best_check,
         "unit": "s", "reference": reference, "reference_value": best_ref, "ratio": check_ratio,
         "bar": f"<= {BAR_CHECK_RATIO}x reference",
         "passed": check.ok and len(check.statuses) == N_HEADS
         and check_ratio <= BAR_CHECK_RATIO},
        {"name": "sign one head (Ed25519)", "value": best_sign, "unit": "s",
         "reference": reference, "reference_value": best_ref, "ratio": sign_ratio,
         "bar": f"<= {BAR_SIGN_RATIO}x reference", "passed": sign_ratio <= BAR_SIGN_RATIO},
    ]


if __name__ == "__main__":
    from run import format_row

    for r in run():
        print(format_row(r))
