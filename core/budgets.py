"""Usage and budgets: what the workforce burned, and the limits on how much it may burn.

Each budget keeps a running `used` total, bumped in the same transaction as the usage row, and a
`hard_hit` flag, so checking a verb against hard limits is one indexed look-up, not a sum over
history. A spent hard budget stops the work in its scope (the board, one agent's work, or one
task): the usage that crossed it is recorded, every task in progress in the scope goes to Needs
human with reason `budget` (`stop`), and from then on the agent verbs on work in the scope are
refused (`require_within_budget`, exit 4) until a human sets a limit above what is used.
Verbs here: set_budget, budget_status, usage_totals; usage itself is recorded by
`work.record_usage` through apply_usage.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from agentdeck.core import inbox, limits, moves, permissions, views
from agentdeck.core.errors import OverBudgetError, ValidationError
from agentdeck.core.models import METRICS, BudgetStatus, UsageTotals
from agentdeck.core.storage import dialect, spend
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import agent_t, budget_t, task_t, usage_t
from agentdeck.core.storage.transaction import StoredRow, Tx, split_key, task_key

SCOPES = ("board", "agent", "task")
SYSTEM = "agentdeck"  # the actor of a stop's escalations: the budget's rule, not a person
_UNITS = {"tokens": "tokens", "cost_usd": "USD", "cpu_hours": "CPU h", "gpu_hours": "GPU h"}


def metric_amounts(usage: dict[str, Any]) -> dict[str, float]:
    """A usage row's contribution to each budget metric."""
    return {
        "tokens": float(usage["tokens_in"] + usage["tokens_out"]),
        "cost_usd": float(usage["cost_usd"]),
        "cpu_hours": float(usage["cpu_seconds"]) / 3600.0,
        "gpu_hours": float(usage["gpu_seconds"]) / 3600.0,
    }


def used_sum(metric: str) -> Any:
    """The SQL sum of usage rows in a budget metric's unit."""
    return {
        "tokens": sa.func.sum(usage_t.c.tokens_in + usage_t.c.tokens_out),
        "cost_usd": sa.func.sum(usage_t.c.cost_usd),
        "cpu_hours": sa.func.sum(usage_t.c.cpu_seconds) / 3600.0,
        "gpu_hours": sa.func.sum(usage_t.c.gpu_seconds) / 3600.0,
    }[metric]


# The budget statements every claim and usage record runs, built once. The budgets that apply:
# the board's, the agent's (p_agent) and the task's (p_key; None matches no subject).
_SCOPE = sa.or_(
    budget_t.c.scope == "board",
    sa.and_(budget_t.c.scope == "agent", budget_t.c.subject == sa.bindparam("p_agent")),
    sa.and_(budget_t.c.scope == "task", budget_t.c.subject == sa.bindparam("p_key")),
)
_OF_BOARD = budget_t.c.board_id == sa.bindparam("p_board_id")
_EXHAUSTED = Prepared(sa.select(budget_t).where(_OF_BOARD, budget_t.c.hard_hit, _SCOPE).limit(1))
# For statements that act only within budget (a holder's write renewing its lease): true when
# a hard budget over board p_board_id, agent p_agent or task p_key is spent.
SPENT_OVER = sa.exists().where(_OF_BOARD, budget_t.c.hard_hit, _SCOPE)
_AGENT_ID = Prepared(
    sa.select(agent_t.c.id).where(
        agent_t.c.board_id == sa.bindparam("p_board_id"), agent_t.c.name == sa.bindparam("p_agent")
    )
)
_INSERT_USAGE = Prepared(usage_t.insert())
# Bump every budget the usage falls under by what it adds, and read them back as they now stand
# (the crossings are picked out of these in Python: one statement instead of two).
_BUMP = Prepared(
    budget_t.update()
    .where(_OF_BOARD, _SCOPE)
    .values(
        used=budget_t.c.used
        + sa.case(
            *(
                (budget_t.c.metric == m, sa.bindparam(f"p_{m}", type_=sa.Float))
                for m in ("tokens", "cost_usd", "cpu_hours", "gpu_hours")
            ),
            else_=0.0,
        )
    )
    .returning(*budget_t.c)
)


