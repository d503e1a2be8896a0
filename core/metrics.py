"""Burn-down: open tasks over time, replayed from the event log, with an ideal line to the due
date and a forecast from recent throughput. Computed here; the TUI only draws it.

The verb here: burndown (one read, then the arithmetic outside the transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from agentdeck.core.models import BurnDown, BurnDownPoint
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import event_t

MAX_POINTS = 240
THROUGHPUT_WINDOW = timedelta(days=7)
# Only these events can change scope (created, cancelled) or done-ness.
_SCOPE_KINDS = ("created", "status", "approval", "reopened")


def replay(changes: list[tuple[datetime, str, dict]]) -> list[tuple[datetime, int, int]]:
    """(time, open, scope) after each change, from (time, kind, data) events in order."""
    scope = done = 0
    series: list[tuple[datetime, int, int]] = []
    for at, kind, data in changes:
        before, after = data.get("from"), data.get("to")
        if kind == "created":
            scope += 1
        else:
            if after == "cancelled" and before != "cancelled":
                scope -= 1
            if after == "done" and before != "done":
                done += 1
            elif before == "done" and after != "done":
                done -= 1
        if series and series[-1][0] == at:
            series.pop()  # one state per instant: a plan's tasks arrive together
        series.append((at, scope - done, scope))
    return series


def downsample(series: list[tuple[datetime, int, int]], end: datetime) -> list[BurnDownPoint]:
    """At most MAX_POINTS evenly spaced samples of a step series, ending at `end`."""
    if not series:
        return []
    if len(series) <= MAX_POINTS - 1:
        points = [BurnDownPoint(at=at, open=o, scope=sc) for at, o, sc in series]
        last = series[-1]
        return [*points, BurnDownPoint(at=max(end, last[0]), open=last[1], scope=last[2])]
    start = series[0][0]
    span = max((end - start).total_seconds(), 1.0)
    step = span / (MAX_POINTS - 1)
    points, i, current = [], 0, series[0]
    for n in range(MAX_POINTS):
        at = start + timedelta(seconds=step * n)
        while i < len(series) and series[i][0] <= at:
            current = series[i]
            i += 1
        points.append(BurnDownPoint(at=at, open=current[1], scope=current[2]))
    return points


def throughput(changes: list[tuple[datetime, str, dict]], now: datetime) -> float:
    """Net tasks finished per day over the last week (reopens count against)."""
    since = now - THROUGHPUT_WINDOW
    net = 0
    for at, _, data in changes:
        if at < since:
            continue
        if data.get("to") == "done" and data.get("from") != "done":
            net += 1
        elif data.get("from") == "done" and data.get("to") != "done":
            net -= 1
    return max(net, 0) / THROUGHPUT_WINDOW.days


def burndown(db: Database, board: str | None = None) -> BurnDown:
    """Open tasks over time for a board, with the ideal line and a throughput forecast."""
    with db.read() as tx:
        b = tx.board(board)
        rows = tx.conn.execute(
            sa.select(event_t.c.created_at, event_t.c.kind, event_t.c.data)
            .where(event_t.c.board_id == b["id"], event_t.c.kind.in_(_SCOPE_KINDS))
            .order_by(event_t.c.id)
        ).all()
        now = tx.now
    changes = sorted(((at, kind, data or {}) for at, kind, data in rows), key=lambda c: c[0])
    series = replay(changes)
    points = downsample(series, max(now, series[-1][0]) if series else now)
    due = b["due_at"]
    ideal: tuple[BurnDownPoint, ...] = ()
    if points and due is not None and due > points[0].at:
        first = points[0]
        start = max(points[:2], key=lambda p: p.open)
        ideal = (
            BurnDownPoint(first.at, start.open, start.scope),
            BurnDownPoint(due, 0, points[-1].scope),
        )
    rate = throughput(changes, now)
    forecast: tuple[BurnDownPoint, ...] = ()
    done_at = None
    if points and rate > 0 and points[-1].open > 0:
        last = points[-1]
        done_at = last.at + timedelta(days=last.open / rate)
        forecast = (last, BurnDownPoint(done_at, 0, last.scope))
    elif points and points[-1].open == 0:
        done_at = series[-1][0]  # when the last open task finished, not now
    return BurnDown(
        points=tuple(points),
        ideal=ideal,
        forecast=forecast,
        due_at=due,
        forecast_done_at=done_at,
        throughput_per_day=round(rate, 3),
    )
