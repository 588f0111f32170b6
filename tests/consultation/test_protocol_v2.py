"""Protocol version 2 as data and as a state machine (issue 13): citations that hold, the
right to say no, the identification closure, forward exit only with agreement, suspensions
that freeze the phase clock, and version 2's records checked."""

from __future__ import annotations

import dataclasses
import datetime as dt
from importlib import resources

import pytest
import yaml

from consultation import protocol as pr
from consultation import safeguards as sg
from consultation import suspension as sp
from consultation.protocol import PhaseEvidence, TransitionError, advance, start_consultation

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def v2():
    return pr.load_protocol(pr.V2_PROTOCOL_VERSION)


def _raw():
    return yaml.safe_load(resources.files("consultation").joinpath("protocol_v2.yaml")
                          .read_text("utf-8"))


def full(phase, **facts):
    return PhaseEvidence(steps={s.item_id for s in phase.steps},
                         artefacts={a.item_id for a in phase.artefacts},
                         conditions={c.item_id for c in phase.exit_conditions}, facts=facts)


# --- citations ---------------------------------------------------------------------------


def test_every_citation_points_at_a_listed_source_listed_once(v2):
    raw = _raw()
    ids = [s["id"] for s in raw["sources"]]
    assert len(ids) == len(set(ids)), "a source is listed twice"
    shorts = [s["short"] for s in raw["sources"]]
    assert all(shorts) and len(shorts) == len(set(shorts)), "each source needs a unique short title"
    listed = set(ids)
    cited = []
    for phase in v2.phases:
        for item in phase.steps + phase.artefacts + phase.exit_conditions:
            assert item.sources, f"{phase.phase_id}.{item.item_id} cites nothing"
            cited += [(f"{phase.phase_id}.{item.item_id}", c) for c in item.sources]
    for holder in v2.principles + v2.roles + v2.closures + tuple(v2.prior_decisions.values()) \
            + v2.suspension_kinds:
        cited += [(str(holder), c) for c in holder.sources]
    for where, citation in cited:
        assert pr.cited_source_id(citation) in listed, (where, citation)
    used = {pr.cited_source_id(c) for _, c in cited} | {pr.cited_source_id(c)
                                                        for c in v2.sla.sources}
    assert listed == used, f"listed but never cited: {sorted(listed - used)}"


def test_citations_corrected(v2):
    raw = _raw()
    text = yaml.safe_dump(raw, allow_unicode=True)
    by_id = {s.source_id: s.citation for s in v2.sources}
    # the title "Requisitos esenciales para su cumplimiento" belongs to 2a. XXIX/2016
    assert "Tesis 2a. XXIX/2016" in by_id["scjn_2a_xxix_2016"]
    assert "Requisitos esenciales para su cumplimiento" in by_id["scjn_2a_xxix_2016"]
    assert "scjn_2a_xxvii_2016" not in by_id
    # Haida: no duty to agree (para. 42), no veto (para. 48); the objective of agreement or
    # consent is ILO C169 art. 6(2)
    assert "para. 42" in by_id["haida_2004"] and "para. 48" in by_id["haida_2004"]
    good_faith = next(p for p in v2.principles if p.item_id == "good_faith")
    assert "ilo169:art. 6(2)" in good_faith.sources
    assert not any(pr.cited_source_id(c) == "haida_2004" for c in good_faith.sources)
    # language rights are ILO C169 arts. 12 and 30, not art. 6
    for phase in v2.phases:
        for item in phase.steps + phase.artefacts + phase.exit_conditions:
            if "language" in item.item_id or "interpreter" in item.item_id:
                assert not any(c.startswith("ilo169:art. 6") for c in item.sources), item
    assert "2a./J. 11/2023" in by_id["scjn_2a_j_11_2023"]
    assert "DOF 30-09-2024" in by_id["cpeum_art2_2024"]
    assert "S.C. 2021, c. 14" in by_id["undrip_act_2021"]
    assert "NOT CITED" in by_id["lse_2025"]  # the LIE-to-LSE mapping is said, not guessed
    assert "no_irreversible_decision_taken" not in text  # self-declared condition removed


