"""Editing a task after it was created: its text, skills, estimate, priority, parent,
dependencies, labels and type, in one checked step.

The verb here: edit_task. The rules, each enforced here and refused with one line:

- The editor says which version of the task it saw (`expected_version`); if the task moved
  or was edited since, the edit is a `ConflictError`, as a move with a stale version is.
- Who may edit what. The task's creator (the actor of its `created` event), the board's
  lead and any human edit anything. Its assignee (the agent holding it) may add the
  dependencies it discovers and append criteria notes (`criteria_note`: a line added under
  the criteria, never a rewrite), but not rewrite the title or the success criteria it is
  judged by. Anyone else is refused with `PermissionDeniedError`.
- A finished task (done or cancelled) keeps its history: only its labels may still change
  (labels sort and filter; they say nothing about what was done). Everything else is an
  `InvalidTransitionError`; reopen a done task first.
- A dependency that would close a cycle is refused (`tasks.link`'s check, as
  `add_dependency`), and so is a parent that would make a task its own ancestor.
- Each edit that changes something writes one `edited` event whose data holds the before
  and after of each changed field, and bumps the version once; an edit whose every value is
  already the task's writes nothing and says so (`Edited.changed` is empty).

Text stays as written (limits as for `add_task`: a one-line title of at most 300
characters, descriptions and criteria truncated past 64 KiB with a marker).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from agentdeck.core import lifecycle, limits, moves, names, tasks
from agentdeck.core.errors import (
    CycleError,
    InvalidTransitionError,
    PermissionDeniedError,
    ValidationError,
)
from agentdeck.core.models import FINISHED_STATUSES, Edited
from agentdeck.core.storage import dialect
from agentdeck.core.storage.tables import dependency_t, event_t, task_label_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key


class Keep(enum.Enum):
    """The default of a field that may be cleared with None: leave it as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP

# The fields an edit may change, in the order receipts and events list them.
FIELDS = (
    "title",
    "description",
    "criteria",
    "skills",
    "estimate_hours",
    "priority",
    "parent",
    "dependencies",
    "labels",
    "type",
)
# What a task's assignee may ask for: dependencies it discovers, notes under the criteria.
ASSIGNEE_MAY = frozenset({"add dependencies", "criteria notes"})
# What may still change on a finished (done or cancelled) task.
FINISHED_MAY = frozenset({"labels"})
_CREATOR = (
    sa.select(event_t.c.actor)
    .where(event_t.c.task_id == sa.bindparam("p_task_id"), event_t.c.kind == "created")
    .order_by(event_t.c.id)
    .limit(1)
)


