"""Reading the paper trail: the global change cursor, a task's log, and what changed since.

The event id is the cursor every follower keeps (the TUI, `agentdeck events`): read what is
past it, apply it, move the cursor. Verbs here: max_event_id, events_since, task_events,
changes_since, task_detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from agentdeck.core import comments, limits, measured, rows_to_models
from agentdeck.core.budgets import usage_sums
from agentdeck.core.inbox import checkpoint_models
from agentdeck.core.models import Event, Task, TaskDetail, UsageTotals
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import (
    board_t,
    dependency_t,
    event_t,
    task_link_t,
    task_t,
    usage_t,
)
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key

# Status changes whose text is something a person said about the task, shown as notes.
_NOTE_VERBS = ("answer", "cancel", "release")


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed on a board after a cursor: new events, and the tasks they touched."""

    cursor: int
    events: tuple[Event, ...]
    tasks: tuple[Task, ...]
    truncated: bool


def max_event_id(tx: Tx) -> int:
    """The newest event id: a cheap way to ask "did anything change?"."""
    return int(
        tx.conn.execute(sa.select(sa.func.coalesce(sa.func.max(event_t.c.id), 0))).scalar_one()
    )


def events_since(
    tx: Tx, cursor: int = 0, *, board: str | None = None, limit: int = 1000
) -> list[Event]:
    """Events after `cursor`, oldest first, at most `limit` of them."""
    q = sa.select(event_t).where(event_t.c.id > limits.row_window(cursor))
    if board is not None:
        q = q.where(event_t.c.board_id == tx.board(board)["id"])
    limit = max(1, limits.row_window(limit))
    rows = tx.conn.execute(q.order_by(event_t.c.id).limit(limit)).mappings().all()
    return event_models(tx, rows)


def event_models(tx: Tx, rows: Sequence[StoredRow]) -> list[Event]:
    board_keys: dict[int, str] = dict(tx.conn.execute(sa.select(board_t.c.id, board_t.c.key)).all())
    task_ids = sorted({r["task_id"] for r in rows if r["task_id"] is not None})
    keys: dict[int, str] = {}
    for i in range(0, len(task_ids), 500):
        for tid, bid, num in tx.conn.execute(
            sa.select(task_t.c.id, task_t.c.board_id, task_t.c.number).where(
                task_t.c.id.in_(task_ids[i : i + 500])
            )
        ):
            keys[tid] = task_key(board_keys[bid], num)
    return [rows_to_models.event(r, board_keys[r["board_id"]], keys) for r in rows]


def task_events(
    db: Database,
    key: str,
    *,
    kinds: Sequence[str] | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 500,
) -> list[Event]:
    """A task's log, oldest first. Without `after_id` it is the newest `limit` entries
    (before `before_id`), so a viewer loads the tail first and pages backwards."""
    limit = limits.row_window(limit)
    with db.read() as tx:
        task, b = tx.task(key)
        q = sa.select(event_t).where(event_t.c.task_id == task["id"])
        if kinds:
            q = q.where(sa.or_(event_t.c.kind.in_(list(kinds)), event_t.c.subkind.in_(list(kinds))))
        if after_id is not None:
            q = q.where(event_t.c.id > limits.row_window(after_id))
            q = q.order_by(event_t.c.id).limit(limit)
            rows = tx.conn.execute(q).mappings().all()
        else:
            if before_id is not None:
                q = q.where(event_t.c.id < limits.row_window(before_id))
            rows = list(
                reversed(
                    tx.conn.execute(q.order_by(event_t.c.id.desc()).limit(limit)).mappings().all()
                )
            )
        keys = {task["id"]: task_key(b["key"], task["number"])}
        return [rows_to_models.event(r, b["key"], keys) for r in rows]


def task_log_page(
    db: Database, key: str, *, limit: int, before_id: int | None = None
) -> tuple[list[Event], str | None]:
    """The newest `limit` entries of a task's log before `before_id` (oldest first), and the
    cursor of the entries before them: the id of the oldest shown, None when none are left.
    One read of `limit` + 1 entries tells whether older ones exist."""
    if limit <= 0:
        return [], None
    entries = task_events(db, key, before_id=before_id, limit=limit + 1)
    if len(entries) <= limit:
        return entries, None
    shown = entries[1:]
    return shown, str(shown[0].id)