def test_parse_refuses_an_uncited_source_and_a_duplicate():
    raw = _raw()
    raw["phases"][0]["steps"][0]["sources"] = ["nowhere_2099:p. 1"]
    with pytest.raises(ValueError, match="nowhere_2099"):
        pr.parse_protocol(yaml.safe_dump(raw, allow_unicode=True))
    raw = _raw()
    raw["sources"].append(dict(raw["sources"][0]))
    with pytest.raises(ValueError, match="listed twice"):
        pr.parse_protocol(yaml.safe_dump(raw, allow_unicode=True))


def test_versions_are_both_bundled(v2):
    v1 = pr.load_protocol(pr.V1_PROTOCOL_VERSION)
    assert pr.load_protocol().version == pr.CURRENT_PROTOCOL_VERSION == v2.version
    assert v1.phase_ids[-1] == "cerrada" and v1.closures == () and not v1.prior_decisions
    assert v2.phase_ids[:7] == v1.phase_ids
    assert [p.phase_id for p in v2.phases if p.terminal] == [
        "cerrada", "cerrada_sin_consentimiento", "cerrada_sin_afectacion"]
    # version 1 consultations are judged by version 2's decision rules
    assert dict(pr.prior_decision_rules(v1)) == dict(v2.prior_decisions)


# --- the right to say no, and the identification closure ---------------------------------


def _state_in(v2, phase_id):
    return dataclasses.replace(start_consultation(T0, v2), phase_id=phase_id)


def test_refusal_closes_without_consent_and_never_moves_forward(v2):
    state = _state_in(v2, "consultiva")
    later = T0 + dt.timedelta(days=8)
    consultiva = v2.phase("consultiva")
    with pytest.raises(TransitionError) as err:
        advance(state, "seguimiento", full(consultiva, position="refusal"), later)
    assert err.value.missing.facts == ("position in (agreement/consent)",)
    closed = advance(state, pr.CLOSED_WITHOUT_CONSENT,
                     PhaseEvidence(steps={"consultive_assembly", "no_coercion_check_at_assembly",
                                          "record_community_decision"},
                                   artefacts={"meeting_minutes"},
                                   conditions={"community_position_recorded",
                                               "no_coercion_at_assembly"},
                                   facts={"position": "refusal"}),
                     T0 + dt.timedelta(hours=2))  # no minimum duration for a closure
    assert closed.phase_id == "cerrada_sin_consentimiento"
    assert pr.allowed_moves(closed, v2) == ()
    with pytest.raises(TransitionError, match="terminal"):
        advance(closed, "seguimiento", full(consultiva, position="agreement"), later)
    # an agreement cannot close "without consent", and the closure lists what it needs
    with pytest.raises(TransitionError) as err:
        advance(state, pr.CLOSED_WITHOUT_CONSENT, PhaseEvidence(facts={"position": "agreement"}),
                later)
    assert err.value.missing.steps == ("consultive_assembly", "no_coercion_check_at_assembly",
                                       "record_community_decision")
    assert err.value.missing.facts == ("position in (refusal)",)
    assert advance(state, "seguimiento", full(consultiva, position="consent"),
                   later).phase_id == "seguimiento"


def test_identification_closure(v2):
    state = start_consultation(T0, v2)
    ev = PhaseEvidence(artefacts={"identification_evidence"},
                       facts={"identification": "no_community_affected"})
    assert pr.allowed_moves(state, v2, ev) == ("acuerdos_previos", "cerrada_sin_afectacion")
    assert pr.allowed_moves(state, v2, PhaseEvidence()) == ("acuerdos_previos",)
    assert advance(state, pr.CLOSED_NO_COMMUNITY_AFFECTED, ev, T0).phase_id == \
        "cerrada_sin_afectacion"
    with pytest.raises(TransitionError, match="identification in"):
        advance(state, pr.CLOSED_NO_COMMUNITY_AFFECTED,
                dataclasses.replace(ev, facts={"identification": "community_may_be_affected"}), T0)


# --- suspension --------------------------------------------------------------------------


