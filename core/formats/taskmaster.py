"""Reading Taskmaster's task file (https://github.com/eyaltoledano/claude-task-master,
`.taskmaster/tasks/tasks.json`) into `Incoming` tasks.

The file is tagged, `{"master": {"tasks": [...], "metadata": {...}}, "feature-x": {...}}`, or
in the legacy form `{"tasks": [...], "metadata": {...}}` (read as the tag `master`, as
Taskmaster's own migration does). A task has an integer id (text ids like `"3"` occur in real
files too), title, description, details, testStrategy, status (pending, in-progress, done,
review, deferred, cancelled, blocked), priority (low, medium, high, critical), dependencies,
subtasks and, after `analyze-complexity`, complexity fields. A subtask has its own id within
its parent, and its dependencies name siblings by number (`2`) or any task as `"<task>.<sub>"`
(scripts/modules/dependency-manager.js); a number with no such sibling is the top-level task.

Ids are namespaced by tag, `taskmaster:<tag>/<id>` and `taskmaster:<tag>/<id>.<sub>`, so every
tag can be imported into one board without collisions; `tag` reads one tag only. What maps
where is the table in README "Coming from Taskmaster": `details` become the task's notes (they
are how to do it, like Backlog.md's implementation notes), `testStrategy` (with any
`acceptanceCriteria`) the acceptance criteria, and complexity and every other field the
task's metadata. Real data never stops the read: an entry that is not a task is skipped and
counted, a dependency on a task not in the file is an external reference, a repeated id is
known by its position, and each is said in the notes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import DeckError, ValidationError
from agentdeck.core.formats import source_fields as sf
from agentdeck.core.formats.files import read_regular_file
from agentdeck.core.formats.mirror import Incoming, ReadNotes

PREFIX = "taskmaster:"
MAX_FILE = 64 * 1024 * 1024
LEGACY_TAG = "master"
TASKMASTER_STATUS = {
    "pending": "pending",
    "in progress": "in_progress",
    "done": "done",
    "completed": "done",
    "review": "review",
    "deferred": "pending",
    "cancelled": "cancelled",
    "blocked": "pending",
}
# Fields this reader gives a home. A subtask's parentId / parentTaskId / parentTask /
# isSubtask only repeat where it sits (real files hold "undefined" there), so they are dropped.
MAPPED = {
    "id",
    "title",
    "description",
    "details",
    "testStrategy",
    "acceptanceCriteria",
    "status",
    "priority",
    "dependencies",
    "subtasks",
    "assignee",
    "tags",
    "createdAt",
    "updatedAt",
}
SUBTASK_ECHOES = {"parentId", "parentTaskId", "parentTask", "isSubtask"}
_NUMBER = re.compile(r"^\d+$")
_SUB = re.compile(r"^(\d+)\.(\d+)$")


def read_taskmaster(
    path: str | Path, *, tag: str | None = None, status_map: dict[str, str] | None = None
) -> tuple[list[Incoming], ReadNotes]:
    """Every task and subtask of the Taskmaster file at `path` (or of its tag `tag`) as
    `Incoming`, and what was skipped, mapped, kept in metadata, referenced outside the file
    or odd. Refuses (ValidationError) only a path that is not a Taskmaster file, saying what
    it looks like, and a `tag` the file does not have."""
    overrides = sf.check_status_map(status_map)
    file = _locate(Path(path))
    where = file.name
    data = read_regular_file(file, MAX_FILE, str(file), follow_links=True)
    doc = _load(data, file)
    tags = _tags(doc, file)
    notes = ReadNotes()
    if not isinstance(doc.get("tasks"), list):  # tagged: report what is not a tag
        for key, value in doc.items():
            if str(key) in tags:
                continue
            kind = "tag without a task list" if isinstance(value, dict) else "other entry"
            notes.skipped[kind] = notes.skipped.get(kind, 0) + 1
            if isinstance(value, dict) and "tasks" in value:
                notes.problems.append(f'{where}: tag {key!r}: "tasks" is not a list; skipped')
    if tag is not None:
        if tag not in tags:
            raise ValidationError(
                f"{file}: no tag {tag!r} in this Taskmaster file; it has {', '.join(tags) or 'none'}"
            )
        for other, body in tags.items():
            if other != tag and isinstance(body.get("tasks"), list):
                notes.skipped["task in another tag"] = notes.skipped.get(
                    "task in another tag", 0
                ) + len(body["tasks"])
        tags = {tag: tags[tag]}
    items: list[Incoming] = []
    for name, body in tags.items():
        items += _read_tag(name, body, where, overrides, notes)
    sf.settle_links(items, notes)
    return items, notes


def _locate(path: Path) -> Path:
    """The tasks.json a path names: the file, or the one in a project folder (its
    `.taskmaster/tasks/`, or a legacy `tasks/`), or in a `.taskmaster` folder."""
    if path.is_dir():
        for candidate in (
            path / ".taskmaster" / "tasks" / "tasks.json",
            path / "tasks" / "tasks.json",
            path / "tasks.json",
        ):
            if candidate.is_file():
                return candidate
        raise ValidationError(
            f"{path}: no Taskmaster tasks.json here (looked for .taskmaster/tasks/tasks.json): "
            f"it looks like {sf.looks_like(path)}"
        )
    return path


def _load(data: bytes, file: Path) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"), parse_constant=limits.json_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, DeckError, RecursionError) as exc:
        detail = (
            f"line {exc.lineno}: {exc.msg}"
            if isinstance(exc, json.JSONDecodeError)
            else "nested too deeply"
            if isinstance(exc, RecursionError)
            else "not UTF-8"
            if isinstance(exc, UnicodeDecodeError)
            else str(exc)
        )
        raise ValidationError(
            f"{file}: not a Taskmaster tasks.json ({detail}): it looks like {sf.looks_like(file)}"
        ) from None


def _tags(doc: Any, file: Path) -> dict[str, dict[str, Any]]:
    """The file's tags by name, each `{"tasks": [...], ...}`; the legacy form as `master`."""
    if isinstance(doc, dict) and isinstance(doc.get("tasks"), list):
        return {LEGACY_TAG: doc}
    if isinstance(doc, dict):
        tags = {
            str(k): v
            for k, v in doc.items()
            if isinstance(v, dict) and isinstance(v.get("tasks"), list)
        }
        if tags:
            return tags
        if doc == {}:
            return {}
    raise ValidationError(
        f'{file}: not a Taskmaster tasks.json (no tag with a "tasks" list): '
        f"it looks like {sf.looks_like(file)}"
    )


