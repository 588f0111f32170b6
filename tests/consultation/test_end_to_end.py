"""One consultation through every phase, pure: state machine + record + feedback + SLA +
notices + poster + commitments + risk, then the record verified and tampered."""

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from consultation import agreements as ag
from consultation import feedback as fb
from consultation.notices import NoticeFields, add_translation, render_notice
from consultation.poster import render_poster
from consultation.protocol import PhaseEvidence, TransitionError, advance, start_consultation
from consultation.record import append, verify
from consultation.risk import social_risk
from consultation.sla import MEXICO_CITY_TZ as MX, overdue
from consultation.trigger import consultation_required, localities_within_km

URL = "https://fondo.example.org/consulta/c-1"


def evidence_for(phase):
    return PhaseEvidence(steps={s.item_id for s in phase.steps},
                         artefacts={a.item_id for a in phase.artefacts},
                         conditions={c.item_id for c in phase.exit_conditions})


def test_full_run(protocol, typology, localities):
    chain = []

    def log(kind, payload, at):
        chain.append(append(chain, kind, payload, at, consultation_id="c-1" if not chain else None))

    # Trigger: a site at Tamazunchale (SLP Huasteca, type A).
    row = localities.loc[(localities["nom_mun"] == "Tamazunchale")
                         & (localities["nom_loc"] == "Tamazunchale")].iloc[0]
    trig = consultation_required(typology, localities_within_km(localities, row.lat, row.lon, 10))
    assert trig.required and "24037" in trig.municipalities["cvegeo"].tolist()

    t = dt.datetime(2026, 1, 5, 9, 0, tzinfo=MX)
    state = start_consultation(t, protocol)
    log("consultation_opened", {"protocol_version": state.protocol_version,
                                "municipalities": trig.municipalities["cvegeo"].tolist()}, t)
    feedback_items = []
    commitments = []
    for phase in protocol.phases[:-1]:
        # Trying to leave early is refused and the record keeps going.
        nxt = protocol.next_phase(phase.phase_id).phase_id
        if phase.min_days:
            with pytest.raises(TransitionError, match="minimum duration"):
                advance(state, nxt, evidence_for(phase), t + dt.timedelta(hours=1))
        if phase.notice_templates is not None:
            start = t + dt.timedelta(days=8)
            f = NoticeFields("Parque Eólico Huasteca", "Tamazunchale", start,
                             start + dt.timedelta(hours=4), "Auditorio municipal", "Náhuatl",
                             URL, interpreter_language="Náhuatl")
            notice = render_notice(protocol, phase.phase_id, "es", f)
            notice = add_translation(notice, "Náhuatl de la Huasteca", "Tlanonotzaliztli",
                                     "(texto entregado por el intérprete)", "Intérprete",
                                     language_code="nhe")
            assert render_poster(notice, URL).startswith(b"%PDF-")
            log("notice_published", {"phase": phase.phase_id, "title": notice.title,
                                     "languages": ["es", "Náhuatl de la Huasteca"]}, t)
            log("meeting_held", {"phase": phase.phase_id, "attendance": 57}, start)
        if phase.phase_id == "informativa":
            s = fb.validate_submission(kind="grievance", category="water_and_environment",
                                       text="¿Qué pasa con el manantial?", anonymous=True)
            item = fb.FeedbackItem(fb.new_receipt_code(), s, start + dt.timedelta(hours=5))
            log("feedback_received", fb.public_view(item), item.submitted_at)
            feedback_items.append(item)
        if phase.phase_id == "consultiva":
            c = ag.new_commitment("C-1", "mitigation", "Monitoreo trimestral del manantial",
                                  "Promovente", (t + dt.timedelta(days=10)).date(), t.date())
            commitments.append(c)
            log("commitment_recorded", {"commitment_id": c.commitment_id, "kind": c.kind.value,
                                        "due_date": c.due_date.isoformat()},
                start + dt.timedelta(hours=5))
            assert social_risk(phase.phase_id, 1, 0, 0) == "medium"
        t = t + dt.timedelta(days=max(phase.min_days, 9))
        state = advance(state, nxt, evidence_for(phase), t)
        log("phase_changed", {"from": phase.phase_id, "to": nxt}, t)

    assert state.phase_id == "cerrada"
    assert [h.phase_id for h in state.history] == list(protocol.phase_ids)

    # SLA: the grievance was never acknowledged -> flagged; an answer then clears it.
    item = feedback_items[0]
    frame = pd.DataFrame({"received_at": pd.to_datetime([item.submitted_at], utc=True),
                          "acknowledged_at": pd.to_datetime([None], utc=True),
                          "answered_at": pd.to_datetime([None], utc=True)})
    flagged = overdue(frame, t, protocol.sla)
    assert bool(flagged["acknowledge_overdue"].iloc[0]) and bool(flagged["answer_overdue"].iloc[0])
    # Commitment past due in follow-up: risk rises.
    late = ag.late_commitments(commitments, t.date())
    assert late and social_risk("seguimiento", 1, 1, len(late)) == "high"
    status = fb.transition_status(item.status, "acknowledged")
    status = fb.transition_status(status, "answered")
    answered = dataclasses.replace(item, status=status, acknowledged_at=t, answered_at=t,
                                   public_answer="Se instalará monitoreo trimestral.")
    log("feedback_answered", fb.public_view(answered), t)
    done = ag.change_status(commitments[0], "fulfilled", t.date())
    log("commitment_status_changed", {"commitment_id": "C-1", "status": done.status.value}, t)
    assert social_risk("cerrada", 0, 0, len(ag.late_commitments([done], t.date()))) == "low"

    rows = [e.as_row() for e in chain]
    res = verify(rows)
    assert res.ok and res.length == len(rows) == 19
    rows[7]["payload"] = {"attendance": 5}
    res = verify(rows)
    assert not res.ok and res.first_broken_seq == 7