def test_suspension_freezes_the_phase_and_its_clock(v2):
    prep = v2.phase("preparacion")
    s = sp.suspend((), "court_suspension", T0 + dt.timedelta(days=5), "amparo 1/2026")
    state = dataclasses.replace(start_consultation(T0, v2), suspensions=s)
    with pytest.raises(TransitionError, match="suspended"):
        advance(state, "acuerdos_previos", full(prep), T0 + dt.timedelta(days=40))
    assert pr.allowed_moves(state, v2) == ()
    # resumed after 30 days: at day 40 only 10 active days have run, 5 remain of 15
    resumed = dataclasses.replace(state, suspensions=sp.resume(s, T0 + dt.timedelta(days=35)))
    m = pr.missing_for_exit(v2, "preparacion", full(prep), T0, T0 + dt.timedelta(days=40),
                            resumed.suspensions)
    assert m.days_remaining == 5
    with pytest.raises(TransitionError, match="5 more day"):
        advance(resumed, "acuerdos_previos", full(prep), T0 + dt.timedelta(days=40))
    assert advance(resumed, "acuerdos_previos", full(prep),
                   T0 + dt.timedelta(days=45)).phase_id == "acuerdos_previos"


def test_suspension_arithmetic_by_hand():
    mx = sp.MEXICO_CITY_TZ
    a = dt.datetime(2026, 3, 3, 10, 0, tzinfo=mx)  # Tuesday
    b = dt.datetime(2026, 3, 5, 9, 0, tzinfo=mx)   # Thursday
    s = sp.resume(sp.suspend((), "electoral_blackout", a, "veda"), b)
    assert sp.suspended_seconds(s, a - dt.timedelta(days=1), b + dt.timedelta(days=1)) == \
        (b - a).total_seconds() == 47 * 3600
    assert sp.suspended_seconds(s, a + dt.timedelta(hours=1), b) == 46 * 3600
    # Tuesday and Wednesday paused; Thursday (the day it resumed) counts again
    assert sp.paused_local_days(s, b + dt.timedelta(days=3)) == (dt.date(2026, 3, 3),
                                                                 dt.date(2026, 3, 4))
    # same-day suspension pauses no day; an open one runs to today
    same = sp.resume(sp.suspend((), "coercion_report", a, "r"), a + dt.timedelta(hours=3))
    assert sp.paused_local_days(same, b) == ()
    open_ = sp.suspend((), "coercion_report", a, "r")
    assert sp.paused_local_days(open_, a + dt.timedelta(days=1)) == (dt.date(2026, 3, 3),
                                                                     dt.date(2026, 3, 4))
    with pytest.raises(ValueError, match="already suspended"):
        sp.suspend(open_, "court_suspension", b, "x")
    with pytest.raises(ValueError, match="kind"):
        sp.suspend((), "strike", a, "x")
    with pytest.raises(ValueError, match="reason"):
        sp.suspend((), "court_suspension", a, "  ")
    with pytest.raises(ValueError, match="not suspended"):
        sp.resume((), b)
    with pytest.raises(ValueError, match="before"):
        sp.resume(open_, a - dt.timedelta(hours=1))


# --- version 2's records -----------------------------------------------------------------


def test_identification_check():
    good = {"outcome": "no_community_affected", "methods": ["inpi_catalogue", "field_visit"],
            "evidence": [{"method": "inpi_catalogue", "reference": "INPI 2020"},
                         {"method": "field_visit", "reference": "visita 1"}],
            "decided_by": "Comité", "reason": "sin comunidad"}
    assert sg.check_identification(good, "identification_required")["outcome"] == \
        "no_community_affected"
    for change, field in (({"outcome": "maybe"}, "outcome"),
                          ({"methods": ["inpi_catalogue"],
                            "evidence": good["evidence"][:1]}, "methods"),
                          ({"evidence": good["evidence"][:1]}, "evidence"),
                          ({"decided_by": " "}, "decided_by"),
                          ({"localities": ["12"]}, "localities")):
        with pytest.raises(ValueError, match=f"^{field}"):
            sg.check_identification({**good, **change}, "identification_required")
    with pytest.raises(ValueError, match="cannot clear"):
        sg.check_identification(good, "required")


