"""Who may see what the API computes: finance cases by fund, tasks by what they compute.

Two rules, one answer each, the same everywhere in the API:

- A role that may not use a kind of thing gets **403** (as ``require_role`` answers).
- A record the caller's role may use but which is not theirs to see (an investor asking
  for another fund's finance case) gets **404**, as if it did not exist.

Finance cases are seen by the fund's staff (officers, analysts, admins) and, read-only,
by the investors of the fund they belong to: a case whose project belongs to a fund in
which the investor acts for a limited partner (``fondo users link-lp``). A case with no
project is the staff's only.

A task (``GET /api/v1/tasks/<id>`` and its result) answers as the endpoint that reads what
it computes: :data:`TASK_READ_ROLES` maps each job kind to the roles of that endpoint; a
kind missing from the map is the admins' only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import abort
from sqlalchemy.orm import Session

from fondo.accounts import service as user_service
from fondo.accounts.models import Role, User
from fondo.errors import NotFound
from fondo.finance import service as finance_service
from fondo.jobs import Job
from fondo.screening import service as screening_service
from fondo.studies import service as studies_service
from web.api import screenings, yield_

#: Who may read finance cases, their exports, tornado and Monte Carlo runs (admins pass
#: every check); investors only those of their funds.
FINANCE_READ_ROLES = (Role.INVESTOR, Role.ANALYST, Role.OFFICER)
#: Who may create finance cases and start Monte Carlo runs (investors read only).
FINANCE_WRITE_ROLES = (Role.ANALYST, Role.OFFICER)

#: Job kind → roles that may read its state and result: those of the endpoint that reads
#: what it computes (admins pass every check).
TASK_READ_ROLES: Mapping[str, tuple[Role, ...]] = {
    screening_service.JOB_KIND: screenings.READ_ROLES,  # GET /screenings/<id>
    studies_service.STUDY_JOB_KIND: yield_.STUDY_ROLES,  # GET /studies/<id>
    finance_service.MONTECARLO_JOB_KIND: FINANCE_READ_ROLES,  # GET /finance/cases/<id>/montecarlo
    "data_check": (Role.OFFICER, Role.ANALYST),  # POST /data/check
    "consultation_deliver_notice": (Role.OFFICER,),  # GET .../notices/<id>/deliveries
    "portfolio_montecarlo": (Role.OFFICER, Role.ANALYST),  # POST /portfolio/montecarlo
}


def has_role(user: User, roles: tuple[Role, ...]) -> bool:
    """True when ``user`` holds one of ``roles`` (admins hold them all)."""
    return user.role is Role.ADMIN or user.role in roles


def visible_fund_ids(session: Session, user: User) -> set[int] | None:
    """Funds whose finance cases ``user`` may see: None for staff (every case)."""
    return user_service.investor_fund_ids(session, user)


def _montecarlo_case_visible(session: Session, user: User, job: Job) -> bool:
    case_id = (job.params or {}).get("case_id")
    if not isinstance(case_id, int):
        return visible_fund_ids(session, user) is None
    try:
        finance_service.get_case(session, case_id, fund_ids=visible_fund_ids(session, user))
    except NotFound:
        return False
    return True


#: Job kind → a further check on the record the task computes (True: the caller may see it).
_TASK_RECORD_CHECKS: Mapping[str, Callable[[Session, User, Job], bool]] = {
    finance_service.MONTECARLO_JOB_KIND: _montecarlo_case_visible,
}


def authorize_task(session: Session, user: User, job: Job) -> None:
    """Abort with 403 when ``user``'s role may not read this kind of task, 404 when the
    record it computes is not theirs to see (the same 404 as an unknown task id)."""
    roles = TASK_READ_ROLES.get(job.kind, ())
    if not has_role(user, roles):
        if not roles:
            abort(403, description=f"Tasks of kind {job.kind!r} are for admins.")
        allowed = ", ".join(sorted(r.value for r in roles))
        abort(403, description=f"This needs one of the roles: {allowed}.")
    check = _TASK_RECORD_CHECKS.get(job.kind)
    if check is not None and not check(session, user, job):
        abort(404, description=f"No task with id {job.id}.")
