"""Flow: how each board's scope and done-ness changed, per minute, kept as events are written.

The burn-down, throughput and forecast read this rollup (a few thousand rows for a board's
whole life), never the event history: at 100,000 tasks and a million events replaying the
history took seconds and hundreds of megabytes. `Tx.flush_events` adds each transaction's
changes in the same transaction as its events, so the rollup can never disagree with the
trail; an import that writes history directly rebuilds its board's rows (`rebuild`).

Per board and minute (UTC, minutes since the epoch): `scope` is tasks added minus tasks
cancelled (plus cancellations undone), `done` is tasks finished minus finished tasks reopened.
The same sums are kept per hour (`flow_hour`, hours since the epoch) for the burn-down of a
long-lived board: 60 days of steady work is ~85,000 minute rows but 1,440 hour rows, and a
chart of `metrics.MAX_POINTS` points over weeks cannot show minutes anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from agentdeck.core.storage import dialect
from agentdeck.core.storage.tables import event_t, flow_hour_t, flow_t

# The only event kinds that can change scope (created, cancelled) or done-ness.
KINDS = ("created", "status", "approval", "reopened")


def delta(kind: str, data: Mapping[str, Any]) -> tuple[int, int]:
    """(scope, done) change of one event."""
    if kind == "created":
        return 1, 0
    if kind not in KINDS:
        return 0, 0
    before, after = data.get("from"), data.get("to")
    scope = done = 0
    if after == "cancelled" and before != "cancelled":
        scope = -1
    elif before == "cancelled" and after != "cancelled":
        scope = 1
    if after == "done" and before != "done":
        done = 1
    elif before == "done" and after != "done":
        done = -1
    return scope, done


def minute(at: datetime) -> int:
    """Minutes since the epoch of an aware (or naive UTC) time."""
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() // 60)


def record(
    conn: sa.Connection,
    events: Iterable[Mapping[str, Any]] | Iterable[sa.RowMapping],
    *,
    hours: bool = True,
) -> None:
    """Add the changes of `events` (rows as `Tx.event` builds them) to the rollup, per minute
    and (unless `hours` is false: a schema from before `flow_hour`) per hour."""
    sums: dict[tuple[int, int], list[int]] = {}
    for e in events:
        if e["kind"] not in KINDS:
            continue
        scope, done = delta(e["kind"], e["data"] or {})
        if scope or done:
            cell = sums.setdefault((e["board_id"], minute(e["created_at"])), [0, 0])
            cell[0] += scope
            cell[1] += done
    if not sums:
        return
    dialect.add_to_cells(
        conn,
        flow_t,
        [{"board_id": b, "minute": m, "scope": s, "done": d} for (b, m), (s, d) in sums.items()],
    )
    if hours:
        by_hour: dict[tuple[int, int], list[int]] = {}
        for (b, m), (s, d) in sums.items():
            cell = by_hour.setdefault((b, m // 60), [0, 0])
            cell[0] += s
            cell[1] += d
        dialect.add_to_cells(
            conn,
            flow_hour_t,
            [
                {"board_id": b, "hour": h, "scope": s, "done": d}
                for (b, h), (s, d) in by_hour.items()
            ],
        )


def rebuild(conn: sa.Connection, board_id: int, *, hours: bool = True) -> None:
    """Recompute a board's rollup from its events (after an import wrote history directly);
    `hours=False` for a schema from before `flow_hour` (the migration that made `flow`)."""
    conn.execute(flow_t.delete().where(flow_t.c.board_id == board_id))
    if hours:
        conn.execute(flow_hour_t.delete().where(flow_hour_t.c.board_id == board_id))
    rows = conn.execute(
        sa.select(event_t.c.board_id, event_t.c.kind, event_t.c.data, event_t.c.created_at)
        .where(event_t.c.board_id == board_id, event_t.c.kind.in_(KINDS))
        .order_by(event_t.c.id)
    ).mappings()
    record(conn, rows.all(), hours=hours)
