"""The SQL reads behind the progress report: the figures `report`, `report_lines` and
`report_summary` show, each a bounded query.

Kept apart from the markdown report (`report`) and the summary for agents (`report_summary`)
so every query the report makes is in one place and its bounds can be read at a glance: every
figure is a SQL aggregate (counts, sums, grouped counts, the median by an ordered offset) or
read from a maintained rollup, and every list is capped by the caller. `finished_summary` is
also a verb of its own.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from agentdeck.core import budgets, limits, measured, rows_to_models, tasks, views
from agentdeck.core.models import Task, UsageTotals
from agentdeck.core.storage.tables import agent_t, task_label_t, task_t, usage_t
from agentdeck.core.storage.transaction import StoredRow, Tx

# Tasks a summary lists per part; `*_more` counts the rest, which `report` lists whole.
SUMMARY_ITEMS = 10


def task_scope(b: StoredRow, label: str | None) -> list[sa.ColumnElement[bool]]:
    """The board's tasks, or those carrying `label`."""
    where = [task_t.c.board_id == b["id"]]
    if label is not None:
        where.append(tasks.labelled(label))
    return where


def _seconds(conn: sa.Connection) -> sa.ColumnElement[Any]:
    """A done task's time from claim to finish, in seconds, in the backend's SQL."""
    if conn.dialect.name == "postgresql":
        return sa.func.extract("epoch", task_t.c.completed_at - task_t.c.started_at)
    return (
        sa.func.julianday(task_t.c.completed_at) - sa.func.julianday(task_t.c.started_at)
    ) * 86400.0


