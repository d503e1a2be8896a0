"""A supervisor's plan: many tasks with dependencies by local reference, in one transaction.

The verb here: plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import Task
from agentdeck.core.storage.database import Database

# By name: `plan` takes a parameter called `tasks`.
from agentdeck.core.tasks import id_on_board, insert_task, link, set_parent, tasks_by_id
from agentdeck.core.words import plural

_FIELDS = {
    "ref",
    "title",
    "description",
    "criteria",
    "priority",
    "skills",
    "requires_approval",
    "estimate_hours",
    "assignee",
    "parent",
    "blocked_by",
    "labels",
    "type",
}
MAX_PLAN = 2000


def _spec(i: int, raw: Any) -> dict[str, Any]:
    where = f"plan task {i + 1}"
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where}: expected an object with at least a title")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ValidationError(
            f"{where}: unknown field {sorted(unknown)[0]!r}; fields: {', '.join(sorted(_FIELDS))}"
        )
    if not isinstance(raw.get("title"), str):
        raise ValidationError(f"{where}: needs a title (text)")
    try:
        limits.title(raw["title"])
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    for field in ("blocked_by", "skills", "labels"):
        value = raw.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError(f"{where}: {field} must be a list of strings")
    for field in ("description", "ref", "assignee", "parent", "type"):
        if raw.get(field) is not None and not isinstance(raw[field], str):
            raise ValidationError(f"{where}: {field} must be text")
    spec = dict(raw)
    criteria = raw.get("criteria")
    if isinstance(criteria, list):
        spec["criteria"] = checklist(criteria, where)
    elif criteria is not None and not isinstance(criteria, str):
        raise ValidationError(f"{where}: criteria must be text or a list of items")
    try:
        limits.labels(raw.get("labels"))
        if raw.get("type") is not None:
            limits.task_type(raw["type"])
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    if "priority" in raw and (
        not isinstance(raw["priority"], int) or isinstance(raw["priority"], bool)
    ):
        raise ValidationError(f"{where}: priority must be a whole number 0-4")
    return spec


def checklist(items: Sequence[Any], where: str = "criteria") -> str:
    """Criteria given as a list of items, as the one criteria text: a markdown checklist,
    one `- [ ] item` line each (whitespace in an item folded to one line). Stored as text, so
    a list from a plan and text typed later read and edit the same way."""
    if not all(isinstance(item, str) for item in items):
        raise ValidationError(f"{where}: criteria items must be text")
    lines = [" ".join(limits.storable(item).split()) for item in items]
    return "\n".join(f"- [ ] {line}" for line in lines if line)


def plan(
    db: Database, tasks: Sequence[Mapping[str, Any]], *, actor: str, board: str | None = None
) -> list[Task]:
    """Create a whole decomposition at once, all or nothing.

    Each task is an object with `title` and optionally `ref` (a local name), description,
    criteria (text, or a list of items: stored as a `- [ ] item` checklist), priority,
    skills, labels, type (task, bug, feature, epic or chore), requires_approval,
    estimate_hours, assignee, `parent` and `blocked_by` (refs in this plan or existing keys
    like WEB-3).
    """
    if not isinstance(tasks, Sequence) or isinstance(tasks, str | bytes):
        raise ValidationError("a plan is a list of tasks")
    if not tasks:
        raise ValidationError("a plan needs at least one task")
    if len(tasks) > MAX_PLAN:
        raise ValidationError(f"a plan has at most {MAX_PLAN} tasks (got {len(tasks)})")
    specs = [_spec(i, raw) for i, raw in enumerate(tasks)]
    refs: set[str] = set()
    for i, spec in enumerate(specs):
        ref = spec.get("ref")
        if ref is not None and ref in refs:
            raise ValidationError(f"plan task {i + 1}: ref {ref!r} is used twice")
        if ref is not None:
            refs.add(ref)
    with db.write() as tx:
        b = tx.board(board)
        tx.actor(b, actor)
        ids: list[int] = []
        by_ref: dict[str, int] = {}

        def resolve(i: int, name: str) -> int:
            if name in by_ref:
                return by_ref[name]
            if "-" not in name:
                raise ValidationError(f"plan task {i + 1}: unknown ref {name!r}")
            return id_on_board(tx, b, name)

        for spec in specs:
            fields = {k: v for k, v in spec.items() if k not in ("ref", "parent", "blocked_by")}
            task_id = insert_task(tx, b, actor, **fields)
            if spec.get("ref") is not None:
                by_ref[spec["ref"]] = task_id
            ids.append(task_id)
        for i, (spec, task_id) in enumerate(zip(specs, ids, strict=True)):
            if spec.get("parent"):
                set_parent(tx, task_id, resolve(i, spec["parent"]))
            for blocker in spec.get("blocked_by", []):
                link(tx, task_id, resolve(i, blocker))
        tx.event(
            b["id"],
            None,
            actor,
            "plan",
            "",
            f"planned {plural(len(ids), 'task')}",
            {"count": len(ids)},
        )
        return tasks_by_id(tx, ids)
