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
iter_boards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from agentdeck.core import boards, budgets, events, tasks, views
from agentdeck.core.models import Agent, Board, BudgetStatus, Event, Task
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.transaction import Tx, split_key

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
