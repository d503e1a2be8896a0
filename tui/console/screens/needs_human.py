"""The needs-human queue: work in review and escalations, oldest first, with the result or
the agent's question and the recent log of the highlighted task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def queue_cells(task: Task, now: datetime) -> dict[str, Text]:
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
        "title": line(task.title, limit=44),
    }


def preview_text(task: Task, events: list[Event], width: int = 68) -> Text:
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
    out.append("\n\nRecent log\n", style="bold underline")
    actor_width = actor_column(events)
    for event in events:
        row = format_event(event, actor_width)
        row.truncate(width, overflow="ellipsis")
        out.append_text(row)
        out.append("\n")
    if not events:
        out.append("nothing logged", style="dim")
    return out


class NeedsHumanScreen(TaskActions):
    """Reviews and escalations waiting on a human, oldest first."""

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
        """Every task in review or escalated."""

        tasks: list[Task]
        now: datetime

    @dataclass
    class PreviewLoaded(Message):
        """The recent log of one task in the queue."""

        key: str
        events: list[Event]

    def __init__(self) -> None:
        super().__init__(classes="queue-screen")
        self.tasks: dict[str, Task] = {}
        self.now: datetime | None = None
        self.preview_events: dict[str, list[Event]] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(" Needs human ", style="bold reverse"), id="queue-title")
        with Horizontal(id="queue-body"):
            yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
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
        self.load_queue(self.deck, self.board_key)

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def load_queue(self, deck: Deck, board: str) -> None:
        tasks = deck.list_tasks(board, status=("review", "escalated"))
        tasks.sort(key=lambda t: (t.updated_at, t.key))
        if not get_current_worker().is_cancelled:
            self.post_message(self.QueueLoaded(tasks, deck.now()))

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        table = self.query_one("#queue", DataTable)
        self.now = message.now
        wanted = {t.key: t for t in message.tasks}
        with self.app.batch_update():
            for gone in [k for k in self.tasks if k not in wanted]:
                table.remove_row(gone)
            for task in message.tasks:
                cells = queue_cells(task, message.now)
                if task.key not in self.tasks:
                    table.add_row(*(cells[k] for k, _ in QUEUE_COLUMNS), key=task.key)
                else:
                    for column, value in cells.items():
                        if table.get_cell(task.key, column) != value:
                            table.update_cell(task.key, column, value)
            order = {t.key: i for i, t in enumerate(message.tasks)}
            table.sort("key", key=lambda cell: order.get(cell.plain, 0))
        self.tasks = wanted
        count = len(wanted)
        title = styled(" Needs human ", "bold reverse")
        title.append(f"  {count} waiting" if count else "  nothing is waiting on you", style="bold")
        title.append("  oldest first", style="dim")
        self.query_one("#queue-title", Static).update(title)
        self._load_preview()
        self.update_keys()

    def selected_task(self) -> Task | None:
        table = self.query_one("#queue", DataTable)
        if not self.tasks or table.cursor_row < 0 or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.tasks.get(key) if key else None

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self) -> None:
        self._load_preview()
        self.update_keys()

    def _load_preview(self) -> None:
        task = self.selected_task()
        preview = self.query_one("#preview", Static)
        if task is None:
            preview.update(
                Text(
                    "Nothing waits on a human. Agents' reviews and questions land here.",
                    style="dim",
                )
            )
            return
        events = self.preview_events.get(task.key, [])
        preview.update(preview_text(task, events, self._preview_width()))
        self.load_preview(self.deck, task.key)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def load_preview(self, deck: Deck, key: str) -> None:
        events = deck.task_events(key, limit=RECENT)
        if not get_current_worker().is_cancelled:
            self.post_message(self.PreviewLoaded(key, events))

    @on(PreviewLoaded)
    def _preview_loaded(self, message: PreviewLoaded) -> None:
        self.preview_events[message.key] = message.events
        task = self.selected_task()
        if task is not None and task.key == message.key:
            self.query_one("#preview", Static).update(
                preview_text(task, message.events, self._preview_width())
            )

    def _preview_width(self) -> int:
        """How wide the preview's log rows may be: as wide as the pane shows (they are cut,
        never wrapped), 68 before the first layout."""
        return self.query_one("#preview", Static).content_size.width or 68

    def task_changed(self, task: Task) -> None:
        self.refresh_data()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_task":
            return self.selected_task() is not None
        return super().check_action(action, parameters)

    def action_open_task(self) -> None:
        from agentdeck.tui.console.screens.task_detail import TaskDetailScreen

        if task := self.selected_task():
            self.app.push_screen(TaskDetailScreen(task.key))
