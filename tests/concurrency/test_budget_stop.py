"""Eight agents racing to spend one hard budget: the stop holds them to their in-flight calls.

Real processes (spawned interpreters), each with its own `Deck`, on a real SQLite file and on a
fresh schema of a real PostgreSQL server (the `db_url` fixture runs the test on both). Each
agent holds a task and loops log, usage, heartbeat as fast as it can against a 10,000-token
hard board budget. The overshoot figure is printed by `python -m tests.bench.budget_stop`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from agentdeck.core import Deck
from tests.concurrency import harness, workers

AGENTS = 8
LIMIT = 10_000
PER_CALL = 100


def race(db: str, tmp_path: Path, *, obey: bool = True) -> list[dict[str, Any]]:
    """Run the eight spenders on a fresh board in `db` and return their reports."""
    harness.make_board(db, agents=AGENTS, tasks=AGENTS)
    with Deck.open(db) as deck:
        deck.set_budget("tokens", actor=harness.HUMAN, hard=LIMIT)
    gate = harness.SPAWN.Barrier(AGENTS)
    outs = [tmp_path / f"spend-{i}.json" for i in range(AGENTS)]
    procs = [
        harness.SPAWN.Process(
            target=workers.spend_until_stopped,
            args=(db, harness.agent_name(i), f"{harness.BOARD}-{i + 1}", PER_CALL, gate, str(out)),
            kwargs={"obey": obey},
        )
        for i, out in enumerate(outs)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=300)  # a hang guard, not a timing
    assert [p.exitcode for p in procs] == [0] * AGENTS
    return [harness.read_result(out) for out in outs]


def test_eight_racing_agents_stop_within_their_in_flight_calls(db_url: str, tmp_path: Path) -> None:
    results = race(db_url, tmp_path)
    assert [r["errors"] for r in results] == [[]] * AGENTS

    with Deck.open(db_url) as deck:
        events = harness.all_events(deck)
        [budget] = deck.budget_status(harness.BOARD)
        tasks = {t.key: t for t in deck.list_tasks(harness.BOARD)}
        inboxes = {r["agent"]: deck.inbox(r["agent"], board=harness.BOARD) for r in results}

    # Spend is never lost: every usage call that returned is in the budget, and no other.
    assert budget.used == sum(sum(r["recorded"]) for r in results)
    # One crossing; every task was in progress and is stopped by it, in its transaction.
    [crossing] = [e for e in events if (e.kind, e.subkind) == ("budget", "hard")]
    stops = [e for e in events if e.kind == "status" and e.data.get("reason") == "budget"]
    assert sorted(e.task for e in stops) == sorted(tasks)
    at = events.index(crossing)
    window = events[at : at + 2 + 2 * AGENTS]
    assert [(e.kind, e.subkind) for e in window] == [
        ("budget", "hard"),
        ("usage", "m"),
        *[("status", "escalated"), ("message", "budget")] * AGENTS,
    ], "the stop was not written in the crossing's transaction"
    assert [e for e in window if e.kind == "status"] == stops
    crossing_usage = window[1]
    # Each agent made at most one usage call after the crossing (the one already in flight) ...
    after = Counter(e.actor for e in events if e.kind == "usage" and e.id > crossing_usage.id)
    assert max(after.values(), default=0) <= 1, after
    # ... so the overshoot is bounded by the calls in flight, whatever the timing.
    assert LIMIT <= budget.used < LIMIT + AGENTS * PER_CALL, budget
    # And each agent was stopped by its next work verb: exit 4, naming the budget.
    for r in results:
        stop = r["stop"]
        assert stop is not None, f"{r['agent']} was never stopped"
        assert stop["exit_code"] == 4
        assert stop["message"].startswith(
            f"{r['agent']} cannot renew its leases: the board tokens budget is exhausted ("
        )
        assert "of 10,000 tokens); work in its scope is stopped" in stop["message"]
        assert [m.kind for m in inboxes[r["agent"]]] == ["budget"]
    for task in tasks.values():
        assert (task.status, task.column) == ("escalated", "needs_human")
        assert task.escalation_reason.startswith("budget: the board tokens budget is exhausted")
