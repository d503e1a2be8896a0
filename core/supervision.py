"""The human's side of the lifecycle: approve, reject, reopen, answer, assign, prioritise, cancel.

Verbs here: approve, reject, reopen, answer (the last three share one body), assign,
set_priority, cancel. Human edits carry the version the human saw; a stale version is a conflict, never a silent
overwrite. Notes typed for reject, reopen and answer reach the agent's inbox.
"""

from __future__ import annotations

from typing import Any

from agentdeck.core import inbox, lifecycle, limits, moves, permissions, tasks
from agentdeck.core.errors import PermissionDeniedError, ValidationError
from agentdeck.core.models import Task
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key


def _edit(tx: Tx, task: StoredRow, key: str, verb: str, **values: Any) -> None:
    """Change a task in place (no status move), refused if it changed since it was read."""
    values.update(version=task["version"] + 1, updated_at=tx.now)
    moves.update_if_unchanged(tx, task, key, verb, values)


def _human_edit(
    tx: Tx, key: str, actor: str, doing: str, expected_version: int | None
) -> tuple[StoredRow, StoredRow]:
    task, b = tx.task(key)
    permissions.require_human(tx, b, actor, doing)
    moves.check_version(task, task_key(b["key"], task["number"]), expected_version)
    return task, b


def approve(
    tx: Tx, key: str, *, actor: str, note: str = "", expected_version: int | None = None
) -> Task:
    """Accept work in review: it is done. Only a human, never the task's own assignee."""
    task, b = _human_edit(tx, key, actor, "approve work", expected_version)
    lifecycle.check_move("approve", task_key(b["key"], task["number"]), task["status"])
    if tx.agent_name(task["assignee_id"]) == actor:
        raise PermissionDeniedError(
            f"{actor} cannot approve {task_key(b['key'], task['number'])}: it is their own work"
        )
    moves.move(tx, task, b, "approve", actor, text=limits.text(note), subkind="approved")
    return tasks.tasks_by_id(tx, [task["id"]])[0]


def reject(
    db: Database, key: str, *, actor: str, notes: str, expected_version: int | None = None
) -> Task:
    """Send work in review back to its agent with notes on what to fix."""
    with db.write() as tx:
        return send_back(
            tx, key, "reject", actor=actor, notes=notes, expected_version=expected_version
        )


def reopen(
    db: Database, key: str, *, actor: str, notes: str, expected_version: int | None = None
) -> Task:
    """Reopen a done or failed task with notes; it returns to its agent's queue."""
    with db.write() as tx:
        return send_back(
            tx, key, "reopen", actor=actor, notes=notes, expected_version=expected_version
        )


def answer(
    db: Database, key: str, *, actor: str, text: str, expected_version: int | None = None
) -> Task:
    """Answer an escalation; the task returns to the queue and the answer to the agent's inbox."""
    with db.write() as tx:
        return send_back(
            tx, key, "answer", actor=actor, notes=text, expected_version=expected_version
        )


# The inbox message kind and the event subkind of each move that sends a task back with notes.
_SENT_BACK = {
    "reject": ("rejection", "rejected"),
    "reopen": ("reopen", "pending"),
    "answer": ("answer", "pending"),
}


def send_back(
    tx: Tx, key: str, verb: str, *, actor: str, notes: str, expected_version: int | None = None
) -> Task:
    """The body shared by reject, reopen and answer: a human sends the task back to the queue
    with notes that reach its agent's inbox."""
    message_kind, subkind = _SENT_BACK[verb]
    notes = limits.text(notes)
    if not notes.strip():
        raise ValidationError(f"{verb} needs notes the agent can act on")
    task, b = _human_edit(tx, key, actor, f"{verb} tasks", expected_version)
    upper = task_key(b["key"], task["number"])
    lifecycle.check_move(verb, upper, task["status"])
    values: dict[str, Any] = {"escalation_reason": ""} if verb == "answer" else {}
    moves.move(tx, task, b, verb, actor, text=notes, subkind=subkind, values=values)
    inbox.send(
        tx,
        b["id"],
        task["assignee_id"],
        task["id"],
        actor,
        message_kind,
        f"{upper}: {notes}",
    )
    return tasks.tasks_by_id(tx, [task["id"]])[0]


def assign(
    tx: Tx, key: str, assignee: str | None, *, actor: str, expected_version: int | None = None
) -> Task:
    """Give a task to an agent (None unassigns). A task in progress or escalated goes back to
    pending for its new assignee; the old holder's later updates are refused."""
    task, b = tx.task(key)
    upper = task_key(b["key"], task["number"])
    permissions.require_human_or_lead(tx, b, actor, "assign tasks")
    moves.check_version(task, upper, expected_version)
    lifecycle.check_edit("assign", upper, task["status"])
    new = tx.agent(b["id"], assignee, b["key"]) if assignee else None
    new_id = new["id"] if new is not None else None
    data = {"from_agent": tx.agent_name(task["assignee_id"]), "to_agent": assignee}
    if task["status"] in lifecycle.MOVES["reassign"].sources:
        moves.move(
            tx,
            task,
            b,
            "reassign",
            actor,
            text=assignee or "",
            subkind="pending",
            data=data,
            values={"assignee_id": new_id, "escalation_reason": ""},
        )
    else:
        _edit(tx, task, upper, "assign", assignee_id=new_id)
        tx.event(b["id"], task["id"], actor, "assigned", "", assignee or "", data)
    inbox.send(tx, b["id"], new_id, task["id"], actor, "assignment", f"{upper} is assigned to you")
    return tasks.tasks_by_id(tx, [task["id"]])[0]


def set_priority(
    db: Database, key: str, priority: int, *, actor: str, expected_version: int | None = None
) -> Task:
    """Change a task's priority (0 most urgent, 4 least)."""
    with db.write() as tx:
        return change_priority(tx, key, priority, actor=actor, expected_version=expected_version)


def change_priority(
    tx: Tx, key: str, priority: int, *, actor: str, expected_version: int | None = None
) -> Task:
    """`set_priority` inside the caller's transaction: a human or the board's lead only."""
    priority = limits.priority(priority)
    task, b = tx.task(key)
    upper = task_key(b["key"], task["number"])
    permissions.require_human_or_lead(tx, b, actor, "change priority")
    moves.check_version(task, upper, expected_version)
    lifecycle.check_edit("set_priority", upper, task["status"])
    _edit(tx, task, upper, "set priority", priority=priority)
    tx.event(
        b["id"],
        task["id"],
        actor,
        "priority",
        str(priority),
        f"P{task['priority']} -> P{priority}",
        {"from_priority": task["priority"], "to_priority": priority},
    )
    return tasks.tasks_by_id(tx, [task["id"]])[0]


def cancel(
    tx: Tx, key: str, *, actor: str, reason: str = "", expected_version: int | None = None
) -> Task:
    """Cancel an open task; tasks waiting on it are no longer blocked by it."""
    task, b = _human_edit(tx, key, actor, "cancel tasks", expected_version)
    moves.move(tx, task, b, "cancel", actor, text=limits.text(reason))
    return tasks.tasks_by_id(tx, [task["id"]])[0]
