"""Importing other tools' task lists: a Claude Code task directory and a beads JSONL export.

Both mirror the source into a board: tasks are matched by their source id (`external_id`), so
importing again (or `--watch`) updates what changed instead of duplicating. A status change
is written as a `status` event with verb `sync`. Malformed input names the file and line or
field, and nothing is imported. Only regular files are read (formats/files.py): in a Claude
directory a symlink, FIFO, socket, device or subdirectory is skipped and reported through
`on_skip`. Verbs here: import_claude, import_beads.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from agentdeck.core import knowledge, limits, tasks
from agentdeck.core.errors import CycleError, ValidationError
from agentdeck.core.formats.documents import Doc
from agentdeck.core.formats.files import NotRegularFile, read_regular_file
from agentdeck.core.models import Task
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import agent_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx

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


@dataclass
class Incoming:
    """One task as the source tool describes it, normalised."""

    external_id: str
    title: str
    status: str
    where: str = ""  # file (and line) it came from, for error messages
    description: str = ""
    criteria: str = ""
    active_form: str = ""
    priority: int = 2
    assignee: str | None = None
    blocked_by: list[str] = field(default_factory=list)
    parent: str | None = None
    created_at: datetime | None = None
    comments: list[tuple[str, str, datetime | None]] = field(default_factory=list)


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


def _waiting_cycle(items: list[Incoming]) -> list[str]:
    """Source ids around a cycle of `blocked_by` among the incoming tasks (the first id again
    at the end), or [] if there is none; found before writing, so the error names source ids."""
    waits = {i.external_id: i.blocked_by for i in items}
    done: set[str] = set()
    for start in waits:
        if start in done:
            continue
        path, on_path, stack = [start], {start}, [iter(waits[start])]
        while stack:
            blocker = next(stack[-1], None)
            if blocker is None:
                on_path.discard(path[-1])
                done.add(path.pop())
                stack.pop()
            elif blocker in on_path:
                return [*path[path.index(blocker) :], blocker]
            elif blocker not in done:
                path.append(blocker)
                on_path.add(blocker)
                stack.append(iter(waits.get(blocker, ())))
    return []


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
) -> list[Task]:
    """Mirror a Claude Code task list directory into a board; returns the tasks it touched.
    Entries that are not regular files are skipped and described to `on_skip`."""
    items = read_claude_dir(directory, on_skip)
    return _mirror(db, items, actor=actor, board=board, source="claude")


def import_beads(
    db: Database, path: str | Path, *, actor: str, board: str | None = None
) -> list[Task]:
    """Mirror a beads JSONL export into a board; returns the tasks it touched."""
    return _mirror(db, read_beads(path), actor=actor, board=board, source="beads")


def _mirror(
    db: Database, items: list[Incoming], *, actor: str, board: str | None, source: str
) -> list[Task]:
    ids = [i.external_id for i in items]
    if len(set(ids)) != len(ids):
        raise ValidationError(
            f"{source}: task id {next(i for i in ids if ids.count(i) > 1)!r} appears twice"
        )
    known = set(ids)
    for item in items:
        for ref in [*item.blocked_by, *([item.parent] if item.parent else [])]:
            if ref not in known:
                raise ValidationError(
                    f"{item.where or source}: task {item.external_id} refers to unknown task {ref!r}"
                )
    cycle = _waiting_cycle(items)
    if cycle:
        where = next(i.where for i in items if i.external_id == cycle[0]) or source
        shown = cycle if len(cycle) <= 8 else [*cycle[:4], "…", *cycle[-2:]]
        raise CycleError(f"{where}: task {cycle[0]} waits on itself: {' -> '.join(shown)}")
    with db.write() as tx:
        b = tx.board(board)
        tx.actor(b, actor)
        _ensure_agents(tx, b, {i.assignee for i in items if i.assignee})
        existing = {
            r["external_id"]: r
            for r in tx.conn.execute(
                sa.select(task_t).where(
                    task_t.c.board_id == b["id"], task_t.c.external_id.is_not(None)
                )
            ).mappings()
        }
        touched: dict[str, int] = {}
        for item in items:
            touched[item.external_id] = _mirror_one(
                tx, b, actor, item, existing.get(item.external_id)
            )
        for item in items:
            task_id = touched[item.external_id]
            for blocker in item.blocked_by:
                tasks.link(tx, task_id, touched[blocker])
            if item.parent:
                tx.conn.execute(
                    task_t.update()
                    .where(task_t.c.id == task_id)
                    .values(parent_id=touched[item.parent])
                )
        return tasks.tasks_by_id(tx, list(touched.values()))


def _ensure_agents(tx: Tx, b: StoredRow, names: set[str]) -> None:
    have = set(
        tx.conn.execute(sa.select(agent_t.c.name).where(agent_t.c.board_id == b["id"])).scalars()
    )
    for name in sorted(names - have):
        tx.conn.execute(
            agent_t.insert().values(
                board_id=b["id"],
                name=limits.name(name),
                kind="agent",
                skills=[],
                role="imported",
                active_form="",
                created_at=tx.now,
            )
        )


def _mirror_one(tx: Tx, b: StoredRow, actor: str, item: Incoming, row: StoredRow | None) -> int:
    assignee_id = None
    if item.assignee:
        assignee_id = tx.agent(b["id"], item.assignee, b["key"])["id"]
    fields = {
        "title": limits.title(item.title),
        "description": limits.text(item.description),
        "criteria": limits.text(item.criteria),
        "active_form": limits.line(item.active_form, 200) if item.status == "in_progress" else "",
        "priority": item.priority,
        "assignee_id": assignee_id,
    }
    if row is None:
        task_id = tasks.insert_task(
            tx,
            b,
            actor,
            title=fields["title"],
            description=fields["description"],
            criteria=fields["criteria"],
            priority=item.priority,
            assignee=None,
        )
        tx.conn.execute(
            task_t.update()
            .where(task_t.c.id == task_id)
            .values(
                external_id=item.external_id,
                assignee_id=assignee_id,
                active_form=fields["active_form"],
                created_at=item.created_at or tx.now,
            )
        )
        for author, text, at in item.comments:
            tx.event(
                b["id"],
                task_id,
                limits.name(author, "comment author"),
                "note",
                "comment",
                limits.text(text),
                {"at": at.isoformat() if at else None},
            )
        row = tx.conn.execute(sa.select(task_t).where(task_t.c.id == task_id)).mappings().one()
    else:
        changed = {k: v for k, v in fields.items() if row[k] != v}
        if changed:
            tx.conn.execute(
                task_t.update()
                .where(task_t.c.id == row["id"])
                .values(**changed, version=row["version"] + 1, updated_at=tx.now)
            )
            tx.event(
                b["id"],
                row["id"],
                actor,
                "note",
                "sync",
                f"updated {', '.join(sorted(k.removesuffix('_id') for k in changed))}",
                {"source": "sync"},
            )
            row = (
                tx.conn.execute(sa.select(task_t).where(task_t.c.id == row["id"])).mappings().one()
            )
    if row["status"] != item.status:
        _force_status(tx, b, row, item.status, actor)
    return int(row["id"])


def _force_status(tx: Tx, b: StoredRow, row: StoredRow, status: str, actor: str) -> None:
    """Mirror a status the source tool already decided; recorded, not checked against moves."""
    was = row["status"]
    values: dict[str, Any] = {
        "status": status,
        "version": row["version"] + 1,
        "updated_at": tx.now,
    }
    if status == "in_progress":
        values["started_at"] = row["started_at"] or tx.now
    if status in ("done", "cancelled"):
        values["completed_at"] = tx.now
    tx.conn.execute(task_t.update().where(task_t.c.id == row["id"]).values(**values))
    tx.event(
        b["id"],
        row["id"],
        actor,
        "status",
        status,
        "mirrored from import",
        {"from": was, "to": status, "verb": "sync"},
    )
    tasks.blocker_moved(tx, row["id"], was, status)
    if status == "done":
        knowledge.index_task(tx, row["id"], b["id"])
    elif was == "done":
        knowledge.unindex_task(tx, row["id"])
