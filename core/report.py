"""The progress report in markdown: where a board stands, for a human or a status update.

Verbs here: report (whole or chosen sections) and report_lines (the same markdown a few lines
at a time, for `--finished all`): which parts to show and in what order, each read as it is
reached. How each piece is written (and the escaping that makes agent-written text read
literally in any markdown renderer) is in `report_markdown`; the small summary for agents is in
`report_summary`; the SQL reads behind both are in `report_figures`.

Bounded on any board: every figure is a SQL aggregate (counts, sums, grouped counts, the
median by an ordered offset) or read from a maintained rollup (budgets' `used`, the flow
rollup behind the forecast), and every part lists at most `REPORT_ITEMS` tasks with a count
of the rest. Finished work is summarised (counts, the most recent, by agent and by label);
`finished="all"` lists every finished task, streamed a page at a time by `report_lines`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agentdeck.core import (
    boards,
    budgets,
    comments,
    limits,
    measured,
    metrics,
    paging,
    report_figures,
    tasks,
)
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import Task
from agentdeck.core.report_markdown import (
    budget_row,
    done_part,
    joined,
    md,
    measured_part,
    task_line,
    time_part,
    waiting_on,
    when,
)
from agentdeck.core.storage.database import Database
from agentdeck.core.words import plural

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
# The newest comments on open tasks the report's Comments part lists, each cut to a line.
REPORT_COMMENTS = 20
# Tasks each part of the markdown report lists (the most recent finished, the most urgent
# open); the part's heading counts them all and a line says how to see the rest.
REPORT_ITEMS = 20
FINISHED = ("summary", "all")


def report(
    db: Database,
    board: str | None = None,
    sections: list[str] | None = None,
    *,
    label: str | None = None,
    finished: str = "summary",
) -> str:
    """A markdown progress report (see `report_lines`), whole."""
    return "".join(report_lines(db, board, sections, label=label, finished=finished))


def report_lines(
    db: Database,
    board: str | None = None,
    sections: list[str] | None = None,
    *,
    label: str | None = None,
    finished: str = "summary",
) -> Iterator[str]:
    """A markdown progress report, a few lines per item (each ends with a newline): done/total,
    finished work (counts, by agent and label, the most recent), in progress, remaining,
    blocked (an epic with its subtasks' progress), waiting on humans, failed, the newest
    comments on open tasks, budget use, time per task, forecast, last updated.

    Every part lists at most `REPORT_ITEMS` tasks and counts the rest; with `finished="all"`
    the Done and Failed parts list every such task instead, read a page at a time as the
    lines are consumed (a caller that writes each line as it comes holds one page).
    `sections` (names from `SECTIONS`) keeps only those parts after the header, in the
    report's own order; an unknown name is refused. With `label`, every task part and the
    totals cover only the tasks carrying it (budget rows and the forecast stay the board's)."""
    wanted = set(SECTIONS if sections is None else sections)
    unknown = sorted(wanted - set(SECTIONS))
    if unknown:
        raise ValidationError(
            f"unknown report section {unknown[0][:40]!r}; sections: {', '.join(SECTIONS)}"
        )
    if finished not in FINISHED:
        raise ValidationError(f"finished is summary or all, not {finished[:40]!r}")
    return _report_lines(db, board, wanted, label, finished)


def _report_lines(
    db: Database, board: str | None, wanted: set[str], label: str | None, finished: str
) -> Iterator[str]:
    """`report_lines` after its arguments are checked: each part read as it is reached."""
    # Each part in its own short read, as the verbs a caller would use to read them.
    with db.read() as tx:
        b = boards.get_board(tx, board)
        counted = tasks.counts(tx, b.key, label=label)
        summary = report_figures.finished_summary(tx, b.key, label=label, recent=0)
        where = report_figures.task_scope(tx.board(b.key), label)
        recent = report_figures.recent_done(tx, where, REPORT_ITEMS)
        took = report_figures.time_per_task(tx, where) if "time" in wanted else None
        parts = {
            column: tasks.list_tasks(tx, b.key, column=column, label=label, limit=REPORT_ITEMS)
            for column in ("in_progress", "ready", "blocked", "failed")
        }
        parts["needs_human"] = report_figures.oldest_waiting(tx, where, REPORT_ITEMS)
    total, done = counted.total, counted.done
    pct = 100 * done / total if total else 0.0
    out = [f"# {md(b.name)} — progress report", ""]
    if label is not None:
        out += [f"**Label:** {md(limits.label(label), 40)} (only tasks with this label)", ""]
    if b.goal:
        out += [f"**Goal:** {md(b.goal, 400)}", ""]
    out += [f"**Overall:** {done} of {plural(total, 'task')} done ({pct:.0f}%)", ""]
    if b.due_at:
        out += [f"**Due:** {when(b.due_at)}", ""]
    yield joined(out)

    def listed(name: str, title: str, column: str, line: Any, rest: str) -> Iterator[str]:
        """A part: its count, its first `REPORT_ITEMS` tasks, and how to see the others."""
        if name not in wanted:
            return
        count = counted.by_column.get(column, 0)
        shown = parts[column]
        yield joined([f"## {title} ({count})", "", *([line(t) for t in shown] or ["_none_"])])
        if count > len(shown):
            yield joined([f"- _and {count - len(shown)} more: {rest}_"])
        yield "\n"

    def whole(title: str, status: str, line: Any) -> Iterator[str]:
        """A finished part listed whole, in key order, a page per read."""
        count = counted.by_column.get(status, 0)
        yield joined([f"## {title} ({count}, in key order)", ""])
        empty = True
        for t in paging.iter_tasks(db, b.key, status=status, label=label):
            empty = False
            yield joined([line(t)])
        yield joined(["_none_", ""] if empty else [""])

    def done_line(t: Task) -> str:
        return task_line(t, f" ({when(t.completed_at)})")

    if "done" in wanted:
        if finished == "all":
            yield from whole("Done", "done", done_line)
        else:
            yield joined(done_part(summary, [done_line(t) for t in recent], done))
    yield from listed(
        "in_progress",
        "In progress",
        "in_progress",
        lambda t: task_line(t, f" — doing: {md(t.active_form, 80)}" if t.active_form else ""),
        "`agentdeck task list --column in_progress`",
    )
    yield from listed(
        "ready",
        "Remaining (ready)",
        "ready",
        lambda t: task_line(t, f" — P{t.priority}"),
        "`agentdeck task list --column ready`",
    )
    yield from listed(
        "blocked",
        "Blocked",
        "blocked",
        lambda t: task_line(t, waiting_on(t)),
        "`agentdeck task list --column blocked`",
    )
    yield from listed(
        "needs_human",
        "Waiting on humans",
        "needs_human",
        lambda t: task_line(
            t,
            f" — {'review' if t.status == 'review' else 'escalated: ' + md(t.escalation_reason, 120)}",
        ),
        "`agentdeck task list --column needs_human`",
    )

    def failed_line(t: Task) -> str:
        return task_line(t, f" — {md(t.result, 120)}")

    if "failed" in wanted and finished == "all":
        yield from whole("Failed", "failed", failed_line)
    else:
        yield from listed(
            "failed", "Failed", "failed", failed_line, "`agentdeck report --finished all`"
        )
    if "comments" in wanted:
        with db.read() as tx:
            said, said_total = comments.on_open_tasks(tx, tx.board(b.key)["id"], REPORT_COMMENTS)
        lines = [
            f"- **{b.key}-{r['number']}** {md(r['actor'], 64)}: {md(r['text'], 200)} "
            f"({when(r['created_at'])})"
            for r in said
        ]
        if said_total > len(said):
            lines.append(f"- _and {said_total - len(said)} older (see `agentdeck task show`)_")
        yield joined([f"## Comments on open tasks ({said_total})", "", *(lines or ["_none_"]), ""])
    if "budgets" in wanted:
        yield joined(_budget_part(db, b.key, label))
    if took is not None:
        yield joined(time_part(took))
    if "forecast" in wanted:
        burn = metrics.burndown(db, b.key)
        out = ["## Forecast", ""]
        if burn.forecast_done_at and done < total:
            late = when(burn.forecast_late) if burn.forecast_late else "no later bound yet"
            early = when(burn.forecast_early) if burn.forecast_early else "?"
            out += [
                f"At {burn.throughput_per_day:g} tasks/day, the rest is done around "
                f"{when(burn.forecast_done_at)} (likely between {early} and {late}).",
                "",
            ]
        elif total and done == total:
            out += ["Everything is done.", ""]
        else:
            note = burn.forecast_note or "no forecast"
            out += [f"{note[0].upper()}{note[1:]}.", ""]
        yield joined(out)
    yield joined([f"_Last updated {when(db.now())}_", ""])


def _budget_part(db: Database, board: str, label: str | None) -> list[str]:
    """Budget rows (the first `REPORT_ITEMS`), total spend and, when runtimes
    report usage, measured against reported."""
    with db.read() as tx:
        b = tx.board(board)
        budget_rows = budgets.budget_status(tx, board, limit=REPORT_ITEMS + 1)
        spent = report_figures.spent_on(tx, b, label)
        sources = report_figures.usage_sources(tx, board)
        gaps = measured.usage_gaps(tx, board, limit=None) if "measured" in sources else []
    out = ["## Budget use", ""]
    if budget_rows:
        out += [
            "| scope | metric | used | limit | level |",
            "|---|---|---|---|---|",
            *map(budget_row, budget_rows[:REPORT_ITEMS]),
        ]
        if len(budget_rows) > REPORT_ITEMS:
            more = len(budget_rows) - REPORT_ITEMS
            out += ["", f"_and {more} more: `agentdeck budget show --all`_"]
    else:
        out += ["_no budgets set_"]
    out += [
        "",
        f"Total cost so far: ${spent.cost_usd:,.2f} over {plural(spent.tokens, 'token')}",
        "",
    ]
    if "measured" in sources:
        out += measured_part(sources, gaps)
    return out
