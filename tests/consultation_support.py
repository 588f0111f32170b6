"""Helpers for shell tests that walk a consultation: a movable clock, a project to open it
on, and the records of protocol version 2 (issue 13).

:class:`Clock` stands in for the services' clock (the protocol's minimum durations are in
days); :func:`make_project` puts a project and its site at a place. Version 2 asks, before
leaving preparacion, for the consent determination, the study's co-production record and the
advice budget (records checked by their exit conditions); :func:`complete_phase` records them
with plausible values so that a test about something else (notices, posters, signed heads)
can reach the phase it needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely

import fondo.consultation.clock as consultation_clock
import fondo.consultation.service as cs
from consultation import protocol as pr
from fondo.consultation.schemas_v2 import FactRequestSchema
from fondo.db import session_scope
from fondo.fund.models import Project, Site
from fondo.orm import Technology
from fondo.request_body import load_request

#: Version 2 records of the preparacion phase.
PREPARACION_RECORDS = (
    {"kind": "fpic_determination", "circumstances": [], "reason": "sin circunstancias de la ND7"},
    {"kind": "study_coproduction", "community_participants": 10, "sessions": 2,
     "community_institutions": "Asamblea comunitaria"},
    {"kind": "advice_resources", "budget_mxn": 200000.0, "adviser_chosen_by_community": True,
     "description": "Asesoría independiente"},
)


def complete_phase(session, settings, cid: int, actor: str = "ana") -> dict[str, Any]:
    """Record every step, artefact and condition of the consultation's current phase (and,
    in preparacion, version 2's records first); the caller moves the phase."""
    c = cs.get_consultation(session, settings, cid)
    protocol = pr.load_protocol(c["protocol_version"])
    phase = protocol.phase(c["phase"])
    if c["protocol_version"] != pr.V1_PROTOCOL_VERSION and phase.phase_id == "preparacion":
        for body in PREPARACION_RECORDS:
            cs.record_fact(session, settings, cid, load_request(FactRequestSchema(), body), actor)
    return cs.record_evidence(session, settings, cid, {
        "steps": [s.item_id for s in phase.steps],
        "artefacts": [a.item_id for a in phase.artefacts],
        "conditions": [x.item_id for x in phase.exit_conditions]}, actor)


class Clock:
    """A movable clock for the services (the protocol's minimum durations are in days)."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now = self.now + dt.timedelta(**delta)


def install_clock(monkeypatch, start: dt.datetime) -> Clock:
    """The consultation services' clock replaced by a :class:`Clock` at ``start``."""
    c = Clock(start)
    monkeypatch.setattr(consultation_clock, "clock", c)
    return c


def make_project(settings, lat_lon: tuple[float, float], name: str = "Parque de prueba",
                 technology: Technology = Technology.WIND) -> int:
    """A project, and its site of the same name, at ``lat_lon`` (degrees); returns its id."""
    lat, lon = lat_lon
    with session_scope(settings) as session:
        site = Site(name=name, technology=technology, geometry=shapely.Point(lon, lat))
        session.add(site)
        session.flush()
        project = Project(name=name, technology=technology, site_id=site.id)
        session.add(project)
        session.flush()
        return project.id


#: The community language of the Huasteca potosina (INALI group and variant).
NAHUATL = {"language": "Náhuatl", "variant": "náhuatl de la Huasteca potosina"}

#: Version 2 records of the acuerdos previos phase: Spanish and Nahuatl agreed.
ACUERDOS_RECORDS = (
    {"kind": "languages", "languages": [{"language": "español"}, NAHUATL]},
    {"kind": "participation", "disaggregate_by_age": True, "separate_sessions": ["women"]},
    {"kind": "results_scope", "statement": "Obligan al promovente",
     "binding_on": ["developer", "fund"]},
)


def agree_nahuatl(session, settings, cid: int, accepted_on: str,
                  actor: str = "ana") -> dict[str, int]:
    """In acuerdos previos: record Spanish and Nahuatl as the agreed languages, a translator
    and an interpreter the community accepted, and the phase's other records; the caller
    completes the phase (:func:`complete_phase`) and moves it. Returns the agents' ids."""
    from fondo.consultation.schemas_v2 import LanguageAgentRequestSchema

    for body in ACUERDOS_RECORDS:
        cs.record_fact(session, settings, cid, load_request(FactRequestSchema(), body), actor)
    return {role: cs.add_language_agent(session, settings, cid, load_request(
        LanguageAgentRequestSchema(), {"role": role, "name": f"Persona {role}", **NAHUATL,
                                       "accepted_on": accepted_on,
                                       "acceptance_reference": "Acta de asamblea 3/2026"}),
        actor)["id"] for role in ("translator", "interpreter")}
