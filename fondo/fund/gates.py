"""The pipeline's gates: named rules a project must meet to enter a stage (issue 11).

Each gate is a function of the project's facts answering ``(passed, reason)``; the reason
says what is met or what is missing. A move is refused with every unmet gate listed
(:mod:`fondo.fund.transitions`).

=========================  ===================================  ===============================
entering                   gate                                 passes when
=========================  ===================================  ===============================
screening                  ``site_defined``                     the project has a site
due_diligence              ``site_check_passed``                the site's stored check has no
                                                                failed hard constraint
                                                                (:data:`HARD_CONSTRAINTS`)
due_diligence              ``yield_study_stored``               a linked yield study finished
                                                                with P50 and P90 energy
due_diligence              ``indigenous_identification_done``   no pending identification of
                                                                indigenous communities
consultation               ``consultation_opened_if_required``  a consultation is open, or the
                                                                rule says none is required
financial_close            ``yield_study_approved``             a linked study approved (who,
                                                                when: ``project_studies``)
financial_close            ``p90_dscr_covenant``                the P90 case's minimum senior
                                                                DSCR ≥ the lender's covenant
financial_close            ``consultation_agreement``           agreement reached where a
                                                                consultation is required or
                                                                was opened
financial_close            ``consent_not_withheld``             the community did not refuse
financial_close            ``no_overdue_grievances``            no grievance past its SLA
financial_close            ``no_premature_decisions``           no permit, land contract or
                                                                SIA resolution before the
                                                                protocol allows
financial_close            ``protocol_allows_financial_close``  the consultation reached the
                                                                phase the protocol requires
financial_close            ``concentration_limits``             the fund's concentration limits
                                                                hold with the project closed
construction               ``consent_not_withheld``,
                           ``no_overdue_grievances``
operation                  ``no_overdue_grievances``
=========================  ===================================  ===============================

**The P90 case.** The finance engine evaluates a case on the energy it is given
(``energy_p50_mwh``, the realized production of every year). A case is *the P90 case* of an
approved study when it was run with that study's one-year P90 energy as its production:
its request's ``energy_p50_mwh`` is at most the study's ``energy_p90_mwh`` (relative
tolerance :data:`P90_ENERGY_RTOL`; a lower energy is more prudent and also counts). Its
minimum senior DSCR (result ``min_dscr_senior``, else today's ``min_dscr``, which is the
senior DSCR) must meet the covenant: the case's ``covenant_min_dscr`` when its request has
one, else :data:`DEFAULT_P90_DSCR_COVENANT`. :func:`fondo.fund.links.create_p90_case`
makes the P90 case of a project's case. The engine sculpts the senior debt of every case
on that case's own sizing energy, so the P90 case reproduces the base case's debt exactly
when the base case sizes it on P90 (``sizing_basis: "p90"``, the lenders' usual practice
and the demo's); a base case sized on P50 gets its debt re-sized on the P90 energy, and
the test is then of the debt a lender would size at P90 (a fixed-debt downside needs an
engine option).

Consultation facts come only from
:func:`fondo.consultation.service.project_consultation_gates`; the concentration limits from
:data:`concentration_limit_problems` (the portfolio's check, wired in one line).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation.protocol import CLOSED_NO_COMMUNITY_AFFECTED
from fondo.consultation import service as consultation_service
from fondo.finance import service as finance_service
from fondo.fund import limits
from fondo.fund.models import PipelineStage, Project, ProjectStudy
from fondo.studies import service as studies_service

#: Default covenant on the minimum senior DSCR of the P90 case when the case gives none:
#: 1.05, the usual *default ratio* of a project-finance loan (an annual DSCR below it is an
#: event of default; lock-up ratios are higher). Source: E. R. Yescombe, *Principles of
#: Project Finance*, 2nd ed., Academic Press (2014), chapter "Cover ratios" (default ratio
#: "say 1.05:1"). A case's own ``covenant_min_dscr`` replaces it. [-]
DEFAULT_P90_DSCR_COVENANT = 1.05
#: Relative tolerance of "run with the study's P90 energy" (the energy is copied from the
#: study, so only rounding separates them). [-]
P90_ENERGY_RTOL = 1e-9
#: Site-check constraints that are hard: an overlap with an exclusion layer (protected
#: areas, water, urban areas, localities, imported layers: names ending ``_overlap_km2``)
#: or a slope beyond the technology's limit. Grid distance, LCOE and the consultation
#: trigger are judged elsewhere (economics; the consultation gates), not here.
HARD_CONSTRAINT_SUFFIX = "_overlap_km2"
HARD_CONSTRAINTS = ("slope_pct",)

#: The concentration-limits check: ``(session, project_id, target_stage) -> [problem, ...]``
#: (empty when the fund's limits hold): the portfolio's
#: :func:`fondo.fund.limits.concentration_limit_problems` (a fund with no limit configured
#: has nothing to break).
ConcentrationCheck = Callable[[Session, int, str], list[str]]

#: The check the ``concentration_limits`` gate calls.
concentration_limit_problems: ConcentrationCheck = limits.concentration_limit_problems


def is_hard_constraint(name: str) -> bool:
    """True for a site-check constraint that excludes a site outright."""
    return name.endswith(HARD_CONSTRAINT_SUFFIX) or name in HARD_CONSTRAINTS


class ProjectFacts:
    """What the gates read about one project, each fact loaded once, when first needed."""

    def __init__(self, session: Session, project: Project,
                 limits: ConcentrationCheck | None = None):
        self.session = session
        self.project = project
        self.limits = limits

    @cached_property
    def consultation(self) -> dict[str, Any]:
        """:func:`fondo.consultation.service.project_consultation_gates` of the project."""
        return consultation_service.project_consultation_gates(self.session, self.project.id)

    @cached_property
    def study_links(self) -> list[tuple[ProjectStudy, Any]]:
        """(link, study) of every yield study linked to the project, oldest first."""
        links = self.session.scalars(select(ProjectStudy).where(
            ProjectStudy.project_id == self.project.id).order_by(ProjectStudy.id))
        return [(link, studies_service.get_study(self.session, link.study_id)) for link in links]

    @cached_property
    def finance_cases(self) -> list[Any]:
        """The project's finance cases, newest first."""
        return finance_service.list_cases(self.session, self.project.id)


