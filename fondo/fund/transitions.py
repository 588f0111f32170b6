"""Moves of a project through the pipeline (issue 11 item 1), checked by the gates.

The moves:

- **forward, one stage at a time** (origination → screening → due_diligence →
  consultation → financial_close → construction → operation): every gate of the target
  stage (:mod:`fondo.fund.gates`) must pass; otherwise :class:`~fondo.errors.Conflict`
  (409) lists **every** unmet gate (``unmet_gates``: name and reason) and nothing changes;
- **back** to an earlier stage: a reason is required; no gate;
- **to dropped** from any stage: a reason is required; no gate;
- **re-opening** a dropped project: only to the stage it was dropped from, with a reason,
  and that stage's gates are checked again.

Skipping a stage forward, moving to the stage the project is at, or an unknown stage are
refused (409, 409, 422). Every move is appended to ``project_transitions`` with who, when,
why and the gates as evaluated, and bumps the project's version (optimistic lock).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.errors import Conflict, InvalidInput
from fondo.fund import gates as gates_module
from fondo.fund.models import PipelineStage, Project, ProjectTransition
from fondo.fund.projects import flush_versioned, get_visible_project, record_transition
from fondo.orm import utcnow

#: The pipeline, in order (``dropped`` is outside it).
PIPELINE: tuple[PipelineStage, ...] = tuple(s for s in PipelineStage
                                            if s is not PipelineStage.DROPPED)


def dropped_from(session: Session, project: Project) -> PipelineStage | None:
    """The stage a dropped project was dropped from (its last move to ``dropped``)."""
    row = session.scalars(select(ProjectTransition).where(
        ProjectTransition.project_id == project.id,
        ProjectTransition.to_stage == PipelineStage.DROPPED)
        .order_by(ProjectTransition.id.desc())).first()
    return row.from_stage if row is not None else None


def _kind_of_move(session: Session, project: Project, target: PipelineStage) -> str:
    """``forward``, ``back``, ``drop`` or ``reopen`` (or Conflict for a move not allowed)."""
    current = project.stage
    if target is current:
        raise Conflict(f"Project {project.id} is at {current.value} already.", field="to")
    if target is PipelineStage.DROPPED:
        return "drop"
    if current is PipelineStage.DROPPED:
        origin = dropped_from(session, project) or PipelineStage.ORIGINATION
        if target is not origin:
            raise Conflict(f"A dropped project re-opens at the stage it was dropped from "
                           f"({origin.value}), not {target.value}.", field="to",
                           extra={"allowed": [origin.value]})
        return "reopen"
    here, there = PIPELINE.index(current), PIPELINE.index(target)
    if there < here:
        return "back"
    if there > here + 1:
        nxt = PIPELINE[here + 1].value
        raise Conflict(f"Projects move forward one stage at a time: from {current.value} "
                       f"the next stage is {nxt}, not {target.value}.", field="to",
                       extra={"allowed": [nxt]})
    return "forward"


def check_move(session: Session, project: Project, to: str, reason: str | None = None,
               limits: gates_module.ConcentrationCheck | None = None
               ) -> tuple[str, list[dict[str, Any]]]:
    """The kind of a move and its gates, evaluated (nothing stored).

    Raises
    ------
    InvalidInput
        Unknown stage (``to``), or no reason where one is required (``reason``).
    Conflict
        A move that is not allowed (skipping stages, to the same stage).
    """
    try:
        target = PipelineStage(to)
    except ValueError:
        raise InvalidInput(f"to must be one of {', '.join(s.value for s in PipelineStage)}; "
                           f"got {to!r}.", field="to") from None
    kind = _kind_of_move(session, project, target)
    if kind in ("drop", "back", "reopen") and not (reason and reason.strip()):
        raise InvalidInput(f"A reason is required to {'re-open' if kind == 'reopen' else kind}"
                           f" a project.", field="reason")
    results = (gates_module.evaluate_gates(session, project, target, limits)
               if kind in ("forward", "reopen") else [])
    return kind, results


def move_project(session: Session, project_id: int, body: Mapping[str, Any], actor: str,
                 actor_id: int | None = None, fund_ids: Collection[int] | None = None,
                 limits: gates_module.ConcentrationCheck | None = None) -> dict[str, Any]:
    """Move a project (body as :class:`~fondo.fund.schemas.TransitionRequestSchema` loaded
    it: ``to``, ``reason``); the history row, flushed.

    Raises
    ------
    Conflict
        A gate is unmet: ``extra.unmet_gates`` lists each (``name``, ``reason``) and
        ``extra.gates`` every gate evaluated; nothing is stored.
    """
    project = get_visible_project(session, project_id, fund_ids)
    to, reason = body["to"], body.get("reason")
    kind, results = check_move(session, project, to, reason, limits)
    unmet = [{"name": r["name"], "reason": r["reason"]} for r in results if not r["passed"]]
    if unmet:
        raise Conflict(f"Project {project.id} cannot move from {project.stage.value} to {to}: "
                       f"{len(unmet)} gate(s) unmet: "
                       + "; ".join(f"{g['name']} ({g['reason']})" for g in unmet) + ".",
                       field="to", extra={"from": project.stage.value, "to": to,
                                          "unmet_gates": unmet, "gates": results,
                                          "current_version": project.version})
    read_version = project.version
    before = project.stage
    project.stage = PipelineStage(to)
    project.updated_at = utcnow()
    flush_versioned(session, project, read_version)
    row = record_transition(session, project, before, project.stage, reason, actor, actor_id,
                            results)
    return {"project_id": project.id, "kind": kind, "from": before.value,
            "to": project.stage.value, "reason": reason, "by": actor,
            "at": row.occurred_at.isoformat(), "gates": results, "version": project.version}


def gates_json(session: Session, project_id: int,
               fund_ids: Collection[int] | None = None) -> dict[str, Any]:
    """``GET /api/v1/projects/<id>/gates``: the gates of the next stage, evaluated now."""
    project = get_visible_project(session, project_id, fund_ids)
    if project.stage is PipelineStage.DROPPED:
        target = dropped_from(session, project) or PipelineStage.ORIGINATION
    elif project.stage is PIPELINE[-1]:
        return {"project_id": project.id, "stage": project.stage.value, "next_stage": None,
                "gates": []}
    else:
        target = PIPELINE[PIPELINE.index(project.stage) + 1]
    return {"project_id": project.id, "stage": project.stage.value,
            "next_stage": target.value,
            "gates": gates_module.evaluate_gates(session, project, target)}
