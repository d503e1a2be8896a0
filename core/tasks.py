"""Tasks: creating them and their dependencies, and reading them back.

Verbs here: add_task, add_dependency, get_task, list_tasks, ready, counts. Other modules call
insert_task, id_on_board, link, unlink, set_parent, recount_open_deps, add_labels,
remove_labels, blocker_moved and tasks_by_id by name.

A task waits on its blockers and, if it is an epic, on its children (the tasks whose parent it
is): `open_deps` counts both kinds of unfinished task, so an epic with open children is in the
Blocked column, out of the ready queue and not claimable, by the same indexed test as a task
with open blockers. `moves` completes an epic when the last thing it waits on finishes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from agentdeck.core import inbox, limits, rows_to_models, views
from agentdeck.core.errors import CycleError, NotFoundError, ValidationError
from agentdeck.core.models import FINISHED_STATUSES, STATUSES, BoardCounts, Task, column_of
from agentdeck.core.storage import dialect
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import agent_t, board_t, dependency_t, task_label_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, split_key, task_key

# Built once: every new task, every move of a blocker and every verb returning a task run these.
_SHIFT_OPEN_DEPS = Prepared(
    task_t.update()
    .where(
        task_t.c.id.in_(
            sa.select(dependency_t.c.task_id).where(
                dependency_t.c.blocker_id == sa.bindparam("p_blocker_id")
            )
        )
    )
    .values(open_deps=task_t.c.open_deps + sa.bindparam("p_delta", type_=sa.Integer))
)
# The same shift for the parent of a child that finished or reopened.
_SHIFT_PARENT = Prepared(
    task_t.update()
    .where(task_t.c.id == sa.bindparam("p_parent_id"))
    .values(open_deps=task_t.c.open_deps + sa.bindparam("p_delta", type_=sa.Integer))
)
_DEPENDENTS = Prepared(
    sa.select(dependency_t.c.task_id).where(
        dependency_t.c.blocker_id == sa.bindparam("p_blocker_id")
    )
)
_NEXT_NUMBER = (
    board_t.update()
    .where(board_t.c.id == sa.bindparam("p_board_id"))
    .values(next_number=board_t.c.next_number + 1)
    .returning(board_t.c.next_number)
)
_INSERT_TASK = task_t.insert()
_TASKS_BY_ID = Prepared(
    sa.select(task_t).where(task_t.c.id.in_(sa.bindparam("p_ids", expanding=True)))
)


def _counted(status: str) -> list[tuple[str, sa.ColumnElement[bool]]]:
    """(column, condition) pairs whose counts add up to the tasks in `status`."""
    same = task_t.c.status == status
    if status != "pending":
        return [(column_of(status, 0), same)]
    return [
        (column_of(status, 0), sa.and_(same, task_t.c.open_deps == 0)),
        (column_of(status, 1), sa.and_(same, task_t.c.open_deps > 0)),
    ]


# Board counts: each column is a range count over ix_task_claim (board, status, open_deps),
# together one pass over the board's index entries without GROUP BY's per-row work (8 -> 5 ms at
# 100,000 tasks); in the order GROUP BY status, open_deps listed them, so the dict is the same.
_COUNTED = [pair for status in sorted(STATUSES) for pair in _counted(status)]
_COLUMN_COUNTS = sa.select(
    *(
        sa.select(sa.func.count())
        .select_from(task_t)
        .where(task_t.c.board_id == sa.bindparam("p_board_id"), where)
        .correlate(None)
        .scalar_subquery()
        for _, where in _COUNTED
    )
)


# -- creating ----------------------------------------------------------------------------


def add_task(
    tx: Tx,
    title: str,
    *,
    actor: str,
    board: str | None = None,
    description: str = "",
    criteria: str = "",
    priority: int = 2,
    skills: Sequence[str] = (),
    parent: str | None = None,
    requires_approval: bool = False,
    estimate_hours: float | None = None,
    assignee: str | None = None,
    blocked_by: Sequence[str] = (),
    labels: Sequence[str] = (),
    type: str = "task",
) -> Task:
    """A new pending task on a board, optionally assigned and waiting on other tasks, with
    `labels` and a `type` (task, bug, feature, epic or chore)."""
    b = tx.board(board)
    tx.actor(b, actor)
    parent_id = None
    if parent:
        parent_id = id_on_board(tx, b, parent)
        _require_open_parent(tx, b, parent_id)
    task_id = insert_task(
        tx,
        b,
        actor,
        title=title,
        description=description,
        criteria=criteria,
        priority=priority,
        skills=skills,
        parent_id=parent_id,
        requires_approval=requires_approval,
        estimate_hours=estimate_hours,
        assignee=assignee,
        labels=labels,
        type=type,
    )
    for blocker in blocked_by:
        link(tx, task_id, id_on_board(tx, b, blocker))
    return tasks_by_id(tx, [task_id])[0]


def insert_task(tx: Tx, b: StoredRow, actor: str, **spec: Any) -> int:
    assignee_id = None
    if spec.get("assignee"):
        assignee_id = tx.agent(b["id"], spec["assignee"], b["key"])["id"]
    number = tx.conn.execute(_NEXT_NUMBER, {"p_board_id": b["id"]}).scalar_one() - 1
    estimate = spec.get("estimate_hours")
    if estimate is not None and not limits.finite_from_zero(estimate):
        raise ValidationError(f"estimate_hours must be a finite number >= 0, not {estimate!r}")
    values = {
        "board_id": b["id"],
        "number": number,
        "title": limits.title(spec["title"]),
        "description": limits.text(spec.get("description")),
        "criteria": limits.text(spec.get("criteria")),
        "priority": limits.priority(spec.get("priority", 2)),
        "required_skills": limits.skills(spec.get("skills")),
        "parent_id": spec.get("parent_id"),
        "requires_approval": bool(spec.get("requires_approval")),
        "estimate_hours": estimate,
        "assignee_id": assignee_id,
        "status": "pending",
        "type": limits.task_type(spec.get("type") or "task"),
        "created_at": tx.now,
        "updated_at": tx.now,
    }
    labels = limits.labels(spec.get("labels"))
    task_id = tx.conn.execute(_INSERT_TASK, values).inserted_primary_key[0]  # type: ignore[index]
    add_labels(tx, task_id, labels)
    if values["parent_id"] is not None:  # a new child is pending: its epic waits on it
        _SHIFT_PARENT.run(tx.conn, {"p_parent_id": values["parent_id"], "p_delta": 1})
    key = task_key(b["key"], number)
    data: dict[str, Any] = {"key": key, "priority": values["priority"], "to": "pending"}
    if values["type"] != "task":
        data["type"] = values["type"]
    if labels:
        data["labels"] = labels
    tx.event(b["id"], task_id, actor, "created", text=values["title"], data=data)
    if spec.get("assignee"):
        tx.event(
            b["id"],
            task_id,
            actor,
            "assigned",
            text=spec["assignee"],
            data={"to": spec["assignee"]},
        )
        inbox.send(
            tx, b["id"], assignee_id, task_id, actor, "assignment", f"{key} is assigned to you"
        )
    return int(task_id)


def add_dependency(tx: Tx, key: str, blocked_by: str, *, actor: str) -> Task:
    """Make `key` wait for `blocked_by`; refuses cycles and cross-board links."""
    task, b = tx.task(key)
    dialect.graph_lock(tx.conn, b["id"])
    tx.actor(b, actor)
    blocker_id = id_on_board(tx, b, blocked_by)
    link(tx, task["id"], blocker_id)
    tx.event(
        b["id"],
        task["id"],
        actor,
        "dependency",
        text=blocked_by.upper(),
        data={"blocked_by": blocked_by.upper()},
    )
    return tasks_by_id(tx, [task["id"]])[0]


def add_labels(tx: Tx, task_id: int, labels: Sequence[str]) -> None:
    """Put labels (already in stored form, `limits.labels`) on a task that lacks them."""
    if labels:
        tx.conn.execute(
            task_label_t.insert(), [{"task_id": task_id, "label": label} for label in labels]
        )


def remove_labels(tx: Tx, task_id: int, labels: Sequence[str]) -> None:
    """Take labels (in stored form) off a task; those it lacks are ignored."""
    if labels:
        tx.conn.execute(
            task_label_t.delete().where(
                task_label_t.c.task_id == task_id, task_label_t.c.label.in_(list(labels))
            )
        )


def labelled(label: str) -> sa.ColumnElement[bool]:
    """Tasks carrying `label` (any case: it is folded first), through `ix_task_label_label`."""
    return task_t.c.id.in_(
        sa.select(task_label_t.c.task_id).where(task_label_t.c.label == limits.label(label))
    )


def _require_open_parent(tx: Tx, b: StoredRow, parent_id: int) -> None:
    """Refuse a new child under a finished (done or cancelled) task: it would reopen nothing
    and leave the finished epic waiting on it."""
    status = tx.conn.execute(sa.select(task_t.c.status).where(task_t.c.id == parent_id)).scalar()
    if status in FINISHED_STATUSES:
        key = _key_of(tx, parent_id)
        raise ValidationError(
            f"{key} is {status}; a finished task takes no new subtasks (reopen it first)"
        )


def set_parent(tx: Tx, task_id: int, parent_id: int | None) -> None:
    """Make `parent_id` the parent (epic) of `task_id`, or make it a top-level task (None),
    keeping both parents' counts of unfinished children in step; refuses a parent chain that
    comes back to the task. Imports, plans and edits set parents through here."""
    row = tx.conn.execute(
        sa.select(task_t.c.parent_id, task_t.c.status).where(task_t.c.id == task_id)
    ).one()
    if row.parent_id == parent_id:
        return
    if parent_id is not None:
        up: int | None = parent_id
        for _ in range(10_000):  # a chain is acyclic, so this ends; the bound is a safety net
            if up is None:
                break
            if up == task_id:
                raise CycleError(
                    f"{_key_of(tx, task_id)} cannot be a subtask of {_key_of(tx, parent_id)}: "
                    f"{_key_of(tx, parent_id)} is {_key_of(tx, task_id)} or one of its subtasks"
                )
            up = tx.conn.execute(
                sa.select(task_t.c.parent_id).where(task_t.c.id == up)
            ).scalar_one_or_none()
    tx.conn.execute(task_t.update().where(task_t.c.id == task_id).values(parent_id=parent_id))
    if row.status not in FINISHED_STATUSES:
        if row.parent_id is not None:
            _SHIFT_PARENT.run(tx.conn, {"p_parent_id": row.parent_id, "p_delta": -1})
        if parent_id is not None:
            _SHIFT_PARENT.run(tx.conn, {"p_parent_id": parent_id, "p_delta": 1})


def waiting_words(verb: str, key: str, tx: Tx, task: StoredRow) -> str:
    """Why a pending task with unfinished tasks to wait on refuses `verb`, in one line: the
    subtasks an epic waits on (with its progress), and its blockers by key."""
    t = tasks_by_id(tx, [task["id"]])[0]
    cancelled = int(
        tx.conn.execute(
            sa.select(sa.func.count()).where(
                task_t.c.parent_id == task["id"], task_t.c.status == "cancelled"
            )
        ).scalar_one()
    )
    parts = []
    if waiting := t.subtasks_total - t.subtasks_done:
        parts.append(
            f"it is an epic waiting on {waiting} unfinished subtask{'s' if waiting != 1 else ''}"
            f" ({t.subtasks_done}/{t.subtasks_total} done"
            f"{f', {cancelled} cancelled' if cancelled else ''}) and completes when they finish"
        )
    if t.blocked_by:
        shown = ", ".join(t.blocked_by[:8]) + (" …" if len(t.blocked_by) > 8 else "")
        parts.append(f"it waits on unfinished tasks: {shown}")
    return f"cannot {verb} {key}: " + "; ".join(parts or ["it waits on unfinished tasks"])


def recount_open_deps(tx: Tx, board_id: int) -> None:
    """Count again, for every task of a board, the unfinished blockers and children it waits
    on: after an import wrote tasks, dependencies and parents directly."""
    tx.conn.execute(
        sa.text(
            "UPDATE task SET open_deps ="
            " (SELECT count(*) FROM dependency d JOIN task b ON b.id = d.blocker_id"
            "  WHERE d.task_id = task.id AND b.status NOT IN ('done', 'cancelled'))"
            " + (SELECT count(*) FROM task c"
            "  WHERE c.parent_id = task.id AND c.status NOT IN ('done', 'cancelled'))"
            " WHERE board_id = :b"
        ),
        {"b": board_id},
    )


def id_on_board(tx: Tx, b: StoredRow, key: str) -> int:
    board_key, number = split_key(key)
    if board_key != b["key"]:
        raise ValidationError(f"{key} is on board {board_key}; dependencies stay within {b['key']}")
    task_id = tx.conn.execute(
        sa.select(task_t.c.id).where(task_t.c.board_id == b["id"], task_t.c.number == number)
    ).scalar()
    if task_id is None:
        raise NotFoundError(f"no task {board_key}-{number}")
    return int(task_id)


def link(tx: Tx, task_id: int, blocker_id: int) -> None:
    """Insert the edge task -> blocker, refusing a cycle, and count the blocker if unfinished."""
    if task_id == blocker_id:
        raise CycleError(f"{_key_of(tx, task_id)} cannot wait on itself")
    reaches = tx.conn.execute(
        sa.text(
            "WITH RECURSIVE up(id) AS (SELECT CAST(:blocker AS INTEGER) UNION "
            "SELECT d.blocker_id FROM dependency d JOIN up ON d.task_id = up.id) "
            "SELECT 1 FROM up WHERE id = :task LIMIT 1"
        ),
        {"blocker": blocker_id, "task": task_id},
    ).first()
    if reaches:
        raise CycleError(
            f"{_key_of(tx, task_id)} cannot wait on {_key_of(tx, blocker_id)}: "
            f"{_key_of(tx, blocker_id)} already waits on it (directly or through others)"
        )
    exists = tx.conn.execute(
        sa.select(dependency_t.c.task_id).where(
            dependency_t.c.task_id == task_id, dependency_t.c.blocker_id == blocker_id
        )
    ).first()
    if exists:
        return
    tx.conn.execute(dependency_t.insert().values(task_id=task_id, blocker_id=blocker_id))
    status = tx.conn.execute(sa.select(task_t.c.status).where(task_t.c.id == blocker_id)).scalar()
    if status not in FINISHED_STATUSES:
        tx.conn.execute(
            task_t.update().where(task_t.c.id == task_id).values(open_deps=task_t.c.open_deps + 1)
        )


def unlink(tx: Tx, task_id: int, blocker_id: int) -> bool:
    """Remove the edge task -> blocker, uncounting the blocker if unfinished; whether it was there."""
    gone = tx.conn.execute(
        dependency_t.delete().where(
            dependency_t.c.task_id == task_id, dependency_t.c.blocker_id == blocker_id
        )
    ).rowcount
    if not gone:
        return False
    status = tx.conn.execute(sa.select(task_t.c.status).where(task_t.c.id == blocker_id)).scalar()
    if status not in FINISHED_STATUSES:
        tx.conn.execute(
            task_t.update().where(task_t.c.id == task_id).values(open_deps=task_t.c.open_deps - 1)
        )
    return True


def _key_of(tx: Tx, task_id: int) -> str:
    row = tx.conn.execute(
        sa.select(board_t.c.key, task_t.c.number)
        .join(board_t, board_t.c.id == task_t.c.board_id)
        .where(task_t.c.id == task_id)
    ).one()
    return task_key(row[0], row[1])


def blocker_moved(tx: Tx, task_id: int, parent_id: int | None, was: str, now: str) -> list[int]:
    """Keep the counts of unfinished tasks waited on in step when a task finishes or reopens:
    its dependents' and its parent's. Returns the ids of the tasks whose count fell (those
    that may now have nothing left to wait on), or [] when the count did not change or rose."""
    delta = int(was in FINISHED_STATUSES) - int(now in FINISHED_STATUSES)
    if not delta:
        return []
    shifted = _SHIFT_OPEN_DEPS.run(tx.conn, {"p_blocker_id": task_id, "p_delta": delta})
    if parent_id is not None:
        _SHIFT_PARENT.run(tx.conn, {"p_parent_id": parent_id, "p_delta": delta})
    if delta > 0:
        return [parent_id] if parent_id is not None else []
    fell = [parent_id] if parent_id is not None else []
    if shifted:
        fell += _DEPENDENTS.scalars(tx.conn, {"p_blocker_id": task_id})
    return fell


# -- reading -----------------------------------------------------------------------------


def tasks_by_id(tx: Tx, ids: Sequence[int]) -> list[Task]:
    rows = _TASKS_BY_ID.rows(tx.conn, {"p_ids": list(ids)})
    order = {task_id: i for i, task_id in enumerate(ids)}
    return rows_to_models.tasks(tx.conn, sorted(rows, key=lambda r: order[r["id"]]), tx.now)


def get_task(tx: Tx, key: str) -> Task:
    task, _ = tx.task(key)
    return rows_to_models.tasks(tx.conn, [task], tx.now)[0]


def list_tasks(
    tx: Tx,
    board: str | None = None,
    *,
    status: str | Sequence[str] | None = None,
    column: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    include_cancelled: bool = False,
    limit: int | None = views.API_LIMIT,
    offset: int = 0,
    after_number: int | None = None,
) -> list[Task]:
    """Tasks of a board by priority then age, filtered by status, column, assignee or label:
    at most `limit` (`views.API_LIMIT` unless told; None for all, which on a big board loads
    it whole: `paging.iter_tasks` streams instead) from `offset`.

    With `after_number` they come in key order from the task after that number instead
    (keyset paging over the board's (board, number) key: how `paging.iter_tasks` streams a
    whole board, each page as cheap as the first)."""
    b = tx.board(board)
    q = sa.select(task_t).where(task_t.c.board_id == b["id"])
    if status is not None:
        q = q.where(task_t.c.status.in_([status] if isinstance(status, str) else list(status)))
    elif not include_cancelled:
        q = q.where(task_t.c.status != "cancelled")
    if column is not None:
        q = q.where(_column_clause(column))
    if assignee is not None:
        q = q.join(agent_t, agent_t.c.id == task_t.c.assignee_id).where(agent_t.c.name == assignee)
    if label is not None:
        q = q.where(labelled(label))
    if after_number is not None:
        q = q.where(task_t.c.number > limits.row_window(after_number)).order_by(task_t.c.number)
    else:
        q = q.order_by(task_t.c.priority, task_t.c.id)
    q = q.offset(limits.row_window(offset))
    if limit is not None:
        q = q.limit(limits.row_window(limit))
    return rows_to_models.tasks(tx.conn, tx.conn.execute(q).mappings().all(), tx.now)


def ready(
    tx: Tx,
    board: str | None = None,
    *,
    agent: str | None = None,
    label: str | None = None,
    limit: int = 50,
    after_number: int | None = None,
) -> list[Task]:
    """The ready queue (pending, every blocker finished), best first; for `agent`, only
    tasks it may claim: assigned to it, or unassigned with skills it has; with `label`, only
    tasks carrying it. With `after_number`, in key order from the task after that number
    (keyset paging, how `paging.iter_ready` streams the whole queue)."""
    b = tx.board(board)
    q = sa.select(task_t).where(
        task_t.c.board_id == b["id"], task_t.c.status == "pending", task_t.c.open_deps == 0
    )
    if label is not None:
        q = q.where(labelled(label))
    if after_number is not None:
        q = q.where(task_t.c.number > limits.row_window(after_number))
    if agent is not None:
        a = tx.agent(b["id"], agent, b["key"])
        q = q.where(
            sa.or_(
                task_t.c.assignee_id == a["id"],
                sa.and_(
                    task_t.c.assignee_id.is_(None),
                    dialect.skills_fit(tx.conn, task_t, list(a["skills"])),
                ),
            )
        )
    if after_number is not None:
        q = q.order_by(task_t.c.number)
    elif agent is not None:
        q = q.order_by(
            sa.case((task_t.c.assignee_id == a["id"], 0), else_=1),
            task_t.c.priority,
            task_t.c.id,
        )
    else:
        q = q.order_by(task_t.c.priority, task_t.c.id)
    rows = tx.conn.execute(q.limit(limits.row_window(limit))).mappings().all()
    return rows_to_models.tasks(tx.conn, rows, tx.now)


def counts(tx: Tx, board: str | None = None, *, label: str | None = None) -> BoardCounts:
    """Tasks per board column; one query of range counts over the claim index (with `label`,
    one grouped count of the tasks carrying it)."""
    b = tx.board(board)
    if label is not None:
        grouped = tx.conn.execute(
            sa.select(task_t.c.status, task_t.c.open_deps, sa.func.count())
            .where(task_t.c.board_id == b["id"], labelled(label))
            .group_by(task_t.c.status, task_t.c.open_deps)
        ).all()
        labelled_counts: dict[str, int] = {}
        for status, open_deps, n in grouped:
            column = column_of(status, open_deps)
            labelled_counts[column] = labelled_counts.get(column, 0) + n
        return BoardCounts(by_column=labelled_counts)
    row = tx.conn.execute(_COLUMN_COUNTS, {"p_board_id": b["id"]}).one()
    by_column: dict[str, int] = {}
    for (column, _), n in zip(_COUNTED, row, strict=True):
        if n:
            by_column[column] = by_column.get(column, 0) + n
    return BoardCounts(by_column=by_column)


def _column_clause(column: str) -> sa.ColumnElement[bool]:
    match column:
        case "blocked":
            return sa.and_(task_t.c.status == "pending", task_t.c.open_deps > 0)
        case "ready":
            return sa.and_(task_t.c.status == "pending", task_t.c.open_deps == 0)
        case "needs_human":
            return task_t.c.status.in_(("review", "escalated"))
        case "in_progress" | "done" | "failed" | "cancelled":
            return task_t.c.status == column
    raise ValidationError(
        f"unknown column {column!r}; columns: blocked, ready, in_progress, needs_human, done, failed, cancelled"
    )
