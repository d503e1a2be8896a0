"""Reading Claude Code's task lists: `~/.claude/tasks/<list>/<id>.json` (one file a task, with
`.lock` and `.highwatermark` beside them), the tasks folder itself (every list in it), and the
older `~/.claude/todos/*.json` (each file an array of content/status/activeForm).

Each task's id is namespaced by its list: `claude:<list>/<id>` (the list's folder name, or a
todos file's name), so two sessions' task "1" stay two tasks. Claude Code deletes the files of
completed tasks: a `blockedBy` naming one that is gone is matched to the task an earlier import
made of it, or kept as an external reference; a task whose file is gone is left as it is on the
board (never moved back). A task's `metadata` is kept; a task marked `metadata._internal` is
skipped and counted. A file that cannot be read (malformed, half-written, not a regular file)
is skipped and listed as a problem, and the rest is read. Verbs here: read_claude,
read_claude_todos.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.formats.documents import Doc
from agentdeck.core.formats.files import NotRegularFile, read_regular_file
from agentdeck.core.formats.mirror import Incoming, ReadNotes, map_status
from agentdeck.core.formats.sniff import agent_name, looks_like

CLAUDE_STATUS = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "done",
    "deleted": "cancelled",
}
MAX_FILE = 8 * 1024 * 1024  # one Claude Code task file
MAX_LISTS = 10_000  # lists read from one tasks folder
_READ = {"id", "subject", "description", "activeForm", "status", "owner", "blocks", "blockedBy"}


def prefixed(list_id: str, task_id: str) -> str:
    return f"claude:{list_id}/{task_id}"


def read_claude(
    path: str | Path, *, status_map: dict[str, str] | None = None
) -> tuple[list[Incoming], ReadNotes]:
    """Every task of a Claude Code list folder, of each list in a tasks folder, or of a todos
    folder or file, and what reading them noticed."""
    root = Path(path)
    notes = ReadNotes()
    if root.is_file():
        items = _read_list(root.parent, [root], root.stem, "", status_map, notes)
        return _finish(root, items, notes)
    if not root.is_dir():
        raise ValidationError(f"{root}: not a directory of Claude Code task files")
    looks = _entries(root)
    items = _read_list(root, looks[0], root.name, "", status_map, notes)
    for sub in looks[1][:MAX_LISTS]:
        items += _read_list(sub, _entries(sub)[0], sub.name, f"{sub.name}/", status_map, notes)
    return _finish(root, items, notes)


def _finish(
    root: Path, items: list[Incoming], notes: ReadNotes
) -> tuple[list[Incoming], ReadNotes]:
    if not items and not notes.skipped:
        looks_like(root, "claude")
        if notes.problems:
            raise ValidationError(notes.problems[0])
        raise ValidationError(
            f"{root}: no Claude Code tasks in it (expected <id>.json task files, list folders "
            "of them like ~/.claude/tasks, or todos files like ~/.claude/todos/*.json)"
        )
    return items, notes


def _entries(folder: Path) -> tuple[list[Path], list[Path]]:
    """The `.json` entries of a folder (any kind of file: non-regular ones are reported when
    read) and its subfolders, by name."""
    files, folders = [], []
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.endswith(".json"):
                    files.append(folder / e.name)
                elif e.is_dir(follow_symlinks=False) and not e.name.startswith("."):
                    folders.append(folder / e.name)
    except OSError as exc:
        raise ValidationError(f"{folder}: cannot list ({exc.strerror})") from None
    return sorted(files, key=_order), sorted(folders)


def _order(path: Path) -> tuple[int, int | str]:
    """Task files by number (2.json before 10.json), then by name."""
    return (0, int(path.stem)) if path.stem.isdigit() else (1, path.name)


def _read_list(
    folder: Path,
    files: list[Path],
    list_id: str,
    shown: str,
    status_map: dict[str, str] | None,
    notes: ReadNotes,
) -> list[Incoming]:
    """The tasks of one list folder (and of any todos files in it)."""
    items: list[Incoming] = []
    blocks: list[tuple[str, str]] = []
    for path in files:
        where = f"{shown}{path.name}"
        try:
            data = read_regular_file(path, MAX_FILE, where)
            written = datetime.fromtimestamp(path.lstat().st_mtime, UTC)
            raw = _load_json(data, where)
            if isinstance(raw, list):  # a todos file: its own list
                items += _todos(raw, path.stem, where, status_map, notes, written)
                continue
            item = _task(Doc(raw, where), path, list_id, status_map, notes, written)
        except NotRegularFile as exc:
            notes.problems.append(f"skipped {exc.message}")
            continue
        except FileNotFoundError:
            continue  # deleted while being read: it is gone, as if listed a moment later
        except ValidationError as exc:
            notes.problems.append(f"{exc.message}; file skipped")
            continue
        if item is None:
            continue
        for other in Doc(raw, where).opt("blocks", list, []):
            if isinstance(other, str | int) and not isinstance(other, bool):
                blocks.append((prefixed(list_id, str(other)), item.external_id))
        items.append(item)
    by_id = {i.external_id: i for i in items}
    for blocked, blocker in blocks:
        if blocked in by_id and blocker not in by_id[blocked].blocked_by:
            by_id[blocked].blocked_by.append(blocker)
    return items


def _task(
    d: Doc,
    path: Path,
    list_id: str,
    status_map: dict[str, str] | None,
    notes: ReadNotes,
    written: datetime,
) -> Incoming | None:
    """One task file; None for a task Claude Code marks internal (skipped and counted)."""
    metadata = d.opt("metadata", dict, {})
    if metadata.get("_internal"):
        notes.skipped["internal task"] = notes.skipped.get("internal task", 0) + 1
        return None
    raw_id = _id(d, path.stem)
    raw_status = d.get("status", str)
    status = map_status(raw_status, CLAUDE_STATUS, status_map, notes)
    kept: dict[str, Any] = dict(metadata)
    for name, value in d.value.items():
        if name not in _READ and name != "metadata" and value not in (None, "", [], {}):
            kept[name] = value
    if raw_status not in CLAUDE_STATUS:
        kept["status"] = raw_status
    for name in kept:
        notes.kept[name] = notes.kept.get(name, 0) + 1
    blocked_by = []
    for ref in d.opt("blockedBy", list, []):
        if isinstance(ref, bool) or not isinstance(ref, str | int):
            raise ValidationError(f"{d.path}.blockedBy: expected task ids")
        blocked_by.append(prefixed(list_id, str(ref)))
    return Incoming(
        external_id=prefixed(list_id, str(raw_id)),
        where=d.path,
        title=d.check("subject", str, limits.title),
        status=status,
        source_status=raw_status,
        description=d.opt("description", str, ""),
        active_form=d.opt("activeForm", str, ""),
        assignee=d.check("owner", str, agent_name, ""),
        blocked_by=list(dict.fromkeys(blocked_by)),
        created_at=written,
        updated_at=written,
        history=[(status, written)] if status != "pending" else [],
        metadata=kept,
    )


def read_claude_todos(
    todos: Any, *, status_map: dict[str, str] | None = None, notes: ReadNotes | None = None
) -> list[Incoming]:
    """Parse the `todos` of Claude Code's older TodoWrite tool (its whole list at each call):
    `content`, `status` (pending, in_progress, completed), optional `activeForm` and `id`,
    with bare ids (the caller namespaces them). A todo without an id is known by its text,
    so a status change finds the same task; a repeated todo is read once."""
    if not isinstance(todos, list):
        raise ValidationError("TodoWrite: todos is not a list")
    return _todos(todos, "", "todo", status_map, notes or ReadNotes(), None)


def _todos(
    todos: list[Any],
    list_id: str,
    where: str,
    status_map: dict[str, str] | None,
    notes: ReadNotes,
    written: datetime | None,
) -> list[Incoming]:
    items: list[Incoming] = []
    seen: set[str] = set()
    for number, raw in enumerate(todos, start=1):
        d = Doc(raw, f"{where} {number}" if where == "todo" else f"{where}[{number - 1}]")
        content = d.check("content", str, limits.title)
        raw_status = d.get("status", str)
        status = map_status(raw_status, CLAUDE_STATUS, status_map, notes)
        todo_id = _id(d, "") or "todo-" + hashlib.sha256(content.encode()).hexdigest()[:12]
        if todo_id in seen:
            continue
        seen.add(todo_id)
        items.append(
            Incoming(
                external_id=prefixed(list_id, todo_id) if list_id else todo_id,
                where=d.path,
                title=content,
                status=status,
                source_status=raw_status,
                active_form=d.opt("activeForm", str, ""),
                created_at=written,
                history=[(status, written)] if written and status != "pending" else [],
            )
        )
    return items


def _id(d: Doc, default: str) -> str:
    """A task's `id`: text, or a whole number (Claude Code writes both); absent, `default`."""
    value = d.value.get("id") if isinstance(d.value, dict) else None
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return str(d.get("id", str))


def _load_json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"), parse_constant=limits.json_constant)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(f"{name}: line {line}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{name}: line {exc.lineno}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise ValidationError(f"{name}: nested too deeply to read") from None
    except ValidationError as exc:
        raise ValidationError(f"{name}: {exc}") from None