def _read_tag(
    tag: str, body: dict[str, Any], where: str, overrides: dict[str, str], notes: ReadNotes
) -> list[Incoming]:
    """The tasks of one tag, then their references resolved within the tag."""
    base = f"{PREFIX}{sf.storable_id(tag)}/"
    items: list[Incoming] = []
    raw_deps: dict[str, tuple[list[Any], str | None]] = {}  # external id -> (deps, parent id)
    by_id: dict[str, str] = {}  # "3", "3.1" -> external id, first one wins
    for position, raw in enumerate(body["tasks"], start=1):
        here = f"{where}: {tag} task {position}"
        if not isinstance(raw, dict):
            _skip(notes, "entry that is not a task", f"{here}: not a task object, skipped")
            continue
        task_id = _id_text(raw.get("id"))
        item = _item(raw, base, task_id, position, here, tag, overrides, notes, None)
        _register(item, task_id, f"{base}#{position}", by_id, notes)
        items.append(item)
        raw_deps[item.external_id] = (_as_list(raw.get("dependencies")), None)
        subtasks = raw.get("subtasks")
        if subtasks in (None, []):
            continue
        if not isinstance(subtasks, list):
            sf.keep(item.metadata, notes, "subtasks", subtasks)
            continue
        for sub_position, sub in enumerate(subtasks, start=1):
            sub_here = f"{here} subtask {sub_position}"
            if not isinstance(sub, dict):
                _skip(notes, "entry that is not a task", f"{sub_here}: not a task object, skipped")
                continue
            sub_id = _id_text(sub.get("id"))
            full = f"{task_id}.{sub_id}" if task_id and sub_id else ""
            child = _item(sub, base, full, sub_position, sub_here, tag, overrides, notes, item)
            child.parent = item.external_id
            _register(child, full, f"{item.external_id}.#{sub_position}", by_id, notes)
            items.append(child)
            raw_deps[child.external_id] = (_as_list(sub.get("dependencies")), task_id or None)
    for item in items:
        deps, parent_id = raw_deps[item.external_id]
        for dep in deps:
            target = _find(dep, parent_id, by_id)
            if target is None:
                shown = str(dep) if isinstance(dep, str | int) else json.dumps(sf.json_safe(dep))
                item.external_refs.append(("dependency", shown))
                notes.external.append((item.external_id, shown))
            elif target not in item.blocked_by:
                item.blocked_by.append(target)
    return items


def _register(
    item: Incoming, task_id: str, by_position: str, by_id: dict[str, str], notes: ReadNotes
) -> None:
    """Remember which external id a Taskmaster id names. A task without an id, or with one
    an earlier task has, is known by its place in the file (`#3`, `4.#2`) instead."""
    if task_id and task_id not in by_id:
        by_id[task_id] = item.external_id
        return
    if task_id:
        notes.problems.append(f"{item.where}: id {task_id} appears twice; kept by its position")
    else:
        notes.problems.append(f"{item.where}: no id; kept by its position")
    item.external_id = by_position