def _crossing(row: StoredRow) -> bool:
    """Whether a budget, as it stands after a bump, just passed a limit it had not flagged."""
    soft, hard, used = row["soft"], row["hard"], row["used"]
    return (soft is not None and used >= soft and not row["soft_warned"]) or (
        hard is not None and used >= hard and not row["hard_hit"]
    )


# The tasks in progress in a spent budget's scope, locked (on PostgreSQL) in id order, with
# NO KEY UPDATE so the key-share locks event inserts take never wait on them.
_IN_PROGRESS = (
    task_t.c.board_id == sa.bindparam("p_board_id"),
    task_t.c.status == "in_progress",
)
_STOPPED = {
    scope: Prepared(
        sa.select(task_t)
        .where(*_IN_PROGRESS, *where)
        .order_by(task_t.c.id)
        .with_for_update(key_share=True)
    )
    for scope, where in (
        ("board", ()),
        (
            "agent",
            (
                task_t.c.assignee_id
                == sa.select(agent_t.c.id)
                .where(
                    agent_t.c.board_id == sa.bindparam("p_board_id"),
                    agent_t.c.name == sa.bindparam("p_subject"),
                )
                .scalar_subquery(),
            ),
        ),
        ("task", (task_t.c.number == sa.bindparam("p_number"),)),
    )
}


def describe(row: StoredRow) -> str:
    where = {
        "board": "board",
        "agent": f"agent {row['subject']}",
        "task": f"task {row['subject']}",
    }[row["scope"]]
    return f"{where} {row['metric']} budget"


def _limit(level: str, value: float | None, metric: str) -> str:
    """A limit for a sentence: `soft 2.5 USD`, `no hard limit`."""
    return f"no {level} limit" if value is None else f"{level} {figure(value)} {_UNITS[metric]}"


def figure(value: float) -> str:
    """An amount for a sentence: 10,400 tokens, 0.6 USD, 1.25 GPU h."""
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def spent_words(row: StoredRow) -> str:
    """ "the board tokens budget is exhausted (10,400 of 10,000 tokens)"."""
    return (
        f"the {describe(row)} is exhausted "
        f"({figure(row['used'])} of {figure(row['hard'])} {_UNITS[row['metric']]})"
    )


def spent(row: StoredRow) -> bool:
    """Whether a budget row's hard limit is reached."""
    return row["hard"] is not None and row["used"] >= row["hard"]


def status_of(row: StoredRow) -> BudgetStatus:
    used, soft, hard = row["used"], row["soft"], row["hard"]
    level = (
        "over"
        if hard is not None and used >= hard
        else "warn"
        if soft is not None and used >= soft
        else "ok"
    )
    return BudgetStatus(
        scope=row["scope"],
        subject=row["subject"],
        metric=row["metric"],
        used=round(used, 6),
        soft=soft,
        hard=hard,
        level=level,
    )


def usage_sums(conn: sa.Connection, *where: sa.ColumnElement[bool]) -> UsageTotals:
    """Usage rows matching `where`, summed."""
    r = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(usage_t.c.tokens_in), 0),
            sa.func.coalesce(sa.func.sum(usage_t.c.tokens_out), 0),
            sa.func.coalesce(sa.func.sum(usage_t.c.cost_usd), 0.0),
            sa.func.coalesce(sa.func.sum(usage_t.c.cpu_seconds), 0.0),
            sa.func.coalesce(sa.func.sum(usage_t.c.gpu_seconds), 0.0),
        ).where(*where)
    ).one()
    return UsageTotals(int(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4]))


def require_within_budget(tx: Tx, board_id: int, agent: str, key: str | None, doing: str) -> None:
    """Refuse `doing` (an agent verb on work: claim, heartbeat, doing, submit, complete,
    checkpoint) with `OverBudgetError` when a hard budget over it is spent: the board's,
    `agent`'s, or the task `key`'s. Call it before the verb locks any task row.

    One indexed look-up of the `hard_hit` flags. On PostgreSQL it first takes the board's stop
    lock shared, so a stop committing meanwhile is either seen here or sees this verb's task.
    """
    dialect.board_stop_lock(tx.conn, board_id, exclusive=False)
    row = _EXHAUSTED.first(tx.conn, {"p_board_id": board_id, "p_agent": agent, "p_key": key})
    if row is not None:
        raise OverBudgetError(
            f"{agent} cannot {doing}: {spent_words(row)}; work in its scope is stopped until a "
            "human raises the limit with `agentdeck budget set`"
        )


