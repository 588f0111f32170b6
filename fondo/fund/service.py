"""The fund's projects and candidate sites, as other features see them.

Other features reach the fund's tables through this module only (import-linter contract
in ``pyproject.toml``); the Fund issue adds the pipeline, LPs and portfolio services here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fondo.errors import NotFound
from fondo.fund.models import Fund, LimitedPartner, PipelineStage, Project, Site

__all__ = ["Fund", "LimitedPartner", "PipelineStage", "Project", "Site", "get_project"]


def get_project(session: Session, project_id: int) -> Project:
    """The project ``project_id`` or :class:`~fondo.errors.NotFound` naming it."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project
