"""The claim is one UPDATE … RETURNING that finds its task through `ix_task_claim`, never by
scanning the task table, so claiming stays fast on a board of 100,000 cards.

The statement is captured from a real `deck.claim` call and explained by SQLite itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agentdeck.core import Deck


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Deck]:
    """A board with enough tasks of every kind that a scan would be a real choice."""
    d = Deck.open(tmp_path / "board.db", create=True)
    d.create_board("WEB", "web", actor="hana")
    d.create_board("OPS", "ops", actor="hana")
    d.add_agent("coder", actor="hana", board="WEB", skills=["python"])
    d.add_agent("other", actor="hana", board="WEB")
    d.plan(
        [
            {
                "ref": f"t{i}",
                "title": f"task {i}",
                "priority": i % 5,
                "skills": ["python"] if i % 3 == 0 else [],
                "assignee": "other" if i % 7 == 0 else None,
                "blocked_by": [f"t{i - 1}"] if i % 4 == 1 else [],
            }
            for i in range(400)
        ],
        actor="hana",
        board="WEB",
    )
    d.plan([{"title": f"ops {i}"} for i in range(200)], actor="hana", board="OPS")
    yield d
    d.close()


def captured_claim(deck: Deck, call: Callable[[], Any]) -> tuple[str, tuple[Any, ...]]:
    """The claim's UPDATE … RETURNING statement and parameters, as sent to the driver."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().startswith("UPDATE task") and "RETURNING" in statement:
            sent.append((statement, params))

    sa.event.listen(deck.engine, "before_cursor_execute", capture)
    try:
        assert call() is not None
    finally:
        sa.event.remove(deck.engine, "before_cursor_execute", capture)
    assert len(sent) == 1, f"expected one claim statement, saw {len(sent)}"
    statement, params = sent[0]
    return statement, tuple(params)


def query_plan(db: Path, statement: str, params: tuple[Any, ...], analyze: bool) -> list[str]:
    con = sqlite3.connect(db)
    try:
        if analyze:
            con.execute("ANALYZE")
        return [row[3] for row in con.execute(f"EXPLAIN QUERY PLAN {statement}", params)]
    finally:
        con.close()


def assert_no_task_scan(plan: list[str]) -> None:
    on_task = [step for step in plan if " task " in f" {step} "]
    assert on_task, plan
    assert all(step.startswith("SEARCH task") for step in on_task), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("analyze", [False, True], ids=["fresh", "after-analyze"])
def test_claim_next_searches_the_claim_index(seeded: Deck, analyze: bool) -> None:
    """Claiming the next ready task (own assignments first, then open tasks that fit the
    agent's skills, by priority) walks ix_task_claim in order: no scan, no sort."""
    statement, params = captured_claim(seeded, lambda: seeded.claim("coder", board="WEB"))
    assert seeded.path is not None
    plan = query_plan(seeded.path, statement, params, analyze)
    assert_no_task_scan(plan)
    assert (
        sum(
            "USING COVERING INDEX ix_task_claim" in s or "USING INDEX ix_task_claim" in s
            for s in plan
        )
        == 2
    ), plan


def test_claim_next_with_an_exhausted_task_budget_still_searches(seeded: Deck) -> None:
    """With a task's hard budget spent, the claim skips that task without a scan."""
    seeded.set_budget("tokens", actor="hana", board="WEB", scope="task", subject="WEB-2", hard=10)
    seeded.record_usage("WEB-2", actor="hana", tokens_in=50)
    statement, params = captured_claim(seeded, lambda: seeded.claim("coder", board="WEB"))
    assert "budget" in statement
    assert seeded.path is not None
    plan = query_plan(seeded.path, statement, params, analyze=False)
    assert_no_task_scan(plan)
    assert any("ix_task_claim" in step for step in plan), plan


def test_claim_by_key_searches_by_number(seeded: Deck) -> None:
    """Claiming one task by key finds it through the board's (board_id, number) index."""
    statement, params = captured_claim(seeded, lambda: seeded.claim("coder", key="WEB-4"))
    assert seeded.path is not None
    assert_no_task_scan(query_plan(seeded.path, statement, params, analyze=False))
