"""Projects (issue 11 item 1): list, read, create and edit, with optimistic locking.

Requests arrive loaded by :mod:`fondo.fund.schemas` (the REST endpoint and the ``fondo
projects`` commands use the same schema); this module checks what only the database knows
(the fund, site and corridor exist), stores, and serves the project as JSON — the API's
and the command line's answer. Who may see a project is decided by the caller's
``fund_ids`` (None: every project; a set: only the projects of those funds, as an
investor sees them; a project of another fund is the same 404 as an unknown id).

**Optimistic locking** (item 9). Every project has a ``version``; an edit names the
version it was based on and SQLAlchemy's ``version_id_col`` adds ``WHERE version = <read>``
to the UPDATE. The edit of a writer whose version is not the current one changes nothing
and is :class:`~fondo.errors.Conflict` (409) with ``current_version``, whether the other
write was committed before this one read the row (checked here) or in between (the
UPDATE matches no row: ``StaleDataError``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from fondo.consultation import service as consultation_service
from fondo.data.service import Corridor
from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.finance import service as finance_service
from fondo.fund.models import Fund, PipelineStage, Project, ProjectStudy, ProjectTransition, Site
from fondo.orm import Technology, utcnow

#: Fields of a project an edit may change (``stage`` moves by transitions only).
EDITABLE_FIELDS = ("name", "fund_id", "site_id", "technology", "capacity_ac_mw",
                   "capacity_dc_mw", "corridor_id", "state_key", "municipality_key")


def project_url(project_id: int) -> str:
    """Where a project is served."""
    return f"/api/v1/projects/{project_id}"


def get_visible_project(session: Session, project_id: int,
                        fund_ids: Collection[int] | None = None) -> Project:
    """The project, or :class:`NotFound` when it does not exist or is not the caller's."""
    project = session.get(Project, project_id)
    if project is None or (fund_ids is not None and project.fund_id not in fund_ids):
        raise NotFound(f"No project with id {project_id}.")
    return project


def list_projects(session: Session, query: Mapping[str, Any] | None = None,
                  fund_ids: Collection[int] | None = None) -> list[Project]:
    """Projects by id, filtered by ``stage``, ``fund_id``, ``technology`` of ``query``."""
    query = query or {}
    sql = select(Project).order_by(Project.id)
    if fund_ids is not None:
        sql = sql.where(Project.fund_id.in_(list(fund_ids)))
    if query.get("stage"):
        sql = sql.where(Project.stage == PipelineStage(query["stage"]))
    if query.get("fund_id") is not None:
        sql = sql.where(Project.fund_id == query["fund_id"])
    if query.get("technology"):
        sql = sql.where(Project.technology == Technology(query["technology"]))
    return list(session.scalars(sql))


def _check_references(session: Session, values: Mapping[str, Any],
                      technology: str | None) -> None:
    """The fund, site and corridor a request names exist (422 naming the field)."""
    if values.get("fund_id") is not None and session.get(Fund, values["fund_id"]) is None:
        raise InvalidInput(f"No fund with id {values['fund_id']}.", field="fund_id")
    if values.get("site_id") is not None:
        site = session.get(Site, values["site_id"])
        if site is None:
            raise InvalidInput(f"No site with id {values['site_id']}.", field="site_id")
        if technology is not None and site.technology.value != technology:
            raise InvalidInput(f"Site {site.id} is a {site.technology.value} site, the project "
                               f"is {technology}.", field="site_id")
    if values.get("corridor_id") is not None and session.get(
            Corridor, values["corridor_id"]) is None:
        known = ", ".join(session.scalars(select(Corridor.id).order_by(Corridor.id)))
        raise InvalidInput(f"No corridor {values['corridor_id']!r}; known: {known}.",
                           field="corridor_id")


