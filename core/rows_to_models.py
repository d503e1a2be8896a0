"""Turn stored rows into frozen read models, in bulk: a fixed number of queries per call,
never one per task (no N+1 behind a board of 10,000 cards)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from agentdeck.core.models import Agent, Board, Event, Message, Task, column_of
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import (
    agent_t,
    board_t,
    budget_t,
    dependency_t,
    task_label_t,
    task_t,
    usage_t,
)
from agentdeck.core.storage.transaction import StoredRow, task_key

_CHUNK = 500

# The queries behind every task read model, built once: a verb that returns a task (claim,
# complete) pays only for running them, not for building and cache-keying them each time.
_IDS: sa.BindParameter[Any] = sa.bindparam("p_ids", expanding=True)
_BOARD_KEYS = Prepared(sa.select(board_t.c.id, board_t.c.key))
_blocker = task_t.alias("blocker")
_OPEN_BLOCKERS = Prepared(
    sa.select(dependency_t.c.task_id, _blocker.c.board_id, _blocker.c.number)
    .join(_blocker, _blocker.c.id == dependency_t.c.blocker_id)
    .where(dependency_t.c.task_id.in_(_IDS), _blocker.c.status.not_in(("done", "cancelled")))
    .order_by(_blocker.c.number)
)
_COST = Prepared(
    sa.select(
        usage_t.c.task_id,
        sa.func.sum(usage_t.c.cost_usd),
        sa.func.sum(usage_t.c.tokens_in + usage_t.c.tokens_out),
    )
    .where(usage_t.c.task_id.in_(_IDS))
    .group_by(usage_t.c.task_id)
)
_LABELS = Prepared(
    sa.select(task_label_t.c.task_id, task_label_t.c.label)
    .where(task_label_t.c.task_id.in_(_IDS))
    .order_by(task_label_t.c.task_id, task_label_t.c.label)
)
_AGENT_NAMES = Prepared(sa.select(agent_t.c.id, agent_t.c.name).where(agent_t.c.id.in_(_IDS)))
_OVER_BUDGET = Prepared(
    sa.select(budget_t.c.subject).where(budget_t.c.scope == "task", budget_t.c.hard_hit)
)
# Each epic's subtasks by status, over ix_task_parent.
_CHILDREN = Prepared(
    sa.select(task_t.c.parent_id, task_t.c.status, sa.func.count())
    .where(task_t.c.parent_id.in_(_IDS))
    .group_by(task_t.c.parent_id, task_t.c.status)
)
_TASK_NUMBERS = Prepared(
    sa.select(task_t.c.id, task_t.c.board_id, task_t.c.number).where(task_t.c.id.in_(_IDS))
)


def _tuples(statement: Prepared, conn: sa.Connection, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in statement.rows(conn, {"p_ids": list(ids)})]


def board(row: StoredRow) -> Board:
    return Board(
        key=row["key"],
        name=row["name"],
        goal=row["goal"],
        due_at=row["due_at"],
        lead=row["lead"],
        require_verification=row["require_verification"],
        lease_seconds=row["lease_seconds"],
        created_at=row["created_at"],
        agents=row["agents_mode"],
    )


def agent(
    row: StoredRow, board_key: str, current_key: str | None, now: datetime, lease_s: int
) -> Agent:
    beat = row["last_heartbeat"]
    if current_key is None:
        state = "idle"
    elif beat is None or now - beat > timedelta(seconds=lease_s):
        state = "stale"
    else:
        state = "working"
    return Agent(
        name=row["name"],
        board=board_key,
        kind=row["kind"],
        skills=tuple(row["skills"] or ()),
        role=row["role"],
        supervisor=row["supervisor"],
        last_heartbeat=beat,
        current_task=current_key,
        active_form=row["active_form"],
        state=state,
    )


def event(row: StoredRow, board_key: str, task_keys: dict[int, str]) -> Event:
    task_id = row["task_id"]
    return Event(
        id=row["id"],
        board=board_key,
        task=task_keys.get(task_id) if task_id is not None else None,
        actor=row["actor"],
        kind=row["kind"],
        subkind=row["subkind"],
        text=row["text"],
        data=dict(row["data"] or {}),
        created_at=row["created_at"],
        auth=row["auth"],
    )


def message(row: StoredRow, to: str, task: str | None) -> Message:
    return Message(
        id=row["id"],
        to=to,
        sender=row["sender"],
        task=task,
        kind=row["kind"],
        text=row["text"],
        created_at=row["created_at"],
        read=row["read_at"] is not None,
    )


def children_progress(conn: sa.Connection, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """For each of these tasks that has subtasks: (done, total), where total leaves out the
    cancelled ones (work dropped, not work to do), so an epic of 7 with 3 done shows 3/7."""
    progress: dict[int, tuple[int, int]] = {}
    for chunk in _chunks(ids):
        for parent_id, status, n in _tuples(_CHILDREN, conn, chunk):
            if status == "cancelled":
                progress.setdefault(parent_id, (0, 0))
                continue
            done, total = progress.get(parent_id, (0, 0))
            progress[parent_id] = (done + (n if status == "done" else 0), total + n)
    return progress


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def tasks(conn: sa.Connection, rows: Sequence[StoredRow], now: datetime) -> list[Task]:
    """Read models for task rows (any boards), with blockers, cost and badges filled in."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    board_keys: dict[int, str] = {r["id"]: r["key"] for r in _BOARD_KEYS.rows(conn)}
    blockers: dict[int, list[str]] = defaultdict(list)
    cost: dict[int, tuple[float, int]] = {}
    labels: dict[int, list[str]] = defaultdict(list)
    names: dict[int, str] = {}
    agent_ids = {r["assignee_id"] for r in rows if r["assignee_id"] is not None}
    for chunk in _chunks(ids):
        for task_id, b_board, b_number in _tuples(_OPEN_BLOCKERS, conn, chunk):
            blockers[task_id].append(task_key(board_keys[b_board], b_number))
        for task_id, usd, tok in _tuples(_COST, conn, chunk):
            cost[task_id] = (float(usd or 0.0), int(tok or 0))
        for task_id, label in _tuples(_LABELS, conn, chunk):
            labels[task_id].append(label)
    for chunk in _chunks(sorted(agent_ids)):
        names.update((agent_id, name) for agent_id, name in _tuples(_AGENT_NAMES, conn, chunk))
    over = set(_OVER_BUDGET.scalars(conn))
    progress = children_progress(conn, ids)
    parents = {r["parent_id"] for r in rows if r["parent_id"] is not None}
    parent_keys: dict[int, str] = {}
    for chunk in _chunks(sorted(parents)):
        for pid, pboard, pnum in _tuples(_TASK_NUMBERS, conn, chunk):
            parent_keys[pid] = task_key(board_keys[pboard], pnum)
    out = []
    for r in rows:
        key = task_key(board_keys[r["board_id"]], r["number"])
        usd, tok = cost.get(r["id"], (0.0, 0))
        done, total = progress.get(r["id"], (0, 0))
        lease = r["lease_expires_at"]
        out.append(
            Task(
                key=key,
                board=board_keys[r["board_id"]],
                title=r["title"],
                description=r["description"],
                criteria=r["criteria"],
                priority=r["priority"],
                required_skills=tuple(r["required_skills"] or ()),
                parent=parent_keys.get(r["parent_id"]) if r["parent_id"] else None,
                requires_approval=r["requires_approval"],
                estimate_hours=r["estimate_hours"],
                assignee=names.get(r["assignee_id"]) if r["assignee_id"] else None,
                status=r["status"],
                column=column_of(r["status"], r["open_deps"]),
                type=r["type"],
                labels=tuple(labels.get(r["id"], ())),
                active_form=r["active_form"],
                result=r["result"],
                verification=r["verification"],
                verified=r["verified"],
                escalation_reason=r["escalation_reason"],
                lease_expires_at=lease,
                lease_stale=r["status"] == "in_progress" and lease is not None and lease < now,
                version=r["version"],
                blocked_by=tuple(blockers.get(r["id"], ())),
                cost_usd=usd,
                tokens=tok,
                over_budget=key in over,
                created_at=r["created_at"],
                started_at=r["started_at"],
                completed_at=r["completed_at"],
                updated_at=r["updated_at"],
                subtasks_done=done,
                subtasks_total=total,
            )
        )
    return out
