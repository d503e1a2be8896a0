"""The board: six kanban columns, a header, and the charts panel, kept live by diffs.

The board is never read whole: the first load reads each column's counts and its first page
(`Deck.column_page`, the filter applied in SQL); moving the selection near the end of what a
column holds reads the next page in a worker (`BoardState` keeps a few pages around the
selection). After that only events past the screen's cursor are read (`Deck.changes_since`),
in a single-flight worker with the counts (one grouped count) and the windows' places in
their columns, and the tasks they touched are applied to the cards inside one batch update,
keeping the selection on its task. The charts read aggregates (the flow rollup, grouped
sums), never the board's history.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer

from agentdeck.core import Deck
from agentdeck.core.models import (
    COLUMNS,
    Agent,
    Board,
    BurnDown,
    CostSeries,
    Credential,
    Edited,
    Task,
)
from agentdeck.core.paging import ColumnFilter, ColumnPage
from agentdeck.tui.console.board_state import PAGE, BoardFilter, BoardState
from agentdeck.tui.console.screens.edit_task import edited_line, open_edit_form
from agentdeck.tui.console.screens.forms import FilterDialog, NewTask, NewTaskDialog
from agentdeck.tui.console.screens.task_actions import TASK_BINDINGS, TaskActions
from agentdeck.tui.console.single_flight import SingleFlight
from agentdeck.tui.console.widgets.budget_gauges import BudgetGauges, BudgetView
from agentdeck.tui.console.widgets.burndown import BurnDownChart, BurnDownPanel
from agentdeck.tui.console.widgets.column import TaskColumn
from agentdeck.tui.console.widgets.cost_chart import CostChart, CostPanel
from agentdeck.tui.console.widgets.footer import KeyFooter
from agentdeck.tui.console.widgets.header import BoardHeader
from agentdeck.tui.console.widgets.roster import AgentRoster
from agentdeck.tui.console.widgets.task_card import TaskCard

# Past this many events behind, a full reload is cheaper than replaying the changes.
MAX_INCREMENTAL_EVENTS = 20_000
PANELS_INTERVAL_S = 2.0
CHARTS_GRID_BELOW = 120  # columns: narrower, the charts take the board's place, two by two
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


class BoardScreen(TaskActions):
    """The kanban board of one board key."""

    BINDINGS = [
        Binding("left,h", "move(-1, 0)", "Left", show=False),
        Binding("right,l", "move(1, 0)", "Right", show=False),
        Binding("up,k", "move(0, -1)", "Up", show=False),
        Binding("down,j", "move(0, 1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("enter", "open_task", "Open", tooltip="Open the task: details and live log"),
        *TASK_BINDINGS,
        Binding("n", "new_task", "New", tooltip="Create a task on this board"),
        Binding(
            "E", "edit_task", "Edit", tooltip="Edit the task's fields, labels and dependencies"
        ),
        Binding(
            "slash",
            "filter_board",
            "Filter",
            key_display="/",
            tooltip="Show only tasks matching text, label:NAME or #NAME, agent, skill",
        ),
        Binding("escape", "clear_filter", "Clear filter", tooltip="Show every task again"),
        Binding(
            "i", "needs_human", "Needs human", tooltip="Reviews and escalations waiting on you"
        ),
        Binding(
            "s",
            "search_knowledge",
            "Search",
            tooltip="Search the knowledge library of finished tasks",
        ),
        Binding("b", "toggle_charts", "Charts", tooltip="Burn-down, budgets and the agent roster"),
        Binding("g", "show_report", "Report", tooltip="The markdown progress report"),
        Binding("B", "switch_board", "Boards", tooltip="Show another board", show=False),
    ]

    charts = reactive(False)
    column_index = reactive(1, init=False)

    @dataclass
    class Loaded(Message):
        """A full snapshot of the board (first load, board switch, or a big backlog)."""

        snapshot: BoardSnapshot

    @dataclass
    class Refreshed(Message):
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

    @dataclass
    class PageLoaded(Message):
        """A page of one column read past (`below`) or before the window's edge task
        `anchor`, or by position (anchor None) to load the window anew."""

        page: ColumnPage
        anchor: str | None
        below: bool
        filter: BoardFilter

    @dataclass
    class PanelsLoaded(Message):
        """Data for the charts panel: burn-down, cost over time, budgets, usage of the board
        and one agent."""

        burndown: BurnDown
        budgets: BudgetView
        cost: CostSeries

    page_size = PAGE  # tasks a column reads at a time (tests make it small)

    def __init__(self) -> None:
        super().__init__(classes="board-screen")
        self.state = BoardState(self.page_size)
        self._fetching: set[str] = set()  # columns with a page read under way
        self.cursor = -1
        self.now: datetime | None = None
        self.refreshing = SingleFlight()
        self._panels_again = False
        self._panels_timer: Timer | None = None
        self._panels_loaded_at = 0.0
        self._agents: tuple[Agent, ...] = ()
        self.refresh_ui_seconds = 0.0  # UI-thread time of the last applied refresh (benchmarks)
        self.refresh_ui_total = 0.0  # ... and of every refresh applied so far
        self._columns: list[TaskColumn] = []

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield BoardHeader(id="board-header")
        with Horizontal(id="columns"):
            for column in COLUMNS:
                yield TaskColumn(column)
        with Horizontal(id="panels"):
            yield BurnDownPanel(id="burndown-panel", classes="panel")
            yield CostPanel(id="cost-panel", classes="panel")
            with Vertical(id="budget-panel", classes="panel"):
                yield BudgetGauges(id="budgets")
            with Vertical(id="roster-panel", classes="panel"):
                yield AgentRoster(id="roster")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#burndown-panel").border_title = "Burn-down"
        self.query_one("#cost-panel").border_title = "Cost"
        self.query_one("#budget-panel").border_title = "Budgets"
        self.query_one("#roster-panel").border_title = "Agents"
        self.header.live = "loading"
        self.watch(self.app, "db_problem", self._database_problem)
        self.load_board(self.deck, self.board_key)

    def on_resize(self) -> None:
        self.set_class(self.size.width < CHARTS_GRID_BELOW, "-charts-grid")

    def _roster_title(self, board: Board) -> None:
        """Say on the roster how its agents prove who they are (`board.agents`)."""
        self.query_one("#roster-panel").border_title = f"Agents · {board.agents} mode"

    def _database_problem(self, problem: str | None) -> None:
        self.header.problem = problem

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
        cursor = deck.max_event_id()  # read first: anything later is replayed on top
        sql = board_filter.sql()
        pages = {c: deck.column_page(board, c, filter=sql, limit=page) for c in COLUMNS}
        totals = deck.column_counts(board) if sql.active else {c: p.count for c, p in pages.items()}
        snapshot = BoardSnapshot(
            board=deck.get_board(board),
            pages=pages,
            totals=totals,
            filter=board_filter,
            agents=tuple(deck.list_agents(board)),
            cursor=cursor,
            now=deck.now(),
            me=deck.whoami(board),
        )
        self.post_message(self.Loaded(snapshot))

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
        if self.charts:
            self.load_panels_now()
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
                self.load_board(deck, board)
                return
        agents = tuple(deck.list_agents(board)) if kinds & _AGENT_EVENTS else None
        shown = (deck.get_board(board), deck.whoami(board)) if kinds & _BOARD_EVENTS else None
        sql = board_filter.sql()
        matching = frozenset(deck.matching(board, list(touched), sql)) if sql.active else None
        counts = totals = ranks = None
        if touched:
            counts = deck.column_counts(board, filter=sql)
            totals = deck.column_counts(board) if sql.active else counts
            ranks = {c: (t, deck.column_rank(board, c, t, filter=sql)) for c, t in anchors.items()}
        self.post_message(
            self.Refreshed(
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
        )

    @on(Refreshed)
    def _refreshed(self, message: Refreshed) -> None:
        if message.cursor <= self.cursor:
            return
        self.cursor = message.cursor
        self.now = message.now
        started = time.perf_counter()
        with self.app.batch_update():
            if message.filter == self.state.filter:
                matching = None if message.matching is None else set(message.matching)
                touched = self.state.apply(message.tasks, matching)
                if message.counts is not None and message.totals is not None:
                    self.state.set_counts(message.counts, message.totals, message.ranks)
                    touched = set(COLUMNS)  # counts may have changed anywhere
            else:  # read under an older filter: judge here; the new filter's load follows
                touched = self.state.apply(message.tasks)
            self._show_columns(touched)
            if message.agents is not None:
                self._agents = message.agents
                self.query_one(AgentRoster).show(message.agents, message.now)
            if message.board is not None:
                self.header.board, self.header.me = message.board
                self._roster_title(message.board[0])
        self._fetch_near_selection()
        self.update_keys()
        self._pulse()
        # What this handler cost the UI thread (Textual lays out and paints after it).
        self.refresh_ui_seconds = time.perf_counter() - started
        self.refresh_ui_total += self.refresh_ui_seconds
        if self.charts:
            self._panels_soon()

    def worker_ended(self, worker: Any) -> None:
        if worker.group == "board-refresh":
            if self.refreshing.finish():
                self.refresh_data()
        elif worker.group == "panels" and self._panels_again:
            self._panels_again = False
            self.load_panels_now()

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

    # -- the charts panel --------------------------------------------------------------------

    def _panels_soon(self) -> None:
        """Reload the charts after live changes at most every PANELS_INTERVAL_S: the burn-down
        replays the board's history, which is not worth doing ten times a second."""
        if self._panels_timer is not None:
            return
        wait = self._panels_loaded_at + PANELS_INTERVAL_S - time.monotonic()
        if wait <= 0:
            # Now, not with a zero-second timer: Textual's timer divides by its interval.
            self.load_panels_now()
            return
        self._panels_timer = self.set_timer(wait, self._panels_due)

    def _panels_due(self) -> None:
        self._panels_timer = None
        if self.charts:
            self.load_panels_now()

    def load_panels_now(self) -> None:
        if any(w.group == "panels" and w.is_running for w in self.workers):
            self._panels_again = True
            return
        self._panels_loaded_at = time.monotonic()
        task = self.selected_task()
        self.load_panels(self.deck, self.board_key, task.assignee if task else None)

    @work(thread=True, group="panels", exit_on_error=False)
    def load_panels(self, deck: Deck, board: str, agent: str | None) -> None:
        budgets = deck.budget_status(board)
        sources = deck.usage_by_source(board)
        view = BudgetView(
            board_budgets=tuple(b for b in budgets if b.scope == "board"),
            board_usage=deck.usage_totals(board),
            agent=agent,
            agent_budgets=tuple(b for b in budgets if b.scope == "agent" and b.subject == agent),
            agent_usage=deck.usage_totals(board, agent=agent) if agent else None,
            measured=sources.get("measured"),
            reported=sources.get("reported"),
            refused=sum(deck.refusals().values()),
        )
        self.post_message(self.PanelsLoaded(deck.burndown(board), view, deck.cost_over_time(board)))

    @on(PanelsLoaded)
    def _panels_loaded(self, message: PanelsLoaded) -> None:
        self.query_one(BurnDownChart).burndown = message.burndown
        self.query_one(BudgetGauges).view = message.budgets
        self.query_one(CostChart).series = message.cost

    def watch_charts(self, charts: bool) -> None:
        self.set_class(charts, "-charts")
        if charts and self.cursor >= 0:
            self.load_panels_now()
        for column in self.columns:
            column.call_after_refresh(column.refresh_window)

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

    def watch_column_index(self, old: int, new: int) -> None:
        columns = self.columns
        columns[old].set_active(False)
        columns[new].set_active(True)
        self._selection_moved()

    def _selection_moved(self) -> None:
        self.update_keys()
        if self.charts:
            self.load_panels_now()

    # -- moving ------------------------------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        if dx:
            self.column_index = max(0, min(len(COLUMNS) - 1, self.column_index + dx))
        if dy:
            column = self.active_column
            column.select_index(column.selected_index + dy)
            self._selection_moved()
        self._fetch_near_selection()

    def action_page(self, direction: int) -> None:
        column = self.active_column
        column.select_index(column.selected_index + direction * column.capacity)
        self._selection_moved()
        self._fetch_near_selection()

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
        sql: ColumnFilter = board_filter.sql()
        limit = self.state.page
        if anchor is None:
            page = deck.column_page(board, column, filter=sql, offset=offset, limit=limit)
        elif below:
            page = deck.column_page(board, column, filter=sql, after=anchor, limit=limit)
        else:
            page = deck.column_page(board, column, filter=sql, before=anchor, limit=limit)
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

    @on(TaskCard.Selected)
    def _card_clicked(self, message: TaskCard.Selected) -> None:
        for index, column in enumerate(self.columns):
            if message.key in column.keys:
                column.selected_key = message.key
                if index == self.column_index:
                    column.set_active(True)
                else:
                    self.column_index = index
                self._selection_moved()
                break
        if message.open_it:
            self.action_open_task()

    # -- actions -----------------------------------------------------------------------------

    def binding_state(self) -> tuple[object, ...]:
        return (*super().binding_state(), self.state.filter.active)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_task", "edit_task"):
            return self.selected_task() is not None
        if action == "clear_filter":
            return self.state.filter.active
        return super().check_action(action, parameters)

    def action_open_task(self) -> None:
        from agentdeck.tui.console.screens.task_detail import TaskDetailScreen

        if task := self.selected_task():
            self.app.push_screen(TaskDetailScreen(task.key))

    def action_edit_task(self) -> None:
        if task := self.selected_task():
            open_edit_form(self, task.key, self._edited)

    def _edited(self, edited: Edited) -> None:
        self.notify(edited_line(edited), markup=False)
        self.task_changed(edited.task)
        self.update_keys()

    def action_new_task(self) -> None:
        def create(spec: NewTask | None) -> None:
            if spec is not None:
                self.create_task(self.deck, self.board_key, spec)

        self.app.push_screen(NewTaskDialog(classes="dialog-screen"), create)

    @work(thread=True, group="verb", exit_on_error=False)
    def create_task(self, deck: Deck, board: str, spec: NewTask) -> None:
        human = self.deck_app.ensure_human(deck)
        task = deck.add_task(
            spec.title,
            actor=human,
            board=board,
            description=spec.description,
            criteria=spec.criteria,
            priority=spec.priority,
            skills=spec.skills,
            blocked_by=spec.blocked_by,
        )
        self.post_message(self.VerbDone(f"{task.key} created", task))

    def action_filter_board(self) -> None:
        agents = sorted(
            {a.name for a in self._agents if a.kind == "agent"} | set(self.state.agents())
        )

        def chosen(board_filter: BoardFilter | None) -> None:
            if board_filter is not None:
                self.set_filter(board_filter)

        self.app.push_screen(FilterDialog(self.state.filter, agents, self.state.skills()), chosen)

    def set_filter(self, board_filter: BoardFilter) -> None:
        """Show the board under a new filter: counts and first pages read anew, in SQL."""
        self.state.set_filter(board_filter)
        self.header.filter_text = board_filter.describe()
        self.load_board(self.deck, self.board_key)
        self.update_keys()

    def action_clear_filter(self) -> None:
        self.set_filter(BoardFilter())

    def action_toggle_charts(self) -> None:
        self.charts = not self.charts

    def action_needs_human(self) -> None:
        from agentdeck.tui.console.screens.needs_human import NeedsHumanScreen

        self.app.push_screen(NeedsHumanScreen())

    def action_search_knowledge(self) -> None:
        from agentdeck.tui.console.screens.search import SearchScreen

        self.app.push_screen(SearchScreen())

    def action_show_report(self) -> None:
        from agentdeck.tui.console.screens.report import ReportScreen

        self.app.push_screen(ReportScreen())

    def action_switch_board(self) -> None:
        from agentdeck.tui.console.screens.pickers import BoardPicker

        def chosen(key: str | None) -> None:
            if key is not None and key != self.board_key:
                self.deck_app.switch_board(key)

        self.app.push_screen(BoardPicker(self.board_key), chosen)