def time_per_task(tx: Tx, where: list[sa.ColumnElement[bool]]) -> dict[str, Any]:
    """Median and mean claim-to-finish time of the done tasks: a count and an average, then
    the middle one or two by an ordered offset (the database sorts, nothing is loaded)."""
    took = _seconds(tx.conn)
    timed = [*where, task_t.c.status == "done", task_t.c.started_at.is_not(None)]
    timed.append(task_t.c.completed_at.is_not(None))
    n, mean = tx.conn.execute(sa.select(sa.func.count(), sa.func.avg(took)).where(*timed)).one()
    if not n:
        return {"tasks": 0, "median_s": None, "mean_s": None}
    middle = tx.conn.execute(
        sa.select(took).where(*timed).order_by(took).offset((n - 1) // 2).limit(2 - n % 2)
    ).scalars()
    values = [float(v) for v in middle]
    return {
        "tasks": int(n),
        "median_s": round(sum(values) / len(values), 1),
        "mean_s": round(float(mean), 1),
    }


def finished_summary(
    tx: Tx, board: str | None = None, *, label: str | None = None, recent: int = SUMMARY_ITEMS
) -> dict[str, Any]:
    """Finished work in numbers, from SQL aggregates: tasks done, failed and cancelled, the
    `recent` most recently done (key and title), done per agent and per label (the
    `SUMMARY_ITEMS` largest, largest first, with a count of the rest). The markdown report adds the time per
    task (`time_per_task`), which reads every done task's times and so is left out here."""
    b = tx.board(board)
    where = task_scope(b, label)
    by_status: dict[str, int] = {
        status: int(n)
        for status, n in tx.conn.execute(
            sa.select(task_t.c.status, sa.func.count())
            .where(*where, task_t.c.status.in_(("done", "failed", "cancelled")))
            .group_by(task_t.c.status)
        )
    }
    done = [*where, task_t.c.status == "done"]
    n = sa.func.count().label("n")
    # Counted per assignee id on the covering claim index, then named: a join before the
    # count looked up the agent row of every done task (40,000 lookups at 100,000 tasks).
    per_id = tx.conn.execute(
        sa.select(task_t.c.assignee_id, n)
        .where(*done, task_t.c.assignee_id.is_not(None))
        .group_by(task_t.c.assignee_id)
    ).all()
    names: dict[int, str] = dict(  # the board's agents (one index range), not ids to bind
        tx.conn.execute(
            sa.select(agent_t.c.id, agent_t.c.name).where(agent_t.c.board_id == b["id"])
        ).all()
    )
    agents = sorted(((names[i], int(c)) for i, c in per_id), key=lambda a: (-a[1], a[0]))
    labels = tx.conn.execute(
        sa.select(task_label_t.c.label, n)
        .select_from(task_t.join(task_label_t, task_label_t.c.task_id == task_t.c.id))
        .where(*done)
        .group_by(task_label_t.c.label)
        .order_by(n.desc(), task_label_t.c.label)
    ).all()
    return {
        "done": int(by_status.get("done", 0)),
        "failed": int(by_status.get("failed", 0)),
        "cancelled": int(by_status.get("cancelled", 0)),
        "recent": [
            {"key": t.key, "title": views.clip(t.title, views.TITLE)}
            for t in recent_done(tx, where, recent)
        ],
        "by_agent": {a: int(c) for a, c in agents[:SUMMARY_ITEMS]},
        "agents_more": max(0, len(agents) - SUMMARY_ITEMS),
        "by_label": {lb: int(c) for lb, c in labels[:SUMMARY_ITEMS]},
        "labels_more": max(0, len(labels) - SUMMARY_ITEMS),
    }


def usage_sources(tx: Tx, board: str) -> dict[str, UsageTotals]:
    """Usage by source when runtimes report any (`measured.usage_by_source`), else nothing:
    a board without telemetry is asked one `LIMIT 1` question instead of a sum of its usage."""
    b = tx.board(board)
    seen = tx.conn.execute(
        sa.select(usage_t.c.id)
        .where(usage_t.c.board_id == b["id"], usage_t.c.source == "measured")
        .limit(1)
    ).first()
    return measured.usage_by_source(tx, board) if seen is not None else {}


def recent_done(tx: Tx, where: list[sa.ColumnElement[bool]], n: int) -> list[Task]:
    """The `n` most recently done tasks, newest first (`ix_task_finished` walked backwards)."""
    rows = (
        tx.conn.execute(
            sa.select(task_t)
            .where(*where, task_t.c.status == "done")
            .order_by(task_t.c.completed_at.desc(), task_t.c.id.desc())
            .limit(limits.row_window(n))
        )
        .mappings()
        .all()
    )
    return rows_to_models.tasks(tx.conn, rows, tx.now)


def oldest_waiting(tx: Tx, where: list[sa.ColumnElement[bool]], n: int) -> list[Task]:
    """The `n` tasks waiting on a human (review, escalated) longest, longest first."""
    rows = (
        tx.conn.execute(
            sa.select(task_t)
            .where(*where, task_t.c.status.in_(("review", "escalated")))
            .order_by(task_t.c.updated_at, task_t.c.id)
            .limit(limits.row_window(n))
        )
        .mappings()
        .all()
    )
    return rows_to_models.tasks(tx.conn, rows, tx.now)


def spent_on(tx: Tx, b: StoredRow, label: str | None) -> UsageTotals:
    """Usage on the board, or on the tasks carrying `label`: one sum."""
    if label is None:
        return budgets.usage_totals(tx, b["key"])  # the hourly rollup
    labelled = sa.select(task_t.c.id).where(*task_scope(b, label))
    return budgets.usage_sums(
        tx.conn, usage_t.c.board_id == b["id"], usage_t.c.task_id.in_(labelled)
    )


def gap_total(gaps: list[dict[str, Any]]) -> dict[str, Any]:
    """Measured minus reported, summed over the tasks both sources saw."""
    return {
        "tasks": len(gaps),
        "tokens": sum(g["measured"]["tokens"] - g["reported"]["tokens"] for g in gaps),
        "cost_usd": round(
            sum(g["measured"]["cost_usd"] - g["reported"]["cost_usd"] for g in gaps), 6
        ),
    }