def changes_since(tx: Tx, cursor: int, *, board: str | None = None, limit: int = 5000) -> Changes:
    """Events after `cursor` on a board and the current state of every task they touched,
    including tasks whose blockers just finished or reopened and the epics of the tasks they
    touched (a new or finished subtask changes its epic's column and progress)."""
    b = tx.board(board)
    rows = (
        tx.conn.execute(
            sa.select(event_t)
            .where(event_t.c.board_id == b["id"], event_t.c.id > cursor)
            .order_by(event_t.c.id)
            .limit(limit + 1)
        )
        .mappings()
        .all()
    )
    truncated = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        latest = tx.conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(event_t.c.id), cursor))
        ).scalar_one()
        return Changes(max(cursor, int(latest)), (), (), False)
    touched = sorted({r["task_id"] for r in rows if r["task_id"] is not None})
    dependents: set[int] = set()
    for i in range(0, len(touched), 500):
        dependents.update(
            tx.conn.execute(
                sa.select(dependency_t.c.task_id).where(
                    dependency_t.c.blocker_id.in_(touched[i : i + 500])
                )
            ).scalars()
        )
        # An epic's column and progress change with its subtasks, with no event of its own.
        dependents.update(
            tx.conn.execute(
                sa.select(task_t.c.parent_id).where(
                    task_t.c.id.in_(touched[i : i + 500]), task_t.c.parent_id.is_not(None)
                )
            ).scalars()
        )
    ids = sorted(set(touched) | dependents)
    tasks: list[Task] = []
    for i in range(0, len(ids), 500):
        chunk = (
            tx.conn.execute(sa.select(task_t).where(task_t.c.id.in_(ids[i : i + 500])))
            .mappings()
            .all()
        )
        tasks.extend(rows_to_models.tasks(tx.conn, chunk, tx.now))
    return Changes(int(rows[-1]["id"]), tuple(event_models(tx, rows)), tuple(tasks), truncated)


def task_detail(tx: Tx, key: str) -> TaskDetail:
    """A task with its dependencies both ways, assignee history, notes, checkpoints, usage
    and its newest comments."""
    row, b = tx.task(key)
    task = rows_to_models.tasks(tx.conn, [row], tx.now)[0]
    blocker = task_t.alias("blocker")
    blocked_by_all = tuple(
        (task_key(b["key"], n), s)
        for n, s in tx.conn.execute(
            sa.select(blocker.c.number, blocker.c.status)
            .join(dependency_t, dependency_t.c.blocker_id == blocker.c.id)
            .where(dependency_t.c.task_id == row["id"])
            .order_by(blocker.c.number)
        )
    )
    blocks = tuple(
        task_key(b["key"], n)
        for n in tx.conn.execute(
            sa.select(task_t.c.number)
            .join(dependency_t, dependency_t.c.task_id == task_t.c.id)
            .where(dependency_t.c.blocker_id == row["id"])
            .order_by(task_t.c.number)
        ).scalars()
    )
    subtasks = tuple(
        task_key(b["key"], n)
        for n in tx.conn.execute(
            sa.select(task_t.c.number)
            .where(task_t.c.parent_id == row["id"])
            .order_by(task_t.c.number)
        ).scalars()
    )
    history_rows = tx.conn.execute(
        sa.select(event_t.c.actor, event_t.c.kind, event_t.c.text, event_t.c.created_at)
        .where(event_t.c.task_id == row["id"], event_t.c.kind.in_(("claimed", "assigned")))
        .order_by(event_t.c.id)
    ).all()
    history = tuple(
        (actor if kind == "claimed" else (text or "nobody"), actor, at)
        for actor, kind, text, at in history_rows
    )
    note_rows = (
        tx.conn.execute(
            sa.select(event_t)
            .where(
                event_t.c.task_id == row["id"],
                event_t.c.kind.in_(("approval", "reopened", "note", "status")),
            )
            .order_by(event_t.c.id)
        )
        .mappings()
        .all()
    )
    keys = {row["id"]: task.key}
    notes = tuple(
        rows_to_models.event(r, b["key"], keys)
        for r in note_rows
        if r["text"] and (r["kind"] != "status" or (r["data"] or {}).get("verb") in _NOTE_VERBS)
    )
    checkpoints = tuple(checkpoint_models(tx, row["id"], task.key))
    count = tx.conn.execute(
        sa.select(sa.func.count()).where(event_t.c.task_id == row["id"])
    ).scalar_one()
    sources = measured.usage_by_source(tx, task=task.key)
    said, said_total = comments.newest(tx, row)
    return TaskDetail(
        task=task,
        blocks=blocks,
        blocked_by_all=blocked_by_all,
        subtasks=subtasks,
        assignee_history=history,
        notes=notes,
        checkpoints=checkpoints,
        usage=usage_sums(tx.conn, usage_t.c.task_id == row["id"]),
        event_count=int(count),
        measured=sources.get("measured"),
        reported=sources.get("reported", UsageTotals()) if "measured" in sources else None,
        comments=tuple(rows_to_models.event(r, b["key"], keys) for r in said),
        comments_total=said_total,
        links=task_links(tx, row["id"], b["key"]),
        metadata=dict(row["meta"] or {}),
    )


def task_links(tx: Tx, task_id: int, board_key: str) -> tuple[tuple[str, str, str], ...]:
    """A task's non-blocking links (an import's): (kind, linked task's key or "", reference)."""
    target = task_t.alias("target")
    rows = tx.conn.execute(
        sa.select(task_link_t.c.kind, target.c.number, task_link_t.c.target_ref)
        .outerjoin(target, target.c.id == task_link_t.c.target_id)
        .where(task_link_t.c.task_id == task_id)
        .order_by(task_link_t.c.kind, task_link_t.c.target_ref)
    ).all()
    return tuple(
        (kind, task_key(board_key, n) if n is not None else "", ref) for kind, n, ref in rows
    )
