"""Rich views of agentdeck's read models for the CLI: tables, a task sheet, event lines.

Imported only when a command prints for people. Every agent-written string goes through
`safe` into a `Text` (never a markup string), so it is shown exactly as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from agentdeck.core.lifecycle import status_words
from agentdeck.core.models import COLUMN_TITLES, UsageTotals
from agentdeck.tui.cli.output import amount, plural, relevance, safe, show

if TYPE_CHECKING:
    from agentdeck.core.models import (
        Agent,
        Board,
        BudgetStatus,
        BurnDown,
        Claim,
        Event,
        Message,
        SearchHit,
        Task,
        TaskDetail,
        UsageTotals,
    )

STATUS_STYLES = {
    "blocked": "dim",
    "ready": "cyan",
    "in_progress": "yellow",
    "needs_human": "magenta",
    "done": "green",
    "failed": "red",
    "cancelled": "dim strike",
}
LEVEL_STYLES = {"ok": "green", "warn": "yellow", "over": "bold red"}


def cell(value: object, style: str = "") -> Text:
    """A table cell holding untrusted text, shown literally on one line."""
    return Text(safe("" if value is None else str(value), one_line=True), style=style)


def when(at: datetime | None) -> str:
    """A timestamp to the minute, or nothing."""
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else ""


def _table(*columns: str) -> Table:
    """A borderless table whose cells wrap rather than cut."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def tasks(items: Sequence[Task], *, empty: str = "no tasks") -> None:
    """Tasks as a table: key, priority, column (in words: `needs human`), assignee, title
    (with an epic's progress, `[3/7]`, and what is being done)."""
    if not items:
        show(Text(empty, style="dim"))
        return
    table = _table("key", "P", "column", "assignee", "title")
    for t in items:
        title = cell(t.title)
        if t.subtasks_total:
            title.append(f"  [{t.subtasks_done}/{t.subtasks_total}]", style="dim")
        if t.active_form:
            title.append(f"  ({safe(t.active_form, one_line=True)})", style="italic dim")
        table.add_row(
            cell(t.key, "bold"),
            cell(t.priority),
            cell(COLUMN_TITLES.get(t.column, t.column).lower(), STATUS_STYLES.get(t.column, "")),
            cell(t.assignee or "-"),
            title,
        )
    show(table)


def task_sheet(detail: TaskDetail, log: Sequence[Event]) -> None:
    """One task in full: fields, dependencies, an epic's progress, notes, the newest comments,
    checkpoints, usage and the log tail."""
    t = detail.task
    head = Text()
    head.append(f"{t.key}  ", style="bold")
    head.append(safe(t.title, one_line=True))
    fields = _table("field", "value")
    fields.show_header = False
    rows: list[tuple[str, str]] = [
        ("status", status_line(t)),
        ("type", t.type),
        ("labels", ", ".join(t.labels)),
        ("priority", f"P{t.priority}"),
        ("assignee", t.assignee or "-"),
        ("doing", t.active_form),
        ("skills", ", ".join(t.required_skills)),
        ("parent", t.parent or ""),
        ("blocked by", ", ".join(f"{k} ({status_words(s)})" for k, s in detail.blocked_by_all)),
        ("blocks", ", ".join(detail.blocks)),
        ("subtasks", _subtasks_line(detail)),
        ("links", _links_line(detail)),
        ("approval", "required" if t.requires_approval else ""),
        ("estimate", f"{t.estimate_hours:g} h" if t.estimate_hours is not None else ""),
        ("escalated", t.escalation_reason),
        ("version", str(t.version)),
        ("created", when(t.created_at)),
        ("started", when(t.started_at)),
        ("completed", when(t.completed_at)),
        ("usage", usage_line(detail.usage)),
        ("measured", measured_line(detail)),
    ]
    for name, value in rows:
        if value:
            fields.add_row(Text(name, style="dim"), cell(value))
    show(head, fields)
    for label, body in (
        ("Description", t.description),
        ("Success criteria", t.criteria),
        ("Result", t.result),
        ("Verification", t.verification),
    ):
        if body:
            show(Text(label, style="bold underline"), Text(safe(body)))
    if detail.metadata:
        import json

        kept = json.dumps(detail.metadata, ensure_ascii=False, sort_keys=True)
        show(Text("Kept from the source", style="bold underline"), Text(safe(kept[:2000])))
    if detail.notes:
        show(Text("Notes", style="bold underline"))
        for note in detail.notes:
            show(event_line(note))
    if detail.comments:
        shown = (
            f"newest {len(detail.comments)} of {detail.comments_total}"
            if detail.comments_total > len(detail.comments)
            else ""
        )
        show(Text(f"Comments {shown}".rstrip(), style="bold underline"))
        for said in detail.comments:
            show(event_line(said))
    if detail.checkpoints:
        show(Text("Checkpoints", style="bold underline"))
        for c in detail.checkpoints:
            show(cell(f"{c.sha[:12]}  {c.message}  ({plural(len(c.files), 'file')}, {c.actor})"))
    if log:
        shown = f"last {len(log)} of {detail.event_count}" if detail.event_count > len(log) else ""
        show(Text(f"Log {shown}".rstrip(), style="bold underline"))
        for entry in log:
            show(event_line(entry))


