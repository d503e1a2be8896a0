"""Many OS processes on one database: nothing claimed twice, nothing lost, nothing corrupted.

Real processes (spawned interpreters), each with its own `Deck`, on a real SQLite file and on a
fresh schema of a real PostgreSQL server (the `db_url` fixture runs each test on both).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from agentdeck.core import Deck
from tests.concurrency import crash, harness, workers

WRITERS = 8
DRAIN = harness.drain_tasks(800)  # 100 per writer; AGENTDECK_DRAIN_TASKS=2000 for a long run


def test_eight_processes_drain_the_queue_each_task_claimed_once(
    db_url: str, tmp_path: Path
) -> None:
    """8 agents race to drain 800 ready tasks: each task is claimed exactly once and done."""
    db = db_url
    harness.make_board(db, agents=WRITERS, tasks=DRAIN)
    outs = [tmp_path / f"drain-{i}.json" for i in range(WRITERS)]
    procs = [
        harness.SPAWN.Process(
            target=workers.drain, args=(str(db), harness.agent_name(i), str(outs[i]))
        )
        for i in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=300)  # a hang guard, not a timing: pytest runs on every core
    assert [p.exitcode for p in procs] == [0] * WRITERS

    results = [harness.read_result(out) for out in outs]
    assert [r["errors"] for r in results] == [[]] * WRITERS
    reported = Counter(key for r in results for key in r["claimed"])
    assert len(reported) == DRAIN
    assert max(reported.values()) == 1, reported.most_common(3)
    assert sum(1 for r in results if r["claimed"]) > 1, "one process did all the work"

    with Deck.open(db) as deck:
        events = harness.all_events(deck)
        assert deck.counts(harness.BOARD).by_column == {"done": DRAIN}
    claims = Counter(e.task for e in events if e.kind == "claimed")
    assert set(claims) == set(reported)
    assert set(claims.values()) == {1}
    claimants = {e.task: e.actor for e in events if e.kind == "claimed"}
    assert claimants == {key: r["agent"] for r in results for key in r["claimed"]}


def test_eight_writers_append_events_none_lost(db_url: str, tmp_path: Path) -> None:
    """8 processes each append 300 log entries at once: all 2,400 land, in order, none refused."""
    per_writer = 300
    db = db_url
    harness.make_board(db, agents=WRITERS, tasks=WRITERS)
    keys = [f"{harness.BOARD}-{i + 1}" for i in range(WRITERS)]
    outs = [tmp_path / f"log-{i}.json" for i in range(WRITERS)]
    procs = [
        harness.SPAWN.Process(
            target=workers.append_logs,
            args=(str(db), harness.agent_name(i), keys[i], per_writer, str(outs[i])),
        )
        for i in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=300)  # a hang guard, not a timing: pytest runs on every core
    assert [p.exitcode for p in procs] == [0] * WRITERS

    results = [harness.read_result(out) for out in outs]
    errors = [e for r in results for e in r["errors"]]
    assert not errors, errors[:3]
    assert not any("locked" in e.lower() or "busy" in e.lower() for e in errors)
    for r in results:
        assert len(r["ids"]) == per_writer
        assert r["ids"] == sorted(r["ids"]) and len(set(r["ids"])) == per_writer

    with Deck.open(db) as deck:
        events = harness.all_events(deck)
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    logs = [e for e in events if e.kind == "log"]
    assert len(logs) == WRITERS * per_writer
    assert {e.id for e in logs} == {i for r in results for i in r["ids"]}
    for i, key in enumerate(keys):
        mine = [e for e in logs if e.actor == harness.agent_name(i)]
        assert all(e.task == key for e in mine)
        # Ordered by id, each writer's entries appear in the order it wrote them.
        assert [e.text for e in mine] == [f"w{i} entry {n}" for n in range(per_writer)]


def test_kill_nine_loop_loses_no_acknowledged_write(db_url: str, tmp_path: Path) -> None:
    """Writers SIGKILLed at random moments (AGENTDECK_CRASH_KILLS times, default 30) and
    restarted: every acknowledged write is present, no task was held twice, killed leases come
    back, and a SQLite file passes its integrity and foreign-key checks."""
    kills = crash.kills_from_env()
    work = tmp_path / "acks"
    work.mkdir()
    report = crash.run_crash_loop(db_url, work, kills=kills, writers=WRITERS, budget_s=240)
    assert report.kills >= kills
    assert report.acks["complete"] > 0 and report.acks["log"] > 0
    assert report.recovered
