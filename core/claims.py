"""Claiming work: the atomic claim of the best ready task, leases and their renewal, and
the sweep that returns a lapsed lease's task to the queue.

Verbs here: claim, expire_leases, heartbeat, next_lease_lapse. `expire` is the sweep itself,
which claims and refused late updates run; `renew` is how every other write by a task's holder
(doing, log, usage, checkpoint) renews its lease, so a working agent needs no heartbeat.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from agentdeck.core import budgets, inbox, knowledge, lifecycle, moves, tasks
from agentdeck.core.errors import InvalidTransitionError
from agentdeck.core.models import Claim
from agentdeck.core.storage.claim_statement import claim_statement
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import UTCDateTime, agent_t, budget_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, split_key, task_key

# Statements the hot verbs run, built once (building and cache-keying a statement costs more
# than running it); "p_" names keep bind parameters apart from the columns an UPDATE sets.
_ANY_EXHAUSTED_TASK = Prepared(
    sa.select(budget_t.c.id)
    .where(
        budget_t.c.board_id == sa.bindparam("p_board_id"),
        budget_t.c.scope == "task",
        budget_t.c.hard_hit,
    )
    .limit(1)
)
# On PostgreSQL two claims may sweep at once: each locks the lapsed tasks it expires and skips
# those another sweep holds, instead of failing its claim on their version check. SQLite
# serialises writers and renders no FOR UPDATE.
_LAPSED = Prepared(
    sa.select(task_t)
    .where(
        task_t.c.status == "in_progress",
        task_t.c.lease_expires_at < sa.bindparam("p_now", type_=UTCDateTime),
        task_t.c.board_id == sa.bindparam("p_board_id"),
    )
    .with_for_update(skip_locked=True)
)
_CLAIMED_BY = Prepared(
    agent_t.update()
    .where(agent_t.c.id == sa.bindparam("p_agent_id"))
    .values(
        current_task_id=sa.bindparam("p_task_id"),
        active_form="",
        last_heartbeat=sa.bindparam("p_now", type_=UTCDateTime),
    )
)

# A holder's write renews the lease of the task it holds (see `renew`). On PostgreSQL the row
# is taken with SKIP LOCKED: `log` holds the event-order lock already, and waiting for a row
# another transaction has locked (and which then waits for that lock to append its events)
# would deadlock; that other transaction is moving or renewing the task anyway.
_HELD = task_t.alias("held")
_RENEW = Prepared(
    task_t.update()
    .where(
        task_t.c.id
        == sa.select(_HELD.c.id)
        .where(
            _HELD.c.id == sa.bindparam("p_task_id"),
            _HELD.c.status == "in_progress",
            _HELD.c.assignee_id == sa.bindparam("p_agent_id"),
            _HELD.c.lease_expires_at >= sa.bindparam("p_now", type_=UTCDateTime),
            ~budgets.SPENT_OVER,
        )
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    .values(lease_expires_at=sa.bindparam("p_lease", type_=UTCDateTime))
    .returning(task_t.c.id)
)
_ALIVE = Prepared(
    agent_t.update()
    .where(agent_t.c.id == sa.bindparam("p_agent_id"))
    .values(last_heartbeat=sa.bindparam("p_now", type_=UTCDateTime))
)

# How far a holder's write must move its lease before the lease is written again (`renew`).
RENEW_STEP = timedelta(seconds=1)

# Unread messages a claim delivers (and marks read); more stay unread for `inbox`, so a
# claim's answer stays small however much mail piled up.
CLAIM_INBOX = 10


def claim(
    db: Database, actor: str, *, board: str | None = None, key: str | None = None
) -> Claim | None:
    """Atomically take the best ready task for `actor` (or the task `key`), or None.

    Best means assigned to the agent first, then unassigned tasks whose required skills it
    has, by priority then age. Returns the task with the agent's oldest unread messages (at
    most `CLAIM_INBOX`, marked read; `inbox` has the rest) and the three most similar
    finished tasks.
    """
    taken = claim_taken(db, actor, board=board, key=key)
    return None if taken is None else with_similar(db, taken)


def claim_taken(
    db: Database, actor: str, *, board: str | None = None, key: str | None = None
) -> Claim | None:
    """The committed half of `claim`: the task taken and the messages delivered, with no
    similar tasks yet (`with_similar` adds them). The resident writer runs only this half,
    so the read after the commit costs its caller, not every agent waiting on the writer."""
    with db.write() as tx:
        if key:
            wanted, b = tx.task(key)
            key = task_key(b["key"], wanted["number"])
        else:
            b = tx.board(board)
        a = tx.actor(b, actor)
        row = take(tx, b, a, key)
        if row is None:
            return None
        task = tasks.tasks_by_id(tx, [row["id"]])[0]
        messages = inbox.unread(
            tx, b["key"], a["id"], actor, mark_read=True, limit=CLAIM_INBOX
        ).messages
    return Claim(task=task, inbox=messages, similar=())


def with_similar(db: Database, taken: Claim) -> Claim:
    """`taken` with the three finished tasks most like it. Ranking them reads the whole
    knowledge index: it is done after the claim's commit, so every other agent's write is
    not kept waiting on it."""
    with db.read() as tx:
        row = tx.task_row(taken.task.key)
        similar = knowledge.similar_to(tx, row["id"], row["board_id"], 3)
    return dataclasses.replace(taken, similar=tuple(similar))


def take(tx: Tx, b: StoredRow, a: StoredRow, key: str | None) -> StoredRow | None:
    """The body of `claim` inside the caller's transaction: sweep lapsed leases, refuse a
    claim over a hard budget, then move the chosen task to in progress for agent `a` and
    record it; None when nothing is ready."""
    # Before the sweep locks any task: a hard-budget stop takes its lock the other way round.
    budgets.claim_block(tx, b["id"], a["name"], key)
    expire(tx, b)
    row = _claim_row(tx, b, a, key)
    if row is None:
        return None
    _CLAIMED_BY.run(tx.conn, {"p_agent_id": a["id"], "p_task_id": row["id"], "p_now": tx.now})
    tx.event(
        b["id"],
        row["id"],
        a["name"],
        "claimed",
        "in_progress",
        "",
        {"from": "pending", "to": "in_progress", "verb": "claim"},
    )
    return row


def _claim_row(tx: Tx, b: StoredRow, a: StoredRow, key: str | None) -> StoredRow | None:
    """One atomic UPDATE … RETURNING that moves the chosen ready task to in progress."""
    params: dict[str, Any] = {
        "p_board_id": b["id"],
        "p_agent_id": a["id"],
        "p_lease": tx.now + timedelta(seconds=b["lease_seconds"]),
        "p_now": tx.now,
    }
    if key is not None:
        params["p_number"] = split_key(key)[1]
        exhausted = False
    else:
        exhausted = _has_exhausted_task_budget(tx, b["id"])
        params["p_key_prefix"] = f"{b['key']}-"
    statement = claim_statement(
        tx.conn, tuple(a["skills"]), by_key=key is not None, exhausted=exhausted
    )
    row = statement.first(tx.conn, params)
    if row is None and key is not None:
        task, _ = tx.task(key)
        if task["status"] != "pending":
            raise lifecycle.refused("claim", task_key(b["key"], task["number"]), task["status"])
        if task["open_deps"]:
            raise InvalidTransitionError(tasks.waiting_words("claim", key.upper(), tx, task))
        raise InvalidTransitionError(f"cannot claim {key.upper()}: it is assigned to someone else")
    return row


def _has_exhausted_task_budget(tx: Tx, board_id: int) -> bool:
    return _ANY_EXHAUSTED_TASK.first(tx.conn, {"p_board_id": board_id}) is not None


def expire(tx: Tx, b: StoredRow) -> list[str]:
    """Return every in-progress task of the board whose lease ran out to the queue."""
    rows = _LAPSED.rows(tx.conn, {"p_now": tx.now, "p_board_id": b["id"]})
    keys = []
    for task in rows:
        holder = tx.agent_name(task["assignee_id"]) or "?"
        key = task_key(b["key"], task["number"])
        moves.move(
            tx,
            task,
            b,
            "expire",
            "agentdeck",
            text=f"lease of {holder} expired",
            data={"holder": holder},
            values={"assignee_id": None},
        )
        keys.append(key)
    return keys


def renew(
    tx: Tx,
    b: StoredRow,
    a: StoredRow,
    task_id: int,
    key: str,
    *,
    lease: datetime | None = None,
) -> bool:
    """A write by agent `a` on task `task_id` (`key`) of board `b`: if `a` holds it (in
    progress, lease not lapsed) and no hard budget over it is spent, extend its lease by the
    board's lease and mark the agent alive, in the caller's transaction; True if it did.

    Never refuses: verbs that stay open over a hard budget (log, usage) simply do not renew,
    like the heartbeat, which is refused there.

    `lease` is the task's lease as the caller read it. One that already reaches to less than
    `RENEW_STEP` short of the new one was renewed (with the heartbeat) less than that long
    ago, and is left as it is: a burst of writes renews once, not once per write (False:
    nothing moved)."""
    deadline = tx.now + timedelta(seconds=b["lease_seconds"])
    if lease is not None and lease > deadline - RENEW_STEP:
        return False
    params = {
        "p_task_id": task_id,
        "p_agent_id": a["id"],
        "p_now": tx.now,
        "p_lease": deadline,
        "p_board_id": b["id"],
        "p_agent": a["name"],
        "p_key": key,
    }
    if _RENEW.first(tx.conn, params) is None:
        return False
    _ALIVE.run(tx.conn, {"p_agent_id": a["id"], "p_now": tx.now})
    return True


def expire_leases(tx: Tx, board: str | None = None) -> list[str]:
    """Sweep expired leases now (claims also do this); returns the keys sent back."""
    return expire(tx, tx.board(board))


def next_lease_lapse(tx: Tx, board: str | None = None) -> float | None:
    """Seconds until the soonest lease on the board runs out, by the deck's clock (0 if one
    already has and is not swept yet), or None while no task is held: a waiting claim wakes
    then, since a lapsing lease makes a task claimable without any commit."""
    b = tx.board(board)
    soonest = tx.conn.execute(
        sa.select(sa.func.min(task_t.c.lease_expires_at)).where(
            task_t.c.board_id == b["id"], task_t.c.status == "in_progress"
        )
    ).scalar_one()
    if soonest is None:
        return None
    return max(0.0, (soonest - tx.now).total_seconds())


def heartbeat(tx: Tx, actor: str, *, board: str | None = None) -> list[str]:
    """Say the agent is alive and renew the leases of the tasks it holds; returns their keys.

    Refused (exit 4) while the board's or the agent's hard budget is spent: the heartbeat is
    the call a working agent makes most regularly, so it is where the agent learns to stop."""
    b = tx.board(board)
    a = tx.actor(b, actor)
    budgets.require_within_budget(tx, b["id"], actor, None, "renew its leases")
    tx.conn.execute(agent_t.update().where(agent_t.c.id == a["id"]).values(last_heartbeat=tx.now))
    held = (
        task_t.c.assignee_id == a["id"],
        task_t.c.status == "in_progress",
        task_t.c.lease_expires_at >= tx.now,
    )
    tx.conn.execute(
        task_t.update()
        .where(*held)
        .values(lease_expires_at=tx.now + timedelta(seconds=b["lease_seconds"]))
    )
    numbers = tx.conn.execute(
        sa.select(task_t.c.number).where(*held).order_by(task_t.c.number)
    ).scalars()
    return [task_key(b["key"], n) for n in numbers]