def claim_block(tx: Tx, board_id: int, agent: str, key: str | None = None) -> None:
    """Refuse a claim when a hard budget for the board, this agent or the task `key` (when
    claiming one task by key) is exhausted."""
    require_within_budget(tx, board_id, agent, key or None, "claim")


def hold_off_stops(tx: Tx, board_id: int) -> None:
    """For a verb that touches a task but is never refused (an agent saying what it is doing
    between tasks): on PostgreSQL, wait for a stop in progress rather than deadlock with it."""
    dialect.board_stop_lock(tx.conn, board_id, exclusive=False)


def stop(tx: Tx, b: StoredRow, row: StoredRow) -> list[str]:
    """Stop the work in the scope of the spent hard budget `row`, in the transaction that spent
    it: every task in progress there moves to Needs human with reason `budget`, and its holder
    is told in its inbox. Returns their keys. Claims in the scope stay refused while the
    budget's `hard_hit` flag is set, that is until a human sets a limit above what is used."""
    dialect.board_stop_lock(tx.conn, b["id"], exclusive=True)
    params: dict[str, Any] = {"p_board_id": b["id"]}
    if row["scope"] == "agent":
        params["p_subject"] = row["subject"]
    elif row["scope"] == "task":
        params["p_number"] = split_key(row["subject"])[1]
    words = spent_words(row)
    reason = f"budget: {words}"
    data = {"reason": "budget", **{k: row[k] for k in ("scope", "subject", "metric")}}
    keys = []
    for task in _STOPPED[row["scope"]].rows(tx.conn, params):
        key = task_key(b["key"], task["number"])
        moves.move(
            tx,
            task,
            b,
            "escalate",
            SYSTEM,
            text=reason,
            data=data,
            values={"escalation_reason": reason},
        )
        inbox.send(
            tx,
            b["id"],
            task["assignee_id"],
            task["id"],
            SYSTEM,
            "budget",
            f"{key} is stopped: {words}; it waits in Needs human until a human raises the limit",
        )
        keys.append(key)
    return keys


# Per source, the figures one agent gave on one task (or on its board alone), as given.
_RAW = ("tokens_in", "tokens_out", "cost_usd")
_GIVEN = Prepared(
    sa.select(
        usage_t.c.source,
        *(sa.func.coalesce(sa.func.sum(usage_t.c[f"raw_{c}"]), 0).label(c) for c in _RAW),
    )
    .where(
        usage_t.c.board_id == sa.bindparam("p_board_id"),
        usage_t.c.agent_id == sa.bindparam("p_agent_id"),
        sa.or_(
            usage_t.c.task_id == sa.bindparam("p_task_id"),
            sa.and_(sa.bindparam("p_task_id").is_(None), usage_t.c.task_id.is_(None)),
        ),
    )
    .group_by(usage_t.c.source)
)


def counted_increment(
    tx: Tx, board_id: int, agent_id: int, task_id: int | None, source: str, usage: dict[str, Any]
) -> dict[str, Any]:
    """What `usage` (figures as given, from `source`) adds to the counted usage budgets run on.

    The same work can be both reported by the agent and measured by its runtime. For one agent
    on one task, each of tokens in, tokens out and cost counts the larger of the two sums, so
    work is never counted twice, an agent that under-reports is still caught by what was
    measured, and usage the telemetry missed still counts as reported. CPU and GPU time are
    only ever reported, so they count as given. Takes the agent's usage lock first.
    """
    dialect.usage_lock(tx.conn, agent_id)
    given = {
        r["source"]: {c: r[c] for c in _RAW}
        for r in _GIVEN.rows(
            tx.conn, {"p_board_id": board_id, "p_agent_id": agent_id, "p_task_id": task_id}
        )
    }
    if not any(s != source for s in given):  # the usual case: one source only
        return dict(usage)
    other = next(v for s, v in given.items() if s != source)
    mine = given.get(source, dict.fromkeys(_RAW, 0))
    counted = dict(usage)
    for c in _RAW:
        before = max(mine[c], other[c])
        counted[c] = max(mine[c] + usage[c], other[c]) - before
    return counted


