"""Applying a lifecycle move to a stored task: the shared mechanics behind every verb.

One place updates status and version, writes the move's event, keeps dependents' blocker
counts, the agent's current task and the knowledge index in step, and moves epics whose
subtasks all finished or one reopened (see `lifecycle`). Functions here, called by every verb
that moves or edits a task: move, check_version, update_if_unchanged.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from agentdeck.core import knowledge, lifecycle, tasks
from agentdeck.core.errors import ConflictError
from agentdeck.core.models import FINISHED_STATUSES
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import agent_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key

# Built once: every lifecycle move runs these. The SET clause of `_MOVE_IF_UNCHANGED` comes from
# the column names in the parameters (SQLAlchemy compiles and caches one form per name set).
_MOVE_IF_UNCHANGED = Prepared(
    task_t.update().where(
        task_t.c.id == sa.bindparam("p_id"), task_t.c.version == sa.bindparam("p_version")
    )
)
# A pending epic with nothing left to wait on and at least one subtask done: it completes.
_child = task_t.alias("child")
_EPICS_TO_CLOSE = Prepared(
    sa.select(task_t)
    .where(
        task_t.c.id.in_(sa.bindparam("p_ids", expanding=True)),
        task_t.c.status == "pending",
        task_t.c.open_deps == 0,
        sa.exists().where(_child.c.parent_id == task_t.c.id, _child.c.status == "done"),
    )
    .order_by(task_t.c.id)
)
_TASK = Prepared(sa.select(task_t).where(task_t.c.id == sa.bindparam("p_id")))
_LET_GO = Prepared(
    agent_t.update()
    .where(
        agent_t.c.id == sa.bindparam("p_agent_id"),
        agent_t.c.current_task_id == sa.bindparam("p_task_id"),
    )
    .values(current_task_id=None, active_form="")
)


def update_if_unchanged(
    tx: Tx, task: StoredRow, key: str, verb: str, values: dict[str, Any]
) -> None:
    """Write `values` to a task only if its version is still the one read, else `ConflictError`.

    SQLite serialises writers, but on PostgreSQL another transaction may commit between this
    one's read and its update (a claim, another human's edit): a conflict, never a silent
    overwrite. `values` must include the new `version`.
    """
    changed = _MOVE_IF_UNCHANGED.run(
        tx.conn, {**values, "p_id": task["id"], "p_version": task["version"]}
    )
    if changed != 1:
        raise ConflictError(f"{key} changed while {verb} was being applied; try again")


def check_version(task: StoredRow, key: str, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != task["version"]:
        raise ConflictError(
            f"{key} changed since you saw it (now version {task['version']}, you had "
            f"{expected_version}; it is {lifecycle.status_words(task['status'])}); reload and try again"
        )


def move(
    tx: Tx,
    task: StoredRow,
    b: StoredRow,
    verb: str,
    actor: str,
    *,
    text: str = "",
    subkind: str | None = None,
    data: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> None:
    """Move `task` by `verb`, or raise the lifecycle error; the caller checked who may."""
    key = task_key(b["key"], task["number"])
    move = lifecycle.check_move(verb, key, task["status"])
    was, now = task["status"], move.target
    update: dict[str, Any] = {
        "status": now,
        "version": task["version"] + 1,
        "updated_at": tx.now,
    }
    if now != "in_progress":
        update.update(lease_expires_at=None, active_form="")
    if now in ("done", "failed", "cancelled"):
        update["completed_at"] = tx.now
    if now == "pending":
        update["completed_at"] = None
    update.update(values or {})
    update_if_unchanged(tx, task, key, verb, update)
    payload = {"from": was, "to": now, "verb": verb, **(data or {})}
    tx.event(
        b["id"],
        task["id"],
        actor,
        move.event,
        subkind if subkind is not None else now,
        text,
        payload,
    )
    finishing = (was in FINISHED_STATUSES) != (now in FINISHED_STATUSES)
    parent_id = task["parent_id"] if finishing else None
    fell = tasks.blocker_moved(tx, task["id"], parent_id, was, now)
    if now != "in_progress" and task["assignee_id"] is not None:
        _LET_GO.run(tx.conn, {"p_agent_id": task["assignee_id"], "p_task_id": task["id"]})
    if now == "done":
        knowledge.index_task(tx, task["id"], b["id"])
    elif was == "done":
        knowledge.unindex_task(tx, task["id"])
    if parent_id is not None and now not in FINISHED_STATUSES:
        _reopen_epic(tx, b, parent_id, key)
    elif fell:
        _close_epics(tx, b, fell, key)


def _close_epics(tx: Tx, b: StoredRow, ids: list[int], because: str) -> None:
    """Complete each of these pending epics that has nothing left to wait on and a subtask
    done (an epic whose subtasks were all cancelled stays, as an ordinary ready task): to
    review if it requires approval, else done. As the system actor, through `move`, so their
    own parents and dependents follow in turn."""
    for epic in _EPICS_TO_CLOSE.rows(tx.conn, {"p_ids": ids}):
        verb = "epic_review" if epic["requires_approval"] else "epic_done"
        move(
            tx,
            epic,
            b,
            verb,
            lifecycle.SYSTEM_ACTOR,
            text=f"every subtask is finished (the last: {because})",
            data={"because": because},
        )


def _reopen_epic(tx: Tx, b: StoredRow, epic_id: int, because: str) -> None:
    """A subtask of epic `epic_id` was reopened: if the epic is done or in review, it goes
    back to pending (waiting on that subtask again), as the system actor."""
    epic = _TASK.first(tx.conn, {"p_id": epic_id})
    if epic is None or epic["status"] not in lifecycle.MOVES["epic_reopen"].sources:
        return
    move(
        tx,
        epic,
        b,
        "epic_reopen",
        lifecycle.SYSTEM_ACTOR,
        text=f"subtask {because} was reopened",
        data={"because": because},
    )