def test_fpic_determination_follows_ps7_circumstances():
    assert sg.check_fact("fpic_determination", {"circumstances": [], "reason": "r"})[
        "fpic_required"] is False
    for c in sg.FPIC_CIRCUMSTANCES:
        assert sg.check_fact("fpic_determination", {"circumstances": [c], "reason": "r"})[
            "fpic_required"] is True
    with pytest.raises(ValueError, match="^circumstances"):
        sg.check_fact("fpic_determination", {"circumstances": ["wind_noise"], "reason": "r"})


def test_language_and_attendance_checks():
    agreed = sg.check_fact("languages", {"languages": [
        {"language": "Español"}, {"language": "Náhuatl", "variant": "Mexicano de la Huasteca"}]})
    langs = agreed["languages"]
    assert [x["spanish"] for x in langs] == [True, False]
    assert sg.missing_language_versions(langs, []) == ["Náhuatl (Mexicano de la Huasteca)"]
    assert sg.missing_language_versions(langs, [{"language": " náhuatl",
                                                 "variant": "mexicano de la  huasteca"}]) == []
    assert sg.languages_missing_agents(langs, [{"role": "translator", "language": "Náhuatl",
                                                "variant": "Mexicano de la Huasteca"}]) == [
        "interpreter for Náhuatl (Mexicano de la Huasteca)"]
    today = dt.date(2026, 3, 2)
    agent = {"role": "interpreter", "name": "N", "language": "Náhuatl",
             "variant": "Mexicano de la Huasteca", "accepted_on": today,
             "acceptance_reference": "acta"}
    assert sg.check_language_agent(agent, langs, today)["role"] == "interpreter"
    with pytest.raises(ValueError, match="^language"):
        sg.check_language_agent({**agent, "variant": "otra"}, langs, today)
    with pytest.raises(ValueError, match="^accepted_on"):
        sg.check_language_agent({**agent, "accepted_on": today + dt.timedelta(days=1)}, langs,
                                today)
    ok = sg.check_attendance({"attendance_women": 10, "attendance_men": 12,
                              "attendance_by_age_group": {"18_to_29": 5}}, True)
    assert ok["attendance_women"] == 10
    with pytest.raises(ValueError, match="did not agree"):
        sg.check_attendance({"attendance_women": 1, "attendance_men": 1,
                             "attendance_by_age_group": {"18_to_29": 1}}, False)
    with pytest.raises(ValueError, match="more people"):
        sg.check_attendance({"attendance_women": 1, "attendance_men": 1,
                             "attendance_by_age_group": {"18_to_29": 3}}, True)
    with pytest.raises(ValueError, match="^attendance_women"):
        sg.check_attendance({"attendance_men": 1}, False)


def test_no_coercion_check_passes_only_when_asked_clean_and_observed():
    base = {"asked_publicly": True, "coercion_reported": False, "guarantor_present": True}
    assert sg.check_no_coercion(base)["passed"] is True
    for change in ({"asked_publicly": False}, {"coercion_reported": True},
                   {"guarantor_present": False}):
        assert sg.check_no_coercion({**base, **change})["passed"] is False
    with pytest.raises(ValueError, match="^guarantor_present"):
        sg.check_no_coercion({"asked_publicly": True, "coercion_reported": False})


def test_results_scope_and_negotiation():
    assert sg.check_fact("results_scope", {"statement": "s", "binding_on": ["fund"]})[
        "binding_on"] == ["fund"]
    with pytest.raises(ValueError, match="^binding_on"):
        sg.check_fact("results_scope", {"statement": "s", "binding_on": []})
    full_elements = {e: "evidencia" for e in sg.NEGOTIATION_ELEMENTS}
    assert set(sg.check_fact("negotiation", {"elements": full_elements})["elements"]) == \
        set(sg.NEGOTIATION_ELEMENTS)
    with pytest.raises(ValueError, match="^elements.willingness_to_engage"):
        sg.check_fact("negotiation", {"elements": {**full_elements,
                                                   "willingness_to_engage": " "}})