def edit_task(
    tx: Tx,
    key: str,
    *,
    actor: str,
    expected_version: int,
    title: str | None = None,
    description: str | None = None,
    criteria: str | None = None,
    criteria_note: str | None = None,
    skills: Sequence[str] | None = None,
    estimate_hours: float | Keep | None = KEEP,
    priority: int | None = None,
    parent: str | Keep | None = KEEP,
    add_dependencies: Sequence[str] = (),
    remove_dependencies: Sequence[str] = (),
    add_labels: Sequence[str] = (),
    remove_labels: Sequence[str] = (),
    type: str | None = None,
) -> Edited:
    """Change the given fields of task `key`, as seen at `expected_version` (see the module
    for who may change what). None (or, for `estimate_hours` and `parent`, leaving them out)
    keeps a field; `estimate_hours=None` and `parent=None` clear them. `criteria_note`
    appends a line to the criteria. The task afterwards, and the fields that changed."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ValidationError(
            f"an edit needs the version of {key} you saw (a whole number; see `task show`)"
        )
    task, b = tx.task(key)
    if parent is not KEEP or add_dependencies:
        dialect.graph_lock(tx.conn, b["id"])  # before any write: see graph_lock
    upper = task_key(b["key"], task["number"])
    asked = _asked(
        title=title is not None,
        description=description is not None,
        criteria=criteria is not None,
        criteria_note=criteria_note is not None,
        skills=skills is not None,
        estimate_hours=estimate_hours is not KEEP,
        priority=priority is not None,
        parent=parent is not KEEP,
        add_dependencies=bool(add_dependencies),
        remove_dependencies=bool(remove_dependencies),
        labels=bool(add_labels or remove_labels),
        type=type is not None,
    )
    if not asked:
        raise ValidationError(
            f"nothing to change on {upper}: give a new title, description, criteria, "
            "criteria note, skills, estimate, priority, parent, dependency, label or type"
        )
    _check_may(tx, b, task, upper, actor, asked)
    moves.check_version(task, upper, expected_version)
    if task["status"] in FINISHED_STATUSES and not set(asked) <= FINISHED_MAY:
        refused = ", ".join(sorted(set(asked) - FINISHED_MAY))
        raise InvalidTransitionError(
            f"cannot edit the {refused} of {upper}: it is "
            f"{lifecycle.status_words(task['status'])}, and a finished task keeps its history "
            "(only its labels may change"
            + ("; reopen it first)" if task["status"] == "done" else ")")
        )

    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    values: dict[str, Any] = {}

    def column(name: str, field: str, new: Any) -> None:
        if new != task[name]:
            before[field], after[field] = task[name], new
            values[name] = new

    if title is not None:
        column("title", "title", limits.title(title))
    if description is not None:
        column("description", "description", limits.text(description))
    if criteria is not None or criteria_note is not None:
        text = limits.text(criteria) if criteria is not None else task["criteria"]
        if criteria_note is not None:
            text = _with_note(text, criteria_note, tx.actor(b, actor)["name"])
        column("criteria", "criteria", text)
    if skills is not None:
        column("required_skills", "skills", limits.skills(list(skills)))
    if estimate_hours is not KEEP:
        if estimate_hours is not None and not limits.finite_from_zero(estimate_hours):
            raise ValidationError(
                f"estimate_hours must be a finite number >= 0, not {estimate_hours!r}"
            )
        column("estimate_hours", "estimate_hours", estimate_hours)
    if priority is not None:
        column("priority", "priority", limits.priority(priority))
    if type is not None:
        column("type", "type", limits.task_type(type))
    if parent is not KEEP:
        new_parent = _parent_id(tx, b, task, parent)
        if new_parent != task["parent_id"]:
            before["parent"] = _key_or_none(tx, b, task["parent_id"])
            after["parent"] = _key_or_none(tx, b, new_parent)

    added, removed = _dependency_changes(tx, b, task, add_dependencies, remove_dependencies)
    if added or removed:
        had = _blocker_keys(tx, b, task["id"])
        before["dependencies"] = had
        after["dependencies"] = _sorted_keys(
            [k for k in had if k not in removed.values()] + list(added.values())
        )
    label_on, label_off = _label_changes(tx, task["id"], add_labels, remove_labels)
    if label_on or label_off:
        had_labels = _labels_of(tx, task["id"])
        before["labels"] = had_labels
        after["labels"] = sorted((set(had_labels) - set(label_off)) | set(label_on))

    changed = tuple(f for f in FIELDS if f in after)
    if not changed:
        return Edited(task=tasks.tasks_by_id(tx, [task["id"]])[0], changed=())
    values.update(version=task["version"] + 1, updated_at=tx.now)
    # Lists go in a plain UPDATE after the checked one: `update_if_unchanged` runs on the
    # driver (`Prepared`), which reads a list parameter as an IN list, not as JSON.
    skills_now = values.pop("required_skills", None)
    moves.update_if_unchanged(tx, task, upper, "the edit", values)
    if skills_now is not None:
        tx.conn.execute(
            task_t.update().where(task_t.c.id == task["id"]).values(required_skills=skills_now)
        )
    if "parent" in after:  # through set_parent: both epics' counts of open subtasks follow
        tasks.set_parent(tx, task["id"], _parent_id(tx, b, task, parent))  # type: ignore[arg-type]
    for blocker_id in removed:
        tasks.unlink(tx, task["id"], blocker_id)
    for blocker_id in added:
        tasks.link(tx, task["id"], blocker_id)
    tasks.remove_labels(tx, task["id"], label_off)
    tasks.add_labels(tx, task["id"], label_on)
    tx.event(
        b["id"],
        task["id"],
        actor,
        "edited",
        "",
        ", ".join(changed),
        {"fields": list(changed), "before": before, "after": after},
    )
    return Edited(task=tasks.tasks_by_id(tx, [task["id"]])[0], changed=changed)


def _asked(**given: bool) -> dict[str, str]:
    """The fields asked for, each with the name its permission goes by."""
    permission = {
        "add_dependencies": "add dependencies",
        "remove_dependencies": "remove dependencies",
        "criteria_note": "criteria notes",
        "estimate_hours": "estimate",
    }
    return {name: permission.get(name, name) for name, wanted in given.items() if wanted}


def _check_may(
    tx: Tx, b: StoredRow, task: StoredRow, key: str, actor: str, asked: dict[str, str]
) -> None:
    """Refuse `actor` unless it may change everything in `asked`: its creator, the lead or a
    human anything; its assignee only what `ASSIGNEE_MAY` lists."""
    who = tx.actor(b, actor)
    if who["kind"] == "human" or (b["lead"] is not None and b["lead"] == who["name"]):
        return
    creator = tx.conn.execute(_CREATOR, {"p_task_id": task["id"]}).scalar()
    if creator is not None and names.fold(creator) == names.fold(who["name"]):
        return
    rule = (
        f"only its creator ({creator or 'unknown'}), the board's lead or a human may edit "
        f"{key}; its assignee may add dependencies and criteria notes"
    )
    if task["assignee_id"] is not None and task["assignee_id"] == who["id"]:
        refused = [what for what in asked.values() if what not in ASSIGNEE_MAY]
        if not refused:
            return
        raise PermissionDeniedError(
            f"{who['name']} cannot change the {', '.join(refused)} of {key}: {rule}"
        )
    raise PermissionDeniedError(f"{who['name']} cannot edit {key}: {rule}")


def _with_note(criteria: str, note: str, by: str) -> str:
    """`criteria` with one line appended: the note, and who wrote it."""
    line = " ".join(limits.storable(note).split())
    if not line:
        raise ValidationError("a criteria note cannot be empty")
    added = f"- Note from {by}: {line}"
    return limits.text(f"{criteria.rstrip()}\n{added}" if criteria.strip() else added)


def _parent_id(tx: Tx, b: StoredRow, task: StoredRow, parent: str | None) -> int | None:
    """The id of the new parent (None for none), refusing the task itself or a descendant."""
    if not parent or parent == "-":
        return None
    parent_id = tasks.id_on_board(tx, b, parent)
    upper = task_key(b["key"], task["number"])
    seen: set[int] = set()
    current: int | None = parent_id
    while current is not None and current not in seen:
        if current == task["id"]:
            raise CycleError(
                f"{parent.upper()} cannot be the parent of {upper}: "
                + (
                    "a task is not its own parent"
                    if parent_id == task["id"]
                    else f"it is already under {upper}"
                )
            )
        seen.add(current)
        current = tx.conn.execute(
            sa.select(task_t.c.parent_id).where(task_t.c.id == current)
        ).scalar()
    return parent_id


def _dependency_changes(
    tx: Tx, b: StoredRow, task: StoredRow, add: Sequence[str], remove: Sequence[str]
) -> tuple[dict[int, str], dict[int, str]]:
    """The blockers to add and remove that change something, by id, with their keys."""
    both = {k.strip().upper() for k in add} & {k.strip().upper() for k in remove}
    if both:
        raise ValidationError(f"{sorted(both)[0]} cannot be both added and removed as a dependency")
    existing = set(
        tx.conn.execute(
            sa.select(dependency_t.c.blocker_id).where(dependency_t.c.task_id == task["id"])
        ).scalars()
    )
    added: dict[int, str] = {}
    for name in add:
        blocker = tasks.id_on_board(tx, b, name)
        if blocker not in existing:
            added[blocker] = task_key(b["key"], _number(tx, blocker))
    removed: dict[int, str] = {}
    for name in remove:
        blocker = tasks.id_on_board(tx, b, name)
        if blocker in existing:
            removed[blocker] = task_key(b["key"], _number(tx, blocker))
    return added, removed


def _label_changes(
    tx: Tx, task_id: int, add: Sequence[str], remove: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The labels (stored form) to put on and take off that change something."""
    on, off = limits.labels(list(add)), sorted({limits.label(x) for x in remove})
    both = set(on) & set(off)
    if both:
        raise ValidationError(f"label {sorted(both)[0]!r} cannot be both added and removed")
    had = set(_labels_of(tx, task_id))
    on = [x for x in on if x not in had]
    off = [x for x in off if x in had]
    limits.labels(sorted((had - set(off)) | set(on)))  # at most MAX_LABELS afterwards
    return on, off


def _labels_of(tx: Tx, task_id: int) -> list[str]:
    return list(
        tx.conn.execute(
            sa.select(task_label_t.c.label)
            .where(task_label_t.c.task_id == task_id)
            .order_by(task_label_t.c.label)
        ).scalars()
    )


def _blocker_keys(tx: Tx, b: StoredRow, task_id: int) -> list[str]:
    numbers = tx.conn.execute(
        sa.select(task_t.c.number)
        .join(dependency_t, dependency_t.c.blocker_id == task_t.c.id)
        .where(dependency_t.c.task_id == task_id)
        .order_by(task_t.c.number)
    ).scalars()
    return [task_key(b["key"], n) for n in numbers]


def _sorted_keys(keys: list[str]) -> list[str]:
    return sorted(set(keys), key=lambda k: int(k.rsplit("-", 1)[1]))


def _number(tx: Tx, task_id: int) -> int:
    return int(
        tx.conn.execute(sa.select(task_t.c.number).where(task_t.c.id == task_id)).scalar_one()
    )


def _key_or_none(tx: Tx, b: StoredRow, task_id: int | None) -> str | None:
    return task_key(b["key"], _number(tx, task_id)) if task_id is not None else None
