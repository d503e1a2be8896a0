"""The holder's side of the lifecycle: what the agent holding a task reports and decides.

Verbs here: doing, log, record_usage, submit, complete, fail, escalate, release. A late
update from an agent whose lease lapsed is refused, then the board's lapsed leases are swept.
Where a hard budget is spent, doing on a task, submit and complete are refused (exit 4); log,
usage, fail, release and escalate stay open, so an agent can still report what it spent and did,
give the task up, or ask a human. Every write by the holder of an in-progress task (doing, log,
usage, and checkpoint in `inbox`) renews its lease (`claims.renew`), except over a hard budget.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from agentdeck.core import budgets, claims, lifecycle, limits, moves, permissions, tasks
from agentdeck.core.errors import InvalidTransitionError, LeaseExpiredError, ValidationError
from agentdeck.core.models import LOG_KINDS, BudgetStatus, Completion, Event, Task
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import agent_t, event_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, split_key, task_key
from agentdeck.core.words import plural

# Statements the hot verbs run, built once (building and cache-keying a statement costs more
# than running it); "p_" names keep bind parameters apart from the columns an UPDATE sets.
_LOG_INSERT = Prepared(event_t.insert().returning(event_t.c.id))
_VERIFICATION_LOGGED = Prepared(
    sa.select(event_t.c.id)
    .where(
        event_t.c.task_id == sa.bindparam("p_task_id"),
        event_t.c.kind == "log",
        event_t.c.subkind == "verification",
    )
    .limit(1)
)


def _sweep(db: Database, key: str) -> None:
    """After a refused late update: sweep the lapsed leases of the task's board, committed."""
    board_key = split_key(key)[0]
    with db.write() as tx:
        claims.expire_leases(tx, board_key)


@contextmanager
def _as_holder(
    db: Database, key: str, actor: str, verb: str, *, within_budget: bool = False
) -> Iterator[tuple[Tx, StoredRow, StoredRow, StoredRow]]:
    """A write transaction on a task `actor` holds; a lapsed lease is swept, then refused.
    With `within_budget`, refused first when a hard budget over the task is spent."""
    try:
        with db.write() as tx:
            task, b = tx.task(key)
            a = tx.actor(b, actor)
            if within_budget:
                upper = task_key(b["key"], task["number"])
                budgets.require_within_budget(tx, b["id"], actor, upper, f"{verb} {upper}")
            _require_holder(tx, task, b, a, verb)
            yield tx, task, b, a
    except LeaseExpiredError:
        _sweep(db, key)
        raise


def _require_holder(
    tx: Tx, task: StoredRow, b: Mapping[Any, Any], a: Mapping[Any, Any], verb: str
) -> None:
    key = task_key(b["key"], task["number"])
    if task["status"] == "in_progress" and task["assignee_id"] == a["id"]:
        if task["lease_expires_at"] is not None and task["lease_expires_at"] < tx.now:
            raise LeaseExpiredError(
                f"cannot {verb} {key}: the lease of {a['name']} expired; claim it again"
            )
        return
    if task["status"] == "in_progress":
        holder = tx.agent_name(task["assignee_id"])
        raise LeaseExpiredError(f"cannot {verb} {key}: it is held by {holder}, not {a['name']}")
    if task["status"] == "pending":
        raise LeaseExpiredError(
            f"cannot {verb} {key}: it is pending, not held by {a['name']}; claim it first"
        )
    raise lifecycle.refused(verb, key, task["status"])


def doing(
    db: Database, actor: str, text: str, *, key: str | None = None, board: str | None = None
) -> str | None:
    """Set what the agent is doing right now ("Writing SQL migration") on it and its task.

    Returns the key of the task that now shows it (without `key`, the one the agent holds),
    or None when the agent holds none and only the agent shows it.
    """
    text = limits.line(text, 200)
    with db.write() as tx:
        if key is None:
            b = tx.board(board)
            a = tx.actor(b, actor)
            task_id = a["current_task_id"]
            budgets.hold_off_stops(tx, b["id"])
        else:
            task, b = tx.task(key)
            a = tx.actor(b, actor)
            upper = task_key(b["key"], task["number"])
            budgets.require_within_budget(tx, b["id"], actor, upper, f"work on {upper}")
            _require_holder(tx, task, b, a, "doing")
            task_id = task["id"]
        tx.conn.execute(
            agent_t.update()
            .where(agent_t.c.id == a["id"])
            .values(active_form=text, last_heartbeat=tx.now)
        )
        shown_on = None
        if task_id is not None:
            number = tx.conn.execute(
                task_t.update()
                .where(task_t.c.id == task_id)
                .values(active_form=text, updated_at=tx.now)
                .returning(task_t.c.number)
            ).scalar_one()
            shown_on = task_key(b["key"], number)
            claims.renew(tx, b, a, task_id, shown_on)
        tx.event(b["id"], task_id, actor, "doing", "", text)
        return shown_on


