"""The shared consultation protocol: versioned phases as gates, and its state machine.

The protocol itself is data (``consultation/protocol.yaml``, read from package data);
this module turns it into frozen dataclasses and implements a pure state machine:
:func:`advance` moves a :class:`ConsultationState` to another phase, or refuses with a
:class:`TransitionError` that lists exactly what is missing.

Notes
-----
Moves allowed:

* **forward** to the phase with the next ``order`` — needs every required step,
  artefact and exit condition of the current phase evidenced, and the phase's minimum
  duration (calendar days, counted from the moment the phase started) elapsed;
* **return** to an earlier phase listed under ``returns`` in the protocol (the
  community asks for more information or more deliberation time) — needs a non-empty
  ``evidence.reason`` only;
* **closure** (version 2) to a terminal phase listed under ``closures``: "closed without
  consent" from consultiva after the community's refusal, "closed: no community
  affected" from preparacion after an identification that found none — needs the
  closure's own steps, artefacts, conditions and recorded facts, not the phase's whole
  exit list nor its minimum duration.

A forward exit may also need recorded facts (``exit_when``): in version 2 the consultiva
phase is left forward only with the community's agreement or consent.

While a consultation is suspended (court suspension, coercion report, electoral
blackout; :mod:`consultation.suspension`) no move is allowed, and the time suspended
does not count towards a phase's minimum duration.

Everything else (skipping a phase, leaving a terminal phase, moving to the same
phase, an unknown phase) is refused.

Several versions are bundled (:data:`PROTOCOL_RESOURCES`); a consultation keeps the
version it was opened under.

References
----------
See the ``sources`` section of ``protocol_v2.yaml`` (each source once, with a short title):
CDI (2013) protocol; ILO C169 arts. 6, 7, 12 and 30; SCJN 2a. XXIX/2016 (requisitos
esenciales), 1a. CCXXXVI/2013 and 2a./J. 11/2023; the 2024 reform of the Constitution's
art. 2; Haida Nation 2004 SCC 73 (no duty to agree, no veto: paras. 42, 48); Canada's UNDRIP
Act (S.C. 2021, c. 14); IFC Performance Standards 1 and 7 (2012). Version 1's sources
(``protocol.yaml``) are kept as they were, for the consultations opened under it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from importlib import resources
from types import MappingProxyType
from typing import Mapping

import yaml

from consultation import suspension as sp

__all__ = [
    "PROTOCOL_RESOURCE",
    "PROTOCOL_RESOURCES",
    "CURRENT_PROTOCOL_VERSION",
    "V1_PROTOCOL_VERSION",
    "V2_PROTOCOL_VERSION",
    "CLOSED_WITHOUT_CONSENT",
    "CLOSED_NO_COMMUNITY_AFFECTED",
    "SUSPENDED",
    "COMMUNITY_MAY_BE_AFFECTED",
    "NO_COMMUNITY_AFFECTED",
    "FINANCIAL_CLOSE",
    "DECISION_KINDS",
    "Closure",
    "PriorDecisionRule",
    "prior_decision_rules",
    "cited_source_id",
    "missing_for_closure",
    "LANGUAGES",
    "Item",
    "Phase",
    "Role",
    "SlaParameters",
    "Source",
    "Protocol",
    "PhaseEvidence",
    "PhaseEntry",
    "Missing",
    "ConsultationState",
    "TransitionError",
    "parse_protocol",
    "load_protocol",
    "start_consultation",
    "missing_for_exit",
    "allowed_moves",
    "advance",
]

PROTOCOL_RESOURCE = "protocol.yaml"
"""Name of the version 1 protocol file inside the ``consultation`` package."""

V1_PROTOCOL_VERSION = "fondo-ca-mx-2026.1"
"""Version 1 (issue 6); consultations opened under it keep it."""

V2_PROTOCOL_VERSION = "fondo-ca-mx-2026.2"
"""Version 2 (issue 13): the right to say no, identification, PS7, "prior" tied to the
pipeline, languages, participation, suspension, citations corrected."""

PROTOCOL_RESOURCES = {V1_PROTOCOL_VERSION: PROTOCOL_RESOURCE,
                      V2_PROTOCOL_VERSION: "protocol_v2.yaml"}
"""Bundled protocol files by version id."""

CURRENT_PROTOCOL_VERSION = V2_PROTOCOL_VERSION
"""Version new consultations are opened under; stored on every consultation."""

CLOSED_WITHOUT_CONSENT = "cerrada_sin_consentimiento"
"""Terminal phase of a consultation whose community refused (version 2)."""

CLOSED_NO_COMMUNITY_AFFECTED = "cerrada_sin_afectacion"
"""Terminal phase of a consultation whose identification found no community that may be
affected (version 2)."""

SUSPENDED = "suspendida"
"""State name shown while a consultation is suspended (the phase is kept, frozen)."""

COMMUNITY_MAY_BE_AFFECTED = "community_may_be_affected"
NO_COMMUNITY_AFFECTED = "no_community_affected"
"""Outcomes of an identification (version 2, trigger "identification required")."""

FINANCIAL_CLOSE = "financial_close"
"""Key of the financial-close rule among the protocol's ``prior_decisions``."""

