"""The fund's projects and candidate sites, as other features see them.

Other features reach the fund's tables through this module only (import-linter contract
in ``pyproject.toml``). The pipeline's services — :mod:`fondo.fund.projects`,
:mod:`~fondo.fund.gates`, :mod:`~fondo.fund.transitions`, :mod:`~fondo.fund.links`,
:mod:`~fondo.fund.register` — read the studies, finance and consultation features, which
import this module; they are therefore not re-exported here (that would be an import
cycle) and the web layer, the command line and the seed import them directly.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fondo.errors import NotFound
from fondo.fund.limits import concentration_limit_problems
from fondo.fund.models import (
    Fund,
    LimitedPartner,
    LimitedPartnerUser,
    PipelineStage,
    Project,
    ProjectStudy,
    ProjectTransition,
    Site,
)
from fondo.fund.sites import SiteSaveRequestSchema, get_site, list_sites, save_site, site_json

__all__ = ["Fund", "LimitedPartner", "PipelineStage", "Project", "ProjectStudy",
           "ProjectTransition", "Site", "SiteSaveRequestSchema", "concentration_limit_problems",
           "fund_ids_of_user", "get_project", "get_site", "limited_partner_exists",
           "limited_partner_ids_of_user", "link_user", "list_sites", "save_site", "site_json",
           "unlink_user"]


def get_project(session: Session, project_id: int) -> Project:
    """The project ``project_id`` or :class:`~fondo.errors.NotFound` naming it."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


# --------------------------------------------------------------------------- LP users


def limited_partner_exists(session: Session, limited_partner_id: int) -> bool:
    """True when the limited partner ``limited_partner_id`` exists."""
    return session.get(LimitedPartner, limited_partner_id) is not None


def link_user(session: Session, limited_partner_id: int, user_id: int) -> None:
    """Record that user ``user_id`` acts for the limited partner (idempotent; flushed)."""
    if session.get(LimitedPartnerUser, (limited_partner_id, user_id)) is None:
        session.add(LimitedPartnerUser(limited_partner_id=limited_partner_id, user_id=user_id))
        session.flush()


def unlink_user(session: Session, limited_partner_id: int, user_id: int) -> None:
    """Remove the link between a user and a limited partner (no error when there is none)."""
    session.execute(delete(LimitedPartnerUser).where(
        LimitedPartnerUser.limited_partner_id == limited_partner_id,
        LimitedPartnerUser.user_id == user_id))


def limited_partner_ids_of_user(session: Session, user_id: int) -> list[int]:
    """Ids of the limited partners user ``user_id`` acts for, ascending."""
    return list(session.scalars(
        select(LimitedPartnerUser.limited_partner_id)
        .where(LimitedPartnerUser.user_id == user_id)
        .order_by(LimitedPartnerUser.limited_partner_id)))


def fund_ids_of_user(session: Session, user_id: int) -> set[int]:
    """Ids of the funds in which user ``user_id`` acts for a limited partner."""
    return set(session.scalars(
        select(LimitedPartner.fund_id)
        .join(LimitedPartnerUser, LimitedPartnerUser.limited_partner_id == LimitedPartner.id)
        .where(LimitedPartnerUser.user_id == user_id)))
