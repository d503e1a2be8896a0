"""The progress report's small summary for agents: where a board stands in a few hundred
tokens, as a dict the CLI prints as JSON and the MCP server returns.

Kept apart from the markdown report (`report`) because it is a different rendering of the same
figures (`report_figures`): compact task views and numbers, agent-written text carried
literally and clipped to a line, every list capped at `SUMMARY_ITEMS` with a count of the rest.
"""

from __future__ import annotations

from typing import Any

from agentdeck.core import boards, budgets, limits, measured, metrics, report_figures, tasks, views
from agentdeck.core.storage.database import Database

_COUNTED = ("done", "failed", "cancelled")  # in the summary's "columns" already


def report_summary(
    db: Database, board: str | None = None, *, label: str | None = None
) -> dict[str, Any]:
    """Where the board stands in a few hundred tokens: counts per column, what needs a human,
    what is blocked and on what, what is in progress, finished work in numbers
    (`finished_summary`), budgets, spend and the forecast.

    Each task list holds at most `SUMMARY_ITEMS` compact views, with a count of the rest;
    counts come from one indexed query, so the summary stays small and quick on any board.
    With `label`, the counts and lists cover only the tasks carrying it (budgets, spend and
    the forecast stay the board's)."""
    with db.read() as tx:
        b = boards.get_board(tx, board)
        counted = tasks.counts(tx, b.key, label=label)
        parts = {
            column: tasks.list_tasks(
                tx, b.key, column=column, label=label, limit=report_figures.SUMMARY_ITEMS
            )
            for column in ("needs_human", "blocked", "in_progress")
        }
        budget_rows = budgets.budget_status(tx, b.key, limit=None)
        spent = budgets.usage_totals(tx, b.key)
        sources = report_figures.usage_sources(tx, b.key)
        gaps = measured.usage_gaps(tx, b.key, limit=None) if "measured" in sources else []
        finished = report_figures.finished_summary(tx, b.key, label=label)
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
    out["budgets"] = [r.to_dict() for r in worst[: report_figures.SUMMARY_ITEMS]]
    out["budgets_more"] = max(0, len(budget_rows) - report_figures.SUMMARY_ITEMS)
    out["finished"] = {k: v for k, v in finished.items() if k not in _COUNTED}
    out["spent"] = {"cost_usd": round(spent.cost_usd, 6), "tokens": spent.tokens}
    if "measured" in sources:  # both sources as given, and the tasks where they differ most
        for source, given in sources.items():
            out["spent"][source] = {"cost_usd": round(given.cost_usd, 6), "tokens": given.tokens}
        out["spent"]["gap"] = report_figures.gap_total(gaps)
        out["spent"]["gaps"] = gaps[: report_figures.SUMMARY_ITEMS]
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