DECISION_KINDS = ("permit", "land_contract", "sia_resolution")
"""Project decisions the protocol ties to its phases (the rule of each in ``prior_decisions``)."""

LANGUAGES = ("es", "en")
"""Languages every label of the protocol carries: Spanish first, then English."""


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Source:
    """A cited source of the protocol (``short``: its short title, version 2)."""

    source_id: str
    citation: str
    short: str = ""


@dataclasses.dataclass(frozen=True)
class Closure:
    """A move to a terminal phase other than the forward one (version 2).

    ``when`` maps a recorded fact (``position``, ``identification``) to the values that
    allow the closure.
    """

    closure_id: str
    from_phase: str
    to_phase: str
    steps: tuple[str, ...]
    artefacts: tuple[str, ...]
    conditions: tuple[str, ...]
    when: Mapping[str, tuple[str, ...]]
    sources: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PriorDecisionRule:
    """From which phase a project decision (or financial close) is allowed.

    ``requires_agreement``: the phase must have been entered from consultiva with the
    community's agreement or consent.
    """

    kind: str
    phase: str
    requires_agreement: bool
    basis: str
    sources: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Item:
    """A step, artefact or exit condition of a phase, labelled in Spanish and English."""

    item_id: str
    label_es: str
    label_en: str
    sources: tuple[str, ...]

    def label(self, language: str) -> str:
        """Label in ``language`` ("es" or "en")."""
        return _pick(self.label_es, self.label_en, language)


@dataclasses.dataclass(frozen=True)
class Role:
    """A role in the consultation (responsible authority, technical body, guarantor…)."""

    role_id: str
    label_es: str
    label_en: str
    description_es: str
    description_en: str
    sources: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Phase:
    """One phase of the protocol, a gate with its requirements.

    Attributes
    ----------
    min_days : int
        Minimum time in the phase before it may be left forward. [days, calendar]
    """

    phase_id: str
    order: int
    name_es: str
    name_en: str
    purpose_es: str
    purpose_en: str
    min_days: int
    min_days_basis: str
    steps: tuple[Item, ...]
    artefacts: tuple[Item, ...]
    exit_conditions: tuple[Item, ...]
    notice_templates: Mapping[str, Mapping[str, str]] | None
    terminal: bool = False
    exit_when: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    notice_requires_community_language: bool = False

    def name(self, language: str) -> str:
        """Phase name in ``language`` ("es" or "en")."""
        return _pick(self.name_es, self.name_en, language)


