"""A screen showing one board's six columns and header, kept live by diffs.

The board is never read whole: the first load reads each column's counts and its first page;
moving the selection near the end of what a column holds reads the next page in a worker
(`BoardState` keeps a few pages around the selection). After that only events past the
screen's cursor are read, in a single-flight worker with the counts and the windows' places in
their columns, and the tasks they touched are applied to the cards inside one batch update,
keeping the selection on its task. The reads themselves are in `board_reads`; this layer
applies them on the UI thread, so the board screen above it is about layout and keys.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from textual import on, work
from textual.message import Message
from textual.reactive import reactive

from agentdeck.core import Deck
from agentdeck.core.models import COLUMNS, Agent, Board, Task
from agentdeck.core.paging import ColumnPage
from agentdeck.tui.console.board_state import PAGE, BoardFilter, BoardState
from agentdeck.tui.console.screens.board_reads import (
    BoardChanges,
    BoardSnapshot,
    read_board,
    read_changes,
    read_page,
)
from agentdeck.tui.console.screens.task_actions import TaskActions
from agentdeck.tui.console.single_flight import SingleFlight
from agentdeck.tui.console.widgets.column import TaskColumn
from agentdeck.tui.console.widgets.header import BoardHeader
from agentdeck.tui.console.widgets.roster import AgentRoster


class LiveBoard(TaskActions):
    """The board's columns, header and roster kept up with the deck; the selected task is the
    active column's. A subclass composes a `BoardHeader`, the six `TaskColumn`s and an
    `AgentRoster` in a `#roster-panel`, and calls `load_board` once mounted."""

    column_index = reactive(1, init=False)

    @dataclass
    class Loaded(Message):
        """A full snapshot of the board (first load, board switch, or a big backlog)."""

        snapshot: BoardSnapshot

    @dataclass
    class Refreshed(Message):
        """What changed past the cursor (`board_reads.read_changes`)."""

        changes: BoardChanges

    @dataclass
    class PageLoaded(Message):
        """A page of one column read past (`below`) or before the window's edge task
        `anchor`, or by position (anchor None) to load the window anew."""

        page: ColumnPage
        anchor: str | None
        below: bool
        filter: BoardFilter

    page_size = PAGE  # tasks a column reads at a time (tests make it small)

    def __init__(self, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.state = BoardState(self.page_size)
        self._fetching: set[str] = set()  # columns with a page read under way
        self.cursor = -1
        self.now: datetime | None = None
        self.refreshing = SingleFlight()
        self._agents: tuple[Agent, ...] = ()
        self.refresh_ui_seconds = 0.0  # UI-thread time of the last applied refresh (benchmarks)
        self.refresh_ui_total = 0.0  # ... and of every refresh applied so far
        self._columns: list[TaskColumn] = []

    # -- the widgets -------------------------------------------------------------------------

    def _roster_title(self, board: Board) -> None:
        """Say on the roster how its agents prove who they are (`board.agents`)."""
        self.query_one("#roster-panel").border_title = f"Agents · {board.agents} mode"

    @property
    def header(self) -> BoardHeader:
        return self.query_one(BoardHeader)

    @property
    def columns(self) -> list[TaskColumn]:
        """The six columns, in board order (looked up once: bindings ask on every redraw)."""
        if not self._columns:
            self._columns = list(self.query(TaskColumn))
        return self._columns

    @property
    def active_column(self) -> TaskColumn:
        return self.columns[self.column_index]

    def selected_task(self) -> Task | None:
        key = self.active_column.selected_key
        return self.state.tasks.get(key) if key else None

    # -- loading -----------------------------------------------------------------------------

    def load_board(self, deck: Deck, board: str) -> None:
        """Read the board anew (first load, a new filter, or a big backlog of changes)."""
        self._load_board(deck, board, self.state.filter, self.state.page)

    @work(thread=True, exclusive=True, group="board-load", exit_on_error=False)
    def _load_board(self, deck: Deck, board: str, board_filter: BoardFilter, page: int) -> None:
        self.post_message(self.Loaded(read_board(deck, board, board_filter, page)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        snap = message.snapshot
        if snap.filter != self.state.filter:
            return  # read under a filter since changed: its own load follows
        self.cursor = snap.cursor
        self.now = snap.now
        self._fetching.clear()
        self.state.load(snap.pages, snap.totals)
        self._agents = snap.agents
        self.header.board = snap.board
        self.header.me = snap.me
        self._roster_title(snap.board)
        self.sub_title = snap.board.name
        if not self.state.column_keys(COLUMNS[self.column_index]):
            # Start where there is something to look at.
            self.column_index = next(
                (i for i, c in enumerate(COLUMNS) if self.state.column_keys(c)), self.column_index
            )
        with self.app.batch_update():
            self._show_columns(COLUMNS)
            self.query_one(AgentRoster).show(snap.agents, snap.now)
        self.header.live = "live" if self.deck_app.watching else "off"
        self.update_keys()
        self.board_shown()
        # Events may have landed while the snapshot was read.
        self.refresh_data()

    def refresh_data(self) -> None:
        """Load what changed past the cursor; at most one load runs, a second is queued."""
        if self.cursor >= 0 and self.refreshing.start():
            anchors = {
                c: w.tasks[0] for c, w in self.state.windows.items() if w.tasks and w.start > 0
            }
            self.load_changes(self.deck, self.board_key, self.cursor, self.state.filter, anchors)

    @work(thread=True, group="board-refresh", exit_on_error=False)
    def load_changes(
        self,
        deck: Deck,
        board: str,
        cursor: int,
        board_filter: BoardFilter,
        anchors: dict[str, Task],
    ) -> None:
        changes = read_changes(deck, board, cursor, board_filter, anchors)
        if changes is None:
            self.load_board(deck, board)
            return
        self.post_message(self.Refreshed(changes))

    @on(Refreshed)
    def _refreshed(self, message: Refreshed) -> None:
        changes = message.changes
        if changes.cursor <= self.cursor:
            return
        self.cursor = changes.cursor
        self.now = changes.now
        started = time.perf_counter()
        with self.app.batch_update():
            if changes.filter == self.state.filter:
                matching = None if changes.matching is None else set(changes.matching)
                touched = self.state.apply(changes.tasks, matching)
                if changes.counts is not None and changes.totals is not None:
                    self.state.set_counts(changes.counts, changes.totals, changes.ranks)
                    touched = set(COLUMNS)  # counts may have changed anywhere
            else:  # read under an older filter: judge here; the new filter's load follows
                touched = self.state.apply(changes.tasks)
            self._show_columns(touched)
            if changes.agents is not None:
                self._agents = changes.agents
                self.query_one(AgentRoster).show(changes.agents, changes.now)
            if changes.board is not None:
                self.header.board, self.header.me = changes.board
                self._roster_title(changes.board[0])
        self._fetch_near_selection()
        self.update_keys()
        self._pulse()
        # What this handler cost the UI thread (Textual lays out and paints after it).
        self.refresh_ui_seconds = time.perf_counter() - started
        self.refresh_ui_total += self.refresh_ui_seconds
        self.changes_shown()

    def worker_ended(self, worker: Any) -> None:
        if worker.group == "board-refresh" and self.refreshing.finish():
            self.refresh_data()

    def task_changed(self, task: Task) -> None:
        with self.app.batch_update():
            self._show_columns(self.state.apply([task]))
        self.refresh_data()

    def _pulse(self) -> None:
        if self.deck_app.watching and not self.header.problem:
            self.header.live = "pulse"
            self.set_timer(0.35, self._unpulse)

    def _unpulse(self) -> None:
        if self.header.live == "pulse":
            self.header.live = "live"

    def board_shown(self) -> None:
        """Hook: the board was shown anew from a snapshot (the charts reload here)."""

    def changes_shown(self) -> None:
        """Hook: changes past the cursor were shown."""

    # -- showing -----------------------------------------------------------------------------

    def _show_columns(self, columns: Iterable[str]) -> None:
        """Re-show the given columns from the state, and the header's counts."""
        counts = self.state.counts()
        widgets = self.columns
        for column in columns:
            index = COLUMNS.index(column)
            window = self.state.windows[column]
            widgets[index].show(
                window.keys,
                self.state.tasks,
                head=window.start,
                count=window.count,
                total=window.total,
                active=index == self.column_index,
            )
        self.header.done = counts.get("done", 0)
        self.header.total = sum(counts.values())
        self.header.filter_text = self.state.filter.describe()

    # -- paging a column ---------------------------------------------------------------------

    def _fetch_near_selection(self) -> None:
        """Read the next page of the active column when its selection is within a page's
        worth of cards of either end of what is loaded and more of the column lies there;
        read a window anew when one was emptied while the column still holds tasks."""
        if self.cursor < 0:
            return
        widget = self.active_column
        column = widget.column
        if column in self._fetching:
            return
        window = self.state.windows[column]
        margin = max(widget.capacity * 2, self.state.page // 3)
        # Keep enough either side of the selection that a page read is never due at once.
        self.state.keep = max(self.state.keep, 2 * (margin + widget.capacity))
        index = max(widget.selected_index, 0)
        sql = self.state.filter
        if not window.tasks:
            if window.count:
                self._fetching.add(column)
                self.load_page(self.deck, self.board_key, column, sql, None, True, window.start)
            return
        for below, near in (
            (True, len(window.tasks) - 1 - index < margin),
            (False, index < margin),
        ):
            anchor = self.state.edge(column, below)
            if near and anchor is not None:
                self._fetching.add(column)
                self.load_page(self.deck, self.board_key, column, sql, anchor, below, 0)
                return

    @work(thread=True, group="column-page", exit_on_error=False)
    def load_page(
        self,
        deck: Deck,
        board: str,
        column: str,
        board_filter: BoardFilter,
        anchor: Task | None,
        below: bool,
        offset: int,
    ) -> None:
        page = read_page(deck, board, column, board_filter, anchor, below, offset, self.state.page)
        key = anchor.key if anchor is not None else None
        self.post_message(self.PageLoaded(page, key, below, board_filter))

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        column = message.page.column
        self._fetching.discard(column)
        if message.filter != self.state.filter:
            return
        widget = self.columns[COLUMNS.index(column)]
        if message.anchor is None:
            self.state.refill(message.page, widget.selected_key)
        elif not self.state.extend(
            message.page, message.anchor, message.below, widget.selected_key
        ):
            return
        with self.app.batch_update():
            self._show_columns([column])
        if column == self.active_column.column:
            self._fetch_near_selection()
