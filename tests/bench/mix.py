"""The writer mix the benchmark times: per task a claim, 10 log entries, 1 usage record and a
completion (13 committed operations), through `Deck` or through hand-written stdlib `sqlite3`.

Two hand-written baselines. `sqlite_writer` makes only the writes (the task's moves, the
events, the usage row, the knowledge entry), with none of the checks `Deck` must make: it
is the floor, kept as the issue first measured it. `guarded_writer` makes the same guarantees
as `Deck`, each operation in one transaction as `Deck` makes it: it authenticates the actor
and checks it holds the task (and that its lease has not lapsed), refuses work over a spent
hard budget, sweeps lapsed leases before a claim, renews the holder's lease and heartbeat on
each log and usage record (unless renewed less than a second ago, as `Deck` does), counts usage once across reported and measured sources and bumps
the budgets it falls under, keeps dependents' blocker counts and the per-minute flow rollup
in step on completion, indexes the finished task with its notes, delivers unread messages
with a claim, and answers a claim with the three most similar finished tasks (a read after
the commit, as `Deck` does). It answers with the stored task row, not `Deck`'s whole read
model (labels, usage sums, epic progress), which favours it.

Each function runs in a spawned process, waits at a start gate so start-up is not timed, and
returns its operation count, error messages, start/end wall-clock times and CPU seconds
through a queue.
"""

from __future__ import annotations

import fcntl
import gc
import json
import os
import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdeck.core import Deck

LOGS_PER_TASK = 10
OPS_PER_TASK = LOGS_PER_TASK + 3
MAX_ERRORS = 50


def deck_writer(
    db: str, agent: str, tasks: int, gate: Any, results: Any, token: str | None = None
) -> None:
    """Work `tasks` tasks through `Deck`, the way an agent would (presenting `token`, its
    AGENTDECK_TOKEN, when the board wants one)."""
    ops, errors = 0, []
    with Deck.open(db) as deck:
        if token:
            deck.present(token)
        deck.max_event_id()  # open a connection before the clock starts
        _settle()
        gate.wait()
        start, cpu = time.time(), time.process_time()
        for n in range(tasks):
            if len(errors) >= MAX_ERRORS:
                break
            try:
                claim = deck.claim(agent)
                ops += 1
                if claim is None:
                    break
                key = claim.task.key
                for i in range(LOGS_PER_TASK):
                    deck.log(key, f"step {i} of task {n}: ran the tool", actor=agent)
                    ops += 1
                deck.record_usage(
                    key, actor=agent, tokens_in=1200, tokens_out=300, cost_usd=0.004, model="m"
                )
                ops += 1
                deck.complete(key, actor=agent, result="done", verified_by="bench")
                ops += 1
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
        end, cpu = time.time(), time.process_time() - cpu
    results.put({"ops": ops, "errors": errors, "start": start, "end": end, "cpu": cpu})


def resident_writer(
    db: str, agent: str, tasks: int, gate: Any, results: Any, token: str | None = None
) -> None:
    """`deck_writer` with the deck sending its verbs to the file's resident writer (group
    commit, `agentdeck.core.storage.resident_writer`), started by the first writer to ask."""
    os.environ["AGENTDECK_WRITER"] = "resident"
    deck_writer(db, agent, tasks, gate, results, token)


def _settle() -> None:
    """Before the clock starts, the first full garbage collection of what start-up made.

    A fresh process has never swept the ~100,000 objects its imports made; its first full
    collection (0.1 s on this machine, once per process) would otherwise land inside the
    timed run, and on the writers that allocate most. Every writer settles the same way."""
    gc.collect()


def _stamp(now: datetime) -> str:
    """A time as SQLAlchemy stores `UTCDateTime` in SQLite: naive UTC with microseconds."""
    return now.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