@dataclasses.dataclass(frozen=True)
class SlaParameters:
    """Service levels of the grievance mechanism.

    Attributes
    ----------
    grievance_acknowledge_working_days : int
        Acknowledge a submission within this many working days. [working days]
    grievance_answer_working_days : int
        Answer a submission within this many working days. [working days]
    notice_min_lead_days : int
        Publish a meeting notice at least this many days before the meeting. [days]
    """

    grievance_acknowledge_working_days: int
    grievance_answer_working_days: int
    notice_min_lead_days: int
    basis: str
    sources: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A versioned consultation protocol."""

    version: str
    title_es: str
    title_en: str
    effective_from: dt.date
    phases: tuple[Phase, ...]
    roles: tuple[Role, ...]
    returns: frozenset[tuple[str, str]]
    sla: SlaParameters
    sources: tuple[Source, ...]
    principles: tuple[Item, ...]
    closures: tuple[Closure, ...] = ()
    prior_decisions: Mapping[str, PriorDecisionRule] = dataclasses.field(default_factory=dict)
    suspension_kinds: tuple[Item, ...] = ()

    @property
    def phase_ids(self) -> tuple[str, ...]:
        """Phase ids in protocol order."""
        return tuple(p.phase_id for p in self.phases)

    @property
    def first_phase(self) -> Phase:
        """The phase a new consultation starts in."""
        return self.phases[0]

    def phase(self, phase_id: str) -> Phase:
        """Return the phase ``phase_id``; ``ValueError`` naming the valid ids otherwise."""
        for p in self.phases:
            if p.phase_id == phase_id:
                return p
        raise ValueError(
            f"unknown phase {phase_id!r} in protocol {self.version}; "
            f"valid phases: {', '.join(self.phase_ids)}"
        )

    def next_phase(self, phase_id: str) -> Phase | None:
        """The phase after ``phase_id``, or None from a terminal phase."""
        phase = self.phase(phase_id)
        if phase.terminal:
            return None
        i = self.phase_ids.index(phase.phase_id)
        return self.phases[i + 1] if i + 1 < len(self.phases) else None

    def closure(self, from_phase: str, to_phase: str) -> Closure | None:
        """The closure from ``from_phase`` to ``to_phase``, if the protocol has one."""
        for c in self.closures:
            if c.from_phase == from_phase and c.to_phase == to_phase:
                return c
        return None

    def source(self, source_id: str) -> Source:
        """The cited source ``source_id``."""
        for s in self.sources:
            if s.source_id == source_id:
                return s
        raise ValueError(f"unknown source {source_id!r} in protocol {self.version}")


def cited_source_id(citation: str) -> str:
    """The source id of an item's citation: ``"ilo169:art. 6(2)"`` cites ``"ilo169"``."""
    return str(citation).split(":", 1)[0].strip()


def _pick(es: str, en: str, language: str) -> str:
    if language == "es":
        return es
    if language == "en":
        return en
    raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")


def _require(mapping: Mapping, key: str, where: str):
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise ValueError(f"protocol: missing key {key!r} in {where}")
    return mapping[key]


def _items(raw, where: str) -> tuple[Item, ...]:
    items = []
    seen = set()
    for i, entry in enumerate(raw or ()):
        item_id = str(_require(entry, "id", f"{where}[{i}]"))
        if item_id in seen:
            raise ValueError(f"protocol: duplicate id {item_id!r} in {where}")
        seen.add(item_id)
        items.append(
            Item(
                item_id=item_id,
                label_es=str(_require(entry, "es", f"{where}.{item_id}")),
                label_en=str(_require(entry, "en", f"{where}.{item_id}")),
                sources=tuple(entry.get("sources", ())),
            )
        )
    return tuple(items)


