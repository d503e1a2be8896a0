"""Importing other tools' task lists: beads, Claude Code, Backlog.md and Taskmaster.

Each source has a reader (beads.py, claude.py, backlog.py, taskmaster.py) that turns its
files into `Incoming` tasks with namespaced ids (`beads:<id>`, `claude:<list>/<id>`,
`backlog:<id>`, `taskmaster:<tag>/<id>`) and `ReadNotes` (what it skipped, mapped, kept and
could not read); mirror.py writes them into a board: importing again (or `--watch`) updates
what changed instead of duplicating, and changes only as the importer could by hand (through
the lifecycle). `import_source` is the one entry every interface uses; the others are the
older entries the Claude Code hooks and tests call. Verbs here: import_source, import_claude,
import_claude_session, import_claude_todos, import_beads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentdeck.core.errors import ValidationError
from agentdeck.core.formats import beads, claude, mirror
from agentdeck.core.formats.mirror import Incoming, ReadNotes
from agentdeck.core.models import Imported
from agentdeck.core.storage.database import Database

SOURCES = ("beads", "claude", "backlog", "taskmaster")
# The name a board made by `--create` gets, per source.
BOARD_NAMES = {
    "beads": "Imported from beads",
    "claude": "Imported from Claude Code",
    "backlog": "Imported from Backlog.md",
    "taskmaster": "Imported from Taskmaster",
}


def read_source(
    source: str,
    path: str | Path,
    *,
    status_map: dict[str, str] | None = None,
    tag: str | None = None,
) -> tuple[list[Incoming], ReadNotes]:
    """The tasks of `path` as `source` (one of SOURCES) describes them, and the reader's notes."""
    if tag is not None and source != "taskmaster":
        raise ValidationError("--tag works with `agentdeck import taskmaster FILE` only")
    if source == "beads":
        return beads.read_beads(path, status_map=status_map)
    if source == "claude":
        return claude.read_claude(path, status_map=status_map)
    if source == "backlog":
        from agentdeck.core.formats import backlog

        return backlog.read_backlog(path, status_map=status_map)
    if source == "taskmaster":
        from agentdeck.core.formats import taskmaster

        return taskmaster.read_taskmaster(path, tag=tag, status_map=status_map)
    raise ValidationError(f"no importer for {source!r}; sources: {', '.join(SOURCES)}")


def import_source(
    db: Database,
    source: str,
    path: str | Path,
    *,
    actor: str,
    board: str | None = None,
    create: bool = False,
    dry_run: bool = False,
    status_map: dict[str, str] | None = None,
    tag: str | None = None,
) -> Imported:
    """Mirror `path` (a `source` export, folder or file) into `board`, with its summary
    (`Imported.summary`). `create` makes the board (`board` is then its key) when it does not
    exist yet, named after the source; `dry_run` does everything in a transaction that is
    rolled back, so the summary says what would happen and nothing changes."""
    if create and not board:
        raise ValidationError("--create needs --board KEY: the key of the board to create")
    items, notes = read_source(source, path, status_map=status_map, tag=tag)
    return mirror.into_board(
        db,
        items,
        actor=actor,
        board=board,
        source=source,
        notes=notes,
        dry_run=dry_run,
        create=BOARD_NAMES[source] if create else None,
    )


def import_claude(
    db: Database,
    directory: str | Path,
    *,
    actor: str,
    board: str | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> Imported:
    """Mirror a Claude Code task list (or tasks folder, or todos) into a board: the tasks it
    touched, the changes it left alone because `actor` may not make them, and its summary.
    Each problem read past (a file that is not regular, or not a task) is also passed to
    `on_skip`."""
    items, notes = claude.read_claude(directory)
    if on_skip is not None:
        for problem in notes.problems:
            on_skip(problem)
    return mirror.into_board(db, items, actor=actor, board=board, source="claude", notes=notes)


def import_claude_session(
    db: Database, directory: str | Path, *, actor: str, session: str, board: str | None = None
) -> Imported:
    """Mirror one Claude Code task list as the agent working it (what `agentdeck hook
    claude-code-task` does after each TaskCreate/TaskUpdate). Task ids are namespaced by
    `session` (the task list's id: `claude:<session>/<id>`, as `import claude` names them),
    and a task the list gives no owner is `actor`'s own, so its in-progress and completed
    marks become the agent's own claim and completion (through the lifecycle)."""
    _session(session)
    items, notes = claude.read_claude(directory)
    for item in items:
        _, _, task_id = item.external_id.rpartition("/")
        item.external_id = claude.prefixed(session, task_id)
        item.blocked_by = [claude.prefixed(session, r.rpartition("/")[2]) for r in item.blocked_by]
        item.assignee = item.assignee or actor
    return mirror.into_board(db, items, actor=actor, board=board, source="claude", notes=notes)


def read_claude_todos(todos: Any) -> list[Incoming]:
    """The todos of a TodoWrite call (see `claude.read_claude_todos`)."""
    return claude.read_claude_todos(todos)


def import_claude_todos(
    db: Database, todos: Any, *, actor: str, session: str, board: str | None = None
) -> Imported:
    """Mirror a TodoWrite list as the agent working it, like `import_claude_session`."""
    _session(session)
    items = claude.read_claude_todos(todos)
    for item in items:
        item.external_id = claude.prefixed(session, item.external_id)
        item.assignee = item.assignee or actor
    return mirror.into_board(db, items, actor=actor, board=board, source="claude")


def _session(session: str) -> None:
    if not session or len(session) > 128 or not session.isprintable() or "/" in session:
        raise ValidationError(f"session id {session!r} is not a Claude Code session id")


def import_beads(
    db: Database, path: str | Path, *, actor: str, board: str | None = None
) -> Imported:
    """Mirror a beads JSONL export into a board: the tasks it touched, the changes it left
    alone because `actor` may not make them, and its summary."""
    return import_source(db, "beads", path, actor=actor, board=board)
