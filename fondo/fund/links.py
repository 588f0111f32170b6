"""What a project rests on: its site check, its linked yield studies and their approval,
and the P90 finance case the financial-close gate reads (issue 11 item 1).

The approval of a study is recorded here (who, when, on what), not in the studies'
own table. Every function flushes and leaves the commit to the caller.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import shapely.geometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.finance import service as finance_service
from fondo.fund import gates
from fondo.fund.models import Project, ProjectStudy
from fondo.orm import JobState, utcnow
from fondo.screening import service as screening_service
from fondo.studies import service as studies_service

YieldStudy = studies_service.YieldStudy  # through the studies feature's service

#: Engine fields of a finance case a P90 case drops: the P90 case's energy is the study's
#: P90, so the P50/P90 pair of the base case no longer applies.
P90_DROPPED_FIELDS = ("energy_p90_mwh",)


def _finished_study(session: Session, study_id: int, field: str = "study_id") -> Any:
    try:
        study = studies_service.get_study(session, study_id)
    except NotFound:
        raise InvalidInput(f"No yield study with id {study_id}.", field=field) from None
    if study.status.value != "SUCCESS" or study.energy_p50_mwh is None:
        raise InvalidInput(f"Yield study {study_id} has not finished ({study.status.value}).",
                           field=field)
    return study


def link_study(session: Session, project: Project, study_id: int, actor: str) -> ProjectStudy:
    """Link a finished yield study of the project's technology (idempotent; flushed)."""
    study = _finished_study(session, study_id)
    if study.technology is not project.technology:
        raise InvalidInput(f"Yield study {study_id} is {study.technology.value}; the project "
                           f"is {project.technology.value}.", field="study_id")
    link = session.scalar(select(ProjectStudy).where(ProjectStudy.project_id == project.id,
                                                     ProjectStudy.study_id == study_id))
    if link is None:
        link = ProjectStudy(project_id=project.id, study_id=study_id, linked_by=actor,
                            linked_at=utcnow())
        session.add(link)
        session.flush()
    return link


def linkable_studies(session: Session, project: Project) -> list[YieldStudy]:
    """The stored studies :func:`link_study` would link to the project and that are not
    linked to it yet: finished, of the project's technology; newest first."""
    linked = select(ProjectStudy.study_id).where(ProjectStudy.project_id == project.id)
    return list(session.scalars(select(YieldStudy).where(
        YieldStudy.technology == project.technology, YieldStudy.status == JobState.SUCCESS,
        YieldStudy.energy_p50_mwh.is_not(None), YieldStudy.id.not_in(linked))
        .order_by(YieldStudy.id.desc())))


def approvable_study_ids(session: Session, project: Project) -> set[int]:
    """Ids of the project's linked studies :func:`approve_study` would approve: finished
    and not approved yet."""
    return set(session.scalars(select(ProjectStudy.study_id).join(
        YieldStudy, YieldStudy.id == ProjectStudy.study_id).where(
        ProjectStudy.project_id == project.id, ProjectStudy.approved_at.is_(None),
        YieldStudy.status == JobState.SUCCESS, YieldStudy.energy_p50_mwh.is_not(None))))


def p90_case_ids(session: Session, project: Project) -> set[int]:
    """Ids of the project's finance cases run on an approved study's P90 energy (the cases
    :func:`fondo.fund.gates.p90_dscr_covenant` tests)."""
    studies = [studies_service.get_study(session, link.study_id) for link in session.scalars(
        select(ProjectStudy).where(ProjectStudy.project_id == project.id,
                                   ProjectStudy.approved_at.is_not(None)))]
    return {case.id for case in finance_service.list_cases(session, project.id)
            if any(gates.is_p90_case(case, study) for study in studies)}