def parse_protocol(text: str | bytes) -> Protocol:
    """Parse a protocol document (YAML or JSON text) into a :class:`Protocol`.

    Parameters
    ----------
    text : str or bytes
        The protocol document (JSON is a subset of YAML).

    Returns
    -------
    Protocol

    Raises
    ------
    ValueError
        On a missing key, a duplicate id, phases out of order, a negative minimum
        duration or a source id cited but not listed under ``sources``.
    """
    doc = yaml.safe_load(text)
    if not isinstance(doc, Mapping):
        raise ValueError("protocol: the document must be a mapping")
    version = str(_require(doc, "version", "document"))
    sources = tuple(
        Source(str(_require(s, "id", "sources")), str(_require(s, "citation", "sources")),
               str(s.get("short", "")))
        for s in _require(doc, "sources", "document")
    )
    source_ids = {s.source_id for s in sources}
    if len(source_ids) != len(sources):
        raise ValueError("protocol: a source id is listed twice under 'sources'")
    phases = []
    for i, raw in enumerate(_require(doc, "phases", "document")):
        pid = str(_require(raw, "id", f"phases[{i}]"))
        min_days = int(_require(raw, "min_days", pid))
        if min_days < 0:
            raise ValueError(f"protocol: phase {pid} min_days must be >= 0, got {min_days}")
        notice = raw.get("notice")
        templates = None
        if notice is not None:
            templates = MappingProxyType(
                {
                    part: MappingProxyType({lang: str(notice[part][lang]) for lang in LANGUAGES})
                    for part in ("title", "body")
                }
            )
        phases.append(
            Phase(
                phase_id=pid,
                order=int(_require(raw, "order", pid)),
                name_es=str(raw["name"]["es"]),
                name_en=str(raw["name"]["en"]),
                purpose_es=str(raw["purpose"]["es"]),
                purpose_en=str(raw["purpose"]["en"]),
                min_days=min_days,
                min_days_basis=str(raw.get("min_days_basis", "")),
                steps=_items(raw.get("steps"), f"{pid}.steps"),
                artefacts=_items(raw.get("artefacts"), f"{pid}.artefacts"),
                exit_conditions=_items(raw.get("exit_conditions"), f"{pid}.exit_conditions"),
                notice_templates=templates,
                terminal=bool(raw.get("terminal", False)),
                exit_when=MappingProxyType({str(k): tuple(v) for k, v
                                            in (raw.get("exit_when") or {}).items()}),
                notice_requires_community_language=bool(
                    raw.get("notice_requires_community_language", False)),
            )
        )
    orders = [p.order for p in phases]
    if orders != list(range(1, len(phases) + 1)):
        raise ValueError(f"protocol: phase orders must be 1..n in file order, got {orders}")
    flags = [p.terminal for p in phases]
    if not phases or not flags[-1] or flags != sorted(flags):
        raise ValueError("protocol: terminal phases must come last, after every other phase")
    phase_ids = [p.phase_id for p in phases]
    if len(set(phase_ids)) != len(phase_ids):
        raise ValueError(f"protocol: duplicate phase ids in {phase_ids}")
    returns = set()
    for r in doc.get("returns", ()) or ():
        src, dst = str(r["from"]), str(r["to"])
        if src not in phase_ids or dst not in phase_ids:
            raise ValueError(f"protocol: return {src}->{dst} names an unknown phase")
        if phase_ids.index(dst) >= phase_ids.index(src):
            raise ValueError(f"protocol: return {src}->{dst} must go to an earlier phase")
        returns.add((src, dst))
    raw_sla = _require(doc, "sla", "document")
    sla = SlaParameters(
        grievance_acknowledge_working_days=int(raw_sla["grievance_acknowledge_working_days"]),
        grievance_answer_working_days=int(raw_sla["grievance_answer_working_days"]),
        notice_min_lead_days=int(raw_sla["notice_min_lead_days"]),
        basis=str(raw_sla.get("basis", "")),
        sources=tuple(raw_sla.get("sources", ())),
    )
    if not 0 < sla.grievance_acknowledge_working_days <= sla.grievance_answer_working_days:
        raise ValueError(
            "protocol: SLA needs 0 < acknowledge working days <= answer working days, got "
            f"{sla.grievance_acknowledge_working_days} and {sla.grievance_answer_working_days}"
        )
    roles = tuple(
        Role(
            role_id=str(r["id"]),
            label_es=str(r["es"]),
            label_en=str(r["en"]),
            description_es=str(r["description"]["es"]),
            description_en=str(r["description"]["en"]),
            sources=tuple(r.get("sources", ())),
        )
        for r in _require(doc, "roles", "document")
    )
    principles = _items(doc.get("principles"), "principles")
    closures = []
    for i, raw in enumerate(doc.get("closures", ()) or ()):
        cid = str(_require(raw, "id", f"closures[{i}]"))
        src, dst = str(_require(raw, "from", cid)), str(_require(raw, "to", cid))
        if src not in phase_ids or dst not in phase_ids:
            raise ValueError(f"protocol: closure {cid} names an unknown phase")
        if not phases[phase_ids.index(dst)].terminal or phases[phase_ids.index(src)].terminal:
            raise ValueError(f"protocol: closure {cid} must go from a phase to a terminal phase")
        req = raw.get("requires") or {}
        closures.append(Closure(
            cid, src, dst, tuple(req.get("steps", ())), tuple(req.get("artefacts", ())),
            tuple(req.get("conditions", ())),
            MappingProxyType({str(k): tuple(v) for k, v in (raw.get("when") or {}).items()}),
            tuple(raw.get("sources", ()))))
        phase = phases[phase_ids.index(src)]
        for field, items in (("steps", phase.steps), ("artefacts", phase.artefacts),
                             ("conditions", phase.exit_conditions)):
            unknown = set(getattr(closures[-1], field)) - {x.item_id for x in items}
            if unknown:
                raise ValueError(f"protocol: closure {cid} needs {field} {sorted(unknown)} "
                                 f"that phase {src} does not list")
    rules = {}
    for raw in doc.get("prior_decisions", ()) or ():
        kind = str(_require(raw, "kind", "prior_decisions"))
        phase_id = str(_require(raw, "phase", kind))
        if phase_id not in phase_ids:
            raise ValueError(f"protocol: prior decision {kind} names unknown phase {phase_id}")
        rules[kind] = PriorDecisionRule(kind, phase_id, bool(raw.get("requires_agreement")),
                                        str(raw.get("basis", "")), tuple(raw.get("sources", ())))
    suspension_kinds = _items(doc.get("suspension_kinds"), "suspension_kinds")
    cited = set(sla.sources)
    for holder in tuple(closures) + tuple(rules.values()) + suspension_kinds:
        cited.update(holder.sources)
    for p in phases:
        for item in p.steps + p.artefacts + p.exit_conditions:
            cited.update(item.sources)
    for holder in roles + principles:
        cited.update(holder.sources)
    for r in doc.get("returns", ()) or ():
        cited.update(r.get("sources", ()))
    unknown = sorted({cited_source_id(c) for c in cited} - source_ids)
    if unknown:
        raise ValueError(f"protocol: cited sources not listed under 'sources': {unknown}")
    effective = doc.get("effective_from")
    if isinstance(effective, str):
        effective = dt.date.fromisoformat(effective)
    return Protocol(
        version=version,
        title_es=str(doc["title"]["es"]),
        title_en=str(doc["title"]["en"]),
        effective_from=effective,
        phases=tuple(phases),
        roles=roles,
        returns=frozenset(returns),
        sla=sla,
        sources=sources,
        principles=principles,
        closures=tuple(closures),
        prior_decisions=MappingProxyType(rules),
        suspension_kinds=suspension_kinds,
    )