def log(
    db: Database,
    key: str,
    text: str,
    *,
    actor: str,
    kind: str = "action",
    data: dict[str, Any] | None = None,
) -> Event:
    """Append an entry to a task's log: action, tool_call, decision, observation or verification.

    The holder of an in-progress task, its assignee while it waits on a human, or any human
    may log; a late entry from an agent whose lease lapsed is refused.
    """
    if kind not in LOG_KINDS:
        raise ValidationError(f"unknown log kind {kind!r}; kinds: {', '.join(LOG_KINDS)}")
    text = limits.text(text)
    if not text.strip():
        raise ValidationError("a log entry needs text")
    data = limits.log_data(data)
    try:
        with db.write() as tx:
            # Take PostgreSQL's event-order lock before reading the task: a move committed
            # meanwhile (cancel, reassign) is then seen here, so no entry lands after it.
            tx.order_events()
            task = tx.task_and_actor(key, actor)
            # All a log entry needs of its board and its author, read with the task.
            b = {
                "id": task["board_id"],
                "key": task["board_key"],
                "lease_seconds": task["lease_seconds"],
            }
            a = {"id": task["agent_id"], "name": task["agent_name"], "kind": task["agent_kind"]}
            waiting = task["status"] in ("review", "escalated") and task["assignee_id"] == a["id"]
            if a["kind"] != "human" and not waiting:
                _require_holder(tx, task, b, a, "log on")
                upper = task_key(b["key"], task["number"])
                claims.renew(tx, b, a, task["id"], upper, lease=task["lease_expires_at"])
            event_id = _LOG_INSERT.scalar(
                tx.conn,
                {
                    "board_id": b["id"],
                    "task_id": task["id"],
                    "actor": actor,
                    "kind": "log",
                    "subkind": kind,
                    "text": text,
                    "data": data,
                    "created_at": tx.now,
                    "auth": tx.auth.get(actor, ""),
                },
            )
            tx.notify_boards.add(b["id"])
            return Event(
                event_id,
                b["key"],
                task_key(b["key"], task["number"]),
                actor,
                "log",
                kind,
                text,
                data,
                tx.now,
                tx.auth.get(actor, ""),
            )
    except LeaseExpiredError:
        _sweep(db, key)
        raise


def record_usage(
    db: Database,
    key: str | None,
    *,
    actor: str,
    board: str | None = None,
    tokens_in: int | None = 0,
    tokens_out: int | None = 0,
    cost_usd: float | None = 0.0,
    cpu_seconds: float | None = 0.0,
    gpu_seconds: float | None = 0.0,
    model: str = "",
) -> list[BudgetStatus]:
    """Record tokens, cost and compute against a task (or just the board) and the agent.

    An amount left out or None counts as 0, but at least one must be more than 0: an empty
    usage row would only be noise in the history. On a task, only its assignee, the board's
    lead or a human may record usage. Returns the budgets this usage pushed past a limit: a
    soft one warns; a hard one is still recorded (spend is never lost) and stops the work in
    its scope (see `budgets.stop`).
    """
    counts = {"tokens_in": tokens_in, "tokens_out": tokens_out}
    amounts = {"cost_usd": cost_usd, "cpu_seconds": cpu_seconds, "gpu_seconds": gpu_seconds}
    usage: dict[str, Any] = {
        **{k: limits.count(0 if v is None else v, k) for k, v in counts.items()},
        **{k: limits.amount(0.0 if v is None else v, k) for k, v in amounts.items()},
        "model": limits.line(model, 100),
    }
    if not any(usage[k] for k in (*counts, *amounts)):
        raise ValidationError(
            f"nothing to record: give at least one of {', '.join((*counts, *amounts))} above 0"
        )
    with db.write() as tx:
        if key is not None:
            task, b = tx.task(key)
        else:
            task, b = None, tx.board(board)
        who = permissions.require_may_record_usage(tx, b, task, actor)
        crossed = budgets.apply_usage(tx, b, task, actor, usage, member=who)
        total = sum(usage[k] for k in ("tokens_in", "tokens_out"))
        tx.event(
            b["id"],
            task["id"] if task is not None else None,
            actor,
            "usage",
            usage["model"],
            f"{plural(total, 'token')}, ${usage['cost_usd']:.4f}",
            {k: v for k, v in usage.items() if v},
        )
        for row in crossed:
            if budgets.spent(row):
                budgets.stop(tx, b, row)
        if task is not None:  # after any stop: a spent hard budget renews nothing
            upper = task_key(b["key"], task["number"])
            claims.renew(tx, b, who, task["id"], upper, lease=task["lease_expires_at"])
        return [budgets.status_of(r) for r in crossed]


def submit(db: Database, key: str, *, actor: str, result: str = "", verified_by: str = "") -> Task:
    """Hand in work for a human's review."""
    with _as_holder(db, key, actor, "submit", within_budget=True) as (tx, task, b, _):
        _submit(tx, task, b, actor, result, verified_by)
        return tasks.tasks_by_id(tx, [task["id"]])[0]


