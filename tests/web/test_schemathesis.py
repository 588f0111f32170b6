"""The REST API fuzzed from its own OpenAPI document: no request ever answers a 500.

schemathesis reads ``/api/v1/openapi.json`` of an app over a throwaway database and calls
every operation through WSGI as an admin, with the engine of ``st run``: the *coverage*
phase sends each schema's edge values and deliberate violations (a number one step past
its ``maximum``, a wrong type, a missing field, an unexpected method), the *fuzzing* phase
Hypothesis-generated requests, valid and invalid. Every response is checked with
``not_a_server_error``; the seed and ``deterministic`` generation make a run repeatable,
so a 500 found in CI is found again on any machine with the same seed.

Tasks run as they are sent (:mod:`api_target`), so a value the API accepts meets the
worker's code in the same request, and a task that fails on it answers ``state: FAILURE``;
``tests/web/test_web_robustness.py`` checks those answers, and sends to every JSON endpoint
the bodies a fuzzer does not generate (nested 100 000 levels, 1e308, 2**63, ``true``).
"""

from __future__ import annotations

import schemathesis
from api_target import FuzzTarget, fuzz_target  # noqa: F401 (fixture)
from schemathesis.engine import Status, events

#: Seed of every generated case (a 500 found once is found again). [-]
SEED = 20_261_130
#: Hypothesis examples per operation in the fuzzing phase; the coverage phase adds its own
#: deterministic edge cases. The whole run takes about two minutes per database on two
#: cores. [-]
MAX_EXAMPLES = 40


def _config(target: FuzzTarget) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "suppress-health-check": ["all"],
        "headers": {"Authorization": f"Bearer {target.token}"},
        "parameters": target.path_parameters(),
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all",
                       "database": "none"},
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": True},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
    })


def _failures(event: events.ScenarioFinished) -> list[str]:
    out = []
    for nodes in event.recorder.checks.values():
        for node in nodes:
            if node.status is Status.FAILURE and node.failure_info is not None:
                info = node.failure_info
                out.append(f"{event.label}: {info.failure.title}\n    {info.code_sample}")
    return out


def test_no_request_answers_a_server_error(fuzz_target):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_target.app,
                                            config=_config(fuzz_target))
    failures: list[str] = []
    errors: list[str] = []
    tested: set[str] = set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            if event.status is not Status.SKIP and event.label:
                tested.add(event.label)
            failures.extend(_failures(event))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert not failures, "\n".join(sorted(set(failures)))
    assert not errors, "\n".join(errors)
    assert tested == operations, sorted(operations - tested)
