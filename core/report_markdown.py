"""How each piece of the markdown progress report is written: a task's line, a budget row, the
Done part's summary, the measured-against-reported table, times and dates.

Kept apart from `report`, which reads the figures and decides which parts to show, so the
text a reader sees (and the escaping that makes agent-written text read literally in any
markdown renderer, `md`) is in one place. Nothing here reads the database.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from agentdeck.core import report_figures
from agentdeck.core.models import BudgetStatus, Task, UsageTotals
from agentdeck.core.safe_text import dropped
from agentdeck.core.words import plural

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md(text: str, limit: int = 160) -> str:
    """Untrusted text as one literal markdown line: the characters of `safe_text.UNSAFE`
    dropped, syntax escaped, capped."""
    flat = " ".join(dropped(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", flat)


def duration(delta: timedelta) -> str:
    """A span a person can read: minutes under an hour, hours under two days, else days."""
    hours = delta.total_seconds() / 3600
    return (
        f"{hours * 60:.0f} min"
        if hours < 1
        else f"{hours:.1f} h"
        if hours < 48
        else f"{hours / 24:.1f} d"
    )


def when(at: datetime | None) -> str:
    """A moment as the report writes it, UTC to the minute; a dash for none."""
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def task_line(t: Task, extra: str = "") -> str:
    """A task as one list item: key, type (unless a plain task), title, labels and assignee,
    escaped, then `extra`."""
    kind = f" ({t.type})" if t.type != "task" else ""
    tags = f" [{', '.join(md(label, 40) for label in t.labels)}]" if t.labels else ""
    who = f" — {md(t.assignee, 64)}" if t.assignee else ""
    return f"- **{t.key}**{kind} {md(t.title)}{tags}{who}{extra}"


def waiting_on(t: Task) -> str:
    """What a blocked task waits on: its blockers, and an epic's subtasks with their progress."""
    parts = [", ".join(t.blocked_by)] if t.blocked_by else []
    if t.subtasks_done < t.subtasks_total:
        parts.append(f"its subtasks ({t.subtasks_done}/{t.subtasks_total} done)")
    return f" — waiting on {'; '.join(parts)}" if parts else ""


def _amount(value: float) -> str:
    """A budget figure a person can read: 1,000,000 tokens, not 1e+06; $0.1235, not 0.12345."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def measured_part(sources: dict[str, UsageTotals], gaps: list[dict[str, Any]]) -> list[str]:
    """Usage as reported by the agents and as measured by their runtimes, side by side, and
    the tasks where the two differ most (what counts is the larger, per agent and task)."""
    none = UsageTotals()
    reported, seen = sources.get("reported", none), sources["measured"]
    out = [
        "### Measured and reported",
        "",
        "| source | tokens | cost |",
        "|---|---|---|",
        f"| measured (telemetry) | {seen.tokens:,} | ${seen.cost_usd:,.2f} |",
        f"| reported (by agents) | {reported.tokens:,} | ${reported.cost_usd:,.2f} |",
    ]
    if gaps:  # compared only where both sources saw the same work
        gap = report_figures.gap_total(gaps)
        out.append(
            f"| gap (measured - reported) on the {plural(gap['tasks'], 'task')} with both "
            f"| {gap['tokens']:+,} | {_signed_dollars(gap['cost_usd'])} |"
        )
    out.append("")
    if gaps:
        out += ["| task | measured | reported | gap |", "|---|---|---|---|"]
        for g in gaps[: report_figures.SUMMARY_ITEMS]:
            m, r = g["measured"], g["reported"]
            out.append(
                f"| {g['key'] or 'board'} | {m['tokens']:,} tok, ${m['cost_usd']:,.2f} "
                f"| {r['tokens']:,} tok, ${r['cost_usd']:,.2f} "
                f"| {m['tokens'] - r['tokens']:+,} tok, {_signed_dollars(m['cost_usd'] - r['cost_usd'])} |"
            )
        out.append("")
    return out


def _signed_dollars(value: float) -> str:
    return f"{'-' if value < 0 else '+'}${abs(value):,.2f}"


def budget_row(b: BudgetStatus) -> str:
    """A budget as a row of the Budget use table: subject, metric, used, limits, level."""
    subject = {
        "board": "board",
        "agent": f"agent {md(b.subject, 64)}",
        "task": f"task {b.subject}",
    }[b.scope]
    limit = " / ".join(
        f"{label} {_amount(v)}"
        for label, v in (("soft", b.soft), ("hard", b.hard))
        if v is not None
    )
    return f"| {subject} | {b.metric} | {_amount(b.used)} | {limit} | {b.level} |"


def joined(lines: list[str]) -> str:
    """Lines as the report streams them, each ended with a newline."""
    return "".join(f"{line}\n" for line in lines)


def done_part(summary: dict[str, Any], recent: list[str], done: int) -> list[str]:
    """The Done part on any board: the most recent (`recent`, their lines), who finished how
    much and under which labels; `--finished all` lists every one."""
    out = [f"## Done ({done})", "", *(recent or ["_none_"])]
    if done > len(recent):
        out.append(f"- _and {done - len(recent)} more: `agentdeck report --finished all`_")
    out.append("")
    for title, counts, more, width, others in (
        ("By agent", summary["by_agent"], summary["agents_more"], 64, "other"),
        ("By label", summary["by_label"], summary["labels_more"], 40, "other label"),
    ):
        if counts:
            listed = ", ".join(f"{md(name, width)} {n}" for name, n in counts.items())
            out += [f"{title}: {listed}" + (f", and {plural(more, others)}" if more else ""), ""]
    return [*out, ""]


def time_part(took: dict[str, Any]) -> list[str]:
    """The Time per task part, from `report_figures.time_per_task`."""
    out = ["## Time per task", ""]
    if not took["tasks"]:
        return [*out, "_no finished tasks yet_", ""]
    median = timedelta(seconds=took["median_s"])
    mean = timedelta(seconds=took["mean_s"])
    return [
        *out,
        f"Median {duration(median)}, mean {duration(mean)} over {took['tasks']} finished tasks",
        "",
    ]
