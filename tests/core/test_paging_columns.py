"""Board columns read a window at a time (`Deck.column_page`, `column_counts`, `column_rank`,
`matching`): the order is the one the console sorted by in Python, paging by offset or by
keyset walks a column whole with no task twice and none missed, and the filter is SQL's.

The board is imported (one document) with what makes an order tricky: equal priorities,
finished tasks sharing a completion time, finished tasks with no completion time (they sort
by when they last changed), keys whose numbers do not follow insertion order, blocked tasks,
cancelled ones, labels, skills, assignees and non-ASCII titles.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from agentdeck.core import Deck
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import COLUMNS, Task
from agentdeck.core.paging import ColumnFilter, display_key

BOARD = "COL"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
STATUS_CYCLE = ["pending", "done", "in_progress", "failed", "review", "done", "escalated"]
STATUS_CYCLE += ["pending", "cancelled", "done", "pending", "failed"]
WORDS = ["Grüße", "STRASSE", "payment", "Login", "cache", "ÉCOLE"]


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def document(n: int) -> dict[str, Any]:
    """`n` tasks in every column; numbers run backwards in the document so ids and numbers
    disagree; completion times repeat (in threes) and some are missing."""
    tasks = []
    for i in range(n):
        number = n - i
        status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        finished = status in ("done", "failed", "cancelled")
        completed = None if (finished and i % 5 == 0) else at(100 + (i // 3)) if finished else None
        tasks.append(
            {
                "key": f"{BOARD}-{number}",
                "title": f"{WORDS[i % len(WORDS)]} task {i}",
                "description": "the grep target" if i % 4 == 0 else "",
                "priority": i % 3,
                "skills": ["python"] if i % 2 else ["qa", "python"],
                "labels": ["bug"] if i % 3 == 0 else ["ux", "bug"] if i % 3 == 1 else [],
                "assignee": None if status == "pending" else f"agent-{i % 3}",
                "status": status,
                "created_at": at(i % 7),
                "started_at": at(50) if status != "pending" else None,
                "completed_at": completed,
                "updated_at": at(200 + (i % 4)),
            }
        )
    return {
        "format": "agentdeck-board",
        "version": 1,
        "exported_at": at(1000),
        "board": {"key": BOARD, "name": "Columns", "created_at": at(0)},
        "agents": [
            *({"name": f"agent-{a}", "kind": "agent", "created_at": at(0)} for a in range(3)),
            {"name": "ann", "kind": "human", "created_at": at(0)},
        ],
        "tasks": tasks,
        # Every 12th task (pending) waits on one two further down the document (in progress).
        "dependencies": [
            {"task": f"{BOARD}-{n - i}", "blocked_by": f"{BOARD}-{n - i - 2}"}
            for i in range(0, n - 2, 12)
        ],
        "events": [],
        "usage": [],
        "budgets": [],
        "messages": [],
        "checkpoints": [],
    }


@pytest.fixture
def board(deck: Deck) -> Deck:
    deck.import_board(document(150), actor="ann")
    return deck


def python_matches(task: Task, f: ColumnFilter) -> bool:
    """The filter as the console applied it in Python before it moved to SQL."""
    if f.agent and task.assignee != f.agent:
        return False
    if f.skill and f.skill not in task.required_skills:
        return False
    if not set(f.labels) <= set(task.labels):
        return False
    haystack = f"{task.key} {task.title} {task.assignee or ''} {task.description}".casefold()
    return all(w.casefold() in haystack for w in f.words)


def python_column(deck: Deck, column: str, f: ColumnFilter | None = None) -> list[str]:
    """The column as the console built it: every task loaded, filtered and sorted in Python."""
    shown = [
        t
        for t in deck.list_tasks(BOARD, limit=None)
        if t.column == column and python_matches(t, f or ColumnFilter())
    ]
    return [t.key for t in sorted(shown, key=lambda t: display_key(column, t))]


def walk(read: Callable[..., Any], column: str, step: int, **how: Any) -> list[str]:
    """A whole column, `step` tasks a read, by offset (how={}) or by keyset (how={"keyset": 1})."""
    keyset = how.pop("keyset", False)
    keys: list[str] = []
    last: Task | None = None
    while True:
        if keyset:
            page = read(BOARD, column, after=last, limit=step, **how)
        else:
            page = read(BOARD, column, offset=len(keys), limit=step, **how)
        assert page.start == len(keys), (column, page.start, len(keys))
        keys += [t.key for t in page.tasks]
        if len(page.tasks) < step:
            assert len(keys) == page.count
            return keys
        last = page.tasks[-1]


def test_pages_walk_each_column_in_the_old_order_without_gaps_or_repeats(board: Deck) -> None:
    expected_counts = board.counts(BOARD).by_column
    counts = board.column_counts(BOARD)
    assert set(counts) == set(COLUMNS)
    for column in COLUMNS:
        expected = python_column(board, column)
        assert expected, f"the board should fill {column}"
        assert counts[column] == expected_counts.get(column, 0) == len(expected)
        for step in (1, 7, 500):
            assert walk(board.column_page, column, step) == expected, (column, step)
            assert walk(board.column_page, column, step, keyset=True) == expected, (column, step)


def test_finished_columns_break_ties_on_the_number_and_fall_back_to_updated_at(
    board: Deck,
) -> None:
    done = board.column_page(BOARD, "done", limit=500).tasks
    finished = [(t.completed_at or t.updated_at) for t in done]
    assert finished == sorted(finished, reverse=True)
    assert any(t.completed_at is None for t in done)
    tied = [(a.key, b.key) for a, b in pairwise(done) if a.completed_at == b.completed_at]
    assert tied, "the board should have tasks finished at the same moment"


def test_paging_backwards_from_a_task_gives_the_tasks_just_before_it(board: Deck) -> None:
    column = "ready"
    everything = python_column(board, column)
    middle = board.column_page(BOARD, column, offset=20, limit=1).tasks[0]
    before = board.column_page(BOARD, column, before=middle, limit=6)
    assert [t.key for t in before.tasks] == everything[14:20]
    assert before.start == 14
    assert board.column_rank(BOARD, column, middle) == 20
    head = board.column_page(BOARD, column, before=before.tasks[0], limit=50)
    assert [t.key for t in head.tasks] == everything[:14] and head.start == 0


def test_an_anchor_that_moved_away_still_marks_its_place(board: Deck) -> None:
    column = "in_progress"
    tasks = board.column_page(BOARD, column, limit=500).tasks
    anchor = tasks[3]
    board.complete(anchor.key, actor=anchor.assignee or "", result="done", verified_by="test")
    after = board.column_page(BOARD, column, after=anchor, limit=500)
    assert [t.key for t in after.tasks] == [t.key for t in tasks[4:]]
    assert after.start == 3 and after.count == len(tasks) - 1


@pytest.mark.parametrize(
    ("f", "some"),
    [
        (ColumnFilter(words=("grüsse",)), True),  # casefold: ß is ss, Ü is ü
        (ColumnFilter(words=("strasse", "TASK")), True),
        (ColumnFilter(words=("école",)), True),
        (ColumnFilter(words=(f"{BOARD}-1",)), True),  # the key is searched: COL-1, COL-10...
        (ColumnFilter(words=("grep",), labels=("bug",)), True),
        (ColumnFilter(labels=("ux", "bug")), True),
        (ColumnFilter(agent="agent-1"), True),
        (ColumnFilter(skill="qa", words=("agent-2",)), True),  # the assignee's name too
        (ColumnFilter(words=("task", "1%")), False),  # LIKE's wildcards are plain text here
        (ColumnFilter(words=("_",)), False),
        (ColumnFilter(labels=("nothing-has-this",)), False),
    ],
)
def test_filter_in_sql_selects_what_the_python_filter_did(
    board: Deck, f: ColumnFilter, some: bool, backend: str
) -> None:
    if backend == "postgres" and f.words == ("grüsse",):
        pytest.skip("PostgreSQL folds case with lower(), which keeps ß (SQLite: casefold)")
    counts = board.column_counts(BOARD, filter=f)
    every = {
        t.key
        for t in board.list_tasks(BOARD, limit=None, include_cancelled=True)
        if python_matches(t, f)
    }
    for column in COLUMNS:
        expected = python_column(board, column, f)
        assert counts[column] == len(expected), (column, f)
        assert walk(board.column_page, column, 4, filter=f) == expected
        assert walk(board.column_page, column, 4, filter=f, keyset=True) == expected
    keys = [f"{BOARD}-{n}" for n in range(1, 151)]
    assert board.matching(BOARD, keys, f) == every
    assert bool(every) == some and len(every) < 150


def test_matching_without_a_filter_is_every_task_asked_about(board: Deck) -> None:
    assert board.matching(BOARD, ["COL-3", "col-7"]) == {"COL-3", "COL-7"}
    assert board.matching(BOARD, []) == set()


def test_an_unknown_column_is_refused(board: Deck) -> None:
    with pytest.raises(ValidationError, match="unknown column"):
        board.column_page(BOARD, "cancelled")
