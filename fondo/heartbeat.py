"""Job liveness: which delivery of a task holds a job, and the heartbeat that shows it alive.

Celery alone cannot tell a job whose worker died from one that is running: the embedded
filesystem broker forgets a message once a worker has taken it, and Redis hands an
unacknowledged message back only after its visibility timeout. So the job row says who
holds it and when that holder last showed it was alive:

claim
    A delivery takes its job with one conditional ``UPDATE`` (compare-and-set): a job that
    is PENDING or FAILURE, or STARTED/PROGRESS whose heartbeat is older than
    ``JOB_STALE_AFTER_S``. A SUCCESS job is not taken (the stored result stands), nor one
    that a live delivery holds (this duplicate is dropped), so at most one live delivery
    runs a job.
heartbeat
    While a task runs, one daemon thread per process stamps ``heartbeat_at`` of the jobs the
    process holds every ``JOB_HEARTBEAT_S``. A stamp (or a progress report) that finds the
    job held by another delivery tells the holder it has lost the job: it stops at its next
    progress report (:class:`JobLost`).
reaper
    :func:`fondo.jobs.reap_stale_jobs` re-queues or fails the jobs whose heartbeat is stale.

Pieces of a job that run in parallel (a screening's tile tasks on several workers) stamp
the job without holding it (``holder=None``).
"""

from __future__ import annotations

import enum
import logging
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import Ignore
from sqlalchemy import or_, update

from fondo.db import session_scope
from fondo.orm import Job, JobState, utcnow

__all__ = [
    "ACTIVE_STATES",
    "Claim",
    "Heartbeat",
    "JobLost",
    "beating",
    "claim",
    "heartbeat_for",
    "new_holder",
    "stale_cutoff",
    "stamp",
]

log = logging.getLogger(__name__)

#: States of a job that a worker holds (its heartbeat is watched).
ACTIVE_STATES = (JobState.STARTED, JobState.PROGRESS)


class JobLost(Ignore):
    """This delivery no longer holds its job (another took it over): stop, store nothing.

    An :class:`~celery.exceptions.Ignore`, so Celery records no state for it.
    """


class Claim(enum.Enum):
    """What :func:`claim` found."""

    TAKEN = "taken"  # this delivery now holds the job
    DONE = "done"  # the job has succeeded: its stored result stands
    BUSY = "busy"  # a live delivery holds it
    MISSING = "missing"  # no such row (yet: its request may not have committed)


