"""The board: six kanban columns, a header, and the charts panel, kept live by diffs.

The board screen is the layout and the keys: it composes the widgets, moves the selection,
and opens the dialogs and screens its keys lead to. `LiveBoard` (`board_live`, reading through
`board_reads`) keeps the columns up with the deck; `board_charts` reads the charts panel's
data and paces its reloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive

from agentdeck.core import Deck
from agentdeck.core.models import COLUMNS, Edited
from agentdeck.tui.console.board_state import BoardFilter
from agentdeck.tui.console.screens.board_charts import ChartsData, ChartsReload, read_charts
from agentdeck.tui.console.screens.board_live import LiveBoard
from agentdeck.tui.console.screens.edit_task import edited_line, open_edit_form
from agentdeck.tui.console.screens.forms import FilterDialog, NewTask, NewTaskDialog
from agentdeck.tui.console.screens.task_actions import TASK_BINDINGS
from agentdeck.tui.console.widgets.budget_gauges import BudgetGauges
from agentdeck.tui.console.widgets.burndown import BurnDownChart, BurnDownPanel
from agentdeck.tui.console.widgets.column import TaskColumn
from agentdeck.tui.console.widgets.cost_chart import CostChart, CostPanel
from agentdeck.tui.console.widgets.footer import KeyFooter
from agentdeck.tui.console.widgets.header import BoardHeader
from agentdeck.tui.console.widgets.roster import AgentRoster
from agentdeck.tui.console.widgets.task_card import TaskCard

CHARTS_GRID_BELOW = 120  # columns: narrower, the charts take the board's place, two by two


class BoardScreen(LiveBoard):
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

    @dataclass
    class PanelsLoaded(Message):
        """Data for the charts panel (`board_charts.read_charts`)."""

        charts: ChartsData

    def __init__(self) -> None:
        super().__init__(classes="board-screen")
        self.charts_reload = ChartsReload(self)

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

    def _database_problem(self, problem: str | None) -> None:
        self.header.problem = problem

    def worker_ended(self, worker: Any) -> None:
        super().worker_ended(worker)
        self.charts_reload.worker_ended(worker)

    def board_shown(self) -> None:
        if self.charts:
            self.charts_reload.now()

    def changes_shown(self) -> None:
        if self.charts:
            self.charts_reload.soon()

    # -- the charts panel --------------------------------------------------------------------

    @work(thread=True, group="panels", exit_on_error=False)
    def load_panels(self, deck: Deck, board: str, agent: str | None) -> None:
        self.post_message(self.PanelsLoaded(read_charts(deck, board, agent)))

    @on(PanelsLoaded)
    def _panels_loaded(self, message: PanelsLoaded) -> None:
        self.query_one(BurnDownChart).burndown = message.charts.burndown
        self.query_one(BudgetGauges).view = message.charts.budgets
        self.query_one(CostChart).series = message.charts.cost

    def watch_charts(self, charts: bool) -> None:
        self.set_class(charts, "-charts")
        if charts and self.cursor >= 0:
            self.charts_reload.now()
        for column in self.columns:
            column.call_after_refresh(column.refresh_window)

    # -- the selection -----------------------------------------------------------------------

    def watch_column_index(self, old: int, new: int) -> None:
        columns = self.columns
        columns[old].set_active(False)
        columns[new].set_active(True)
        self._selection_moved()

    def _selection_moved(self) -> None:
        self.update_keys()
        if self.charts:
            self.charts_reload.now()

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