@dataclass(frozen=True)
class Gate:
    """A named rule guarding entry to a stage."""

    name: str
    stage: PipelineStage
    description: str
    check: Callable[[ProjectFacts], tuple[bool, str]]


def _finished(study: Any) -> bool:
    return (study.status.value == "SUCCESS" and study.energy_p50_mwh is not None
            and study.energy_p90_mwh is not None)


def site_defined(facts: ProjectFacts) -> tuple[bool, str]:
    if facts.project.site_id is None:
        return False, "the project has no site: give it a site_id"
    return True, f"site {facts.project.site_id}"


def site_check_passed(facts: ProjectFacts) -> tuple[bool, str]:
    site = facts.project.site
    if site is None:
        return False, "the project has no site to check"
    check = site.check_result
    if not check or not isinstance(check.get("constraints"), list):
        return False, f"site {site.id} has no stored site check: run one"
    failed = [c for c in check["constraints"]
              if is_hard_constraint(str(c.get("name"))) and not c.get("passed")]
    if failed:
        return False, "hard constraints failed: " + "; ".join(
            f"{c['name']} ({c.get('reason', '')})" for c in failed)
    return True, f"site check of {check.get('checked_at', 'unknown date')}: no hard " \
                 "constraint failed"


def yield_study_stored(facts: ProjectFacts) -> tuple[bool, str]:
    done = [s for _, s in facts.study_links if _finished(s)]
    if not done:
        return False, ("no finished yield study with P50 and P90 energy is linked to the "
                       "project")
    return True, f"yield study {done[-1].id} (P50 {done[-1].energy_p50_mwh:.0f} MWh)"


def indigenous_identification_done(facts: ProjectFacts) -> tuple[bool, str]:
    c = facts.consultation
    if c["identification_pending"]:
        return False, ("identification of possibly affected indigenous or Afro-Mexican "
                       "communities is pending")
    return True, f"consultation requirement: {c['requirement']}"


