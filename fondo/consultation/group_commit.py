"""Group commit: writes to one consultation's chain that arrive at once share a transaction.

Every append to a consultation's chain holds the chain lock until its transaction has
committed, and a commit waits for the disk (one ``fsync``: about 6 ms on the reference
machine). One transaction per public submission would therefore cap a consultation at
about 1 / fsync submissions per second, however many web workers run. Here the threads of a
process that submit to the same chain at the same moment queue up; the first becomes the
leader and runs the queued units of work in ONE transaction (:func:`fondo.db.run_unit_of_work`:
chain lock first, each unit in its own savepoint, one commit), then hands the lead to the
next thread waiting, if any. Each unit's rows and events are still committed together or
not at all; a unit that is refused (a :class:`~fondo.errors.FondoError`) is rolled back to
its savepoint alone and its thread gets the error, the others are stored.

References
----------
The technique is PostgreSQL's own group commit (``commit_delay``) and the "leader/follower"
batching of write-ahead logs (e.g. RocksDB's write groups), moved up to the application
because the chain lock, not the log, is what the commits queue on.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy.orm import Session

from fondo.db import run_unit_of_work
from fondo.errors import FondoError

#: Most units of work run in one transaction.
MAX_GROUP = 64


class _Unit:
    """One caller's unit of work and, once its group has run, its outcome."""

    __slots__ = ("lead", "outcome", "wake", "work")

    def __init__(self, work: Callable[[Session], Any]):
        self.work = work
        self.wake = threading.Event()
        self.lead = False
        self.outcome: tuple[bool, Any] | None = None  # (stored, value or error)


class GroupCommit:
    """Run units of work keyed alike (one chain) in shared transactions, one group at a time."""

    def __init__(self, max_group: int = MAX_GROUP):
        self.max_group = max_group
        self._mutex = threading.Lock()
        self._queues: dict[Hashable, deque[_Unit]] = {}

    def run(self, session: Session, key: Hashable, prepare: Callable[[Session], Any],
            work: Callable[[Session], Any]) -> Any:
        """Run ``work(session)`` in a transaction shared with the units of the same ``key``
        that are waiting; returns what it returned, or raises what it raised.

        ``prepare(session)`` runs once per transaction, before the units (it takes the chain
        lock); ``session`` is used only if this caller leads its group.
        """
        unit = _Unit(work)
        with self._mutex:
            queue = self._queues.get(key)
            if queue is None:  # nobody at work on this key: lead
                queue = self._queues[key] = deque()
                unit.lead = True
            queue.append(unit)
        if not unit.lead:
            unit.wake.wait()  # until this unit has run, or it is handed the lead
        if unit.outcome is None:
            self._lead(session, key, prepare)
        stored, value = unit.outcome
        if stored:
            return value
        raise value

    def _lead(self, session: Session, key: Hashable, prepare: Callable[[Session], Any]) -> None:
        with self._mutex:
            queue = self._queues[key]
            group = [queue.popleft() for _ in range(min(len(queue), self.max_group))]
        try:
            outcomes = run_unit_of_work(session, lambda s: _run_group(s, prepare, group))
        except BaseException as exc:  # noqa: BLE001 - the transaction failed, so did each unit
            outcomes = [(False, exc)] * len(group)
        finally:
            with self._mutex:
                if queue:
                    queue[0].lead = True
                    successor = queue[0]
                else:
                    del self._queues[key]
                    successor = None
        for member, outcome in zip(group, outcomes):
            member.outcome = outcome
            member.wake.set()
        if successor is not None:
            successor.wake.set()


def _run_group(session: Session, prepare: Callable[[Session], Any],
               group: list[_Unit]) -> list[tuple[bool, Any]]:
    prepare(session)
    if len(group) == 1:  # alone: its error rolls back the whole transaction, no savepoint
        return [(True, group[0].work(session))]
    outcomes: list[tuple[bool, Any]] = []
    for member in group:
        try:
            with session.begin_nested():
                outcomes.append((True, member.work(session)))
        except FondoError as exc:  # this unit is refused; its savepoint is rolled back
            outcomes.append((False, exc))
    return outcomes


#: The process's group committer of consultation chains.
CHAINS = GroupCommit()
