"""Candidate sites: a point or polygon drawn on the map, checked, saved in ``sites``.

:func:`save_site` checks the site with the screening's candidate-site check
(:func:`fondo.screening.service.check_site_request`) and stores the row with the check's
answer, its area and corridor, linked to a project when one is chosen
(``projects.site_id``). Everything that can fail on the caller's input — the name, the
geometry (outside Mexico, no coordinates), the technology, an unknown project or one of the
other technology — fails before anything is added, as one
:class:`~fondo.errors.InvalidInput` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.data import service as data_service
from fondo.errors import InvalidInput, NotFound
from fondo.fund.models import Project, Site
from fondo.orm import Technology
from fondo.schema_fields import database_id
from fondo.screening import service as screening_service

__all__ = ["SiteSaveRequestSchema", "get_site", "list_sites", "save_site", "site_json"]

#: Longest site name (the column's size).
MAX_SITE_NAME_CHARS = 200
#: Sites listed at most per request, newest first.
MAX_SITES_LISTED = 500


class SiteSaveRequestSchema(Schema):
    """A candidate site to check and save (``POST /api/v1/sites``, ``fondo map save-site``)."""

    error_messages = {"type": "the request body must be a JSON object",
                      "unknown": "unknown field; known: name, geometry, technology, project_id"}

    name = fields.String(
        required=True, validate=[validate.Length(
            1, MAX_SITE_NAME_CHARS, error="must be 1 to {max} characters"),
            validate.Regexp(r"^[^\x00-\x1f\x7f]*$",
                            error="must not contain control characters")],
        error_messages={"required": "is required: a name for the site"},
        metadata={"description": "Name of the site."})
    geometry = fields.Dict(
        required=True,
        error_messages={"required": "is required: a GeoJSON Point or Polygon in EPSG:4326",
                        "invalid": "must be a GeoJSON object (EPSG:4326)"},
        metadata={"description": "GeoJSON Point / Polygon / MultiPolygon (or a Feature) in "
                                 "EPSG:4326."})
    technology = fields.String(
        required=True, validate=validate.OneOf(("pv", "wind"),
                                               error="must be 'pv' or 'wind', got {input!r}"),
        error_messages={"required": "is required: 'pv' or 'wind'"},
        metadata={"description": "'pv' or 'wind'."})
    project_id = database_id("Project the site is for (optional): its `site_id` is set.")


def _corridor_of(session: Session, state_key: str | None) -> str | None:
    if not state_key:
        return None
    for corridor in session.scalars(select(data_service.Corridor)):
        if state_key in (corridor.state_keys or []):
            return corridor.id
    return None


def save_site(settings: Mapping[str, Any], session: Session, request: Mapping[str, Any],
              user_id: int | None = None) -> Site:
    """Check a candidate site and add its row (flushed, not committed).

    Parameters
    ----------
    settings : mapping
    session : Session
    request : dict
        As loaded by :class:`SiteSaveRequestSchema`.
    user_id : int, optional
        Who drew it.

    Returns
    -------
    Site
        With ``check_result`` (the check's answer), ``area_km2`` and ``corridor_id``.

    Raises
    ------
    InvalidInput
        Blank name (``name``); a geometry the check refuses (``geometry``); an unknown project
        or one of the other technology (``project_id``). Nothing is added.
    """
    name = str(request["name"]).strip()
    if not name:
        raise InvalidInput("must not be blank", field="name")
    project = None
    if request.get("project_id") is not None:
        project = session.get(Project, int(request["project_id"]))
        if project is None:
            raise InvalidInput(f"project {request['project_id']} does not exist",
                               field="project_id")
        if project.technology.value != request["technology"]:
            raise InvalidInput(f"project {project.id} is {project.technology.value}, the site "
                               f"is {request['technology']}", field="project_id")
    check = screening_service.check_site_request(
        settings, {"geometry": request["geometry"], "technology": request["technology"]})
    site = Site(
        name=name, technology=Technology(request["technology"]),
        corridor_id=_corridor_of(session, check["attributes"].get("state_cve_ent")),
        geometry=shapely.geometry.shape(check["geometry"]), area_km2=check["area_km2"],
        check_result=check, created_by_id=user_id,
    )
    session.add(site)
    session.flush()
    if project is not None:
        project.site_id = site.id
        session.flush()
    return site


def get_site(session: Session, site_id: int) -> Site:
    """The site ``site_id`` or :class:`NotFound`."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id} does not exist")
    return site


def list_sites(session: Session, limit: int = MAX_SITES_LISTED) -> list[Site]:
    """Saved sites, newest first."""
    return list(session.scalars(select(Site).order_by(Site.id.desc()).limit(limit)))


def site_json(session: Session, site: Site) -> dict[str, Any]:
    """The JSON of a saved site (``GET /api/v1/sites/<id>``)."""
    projects = session.scalars(select(Project.id).where(Project.site_id == site.id)).all()
    check = dict(site.check_result or {})
    return {
        "id": site.id,
        "name": site.name,
        "technology": site.technology.value,
        "corridor": site.corridor_id,
        "area_km2": site.area_km2,
        "geometry": shapely.geometry.mapping(site.geometry) if site.geometry is not None else None,
        "passed": check.get("passed"),
        "capacity_mw": check.get("capacity_mw"),
        "check": check,
        "project_ids": sorted(projects),
        "is_demo": site.is_demo,
        "created_by_id": site.created_by_id,
        "created_at": site.created_at.isoformat() if site.created_at else None,
        "links": {"self": f"/api/v1/sites/{site.id}"},
    }