def record_transition(session: Session, project: Project, from_stage: PipelineStage | None,
                      to_stage: PipelineStage, reason: str | None, actor: str,
                      actor_id: int | None, gates: list[dict[str, Any]] | None = None
                      ) -> ProjectTransition:
    """Append a move to the project's history (flushed)."""
    row = ProjectTransition(project_id=project.id, from_stage=from_stage, to_stage=to_stage,
                            reason=reason, actor=actor, actor_id=actor_id, gates=gates or [],
                            occurred_at=utcnow())
    session.add(row)
    session.flush()
    return row


def create_project(session: Session, body: Mapping[str, Any], actor: str,
                   actor_id: int | None = None, *, is_demo: bool = False) -> Project:
    """Store a new project at ``origination`` and its first history row (flushed).

    ``body`` as :class:`~fondo.fund.schemas.ProjectCreateSchema` loaded it.
    """
    _check_references(session, body, body["technology"])
    project = Project(name=body["name"], technology=Technology(body["technology"]),
                      capacity_ac_mw=body["capacity_ac_mw"],
                      capacity_dc_mw=body.get("capacity_dc_mw"), fund_id=body.get("fund_id"),
                      site_id=body.get("site_id"), corridor_id=body.get("corridor_id"),
                      state_key=body.get("state_key"),
                      municipality_key=body.get("municipality_key"),
                      stage=PipelineStage.ORIGINATION, is_demo=is_demo, created_at=utcnow())
    if project.corridor_id is None and project.site_id is not None:
        project.corridor_id = session.get(Site, project.site_id).corridor_id
    session.add(project)
    session.flush()
    record_transition(session, project, None, PipelineStage.ORIGINATION, "created", actor,
                      actor_id)
    return project


def stale(project_id: int, current_version: int, sent: int) -> Conflict:
    """The 409 of an edit based on an old version."""
    return Conflict(f"Project {project_id} changed since version {sent}: it is at version "
                    f"{current_version}. Read it again and re-apply the edit.",
                    field="version", extra={"current_version": current_version})


def update_project(session: Session, project_id: int, body: Mapping[str, Any],
                   expected_version: int | None, fund_ids: Collection[int] | None = None
                   ) -> Project:
    """Apply an edit based on ``expected_version`` (flushed; the version goes up by one).

    Raises
    ------
    InvalidInput
        No version given (``version``), nothing to change, a reference that does not exist,
        or capacities that do not fit with the stored ones.
    Conflict
        The project is no longer at ``expected_version`` (``extra.current_version``).
    """
    project = get_visible_project(session, project_id, fund_ids)
    if expected_version is None:
        raise InvalidInput("Give the version the edit is based on: the body's version or an "
                           "If-Match header.", field="version")
    if project.version != expected_version:
        raise stale(project.id, project.version, expected_version)
    changes = {k: body[k] for k in EDITABLE_FIELDS if k in body}
    if not changes:
        raise InvalidInput("Nothing to change: give at least one of "
                           + ", ".join(EDITABLE_FIELDS) + ".", field="body")
    if "name" in changes and changes["name"] is None:
        raise InvalidInput("A project needs a name.", field="name")
    if "technology" in changes and changes["technology"] is None:
        raise InvalidInput("A project needs a technology.", field="technology")
    if "capacity_ac_mw" in changes and changes["capacity_ac_mw"] is None:
        raise InvalidInput("A project needs its AC capacity.", field="capacity_ac_mw")
    technology = changes.get("technology", project.technology.value)
    _check_references(session, changes | ({"site_id": project.site_id}
                                          if "site_id" not in changes and "technology" in changes
                                          else {}), technology)
    ac = changes.get("capacity_ac_mw", project.capacity_ac_mw)
    dc = changes.get("capacity_dc_mw", project.capacity_dc_mw)
    if dc is not None and technology == "wind":
        raise InvalidInput("A wind park has no DC capacity.", field="capacity_dc_mw")
    if ac is not None and dc is not None and not ac <= dc <= 2.0 * ac:
        raise InvalidInput(f"capacity_dc_mw ({dc:g}) must be between capacity_ac_mw "
                           f"({ac:g}) and twice it.", field="capacity_dc_mw")
    for key, value in changes.items():
        setattr(project, key, Technology(value) if key == "technology" else value)
    project.updated_at = utcnow()
    flush_versioned(session, project, expected_version)
    return project