def apply_usage(
    tx: Tx,
    b: StoredRow,
    task: StoredRow | None,
    actor: str,
    usage: dict[str, Any],
    source: str = "reported",
    member: StoredRow | None = None,
) -> list[StoredRow]:
    """Insert usage (figures as given, from `source`: "reported" or "measured"), bump matching
    budgets by what it adds to the counted usage (`counted_increment`), and return budgets
    that just crossed a limit (by scope, subject and metric). `member` is the agent row of
    `actor` when the caller has it, which saves looking it up again."""
    if member is not None and member["name"] == actor:
        agent_id = member["id"]
    else:
        agent_id = _AGENT_ID.scalar(tx.conn, {"p_board_id": b["id"], "p_agent": actor})
    task_id = task["id"] if task is not None else None
    raw = {f"raw_{c}": usage[c] for c in _RAW}
    usage = counted_increment(tx, b["id"], agent_id, task_id, source, usage)
    inserted = {
        "board_id": b["id"],
        "task_id": task_id,
        "agent_id": agent_id,
        "created_at": tx.now,
        "source": source,
        **raw,
        **usage,
    }
    _INSERT_USAGE.run(tx.conn, inserted)
    spend.record(tx.conn, (inserted,))
    key = task_key(b["key"], task["number"]) if task is not None else None
    scope = {"p_board_id": b["id"], "p_agent": actor, "p_key": key or None}
    amounts = {f"p_{m}": v for m, v in metric_amounts(usage).items()}
    bumped = _BUMP.rows(tx.conn, {**scope, **amounts})
    crossed = sorted(
        (r for r in bumped if _crossing(r)), key=lambda r: (r["scope"], r["subject"], r["metric"])
    )
    for row in crossed:
        _flag_crossing(tx, b["id"], task["id"] if task is not None else None, actor, row)
    return list(crossed)


def _flag_crossing(tx: Tx, board_id: int, task_id: int | None, actor: str, row: StoredRow) -> None:
    hard = row["hard"] is not None and row["used"] >= row["hard"]
    soft = row["soft"] is not None and row["used"] >= row["soft"]
    level = "hard" if hard else "soft"
    limit = row["hard"] if hard else row["soft"]
    tx.conn.execute(
        budget_t.update()
        .where(budget_t.c.id == row["id"])
        .values(soft_warned=soft or row["soft_warned"], hard_hit=hard)
    )
    tx.event(
        board_id,
        task_id,
        actor,
        "budget",
        level,
        f"{describe(row)} passed its {level} limit: "
        f"{figure(row['used'])} of {figure(limit)} {_UNITS[row['metric']]}",
        {
            "scope": row["scope"],
            "subject": row["subject"],
            "metric": row["metric"],
            "used": row["used"],
            "limit": limit,
        },
    )


def set_budget(
    db: Database,
    metric: str,
    *,
    actor: str,
    board: str | None = None,
    scope: str = "board",
    subject: str = "",
    soft: float | None = None,
    hard: float | None = None,
) -> BudgetStatus:
    """Set (or replace) the soft and hard limits on one metric for a board, agent or task."""
    if metric not in METRICS:
        raise ValidationError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}")
    if scope not in SCOPES:
        raise ValidationError(f"unknown scope {scope!r}; scopes: {', '.join(SCOPES)}")
    soft, hard = limits.budget_limit(soft, "soft"), limits.budget_limit(hard, "hard")
    if soft is None and hard is None:
        raise ValidationError("give a soft limit, a hard limit, or both")
    with db.write() as tx:
        b = tx.board(board)
        permissions.require_human(tx, b, actor, "set budgets")
        usage_filter: list[sa.ColumnElement[bool]] = [usage_t.c.board_id == b["id"]]
        if scope == "board":
            subject = ""
        elif scope == "agent":
            usage_filter.append(usage_t.c.agent_id == tx.agent(b["id"], subject, b["key"])["id"])
        else:
            task, _ = tx.task(subject)
            subject = task_key(b["key"], task["number"])
            usage_filter.append(usage_t.c.task_id == task["id"])
        tx.conn.execute(
            budget_t.delete().where(
                budget_t.c.board_id == b["id"],
                budget_t.c.scope == scope,
                budget_t.c.subject == subject,
                budget_t.c.metric == metric,
            )
        )
        used = insert_budget(tx, b["id"], (scope, subject, metric), soft, hard, usage_filter)
        row = _budget_row(tx, b["id"], scope, subject, metric)
        tx.event(
            b["id"],
            None,
            actor,
            "budget",
            "set",
            f"{describe(row)} set: {_limit('soft', soft, metric)}, {_limit('hard', hard, metric)}",
            {"scope": scope, "subject": subject, "metric": metric, "soft": soft, "hard": hard},
        )
        if (soft is not None and used >= soft) or (hard is not None and used >= hard):
            _flag_crossing(tx, b["id"], None, actor, row)
            row = _budget_row(tx, b["id"], scope, subject, metric)
            if spent(row):  # a limit set below what is used stops the scope at once
                stop(tx, b, row)
        return status_of(row)