@functools.lru_cache(maxsize=8)
def load_protocol(version: str | None = None) -> Protocol:
    """Load a bundled protocol from package data.

    Parameters
    ----------
    version : str, optional
        The version a consultation was opened under (a key of
        :data:`PROTOCOL_RESOURCES`). None loads the current one.

    Returns
    -------
    Protocol

    Raises
    ------
    ValueError
        If ``version`` is not a bundled version.

    Examples
    --------
    >>> load_protocol().version
    'fondo-ca-mx-2026.2'
    """
    version = CURRENT_PROTOCOL_VERSION if version is None else version
    if version not in PROTOCOL_RESOURCES:
        raise ValueError(f"protocol version {version!r} is not bundled; available: "
                         f"{', '.join(repr(v) for v in PROTOCOL_RESOURCES)}")
    name = PROTOCOL_RESOURCES[version]
    text = resources.files("consultation").joinpath(name).read_text("utf-8")
    protocol = parse_protocol(text)
    if protocol.version != version:
        raise ValueError(f"{name} holds protocol {protocol.version!r}, expected {version!r}")
    return protocol


def prior_decision_rules(protocol: Protocol | None = None) -> Mapping[str, PriorDecisionRule]:
    """The phase from which each project decision and financial close is allowed.

    A protocol without such rules (version 1) is judged by the current version's rules,
    whose phases it shares.
    """
    protocol = protocol or load_protocol()
    if protocol.prior_decisions:
        return protocol.prior_decisions
    return load_protocol().prior_decisions


