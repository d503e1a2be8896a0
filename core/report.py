"""The progress report: where a board stands, for a human or a status update, and its
small summary for agents.

Verbs here: report (markdown, whole or chosen sections) and report_summary (a small dict:
counts, what needs a human, what is blocked, budgets, forecast), built from the board, task,
budget and burn-down reads. Agent-written text is escaped so it reads literally in any
markdown renderer; the summary's JSON carries it literally, clipped to a line.
"""

from __future__ import annotations

import re
import statistics
from datetime import datetime, timedelta
from typing import Any

from agentdeck.core import boards, budgets, comments, limits, measured, metrics, tasks, views
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import BudgetStatus, Task, UsageTotals
from agentdeck.core.safe_text import dropped
from agentdeck.core.storage.database import Database
from agentdeck.core.words import plural

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md(text: str, limit: int = 160) -> str:
    """Untrusted text as one literal markdown line: the characters of `safe_text.UNSAFE`
    dropped, syntax escaped, capped."""
    flat = " ".join(dropped(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", flat)


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return (
        f"{hours * 60:.0f} min"
        if hours < 1
        else f"{hours:.1f} h"
        if hours < 48
        else f"{hours / 24:.1f} d"
    )


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def _line(t: Task, extra: str = "") -> str:
    kind = f" ({t.type})" if t.type != "task" else ""
    tags = f" [{', '.join(md(label, 40) for label in t.labels)}]" if t.labels else ""
    who = f" — {md(t.assignee, 64)}" if t.assignee else ""
    return f"- **{t.key}**{kind} {md(t.title)}{tags}{who}{extra}"


def _waiting_on(t: Task) -> str:
    """What a blocked task waits on: its blockers, and an epic's subtasks with their progress."""
    parts = [", ".join(t.blocked_by)] if t.blocked_by else []
    if t.subtasks_done < t.subtasks_total:
        parts.append(f"its subtasks ({t.subtasks_done}/{t.subtasks_total} done)")
    return f" — waiting on {'; '.join(parts)}" if parts else ""


def _amount(value: float) -> str:
    """A budget figure a person can read: 1,000,000 tokens, not 1e+06; $0.1235, not 0.12345."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _measured_part(sources: dict[str, UsageTotals], gaps: list[dict[str, Any]]) -> list[str]:
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
        gap = _gap_total(gaps)
        out.append(
            f"| gap (measured - reported) on the {plural(gap['tasks'], 'task')} with both "
            f"| {gap['tokens']:+,} | {_signed_dollars(gap['cost_usd'])} |"
        )
    out.append("")
    if gaps:
        out += ["| task | measured | reported | gap |", "|---|---|---|---|"]
        for g in gaps[:SUMMARY_ITEMS]:
            m, r = g["measured"], g["reported"]
            out.append(
                f"| {g['key'] or 'board'} | {m['tokens']:,} tok, ${m['cost_usd']:,.2f} "
                f"| {r['tokens']:,} tok, ${r['cost_usd']:,.2f} "
                f"| {m['tokens'] - r['tokens']:+,} tok, {_signed_dollars(m['cost_usd'] - r['cost_usd'])} |"
            )
        out.append("")
    return out


def _gap_total(gaps: list[dict[str, Any]]) -> dict[str, Any]:
    """Measured minus reported, summed over the tasks both sources saw."""
    return {
        "tasks": len(gaps),
        "tokens": sum(g["measured"]["tokens"] - g["reported"]["tokens"] for g in gaps),
        "cost_usd": round(
            sum(g["measured"]["cost_usd"] - g["reported"]["cost_usd"] for g in gaps), 6
        ),
    }


def _signed_dollars(value: float) -> str:
    return f"{'-' if value < 0 else '+'}${abs(value):,.2f}"


def _budget_row(b: BudgetStatus) -> str:
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


SECTIONS = (
    "done",
    "in_progress",
    "ready",
    "blocked",
    "needs_human",
    "failed",
    "comments",
    "budgets",
    "time",
    "forecast",
)
# Tasks a summary lists per part; `*_more` counts the rest, which `report` lists whole.
SUMMARY_ITEMS = 10
# The newest comments on open tasks the report's Comments part lists, each cut to a line.
REPORT_COMMENTS = 20


def report_summary(
    db: Database, board: str | None = None, *, label: str | None = None
) -> dict[str, Any]:
    """Where the board stands in a few hundred tokens: counts per column, what needs a human,
    what is blocked and on what, what is in progress, budgets, spend and the forecast.

    Each task list holds at most `SUMMARY_ITEMS` compact views, with a count of the rest;
    counts come from one indexed query, so the summary stays small and quick on any board.
    With `label`, the counts and lists cover only the tasks carrying it (budgets, spend and
    the forecast stay the board's)."""
    with db.read() as tx:
        b = boards.get_board(tx, board)
        counted = tasks.counts(tx, b.key, label=label)
        parts = {
            column: tasks.list_tasks(tx, b.key, column=column, label=label, limit=SUMMARY_ITEMS)
            for column in ("needs_human", "blocked", "in_progress")
        }
        budget_rows = budgets.budget_status(tx, b.key)
        spent = budgets.usage_totals(tx, b.key)
        sources = measured.usage_by_source(tx, b.key)
        gaps = measured.usage_gaps(tx, b.key, limit=None) if "measured" in sources else []
    burn = metrics.burndown(db, b.key)
    total, done = counted.total, counted.done
    out: dict[str, Any] = {
        "board": b.key,
        "name": views.clip(b.name, views.TITLE),
        "goal": views.clip(b.goal, 300),
        "due_at": b.due_at.isoformat() if b.due_at else None,
        "total": total,
        "done": done,
        "percent_done": round(100 * done / total) if total else 0,
        "columns": dict(counted.by_column),
    }
    for column, listed in parts.items():
        view = views.task_card
        out[column] = [view(t) for t in listed]
        shown = len(listed)
        out[f"{column}_more"] = max(0, counted.by_column.get(column, 0) - shown)
    worst = sorted(budget_rows, key=lambda r: {"over": 0, "warn": 1}.get(r.level, 2))
    out["budgets"] = [r.to_dict() for r in worst[:SUMMARY_ITEMS]]
    out["budgets_more"] = max(0, len(budget_rows) - SUMMARY_ITEMS)
    out["spent"] = {"cost_usd": round(spent.cost_usd, 6), "tokens": spent.tokens}
    if "measured" in sources:  # both sources as given, and the tasks where they differ most
        for source, given in sources.items():
            out["spent"][source] = {"cost_usd": round(given.cost_usd, 6), "tokens": given.tokens}
        out["spent"]["gap"] = _gap_total(gaps)
        out["spent"]["gaps"] = gaps[:SUMMARY_ITEMS]
    ahead = burn.forecast_done_at is not None and done < total
    out["forecast"] = {
        "throughput_per_day": burn.throughput_per_day,
        "done_at": burn.forecast_done_at.isoformat() if ahead and burn.forecast_done_at else None,
        "early": burn.forecast_early.isoformat() if ahead and burn.forecast_early else None,
        "late": burn.forecast_late.isoformat() if ahead and burn.forecast_late else None,
        "note": burn.forecast_note,
    }
    if label is not None:
        out["label"] = limits.label(label)
    out["updated_at"] = db.now().isoformat()
    return out


def report(
    db: Database,
    board: str | None = None,
    sections: list[str] | None = None,
    *,
    label: str | None = None,
) -> str:
    """A markdown progress report: done/total, in progress, remaining, blocked (an epic with
    its subtasks' progress), waiting on humans, failed, the newest comments on open tasks,
    budget use, time per task, forecast, last updated.

    `sections` (names from `SECTIONS`) keeps only those parts after the header, in the
    report's own order; an unknown name is refused. With `label`, every task part and the
    totals cover only the tasks carrying it (budget rows and the forecast stay the board's)."""
    wanted = set(SECTIONS if sections is None else sections)
    unknown = sorted(wanted - set(SECTIONS))
    if unknown:
        raise ValidationError(
            f"unknown report section {unknown[0][:40]!r}; sections: {', '.join(SECTIONS)}"
        )
    # Each part in its own short read, as the verbs a caller would use to read them.
    with db.read() as tx:
        b = boards.get_board(tx, board)
    with db.read() as tx:
        listed = tasks.list_tasks(tx, b.key, label=label)
    with db.read() as tx:
        budget_rows: list[BudgetStatus] = budgets.budget_status(tx, b.key)
        sources = measured.usage_by_source(tx, b.key)
        gaps = measured.usage_gaps(tx, b.key, limit=None) if "measured" in sources else []
    burn = metrics.burndown(db, b.key)
    now = db.now()
    by: dict[str, list[Task]] = {}
    for t in listed:
        by.setdefault(t.column, []).append(t)
    total, done = len(listed), len(by.get("done", []))
    pct = 100 * done / total if total else 0.0
    out = [f"# {md(b.name)} — progress report", ""]
    if label is not None:
        out += [f"**Label:** {md(limits.label(label), 40)} (only tasks with this label)", ""]
    if b.goal:
        out += [f"**Goal:** {md(b.goal, 400)}", ""]
    out += [f"**Overall:** {done} of {plural(total, 'task')} done ({pct:.0f}%)", ""]
    if b.due_at:
        out += [f"**Due:** {_when(b.due_at)}", ""]

    def section(name: str, title: str, items: list[str]) -> None:
        if name in wanted:
            out.extend([f"## {title} ({len(items)})", "", *(items or ["_none_"]), ""])

    recent = sorted(by.get("done", []), key=lambda t: t.completed_at or t.updated_at, reverse=True)
    section("done", "Done", [_line(t, f" ({_when(t.completed_at)})") for t in recent])
    section(
        "in_progress",
        "In progress",
        [
            _line(t, f" — doing: {md(t.active_form, 80)}" if t.active_form else "")
            for t in by.get("in_progress", [])
        ],
    )
    section(
        "ready", "Remaining (ready)", [_line(t, f" — P{t.priority}") for t in by.get("ready", [])]
    )
    section("blocked", "Blocked", [_line(t, _waiting_on(t)) for t in by.get("blocked", [])])
    section(
        "needs_human",
        "Waiting on humans",
        [
            _line(
                t,
                f" — {'review' if t.status == 'review' else 'escalated: ' + md(t.escalation_reason, 120)}",
            )
            for t in sorted(by.get("needs_human", []), key=lambda t: t.updated_at)
        ],
    )
    section("failed", "Failed", [_line(t, f" — {md(t.result, 120)}") for t in by.get("failed", [])])
    if "comments" in wanted:
        with db.read() as tx:
            said, said_total = comments.on_open_tasks(tx, tx.board(b.key)["id"], REPORT_COMMENTS)
        lines = [
            f"- **{b.key}-{r['number']}** {md(r['actor'], 64)}: {md(r['text'], 200)} "
            f"({_when(r['created_at'])})"
            for r in said
        ]
        if said_total > len(said):
            lines.append(f"- _and {said_total - len(said)} older (see `agentdeck task show`)_")
        out.extend([f"## Comments on open tasks ({said_total})", "", *(lines or ["_none_"]), ""])
    if "budgets" in wanted:
        out += ["## Budget use", ""]
        if budget_rows:
            out += [
                "| scope | metric | used | limit | level |",
                "|---|---|---|---|---|",
                *map(_budget_row, budget_rows),
            ]
        else:
            out += ["_no budgets set_"]
        spent = sum(t.cost_usd for t in listed)
        out += [
            "",
            f"Total cost so far: ${spent:,.2f} over {plural(sum(t.tokens for t in listed), 'token')}",
            "",
        ]
        if "measured" in sources:
            out += _measured_part(sources, gaps)
    if "time" in wanted:
        times = [
            t.completed_at - t.started_at
            for t in by.get("done", [])
            if t.completed_at and t.started_at
        ]
        out += ["## Time per task", ""]
        if times:
            median = timedelta(seconds=statistics.median(t.total_seconds() for t in times))
            out += [
                f"Median {_duration(median)}, mean "
                f"{_duration(sum(times, timedelta()) / len(times))} over {len(times)} finished tasks",
                "",
            ]
        else:
            out += ["_no finished tasks yet_", ""]
    if "forecast" in wanted:
        out += ["## Forecast", ""]
        if burn.forecast_done_at and done < total:
            late = _when(burn.forecast_late) if burn.forecast_late else "no later bound yet"
            early = _when(burn.forecast_early) if burn.forecast_early else "?"
            out += [
                f"At {burn.throughput_per_day:g} tasks/day, the rest is done around "
                f"{_when(burn.forecast_done_at)} (likely between {early} and {late}).",
                "",
            ]
        elif total and done == total:
            out += ["Everything is done.", ""]
        else:
            note = burn.forecast_note or "no forecast"
            out += [f"{note[0].upper()}{note[1:]}.", ""]
    out += [f"_Last updated {_when(now)}_", ""]
    return "\n".join(out)