def complete(
    db: Database, key: str, *, actor: str, result: str = "", verified_by: str = ""
) -> Completion:
    """Finish a task that needs no approval. Without verification evidence (a `verification`
    log entry or `verified_by`) it is marked unverified and the answer carries a nudge."""
    with _as_holder(db, key, actor, "complete", within_budget=True) as (tx, task, b, _):
        verified = _complete(tx, task, b, actor, result, verified_by)
        upper = task_key(b["key"], task["number"])
        nudge = (
            None
            if verified
            else (
                f"{upper} was completed without verification evidence; next time log a "
                "`verification` entry (tests run, output checked) or pass verified_by"
            )
        )
        return Completion(task=tasks.tasks_by_id(tx, [task["id"]])[0], nudge=nudge)


def _complete(
    tx: Tx, task: StoredRow, b: StoredRow, actor: str, result: str, verified_by: str
) -> bool:
    """Move a held task to done if it needs no approval (and has evidence where the board
    requires it); returns whether it was verified."""
    upper = task_key(b["key"], task["number"])
    if task["requires_approval"]:
        raise InvalidTransitionError(
            f"cannot complete {upper}: it requires approval; submit it for review instead"
        )
    verified = bool(verified_by) or _has_verification(tx, task["id"])
    if not verified and b["require_verification"]:
        raise InvalidTransitionError(
            f"cannot complete {upper}: board {b['key']} requires verification evidence; "
            "log a `verification` entry or pass verified_by"
        )
    _hand_in(tx, task, b, "complete", actor, result, verified_by, verified)
    return verified


def _submit(
    tx: Tx, task: StoredRow, b: StoredRow, actor: str, result: str, verified_by: str
) -> None:
    verified = bool(verified_by) or _has_verification(tx, task["id"])
    _hand_in(tx, task, b, "submit", actor, result, verified_by, verified)


def _hand_in(
    tx: Tx,
    task: StoredRow,
    b: StoredRow,
    verb: str,
    actor: str,
    result: str,
    verified_by: str,
    verified: bool,
) -> None:
    """Move a held task by `verb` (submit or complete) with its result and evidence."""
    moves.move(
        tx,
        task,
        b,
        verb,
        actor,
        text=limits.text(result),
        values={
            "result": limits.text(result),
            "verification": limits.text(verified_by),
            "verified": verified,
        },
    )


def _has_verification(tx: Tx, task_id: int) -> bool:
    return _VERIFICATION_LOGGED.first(tx.conn, {"p_task_id": task_id}) is not None


def fail(db: Database, key: str, *, actor: str, reason: str) -> Task:
    """Give up on a task, saying why; a human may reopen it."""
    with _as_holder(db, key, actor, "fail") as (tx, task, b, _):
        _fail(tx, task, b, actor, reason)
        return tasks.tasks_by_id(tx, [task["id"]])[0]


def escalate(db: Database, key: str, *, actor: str, reason: str) -> Task:
    """Ask a human for help ("need credentials for staging"); the task waits in Needs human."""
    if not reason.strip():
        raise ValidationError("an escalation needs a reason a human can act on")
    with _as_holder(db, key, actor, "escalate") as (tx, task, b, _):
        text = limits.text(reason)
        moves.move(tx, task, b, "escalate", actor, text=text, values={"escalation_reason": text})
        return tasks.tasks_by_id(tx, [task["id"]])[0]


def release(db: Database, key: str, *, actor: str, note: str = "") -> Task:
    """Give a held task back to the queue unassigned."""
    with _as_holder(db, key, actor, "release") as (tx, task, b, _):
        _release(tx, task, b, actor, note)
        return tasks.tasks_by_id(tx, [task["id"]])[0]


def _fail(tx: Tx, task: StoredRow, b: StoredRow, actor: str, reason: str) -> None:
    text = limits.text(reason)
    moves.move(tx, task, b, "fail", actor, text=text, values={"result": text})


def _release(tx: Tx, task: StoredRow, b: StoredRow, actor: str, note: str) -> None:
    moves.move(tx, task, b, "release", actor, text=limits.text(note), values={"assignee_id": None})


def move_held(tx: Tx, key: str, verb: str, *, actor: str, text: str = "") -> None:
    """Move a task `actor` holds by `verb` (submit, complete, fail or release) inside the
    caller's transaction, by the same rules as those verbs: for writers that move many tasks
    at once (imports), which cannot open a transaction per task."""
    task, b = tx.task(key)
    _require_holder(tx, task, b, tx.actor(b, actor), verb)
    if verb == "submit":
        _submit(tx, task, b, actor, text, "")
    elif verb == "complete":
        _complete(tx, task, b, actor, text, "")
    elif verb == "fail":
        _fail(tx, task, b, actor, text)
    elif verb == "release":
        _release(tx, task, b, actor, text)
    else:
        raise ValueError(f"{verb} is not a move of the task's holder")
