"""Pages and streams: every list the Python API gives is bounded, and a whole list is walked a
page at a time, never loaded at once.

`task_page` is one page and the cursor of the next (the cursor `views` gives the command line
and MCP, opaque to callers). The `iter_*` verbs stream a whole list with constant memory:
each page is its own short read of `views.STREAM_PAGE` rows, keyed on the last row's id
(keyset paging over an index: every page costs the same, however deep), so a stream
never holds a snapshot open while its reader is slow. Rows come in key order (tasks by their
number, events oldest first); a task that exists for the whole walk is yielded once, one
added meanwhile is yielded if its id is past the walk's position, and one that stops
matching the filter before the walk reaches it is left out.

Verbs here: task_page, iter_tasks, iter_ready, iter_events, iter_agents, iter_budgets,
iter_boards; and for a board view that holds a few screens of each column, never the whole
board (the console's board at 100,000 tasks): column_counts, column_page, column_rank,
matching, with `display_key`, the columns' order in Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from agentdeck.core import boards, budgets, events, limits, rows_to_models, tasks, views
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import COLUMNS, Agent, Board, BudgetStatus, Event, Task, column_of
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import UTCDateTime, agent_t, task_label_t, task_t
from agentdeck.core.storage.transaction import Tx, split_key, task_key

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next page (None on the last)."""

    items: tuple[T, ...]
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def task_page(
    tx: Tx,
    board: str | None = None,
    *,
    status: str | Sequence[str] | None = None,
    column: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    include_cancelled: bool = False,
    limit: int = views.DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[Task]:
    """A page of `limit` tasks by priority then age (the filters as `tasks.list_tasks`), from
    the `cursor` a previous page gave; a cursor this module did not give is refused."""
    start = views.start_of(cursor)
    found = tasks.list_tasks(
        tx,
        board,
        status=status,
        column=column,
        assignee=assignee,
        label=label,
        include_cancelled=include_cancelled,
        limit=limit + 1,
        offset=start,
    )
    return Page(tuple(found[:limit]), views.next_cursor(len(found), start, limit))


def _keyset(
    read: Callable[[int], Sequence[T]], key: Callable[[T], int], after: int = 0
) -> Iterator[T]:
    """Every row `read(after)` gives, a page at a time, each page after the last row's key."""
    while True:
        page = read(after)
        yield from page
        if len(page) < views.STREAM_PAGE:
            return
        after = key(page[-1])


def iter_tasks(
    db: Database,
    board: str | None = None,
    *,
    status: str | Sequence[str] | None = None,
    column: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    include_cancelled: bool = False,
) -> Iterator[Task]:
    """Every task the filters (as `tasks.list_tasks`) select, in key order, a page per read."""
    with db.read() as tx:
        key = tx.board(board)["key"]  # the board is found (or refused) before the first item

    def read(after: int) -> list[Task]:
        with db.read() as tx:
            return tasks.list_tasks(
                tx,
                key,
                status=status,
                column=column,
                assignee=assignee,
                label=label,
                include_cancelled=include_cancelled,
                limit=views.STREAM_PAGE,
                after_number=after,
            )

    return _keyset(read, _number)


def _number(t: Task) -> int:
    """A task's number on its board (the keyset of a task stream)."""
    return split_key(t.key)[1]


def iter_ready(
    db: Database, board: str | None = None, *, agent: str | None = None, label: str | None = None
) -> Iterator[Task]:
    """The whole ready queue (for `agent`, what it may claim), in key order, a page per read."""
    with db.read() as tx:
        key = tx.board(board)["key"]

    def read(after: int) -> list[Task]:
        with db.read() as tx:
            return tasks.ready(
                tx, key, agent=agent, label=label, limit=views.STREAM_PAGE, after_number=after
            )

    return _keyset(read, _number)


def iter_events(db: Database, after: int = 0, *, board: str | None = None) -> Iterator[Event]:
    """Every event after id `after` (on `board`), oldest first, a page per read."""

    def read(cursor: int) -> list[Event]:
        with db.read() as tx:
            return events.events_since(tx, cursor, board=board, limit=views.STREAM_PAGE)

    return _keyset(read, lambda e: e.id, after)


def _offsets(read: Callable[[int], Sequence[T]]) -> Iterator[T]:
    """Every row of a small, slowly changing list (a roster, budgets), a page per read."""
    offset = 0
    while True:
        page = read(offset)
        yield from page
        if len(page) < views.STREAM_PAGE:
            return
        offset += len(page)


def iter_agents(db: Database, board: str | None = None) -> Iterator[Agent]:
    """The board's whole roster, by kind then name, a page per read."""

    def read(offset: int) -> list[Agent]:
        with db.read() as tx:
            return boards.list_agents(tx, board, limit=views.STREAM_PAGE, offset=offset)

    return _offsets(read)


def iter_boards(db: Database) -> Iterator[Board]:
    """Every board, by key, a page per read."""

    def read(offset: int) -> list[Board]:
        with db.read() as tx:
            return boards.list_boards(tx, limit=views.STREAM_PAGE, offset=offset)

    return _offsets(read)


def iter_budgets(
    db: Database, board: str | None = None, *, scope: str | None = None, subject: str | None = None
) -> Iterator[BudgetStatus]:
    """Every budget of a board (or one scope/subject), a page per read."""

    def read(offset: int) -> list[BudgetStatus]:
        with db.read() as tx:
            return budgets.budget_status(
                tx, board, scope=scope, subject=subject, limit=views.STREAM_PAGE, offset=offset
            )

    return _offsets(read)


# -- board columns: counts and windows, for a view that never loads the whole board -----------

# Columns shown most recent first (by when they finished); the others by priority, then age.
NEWEST_FIRST = ("done", "failed")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FINISHED_AT = sa.func.coalesce(task_t.c.completed_at, task_t.c.updated_at, type_=UTCDateTime)
_FOLD = "agentdeck_fold"  # SQLite: Python's str.casefold, registered on the connection


@dataclass(frozen=True, slots=True)
class ColumnFilter:
    """Which tasks a board view shows; empty parts match everything. `words`: each must occur,
    case folded, in the task's key, title, assignee or description (SQLite folds with Python's
    `str.casefold`, registered on the connection; PostgreSQL with its `lower()`, which leaves
    ß alone); `labels` (in stored form, `limits.label`): the task carries each; `agent`: its
    assignee; `skill`: one it requires."""

    words: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    agent: str = ""
    skill: str = ""

    @property
    def active(self) -> bool:
        return bool(self.words or self.labels or self.agent or self.skill)


@dataclass(frozen=True, slots=True)
class ColumnPage:
    """A window of one column in display order: `tasks`, the first at position `start` of
    the column's `count` tasks (under the filter the page was read with)."""

    column: str
    tasks: tuple[Task, ...]
    start: int
    count: int


def display_key(column: str, task: Task) -> tuple[Any, ...]:
    """Where `task` sorts in `column`, exactly as `column_page`'s SQL orders it: Done and
    Failed newest first (when it finished, else when it last changed), then the higher number;
    the other columns by priority, then the lower number (the older task)."""
    number = split_key(task.key)[1]
    if column in NEWEST_FIRST:
        return (_EPOCH - (task.completed_at or task.updated_at), -number)
    return (task.priority, number)


def _fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _filtered(tx: Tx, b_key: str, f: ColumnFilter | None) -> list[Any]:
    """The WHERE terms of a filter (against `task_t` outer-joined to its assignee)."""
    if f is None or not f.active:
        return []
    terms: list[Any] = []
    if f.agent:
        terms.append(agent_t.c.name == f.agent)
    if f.skill:
        terms.append(_requires(tx, f.skill))
    for label in f.labels:
        terms.append(
            task_t.c.id.in_(sa.select(task_label_t.c.task_id).where(task_label_t.c.label == label))
        )
    if f.words:
        # The text `BoardFilter` searched: "KEY title assignee description".
        haystack = (
            sa.literal(f"{b_key}-")
            + sa.cast(task_t.c.number, sa.String)
            + " "
            + task_t.c.title
            + " "
            + sa.func.coalesce(agent_t.c.name, "")
            + " "
            + task_t.c.description
        )
        if tx.conn.dialect.name == "sqlite":
            driver = tx.conn.connection.dbapi_connection
            driver.create_function(_FOLD, 1, _fold, deterministic=True)  # type: ignore[union-attr]
            folded = getattr(sa.func, _FOLD)(haystack)
            terms += [sa.func.instr(folded, w.casefold()) > 0 for w in f.words]
        else:
            terms += [
                sa.func.strpos(sa.func.lower(haystack), sa.func.lower(w)) > 0 for w in f.words
            ]
    return terms


def _requires(tx: Tx, skill: str) -> Any:
    """Tasks whose required skills include `skill`."""
    if tx.conn.dialect.name == "postgresql":
        return task_t.c.required_skills.op("@>")(
            sa.cast(sa.literal(json.dumps([skill])), task_t.c.required_skills.type)
        )
    return sa.text(
        "EXISTS (SELECT 1 FROM json_each(task.required_skills) AS have WHERE have.value = :skill)"
    ).bindparams(skill=skill)


def _base(tx: Tx, b: Any, what: Sequence[Any], f: ColumnFilter | None) -> sa.Select[Any]:
    """SELECT `what` from the board's tasks under the filter (joined to the assignee if the
    filter reads the name)."""
    q = sa.select(*what).select_from(task_t)
    if f is not None and (f.agent or f.words):
        q = q.outerjoin(agent_t, agent_t.c.id == task_t.c.assignee_id)
    return q.where(task_t.c.board_id == b["id"], *_filtered(tx, b["key"], f))


def column_counts(
    tx: Tx, board: str | None = None, *, filter: ColumnFilter | None = None
) -> dict[str, int]:
    """Tasks in each board column (every column, zero included), under `filter`: one
    grouped count (unfiltered, the range counts of `tasks.counts`)."""
    b = tx.board(board)
    by_column = dict.fromkeys(COLUMNS, 0)
    if filter is None or not filter.active:
        by_column.update(tasks.counts(tx, b["key"]).by_column)
    else:
        # The 0 inline: PostgreSQL matches the grouped expression by its text, parameters apart.
        waits = task_t.c.open_deps > sa.literal_column("0")
        q = _base(tx, b, (task_t.c.status, waits, sa.func.count()), filter)
        q = q.where(task_t.c.status != "cancelled").group_by(task_t.c.status, waits)
        for status, waits, n in tx.conn.execute(q).all():
            column = column_of(status, int(bool(waits)))
            by_column[column] = by_column.get(column, 0) + n
    by_column.pop("cancelled", None)
    return by_column


def _parts(column: str) -> list[sa.ColumnElement[bool]]:
    """A column as the statuses it shows, each one range of `ix_task_column` in order."""
    if column == "needs_human":
        return [task_t.c.status == "review", task_t.c.status == "escalated"]
    return [tasks._column_clause(column)]


def _sort_terms(column: str) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    return (
        (_FINISHED_AT, task_t.c.number)
        if column in NEWEST_FIRST
        else (
            task_t.c.priority,
            task_t.c.number,
        )
    )


def _anchor(column: str, task: Task) -> sa.Tuple:
    number = split_key(task.key)[1]
    if column in NEWEST_FIRST:
        at = task.completed_at or task.updated_at
        return sa.tuple_(sa.literal(at, UTCDateTime()), sa.literal(number, sa.Integer))
    return sa.tuple_(sa.literal(task.priority, sa.Integer), sa.literal(number, sa.Integer))


def _before(column: str, anchor: Task) -> sa.ColumnElement[bool]:
    """Rows that come before `anchor`'s place in the column's display order."""
    here = sa.tuple_(*_sort_terms(column))
    return (
        here > _anchor(column, anchor) if column in NEWEST_FIRST else here < _anchor(column, anchor)
    )


def _after(column: str, anchor: Task) -> sa.ColumnElement[bool]:
    here = sa.tuple_(*_sort_terms(column))
    return (
        here < _anchor(column, anchor) if column in NEWEST_FIRST else here > _anchor(column, anchor)
    )


def column_page(
    tx: Tx,
    board: str | None,
    column: str,
    *,
    filter: ColumnFilter | None = None,
    offset: int = 0,
    after: Task | None = None,
    before: Task | None = None,
    limit: int = views.DEFAULT_PAGE,
) -> ColumnPage:
    """Up to `limit` tasks of one board column in display order (`display_key`), under
    `filter`: from position `offset`, or the ones right after (or right before) the place
    of `after` (`before`) in the column, a keyset read over the order's index whatever the
    depth. The anchor need not be in the column any more: its place is where it would sort.
    The page says where it starts in the column and how many the column holds."""
    if column not in COLUMNS:
        raise ValidationError(f"unknown column {column!r}; columns: {', '.join(COLUMNS)}")
    b = tx.board(board)
    limit = limits.row_window(limit)
    where = tasks._column_clause(column)
    first, second = _sort_terms(column)
    # Read in display order, or against it for the tasks before an anchor (nearest first).
    descending = (column in NEWEST_FIRST) != (before is not None)
    order = (first.desc(), second.desc()) if descending else (first, second)
    skip = limits.row_window(offset) if after is None and before is None else 0
    parts = []
    for part in _parts(column):
        q = _base(tx, b, (task_t,), filter).where(part)
        if before is not None:
            q = q.where(_before(column, before))
        elif after is not None:
            q = q.where(_after(column, after))
        parts.append(q.order_by(*order))
    if len(parts) == 1:
        q = parts[0].offset(skip).limit(limit)
    else:
        # One ordered index range per status, merged: each part reads at most what the page
        # can take from it, where one query over both statuses would sort them all.
        merged = sa.union_all(*(sa.select(p.limit(skip + limit).subquery()) for p in parts))
        u = merged.subquery("parts")
        by = (u.c.priority, u.c.number)
        q = sa.select(u).order_by(*(c.desc() for c in by) if descending else by)
        q = q.offset(skip).limit(limit)
    rows = list(tx.conn.execute(q).mappings().all())
    if before is not None:
        rows.reverse()
    found = tuple(rows_to_models.tasks(tx.conn, rows, tx.now))
    counted = _base(tx, b, (sa.func.count(),), filter).where(where)
    count = int(tx.conn.execute(counted).scalar_one())
    if after is None and before is None:
        start = limits.row_window(offset)
    elif found:
        start = int(tx.conn.execute(counted.where(_before(column, found[0]))).scalar_one())
    else:
        start = count if after is not None else 0
    return ColumnPage(column, found, min(start, count), count)


def column_rank(
    tx: Tx, board: str | None, column: str, task: Task, *, filter: ColumnFilter | None = None
) -> int:
    """How many tasks of `column` (under `filter`) come before `task`'s place in it."""
    b = tx.board(board)
    q = _base(tx, b, (sa.func.count(),), filter).where(tasks._column_clause(column))
    return int(tx.conn.execute(q.where(_before(column, task))).scalar_one())


def matching(
    tx: Tx, board: str | None, keys: Sequence[str], filter: ColumnFilter | None = None
) -> set[str]:
    """Which of these tasks of the board `filter` lets through (all of them without one)."""
    b = tx.board(board)
    numbers = sorted({split_key(k)[1] for k in keys})
    if not numbers:
        return set()
    q = _base(tx, b, (task_t.c.number,), filter).where(task_t.c.number.in_(numbers))
    return {task_key(b["key"], n) for n in tx.conn.execute(q).scalars()}