def _find(dep: Any, parent_id: str | None, by_id: dict[str, str]) -> str | None:
    """The external id a dependency names: in a subtask a bare number is a sibling (as
    Taskmaster reads it), else a top-level task; `"3.1"` is subtask 1 of task 3."""
    if isinstance(dep, bool) or not isinstance(dep, int | str | float):
        return None
    text = _id_text(dep)
    if parent_id is not None and _NUMBER.match(text) and f"{parent_id}.{text}" in by_id:
        return by_id[f"{parent_id}.{text}"]
    return by_id.get(text)


def _id_text(raw: Any) -> str:
    if isinstance(raw, bool) or raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return sf.storable_id(raw) if isinstance(raw, int | str | float) else ""


def _item(
    raw: dict[str, Any],
    base: str,
    task_id: str,
    position: int,
    where: str,
    tag: str,
    overrides: dict[str, str],
    notes: ReadNotes,
    parent: Incoming | None,
) -> Incoming:
    metadata: dict[str, Any] = {"taskmaster_tag": tag}
    title, long_title = sf.title_of(raw.get("title") if _is_text(raw.get("title")) else None, "")
    if not title:
        shown = task_id or f"#{position}"
        title = f"Task {shown}" if parent is None else f"Subtask {shown} of {parent.title}"
        title = sf.title_of(title, shown)[0]
        notes.problems.append(f"{where}: no title; called it {title!r}")
    if long_title:
        sf.keep(metadata, notes, "title_as_written", long_title)
    raw_status = raw.get("status")
    status_text = str(raw_status).strip() if isinstance(raw_status, str | int) else ""
    status_text = status_text or "pending"
    status = sf.map_status(status_text, notes, table=TASKMASTER_STATUS, overrides=overrides)
    priority = 2
    if raw.get("priority") not in (None, ""):
        found = sf.priority_of(raw.get("priority"))
        if found is None:
            sf.keep(metadata, notes, "priority", raw.get("priority"))
        else:
            priority = found
    elif parent is not None:
        priority = parent.priority  # Taskmaster shows a subtask at its parent's priority
    assignee = sf.agent_name(raw.get("assignee")) if raw.get("assignee") else None
    if raw.get("assignee") and assignee is None:
        sf.keep(metadata, notes, "assignee", raw.get("assignee"))
    labels, odd = sf.label_set(_as_list(raw.get("tags")))
    if odd:
        sf.keep(metadata, notes, "tags", raw.get("tags"))
    for key, value in raw.items():
        if key in MAPPED or (parent is not None and key in SUBTASK_ECHOES):
            continue
        if value not in (None, "", [], {}):
            sf.keep(metadata, notes, key, value)
    for key in ("description", "details", "testStrategy"):
        if raw.get(key) not in (None, "") and not _is_text(raw.get(key)):
            sf.keep(metadata, notes, key, raw.get(key))
    created = sf.when(raw.get("createdAt"))
    updated = sf.when(raw.get("updatedAt"))
    history: list[tuple[str, Any]] = []
    if created is not None:
        history.append(("pending", created))
    if status != "pending" and (updated or created) is not None:
        history.append((status, updated or created))
    return Incoming(
        external_id=f"{base}{task_id}",
        title=title,
        status=status,
        where=where,
        description=_text(raw.get("description")),
        criteria=_criteria(raw.get("acceptanceCriteria"), _text(raw.get("testStrategy"))),
        priority=priority,
        assignee=assignee,
        created_at=created,
        labels=labels,
        notes=_text(raw.get("details")),
        source_status=status_text,
        history=history,
        updated_at=updated,
        closed_at=(updated or created) if status in ("done", "cancelled") else None,
        metadata=metadata,
    )


def _criteria(acceptance: Any, strategy: str) -> str:
    """`acceptanceCriteria` (text or a list, as `- [ ] item` lines) and then the test
    strategy, which says how to tell the task is done."""
    parts = []
    if isinstance(acceptance, list):
        lines = [f"- [ ] {_text(a)}" for a in acceptance if _text(a)]
        if lines:
            parts.append("\n".join(lines))
    elif _text(acceptance):
        parts.append(_text(acceptance))
    if strategy and parts:
        parts.append(f"Test strategy:\n{strategy}")
    elif strategy:
        parts.append(strategy)
    return "\n\n".join(parts)


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _text(value: Any) -> str:
    return limits.storable(str(value)).strip() if _is_text(value) else ""


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _skip(notes: ReadNotes, kind: str, line: str) -> None:
    notes.skipped[kind] = notes.skipped.get(kind, 0) + 1
    notes.problems.append(line)
