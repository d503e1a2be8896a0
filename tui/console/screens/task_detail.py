"""One task in full: description, criteria, dependencies both ways, history, notes,
checkpoints, usage, and its log streaming live.

The log loads its newest page first, pages back as the human scrolls up, and follows new
events as agents append them; a kind filter narrows it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from agentdeck.core import Deck
from agentdeck.core.lifecycle import status_words
from agentdeck.core.models import Edited, Event, Task, TaskDetail, UsageTotals
from agentdeck.core.models import Message as Sent
from agentdeck.core.words import plural
from agentdeck.tui.console.agent_text import line, safe, styled
from agentdeck.tui.console.screens.dialogs import EventDialog
from agentdeck.tui.console.screens.edit_task import (
    SendDialog,
    edited_line,
    open_edit_form,
    sent_line,
)
from agentdeck.tui.console.screens.task_actions import TASK_BINDINGS, TaskActions, subject
from agentdeck.tui.console.single_flight import SingleFlight
from agentdeck.tui.console.widgets.budget_gauges import amount
from agentdeck.tui.console.widgets.footer import KeyFooter
from agentdeck.tui.console.widgets.log_view import LogView, actor_text
from agentdeck.tui.console.widgets.roster import ago
from agentdeck.tui.console.widgets.task_card import PRIORITY_STYLES, badges, money

PAGE = 500
CATCH_UP_PAGES = 10
KIND_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("all", ()),
    ("actions", ("action",)),
    ("tool calls", ("tool_call",)),
    ("decisions", ("decision",)),
    ("observations", ("observation",)),
    ("verification", ("verification",)),
    (
        "lifecycle",
        ("created", "claimed", "status", "approval", "reopened", "assigned", "lease_expired"),
    ),
    ("notes", ("note", "message", "approval", "reopened")),
    ("usage", ("usage", "budget")),
)
STATUS_STYLES = {
    "pending": ("○ pending", "blue"),
    "in_progress": ("● in progress", "yellow"),
    "review": ("⚑ review", "magenta"),
    "escalated": ("? escalated", "magenta"),
    "done": ("✓ done", "green"),
    "failed": ("✗ failed", "red"),
    "cancelled": ("⊘ cancelled", "grey50"),
}


def matches(event: Event, kinds: tuple[str, ...]) -> bool:
    """The same rule as `Deck.task_events(kinds=...)`: kind or subkind is one of them."""
    return not kinds or event.kind in kinds or event.subkind in kinds


def _when(at: datetime | None) -> str:
    return f"{at:%d %b %H:%M}" if at else "—"


def title_line(task: Task) -> Text:
    label, style = STATUS_STYLES.get(task.status, (task.status, ""))
    text = styled(f" {task.key} ", "bold reverse")
    text.append(f" {label} ", style=f"bold {style}")
    text.append(f"P{task.priority} ", style=PRIORITY_STYLES[task.priority])
    for badge, _ in badges(task):
        text.append(f" {badge} ", style="bold black on dark_orange")
        text.append(" ")
    text.append_text(line(task.title, "bold"))
    return text


def info_text(detail: TaskDetail, now: datetime) -> Text:
    """The left pane: every field of the task, agent-written parts shown literally."""
    task = detail.task
    out = Text()

    def heading(label: str) -> None:
        out.append(f"\n{label}\n", style="bold underline")

    def field(label: str, value: Text | str) -> None:
        out.append(f"{label:<11}", style="dim")
        out.append_text(value if isinstance(value, Text) else Text(value))
        out.append("\n")

    field("assignee", line(task.assignee or "—", "bold"))
    if task.active_form:
        field("doing now", line(task.active_form, "italic yellow"))
    if task.type != "task":
        field("type", line(task.type, "bold"))
    if task.labels:
        field("labels", line(" ".join(task.labels), "bold"))
    if task.required_skills:
        field("skills", " ".join(f"#{s}" for s in task.required_skills))
    if task.estimate_hours is not None:
        field("estimate", f"{task.estimate_hours:g} h")
    field("created", f"{_when(task.created_at)}  ({ago(task.created_at, now)} ago)")
    field("started", _when(task.started_at))
    field("finished", _when(task.completed_at))
    if task.lease_expires_at and task.status == "in_progress":
        field(
            "lease",
            f"until {_when(task.lease_expires_at)}" + ("  STALE" if task.lease_stale else ""),
        )
    usage = detail.usage
    field(
        "usage",
        f"{money(usage.cost_usd)} · {amount('tokens', usage.tokens)} tokens"
        f" · CPU {amount('cpu_hours', usage.cpu_seconds / 3600)}"
        f" · GPU {amount('gpu_hours', usage.gpu_seconds / 3600)}",
    )
    if detail.measured is not None:
        seen, told = detail.measured, detail.reported or UsageTotals()
        field(
            "measured",
            f"{money(seen.cost_usd)} · {amount('tokens', seen.tokens)} tokens"
            f" (reported {money(told.cost_usd)} · {amount('tokens', told.tokens)})",
        )
    field("events", f"{detail.event_count:,}")
    if task.requires_approval:
        field("approval", "required")
    if task.escalation_reason:
        heading("Escalated because")
        out.append_text(safe(task.escalation_reason, "magenta"))
        out.append("\n")
    heading("Description")
    out.append_text(safe(task.description or "—"))
    out.append("\n")
    heading("Success criteria")
    out.append_text(safe(task.criteria or "—"))
    out.append("\n")
    if task.result or task.verification:
        heading("Result")
        out.append_text(safe(task.result or "—"))
        out.append("\n")
        verified = (
            Text("verified", style="green")
            if task.verified
            else Text("unverified", style="dark_orange")
        )
        field("evidence", verified + line(f"  {task.verification}" if task.verification else ""))
    heading("Dependencies")
    blocked = Text()
    for key, status in detail.blocked_by_all:
        done = status in ("done", "cancelled")
        blocked.append(f"{key}", style="green" if done else "red")
        blocked.append(f" ({status_words(status)})  ", style="dim")
    field("blocked by", blocked if detail.blocked_by_all else Text("nothing", style="dim"))
    field("blocks", " ".join(detail.blocks) or "nothing")
    if detail.subtasks:
        progress = f"{task.subtasks_done}/{task.subtasks_total} done: "
        field("subtasks", progress + " ".join(detail.subtasks))
    if task.parent:
        field("parent", task.parent)
    if detail.links:  # an imported task's non-blocking relations
        shown = (f"{kind} {key or ref + ' (not on the board)'}" for kind, key, ref in detail.links)
        field("links", line("  ".join(shown), ""))
    if detail.assignee_history:
        heading("Assignee history")
        for agent, by, at in detail.assignee_history:
            row = line(f"{at:%d %b %H:%M}  {agent}", "")
            if by != agent:
                row.append_text(line(f"  (by {by})", "dim"))
            out.append_text(row)
            out.append("\n")
    if detail.notes:
        heading("Notes")
        for note in detail.notes:
            out.append(f"{note.created_at:%d %b %H:%M} ", style="dim")
            out.append_text(actor_text(note, limit=40))
            out.append(" ", style="bold")  # ends the actor's span (see `format_event`)
            out.append(f"{note.subkind or note.kind}\n", style="italic dim")
            out.append_text(safe(note.text))
            out.append("\n")
    if detail.comments:
        more = detail.comments_total - len(detail.comments)
        heading(
            "Comments"
            + (f" (newest {len(detail.comments)} of {detail.comments_total})" if more else "")
        )
        for said in detail.comments:
            out.append(f"{said.created_at:%d %b %H:%M} ", style="dim")
            out.append_text(actor_text(said, limit=40))
            out.append("\n")
            out.append_text(safe(said.text))
            out.append("\n")
    if detail.checkpoints:
        heading("Checkpoints")
        for cp in detail.checkpoints:
            out.append(f"{cp.sha[:10]} ", style="yellow")
            out.append_text(line(cp.message, limit=60))
            out.append(f"  ({plural(len(cp.files), 'file')})\n", style="dim")
    return out


class TaskDetailScreen(TaskActions):
    """Everything about one task, with its live log (beside the fields, or under them on a
    terminal narrower than 110 columns)."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the board"),
        *TASK_BINDINGS,
        Binding(
            "E", "edit_task", "Edit", tooltip="Edit the task's fields, labels and dependencies"
        ),
        Binding(
            "m", "send_message", "Send", tooltip="Message the lead, an agent or a human about it"
        ),
        Binding("f", "toggle_follow", "Follow", tooltip="Keep the newest log entry in view"),
        Binding("t", "cycle_filter", "Kind", tooltip="Show only one kind of log entry"),
        Binding("tab", "focus_next", "Pane", show=False),
    ]

    @dataclass
    class LogLoaded(Message):
        """The newest page of the task's log (sent first: it is what the human watches)."""

        events: list[Event]
        last_id: int

    @dataclass
    class DetailLoaded(Message):
        """The task's fields, dependencies, history, notes, checkpoints and usage."""

        detail: TaskDetail
        now: datetime

    @dataclass
    class Older(Message):
        """An older log page, to go above what is shown."""

        events: list[Event]

    @dataclass
    class Newer(Message):
        """Events appended since the last look, and the task as it is now (None: unchanged
        but for the new log entries)."""

        detail: TaskDetail | None
        events: list[Event]
        last_id: int
        now: datetime

    def __init__(self, key: str) -> None:
        super().__init__(classes="detail-screen")
        self.key = key
        self.detail: TaskDetail | None = None
        self.filter_index = 0
        self.last_id = -1
        self.refreshing = SingleFlight()

    @property
    def kinds(self) -> tuple[str, ...]:
        return KIND_FILTERS[self.filter_index][1]

    def compose(self) -> ComposeResult:
        yield Static(Text(f" {self.key} ", style="bold reverse"), id="detail-title")
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-info"):
                yield Static("loading…", id="detail-fields")
            with Vertical(id="log-pane"):
                yield Static(id="log-bar")
                yield LogView(id="log")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#detail-info").border_title = "Task"
        self.query_one(LogView).focus()
        self.load_detail(self.deck, self.key, self.kinds)

    def selected_task(self) -> Task | None:
        return self.detail.task if self.detail else None

    # -- loading -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail-load", exit_on_error=False)
    def load_detail(self, deck: Deck, key: str, kinds: tuple[str, ...]) -> None:
        events = deck.task_events(key, kinds=kinds or None, limit=PAGE)
        # The follow cursor is the newest event of any kind, whatever the filter shows.
        newest = deck.task_events(key, limit=1) if kinds else events
        self.post_message(self.LogLoaded(events, newest[-1].id if newest else 0))
        self.post_message(self.DetailLoaded(deck.task_detail(key), deck.now()))

    @on(LogLoaded)
    def _log_loaded(self, message: LogLoaded) -> None:
        self.last_id = message.last_id
        log = self.query_one(LogView)
        log.set_events(message.events, more_before=len(message.events) >= PAGE)
        self._update_log_bar()

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        self._show_detail(message.detail, message.now)
        self.update_keys()

    @on(LogView.NeedOlder)
    def _need_older(self, message: LogView.NeedOlder) -> None:
        self.load_older(self.deck, self.key, self.kinds, message.before_id)

    @work(thread=True, exclusive=True, group="detail-older", exit_on_error=False)
    def load_older(self, deck: Deck, key: str, kinds: tuple[str, ...], before_id: int) -> None:
        self.post_message(
            self.Older(deck.task_events(key, kinds=kinds or None, before_id=before_id, limit=PAGE))
        )

    @on(Older)
    def _older(self, message: Older) -> None:
        self.query_one(LogView).prepend(message.events, more_before=len(message.events) >= PAGE)

    def refresh_data(self) -> None:
        """Fetch events appended since the last look (single flight)."""
        if self.last_id >= 0 and self.refreshing.start():
            self.load_newer(self.deck, self.key, self.last_id)

    @work(thread=True, group="detail-refresh", exit_on_error=False)
    def load_newer(self, deck: Deck, key: str, after_id: int) -> None:
        fresh: list[Event] = []
        for _ in range(CATCH_UP_PAGES):  # a bigger backlog continues on the next refresh
            page = deck.task_events(key, after_id=after_id, limit=PAGE)
            fresh.extend(page)
            if len(page) < PAGE:
                break
            after_id = page[-1].id
        if fresh:
            # Log entries change nothing but the count; anything else may change the fields.
            moved = any(e.kind != "log" for e in fresh)
            detail = deck.task_detail(key) if moved else None
            self.post_message(self.Newer(detail, fresh, fresh[-1].id, deck.now()))

    @on(Newer)
    def _newer(self, message: Newer) -> None:
        if message.last_id <= self.last_id:
            return
        self.last_id = message.last_id
        self.query_one(LogView).append([e for e in message.events if matches(e, self.kinds)])
        detail = message.detail
        if detail is None and self.detail is not None:
            detail = replace(self.detail, event_count=self.detail.event_count + len(message.events))
        if detail is not None:
            self._show_detail(detail, message.now)
        self.update_keys()

    def worker_ended(self, worker: Any) -> None:
        if worker.group == "detail-refresh" and self.refreshing.finish():
            self.refresh_data()

    def task_changed(self, task: Task) -> None:
        self.refresh_data()

    # -- showing -----------------------------------------------------------------------------

    def _show_detail(self, detail: TaskDetail, now: datetime) -> None:
        self.detail = detail
        self.query_one("#detail-title", Static).update(title_line(detail.task))
        self.query_one("#detail-fields", Static).update(info_text(detail, now))
        self._update_log_bar()

    def _update_log_bar(self) -> None:
        log = self.query_one(LogView)
        bar = styled(" Log ", "bold reverse")
        count = self.detail.event_count if self.detail else 0
        bar.append(f"  {plural(count, 'event')}", style="bold")
        bar.append(f" · {len(log.events):,} loaded", style="dim")
        bar.append(" · kind: ", style="dim")
        bar.append(KIND_FILTERS[self.filter_index][0], style="bold cyan")
        bar.append(" · ", style="dim")
        bar.append(
            "● following" if log.follow else "○ paused", style="green" if log.follow else "yellow"
        )
        bar.append("  (times UTC)", style="dim")
        self.query_one("#log-bar", Static).update(bar)

    # -- keys --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit_task", "send_message"):
            return self.detail is not None
        return super().check_action(action, parameters)

    def action_edit_task(self) -> None:
        open_edit_form(self, self.key, self._edited)

    def _edited(self, edited: Edited) -> None:
        self.notify(edited_line(edited), markup=False)
        self.refresh_data()

    def action_send_message(self) -> None:
        if self.detail is None:
            return
        task = self.detail.task

        def sent(message: Sent | None) -> None:
            if message is not None:
                self.notify(sent_line(message), markup=False)
                self.refresh_data()

        self.app.push_screen(SendDialog(task.key, subject(task), task.assignee), sent)

    def action_toggle_follow(self) -> None:
        log = self.query_one(LogView)
        log.follow = not log.follow
        self._update_log_bar()

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(KIND_FILTERS)
        self._update_log_bar()
        self.load_detail(self.deck, self.key, self.kinds)

    @on(LogView.EventChosen)
    def _show_event(self, message: LogView.EventChosen) -> None:
        self.app.push_screen(EventDialog(message.event))

    @on(LogView.FollowChanged)
    def _follow_changed(self) -> None:
        self._update_log_bar()
