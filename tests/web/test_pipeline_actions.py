"""The project page's forms (``/pipeline/<id>``) take a project to its financial-close
gates without the API: link a stored yield study, approve it (who and when recorded), make
the P90 finance case, each through the API's service; a refusal (unknown or unfinished
study, another technology, no approved study) is shown beside its form and stores nothing;
analysts and investors are refused (403), and a form without its CSRF token (400)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fondo.db import session_scope
from fondo.finance import service as finance_service
from fondo.fund import gates, links
from fondo.fund.models import Project, ProjectStudy
from fondo.jobs import JobState
from fondo.studies.models import YieldStudy
from fund_support import add_case, add_project, add_site, add_study
from test_desk_pages import _csrf, _sign_in


def _setup(settings, *, studies: tuple[dict[str, Any], ...] = ({},), linked: bool = False,
           approved: bool = False, case: bool = False) -> tuple[int, list[int]]:
    """A PV project, stored studies (``add_study`` arguments), optionally linked and
    approved through the services, and a base finance case."""
    with session_scope(settings) as session:
        project = add_project(session, site_id=add_site(session).id,
                              name="Parque <b>Llanos</b>")
        ids = [add_study(session, **kw).id for kw in studies]
        if linked:
            links.link_study(session, project, ids[0], "setup@example.org")
        if approved:
            links.approve_study(session, project, ids[0], "setup@example.org", None, None)
        if case:
            add_case(session, project.id, name="Base <i>case</i>")
        return project.id, ids


def _stored(settings, pid: int) -> dict[str, Any]:
    """What the database holds of the project's links and cases."""
    with session_scope(settings) as session:
        rows = session.scalars(select(ProjectStudy).where(ProjectStudy.project_id == pid))
        return {"links": sorted((r.study_id, r.approved_by, r.approval_note) for r in rows),
                "cases": len(finance_service.list_cases(session, pid)),
                "version": session.get(Project, pid).version}


