"""Measured usage: tokens and cost an agent's own runtime measured, received over OTLP.

The receiver (`agentdeck.core.otel`) decodes each request into `MeasuredPoint`s and hands them
here with the credential the request carried. This module decides what they add:

- **Who**: the member whose token it is, never a name the sender declares. An unknown or
  revoked credential is `NotAuthenticatedError` (the receiver answers 401).
- **Which task**: the one the sender pinned (`agentdeck.task`), which it must hold, else the
  task it holds now, else the board alone.
- **Only once**: every point is kept in `measure` under (sender, series, window end). A point
  already there is a resent batch; a cumulative total that did not grow adds nothing; a
  cumulative series adds what it grew since its last point (a new start or a smaller total
  is a restart: the whole total is new). A session's usage counts from the first signal that
  brought it (metrics, traces or logs), so a runtime exporting the same work twice, as a metric
  and as an event, is counted once.
- **How it counts**: through `budgets.apply_usage` as `measured` usage, so hard budgets act on
  it at once; for one agent on one task each figure counts the larger of what was measured and
  what the agent reported (`budgets.counted_increment`).

Each batch writes one usage row and one `usage` event (marked measured) per task and model.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from agentdeck.core import budgets, credentials, limits
from agentdeck.core.errors import DeckError, NotAuthenticatedError, ValidationError
from agentdeck.core.models import SIGNALS, Measured, MeasuredPoint, UsageTotals
from agentdeck.core.storage import dialect
from agentdeck.core.storage.tables import (
    agent_t,
    board_t,
    measure_t,
    refusal_t,
    task_t,
    usage_t,
)
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key
from agentdeck.core.words import plural

REASONS = ("credential", "malformed", "too large", "unsupported")
# A point stamped further ahead than this is refused: a wrong clock that would otherwise make
# every later point of its series look like an old one.
FUTURE_SLACK = timedelta(hours=1)
_FIGURES = ("tokens_in", "tokens_out", "cost_usd")


def member_by_token(tx: Tx, token: str) -> StoredRow:
    """The member (agent row, with its board's `board_key`) whose credential `token` is."""
    try:
        token = credentials.check_token(token, "the credential")
    except ValidationError:
        raise NotAuthenticatedError("the credential is not an agentdeck token") from None
    row = (
        tx.conn.execute(
            sa.select(agent_t, board_t.c.key.label("board_key"))
            .join(board_t, board_t.c.id == agent_t.c.board_id)
            .where(agent_t.c.token_hash == credentials.digest(token))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotAuthenticatedError("no member holds this credential (unknown or revoked)")
    return row


def sender(tx: Tx, token: str) -> str:
    """The name of the member whose credential `token` is (`NotAuthenticatedError` if none):
    how the receiver refuses an unknown sender before it reads what was sent."""
    return str(member_by_token(tx, token)["name"])


def record_measured(tx: Tx, token: str, points: Sequence[MeasuredPoint]) -> Measured:
    """Count one batch of measured usage from the member whose credential `token` is."""
    member = member_by_token(tx, token)
    b = tx.board_by_id(member["board_id"])
    name = str(member["name"])
    tx.auth[name] = credentials.BY_TOKEN
    dialect.usage_lock(tx.conn, member["id"])  # one batch of a sender at a time
    batch = _Batch(tx, b, member)
    for point in points:
        try:
            batch.add(point)
        except DeckError as exc:
            batch.rejected.append(str(exc))
    crossed = batch.flush()
    return Measured(
        agent=name,
        board=b["key"],
        counted=batch.counted,
        repeated=batch.repeated,
        other_signal=batch.other_signal,
        rejected=len(batch.rejected),
        errors=tuple(dict.fromkeys(batch.rejected))[:10],
        tasks=tuple(batch.keys),
        crossed=tuple(budgets.status_of(r) for r in crossed),
    )


class _Batch:
    """The points of one request, checked one by one and summed per task and model."""

    def __init__(self, tx: Tx, b: StoredRow, member: StoredRow) -> None:
        self.tx, self.b, self.member = tx, b, member
        self.counted = self.repeated = self.other_signal = 0
        self.rejected: list[str] = []
        self.keys: list[str] = []
        self.sums: dict[tuple[int | None, str], list[dict[str, Any]]] = {}
        self.tasks: dict[int | None, StoredRow | None] = {None: None}
        self.signal_of: dict[str, str | None] = {}

    def add(self, p: MeasuredPoint) -> None:
        figures = _checked(p, self.tx)
        task = self._task(p.task)
        if self._signal(p.session) not in (None, p.signal):
            self.other_signal += 1
            return
        added = self._store(p, figures)
        if added is None:
            self.repeated += 1
            return
        self.signal_of[p.session] = self.signal_of.get(p.session) or p.signal
        self.counted += 1
        if any(added.values()):
            self._sum(task, limits.line(p.model, 100), added)

    def _signal(self, session: str) -> str | None:
        """The signal this sender's `session` is counted from, None before its first point."""
        if session not in self.signal_of:
            self.signal_of[session] = self.tx.conn.execute(
                sa.select(measure_t.c.signal)
                .where(
                    measure_t.c.agent_id == self.member["id"],
                    measure_t.c.session == session,
                )
                .order_by(measure_t.c.id)
                .limit(1)
            ).scalar()
        return self.signal_of[session]

    def _task(self, pinned: str | None) -> StoredRow | None:
        """The task a point lands on: the pinned one, which the sender must hold; else the one
        it holds now; else None (the board)."""
        if not pinned:
            current = self.member["current_task_id"]
            if current not in self.tasks:
                self.tasks[current] = (
                    self.tx.conn.execute(sa.select(task_t).where(task_t.c.id == current))
                    .mappings()
                    .first()
                )
            return self.tasks[current]
        row = self.tx.task_row(pinned)
        if row["board_id"] != self.b["id"]:
            raise ValidationError(f"{pinned[:40]} is not a task of board {self.b['key']}")
        key = task_key(self.b["key"], row["number"])
        if row["assignee_id"] != self.member["id"] or row["status"] != "in_progress":
            raise ValidationError(
                f"agentdeck.task names {key}, which {self.member['name']} does not hold"
            )
        self.tasks[row["id"]] = row
        return row

    def _store(self, p: MeasuredPoint, figures: dict[str, Any]) -> dict[str, Any] | None:
        """Keep the point; return what it adds, or None when it was counted before."""
        c = measure_t.c
        mine = (c.agent_id == self.member["id"], c.series == p.series)
        if self.tx.conn.execute(sa.select(c.id).where(*mine, c.end_at == p.end)).first():
            return None
        added = dict(figures)
        if p.cumulative:
            last = (
                self.tx.conn.execute(
                    sa.select(measure_t).where(*mine).order_by(c.end_at.desc()).limit(1)
                )
                .mappings()
                .first()
            )
            if last is not None and last["end_at"] > p.end:
                return None  # an older total of a series already counted past it
            if last is not None and last["start_at"] == p.start:
                grown = {k: figures[k] - last[k] for k in _FIGURES}
                if all(v >= 0 for v in grown.values()):
                    added = grown  # else the total fell: a restart, the whole total is new
        self.tx.conn.execute(
            measure_t.insert().values(
                agent_id=self.member["id"],
                series=p.series,
                signal=p.signal,
                session=p.session,
                cumulative=p.cumulative,
                start_at=p.start,
                end_at=p.end,
                **figures,
            )
        )
        return added

    def _sum(self, task: StoredRow | None, model: str, added: dict[str, Any]) -> None:
        """Add to this batch's usage for (task, model); a sum past one row's range opens
        another row."""
        tid = task["id"] if task is not None else None
        self.tasks[tid] = task
        rows = self.sums.setdefault((tid, model), [])
        if not rows or any(
            rows[-1][k] + added[k] > limits.MAX_ROW for k in ("tokens_in", "tokens_out")
        ):
            rows.append({"tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0})
        for k in _FIGURES:
            rows[-1][k] += added[k]

    def flush(self) -> list[StoredRow]:
        """Record the batch's usage: one usage row and event per task and model."""
        crossed: list[StoredRow] = []
        for (tid, model), rows in self.sums.items():
            task = self.tasks[tid]
            key = task_key(self.b["key"], task["number"]) if task is not None else ""
            if key not in self.keys:
                self.keys.append(key)
            for figures in rows:
                usage = {
                    **figures,
                    "cost_usd": min(figures["cost_usd"], 1e9),
                    "cpu_seconds": 0.0,
                    "gpu_seconds": 0.0,
                    "model": model,
                }
                crossed += self._record(task, usage)
        return crossed

    def _record(self, task: StoredRow | None, usage: dict[str, Any]) -> list[StoredRow]:
        tx, b, name = self.tx, self.b, str(self.member["name"])
        crossed = budgets.apply_usage(
            tx, b, task, name, usage, source="measured", member=self.member
        )
        total = usage["tokens_in"] + usage["tokens_out"]
        tx.event(
            b["id"],
            task["id"] if task is not None else None,
            name,
            "usage",
            usage["model"],
            f"measured {plural(total, 'token')}, ${usage['cost_usd']:.4f}",
            {**{k: v for k, v in usage.items() if v}, "source": "measured"},
        )
        for row in crossed:
            if budgets.spent(row):
                budgets.stop(tx, b, row)
        return crossed


def _checked(p: MeasuredPoint, tx: Tx) -> dict[str, Any]:
    """The point's figures, or `ValidationError` saying what is wrong with it."""
    if p.signal not in SIGNALS:
        raise ValidationError(f"unknown signal {p.signal[:20]!r}")
    if not p.series or len(p.series) > 200:
        raise ValidationError("a point needs a series name of 1 to 200 characters")
    if len(p.session) > 200:
        raise ValidationError("a session id is at most 200 characters")
    if p.end - tx.now > FUTURE_SLACK:
        raise ValidationError(
            f"a point stamped {p.end.isoformat(timespec='seconds')} is in the future "
            "(check the sender's clock)"
        )
    return {
        "tokens_in": limits.count(p.tokens_in, "tokens_in"),
        "tokens_out": limits.count(p.tokens_out, "tokens_out"),
        "cost_usd": limits.amount(p.cost_usd, "cost_usd"),
    }


def count_refusal(tx: Tx, reason: str) -> None:
    """Count one request the receiver refused, under today's date (UTC) and `reason`."""
    if reason not in REASONS:
        raise ValidationError(f"unknown refusal reason {reason[:40]!r}")
    day = tx.now.date().isoformat()
    insert: Any
    if tx.conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(refusal_t).values(day=day, reason=reason, count=1)
    tx.conn.execute(
        statement.on_conflict_do_update(
            index_elements=["day", "reason"], set_={"count": refusal_t.c.count + 1}
        )
    )


def refusals(tx: Tx, *, days: int = 1) -> dict[str, int]:
    """Requests the receiver refused in the last `days` days (today counts as one), by
    reason; reasons with none are left out."""
    since = (tx.now.date() - timedelta(days=days - 1)).isoformat()
    rows = tx.conn.execute(
        sa.select(refusal_t.c.reason, sa.func.sum(refusal_t.c.count))
        .where(refusal_t.c.day >= since)
        .group_by(refusal_t.c.reason)
        .order_by(refusal_t.c.reason)
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def usage_by_source(
    tx: Tx, board: str | None = None, *, task: str | None = None
) -> dict[str, UsageTotals]:
    """The figures as given on a board (or one task), summed per source: "reported" and
    "measured", each present only when there is some. The gap between them is what one
    source saw and the other did not."""
    if task is not None:
        row, _ = tx.task(task)
        where = usage_t.c.task_id == row["id"]
    else:
        where = usage_t.c.board_id == tx.board(board)["id"]
    rows = tx.conn.execute(
        sa.select(
            usage_t.c.source,
            sa.func.sum(usage_t.c.raw_tokens_in),
            sa.func.sum(usage_t.c.raw_tokens_out),
            sa.func.sum(usage_t.c.raw_cost_usd),
            sa.func.sum(usage_t.c.cpu_seconds),
            sa.func.sum(usage_t.c.gpu_seconds),
        )
        .where(where)
        .group_by(usage_t.c.source)
        .order_by(usage_t.c.source.desc())
    ).all()
    return {
        str(r[0]): UsageTotals(int(r[1]), int(r[2]), float(r[3]), float(r[4]), float(r[5]))
        for r in rows
    }


def usage_gaps(tx: Tx, board: str | None = None, *, limit: int | None = 10) -> list[dict[str, Any]]:
    """The tasks with both reported and measured usage, the largest gaps first (by cost, then
    tokens), at most `limit` (None: all): each `{key, reported, measured}` with tokens and
    cost per source. On the board alone (usage outside any task) the key is ""."""
    b = tx.board(board)
    raw = (
        sa.func.sum(usage_t.c.raw_tokens_in + usage_t.c.raw_tokens_out).label("tokens"),
        sa.func.sum(usage_t.c.raw_cost_usd).label("cost_usd"),
    )
    rows = tx.conn.execute(
        sa.select(usage_t.c.task_id, usage_t.c.source, *raw, task_t.c.number)
        .outerjoin(task_t, task_t.c.id == usage_t.c.task_id)
        .where(
            usage_t.c.board_id == b["id"],
            usage_t.c.task_id.in_(
                sa.select(usage_t.c.task_id)
                .where(usage_t.c.board_id == b["id"], usage_t.c.source == "measured")
                .scalar_subquery()
            )
            | (
                usage_t.c.task_id.is_(None)
                & sa.exists().where(
                    usage_t.c.board_id == b["id"],
                    usage_t.c.source == "measured",
                    usage_t.c.task_id.is_(None),
                )
            ),
        )
        .group_by(usage_t.c.task_id, usage_t.c.source, task_t.c.number)
    ).mappings()
    per_task: dict[int | None, dict[str, Any]] = {}
    for r in rows:
        key = task_key(b["key"], r["number"]) if r["task_id"] is not None else ""
        entry = per_task.setdefault(r["task_id"], {"key": key})
        entry[r["source"]] = {"tokens": int(r["tokens"]), "cost_usd": float(r["cost_usd"])}
    both = [e for e in per_task.values() if "reported" in e and "measured" in e]

    def gap(e: dict[str, Any]) -> tuple[float, int]:
        m, r = e["measured"], e["reported"]
        return abs(m["cost_usd"] - r["cost_usd"]), abs(m["tokens"] - r["tokens"])

    return sorted(both, key=gap, reverse=True)[:limit]