def _links_line(detail: TaskDetail) -> str:
    """An imported task's links: `related WEB-4, blocks bd-wisp-x7 (not on the board)`."""
    return ", ".join(
        f"{kind} {key}" if key else f"{kind} {ref} (not on the board)"
        for kind, key, ref in detail.links
    )


def _subtasks_line(detail: TaskDetail) -> str:
    """An epic's subtasks with its progress: `3/7 done: WEB-4, WEB-5, ...`."""
    if not detail.subtasks:
        return ""
    t = detail.task
    return f"{t.subtasks_done}/{t.subtasks_total} done: {', '.join(detail.subtasks)}"


def status_line(t: Task) -> str:
    """The status in words, with the board column only where it says more: `done`,
    `pending (blocked)`, `in review (needs human)`."""
    words = status_words(t.status)
    if t.column == t.status:
        return words
    return f"{words} ({COLUMN_TITLES.get(t.column, t.column).lower()})"


def measured_line(detail: TaskDetail) -> str:
    """What the agents' runtimes measured beside what the agents reported, when there is
    measured usage (what counts is the larger, per agent); else empty."""
    if detail.measured is None:
        return ""
    reported = usage_line(detail.reported or UsageTotals()) or "nothing"
    return f"{usage_line(detail.measured) or 'nothing'} (reported: {reported})"


def usage_line(u: UsageTotals) -> str:
    """Usage in one line, like `12,000 tokens, $0.05`; only the metrics that were used."""
    parts = []
    if u.tokens:
        parts.append(f"{u.tokens:,} tokens")
    if u.cost_usd:
        parts.append(f"${u.cost_usd:.2f}")
    if u.cpu_seconds:
        parts.append(f"{u.cpu_seconds / 3600:.2f} CPU h")
    if u.gpu_seconds:
        parts.append(f"{u.gpu_seconds / 3600:.2f} GPU h")
    return ", ".join(parts)


def event_line(e: Event) -> Text:
    """`#id time KEY actor kind/subkind text`, with multi-line text indented under it; an
    agent that acted by its name alone (a board in named mode) is marked `actor·named`, as in
    the console."""
    line = Text()
    line.append(f"#{e.id} ", style="dim")
    line.append(when(e.created_at) + " ", style="dim")
    if e.task:
        line.append(f"{e.task} ", style="bold")
    line.append(safe(e.actor, one_line=True), style="cyan")
    if e.auth == "named":
        line.append("·named", style="dim")
    line.append(" ")
    kind = f"{e.kind}/{e.subkind}" if e.subkind else e.kind
    line.append(safe(kind, one_line=True) + " ", style="magenta")
    line.append(safe(e.text).replace("\n", "\n    "))
    return line


def boards(items: Sequence[Board]) -> None:
    """Boards as a table, or how to create the first one."""
    if not items:
        show(Text("no boards; create one with `agentdeck board create KEY NAME`", style="dim"))
        return
    table = _table("key", "name", "lead", "due", "goal")
    for b in items:
        table.add_row(
            cell(b.key, "bold"),
            cell(b.name),
            cell(b.lead or "-"),
            cell(when(b.due_at)),
            cell(b.goal),
        )
    show(table)


