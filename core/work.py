"""The agent's side of the lifecycle: claim, heartbeat, doing, log, usage, submit, complete,
fail, escalate, release, and the lease sweep that returns abandoned work to the queue."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from agentdeck.core import budgets, inbox, knowledge, limits
from agentdeck.core.budgets import BudgetsMixin
from agentdeck.core.errors import InvalidTransitionError, LeaseExpiredError, ValidationError
from agentdeck.core.models import LOG_KINDS, BudgetStatus, Claim, Completion, Event, Task
from agentdeck.core.moves import MovesMixin
from agentdeck.core.storage.claim_statement import claim_statement
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import UTCDateTime, agent_t, budget_t, event_t, task_t
from agentdeck.core.storage.transaction import Tx, split_key, task_key

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


class WorkMixin(MovesMixin, BudgetsMixin):
    # -- claiming and leases -----------------------------------------------------------------

    def claim(
        self, actor: str, *, board: str | None = None, key: str | None = None
    ) -> Claim | None:
        """Atomically take the best ready task for `actor` (or the task `key`), or None.

        Best means assigned to the agent first, then unassigned tasks whose required skills it
        has, by priority then age. Returns the task with the agent's unread inbox and the three
        most similar finished tasks.
        """
        with self._write() as tx:
            if key:
                wanted, b = tx.task(key)
                key = task_key(b["key"], wanted["number"])
            else:
                b = tx.board(board)
            a = tx.agent(b["id"], actor, b["key"])
            self._expire(tx, b)
            budgets.claim_block(tx, b["id"], actor, key)
            row = self._claim_row(tx, b, a, key)
            if row is None:
                return None
            _CLAIMED_BY.run(
                tx.conn, {"p_agent_id": a["id"], "p_task_id": row["id"], "p_now": tx.now}
            )
            tx.event(
                b["id"],
                row["id"],
                actor,
                "claimed",
                "in_progress",
                "",
                {"from": "pending", "to": "in_progress", "verb": "claim"},
            )
            task = self._tasks_by_id(tx, [row["id"]])[0]
            messages = inbox.unread(tx, b["key"], a["id"], actor, mark_read=True)
            task_id, board_id = row["id"], b["id"]
        # Ranking the finished tasks reads the whole knowledge index: do it after the commit,
        # so every other agent's write is not kept waiting on it.
        with self._read() as tx:
            similar = knowledge.similar_to(tx, task_id, board_id, 3)
        return Claim(task=task, inbox=tuple(messages), similar=tuple(similar))

    def _claim_row(
        self, tx: Tx, b: RowMapping, a: RowMapping, key: str | None
    ) -> RowMapping | None:
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
            exhausted = self._has_exhausted_task_budget(tx, b["id"])
            params["p_key_prefix"] = f"{b['key']}-"
        statement = claim_statement(
            tx.conn, tuple(a["skills"]), by_key=key is not None, exhausted=exhausted
        )
        row = statement.first(tx.conn, params)
        if row is None and key is not None:
            task, _ = tx.task(key)
            if task["status"] != "pending":
                from agentdeck.core.lifecycle import refused

                raise refused("claim", task_key(b["key"], task["number"]), task["status"])
            if task["open_deps"]:
                raise InvalidTransitionError(
                    f"cannot claim {key.upper()}: it waits on unfinished tasks"
                )
            raise InvalidTransitionError(
                f"cannot claim {key.upper()}: it is assigned to someone else"
            )
        return row

    def _has_exhausted_task_budget(self, tx: Tx, board_id: int) -> bool:
        return _ANY_EXHAUSTED_TASK.first(tx.conn, {"p_board_id": board_id}) is not None

    def _expire(self, tx: Tx, b: RowMapping) -> list[str]:
        """Return every in-progress task of the board whose lease ran out to the queue."""
        rows = _LAPSED.rows(tx.conn, {"p_now": tx.now, "p_board_id": b["id"]})
        keys = []
        for task in rows:
            holder = tx.agent_name(task["assignee_id"]) or "?"
            key = task_key(b["key"], task["number"])
            self._move(
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

    def expire_leases(self, board: str | None = None) -> list[str]:
        """Sweep expired leases now (claims also do this); returns the keys sent back."""
        with self._write() as tx:
            return self._expire(tx, tx.board(board))

    def heartbeat(self, actor: str, *, board: str | None = None) -> list[str]:
        """Say the agent is alive and renew the leases of the tasks it holds; returns their keys."""
        with self._write() as tx:
            b = tx.board(board)
            a = tx.agent(b["id"], actor, b["key"])
            tx.conn.execute(
                agent_t.update().where(agent_t.c.id == a["id"]).values(last_heartbeat=tx.now)
            )
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

    # -- updates from the holder ------------------------------------------------------------

    @contextmanager
    def _as_holder(
        self, key: str, actor: str, verb: str
    ) -> Iterator[tuple[Tx, RowMapping, RowMapping, RowMapping]]:
        """A write transaction on a task `actor` holds; a lapsed lease is swept, then refused."""
        try:
            with self._write() as tx:
                task, b = tx.task(key)
                a = tx.agent(b["id"], actor, b["key"])
                self._require_holder(tx, task, b, a, verb)
                yield tx, task, b, a
        except LeaseExpiredError:
            self.expire_leases(split_key(key)[0])
            raise

    def _require_holder(
        self, tx: Tx, task: RowMapping, b: Mapping[Any, Any], a: Mapping[Any, Any], verb: str
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
        from agentdeck.core.lifecycle import refused

        raise refused(verb, key, task["status"])

    def doing(
        self, actor: str, text: str, *, key: str | None = None, board: str | None = None
    ) -> None:
        """Set what the agent is doing right now ("Writing SQL migration") on it and its task."""
        text = limits.line(text, 200)
        with self._write() as tx:
            if key is None:
                b = tx.board(board)
                a = tx.agent(b["id"], actor, b["key"])
                task_id = a["current_task_id"]
            else:
                task, b = tx.task(key)
                a = tx.agent(b["id"], actor, b["key"])
                self._require_holder(tx, task, b, a, "doing")
                task_id = task["id"]
            tx.conn.execute(
                agent_t.update()
                .where(agent_t.c.id == a["id"])
                .values(active_form=text, last_heartbeat=tx.now)
            )
            if task_id is not None:
                tx.conn.execute(
                    task_t.update()
                    .where(task_t.c.id == task_id)
                    .values(active_form=text, updated_at=tx.now)
                )
            tx.event(b["id"], task_id, actor, "doing", "", text)

    def log(
        self,
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
            with self._write() as tx:
                # Take PostgreSQL's event-order lock before reading the task: a move committed
                # meanwhile (cancel, reassign) is then seen here, so no entry lands after it.
                tx.order_events()
                task = tx.task_and_actor(key, actor)
                # All a log entry needs of its board and its author, read with the task.
                b = {"id": task["board_id"], "key": task["board_key"]}
                a = {"id": task["agent_id"], "name": task["agent_name"], "kind": task["agent_kind"]}
                waiting = (
                    task["status"] in ("review", "escalated") and task["assignee_id"] == a["id"]
                )
                if a["kind"] != "human" and not waiting:
                    self._require_holder(tx, task, b, a, "log on")
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
                )
        except LeaseExpiredError:
            self.expire_leases(split_key(key)[0])
            raise

    def record_usage(
        self,
        key: str | None,
        *,
        actor: str,
        board: str | None = None,
        tokens_in: int = 0,
        tokens_out: int = 0,
        cost_usd: float = 0.0,
        cpu_seconds: float = 0.0,
        gpu_seconds: float = 0.0,
        model: str = "",
    ) -> list[BudgetStatus]:
        """Record tokens, cost and compute against a task (or just the board) and the agent.

        Returns the budgets this usage pushed past a limit; crossing a hard limit escalates the
        task with reason `budget`.
        """
        usage: dict[str, Any] = {
            "tokens_in": limits.count(tokens_in, "tokens_in"),
            "tokens_out": limits.count(tokens_out, "tokens_out"),
            "cost_usd": limits.amount(cost_usd, "cost_usd"),
            "cpu_seconds": limits.amount(cpu_seconds, "cpu_seconds"),
            "gpu_seconds": limits.amount(gpu_seconds, "gpu_seconds"),
            "model": limits.line(model, 100),
        }
        with self._write() as tx:
            if key is not None:
                task, b = tx.task(key)
            else:
                task, b = None, tx.board(board)
            tx.agent(b["id"], actor, b["key"])
            crossed = self._apply_usage(tx, b, task, actor, usage)
            total = sum(usage[k] for k in ("tokens_in", "tokens_out"))
            tx.event(
                b["id"],
                task["id"] if task is not None else None,
                actor,
                "usage",
                usage["model"],
                f"{total} tokens, ${usage['cost_usd']:.4f}",
                {k: v for k, v in usage.items() if v},
            )
            hard = [r for r in crossed if r["hard"] is not None and r["used"] >= r["hard"]]
            if hard and task is not None and task["status"] == "in_progress":
                reason = f"budget: {budgets.describe(hard[0])} exhausted"
                self._move(
                    tx,
                    task,
                    b,
                    "escalate",
                    actor,
                    text=reason,
                    data={"reason": "budget"},
                    values={"escalation_reason": reason},
                )
            return [budgets.status_of(r) for r in crossed]

    def submit(self, key: str, *, actor: str, result: str = "", verified_by: str = "") -> Task:
        """Hand in work for a human's review."""
        with self._as_holder(key, actor, "submit") as (tx, task, b, _):
            verified = bool(verified_by) or self._has_verification(tx, task["id"])
            self._move(
                tx,
                task,
                b,
                "submit",
                actor,
                text=limits.text(result),
                values={
                    "result": limits.text(result),
                    "verification": limits.text(verified_by),
                    "verified": verified,
                },
            )
            return self._tasks_by_id(tx, [task["id"]])[0]

    def complete(
        self, key: str, *, actor: str, result: str = "", verified_by: str = ""
    ) -> Completion:
        """Finish a task that needs no approval. Without verification evidence (a `verification`
        log entry or `verified_by`) it is marked unverified and the answer carries a nudge."""
        with self._as_holder(key, actor, "complete") as (tx, task, b, _):
            upper = task_key(b["key"], task["number"])
            if task["requires_approval"]:
                raise InvalidTransitionError(
                    f"cannot complete {upper}: it requires approval; submit it for review instead"
                )
            verified = bool(verified_by) or self._has_verification(tx, task["id"])
            if not verified and b["require_verification"]:
                raise InvalidTransitionError(
                    f"cannot complete {upper}: board {b['key']} requires verification evidence; "
                    "log a `verification` entry or pass verified_by"
                )
            self._move(
                tx,
                task,
                b,
                "complete",
                actor,
                text=limits.text(result),
                values={
                    "result": limits.text(result),
                    "verification": limits.text(verified_by),
                    "verified": verified,
                },
            )
            nudge = (
                None
                if verified
                else (
                    f"{upper} was completed without verification evidence; next time log a "
                    "`verification` entry (tests run, output checked) or pass verified_by"
                )
            )
            return Completion(task=self._tasks_by_id(tx, [task["id"]])[0], nudge=nudge)

    def _has_verification(self, tx: Tx, task_id: int) -> bool:
        return _VERIFICATION_LOGGED.first(tx.conn, {"p_task_id": task_id}) is not None

    def fail(self, key: str, *, actor: str, reason: str) -> Task:
        """Give up on a task, saying why; a human may reopen it."""
        with self._as_holder(key, actor, "fail") as (tx, task, b, _):
            self._move(
                tx,
                task,
                b,
                "fail",
                actor,
                text=limits.text(reason),
                values={"result": limits.text(reason)},
            )
            return self._tasks_by_id(tx, [task["id"]])[0]

    def escalate(self, key: str, *, actor: str, reason: str) -> Task:
        """Ask a human for help ("need credentials for staging"); the task waits in Needs human."""
        if not reason.strip():
            raise ValidationError("an escalation needs a reason a human can act on")
        with self._as_holder(key, actor, "escalate") as (tx, task, b, _):
            text = limits.text(reason)
            self._move(
                tx, task, b, "escalate", actor, text=text, values={"escalation_reason": text}
            )
            return self._tasks_by_id(tx, [task["id"]])[0]

    def release(self, key: str, *, actor: str, note: str = "") -> Task:
        """Give a held task back to the queue unassigned."""
        with self._as_holder(key, actor, "release") as (tx, task, b, _):
            self._move(
                tx, task, b, "release", actor, text=limits.text(note), values={"assignee_id": None}
            )
            return self._tasks_by_id(tx, [task["id"]])[0]
