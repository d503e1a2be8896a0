"""Importing other tools' task lists: a Claude Code task directory and a beads JSONL export.

Both are read into `Incoming` tasks here and mirrored into a board by mirror.py: importing
again (or `--watch`) updates what changed instead of duplicating, and changes only as the
importer could by hand (through the lifecycle). Malformed input names the file and line or
field, and nothing is imported. Only regular files are read (formats/files.py): in a Claude
directory a symlink, FIFO, socket, device or subdirectory is skipped and reported through
`on_skip`. Verbs here: import_claude, import_claude_session, import_claude_todos, import_beads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.formats import mirror
from agentdeck.core.formats.documents import Doc
from agentdeck.core.formats.files import NotRegularFile, read_regular_file
from agentdeck.core.formats.mirror import Incoming
from agentdeck.core.models import Imported
from agentdeck.core.storage.database import Database

CLAUDE_STATUS = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "done",
    "deleted": "cancelled",
}
BEADS_STATUS = {
    "open": "pending",
    "in_progress": "in_progress",
    "blocked": "pending",
    "deferred": "pending",
    "closed": "done",
    "tombstone": "cancelled",
}
MAX_FILE = 8 * 1024 * 1024  # one Claude Code task file
MAX_BEADS_FILE = 64 * 1024 * 1024  # a whole beads export


def read_claude_dir(
    directory: str | Path, on_skip: Callable[[str], None] | None = None
) -> list[Incoming]:
    """Parse a Claude Code task list directory (one `<id>.json` per task); an entry that is
    not a regular file is skipped, with one line saying which and why passed to `on_skip`."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ValidationError(f"{folder}: not a directory of Claude Code task files")
    items: list[Incoming] = []
    blocks: list[tuple[str, str]] = []
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if e.name.endswith(".json"))
    for name in names:
        path = folder / name
        try:
            data = read_regular_file(path, MAX_FILE, name)
        except NotRegularFile as exc:
            if on_skip is not None:
                on_skip(f"skipped {exc.message}")
            continue
        try:
            written = path.lstat().st_mtime
        except FileNotFoundError:
            raise ValidationError(f"{name}: removed while being read") from None
        d = Doc(_load_json(data, name), name)
        status = d.get("status", str)
        if status not in CLAUDE_STATUS:
            raise ValidationError(
                f"{name}: status {status!r} is not one of {', '.join(CLAUDE_STATUS)}"
            )
        task_id = str(d.get("id", str))
        for other in d.opt("blocks", list, []):
            blocks.append((str(other), task_id))
        items.append(
            Incoming(
                external_id=task_id,
                where=name,
                title=d.check("subject", str, limits.title),
                status=CLAUDE_STATUS[status],
                description=d.opt("description", str, ""),
                active_form=d.opt("activeForm", str, ""),
                assignee=d.check("owner", str, _agent_name, ""),
                blocked_by=[str(x) for x in d.opt("blockedBy", list, [])],
                created_at=datetime.fromtimestamp(written, UTC),
            )
        )
    by_id = {i.external_id: i for i in items}
    for blocked, blocker in blocks:
        if blocked in by_id and blocker not in by_id[blocked].blocked_by:
            by_id[blocked].blocked_by.append(blocker)
    return items


def read_beads(path: str | Path) -> list[Incoming]:
    """Parse a beads JSONL export (one issue per line)."""
    file = Path(path)
    data = read_regular_file(file, MAX_BEADS_FILE, follow_links=True)
    items = []
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        where = f"{file.name}:{number}"
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(f"{where}: not UTF-8 text ({exc.reason})") from None
        if not line.strip():
            continue
        try:
            raw = json.loads(line, parse_constant=limits.json_constant)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{where}: not JSON ({exc.msg})") from None
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc}") from None
        except RecursionError:
            raise ValidationError(f"{where}: nested too deeply to read") from None
        d = Doc(raw, where)
        status = d.get("status", str)
        if status not in BEADS_STATUS:
            raise ValidationError(
                f"{where}: status {status!r} is not one of {', '.join(BEADS_STATUS)}"
            )
        priority = d.opt("priority", int, 2)
        if not 0 <= priority <= 4:
            raise ValidationError(f"{where}: priority {priority} is not 0-4")
        blocked_by, parent = [], None
        for dep in d.list("dependencies"):
            dep.path = f"{where}: {dep.path}"
            kind = dep.opt("type", str, "blocks")
            target = dep.get("depends_on_id", str)
            if kind == "blocks":
                blocked_by.append(target)
            elif kind == "parent-child":
                parent = target
        comments = []
        for c in d.list("comments"):
            c.path = f"{where}: {c.path}"
            author = c.check("author", str, _agent_name, "") or "beads"
            comments.append((author, c.get("text", str), c.opt_time("created_at")))
        items.append(
            Incoming(
                external_id=d.get("id", str),
                where=where,
                title=d.check("title", str, limits.title),
                status=BEADS_STATUS[status],
                description=d.opt("description", str, ""),
                criteria=d.opt("acceptance_criteria", str, ""),
                priority=priority,
                assignee=d.check("assignee", str, _agent_name, ""),
                blocked_by=blocked_by,
                parent=parent,
                created_at=d.opt_time("created_at"),
                comments=comments,
            )
        )
    return items


