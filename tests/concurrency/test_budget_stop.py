"""Eight agents racing to spend one hard budget: the stop holds them to their in-flight calls.

Real processes (spawned interpreters), each with its own `Deck`, on a real SQLite file and on a
fresh schema of a real PostgreSQL server (the `db_url` fixture runs the test on both). Each
agent holds a task and loops log, usage, heartbeat as fast as it can against a 10,000-token
hard board budget. The overshoot figure is printed by `python -m tests.bench.budget_stop`.
"""

from __future__ import annotations

from pathlib import Path

from agentdeck.core import Deck
from tests.concurrency import harness

AGENTS = 8
LIMIT = 10_000
PER_CALL = 100


def test_eight_racing_agents_stop_within_their_in_flight_calls(db_url: str, tmp_path: Path) -> None:
    results = harness.spend_race(
        db_url, tmp_path, agents=AGENTS, limit=LIMIT, per_call=PER_CALL, calls=500
    )
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
    # Each agent made at most one usage call after the crossing (the one already in flight) ...
    after = harness.usage_after_crossing(events)
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
