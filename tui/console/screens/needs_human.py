"""The needs-human queue: work in review and escalations, oldest first, with the result or
the agent's question and the recent log of the highlighted task."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from agentdeck.core import Deck
from agentdeck.core.models import Event, Task
from agentdeck.tui.console.agent_text import line, safe, styled
from agentdeck.tui.console.feedback import APPLIES, already, moved_on
from agentdeck.tui.console.screens.task_actions import TASK_BINDINGS, TaskActions
from agentdeck.tui.console.screens.task_detail import title_line
from agentdeck.tui.console.widgets.footer import KeyFooter
from agentdeck.tui.console.widgets.log_view import actor_column, format_event
from agentdeck.tui.console.widgets.roster import ago

RECENT = 14
QUEUE_COLUMNS = (
    ("key", "Task"),
    ("kind", "Waiting for"),
    ("since", "Since"),
    ("agent", "Agent"),
    ("title", "Title"),
)


# The title column's width when the table has not been laid out yet.
TITLE_WIDTH = 44


def queue_cells(task: Task, now: datetime, title_width: int = TITLE_WIDTH) -> dict[str, Text]:
    """One row of the queue; the title cut with an ellipsis to `title_width` cells."""
    kind = (
        Text("? answer", style="bold magenta")
        if task.status == "escalated"
        else Text("⚑ review", style="bold cyan")
    )
    return {
        "key": Text(task.key, style="bold"),
        "kind": kind,
        "since": Text(ago(task.updated_at, now), style="dim"),
        "agent": line(task.assignee or "—", limit=16),
        "title": fitted(line(task.title), title_width),
    }


def fitted(text: Text, width: int) -> Text:
    """`text` cut to `width` cells with an ellipsis, never wrapped."""
    text = text.copy()
    text.no_wrap = True
    text.truncate(max(1, width), overflow="ellipsis")
    return text


def preview_text(task: Task, events: list[Event]) -> Group:
    """The highlighted task: its result or question, criteria, and its recent log, one row
    per entry cut at the pane's width (they never wrap)."""
    out = title_line(task)
    out.append("\n\n")
    if task.status == "escalated":
        out.append("The agent asks\n", style="bold underline")
        out.append_text(safe(task.escalation_reason or "(no reason given)", "magenta"))
    else:
        out.append("Result\n", style="bold underline")
        out.append_text(safe(task.result or "(no summary given)"))
        out.append("\n")
        verified = (
            ("✓ verified", "green")
            if task.verified
            else ("⚠ unverified: no verification evidence", "dark_orange")
        )
        out.append(verified[0], style=verified[1])
        if task.verification:
            out.append_text(line(f"  {task.verification}", "dim", limit=120))
    out.append("\n\nSuccess criteria\n", style="bold underline")
    out.append_text(safe(task.criteria or "—"))
    out.append("\n\nRecent log", style="bold underline")
    actor_width = actor_column(events)
    rows: list[Text] = []
    for event in events:
        row = format_event(event, actor_width)
        row.no_wrap = True
        row.overflow = "ellipsis"
        rows.append(row)
    if not events:
        rows.append(Text("nothing logged", style="dim"))
    return Group(out, *rows)


