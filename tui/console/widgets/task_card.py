"""One task on the board: key, priority, type, title, who and what now, blockers, cost,
badges and labels."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text
from textual.app import RenderResult
from textual.content import Content
from textual.events import Click, Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from agentdeck.core.models import Task
from agentdeck.tui.console.agent_text import clean, line

CARD_HEIGHT = 5  # border, two title lines, one context line, border
PLAIN_TYPE = "task"  # the default type, not worth a word on the card
# A border title sits between two corners, a rule cell and a space on each side.
BORDER_TITLE_CHROME = 6
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
    """The card's bottom border: its type (unless a plain task), its warning badges, then its
    labels, shown literally (a
    label is text someone typed: it is never read as markup)."""
    parts: list[Content] = []
    if task.type != PLAIN_TYPE:  # a type is one of models.TASK_TYPES: never agent text
        parts.append(Content.from_markup(f"[$secondary]{task.type}[/]"))
    parts += [Content.from_markup(f"[{var}]{name}[/]") for name, var in badges(task)]
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


def border_title(task: Task, width: int | None) -> tuple[str, bool]:
    """The card's border title for a card `width` cells wide (None: not laid out yet): the key,
    then the priority, then the cost, each only if it fits whole, so the key is never cut.
    The flag says the key itself does not fit on the border (the card shows it inside)."""
    room = None if width is None else width - BORDER_TITLE_CHROME
    colour = PRIORITY_STYLES[max(0, min(task.priority, 4))].replace("bold ", "")
    parts = [
        (task.key, f"[b]{task.key}[/b]"),
        (f"P{task.priority}", f"[{colour}]P{task.priority}[/]"),
    ]
    if task.cost_usd > 0:
        cost = money(task.cost_usd)
        parts.append((cost, f"[$text-muted]{cost}[/]"))
    if room is not None and len(task.key) > room:
        return "", True
    used = 0
    shown: list[str] = []
    for plain, marked in parts:
        needed = len(plain) + (1 if shown else 0)
        if room is not None and used + needed > room:
            break
        used += needed
        shown.append(marked)
    if room is not None and len(shown) == 1:  # no room for the priority: the key wears its colour
        shown[0] = f"[b {colour}]{task.key}[/]"
    return " ".join(shown), False


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
        self.key_inside = False  # the key is too long for the border: the body shows it
        self.set_reactive(TaskCard.snapshot, task)
        self._decorate(task)

    def watch_snapshot(self, task: Task | None) -> None:
        if task is not None:
            self._decorate(task)

    def _decorate(self, task: Task) -> None:
        for p in range(5):
            self.set_class(task.priority == p, f"-p{p}")
        self.set_class(bool(task.lease_stale or task.over_budget), "-alarm")
        self._fit_border_title(task)
        self.border_subtitle = subtitle(task)

    def _fit_border_title(self, task: Task) -> None:
        title, inside = border_title(task, self.outer_size.width or None)
        self.border_title = title or None
        if inside != self.key_inside:
            self.key_inside = inside
            self.refresh()

    def on_resize(self, _event: Resize) -> None:
        if self.snapshot is not None:
            self._fit_border_title(self.snapshot)

    def render(self) -> RenderResult:
        task = self.snapshot
        if task is None:
            return ""
        width = self.content_size.width or 20
        if self.key_inside:  # a card too narrow for its key on the border: key, one title line
            body = Text(no_wrap=True)
            body.append(task.key, style="bold")
            body.append("\n")
            body.append_text(wrap_title(task.title, width, lines=1))
        else:
            body = wrap_title(task.title, width)
        body.append("\n")
        body.append_text(context_line(task))
        body.no_wrap = True
        body.overflow = "ellipsis"
        return body

    def on_click(self, event: Click) -> None:
        if self.snapshot is not None:
            self.post_message(self.Selected(self, self.key, event.chain >= 2))
