"""Reading a beads export (`bd export`, `.beads/issues.jsonl`): one JSON record a line.

Every issue becomes an `Incoming` with id `beads:<id>` and everything it had: status (beads'
own, `pinned`, `hooked` and custom ones mapped by `BEADS_STATUS` and `mirror.map_status`),
its real times (created, started, closed: the history), close reason (the result), labels,
issue type, notes and design (under "Notes"), estimate, assignee, comments, the parent and
every dependency type: `blocks`, `conditional-blocks` and `waits-for` block (beads' own ready
queue waits on them), the others become links. A dependency on an issue not in the file (an
ephemeral wisp, `external:...`) is kept as an external reference. Fields with no agentdeck
home are kept in the task's metadata. Records of other kinds (`_type: memory`, agent, message
and event records) are skipped and counted; a line that cannot be read is skipped and listed
as a problem. Verb here: read_beads.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.formats.documents import Doc
from agentdeck.core.formats.files import read_regular_file
from agentdeck.core.formats.mirror import Incoming, ReadNotes, map_status
from agentdeck.core.formats.sniff import agent_name, looks_like
from agentdeck.core.models import STATUSES

MAX_BEADS_FILE = 64 * 1024 * 1024  # a whole beads export
BEADS_STATUS = {
    "open": "pending",
    "in_progress": "in_progress",
    "hooked": "in_progress",  # work a worker has claimed
    "blocked": "pending",
    "deferred": "pending",
    "pinned": "pending",  # a bead that stays open indefinitely
    "closed": "done",
    "tombstone": "cancelled",
}
# beads issue types with an agentdeck type of the same meaning; the rest are tasks, their
# beads type kept in metadata.
BEADS_TYPES = {
    "task": "task",
    "bug": "bug",
    "feature": "feature",
    "epic": "epic",
    "chore": "chore",
    "story": "feature",
    "spike": "task",
    "milestone": "epic",
}
# Records that are not work items: skipped and counted under these kinds.
SKIPPED_TYPES = ("agent", "message", "event")
# Dependency types that hold an issue back in beads' ready queue: they block here too.
BLOCKING = ("blocks", "conditional-blocks", "waits-for")
# Fields read into the task; every other field of an issue is kept in its metadata, except
# these counts beads computes on export.
_READ = {
    "_type", "id", "title", "description", "design", "acceptance_criteria", "notes", "status",
    "priority", "issue_type", "assignee", "estimated_minutes", "created_at", "updated_at",
    "started_at", "closed_at", "close_reason", "labels", "dependencies", "comments", "parent",
}  # fmt: skip
_COMPUTED = {"dependency_count", "dependent_count", "comment_count"}


def prefixed(issue_id: str) -> str:
    return f"beads:{issue_id}"


def read_beads(
    path: str | Path, *, status_map: dict[str, str] | None = None
) -> tuple[list[Incoming], ReadNotes]:
    """The issues of a beads JSONL export, and what reading them noticed."""
    file = Path(path)
    data = read_regular_file(file, MAX_BEADS_FILE, follow_links=True)
    looks_like(file, "beads", data)  # another tool's file says which, before any line is read
    notes = ReadNotes()
    items: list[Incoming] = []
    records = 0
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        where = f"{file.name}:{number}"
        if not raw_line.strip():
            continue
        try:
            raw = _record(raw_line, where)
        except ValidationError as exc:
            notes.problems.append(f"{exc.message}; line skipped")
            continue
        records += 1
        if not isinstance(raw, dict):
            notes.problems.append(f"{where}: not an issue record (a JSON object); line skipped")
            continue
        kind = raw.get("_type", "issue")
        issue_type = raw.get("issue_type")
        if kind != "issue" or issue_type in SKIPPED_TYPES:
            shown = kind if kind != "issue" else issue_type
            name = str(shown)[:40] if isinstance(shown, str) else "unknown"
            notes.skipped[name] = notes.skipped.get(name, 0) + 1
            continue
        try:
            items.append(_issue(Doc(raw, where), where, status_map, notes))
        except ValidationError as exc:
            notes.problems.append(f"{exc.message}; issue skipped")
    if not records and not notes.problems:
        raise ValidationError(f"{file.name}: empty: no beads issues in it")
    if not items and notes.problems and not notes.skipped:
        raise ValidationError(notes.problems[0])
    return items, notes


def _record(raw_line: bytes, where: str) -> Any:
    try:
        line = raw_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{where}: not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(line, parse_constant=limits.json_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{where}: not JSON ({exc.msg})") from None
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    except RecursionError:
        raise ValidationError(f"{where}: nested too deeply to read") from None


def _issue(d: Doc, where: str, status_map: dict[str, str] | None, notes: ReadNotes) -> Incoming:
    issue_id = d.get("id", str)
    if not issue_id.strip():
        raise ValidationError(f"{where}.id: empty")
    raw_status = d.opt("status", str, "open") or "open"
    status = map_status(raw_status, BEADS_STATUS, status_map, notes)
    # A file agentdeck exported (`export --format beads`) keeps the status beads has no word
    # for (review, escalated, failed, cancelled) in metadata.agentdeck: coming back, it wins
    # over the beads status, unless `--map-status` names that status.
    own = d.value.get("metadata")
    ours = own.get("agentdeck") if isinstance(own, dict) else None
    overridden = bool(status_map) and raw_status.strip().lower() in (status_map or {})
    if isinstance(ours, dict) and ours.get("status") in STATUSES and not overridden:
        status = ours["status"]
    priority = d.opt("priority", int, 2)
    metadata: dict[str, Any] = {}
    if not 0 <= priority <= 4:
        metadata["priority"] = priority
        priority = min(max(priority, 0), 4)
    raw_type = d.opt("issue_type", str, "task") or "task"
    kind = BEADS_TYPES.get(raw_type.lower(), "task")
    if kind != raw_type.lower():
        metadata["issue_type"] = raw_type
    blocked_by: list[str] = []
    links: list[tuple[str, str]] = []
    parent = None
    for dep in d.list("dependencies"):
        dep.path = f"{where}: {dep.path}"
        dep_type = dep.opt("type", str, "blocks") or "blocks"
        target = prefixed(dep.get("depends_on_id", str))
        if dep_type in BLOCKING:
            blocked_by.append(target)
        elif dep_type == "parent-child" and parent is None:
            parent = target
        else:
            links.append((dep_type, target))
    if parent is None and isinstance(d.value.get("parent"), str) and d.value["parent"]:
        parent = prefixed(d.value["parent"])
    comments = []
    for c in d.list("comments"):
        c.path = f"{where}: {c.path}"
        author = c.check("author", str, agent_name, "") or "beads"
        comments.append((author, c.opt("text", str, ""), c.opt_time("created_at")))
    created = d.opt_time("created_at")
    started = d.opt_time("started_at")
    closed = d.opt_time("closed_at")
    history: list[tuple[str, datetime]] = []
    if started is not None and status in ("in_progress", "done", "cancelled"):
        history.append(("in_progress", started))
    if status in ("done", "cancelled"):
        at = closed or d.opt_time("updated_at")
        if at is not None:
            history.append((status, at))
    elif status == "in_progress" and started is None:
        at = d.opt_time("updated_at")
        if at is not None:
            history.append((status, at))
    minutes = d.opt("estimated_minutes", float, None)
    notes_text = d.opt("notes", str, "")
    design = d.opt("design", str, "")
    if design.strip():
        notes_text = f"{notes_text.rstrip()}\n\n### Design\n\n{design.strip()}".strip()
    for name, value in d.value.items():
        if name not in _READ and name not in _COMPUTED and value not in (None, "", [], {}):
            metadata[name] = value
    if raw_status.strip().lower() not in BEADS_STATUS:  # a custom status: its name is kept
        metadata["status"] = raw_status
    for name in metadata:
        notes.kept[name] = notes.kept.get(name, 0) + 1
    return Incoming(
        external_id=prefixed(issue_id),
        where=where,
        title=d.check("title", str, limits.title),
        status=status,
        source_status=raw_status,
        description=d.opt("description", str, ""),
        criteria=d.opt("acceptance_criteria", str, ""),
        notes=notes_text,
        priority=priority,
        assignee=d.check("assignee", str, agent_name, ""),
        blocked_by=list(dict.fromkeys(blocked_by)),
        parent=parent,
        links=list(dict.fromkeys(links)),
        created_at=created,
        updated_at=d.opt_time("updated_at"),
        closed_at=closed,
        history=history,
        comments=comments,
        labels=[x for x in d.opt("labels", list, []) if isinstance(x, str)],
        type=kind,
        estimate_hours=round(minutes / 60, 4) if minutes is not None else None,
        result=d.opt("close_reason", str, ""),
        metadata=metadata,
    )
