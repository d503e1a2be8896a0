"""What the board screen's thread workers read from the deck, as plain functions.

The board is never read whole: the first load reads each column's counts and its first page
(`Deck.column_page`, the filter applied in SQL), a column read further reads one more page,
and after that only events past the screen's cursor are read (`Deck.changes_since`) with the
counts (one grouped count) and the windows' places in their columns. Each read here runs off
the UI thread and returns a frozen value the screen applies on the UI thread; kept apart from
the screen so what the board costs the database is in one place, free of Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from agentdeck.core import Deck
from agentdeck.core.models import COLUMNS, Agent, Board, Credential, Task
from agentdeck.core.paging import ColumnFilter, ColumnPage
from agentdeck.tui.console.board_state import BoardFilter

# Past this many events behind, a full reload is cheaper than replaying the changes.
MAX_INCREMENTAL_EVENTS = 20_000
_AGENT_EVENTS = {
    "claimed",
    "doing",
    "agent",
    "status",
    "lease_expired",
    "assigned",
    "approval",
    "reopened",
}
# Events that may change the board itself (its agents mode) or whose credential this console
# holds (a member added, a token rotated or revoked): the header re-reads both.
_BOARD_EVENTS = {"board", "agent"}


@dataclass(frozen=True)
class BoardSnapshot:
    """Everything the board shows, read in one worker: the first page of each column."""

    board: Board
    pages: dict[str, ColumnPage]
    totals: dict[str, int]  # tasks per column, ignoring the filter
    filter: BoardFilter  # the filter the pages were read with
    agents: tuple[Agent, ...]
    cursor: int
    now: datetime
    me: Credential | None  # whom this console's credential makes it on the board, if anyone


@dataclass(frozen=True)
class BoardChanges:
    """Tasks touched by events past the cursor, and the roster if it may have changed."""

    cursor: int
    tasks: tuple[Task, ...]
    agents: tuple[Agent, ...] | None
    now: datetime
    # The board and this console's member, re-read when an event may have changed them.
    board: tuple[Board, Credential | None] | None = None
    # Read under `filter`: the keys of `tasks` it lets through, the columns' counts under
    # it and in all, and for windows not at the top, tasks before an anchor's place.
    filter: BoardFilter = field(default_factory=BoardFilter)
    matching: frozenset[str] | None = None
    counts: dict[str, int] | None = None
    totals: dict[str, int] | None = None
    ranks: dict[str, tuple[Task, int]] | None = None


def read_board(deck: Deck, board: str, board_filter: BoardFilter, page: int) -> BoardSnapshot:
    """The board anew: each column's first `page` tasks under the filter, and its counts."""
    cursor = deck.max_event_id()  # read first: anything later is replayed on top
    sql = board_filter.sql()
    pages = {c: deck.column_page(board, c, filter=sql, limit=page) for c in COLUMNS}
    totals = deck.column_counts(board) if sql.active else {c: p.count for c, p in pages.items()}
    return BoardSnapshot(
        board=deck.get_board(board),
        pages=pages,
        totals=totals,
        filter=board_filter,
        agents=tuple(deck.list_agents(board)),
        cursor=cursor,
        now=deck.now(),
        me=deck.whoami(board),
    )


def read_changes(
    deck: Deck,
    board: str,
    cursor: int,
    board_filter: BoardFilter,
    anchors: dict[str, Task],
) -> BoardChanges | None:
    """What changed past `cursor`, with the counts and the anchors' ranks if any task did;
    None when more than MAX_INCREMENTAL_EVENTS events are behind (reload the board instead)."""
    touched: dict[str, Task] = {}
    kinds: set[str] = set()
    seen = 0
    while True:
        changes = deck.changes_since(cursor, board=board)
        cursor = changes.cursor
        touched.update((t.key, t) for t in changes.tasks)
        kinds.update(e.kind for e in changes.events)
        seen += len(changes.events)
        if not changes.truncated:
            break
        if seen > MAX_INCREMENTAL_EVENTS:
            return None
    agents = tuple(deck.list_agents(board)) if kinds & _AGENT_EVENTS else None
    shown = (deck.get_board(board), deck.whoami(board)) if kinds & _BOARD_EVENTS else None
    sql = board_filter.sql()
    matching = frozenset(deck.matching(board, list(touched), sql)) if sql.active else None
    counts = totals = ranks = None
    if touched:
        counts = deck.column_counts(board, filter=sql)
        totals = deck.column_counts(board) if sql.active else counts
        ranks = {c: (t, deck.column_rank(board, c, t, filter=sql)) for c, t in anchors.items()}
    return BoardChanges(
        cursor,
        tuple(touched.values()),
        agents,
        deck.now(),
        shown,
        board_filter,
        matching,
        counts,
        totals,
        ranks,
    )


def read_page(
    deck: Deck,
    board: str,
    column: str,
    board_filter: BoardFilter,
    anchor: Task | None,
    below: bool,
    offset: int,
    limit: int,
) -> ColumnPage:
    """A page of one column past (`below`) or before the task `anchor`, or from `offset`
    when there is no anchor."""
    sql: ColumnFilter = board_filter.sql()
    if anchor is None:
        return deck.column_page(board, column, filter=sql, offset=offset, limit=limit)
    if below:
        return deck.column_page(board, column, filter=sql, after=anchor, limit=limit)
    return deck.column_page(board, column, filter=sql, before=anchor, limit=limit)