def _agent_name(raw: str) -> str | None:
    """An owner or author as an agent name: `Jane Doe` becomes `Jane-Doe`; blank is nobody."""
    name = re.sub(r"[^\w.@:+-]+", "-", raw.strip()).strip("-")[:64]
    return name or None


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


def import_claude(
    db: Database,
    directory: str | Path,
    *,
    actor: str,
    board: str | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> Imported:
    """Mirror a Claude Code task list directory into a board: the tasks it touched, and the
    changes it left alone because `actor` may not make them. Entries that are not regular
    files are skipped and described to `on_skip`."""
    items = read_claude_dir(directory, on_skip)
    return mirror.into_board(db, items, actor=actor, board=board, source="claude")


def import_claude_session(
    db: Database, directory: str | Path, *, actor: str, session: str, board: str | None = None
) -> Imported:
    """Mirror one Claude Code task list as the agent working it (what `agentdeck hook
    claude-code-task` does after each TaskCreate/TaskUpdate). Task ids are namespaced by
    `session` (the task list's id), so two sessions' task #1 stay two tasks, and a task the
    list gives no owner is `actor`'s own, so its in-progress and completed marks become the
    agent's own claim and completion (through the lifecycle, as any agent import)."""
    items = _owned(read_claude_dir(directory), session, actor)
    return mirror.into_board(db, items, actor=actor, board=board, source="claude")


def read_claude_todos(todos: Any) -> list[Incoming]:
    """Parse the `todos` of Claude Code's older TodoWrite tool (its whole list at each call):
    `content`, `status` (pending, in_progress, completed), optional `activeForm` and `id`.
    A todo without an id is known by its text, so a status change finds the same task; a
    repeated todo is read once."""
    if not isinstance(todos, list):
        raise ValidationError("TodoWrite: todos is not a list")
    items: list[Incoming] = []
    seen: set[str] = set()
    for number, raw in enumerate(todos, start=1):
        d = Doc(raw, f"todo {number}")
        content = d.check("content", str, limits.title)
        status = d.get("status", str)
        if status not in CLAUDE_STATUS:
            raise ValidationError(
                f"todo {number}: status {status!r} is not one of {', '.join(CLAUDE_STATUS)}"
            )
        given = d.opt("id", str, "")
        todo_id = given or "todo-" + hashlib.sha256(content.encode()).hexdigest()[:12]
        if todo_id in seen:
            continue
        seen.add(todo_id)
        items.append(
            Incoming(
                external_id=todo_id,
                where=f"todo {number}",
                title=content,
                status=CLAUDE_STATUS[status],
                active_form=d.opt("activeForm", str, ""),
            )
        )
    return items


def import_claude_todos(
    db: Database, todos: Any, *, actor: str, session: str, board: str | None = None
) -> Imported:
    """Mirror a TodoWrite list as the agent working it, like `import_claude_session`."""
    items = _owned(read_claude_todos(todos), session, actor)
    return mirror.into_board(db, items, actor=actor, board=board, source="claude")


def _owned(items: list[Incoming], session: str, actor: str) -> list[Incoming]:
    """`items` with ids (and the ids they wait on) prefixed by `session/`, and `actor` as the
    owner of every item that names none."""
    if not session or len(session) > 128 or not session.isprintable():
        raise ValidationError(f"session id {session!r} is not a Claude Code session id")
    for item in items:
        item.external_id = f"{session}/{item.external_id}"
        item.blocked_by = [f"{session}/{ref}" for ref in item.blocked_by]
        item.assignee = item.assignee or actor
    return items


def import_beads(
    db: Database, path: str | Path, *, actor: str, board: str | None = None
) -> Imported:
    """Mirror a beads JSONL export into a board: the tasks it touched, and the changes it
    left alone because `actor` may not make them."""
    return mirror.into_board(db, read_beads(path), actor=actor, board=board, source="beads")