def _page(client, pid: int) -> tuple[str, str]:
    page = client.get(f"/pipeline/{pid}?lang=en").get_data(as_text=True)
    return page, _csrf(page)


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def test_an_officer_links_a_study_chosen_from_the_finished_ones_of_the_technology(
        client, settings, make_user):
    pid, (pv, wind, pending) = _setup(settings, studies=(
        {}, {"technology": "wind"}, {"status": JobState.PENDING}))
    email = _sign_in(client, make_user)
    page, token = _page(client, pid)
    options = _section(page, "link-h")
    assert f'<option value="{pv}">' in options
    assert f'value="{wind}"' not in options and f'value="{pending}"' not in options
    r = client.post(f"/pipeline/{pid}/studies", data={"study_id": str(pv), "csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/pipeline/{pid}#studies-h")
    with session_scope(settings) as session:
        link = session.scalar(select(ProjectStudy).where(ProjectStudy.project_id == pid))
        assert (link.study_id, link.linked_by) == (pv, email)
    page, _ = _page(client, pid)
    studies = _section(page, "studies-h")
    assert f'id="study-{pv}"' in studies and "not approved" in studies
    assert f'<option value="{pv}">' not in studies  # linked: no longer offered
    assert "No finished study of this technology is waiting to be linked." in studies
    spanish = client.get(f"/pipeline/{pid}?lang=es").get_data(as_text=True)
    assert "Vincular un estudio" in spanish and "Crear el caso P90" in spanish


def test_an_officer_approves_a_linked_study_and_who_and_when_are_recorded(
        client, settings, make_user):
    pid, (sid,) = _setup(settings, linked=True)
    email = _sign_in(client, make_user)
    page, token = _page(client, pid)
    action = f"/pipeline/{pid}/studies/{sid}/approval"
    assert f'action="{action}"' in _section(page, "studies-h")
    r = client.post(action, data={"note": "Informe del <ingeniero> independiente",
                                  "csrf_token": token})
    assert r.status_code == 303
    with session_scope(settings) as session:
        link = session.scalar(select(ProjectStudy).where(ProjectStudy.project_id == pid))
        assert link.approved_by == email and link.approved_at is not None
        assert link.approval_note == "Informe del <ingeniero> independiente"
        facts = gates.ProjectFacts(session, session.get(Project, pid))
        assert gates.yield_study_approved(facts)[0]  # the financial-close gate reads it
    page, _ = _page(client, pid)
    studies = _section(page, "studies-h")
    assert f"approved by {email} on" in studies
    assert f'action="{action}"' not in studies  # approved: no second button


def test_an_officer_makes_the_p90_case_and_it_is_listed_with_its_page(
        client, settings, make_user):
    pid, (sid,) = _setup(settings, studies=({"p50": 96_000.0, "p90": 88_000.0},),
                         linked=True, approved=True, case=True)
    _sign_in(client, make_user)
    page, token = _page(client, pid)
    cases = _section(page, "cases-h")
    assert "Base &lt;i&gt;case&lt;/i&gt;" in cases  # escaped
    button = cases[cases.index('<button type="submit" aria-describedby="p90-hint'):]
    assert "disabled" not in button[:button.index(">")]
    with session_scope(settings) as session:
        base = finance_service.list_cases(session, pid)[0].id
    assert f'<option value="{base}" selected>' in cases
    r = client.post(f"/pipeline/{pid}/p90-case", data={"case_id": str(base),
                                                       "study_id": str(sid),
                                                       "csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/pipeline/{pid}#cases-h")
    with session_scope(settings) as session:
        newest = finance_service.list_cases(session, pid)[0]
        assert newest.id != base and newest.request["energy_p50_mwh"] == 88_000.0
    page, _ = _page(client, pid)
    cases = _section(page, "cases-h")
    row = cases[cases.index(f'id="case-{newest.id}"'):]
    assert f'href="/finance/{newest.id}"' in row[:400] and "P90" in row[:600]
    assert f'<option value="{base}" selected>' in cases  # the base case stays the default


def test_the_p90_button_is_disabled_without_an_approved_study(client, settings, make_user):
    pid, _ids = _setup(settings, linked=True, case=True)
    _sign_in(client, make_user)
    page, _ = _page(client, pid)
    cases = _section(page, "cases-h")
    button = cases[cases.index('<button type="submit" aria-describedby="p90-hint'):]
    assert "disabled" in button[:button.index(">")]
    assert "It needs an approved yield study and a finance case of the project." in cases


def _invalid_link_unknown(pid, ids):
    return f"/pipeline/{pid}/studies", {"study_id": "999999"}, 422, "link-error", "999999"


def _invalid_link_text(pid, ids):
    return f"/pipeline/{pid}/studies", {"study_id": "<script>x</script>"}, 422, "link-error", \
        "&lt;script&gt;"


def _invalid_link_wind(pid, ids):
    return f"/pipeline/{pid}/studies", {"study_id": str(ids[1])}, 422, "link-error", "wind"


def _invalid_approve_unfinished(pid, ids):
    return f"/pipeline/{pid}/studies/{ids[2]}/approval", {}, 404, "approve-error", \
        "not linked"


def _invalid_p90_unapproved(pid, ids):
    return f"/pipeline/{pid}/p90-case", {"case_id": "CASE"}, 409, "p90-error", \
        "no approved yield study"


@pytest.mark.parametrize("invalid", [_invalid_link_unknown, _invalid_link_text,
                                     _invalid_link_wind, _invalid_approve_unfinished,
                                     _invalid_p90_unapproved])
def test_invalid_input_is_shown_beside_the_form_and_stores_nothing(
        client, settings, make_user, invalid):
    pid, ids = _setup(settings, studies=({}, {"technology": "wind"},
                                         {"status": JobState.PENDING}), case=True)
    url, data, status, box_id, words = invalid(pid, ids)
    if data.get("case_id") == "CASE":
        with session_scope(settings) as session:
            data["case_id"] = str(finance_service.list_cases(session, pid)[0].id)
    before = _stored(settings, pid)
    _sign_in(client, make_user)
    _, token = _page(client, pid)
    r = client.post(url + "?lang=en", data={**data, "csrf_token": token})
    assert r.status_code == status
    page = r.get_data(as_text=True)
    box = page[page.index(f'id="{box_id}"'):]
    box = box[:box.index("</p>")]
    assert 'role="alert"' in page[page.index(f'id="{box_id}"') - 40:][:60]
    assert "Not accepted:" in box and words in box
    assert "<script>" not in page
    assert _stored(settings, pid) == before


def test_an_unfinished_linked_study_has_no_button_and_is_not_approved(
        client, settings, make_user):
    """A study linked when finished and run again since (pending) is not approved."""
    pid, (sid,) = _setup(settings, linked=True)
    with session_scope(settings) as session:
        study = session.get(YieldStudy, sid)
        study.status, study.energy_p50_mwh, study.energy_p90_mwh = JobState.PENDING, None, None
    before = _stored(settings, pid)
    _sign_in(client, make_user)
    page, token = _page(client, pid)
    assert f"/studies/{sid}/approval" not in _section(page, "studies-h")
    r = client.post(f"/pipeline/{pid}/studies/{sid}/approval?lang=en",
                    data={"csrf_token": token})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    box = page[page.index('id="approve-error"'):]
    assert "has not finished" in box[:box.index("</p>")]
    assert _stored(settings, pid) == before


def _posts(pid: int, sid: int, case_id: int) -> list[tuple[str, dict[str, str]]]:
    return [(f"/pipeline/{pid}/studies", {"study_id": str(sid)}),
            (f"/pipeline/{pid}/studies/{sid}/approval", {}),
            (f"/pipeline/{pid}/p90-case", {"case_id": str(case_id)})]


@pytest.mark.parametrize("role", ["analyst", "investor"])
def test_analysts_and_investors_are_refused_and_nothing_is_stored(client, settings, make_user,
                                                                  role):
    pid, (sid,) = _setup(settings, case=True)
    with session_scope(settings) as session:
        case_id = finance_service.list_cases(session, pid)[0].id
    before = _stored(settings, pid)
    _sign_in(client, make_user, role)
    token = _csrf(client.get("/login").get_data(as_text=True))
    for url, data in _posts(pid, sid, case_id):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert _stored(settings, pid) == before


def test_a_form_without_its_csrf_token_is_refused(client, settings, make_user):
    pid, (sid,) = _setup(settings, case=True)
    with session_scope(settings) as session:
        case_id = finance_service.list_cases(session, pid)[0].id
    before = _stored(settings, pid)
    _sign_in(client, make_user)
    for url, data in _posts(pid, sid, case_id):
        assert client.post(url, data=data).status_code == 400, url
    assert _stored(settings, pid) == before