def agents(items: Sequence[Agent]) -> None:
    """The team as a table, coloured by whether each member is working, idle or stale."""
    table = _table("name", "kind", "state", "task", "doing", "skills", "role")
    for a in items:
        style = {"working": "yellow", "stale": "red"}.get(a.state, "dim")
        table.add_row(
            cell(a.name, "bold"),
            cell(a.kind),
            cell(a.state, style),
            cell(a.current_task or "-"),
            cell(a.active_form),
            cell(", ".join(a.skills)),
            cell(a.role),
        )
    show(table)


def budgets(items: Sequence[BudgetStatus], totals: UsageTotals) -> None:
    """Budgets with their use and level, then the board's usage so far."""
    if items:
        table = _table("scope", "subject", "metric", "used", "soft", "hard", "level")
        for s in items:
            table.add_row(
                cell(s.scope),
                cell(s.subject or "-"),
                cell(s.metric),
                cell(amount(s.used)),
                cell(amount(s.soft)),
                cell(amount(s.hard)),
                cell(s.level, LEVEL_STYLES.get(s.level, "")),
            )
        show(table)
    else:
        show(Text("no budgets set; add one with `agentdeck budget set`", style="dim"))
    show(Text(f"usage so far: {usage_line(totals) or 'none'}"))


def hits(items: Sequence[SearchHit], *, empty: str = "nothing found") -> None:
    """Search hits, best first, numbered, each with its relevance (a share of the best hit's
    score) and matching snippet."""
    if not items:
        show(Text(empty, style="dim"))
        return
    best = items[0].score
    width = len(str(len(items)))
    for rank, h in enumerate(items, 1):
        line = Text()
        line.append(f"{rank:>{width}}. ", style="dim")
        line.append(f"{h.key}  ", style="bold")
        line.append(safe(h.title, one_line=True))
        line.append(f"  (relevance {relevance(h.score, best)})", style="dim")
        show(line)
        if h.snippet:
            show(Text("    " + safe(h.snippet, one_line=True), style="dim"))


def messages(items: Sequence[Message], *, empty: str = "inbox is empty") -> None:
    """Inbox messages, one line each: when, kind, sender, the task it is about, text."""
    if not items:
        show(Text(empty, style="dim"))
        return
    for m in items:
        line = Text()
        line.append(f"{when(m.created_at)} ", style="dim")
        line.append(f"{m.kind} ", style="magenta")
        line.append(f"from {safe(m.sender, one_line=True)}", style="cyan")
        if m.task:
            line.append(f" on {m.task}", style="cyan")
        line.append(": ", style="cyan")
        line.append(safe(m.text))
        show(line)


def claim(c: Claim) -> None:
    """A claimed task with its inbox and similar finished work."""
    t = c.task
    head = Text()
    head.append(f"claimed {t.key}  ", style="bold green")
    head.append(safe(t.title, one_line=True))
    show(head)
    for label, body in (("Description", t.description), ("Success criteria", t.criteria)):
        if body:
            show(Text(label, style="bold underline"), Text(safe(body)))
    if c.inbox:
        show(Text("Inbox", style="bold underline"))
        messages(c.inbox)
    if c.similar:
        show(Text("Similar finished tasks", style="bold underline"))
        hits(c.similar)


def burndown(b: BurnDown) -> None:
    """The burn-down as a table of days, with the forecast."""
    if not b.points:
        show(Text("no history yet", style="dim"))
    else:
        table = _table("day", "open", "scope", "ideal")
        ideal = {p.at.date(): p.open for p in b.ideal}
        by_day: dict[date, tuple[int, int]] = {}
        for p in b.points:  # one row per day: the last reading of that day
            by_day[p.at.date()] = (p.open, p.scope)
        for day, (open_, scope) in by_day.items():
            table.add_row(cell(day), cell(open_), cell(scope), cell(ideal.get(day)))
        show(table)
    summary = f"throughput {b.throughput_per_day:.2f} tasks/day"
    if b.due_at is not None:
        summary += f"; due {when(b.due_at)}"
    if b.forecast_done_at is not None:
        summary += f"; forecast done {when(b.forecast_done_at)}"
        if b.forecast_early is not None:
            late = when(b.forecast_late) if b.forecast_late else "no later bound yet"
            summary += f" (likely {when(b.forecast_early)} to {late})"
    elif b.forecast_note:
        summary += f"; {b.forecast_note}"
    show(Text(summary))