def consultation_opened_if_required(facts: ProjectFacts) -> tuple[bool, str]:
    c = facts.consultation
    if c["consultation_id"] is not None:
        return True, f"consultation {c['consultation_id']} ({c['state']})"
    if c["requirement"] == "not_required":
        return True, "the siting rule requires no consultation"
    if c["requirement"] == "unknown":
        return False, ("whether a consultation is required is unknown: store a site check "
                       "of the project's site")
    return False, f"a consultation is {c['requirement'].replace('_', ' ')} and none is open"


def _approved(facts: ProjectFacts) -> list[Any]:
    return [s for link, s in facts.study_links if link.approved_at is not None and _finished(s)]


def yield_study_approved(facts: ProjectFacts) -> tuple[bool, str]:
    approved = [(link, s) for link, s in facts.study_links
                if link.approved_at is not None and _finished(s)]
    if not approved:
        return False, "no linked yield study is approved"
    link, study = approved[-1]
    return True, f"yield study {study.id} approved by {link.approved_by} on " \
                 f"{link.approved_at.date().isoformat()}"


def case_min_dscr_senior(case: Any) -> float | None:
    """The case's minimum senior DSCR: ``min_dscr_senior`` of its result, else ``min_dscr``."""
    metrics = (case.result or {}).get("metrics") or {}
    value = metrics.get("min_dscr_senior", metrics.get("min_dscr"))
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def case_covenant(case: Any) -> float:
    """The lender's covenant on the case's minimum senior DSCR (the case's, else default)."""
    value = (case.request or {}).get("covenant_min_dscr")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return DEFAULT_P90_DSCR_COVENANT


def is_p90_case(case: Any, study: Any) -> bool:
    """True when ``case`` was run with ``study``'s one-year P90 energy (or less)."""
    energy = (case.request or {}).get("energy_p50_mwh")
    if not isinstance(energy, (int, float)) or study.energy_p90_mwh is None:
        return False
    return energy <= study.energy_p90_mwh * (1 + P90_ENERGY_RTOL)


def p90_dscr_covenant(facts: ProjectFacts) -> tuple[bool, str]:
    studies = _approved(facts)
    if not studies:
        return False, "no approved yield study, so no P90 case to test"
    p90_cases = [c for c in facts.finance_cases if any(is_p90_case(c, s) for s in studies)]
    if not p90_cases:
        return False, ("no finance case of the project is run with the approved study's P90 "
                       "energy (make one: POST /api/v1/projects/<id>/p90-case)")
    case = p90_cases[0]  # the newest
    dscr, covenant = case_min_dscr_senior(case), case_covenant(case)
    if dscr is None:
        return False, f"finance case {case.id} (P90) has no senior debt service, so no DSCR"
    if dscr < covenant:
        return False, (f"finance case {case.id} (P90): minimum senior DSCR {dscr:.3f} below "
                       f"the covenant {covenant:.2f}")
    return True, f"finance case {case.id} (P90): minimum senior DSCR {dscr:.3f} ≥ {covenant:.2f}"


def consultation_agreement(facts: ProjectFacts) -> tuple[bool, str]:
    c = facts.consultation
    needed = (c["requirement"] in ("required", "unknown") or c["identification_pending"]
              or c["consultation_id"] is not None)
    if not needed:
        return True, "no consultation required or opened"
    if c["state"] == CLOSED_NO_COMMUNITY_AFFECTED and c["requirement"] != "required":
        return True, (f"consultation {c['consultation_id']} closed: the identification found "
                      "no community that may be affected")
    if c["consultation_id"] is None:
        return False, (f"a consultation is needed (requirement: {c['requirement']}) and "
                       "none was held")
    if not c["agreement_reached"]:
        return False, f"consultation {c['consultation_id']} ({c['state']}) has not reached " \
                      "an agreement"
    return True, f"consultation {c['consultation_id']} reached an agreement"


def consent_not_withheld(facts: ProjectFacts) -> tuple[bool, str]:
    c = facts.consultation
    if c["consent_withheld"]:
        return False, (f"the community withheld its consent in consultation "
                       f"{c['consultation_id']}; only a new consultation that reaches "
                       "agreement re-opens the project")
    return True, "consent not withheld"


def no_overdue_grievances(facts: ProjectFacts) -> tuple[bool, str]:
    n = int(facts.consultation["overdue_grievances"])
    if n:
        return False, f"{n} grievance(s) past their answer deadline"
    return True, "no grievance past its deadline"