@dataclasses.dataclass(frozen=True)
class PhaseEvidence:
    """What has been done in the current phase (assembled by the shell from the record).

    Attributes
    ----------
    steps, artefacts, conditions : frozenset of str
        Ids of the steps done, artefacts held and exit conditions met.
    reason : str
        Why the move is made; required for a return to an earlier phase.
    facts : mapping of str to str
        Recorded facts a move may depend on: ``position`` (the community's last answer:
        consent, agreement or refusal), ``identification`` (its outcome).
    """

    steps: frozenset[str] = frozenset()
    artefacts: frozenset[str] = frozenset()
    conditions: frozenset[str] = frozenset()
    reason: str = ""
    facts: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "facts", MappingProxyType(dict(self.facts)))
        for name in ("steps", "artefacts", "conditions"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ValueError(f"evidence.{name} must be a set of ids, not a string")
            object.__setattr__(self, name, frozenset(value))
        if not isinstance(self.reason, str):
            raise ValueError("evidence.reason must be a string")


@dataclasses.dataclass(frozen=True)
class PhaseEntry:
    """One past or current stay in a phase."""

    phase_id: str
    entered_at: dt.datetime
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Missing:
    """What stands between a phase and its exit.

    Attributes
    ----------
    days_remaining : int
        Whole calendar days still to wait for the minimum duration. [days]
    """

    phase_id: str
    steps: tuple[str, ...] = ()
    artefacts: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    days_remaining: int = 0
    facts: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when nothing is missing."""
        return not (self.steps or self.artefacts or self.conditions or self.days_remaining
                    or self.facts)

    def describe(self) -> str:
        """One-line English description of what is missing."""
        parts = []
        if self.steps:
            parts.append("steps not done: " + ", ".join(self.steps))
        if self.artefacts:
            parts.append("artefacts missing: " + ", ".join(self.artefacts))
        if self.conditions:
            parts.append("exit conditions open: " + ", ".join(self.conditions))
        if self.days_remaining:
            parts.append(
                f"minimum duration not elapsed: {self.days_remaining} more day(s)"
            )
        if self.facts:
            parts.append("facts not recorded: " + ", ".join(self.facts))
        return "; ".join(parts) if parts else "nothing missing"


@dataclasses.dataclass(frozen=True)
class ConsultationState:
    """State of one consultation: protocol version, current phase and history."""

    protocol_version: str
    phase_id: str
    phase_started_at: dt.datetime
    history: tuple[PhaseEntry, ...]
    suspensions: tuple[sp.Suspension, ...] = ()

    def __post_init__(self):
        object.__setattr__(
            self, "phase_started_at", _utc(self.phase_started_at, "phase_started_at")
        )
        object.__setattr__(self, "suspensions", tuple(self.suspensions))

    @property
    def suspended(self) -> bool:
        """True while a suspension is open (the phase and its clock are frozen)."""
        return sp.is_suspended(self.suspensions)


class TransitionError(ValueError):
    """An illegal phase change; ``missing`` lists what the current phase still needs."""

    def __init__(self, message: str, from_phase: str, to_phase: str, missing: Missing | None):
        super().__init__(message)
        self.from_phase = from_phase
        self.to_phase = to_phase
        self.missing = missing


def start_consultation(now: dt.datetime, protocol: Protocol | None = None) -> ConsultationState:
    """A new consultation in the protocol's first phase, started at ``now``.

    Parameters
    ----------
    now : datetime
        Timezone-aware start instant.
    protocol : Protocol, optional
        Defaults to the current bundled protocol.
    """
    protocol = protocol or load_protocol()
    now = _utc(now, "now")
    first = protocol.first_phase.phase_id
    return ConsultationState(protocol.version, first, now, (PhaseEntry(first, now),))


def _protocol_for(state: ConsultationState, protocol: Protocol | None) -> Protocol:
    protocol = protocol or load_protocol(state.protocol_version)
    if protocol.version != state.protocol_version:
        raise ValueError(
            f"consultation runs under protocol {state.protocol_version!r}, "
            f"got protocol {protocol.version!r}"
        )
    return protocol


def missing_for_exit(
    protocol: Protocol,
    phase_id: str,
    evidence: PhaseEvidence,
    phase_started_at: dt.datetime,
    now: dt.datetime,
    suspensions: tuple[sp.Suspension, ...] = (),
) -> Missing:
    """What the phase ``phase_id`` still needs before it may be left forward.

    Parameters
    ----------
    protocol : Protocol
    phase_id : str
    evidence : PhaseEvidence
        Steps done, artefacts held, conditions met in this phase.
    phase_started_at, now : datetime
        Timezone-aware instants; the minimum duration counts calendar days between them.
    suspensions : tuple of Suspension
        The consultation's suspensions; the time they overlap the phase does not count.

    Returns
    -------
    Missing
        Ids listed in protocol order; ``days_remaining`` is the ceiling of the days
        left [days]; ``facts`` the recorded facts the forward exit needs (``exit_when``).

    Notes
    -----
    days_remaining = max(0, ceil(min_days − (now − phase_started_at − suspended) / 1 day)),
    with ``suspended`` the time of ``suspensions`` inside [phase_started_at, now].
    """
    phase = protocol.phase(phase_id)
    start = _utc(phase_started_at, "phase_started_at")
    now = _utc(now, "now")
    if now < start:
        raise ValueError(
            f"now ({now.isoformat()}) is before the phase started ({start.isoformat()})"
        )
    elapsed_s = (now - start).total_seconds() - sp.suspended_seconds(suspensions, start, now)
    remaining_s = phase.min_days * 86400.0 - elapsed_s
    days_remaining = 0 if remaining_s <= 0 else int(-(-remaining_s // 86400))
    return Missing(
        phase_id=phase.phase_id,
        steps=tuple(s.item_id for s in phase.steps if s.item_id not in evidence.steps),
        artefacts=tuple(a.item_id for a in phase.artefacts if a.item_id not in evidence.artefacts),
        conditions=tuple(
            c.item_id for c in phase.exit_conditions if c.item_id not in evidence.conditions
        ),
        days_remaining=days_remaining,
        facts=tuple(f"{k} in ({'/'.join(v)})" for k, v in phase.exit_when.items()
                    if evidence.facts.get(k) not in v),
    )


def missing_for_closure(closure: Closure, evidence: PhaseEvidence) -> Missing:
    """What a closure (a move to a terminal phase other than the forward one) still needs."""
    return Missing(
        phase_id=closure.from_phase,
        steps=tuple(s for s in closure.steps if s not in evidence.steps),
        artefacts=tuple(a for a in closure.artefacts if a not in evidence.artefacts),
        conditions=tuple(c for c in closure.conditions if c not in evidence.conditions),
        facts=tuple(f"{k} in ({'/'.join(v)})" for k, v in closure.when.items()
                    if evidence.facts.get(k) not in v),
    )


def allowed_moves(state: ConsultationState, protocol: Protocol | None = None,
                  evidence: PhaseEvidence | None = None) -> tuple[str, ...]:
    """Phases reachable from the current one (forward first, then closures, then returns).

    With ``evidence``, a closure is listed only once its recorded facts allow it (a refusal
    for "closed without consent", an identification that found no community for "no
    community affected"); none while suspended.
    """
    protocol = _protocol_for(state, protocol)
    if state.suspended:
        return ()
    moves = []
    nxt = protocol.next_phase(state.phase_id)
    if nxt is not None and not protocol.phase(state.phase_id).terminal:
        moves.append(nxt.phase_id)
    moves.extend(c.to_phase for c in protocol.closures if c.from_phase == state.phase_id
                 and (evidence is None or all(evidence.facts.get(k) in v
                                              for k, v in c.when.items())))
    moves.extend(
        dst for pid in protocol.phase_ids for (src, dst) in protocol.returns
        if src == state.phase_id and dst == pid
    )
    return tuple(moves)


def advance(
    state: ConsultationState,
    to_phase: str,
    evidence: PhaseEvidence,
    now: dt.datetime,
    protocol: Protocol | None = None,
) -> ConsultationState:
    """Move a consultation to ``to_phase``, or refuse listing what is missing.

    Parameters
    ----------
    state : ConsultationState
    to_phase : str
        Target phase id.
    evidence : PhaseEvidence
        Evidence for the phase being left (and the reason for a return).
    now : datetime
        Timezone-aware instant of the move.
    protocol : Protocol, optional
        Defaults to the bundled protocol of ``state.protocol_version``.

    Returns
    -------
    ConsultationState
        A new state; ``state`` is not modified.

    Raises
    ------
    TransitionError
        Illegal move: unknown or same phase, a skip, leaving the terminal phase, a
        return without reason, or a forward move with steps, artefacts, exit
        conditions or minimum duration missing (all listed in the message and in
        ``.missing``).
    """
    protocol = _protocol_for(state, protocol)
    now = _utc(now, "now")
    current = protocol.phase(state.phase_id)
    if to_phase not in protocol.phase_ids:
        raise TransitionError(
            f"unknown phase {to_phase!r}; valid phases: {', '.join(protocol.phase_ids)}",
            current.phase_id, to_phase, None,
        )
    if current.terminal:
        raise TransitionError(
            f"consultation is in the terminal phase {current.phase_id!r}; no move is allowed",
            current.phase_id, to_phase, None,
        )
    if state.suspended:
        raise TransitionError(
            f"consultation is suspended ({state.suspensions[-1].kind}) since "
            f"{state.suspensions[-1].started_at.isoformat()}; resume it before any move",
            current.phase_id, to_phase, None,
        )
    if to_phase == current.phase_id:
        raise TransitionError(
            f"consultation is already in phase {to_phase!r}", current.phase_id, to_phase, None
        )
    if now < state.phase_started_at:
        raise TransitionError(
            f"now ({now.isoformat()}) is before the current phase started "
            f"({state.phase_started_at.isoformat()})",
            current.phase_id, to_phase, None,
        )
    if (current.phase_id, to_phase) in protocol.returns:
        if not evidence.reason.strip():
            raise TransitionError(
                f"return from {current.phase_id!r} to {to_phase!r} needs a recorded reason",
                current.phase_id, to_phase, None,
            )
        return _moved(state, to_phase, now, evidence.reason.strip())
    closure = protocol.closure(current.phase_id, to_phase)
    if closure is not None:
        missing = missing_for_closure(closure, evidence)
        if not missing.complete:
            raise TransitionError(
                f"cannot close {current.phase_id!r} as {to_phase!r}: {missing.describe()}",
                current.phase_id, to_phase, missing,
            )
        return _moved(state, to_phase, now, evidence.reason.strip())
    nxt = protocol.next_phase(current.phase_id)
    if nxt is None or to_phase != nxt.phase_id:
        raise TransitionError(
            f"illegal move {current.phase_id!r} -> {to_phase!r}; allowed: "
            f"{', '.join(allowed_moves(state, protocol, evidence)) or 'none'}",
            current.phase_id, to_phase, None,
        )
    missing = missing_for_exit(protocol, current.phase_id, evidence, state.phase_started_at, now,
                               state.suspensions)
    if not missing.complete:
        raise TransitionError(
            f"cannot leave {current.phase_id!r} for {to_phase!r}: {missing.describe()}",
            current.phase_id, to_phase, missing,
        )
    return _moved(state, to_phase, now, evidence.reason.strip())


def _moved(state: ConsultationState, to_phase: str, now: dt.datetime, reason: str):
    return ConsultationState(
        protocol_version=state.protocol_version,
        phase_id=to_phase,
        phase_started_at=now,
        history=state.history + (PhaseEntry(to_phase, now, reason),),
        suspensions=state.suspensions,
    )