class QueueTable(DataTable[Text]):
    """The queue's table; it tells the screen when its width changes (titles are cut to
    fit), which a breakpoint's new layout does without resizing the screen."""

    class Resized(Message):
        """The table's size changed."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())


class NeedsHumanScreen(TaskActions):
    """Reviews and escalations waiting on a human, oldest first: the list beside the
    preview, or above it on a terminal narrower than 110 columns."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the board"),
        Binding(
            "enter",
            "open_task",
            "Open",
            tooltip="Open the task: details and live log",
            priority=True,
        ),
        *TASK_BINDINGS,
    ]

    @dataclass
    class QueueLoaded(Message):
        """Every task in review or escalated, and what became of the shown ones that left."""

        tasks: list[Task]
        now: datetime
        vanished: dict[str, str] = field(default_factory=dict)

    @dataclass
    class PreviewLoaded(Message):
        """The recent log of one task in the queue."""

        key: str
        events: list[Event]

    def __init__(self) -> None:
        super().__init__(classes="queue-screen")
        self.tasks: dict[str, Task] = {}  # waiting now, by key
        # Every row shown, as last seen: the waiting tasks and the one that left under the
        # cursor, which stays (marked) until the cursor moves, so it never jumps silently.
        self.rows: dict[str, Task] = {}
        self.gone: dict[str, str] = {}  # rows whose task left: what became of it
        self.mine: set[str] = set()  # tasks this screen moved: they leave without a mark
        self.now: datetime | None = None
        self.preview_events: dict[str, list[Event]] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(" Needs human ", style="bold reverse"), id="queue-title")
        with Horizontal(id="queue-body"):
            yield QueueTable(id="queue", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="queue-preview"):
                yield Static(id="preview")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#queue", DataTable)
        for key, label in QUEUE_COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.query_one("#queue-preview").border_title = "Selected"
        self.refresh_data()

    def refresh_data(self) -> None:
        self.load_queue(self.deck, self.board_key, tuple(self.tasks))

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def load_queue(self, deck: Deck, board: str, shown: tuple[str, ...] = ()) -> None:
        tasks = deck.list_tasks(board, status=("review", "escalated"))
        tasks.sort(key=lambda t: (t.updated_at, t.key))
        waiting = {t.key for t in tasks}
        vanished = {key: moved_on(deck, key) for key in shown if key not in waiting}
        if not get_current_worker().is_cancelled:
            self.post_message(self.QueueLoaded(tasks, deck.now(), vanished))

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (waiting or gone), if any."""
        table = self.query_one("#queue", DataTable)
        if table.row_count == 0 or table.cursor_row < 0:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return value if value in self.rows else None

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        table = self.query_one("#queue", DataTable)
        self.now = message.now
        at = self.cursor_key()
        wanted = {t.key: t for t in message.tasks}
        width = self._title_width()
        with self.app.batch_update():
            for key in [k for k in self.rows if k not in wanted]:
                if key == at and key not in self.mine:
                    if key not in self.gone:
                        self._mark_gone(key, message.vanished.get(key, "no longer waiting"))
                else:
                    self._drop_row(key)
            for task in message.tasks:
                cells = queue_cells(task, message.now, width)
                if task.key not in self.rows:
                    table.add_row(*(cells[k] for k, _ in QUEUE_COLUMNS), key=task.key)
                else:
                    self.gone.pop(task.key, None)  # back in the queue (sent back, answered…)
                    for column, value in cells.items():
                        if table.get_cell(task.key, column) != value:
                            table.update_cell(task.key, column, value, update_width=True)
                self.rows[task.key] = task
            self._sort_rows(at)
        self.tasks = wanted
        self.mine &= set(wanted)
        count = len(wanted)
        title = styled(" Needs human ", "bold reverse")
        title.append(f"  {count} waiting" if count else "  nothing is waiting on you", style="bold")
        title.append("  oldest first", style="dim")
        self.query_one("#queue-title", Static).update(title)
        self._load_preview()
        self.update_keys()

    def _title_width(self) -> int:
        """Cells left for the title column: the table's width less the other columns."""
        table = self.query_one("#queue", DataTable)
        if not table.size.width:
            return TITLE_WIDTH
        others = sum(
            column.get_render_width(table)
            for key, column in table.columns.items()
            if key.value != "title"
        )
        padding = 2 * table.cell_padding
        return max(8, table.scrollable_content_region.width - others - padding)

    @on(QueueTable.Resized)
    def _table_resized(self) -> None:
        self.call_after_refresh(self._fit_titles)

    def _fit_titles(self) -> None:
        """Cut the titles again for the table's new width."""
        if self.now is None:
            return
        table = self.query_one("#queue", DataTable)
        width = self._title_width()
        for key, task in self.tasks.items():
            title = queue_cells(task, self.now, width)["title"]
            if key not in self.gone and table.get_cell(key, "title") != title:
                table.update_cell(key, "title", title, update_width=True)

    def _mark_gone(self, key: str, what: str) -> None:
        """Keep the row the cursor is on, struck through, saying what became of its task."""
        table = self.query_one("#queue", DataTable)
        self.gone[key] = what
        table.update_cell(key, "key", Text(key, style="strike dim"))
        table.update_cell(key, "kind", line(f"✓ {what}", "italic yellow"), update_width=True)
        table.update_cell(key, "since", Text(""))
        title = table.get_cell(key, "title")
        if isinstance(title, Text):
            table.update_cell(key, "title", Text(title.plain, style="dim"))

    def _drop_row(self, key: str) -> None:
        self.query_one("#queue", DataTable).remove_row(key)
        self.rows.pop(key, None)
        self.gone.pop(key, None)

    def _sort_rows(self, at: str | None) -> None:
        """Oldest first (a gone row where it was), the cursor kept on the row it was on."""
        table = self.query_one("#queue", DataTable)
        order = {
            key: i
            for i, key in enumerate(sorted(self.rows, key=lambda k: (self.rows[k].updated_at, k)))
        }
        table.sort("key", key=lambda cell: order.get(cell.plain, 0))
        if at is not None and at in self.rows:
            table.move_cursor(row=table.get_row_index(at), animate=False)

    def selected_task(self) -> Task | None:
        """The waiting task under the cursor (None on a row whose task has left)."""
        key = self.cursor_key()
        return self.tasks.get(key) if key else None

    def refusal(self, action: str) -> str | None:
        key = self.cursor_key()
        if key in self.gone and action in APPLIES:
            return already(key, self.gone[key])
        return super().refusal(action)

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self) -> None:
        at = self.cursor_key()
        left = [k for k in self.gone if k != at]
        if left:  # the cursor moved off a task that left: now its row goes
            with self.app.batch_update():
                for key in left:
                    self._drop_row(key)
                self._sort_rows(at)
        self._load_preview()
        self.update_keys()

    def _load_preview(self) -> None:
        task = self.selected_task()
        preview = self.query_one("#preview", Static)
        key = self.cursor_key()
        if key in self.gone:
            note = styled(already(key, self.gone[key]), "bold yellow")
            note.append("\n\nIt no longer waits on you; move the cursor to go on.", style="dim")
            preview.update(note)
            return
        if task is None:
            preview.update(
                Text(
                    "Nothing waits on a human. Agents' reviews and questions land here.",
                    style="dim",
                )
            )
            return
        events = self.preview_events.get(task.key, [])
        preview.update(preview_text(task, events))
        self.load_preview(self.deck, task.key)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def load_preview(self, deck: Deck, key: str) -> None:
        # Posted even when a newer load replaced this one: it is kept by key, and on a live
        # board a refresh per event would otherwise cancel every load before it lands.
        self.post_message(self.PreviewLoaded(key, deck.task_events(key, limit=RECENT)))

    @on(PreviewLoaded)
    def _preview_loaded(self, message: PreviewLoaded) -> None:
        self.preview_events[message.key] = message.events
        task = self.selected_task()
        if task is not None and task.key == message.key:
            self.query_one("#preview", Static).update(preview_text(task, message.events))

    def task_changed(self, task: Task) -> None:
        self.mine.add(task.key)  # moved here: it may leave the queue without a mark
        self.refresh_data()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_task":
            return self.cursor_key() is not None
        return super().check_action(action, parameters)

    def binding_state(self) -> tuple[object, ...]:
        return (*super().binding_state(), self.cursor_key())

    def action_open_task(self) -> None:
        from agentdeck.tui.console.screens.task_detail import TaskDetailScreen

        if key := self.cursor_key():
            self.app.push_screen(TaskDetailScreen(key))
