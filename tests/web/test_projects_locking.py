"""Two officers editing the same project never lose an update (issue 11 item 9).

Optimistic locking on ``projects.version``: the second writer, whose edit is based on a
version that is no longer current, gets a 409 problem with ``current_version`` and changes
nothing. Run on SQLite and on PostgreSQL: one test over HTTP in turn, one with two real
concurrent transactions meeting at a barrier after both have read the row.
"""

from __future__ import annotations

import threading

from fondo.db import run_unit_of_work, session_scope
from fondo.errors import Conflict
from fondo.fund.models import Project
from fondo.fund.projects import update_project
from fund_support import add_project

PROBLEM = "application/problem+json"
#: How long a thread waits for the other at the barrier. [s]
BARRIER_TIMEOUT_S = 30


def test_the_second_writer_gets_409_with_the_current_version(client, auth_headers):
    alice, bob = auth_headers("officer"), auth_headers("officer")
    created = client.post("/api/v1/projects", json={
        "name": "Parque compartido", "technology": "pv", "capacity_ac_mw": 40.0},
        headers=alice).json
    url = f"/api/v1/projects/{created['id']}"
    read_by_alice = client.get(url, headers=alice)
    read_by_bob = client.get(url, headers=bob)
    assert read_by_alice.headers["ETag"] == read_by_bob.headers["ETag"] == '"1"'
    first = client.patch(url, json={"name": "Parque renombrado", "version": 1}, headers=alice)
    assert first.status_code == 200 and first.json["version"] == 2
    assert first.headers["ETag"] == '"2"'
    second = client.patch(url, json={"capacity_ac_mw": 45.0},
                          headers=bob | {"If-Match": read_by_bob.headers["ETag"]})
    assert second.status_code == 409 and second.mimetype == PROBLEM
    assert second.json["current_version"] == 2 and second.json["field"] == "version"
    now = client.get(url, headers=bob).json
    assert (now["name"], now["capacity_ac_mw"], now["version"]) == ("Parque renombrado", 40.0, 2)
    # Bob re-reads and re-applies: his edit now goes in on top of Alice's
    again = client.patch(url, json={"capacity_ac_mw": 45.0}, headers=bob | {"If-Match": '"2"'})
    assert again.status_code == 200
    assert (again.json["name"], again.json["capacity_ac_mw"], again.json["version"]) == (
        "Parque renombrado", 45.0, 3)


def test_an_edit_needs_the_version(client, auth_headers):
    officer = auth_headers("officer")
    created = client.post("/api/v1/projects", json={
        "name": "P", "technology": "wind", "capacity_ac_mw": 30.0}, headers=officer).json
    url = f"/api/v1/projects/{created['id']}"
    missing = client.patch(url, json={"name": "Q"}, headers=officer)
    assert missing.status_code == 422 and missing.json["field"] == "version"
    bad = client.patch(url, json={"name": "Q"}, headers=officer | {"If-Match": "*"})
    assert bad.status_code == 422 and bad.json["field"] == "If-Match"
    disagree = client.patch(url, json={"name": "Q", "version": 1},
                            headers=officer | {"If-Match": '"2"'})
    assert disagree.status_code == 422 and disagree.json["field"] == "version"
    wind_dc = client.patch(url, json={"capacity_dc_mw": 35.0, "version": 1}, headers=officer)
    assert wind_dc.status_code == 422 and wind_dc.json["field"] == "capacity_dc_mw"
    assert client.get(url, headers=officer).json["version"] == 1


def test_concurrent_writers_one_wins_the_other_gets_409(settings):
    """Two transactions read version 1, then both write: exactly one commits."""
    with session_scope(settings) as session:
        project_id = add_project(session, name="Concurrent").id
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT_S)
    outcomes: dict[str, object] = {}

    def writer(label: str, changes: dict) -> None:
        with session_scope(settings) as session:
            def work(s):
                s.get(Project, project_id).version  # read the row (version 1)
                if not barrier.broken and label not in outcomes:
                    outcomes[label] = "read"
                    barrier.wait()
                return update_project(s, project_id, changes, expected_version=1).version
            try:
                outcomes[label] = run_unit_of_work(session, work)
            except Conflict as exc:
                outcomes[label] = exc

    threads = [threading.Thread(target=writer, args=("a", {"name": "by A"})),
               threading.Thread(target=writer, args=("b", {"capacity_ac_mw": 41.0}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BARRIER_TIMEOUT_S * 2)
    won = [k for k, v in outcomes.items() if v == 2]
    lost = [v for v in outcomes.values() if isinstance(v, Conflict)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert lost[0].extra["current_version"] == 2
    with session_scope(settings) as session:
        project = session.get(Project, project_id)
        final = (project.name, project.capacity_ac_mw, project.version)
    expected = ("by A", 40.0, 2) if won == ["a"] else ("Concurrent", 41.0, 2)
    assert final == expected


def test_a_move_and_an_edit_based_on_the_same_version(client, auth_headers):
    """A move bumps the version too: an edit based on the version before it is stale."""
    officer = auth_headers("officer")
    created = client.post("/api/v1/projects", json={
        "name": "P", "technology": "pv", "capacity_ac_mw": 30.0}, headers=officer).json
    url = f"/api/v1/projects/{created['id']}"
    dropped = client.post(url + "/transitions", json={"to": "dropped", "reason": "test"},
                          headers=officer)
    assert dropped.status_code == 201 and dropped.json["version"] == 2
    stale = client.patch(url, json={"name": "Q", "version": 1}, headers=officer)
    assert stale.status_code == 409 and stale.json["current_version"] == 2
