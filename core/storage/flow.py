"""Flow: how each board's scope and done-ness changed, per minute, kept as events are written.

The burn-down, throughput and forecast read this rollup (a few thousand rows for a board's
whole life), never the event history: at 100,000 tasks and a million events replaying the
history took seconds and hundreds of megabytes. `Tx.flush_events` adds each transaction's
changes in the same transaction as its events, so the rollup can never disagree with the
trail; an import that writes history directly rebuilds its board's rows (`rebuild`).

Per board and minute (UTC, minutes since the epoch): `scope` is tasks added minus tasks
cancelled (plus cancellations undone), `done` is tasks finished minus finished tasks reopened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import event_t, flow_t

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
    conn: sa.Connection, events: Iterable[Mapping[str, Any]] | Iterable[sa.RowMapping]
) -> None:
    """Add the changes of `events` (rows as `Tx.event` builds them) to the rollup."""
    sums: dict[tuple[int, int], list[int]] = {}
    for e in events:
        if e["kind"] not in KINDS:
            continue
        scope, done = delta(e["kind"], e["data"] or {})
        if scope or done:
            cell = sums.setdefault((e["board_id"], minute(e["created_at"])), [0, 0])
            cell[0] += scope
            cell[1] += done
    if sums:
        _upsert(
            conn,
            [
                {"board_id": b, "minute": m, "scope": s, "done": d}
                for (b, m), (s, d) in sums.items()
            ],
        )


# Per backend, the statement that adds to a cell; built on first use (every finished task runs
# it, and building it cost more than running it), not at import (the dialect modules are big).
_UPSERT: dict[str, Prepared] = {}


def _upsert(conn: sa.Connection, rows: list[dict[str, int]]) -> None:
    """INSERT each (board, minute) cell, or add to the one there."""
    name = conn.dialect.name
    prepared = _UPSERT.get(name)
    if prepared is None:
        insert: Any
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(flow_t)
        prepared = _UPSERT[name] = Prepared(
            statement.on_conflict_do_update(
                index_elements=["board_id", "minute"],
                set_={
                    "scope": flow_t.c.scope + statement.excluded.scope,
                    "done": flow_t.c.done + statement.excluded.done,
                },
            )
        )
    prepared.run_many(conn, rows)


def rebuild(conn: sa.Connection, board_id: int) -> None:
    """Recompute a board's rollup from its events (after an import wrote history directly)."""
    conn.execute(flow_t.delete().where(flow_t.c.board_id == board_id))
    rows = conn.execute(
        sa.select(event_t.c.board_id, event_t.c.kind, event_t.c.data, event_t.c.created_at)
        .where(event_t.c.board_id == board_id, event_t.c.kind.in_(KINDS))
        .order_by(event_t.c.id)
    ).mappings()
    record(conn, rows.all())
