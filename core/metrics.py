"""Burn-down: open tasks and scope over time, with an ideal line to the due date and a forecast
from recent throughput, with its range. Computed here; the interfaces only draw it.

Everything is read from the rollups `storage.flow` keeps as events are written, in SQL sums
over at most `MAX_POINTS` buckets: per minute while a board is young (under `MAX_POINTS`
hours), per hour after, so the cost depends on the board's age, never on its tasks or events
(60 days of steady work is ~1,440 hour rows).

The forecast waits for enough history (`MIN_DONE` tasks finished over at least `MIN_SPAN`);
until then `forecast_note` says why there is none. Its range comes from the uncertainty of a
rate measured from few completions (a Poisson count: n +/- 1.96 sqrt(n) finished in the window).

Cost over time (`cost_over_time`) sums the usage table per time bucket and agent (or model)
in SQL: at most `buckets` x spenders rows come back, whatever the number of usage rows.

Throughput (`throughput`) is tasks finished per day, one grouped sum over the rollup.

The verbs here: burndown, cost_over_time and throughput (one read each).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from agentdeck.core.errors import ValidationError
from agentdeck.core.models import BurnDown, BurnDownPoint, CostLine, CostSeries
from agentdeck.core.storage import flow, spend
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import agent_t, flow_hour_t, flow_t, spend_t
from agentdeck.core.storage.transaction import Tx

MAX_POINTS = 240  # buckets of the series, each stamped at its last change
THROUGHPUT_WINDOW = timedelta(days=7)
MIN_DONE = 5  # finished tasks in the window before a forecast means anything
MIN_SPAN = timedelta(minutes=10)  # and the history they finished over
_Z = 1.96  # a 95% range
NO_TASKS = "no forecast: no tasks yet"
_DAY = 1440  # minutes


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


def _span_words(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} hours"
    return f"{round(hours / 24)} days"


def burndown(db: Database, board: str | None = None) -> BurnDown:
    """Open tasks over time for a board, with the ideal line and a throughput forecast."""
    with db.read() as tx:
        b = tx.board(board)
        now = tx.now
        of_board = flow_t.c.board_id == b["id"]
        first, last = tx.conn.execute(
            sa.select(sa.func.min(flow_t.c.minute), sa.func.max(flow_t.c.minute)).where(of_board)
        ).one()
        if first is None:
            return BurnDown((), (), (), b["due_at"], None, 0.0, forecast_note=NO_TASKS)
        end = max(flow.minute(now), last)
        step = max(1, math.ceil((end - first + 1) / (MAX_POINTS - 2)))  # + opening and now
        buckets = _buckets(tx.conn, b["id"], first, end, step)
        # The series starts where the board's history does, with its first minute's state.
        opening = tx.conn.execute(
            sa.select(flow_t.c.scope, flow_t.c.done).where(of_board, flow_t.c.minute == first)
        ).one()
        since = max(now - THROUGHPUT_WINDOW, _at(first))
        recent = tx.conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(flow_t.c.done), 0)).where(
                of_board, flow_t.c.minute >= flow.minute(since)
            )
        ).scalar_one()
        last_done = tx.conn.execute(  # the primary key walked backwards to the first hit
            sa.select(flow_t.c.minute)
            .where(of_board, flow_t.c.done > 0)
            .order_by(flow_t.c.minute.desc())
            .limit(1)
        ).scalar()
    scope = done = 0
    points = [BurnDownPoint(_at(first), opening[0] - opening[1], opening[0])]
    for at, scope_change, done_change in buckets:  # each stamped at its last change
        scope += int(scope_change)
        done += int(done_change)
        if int(at) != first:
            points.append(BurnDownPoint(_at(int(at)), scope - done, scope))
    final = points[-1]
    points.append(BurnDownPoint(max(now, final.at), final.open, final.scope))
    due = b["due_at"]
    ideal: tuple[BurnDownPoint, ...] = ()
    if due is not None and due > points[0].at:
        start = max(points[:2], key=lambda p: p.open)
        ideal = (
            BurnDownPoint(points[0].at, start.open, start.scope),
            BurnDownPoint(due, 0, final.scope),
        )
    window = now - since
    finished = max(int(recent), 0)
    days = max(window.total_seconds(), 60.0) / 86400
    rate = finished / days
    forecast: tuple[BurnDownPoint, ...] = ()
    done_at = early = late = None
    note = ""
    last_point = points[-1]
    if last_point.open == 0:
        done_at = _at(last_done) if last_done is not None else None
    elif finished < MIN_DONE or window < MIN_SPAN:
        note = (
            f"no forecast yet: {finished} task{'s' if finished != 1 else ''} finished over "
            f"{_span_words(window)} (it needs {MIN_DONE} over at least {_span_words(MIN_SPAN)})"
        )
        if finished == 0 and window >= MIN_SPAN:
            note = f"no forecast: nothing finished in the last {_span_words(window)}"
    else:
        done_at = now + timedelta(days=last_point.open / rate)
        spread = _Z * math.sqrt(finished)
        early = now + timedelta(days=last_point.open / ((finished + spread) / days))
        slow = (finished - spread) / days
        late = now + timedelta(days=last_point.open / slow) if slow > 0 else None
        forecast = (last_point, BurnDownPoint(done_at, 0, last_point.scope))
    return BurnDown(
        points=tuple(points),
        ideal=ideal,
        forecast=forecast,
        due_at=due,
        forecast_done_at=done_at,
        throughput_per_day=round(rate, 3),
        forecast_early=early,
        forecast_late=late,
        forecast_note=note,
    )


def _buckets(
    conn: sa.Connection, board_id: int, first: int, end: int, step: int
) -> list[tuple[int, int, int]]:
    """(stamp minute, scope change, done change) per bucket of `step` minutes from `first`,
    in order, each stamped at its last change. A bucket of an hour or more is summed from the
    hour rollup in whole hours (a long board's ~1,440 rows per 60 days instead of ~85,000),
    stamped at the end of its last changed hour (never before `first` nor after `end`)."""
    by_hour = step >= 60
    table, at = (flow_hour_t, flow_hour_t.c.hour) if by_hour else (flow_t, flow_t.c.minute)
    start, per = (first // 60, math.ceil(step / 60)) if by_hour else (first, step)
    bucket = ((at - start) // per).label("bucket")
    rows = conn.execute(
        sa.select(sa.func.max(at), sa.func.sum(table.c.scope), sa.func.sum(table.c.done))
        .where(table.c.board_id == board_id)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    if not by_hour:
        return [(int(stamp), int(s), int(d)) for stamp, s, d in rows]
    return [(min(max(int(h) * 60 + 59, first), end), int(s), int(d)) for h, s, d in rows]


# Bucket lengths a cost chart may use, shortest first: whole hours and days, so bars line up
# with the clock.
HOUR = 3600
BUCKET_SECONDS = (HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 7 * 24 * HOUR)
MAX_COST_BUCKETS = 96
COST_BY = ("agent", "model")
OTHERS = "others"


def bucket_seconds(span: timedelta, buckets: int) -> int:
    """The shortest bucket in `BUCKET_SECONDS` that covers `span` in at most `buckets`; for
    longer spans, whole days."""
    seconds = max(span.total_seconds(), 1.0)
    for size in BUCKET_SECONDS:
        if seconds / size <= buckets:
            return size
    days = math.ceil(seconds / buckets / BUCKET_SECONDS[4])
    return days * BUCKET_SECONDS[4]


def cost_over_time(
    tx: Tx, board: str | None = None, *, by: str = "agent", buckets: int = 24, top: int = 5
) -> CostSeries:
    """The board's cost per time bucket for each agent (`by="agent"`) or model (`by="model"`),
    from its first usage to now in at most `buckets` buckets; the `top` biggest spenders each
    get a line, the rest are summed as "others". Usage recorded without an agent is "(board)",
    without a model "(no model)"."""
    if by not in COST_BY:
        raise ValidationError(f"cost by {by!r}: choose one of {', '.join(COST_BY)}")
    if not 1 <= buckets <= MAX_COST_BUCKETS:
        raise ValidationError(f"buckets must be 1..{MAX_COST_BUCKETS}, not {buckets}")
    b = tx.board(board)
    of_board = spend_t.c.board_id == b["id"]
    first_hour = tx.conn.execute(sa.select(sa.func.min(spend_t.c.hour)).where(of_board)).scalar()
    if first_hour is None:
        return CostSeries(by, BUCKET_SECONDS[0], (), (), 0.0)
    # From the hourly rollup (`storage.spend`): buckets are whole hours, so the first usage's
    # hour gives the same origin as its exact time.
    first = datetime.fromtimestamp(int(first_hour) * spend.HOUR, UTC)
    now = max(tx.now, first)
    size = bucket_seconds(now - first, buckets)
    origin = int(first.timestamp()) // size * size
    count = (int(now.timestamp()) - origin) // size + 1
    bucket = ((spend_t.c.hour - origin // spend.HOUR) // (size // spend.HOUR)).label("bucket")
    key = spend_t.c.agent_id if by == "agent" else spend_t.c.model
    sums = tx.conn.execute(
        sa.select(bucket, key.label("key"), sa.func.sum(spend_t.c.cost_usd))
        .where(of_board)
        .group_by(bucket, key)
    ).all()
    names: dict[Any, str | None] = {}
    if by == "agent":
        names = dict(
            tx.conn.execute(
                sa.select(agent_t.c.id, agent_t.c.name).where(agent_t.c.board_id == b["id"])
            ).all()
        )
    rows = [(index, names.get(k) if by == "agent" else k, cost) for index, k, cost in sums]
    blank = "(board)" if by == "agent" else "(no model)"
    costs: dict[str, list[float]] = {}
    for index, who, cost in rows:
        line = costs.setdefault(who or blank, [0.0] * count)
        line[min(max(int(index), 0), count - 1)] += float(cost or 0.0)
    ranked = sorted(costs.items(), key=lambda item: (-sum(item[1]), item[0]))
    kept = ranked if len(ranked) <= top + 1 else ranked[: max(top, 0)]
    rest = ranked[len(kept) :]
    lines = [CostLine(n, tuple(round(c, 6) for c in v), round(sum(v), 6)) for n, v in kept]
    if rest:
        summed = [sum(v[i] for _, v in rest) for i in range(count)]
        lines.append(CostLine(OTHERS, tuple(round(c, 6) for c in summed), round(sum(summed), 6)))
    starts = tuple(datetime.fromtimestamp(origin + i * size, UTC) for i in range(count))
    total = round(sum(line.total for line in lines), 6)
    return CostSeries(by, size, starts, tuple(lines), total)


def throughput(tx: Tx, board: str | None = None, *, days: int = 7) -> dict[str, Any]:
    """Tasks finished per day over the last `days` (1 to 366) days, from the flow rollup: one
    grouped sum over at most `days` x 1,440 rollup rows, whatever the board's size.

    `{"days", "done", "per_day", "by_day": [{"day": "YYYY-MM-DD", "done": n}, ...]}`: each UTC
    day of the window, oldest first, with tasks finished minus finished tasks reopened."""
    days = min(max(int(days), 1), 366)
    b = tx.board(board)
    today = flow.minute(tx.now) // _DAY
    first = today - days + 1
    day = (flow_t.c.minute // _DAY).label("day")
    rows: dict[int, int] = {
        int(d): int(n or 0)
        for d, n in tx.conn.execute(
            sa.select(day, sa.func.sum(flow_t.c.done))
            .where(flow_t.c.board_id == b["id"], flow_t.c.minute >= first * _DAY)
            .group_by(day)
        )
    }
    counts = [int(rows.get(d) or 0) for d in range(first, today + 1)]
    by_day = [
        {"day": _at(d * _DAY).date().isoformat(), "done": n}
        for d, n in zip(range(first, today + 1), counts, strict=True)
    ]
    done = sum(counts)
    return {"days": days, "done": done, "per_day": round(done / days, 3), "by_day": by_day}
