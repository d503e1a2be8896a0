"""Spend: each board's counted usage per hour, agent and model, kept as usage is written.

The cost chart (`metrics.cost_over_time`) and the board's and an agent's usage totals
(`budgets.usage_totals`) read this rollup instead of summing every usage row: an agent that
reports usage on every call writes millions of rows, and summing them took over a second at
1,000,000 tasks. Its size is the board's active hours times its spenders, whatever the calls.

Each row sums the *counted* figures of the usage rows it covers (the columns budgets run on,
`budgets.counted_increment`), so totals read here equal sums over the usage table. A row
without an agent has `agent_id` 0, one without a model `model` "". `record` adds rows in the
same transaction as the usage it covers; an import that writes usage directly calls it too,
and `rebuild` recomputes a board's rows from its usage (the migration that made the table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from agentdeck.core.storage import dialect
from agentdeck.core.storage.tables import spend_t, usage_t

HOUR = 3600
FIGURES = ("tokens_in", "tokens_out", "cost_usd", "cpu_seconds", "gpu_seconds")


def hour(at: datetime) -> int:
    """Hours since the epoch of an aware (or naive UTC) time."""
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() // HOUR)


def epoch_seconds(conn: sa.Connection, column: sa.ColumnElement[datetime]) -> sa.ColumnElement[int]:
    """Whole seconds since the epoch of a naive-UTC timestamp column, on either backend."""
    if conn.dialect.name == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", column), sa.Integer)


def record(conn: sa.Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add usage rows (as inserted into `usage`: board_id, agent_id, model, created_at and
    the counted figures) to the rollup, one upsert per (board, hour, agent, model) cell."""
    cells: dict[tuple[int, int, int, str], list[float]] = {}
    for r in rows:
        key = (r["board_id"], hour(r["created_at"]), r.get("agent_id") or 0, r.get("model") or "")
        cell = cells.setdefault(key, [0] * len(FIGURES))
        for i, figure in enumerate(FIGURES):
            cell[i] += r.get(figure) or 0
    dialect.add_to_cells(
        conn,
        spend_t,
        [
            {
                "board_id": b,
                "hour": h,
                "agent_id": a,
                "model": m,
                **dict(zip(FIGURES, sums, strict=True)),
            }
            for (b, h, a, m), sums in cells.items()
        ],
    )


def rebuild(conn: sa.Connection, board_id: int) -> None:
    """Recompute a board's rollup from its usage rows, in one grouped INSERT … SELECT."""
    conn.execute(spend_t.delete().where(spend_t.c.board_id == board_id))
    at = (epoch_seconds(conn, usage_t.c.created_at) // HOUR).label("hour")
    agent = sa.func.coalesce(usage_t.c.agent_id, 0).label("agent_id")
    model = sa.func.coalesce(usage_t.c.model, "").label("model")
    grouped = (
        sa.select(
            usage_t.c.board_id,
            at,
            agent,
            model,
            *(sa.func.sum(usage_t.c[f]).label(f) for f in FIGURES),
        )
        .where(usage_t.c.board_id == board_id)
        .group_by(usage_t.c.board_id, at, agent, model)
    )
    conn.execute(
        spend_t.insert().from_select(["board_id", "hour", "agent_id", "model", *FIGURES], grouped)
    )


def totals(conn: sa.Connection, board_id: int, agent_id: int | None = None) -> tuple[Any, ...]:
    """The board's (or one agent's on it) counted figures, summed over the rollup, in
    `FIGURES` order."""
    where = [spend_t.c.board_id == board_id]
    if agent_id is not None:
        where.append(spend_t.c.agent_id == agent_id)
    return tuple(
        conn.execute(
            sa.select(*(sa.func.coalesce(sa.func.sum(spend_t.c[f]), 0) for f in FIGURES)).where(
                *where
            )
        ).one()
    )