def new_holder() -> str:
    """A token naming one delivery: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def stale_cutoff(settings: Mapping[str, Any], now: datetime | None = None) -> datetime:
    """Heartbeats older than this are stale (``now - JOB_STALE_AFTER_S``)."""
    return (now or utcnow()) - timedelta(seconds=int(settings["JOB_STALE_AFTER_S"]))


def _not_held_by_a_live_delivery(cutoff: datetime):
    return or_(Job.state.not_in(ACTIVE_STATES), Job.heartbeat_at.is_(None),
               Job.heartbeat_at < cutoff)


def claim(settings: Mapping[str, Any], job_id: str, holder: str,
          stage: str | None = None) -> Claim:
    """Take job ``job_id`` for delivery ``holder`` (STARTED, heartbeat now) if it is free.

    Parameters
    ----------
    settings : mapping
        Fondo settings (database, ``JOB_STALE_AFTER_S``).
    job_id : str
    holder : str
        The delivery's token (:func:`new_holder`).
    stage : str, optional
        Stage shown while the job runs (unchanged when None).
    """
    now = utcnow()
    values: dict[str, Any] = {"state": JobState.STARTED, "held_by": holder,
                              "heartbeat_at": now, "error": None, "updated_at": now}
    if stage is not None:
        values["stage"] = stage
    with session_scope(settings) as session:
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state != JobState.SUCCESS,
                   _not_held_by_a_live_delivery(stale_cutoff(settings, now)))
            .values(**values)
            .execution_options(synchronize_session=False)).rowcount
        if taken == 1:
            return Claim.TAKEN
        job = session.get(Job, job_id)
        if job is None:
            return Claim.MISSING
        return Claim.DONE if job.state is JobState.SUCCESS else Claim.BUSY


def stamp(settings: Mapping[str, Any], job_id: str, holder: str | None,
          **fields: Any) -> bool:
    """Stamp the job's heartbeat (and set ``fields``) if ``holder`` still holds it.

    With ``holder=None`` (a piece of a job run in parallel, or a task called outside a
    delivery) the job is stamped whoever holds it, if it is running. Returns False when
    ``holder`` has lost the job (or the job is gone). A bare stamp (no ``fields``) leaves
    ``updated_at``, the time of the last change the user sees, as it is.
    """
    now = utcnow()
    query = update(Job).where(Job.id == job_id)
    if holder is not None:
        query = query.where(Job.held_by == holder)
    elif not fields:  # a bare beat never touches a finished job
        query = query.where(Job.state.in_(ACTIVE_STATES))
    values = {"heartbeat_at": now, **({"updated_at": now} if fields else {}), **fields}
    with session_scope(settings) as session:
        changed = session.execute(query.values(**values)
                                  .execution_options(synchronize_session=False)).rowcount
    return changed == 1


class Heartbeat:
    """The jobs this process holds, stamped every ``JOB_HEARTBEAT_S`` by a daemon thread.

    One per database (:func:`heartbeat_for`); the thread starts with the first job held
    and ends once none is.
    """

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = dict(settings)
        self.interval_s = float(settings["JOB_HEARTBEAT_S"])
        self._held: Counter[tuple[str, str | None]] = Counter()
        self._lost: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, job_id: str, holder: str | None) -> None:
        """Stamp ``job_id`` (for ``holder``) until :meth:`release`."""
        with self._lock:
            self._held[(job_id, holder)] += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fondo-heartbeat",
                                                daemon=True)
                self._thread.start()

    def release(self, job_id: str, holder: str | None) -> None:
        """Stop stamping ``job_id`` for ``holder``."""
        with self._lock:
            self._held[(job_id, holder)] -= 1
            if self._held[(job_id, holder)] <= 0:
                del self._held[(job_id, holder)]
                self._lost.discard((job_id, holder))

    def holder_of(self, job_id: str) -> str | None:
        """The delivery of this process holding ``job_id`` (None when none does)."""
        with self._lock:
            return next((h for (j, h) in self._held if j == job_id and h is not None), None)

    def has_lost(self, job_id: str, holder: str | None) -> bool:
        """True when a stamp found ``job_id`` held by another delivery."""
        with self._lock:
            return (job_id, holder) in self._lost

    def beat(self) -> None:
        """Stamp every job held now (once)."""
        with self._lock:
            held = list(self._held)
        for job_id, holder in held:
            if not stamp(self.settings, job_id, holder) and holder is not None:
                with self._lock:
                    if (job_id, holder) not in self._held:  # released meanwhile
                        continue
                    self._lost.add((job_id, holder))
                log.warning("job %s is no longer held by %s: it stops at its next report",
                            job_id, holder)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                if not self._held:  # nothing to stamp: end; the next hold starts a thread
                    self._thread = None
                    return
            try:
                self.beat()
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("heartbeat of held jobs failed")


#: (process id, database URL) -> its Heartbeat. Keyed by process so that a child forked by
#: a prefork pool (which inherits no thread) starts its own.
_HEARTBEATS: dict[tuple[int, str], Heartbeat] = {}
_HEARTBEATS_LOCK = threading.Lock()


def heartbeat_for(settings: Mapping[str, Any]) -> Heartbeat:
    """This process's :class:`Heartbeat` for the settings' database."""
    key = (os.getpid(), str(settings["DATABASE_URL"]))
    with _HEARTBEATS_LOCK:
        if key not in _HEARTBEATS:
            _HEARTBEATS[key] = Heartbeat(settings)
        return _HEARTBEATS[key]


@contextmanager
def beating(settings: Mapping[str, Any], job_id: str,
            holder: str | None = None) -> Iterator[Heartbeat]:
    """Stamp ``job_id``'s heartbeat while the block runs."""
    heartbeat = heartbeat_for(settings)
    heartbeat.hold(job_id, holder)
    try:
        yield heartbeat
    finally:
        heartbeat.release(job_id, holder)
