"""The protocol file and its state machine."""

import dataclasses
import datetime as dt

import pytest
import yaml

from consultation import protocol as proto
from consultation.protocol import (
    PhaseEvidence, TransitionError, advance, allowed_moves, load_protocol, missing_for_exit,
    parse_protocol, start_consultation,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
V1 = load_protocol(proto.V1_PROTOCOL_VERSION)

MEXICAN_PHASES = ("preparacion", "acuerdos_previos", "informativa", "deliberativa",
                  "consultiva", "seguimiento")


def full_evidence(phase, reason=""):
    return PhaseEvidence(
        steps={s.item_id for s in phase.steps},
        artefacts={a.item_id for a in phase.artefacts},
        conditions={c.item_id for c in phase.exit_conditions},
        reason=reason,
    )


def test_version_and_phases(protocol):
    assert protocol.version == proto.V1_PROTOCOL_VERSION == "fondo-ca-mx-2026.1"
    assert protocol.phase_ids == MEXICAN_PHASES + ("cerrada",)
    assert {r.role_id for r in protocol.roles} >= {"responsible_authority", "technical_body",
                                                  "guarantor"}


def test_required_artefacts_of_meeting_phases(protocol):
    # The required artefacts: information in the community's language,
    # interpreter present, minutes, attendance.
    needed = {"information_in_community_language", "interpreter_present", "meeting_minutes",
              "attendance_list"}
    for pid in ("acuerdos_previos", "informativa", "consultiva"):
        ids = {a.item_id for a in protocol.phase(pid).artefacts}
        assert needed <= ids, pid


def test_sources_cited_and_sla(protocol):
    ids = {s.source_id for s in protocol.sources}
    assert {"cdi_2013", "ilo169_art6", "ilo169_art7", "scjn_2a_xxvii_2016", "lie_119_120",
            "rlie_86_92", "sener_evis_2018", "haida_2004", "mikisew_2005",
            "canada_guidelines_2011", "ifc_ps1", "ifc_ps7", "lft_art74"} <= ids
    assert protocol.sla.grievance_acknowledge_working_days == 5
    assert protocol.sla.grievance_answer_working_days == 30
    for phase in protocol.phases:
        for item in phase.steps + phase.artefacts + phase.exit_conditions:
            assert item.sources, f"{phase.phase_id}.{item.item_id} cites no source"


def test_load_unknown_version():
    with pytest.raises(ValueError, match="not bundled"):
        load_protocol("fondo-ca-mx-1999.1")


def _doc():
    from importlib import resources
    return yaml.safe_load(resources.files("consultation").joinpath("protocol.yaml").read_text("utf-8"))


def test_parse_refuses_uncited_source():
    doc = _doc()
    doc["phases"][0]["steps"][0]["sources"] = ["nowhere_2099"]
    with pytest.raises(ValueError, match="nowhere_2099"):
        parse_protocol(yaml.safe_dump(doc, allow_unicode=True))


def test_parse_refuses_negative_duration_and_bad_order():
    doc = _doc()
    doc["phases"][1]["min_days"] = -1
    with pytest.raises(ValueError, match="min_days must be >= 0"):
        parse_protocol(yaml.safe_dump(doc, allow_unicode=True))
    doc = _doc()
    doc["phases"][1]["order"] = 9
    with pytest.raises(ValueError, match="phase orders"):
        parse_protocol(yaml.safe_dump(doc, allow_unicode=True))


def test_refuses_forward_move_listing_everything_missing(protocol):
    state = start_consultation(T0, V1)
    now = T0 + dt.timedelta(days=3)
    with pytest.raises(TransitionError) as info:
        advance(state, "acuerdos_previos", PhaseEvidence(steps={"identify_communities"}), now)
    err = info.value
    assert isinstance(err, ValueError)
    m = err.missing
    assert m.steps == ("assess_depth_of_consultation", "designate_roles",
                       "social_impact_assessment", "draft_consultation_plan",
                       "open_grievance_mechanism")
    assert m.artefacts == tuple(a.item_id for a in protocol.phase("preparacion").artefacts)
    assert m.conditions == ("communities_identified", "roles_designated",
                            "grievance_mechanism_open", "no_irreversible_decision_taken")
    # 15 days minimum, 3 elapsed: 12 left.
    assert m.days_remaining == 12
    msg = str(err)
    assert "designate_roles" in msg and "grievance_mechanism_open" in msg and "12 more day" in msg


def test_refuses_when_only_duration_missing(protocol):
    state = start_consultation(T0, V1)
    ev = full_evidence(protocol.phase("preparacion"))
    # 14 days 23 hours elapsed: ceil(1 h / 24 h) = 1 day remaining.
    with pytest.raises(TransitionError, match="1 more day") as info:
        advance(state, "acuerdos_previos", ev, T0 + dt.timedelta(days=14, hours=23))
    assert info.value.missing.steps == () and info.value.missing.days_remaining == 1
    new = advance(state, "acuerdos_previos", ev, T0 + dt.timedelta(days=15))
    assert new.phase_id == "acuerdos_previos" and state.phase_id == "preparacion"


@pytest.mark.parametrize("target", ["informativa", "cerrada", "seguimiento"])
def test_refuses_skips(protocol, target):
    state = start_consultation(T0, V1)
    ev = full_evidence(protocol.phase("preparacion"))
    with pytest.raises(TransitionError, match="illegal move"):
        advance(state, target, ev, T0 + dt.timedelta(days=60))


def test_refuses_unknown_same_and_backwards_time(protocol):
    state = start_consultation(T0, V1)
    with pytest.raises(TransitionError, match="unknown phase"):
        advance(state, "fase_x", PhaseEvidence(), T0)
    with pytest.raises(TransitionError, match="already in phase"):
        advance(state, "preparacion", PhaseEvidence(), T0)
    with pytest.raises(TransitionError, match="before the current phase started"):
        advance(state, "acuerdos_previos", PhaseEvidence(), T0 - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        advance(state, "acuerdos_previos", PhaseEvidence(), dt.datetime(2026, 3, 1))


def test_return_needs_reason_and_is_listed(protocol):
    state = dataclasses.replace(start_consultation(T0, V1), phase_id="consultiva")
    assert allowed_moves(state) == ("seguimiento", "informativa", "deliberativa")
    with pytest.raises(TransitionError, match="needs a recorded reason"):
        advance(state, "informativa", PhaseEvidence(), T0 + dt.timedelta(days=1))
    back = advance(state, "informativa",
                   PhaseEvidence(reason="La asamblea pidió el estudio hidrológico"),
                   T0 + dt.timedelta(days=1))
    assert back.phase_id == "informativa"
    assert back.history[-1].reason == "La asamblea pidió el estudio hidrológico"
    # a return is not allowed from preparacion or to a later phase by the return path
    with pytest.raises(TransitionError):
        advance(dataclasses.replace(state, phase_id="informativa"), "preparacion",
                PhaseEvidence(reason="x"), T0 + dt.timedelta(days=2))


def test_terminal_phase_refuses_everything(protocol):
    state = dataclasses.replace(start_consultation(T0, V1), phase_id="cerrada")
    with pytest.raises(TransitionError, match="terminal"):
        advance(state, "seguimiento", PhaseEvidence(reason="x"), T0 + dt.timedelta(days=1))
    assert allowed_moves(state) == ()


def test_missing_for_exit_complete(protocol):
    ph = protocol.phase("informativa")
    m = missing_for_exit(protocol, "informativa", full_evidence(ph), T0, T0 + dt.timedelta(days=30))
    assert m.complete and m.describe() == "nothing missing"


def test_evidence_rejects_string():
    with pytest.raises(ValueError, match="set of ids"):
        PhaseEvidence(steps="publish_notice")


def test_protocol_version_mismatch(protocol):
    state = dataclasses.replace(start_consultation(T0, V1), protocol_version="other-1")
    with pytest.raises(ValueError, match="not bundled"):
        advance(state, "acuerdos_previos", PhaseEvidence(), T0)
    with pytest.raises(ValueError, match="runs under protocol"):
        advance(state, "acuerdos_previos", PhaseEvidence(), T0, protocol=protocol)