def no_premature_decisions(facts: ProjectFacts) -> tuple[bool, str]:
    early = facts.consultation["premature_decisions"]
    if early:
        return False, "decisions taken before the protocol allows: " + "; ".join(
            f"{d['kind']} on {d['date']} ({d['reason']})" for d in early)
    return True, "no decision taken ahead of the consultation"


def protocol_allows_financial_close(facts: ProjectFacts) -> tuple[bool, str]:
    c = facts.consultation
    if not c["financial_close_allowed_by_protocol"]:
        return False, (f"the consultation protocol does not allow financial close yet "
                       f"(consultation state: {c['state'] or 'none'})")
    return True, "the consultation protocol allows financial close"


def concentration_limits(facts: ProjectFacts) -> tuple[bool, str]:
    check = facts.limits or concentration_limit_problems
    problems = list(check(facts.session, facts.project.id,
                          PipelineStage.FINANCIAL_CLOSE.value))
    if problems:
        return False, "; ".join(problems)
    return True, "within the fund's concentration limits"


S = PipelineStage
#: Every gate, in the order they are reported.
GATES: tuple[Gate, ...] = (
    Gate("site_defined", S.SCREENING, "The project has a site.", site_defined),
    Gate("site_check_passed", S.DUE_DILIGENCE,
         "A stored site check with no failed hard constraint.", site_check_passed),
    Gate("yield_study_stored", S.DUE_DILIGENCE,
         "A finished yield study linked to the project.", yield_study_stored),
    Gate("indigenous_identification_done", S.DUE_DILIGENCE,
         "No pending identification of indigenous communities.",
         indigenous_identification_done),
    Gate("consultation_opened_if_required", S.CONSULTATION,
         "A consultation is open where the rule requires one.",
         consultation_opened_if_required),
    Gate("yield_study_approved", S.FINANCIAL_CLOSE, "An approved yield study.",
         yield_study_approved),
    Gate("p90_dscr_covenant", S.FINANCIAL_CLOSE,
         "The P90 case's minimum senior DSCR meets the lender's covenant.", p90_dscr_covenant),
    Gate("consultation_agreement", S.FINANCIAL_CLOSE,
         "Agreement reached where a consultation is required or was held.",
         consultation_agreement),
    Gate("consent_not_withheld", S.FINANCIAL_CLOSE, "The community did not withhold consent.",
         consent_not_withheld),
    Gate("no_overdue_grievances", S.FINANCIAL_CLOSE, "No grievance past its deadline.",
         no_overdue_grievances),
    Gate("no_premature_decisions", S.FINANCIAL_CLOSE,
         "No permit, land contract or SIA resolution before the protocol allows.",
         no_premature_decisions),
    Gate("protocol_allows_financial_close", S.FINANCIAL_CLOSE,
         "The consultation reached the phase the protocol requires.",
         protocol_allows_financial_close),
    Gate("concentration_limits", S.FINANCIAL_CLOSE, "The fund's concentration limits hold.",
         concentration_limits),
    Gate("consent_not_withheld", S.CONSTRUCTION, "The community did not withhold consent.",
         consent_not_withheld),
    Gate("no_overdue_grievances", S.CONSTRUCTION, "No grievance past its deadline.",
         no_overdue_grievances),
    Gate("no_overdue_grievances", S.OPERATION, "No grievance past its deadline.",
         no_overdue_grievances),
)


def gates_for(stage: PipelineStage) -> tuple[Gate, ...]:
    """The gates guarding entry to ``stage``."""
    return tuple(g for g in GATES if g.stage is stage)


def evaluate_gates(session: Session, project: Project, stage: PipelineStage,
                   limits: ConcentrationCheck | None = None) -> list[dict[str, Any]]:
    """Every gate of ``stage`` on ``project``: ``name``, ``passed``, ``reason``."""
    facts = ProjectFacts(session, project, limits)
    return [{"name": g.name, "passed": bool(passed), "reason": reason}
            for g in gates_for(stage) for passed, reason in [g.check(facts)]]


def gate_table() -> list[dict[str, str]]:
    """The gates as a table (stage, name, description) for the API and the docs."""
    return [{"stage": g.stage.value, "name": g.name, "description": g.description}
            for g in GATES]