def approve_study(session: Session, project: Project, study_id: int, actor: str,
                  actor_id: int | None, note: str | None) -> ProjectStudy:
    """Record the approval of a linked study: who, when, on what (flushed).

    Raises
    ------
    NotFound
        The study is not linked to the project.
    Conflict
        It is approved already (the first approval stands).
    InvalidInput
        The study has not finished (no energy to approve).
    """
    link = session.scalar(select(ProjectStudy).where(ProjectStudy.project_id == project.id,
                                                     ProjectStudy.study_id == study_id))
    if link is None:
        raise NotFound(f"Yield study {study_id} is not linked to project {project.id}.")
    if link.approved_at is not None:
        raise Conflict(f"Yield study {study_id} was approved by {link.approved_by} on "
                       f"{link.approved_at.isoformat()}.", field="study_id")
    _finished_study(session, study_id)
    link.approved_by, link.approved_by_id = actor, actor_id
    link.approved_at, link.approval_note = utcnow(), note
    session.flush()
    return link


def store_site_check(settings: Mapping[str, Any], session: Session, project: Project,
                     actor: str) -> dict[str, Any]:
    """Check the project's site now and store the answer on the site (flushed).

    The check is :func:`fondo.screening.service.check_site_request` over the site's
    geometry and the project's technology, with ``checked_at`` and ``checked_by`` added.
    A project without state or municipality keys takes the site's (INEGI).
    """
    site = project.site
    if site is None:
        raise Conflict(f"Project {project.id} has no site to check: give it a site_id.",
                       field="site_id")
    answer = screening_service.check_site_request(settings, {
        "geometry": shapely.geometry.mapping(site.geometry),
        "technology": project.technology.value})
    answer = dict(answer) | {"checked_at": utcnow().isoformat(), "checked_by": actor}
    site.check_result = answer
    attributes = answer.get("attributes") or {}
    if project.state_key is None and attributes.get("state_cve_ent"):
        project.state_key = str(attributes["state_cve_ent"])
    if project.municipality_key is None and attributes.get("municipality_cvegeo"):
        project.municipality_key = str(attributes["municipality_cvegeo"])
    session.flush()
    return answer


def create_p90_case(session: Session, project: Project, body: Mapping[str, Any],
                    actor_id: int | None = None, *, is_demo: bool = False) -> Any:
    """Re-run a finance case of the project with an approved study's P90 energy (flushed).

    ``body``: ``case_id`` (a case of this project) and optional ``study_id`` (an approved
    study of the project; default the latest approved). The new case is the base case's
    request with ``energy_p50_mwh`` set to the study's ``energy_p90_mwh`` (the energy of
    every year of the P90 case) and without ``energy_p90_mwh``; debt sized on P90 in the
    base case is then sized on the P50 of this case, i.e. the same P90 energy.
    """
    try:
        base = finance_service.get_case(session, body["case_id"])
    except NotFound:
        raise InvalidInput(f"No finance case with id {body['case_id']}.", field="case_id") \
            from None
    if base.project_id != project.id:
        raise InvalidInput(f"Finance case {base.id} is not a case of project {project.id}.",
                           field="case_id")
    approved = session.scalars(select(ProjectStudy).where(
        ProjectStudy.project_id == project.id, ProjectStudy.approved_at.is_not(None))
        .order_by(ProjectStudy.id.desc())).all()
    if body.get("study_id") is not None:
        approved = [a for a in approved if a.study_id == body["study_id"]]
        if not approved:
            raise InvalidInput(f"Yield study {body['study_id']} is not an approved study of "
                               f"project {project.id}.", field="study_id")
    if not approved:
        raise Conflict(f"Project {project.id} has no approved yield study.", field="study_id")
    study = _finished_study(session, approved[0].study_id)
    request = {k: copy.deepcopy(v) for k, v in base.request.items()
               if k not in P90_DROPPED_FIELDS}
    for tranche in request.get("tranches") or []:
        if tranche.get("sizing_basis") == "p90":
            tranche["sizing_basis"] = "p50"
    if request.get("sizing_basis") == "p90":
        request["sizing_basis"] = "p50"
    request["energy_p50_mwh"] = float(study.energy_p90_mwh)
    name = f"{base.name or f'case {base.id}'} — P90 (study {study.id})"
    return finance_service.create_case(
        session, request | {"name": name[:200], "project_id": project.id},
        user_id=actor_id, is_demo=is_demo)