class _Baseline:
    """The same writes as `Deck` makes for the mix, as hand-written SQL on one connection."""

    def __init__(self, db: str, agent: str, *, lock: bool = False):
        self.lock = os.open(f"{db}-bench.lock", os.O_RDWR | os.O_CREAT, 0o644) if lock else None
        self.con = sqlite3.connect(db, timeout=15.0, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.con.execute(f"PRAGMA {pragma}")
        self.con.execute("PRAGMA busy_timeout=15000")
        self.board_id, self.board_key, self.lease = self.con.execute(
            "SELECT id, key, lease_seconds FROM board"
        ).fetchone()
        self.agent = agent
        (self.agent_id,) = self.con.execute(
            "SELECT id FROM agent WHERE board_id = ? AND name = ?", (self.board_id, agent)
        ).fetchone()

    def _event(self, task_id: int | None, kind: str, subkind: str, text: str, data: Any) -> int:
        return self.con.execute(
            "INSERT INTO event (board_id, task_id, actor, kind, subkind, text, data, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (self.board_id, task_id, self.agent, kind, subkind, text, json.dumps(data), self.now),
        ).fetchone()[0]

    def tx(self) -> _Baseline:
        if self.lock is not None:
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.now = _stamp(datetime.now(UTC))
        self.con.execute("BEGIN IMMEDIATE")
        return self

    def __enter__(self) -> _Baseline:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            self.con.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            if self.lock is not None:
                fcntl.flock(self.lock, fcntl.LOCK_UN)

    def claim(self) -> tuple[int, int] | None:
        with self.tx():
            lease = _stamp(datetime.now(UTC) + timedelta(seconds=self.lease))
            row = self.con.execute(
                "UPDATE task SET status = 'in_progress', assignee_id = ?, lease_expires_at = ?,"
                " started_at = coalesce(started_at, ?), updated_at = ?, active_form = '',"
                " version = version + 1"
                " WHERE id = (SELECT id FROM task WHERE board_id = ? AND status = 'pending'"
                " AND open_deps = 0 AND assignee_id IS NULL ORDER BY priority, id LIMIT 1)"
                " AND status = 'pending' RETURNING id, version",
                (self.agent_id, lease, self.now, self.now, self.board_id),
            ).fetchone()
            if row is None:
                return None
            self.con.execute(
                "UPDATE agent SET current_task_id = ?, active_form = '', last_heartbeat = ?"
                " WHERE id = ?",
                (row[0], self.now, self.agent_id),
            )
            self._event(
                row[0], "claimed", "in_progress", "", {"from": "pending", "to": "in_progress"}
            )
            return row[0], row[1]

    def log(self, task_id: int, text: str) -> int:
        with self.tx():
            return self._event(task_id, "log", "action", text, {})

    def usage(self, task_id: int) -> None:
        with self.tx():
            self.con.execute(
                "INSERT INTO usage (board_id, task_id, agent_id, tokens_in, tokens_out, cost_usd,"
                " cpu_seconds, gpu_seconds, model, created_at) VALUES (?, ?, ?, 1200, 300, 0.004,"
                " 0, 0, 'm', ?)",
                (self.board_id, task_id, self.agent_id, self.now),
            )
            self._event(task_id, "usage", "m", "1500 tokens, $0.0040", {"tokens_in": 1200})

    def complete(self, task_id: int, version: int) -> None:
        with self.tx():
            title = self.con.execute(
                "UPDATE task SET status = 'done', version = version + 1, updated_at = ?,"
                " lease_expires_at = NULL, completed_at = ?, result = 'done', verified = 1"
                " WHERE id = ? AND version = ? RETURNING title",
                (self.now, self.now, task_id, version),
            ).fetchone()[0]
            self._event(task_id, "status", "done", "done", {"from": "in_progress", "to": "done"})
            self.con.execute(
                "UPDATE agent SET current_task_id = NULL, active_form = '' WHERE id = ?",
                (self.agent_id,),
            )
            self.con.execute(
                "INSERT INTO knowledge (rowid, board_id, title, body) VALUES (?, ?, ?, ?)",
                (task_id, self.board_id, title, "done"),
            )


# The hard budgets over a board, an agent (?2) and a task (?3), as `Deck` checks them.
_SPENT = (
    "SELECT 1 FROM budget WHERE board_id = ?1 AND hard_hit = 1 AND (scope = 'board'"
    " OR (scope = 'agent' AND subject = ?2) OR (scope = 'task' AND subject = ?3))"
)
# The task by board key and number, its board, and the acting member by name.
_TASK_AND_MEMBER = (
    "SELECT task.id, task.status, task.assignee_id, task.lease_expires_at, task.version,"
    " task.requires_approval, task.parent_id, task.title, task.description, task.criteria,"
    " board.id, board.agents_mode, board.lease_seconds, board.lead, board.require_verification,"
    " agent.id, agent.kind, agent.token_hash"
    " FROM task JOIN board ON board.id = task.board_id"
    " LEFT JOIN agent ON agent.board_id = task.board_id AND agent.name = ?"
    " WHERE board.key = ? AND task.number = ?"
)
_WORD = re.compile(r"\w+", re.UNICODE)


class _Guarded(_Baseline):
    """The mix with the checks and upkeep `Deck` must do, in hand-written SQL (see the module's
    docstring). A member acts by name, as an agent may on a board in `named` mode."""

    def _event(self, task_id: int | None, kind: str, subkind: str, text: str, data: Any) -> int:
        """An event, with how its actor proved who it is (by name)."""
        return int(
            self.con.execute(
                "INSERT INTO event (board_id, task_id, actor, kind, subkind, text, data, created_at,"
                " auth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'named') RETURNING id",
                (
                    self.board_id,
                    task_id,
                    self.agent,
                    kind,
                    subkind,
                    text,
                    json.dumps(data),
                    self.now,
                ),
            ).fetchone()[0]
        )

    def _member(self, kind: str | None, token_hash: str | None, mode: str) -> None:
        """Authenticate the actor as `Deck` does for a deck holding no credential."""
        if kind is None:
            raise LookupError(f"no agent {self.agent!r}")
        if kind != "agent" or mode != "named":
            raise PermissionError(f"{self.agent} must present its credential")

    def _held(self, number: int) -> tuple[Any, ...]:
        """The task `number` and its board, with the actor authenticated and holding it."""
        row = self.con.execute(_TASK_AND_MEMBER, (self.agent, self.board_key, number)).fetchone()
        if row is None:
            raise LookupError(f"no task {self.board_key}-{number}")
        self._member(row[16], row[17], row[11])
        if row[1] != "in_progress" or row[2] != row[15]:
            raise PermissionError(f"{self.board_key}-{number} is not held by {self.agent}")
        if row[3] is not None and row[3] < self.now:
            raise TimeoutError(f"the lease of {self.agent} on {self.board_key}-{number} expired")
        return tuple(row)

    def _require_within_budget(self, key: str | None) -> None:
        if self.con.execute(_SPENT + " LIMIT 1", (self.board_id, self.agent, key)).fetchone():
            raise RuntimeError(f"{self.agent}: a hard budget over this work is spent")

    def _renew(self, task_id: int, key: str, lease_seconds: int, current: str | None) -> None:
        """A holder's write renews its lease and heartbeat, unless a hard budget is spent or
        the lease (`current`) was renewed less than a second ago (`claims.RENEW_STEP`)."""
        deadline = datetime.now(UTC) + timedelta(seconds=lease_seconds)
        if current is not None and current > _stamp(deadline - timedelta(seconds=1)):
            return
        lease = _stamp(deadline)
        renewed = self.con.execute(
            "UPDATE task SET lease_expires_at = ?1 WHERE id = ?2 AND status = 'in_progress'"
            " AND assignee_id = ?3 AND lease_expires_at >= ?4 AND NOT EXISTS ("
            + _SPENT.replace("?1", "?5").replace("?2", "?6").replace("?3", "?7")
            + ") RETURNING id",
            (lease, task_id, self.agent_id, self.now, self.board_id, self.agent, key),
        ).fetchone()
        if renewed is not None:
            self.con.execute(
                "UPDATE agent SET last_heartbeat = ? WHERE id = ?", (self.now, self.agent_id)
            )

    def _sweep(self) -> None:
        """Return every task whose lease lapsed to the queue (before each claim)."""
        lapsed = self.con.execute(
            "SELECT id, assignee_id, version FROM task WHERE status = 'in_progress'"
            " AND lease_expires_at < ? AND board_id = ?",
            (self.now, self.board_id),
        ).fetchall()
        for task_id, holder, version in lapsed:
            self.con.execute(
                "UPDATE task SET status = 'pending', assignee_id = NULL, lease_expires_at = NULL,"
                " active_form = '', completed_at = NULL, version = version + 1, updated_at = ?"
                " WHERE id = ? AND version = ?",
                (self.now, task_id, version),
            )
            self.con.execute(
                "UPDATE agent SET current_task_id = NULL, active_form = ''"
                " WHERE id = ? AND current_task_id = ?",
                (holder, task_id),
            )
            self._event(task_id, "lease_expired", "pending", "lease expired", {"verb": "expire"})

    def claim(self) -> tuple[int, int] | None:
        with self.tx():
            row = self.con.execute(
                "SELECT board.agents_mode, board.lease_seconds, agent.id, agent.kind,"
                " agent.token_hash, agent.skills FROM board JOIN agent ON agent.board_id = board.id"
                " AND agent.name = ? WHERE board.id = ?",
                (self.agent, self.board_id),
            ).fetchone()
            self._member(row[3], row[4], row[0])
            self._require_within_budget(None)
            self._sweep()
            lease = _stamp(datetime.now(UTC) + timedelta(seconds=row[1]))
            ready = "board_id = ?1 AND status = 'pending' AND open_deps = 0"
            # Tasks whose own hard budget is spent are skipped; skills must fit.
            spent = (
                "AND ?6 || number NOT IN (SELECT subject FROM budget WHERE board_id = ?1"
                " AND scope = 'task' AND hard_hit = 1)"
            )
            fits = (
                "AND (json_array_length(required_skills) = 0 OR NOT EXISTS (SELECT 1 FROM"
                " json_each(required_skills) AS need WHERE need.value NOT IN"
                " (SELECT value FROM json_each(?7))))"
            )
            task = self.con.execute(
                "UPDATE task SET status = 'in_progress', assignee_id = ?2, lease_expires_at = ?3,"
                " started_at = coalesce(started_at, ?4), updated_at = ?4, active_form = '',"
                " version = version + 1 WHERE id = coalesce("
                f"(SELECT id FROM task WHERE {ready} AND assignee_id = ?2 {spent}"
                " ORDER BY priority, id LIMIT 1),"
                f" (SELECT id FROM task WHERE {ready} AND assignee_id IS NULL {fits} {spent}"
                " ORDER BY priority, id LIMIT 1))"
                " AND status = 'pending' AND open_deps = 0"
                " RETURNING id, number, version, title, description",
                (
                    self.board_id,
                    self.agent_id,
                    lease,
                    self.now,
                    None,
                    f"{self.board_key}-",
                    json.dumps(sorted(json.loads(row[5] or "[]"))),
                ),
            ).fetchone()
            if task is None:
                return None
            task_id, number, version, title, description = task
            self.con.execute(
                "UPDATE agent SET current_task_id = ?, active_form = '', last_heartbeat = ?"
                " WHERE id = ?",
                (task_id, self.now, self.agent_id),
            )
            self._event(
                task_id,
                "claimed",
                "in_progress",
                "",
                {"from": "pending", "to": "in_progress", "verb": "claim"},
            )
            unread = self.con.execute(
                "SELECT message.id, message.sender, message.kind, message.text, task.number"
                " FROM message LEFT JOIN task ON task.id = message.task_id"
                " WHERE message.agent_id = ? AND message.read_at IS NULL ORDER BY message.id"
                " LIMIT 11",
                (self.agent_id,),
            ).fetchall()
            if unread:
                ids = [m[0] for m in unread[:10]]
                self.con.execute(
                    f"UPDATE message SET read_at = ? WHERE id IN ({', '.join('?' * len(ids))})",
                    (self.now, *ids),
                )
        # The three most similar finished tasks, read after the commit.
        words = list(dict.fromkeys(w for w in _WORD.findall(f"{title} {description}".lower())))
        query = " OR ".join(f'"{w}"' for w in words if len(w) > 1)
        if query:
            self.con.execute("BEGIN")
            hits = self.con.execute(
                "SELECT rowid, snippet(knowledge, 2, '', '', '…', 16),"
                " -bm25(knowledge, 0, 4.0, 1.0) AS score FROM knowledge WHERE knowledge MATCH ?"
                " AND board_id = ? AND rowid <> ? ORDER BY score DESC, rowid LIMIT 3",
                (query, self.board_id, task_id),
            ).fetchall()
            if hits:
                self.con.execute(
                    "SELECT task.id, task.number, task.title, task.result, board.key FROM task"
                    " JOIN board ON board.id = task.board_id WHERE task.id IN"
                    f" ({', '.join('?' * len(hits))})",
                    [h[0] for h in hits],
                ).fetchall()
            self.con.execute("COMMIT")
        return number, version

    def log(self, number: int, text: str) -> int:
        with self.tx():
            held = self._held(number)
            self._renew(held[0], f"{self.board_key}-{number}", held[12], held[3])
            return self._event(held[0], "log", "action", text, {})

    def usage(self, number: int) -> None:
        with self.tx():
            held = self._held(number)
            task_id, key = held[0], f"{self.board_key}-{number}"
            # Counted once: the larger of what was reported and what was measured.
            given = self.con.execute(
                "SELECT source, coalesce(sum(raw_tokens_in), 0), coalesce(sum(raw_tokens_out), 0),"
                " coalesce(sum(raw_cost_usd), 0) FROM usage WHERE board_id = ? AND agent_id = ?"
                " AND task_id = ? GROUP BY source",
                (self.board_id, self.agent_id, task_id),
            ).fetchall()
            if any(g[0] != "reported" for g in given):
                raise NotImplementedError("measured usage is not part of the mix")
            self.con.execute(
                "INSERT INTO usage (board_id, task_id, agent_id, tokens_in, tokens_out, cost_usd,"
                " cpu_seconds, gpu_seconds, model, created_at, source, raw_tokens_in,"
                " raw_tokens_out, raw_cost_usd) VALUES (?, ?, ?, 1200, 300, 0.004, 0, 0, 'm', ?,"
                " 'reported', 1200, 300, 0.004)",
                (self.board_id, task_id, self.agent_id, self.now),
            )
            scope = (
                "board_id = ?1 AND (scope = 'board' OR (scope = 'agent' AND subject = ?2)"
                " OR (scope = 'task' AND subject = ?3))"
            )
            self.con.execute(
                "UPDATE budget SET used = used + CASE WHEN metric = 'tokens' THEN 1500.0"
                f" WHEN metric = 'cost_usd' THEN 0.004 ELSE 0.0 END WHERE {scope}",
                (self.board_id, self.agent, key),
            )
            crossed = self.con.execute(
                f"SELECT * FROM budget WHERE {scope} AND ((soft IS NOT NULL AND used >= soft"
                " AND NOT soft_warned) OR (hard IS NOT NULL AND used >= hard AND NOT hard_hit))",
                (self.board_id, self.agent, key),
            ).fetchall()
            if crossed:
                raise NotImplementedError("budgets are not part of the mix")
            self._event(
                task_id,
                "usage",
                "m",
                "1,500 tokens, $0.0040",
                {"tokens_in": 1200, "tokens_out": 300, "cost_usd": 0.004, "model": "m"},
            )
            self._renew(task_id, key, held[12], held[3])

    def complete(self, number: int, version: int) -> None:
        with self.tx():
            key = f"{self.board_key}-{number}"
            self._require_within_budget(key)
            held = self._held(number)
            task_id = held[0]
            if held[5]:
                raise PermissionError(f"{key} requires approval")
            changed = self.con.execute(
                "UPDATE task SET status = 'done', version = version + 1, updated_at = ?,"
                " lease_expires_at = NULL, active_form = '', completed_at = ?, result = 'done',"
                " verification = 'bench', verified = 1 WHERE id = ? AND version = ?",
                (self.now, self.now, task_id, held[4]),
            ).rowcount
            if changed != 1:
                raise RuntimeError(f"{key} changed meanwhile")
            self._event(
                task_id,
                "status",
                "done",
                "done",
                {"from": "in_progress", "to": "done", "verb": "complete"},
            )
            # Dependents wait on one task fewer; a parent epic may complete with them.
            fell = self.con.execute(
                "UPDATE task SET open_deps = open_deps - 1 WHERE id IN"
                " (SELECT task_id FROM dependency WHERE blocker_id = ?)",
                (task_id,),
            ).rowcount
            if fell or held[6] is not None:
                raise NotImplementedError("dependencies and epics are not part of the mix")
            self.con.execute(
                "UPDATE agent SET current_task_id = NULL, active_form = ''"
                " WHERE id = ? AND current_task_id = ?",
                (self.agent_id, task_id),
            )
            minute = int(datetime.now(UTC).timestamp() // 60)
            self.con.execute(
                "INSERT INTO flow (board_id, minute, scope, done) VALUES (?, ?, 0, 1)"
                " ON CONFLICT (board_id, minute) DO UPDATE SET done = done + excluded.done",
                (self.board_id, minute),
            )
            notes = self.con.execute(
                "SELECT text FROM event WHERE task_id = ? AND (kind IN ('note', 'approval',"
                " 'reopened') OR (kind = 'log' AND subkind IN ('decision', 'verification')))"
                " AND text != '' ORDER BY id LIMIT 200",
                (task_id,),
            ).fetchall()
            body = "\n".join(
                p for p in (held[8], held[9], "done", "bench", *(n[0] for n in notes)) if p
            )
            self.con.execute("DELETE FROM knowledge WHERE rowid = ?", (task_id,))
            self.con.execute(
                "INSERT INTO knowledge (rowid, board_id, title, body) VALUES (?, ?, ?, ?)",
                (task_id, self.board_id, held[7], body),
            )


def sqlite_writer(
    db: str, agent: str, tasks: int, gate: Any, results: Any, token: str | None = None
) -> None:
    """Work `tasks` tasks with hand-written SQL through the stdlib `sqlite3` module: the
    writes alone, none of the checks (see the module's docstring)."""
    _work(_Baseline(db, agent), tasks, gate, results)


def guarded_writer(
    db: str, agent: str, tasks: int, gate: Any, results: Any, token: str | None = None
) -> None:
    """Work `tasks` tasks with hand-written SQL through the stdlib `sqlite3` module, with the
    same checks and upkeep as `Deck` (see the module's docstring)."""
    _work(_Guarded(db, agent), tasks, gate, results)


def locked_writer(
    db: str, agent: str, tasks: int, gate: Any, results: Any, token: str | None = None
) -> None:
    """`guarded_writer`, with each write transaction also taking an exclusive `flock` on a
    file beside the database first, so waiting writers are woken by the kernel instead of
    polling in SQLite's busy handler (what `Deck` does, see `core.storage.writer_lock`)."""
    _work(_Guarded(db, agent, lock=True), tasks, gate, results)


def _work(base: _Baseline, tasks: int, gate: Any, results: Any) -> None:
    ops, errors = 0, []
    _settle()
    gate.wait()
    start, cpu = time.time(), time.process_time()
    for n in range(tasks):
        if len(errors) >= MAX_ERRORS:
            break
        try:
            claimed = base.claim()
            ops += 1
            if claimed is None:
                break
            handle, version = claimed
            for i in range(LOGS_PER_TASK):
                base.log(handle, f"step {i} of task {n}: ran the tool")
                ops += 1
            base.usage(handle)
            ops += 1
            base.complete(handle, version)
            ops += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    end, cpu = time.time(), time.process_time() - cpu
    base.con.close()
    results.put({"ops": ops, "errors": errors, "start": start, "end": end, "cpu": cpu})