def insert_budget(
    tx: Tx,
    board_id: int,
    key: tuple[str, str, str],
    soft: float | None,
    hard: float | None,
    usage_where: list[sa.ColumnElement[bool]],
    *,
    crossed: bool = False,
) -> float:
    """Write one budget row (`key` is its scope, subject and metric) whose running total is the
    usage `usage_where` selects, and return that total. With `crossed`, limits it is already
    past are marked as warned and hit (history, as an import restores it); otherwise the
    caller flags a crossing itself, with its events."""
    scope, subject, metric = key
    used = float(tx.conn.execute(sa.select(used_sum(metric)).where(*usage_where)).scalar() or 0.0)
    tx.conn.execute(
        budget_t.insert().values(
            board_id=board_id,
            scope=scope,
            subject=subject,
            metric=metric,
            soft=soft,
            hard=hard,
            used=used,
            soft_warned=crossed and soft is not None and used >= soft,
            hard_hit=crossed and hard is not None and used >= hard,
        )
    )
    return used


def _budget_row(tx: Tx, board_id: int, scope: str, subject: str, metric: str) -> StoredRow:
    row = _find_budget(tx, board_id, scope, subject, metric)
    assert row is not None, (scope, subject, metric)
    return row


def _find_budget(tx: Tx, board_id: int, scope: str, subject: str, metric: str) -> StoredRow | None:
    return (
        tx.conn.execute(
            sa.select(budget_t).where(
                budget_t.c.board_id == board_id,
                budget_t.c.scope == scope,
                budget_t.c.subject == subject,
                budget_t.c.metric == metric,
            )
        )
        .mappings()
        .one_or_none()
    )


def budget_status(
    tx: Tx,
    board: str | None = None,
    *,
    scope: str | None = None,
    subject: str | None = None,
    limit: int | None = views.API_LIMIT,
    offset: int = 0,
) -> list[BudgetStatus]:
    """The budgets of a board (or one scope/subject) with used, limits and level: at most
    `limit` (None: all) from `offset`. `used` is kept on each budget row as usage is
    recorded, so this reads the budget rows alone, never the usage."""
    b = tx.board(board)
    q = sa.select(budget_t).where(budget_t.c.board_id == b["id"])
    if scope is not None:
        q = q.where(budget_t.c.scope == scope)
    if subject is not None:
        q = q.where(budget_t.c.subject == subject)
    q = q.order_by(budget_t.c.scope, budget_t.c.subject, budget_t.c.metric, budget_t.c.id)
    q = q.offset(limits.row_window(offset))
    if limit is not None:
        q = q.limit(limits.row_window(limit))
    rows = tx.conn.execute(q).mappings()
    return [status_of(r) for r in rows]


def usage_totals(
    tx: Tx, board: str | None = None, *, agent: str | None = None, task: str | None = None
) -> UsageTotals:
    """Usage summed over a board, or one agent or task on it."""
    if task is not None:
        row, b = tx.task(task)
        where = [usage_t.c.task_id == row["id"]]
        if agent is not None:
            where.append(usage_t.c.agent_id == tx.agent(b["id"], agent, b["key"])["id"])
        return usage_sums(tx.conn, *where)
    # A board's or an agent's: from the hourly rollup, a few rows per active hour.
    b = tx.board(board)
    agent_id = tx.agent(b["id"], agent, b["key"])["id"] if agent is not None else None
    r = spend.totals(tx.conn, b["id"], agent_id)
    return UsageTotals(int(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4]))
