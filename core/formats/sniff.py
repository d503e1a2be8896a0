"""Telling which tool a file or folder comes from, so `import beads tasks.json` can say "this
looks like a Taskmaster tasks.json; use `agentdeck import taskmaster FILE`" instead of a parse
error, and what the importers share about names. Verbs here: looks_like, kind_of, agent_name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from agentdeck.core.errors import ValidationError
from agentdeck.core.formats.files import read_regular_file

_PEEK = 2 * 1024 * 1024  # enough of a file to tell what it is
_COMMANDS = {
    "beads": ("a beads export (issues.jsonl)", "agentdeck import beads FILE"),
    "claude": ("a Claude Code task list", "agentdeck import claude DIR"),
    "claude-todos": ("a Claude Code todos file", "agentdeck import claude DIR"),
    "backlog": ("a Backlog.md folder", "agentdeck import backlog DIR"),
    "backlog-file": ("a Backlog.md task file", "agentdeck import backlog DIR (its folder)"),
    "taskmaster": ("a Taskmaster tasks.json", "agentdeck import taskmaster FILE"),
    "native": ("an agentdeck board export", "agentdeck import FILE"),
}


def agent_name(raw: str) -> str | None:
    """An owner or author as an agent name: `Jane Doe` becomes `Jane-Doe`; blank is nobody."""
    name = re.sub(r"[^\w.@:+-]+", "-", raw.strip()).strip("-")[:64]
    return name or None


def looks_like(path: Path, wanted: str, data: bytes | None = None) -> None:
    """Refuse `path` when it is recognisably another tool's (not `wanted`'s): one line saying
    what it looks like and the command that imports it. Returns when it cannot tell."""
    kind = kind_of(path, data)
    if kind is None or kind.split("-")[0] == wanted.split("-")[0]:
        return
    what, command = _COMMANDS[kind]
    raise ValidationError(f"{path}: this looks like {what}; use `{command}`")


def kind_of(path: Path, data: bytes | None = None) -> str | None:
    """Which tool's `path` looks like (a key of `_COMMANDS`), or None."""
    try:
        if path.is_dir():
            return _dir_kind(path)
        if path.suffix.lower() == ".md":
            return "backlog-file"
        if data is None:
            data = read_regular_file(path, _PEEK, follow_links=True)
    except (OSError, ValidationError):
        return None
    return _file_kind(data[:_PEEK])


def _dir_kind(path: Path) -> str | None:
    if (path / "backlog" / "tasks").is_dir() or (
        path.name in ("backlog", "tasks") and any(path.glob("task-*.md"))
    ):
        return "backlog"
    if (path / "tasks").is_dir() and any((path / "tasks").glob("*.md")):
        return "backlog"
    if (path / ".taskmaster" / "tasks" / "tasks.json").is_file() or (
        path / "tasks" / "tasks.json"
    ).is_file():
        return "taskmaster"
    if (path / ".beads").is_dir() or (path / "issues.jsonl").is_file():
        return "beads"
    if any(path.glob("*.json")) or any(path.glob("*/*.json")):
        return "claude"
    return None


def _file_kind(data: bytes) -> str | None:
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    try:
        doc: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        first = text.lstrip().split("\n", 1)[0]
        try:
            doc = json.loads(first)
        except (json.JSONDecodeError, RecursionError):
            return "backlog-file" if text.startswith("---\n") else None
        return (
            "beads" if isinstance(doc, dict) and ("_type" in doc or "issue_type" in doc) else None
        )
    if isinstance(doc, list):
        if doc and all(isinstance(x, dict) and "content" in x for x in doc[:20]):
            return "claude-todos"
        if doc and all(isinstance(x, dict) and "testStrategy" in x for x in doc[:20]):
            return "taskmaster"
        return None
    if not isinstance(doc, dict):
        return None
    if doc.get("format") == "agentdeck-board":
        return "native"
    if "subject" in doc and "status" in doc:
        return "claude"
    if "_type" in doc or "issue_type" in doc:
        return "beads"
    tagged = [v for v in doc.values() if isinstance(v, dict) and isinstance(v.get("tasks"), list)]
    if isinstance(doc.get("tasks"), list) or tagged:
        return "taskmaster"
    return None
