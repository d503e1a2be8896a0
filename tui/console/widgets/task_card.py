"""One task on the board: key, priority, type, title, who and what now, blockers, cost,
badges and labels."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text
from textual.app import RenderResult
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from agentdeck.core.models import Task
from agentdeck.tui.console.agent_text import clean, line

CARD_HEIGHT = 5  # border, two title lines, one context line, border
PLAIN_TYPE = "task"  # the default type, not worth a word on the card
PRIORITY_STYLES = ("bold #ff5f5f", "#ff9e64", "#e0af68", "#7dcfff", "#737aa2")


def priority_text(priority: int) -> Text:
    """`P0`..`P4`, coloured by urgency."""
    return Text(f"P{priority}", style=PRIORITY_STYLES[max(0, min(priority, 4))])


def money(usd: float) -> str:
    if usd >= 1000:
        return f"${usd / 1000:.1f}k"
    if usd >= 100:
        return f"${usd:.0f}"
    return f"${usd:.2f}"


def badges(task: Task) -> list[tuple[str, str]]:
    """(label, CSS variable) for each warning badge the task earns."""
    found = []
    if task.lease_stale:
        found.append(("stale", "$warning"))
    if task.over_budget:
        found.append(("over", "$error"))
    if task.status in ("done", "review") and not task.verified:
        found.append(("unverified", "$warning"))
    return found


def subtitle(task: Task) -> Content | None:
    """The card's bottom border: its warning badges, then its labels, shown literally (a
    label is text someone typed: it is never read as markup)."""
    parts: list[Content] = [Content.from_markup(f"[{var}]{name}[/]") for name, var in badges(task)]
    if task.labels:
        parts.append(Content.assemble((" ".join(task.labels), "$accent")))
    return Content(" · ").join(parts) if parts else None


def context_line(task: Task) -> Text:
    """The card's third line: who holds it and what it waits on, by column, and an epic's
    progress (`3/7`)."""
    who = (
        Text(f"@{clean(task.assignee, single_line=True)}", style="bold") if task.assignee else None
    )
    out = Text(no_wrap=True, overflow="ellipsis")
    match task.column:
        case "blocked":
            out.append("⊘ ", style="red")
            waits_on = " ".join(task.blocked_by)
            if task.subtasks_done < task.subtasks_total:  # an epic waits on its subtasks
                waits_on = f"{waits_on} subtasks".strip()
            out.append(waits_on or "waiting", style="red")
        case "in_progress":
            out.append_text(who or Text("unassigned", style="dim"))
            if task.active_form:
                out.append(" · ", style="dim")
                out.append_text(line(task.active_form, "italic"))
        case "needs_human":
            if task.status == "escalated":
                out.append("? ", style="bold magenta")
                out.append_text(line(task.escalation_reason or "escalated", "magenta"))
            else:
                out.append("⚑ review ", style="magenta")
                if who:
                    out.append_text(who)
        case "done":
            out.append("✓ ", style="green")
            out.append_text(who or Text("done", style="dim"))
        case "failed":
            out.append("✗ ", style="red")
            out.append_text(line(task.result or "failed", "red"))
        case _:
            if who:
                out.append_text(who)
            elif task.required_skills:
                out.append(" ".join(f"#{s}" for s in task.required_skills), style="dim")
            else:
                out.append("unassigned", style="dim")
    if task.subtasks_total:  # an epic's progress: subtasks done of those not cancelled
        out.append(f" · {task.subtasks_done}/{task.subtasks_total}", style="bold")
    return out


def wrap_title(title: str, width: int, lines: int = 2) -> Text:
    """The title wrapped to at most `lines` lines of `width`, the last cut with an ellipsis."""
    text = line(title)
    width = max(4, width)
    wrapped = list(text.wrap(Console(width=width, legacy_windows=False), width))
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        last = wrapped[-1]
        last.truncate(width - 1)
        last.rstrip()
        last.append("…")
    result = Text("\n").join(wrapped)
    while len(wrapped) < lines:
        result.append("\n")
        wrapped.append(Text())
    return result


class TaskCard(Widget):
    """A card for one task; it re-renders only when its task snapshot changes."""

    # Not `task`: that name is Textual's own (`MessagePump.task`, the widget's asyncio task).
    snapshot: reactive[Task | None] = reactive(None, layout=False)

    class Selected(Message):
        """The card was clicked (twice: opened)."""

        def __init__(self, card: TaskCard, key: str, open_it: bool) -> None:
            super().__init__()
            self.card = card
            self.key = key
            self.open_it = open_it

    def __init__(self, task: Task) -> None:
        super().__init__(classes="task-card")
        self.key = task.key
        self.set_reactive(TaskCard.snapshot, task)
        self._decorate(task)

    def watch_snapshot(self, task: Task | None) -> None:
        if task is not None:
            self._decorate(task)

    def _decorate(self, task: Task) -> None:
        for p in range(5):
            self.set_class(task.priority == p, f"-p{p}")
        self.set_class(bool(task.lease_stale or task.over_budget), "-alarm")
        colour = PRIORITY_STYLES[max(0, min(task.priority, 4))].replace("bold ", "")
        cost = f" [$text-muted]{money(task.cost_usd)}[/]" if task.cost_usd > 0 else ""
        kind = f" [$secondary]{task.type}[/]" if task.type != PLAIN_TYPE else ""
        self.border_title = f"[b]{task.key}[/b] [{colour}]P{task.priority}[/]{cost}{kind}"
        self.border_subtitle = subtitle(task)

    def render(self) -> RenderResult:
        task = self.snapshot
        if task is None:
            return ""
        width = self.content_size.width or 20
        body = wrap_title(task.title, width)
        body.append("\n")
        body.append_text(context_line(task))
        body.no_wrap = True
        body.overflow = "ellipsis"
        return body

    def on_click(self, event: Click) -> None:
        if self.snapshot is not None:
            self.post_message(self.Selected(self, self.key, event.chain >= 2))
