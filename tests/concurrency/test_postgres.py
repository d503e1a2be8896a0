"""Many machines' worth of agents on one PostgreSQL server: 32 processes drain 960 tasks
(`AGENTDECK_DRAIN_TASKS=2000` for a long run), each task claimed exactly once, with no errors
(no serialization failures, no double hand-outs)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agentdeck.core import Deck
from tests.backends import database_url
from tests.concurrency import harness, workers

WORKERS = 32
TASKS = harness.drain_tasks(960)


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    return database_url("postgres", tmp_path)


def test_thirty_two_workers_drain_the_tasks_on_postgres(pg_url: str, tmp_path: Path) -> None:
    harness.make_board(pg_url, agents=WORKERS, tasks=TASKS)  # type: ignore[arg-type]
    outs = [tmp_path / f"drain-{i}.json" for i in range(WORKERS)]
    procs = [
        harness.SPAWN.Process(
            target=workers.drain, args=(pg_url, harness.agent_name(i), str(outs[i]))
        )
        for i in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=300)
    assert [p.exitcode for p in procs] == [0] * WORKERS

    results = [harness.read_result(out) for out in outs]
    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors[:3]
    reported = Counter(key for r in results for key in r["claimed"])
    assert len(reported) == TASKS
    assert max(reported.values()) == 1, reported.most_common(3)
    assert sum(1 for r in results if r["claimed"]) > WORKERS // 2, "most workers got no work"

    with Deck.open(pg_url) as deck:
        assert deck.counts(harness.BOARD).by_column == {"done": TASKS}
        events = harness.all_events(deck)
    claims = Counter(e.task for e in events if e.kind == "claimed")
    assert set(claims) == set(reported) and set(claims.values()) == {1}
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
