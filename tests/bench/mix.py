"""The writer mix the benchmark times: per task a claim, 10 log entries, 1 usage record and a
completion (13 committed operations), through `Deck` or through hand-written stdlib `sqlite3`.

Each function runs in a spawned process, waits at a start gate so start-up is not timed, and
returns its operation count, error messages, start/end wall-clock times and CPU seconds
through a queue.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdeck.core import Deck

LOGS_PER_TASK = 10
OPS_PER_TASK = LOGS_PER_TASK + 3
MAX_ERRORS = 50


def deck_writer(db: str, agent: str, tasks: int, gate: Any, results: Any) -> None:
    """Work `tasks` tasks through `Deck`, the way an agent would."""
    ops, errors = 0, []
    with Deck.open(db) as deck:
        deck.max_event_id()  # open a connection before the clock starts
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


def _stamp(now: datetime) -> str:
    """A time as SQLAlchemy stores `UTCDateTime` in SQLite: naive UTC with microseconds."""
    return now.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


class _Baseline:
    """The same writes as `Deck` makes for the mix, as hand-written SQL on one connection."""

    def __init__(self, db: str, agent: str):
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
        self.now = _stamp(datetime.now(UTC))
        self.con.execute("BEGIN IMMEDIATE")
        return self

    def __enter__(self) -> _Baseline:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.con.execute("COMMIT" if exc_type is None else "ROLLBACK")

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


def sqlite_writer(db: str, agent: str, tasks: int, gate: Any, results: Any) -> None:
    """Work `tasks` tasks with hand-written SQL through the stdlib `sqlite3` module."""
    ops, errors = 0, []
    base = _Baseline(db, agent)
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
            task_id, version = claimed
            for i in range(LOGS_PER_TASK):
                base.log(task_id, f"step {i} of task {n}: ran the tool")
                ops += 1
            base.usage(task_id)
            ops += 1
            base.complete(task_id, version)
            ops += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    end, cpu = time.time(), time.process_time() - cpu
    base.con.close()
    results.put({"ops": ops, "errors": errors, "start": start, "end": end, "cpu": cpu})