def flush_versioned(session: Session, project: Project, read_version: int) -> None:
    """Flush a change of ``project``; a concurrent writer's commit in between is a 409."""
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        current = session.scalar(select(Project.version).where(Project.id == project.id))
        raise stale(project.id, current, read_version) from None


def history_json(session: Session, project_id: int) -> list[dict[str, Any]]:
    """Every move of the project, oldest first: who, when, why and the gates evaluated."""
    rows = session.scalars(select(ProjectTransition).where(
        ProjectTransition.project_id == project_id).order_by(ProjectTransition.id))
    return [{"from": r.from_stage.value if r.from_stage else None, "to": r.to_stage.value,
             "reason": r.reason, "by": r.actor, "at": r.occurred_at.isoformat(),
             "gates": r.gates} for r in rows]


def studies_json(session: Session, project_id: int) -> list[dict[str, Any]]:
    """The project's linked yield studies with their approval."""
    rows = session.scalars(select(ProjectStudy).where(
        ProjectStudy.project_id == project_id).order_by(ProjectStudy.id))
    return [{"study_id": r.study_id, "linked_by": r.linked_by,
             "linked_at": r.linked_at.isoformat(), "approved": r.approved_at is not None,
             "approved_by": r.approved_by,
             "approved_at": r.approved_at.isoformat() if r.approved_at else None,
             "approval_note": r.approval_note,
             "links": {"study": f"/api/v1/studies/{r.study_id}"}} for r in rows]


def site_check_summary(project: Project) -> dict[str, Any] | None:
    """The stored site check of the project's site, in short (None without one)."""
    site = project.site
    if site is None or not site.check_result:
        return None
    check = site.check_result
    return {"passed": check.get("passed"), "checked_at": check.get("checked_at"),
            "checked_by": check.get("checked_by"),
            "failed_constraints": [c.get("name") for c in check.get("constraints", [])
                                   if not c.get("passed")]}


def project_summary_json(project: Project) -> dict[str, Any]:
    """A project without its history and links (for listings)."""
    return {
        "id": project.id, "name": project.name, "fund_id": project.fund_id,
        "site_id": project.site_id, "technology": project.technology.value,
        "capacity_ac_mw": project.capacity_ac_mw, "capacity_dc_mw": project.capacity_dc_mw,
        "corridor_id": project.corridor_id, "state_key": project.state_key,
        "municipality_key": project.municipality_key, "stage": project.stage.value,
        "version": project.version, "is_demo": project.is_demo,
        "created_at": project.created_at.isoformat() if project.created_at else None,
        "updated_at": project.updated_at.isoformat() if project.updated_at else None,
        "links": {"self": project_url(project.id),
                  "transitions": f"{project_url(project.id)}/transitions",
                  "gates": f"{project_url(project.id)}/gates"},
    }


def project_json(session: Session, project: Project) -> dict[str, Any]:
    """``GET /api/v1/projects/<id>``: the project, its links, consultation and history."""
    cases = finance_service.list_cases(session, project.id)
    consultation = consultation_service.project_consultation_gates(session, project.id)
    return project_summary_json(project) | {
        "site_check": site_check_summary(project),
        "studies": studies_json(session, project.id),
        "finance_cases": [{"id": c.id, "name": c.name,
                           "energy_p50_mwh": (c.request or {}).get("energy_p50_mwh"),
                           "min_dscr": (c.result or {}).get("metrics", {}).get("min_dscr"),
                           "links": {"self": f"/api/v1/finance/cases/{c.id}"}}
                          for c in cases],
        "consultation": consultation,
        "history": history_json(session, project.id),
    }
