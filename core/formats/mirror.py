"""Writing an imported task list into a board, in one transaction.

Tasks are matched by their source id (`external_id`), so importing again updates what
changed instead of duplicating. A human's first import of a task is history: it gets the
status its source recorded (a `status` event with subkind `imported`). Everything else, every
change to a task already on the board and any status an agent's new task asks for, goes
through the lifecycle moves the importer may make (reconcile.py); what it may not make is
left alone and reported. Only a human or the board's lead adds the agents a file names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agentdeck.core import boards, knowledge, limits, tasks
from agentdeck.core.errors import CycleError, ValidationError
from agentdeck.core.formats import reconcile
from agentdeck.core.models import Imported, Skipped
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import agent_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key


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
    # What issue #16's readers also carry, so nothing a user had is lost (mirror.py maps
    # each to its home; what has none is kept in `metadata` and listed in the summary).
    labels: list[str] = field(default_factory=list)
    type: str = "task"  # task, bug, feature, epic, chore (models.TASK_TYPES), already mapped
    notes: str = ""  # the source's notes / implementation notes / design, as text
    estimate_hours: float | None = None
    result: str = ""  # completion reason, final summary
    # The source's status before mapping (e.g. beads `hooked`), and its history with real
    # timestamps: (agentdeck status, when), oldest first; the last one matches `status`.
    source_status: str = ""
    history: list[tuple[str, datetime]] = field(default_factory=list)
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    # Non-blocking relations to other items of the same source: (kind, external_id), kind
    # as the source names it (`related`, `waits-for`, `discovered-from`, ...).
    links: list[tuple[str, str]] = field(default_factory=list)
    # References to items not in the source (an ephemeral beads wisp, a deleted Claude Code
    # task): (kind, the reference as written). Kept on the task and reported, never refused.
    external_refs: list[tuple[str, str]] = field(default_factory=list)
    # Source fields with no agentdeck home, kept verbatim (JSON-safe values only).
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReadNotes:
    """What a reader noticed while parsing a source, for the import summary (and `--dry-run`):
    records of another kind it skipped, statuses it mapped, fields it kept only in metadata,
    references to items outside the source, and file-level problems it read past."""

    skipped: dict[str, int] = field(default_factory=dict)  # record kind -> count
    mapped: dict[tuple[str, str], int] = field(default_factory=dict)  # (from, to) -> count
    kept: dict[str, int] = field(default_factory=dict)  # source field -> tasks keeping it
    external: list[tuple[str, str]] = field(default_factory=list)  # (external_id, reference)
    problems: list[str] = field(default_factory=list)  # one line each: file and what is wrong


def _check(items: list[Incoming], source: str) -> None:
    """Refuse duplicate ids, references to tasks not in the source, and waiting cycles."""
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


def into_board(
    db: Database, items: list[Incoming], *, actor: str, board: str | None, source: str
) -> Imported:
    """Write the source into the board in one transaction. New tasks are made as the file
    says if a human imports them (history), else pending; every change to a task already on
    the board, and every status an agent's new task asks for, goes through the lifecycle
    moves the actor may make (reconcile.py), and what it may not make is reported."""
    _check(items, source)
    with db.write() as tx:
        b = tx.board(board)
        who = reconcile.importer(tx, b, actor)
        roster = _roster(tx, b, who, {i.assignee for i in items if i.assignee})
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
            row = existing.get(item.external_id)
            if row is None:
                touched[item.external_id] = _create(tx, b, who, item, roster)
            else:
                touched[item.external_id] = _update_text(tx, b, actor, item, row)
        for item in items:
            task_id = touched[item.external_id]
            for blocker in item.blocked_by:
                tasks.link(tx, task_id, touched[blocker])
            if item.parent:
                tasks.set_parent(tx, task_id, touched[item.parent])
        keys = _keys(tx, b, touched)
        note = f"imported from {source}"
        # History first, so a claim below sees the blockers the file finished.
        if who.human:
            for item in items:
                if item.external_id not in existing and item.status != "pending":
                    _history_status(tx, b, actor, touched[item.external_id], item.status, note)
        skipped: list[Skipped] = []
        for item in items:
            key = keys[item.external_id]
            owner = item.assignee if item.assignee in roster else None
            if item.assignee and owner is None:
                status = tx.task_row(key)["status"]
                skipped.append(
                    Skipped(
                        key, f"assigned to {item.assignee}", status, _not_on_board(item.assignee, b)
                    )
                )
            if item.external_id not in existing:
                if not who.human:
                    skipped += _new_for_agent(tx, who, key, item, owner, note)
                continue
            changes = [
                reconcile.bring_to(tx, who, key, item.status, owner, f"{note} ({item.where})")
            ]
            if owner is not None or item.assignee is None:
                changes.append(reconcile.assign_to(tx, who, key, owner))
            changes.append(reconcile.prioritise(tx, who, key, item.priority))
            _sync_doing(tx, b, who, key, item)
            skipped += [c for c in changes if c is not None]
        return Imported(
            b["key"], tuple(tasks.tasks_by_id(tx, list(touched.values()))), tuple(skipped)
        )


def _roster(tx: Tx, b: StoredRow, who: reconcile.Importer, named: set[str]) -> set[str]:
    """The board's agents after adding those the file names that are missing, which only a
    human or the board's lead may add (as add_agent does); others stay unknown."""
    have = set(
        tx.conn.execute(sa.select(agent_t.c.name).where(agent_t.c.board_id == b["id"])).scalars()
    )
    if not who.may_add_agents:
        return have
    for name in sorted(named - have):
        boards.insert_member(tx, b["id"], b["key"], name, "agent", [], "imported", None)
        tx.event(
            b["id"],
            None,
            who.name,
            "agent",
            "added",
            f"agent {name} joined (named in an import)",
            {"name": name},
        )
    return have | named


def _not_on_board(name: str, b: StoredRow) -> str:
    return (
        f"{name} is not on board {b['key']} and only a human or the board's lead may add "
        "agents; left unassigned"
    )


def _keys(tx: Tx, b: StoredRow, touched: dict[str, int]) -> dict[str, str]:
    rows = tx.conn.execute(
        sa.select(task_t.c.id, task_t.c.number).where(task_t.c.id.in_(list(touched.values())))
    )
    numbers = {task_id: number for task_id, number in rows}
    return {ext: task_key(b["key"], numbers[task_id]) for ext, task_id in touched.items()}


def _new_for_agent(
    tx: Tx, who: reconcile.Importer, key: str, item: Incoming, owner: str | None, note: str
) -> list[Skipped]:
    """An agent's new task arrived pending; it may claim it if the file says the agent has
    it in progress. Any other status (done, cancelled, someone else's work) is reported."""
    if item.status == "pending":
        return []
    if item.status == "in_progress" and owner == who.name:
        change = reconcile.bring_to(tx, who, key, "in_progress", owner, note)
        return [change] if change is not None else []
    why = (
        f"a task an agent imports arrives pending; {who.name} may claim it only if the file "
        f"gives it to {who.name} in progress"
    )
    return [Skipped(key, item.status, "pending", why)]


def _create(tx: Tx, b: StoredRow, who: reconcile.Importer, item: Incoming, roster: set[str]) -> int:
    """A new pending task as the file describes it, assigned as `add_task` would."""
    assignee_id = None
    if item.assignee in roster:
        assignee_id = tx.agent(b["id"], item.assignee, b["key"])["id"]
    task_id = tasks.insert_task(
        tx,
        b,
        who.name,
        title=limits.title(item.title),
        description=limits.text(item.description),
        criteria=limits.text(item.criteria),
        priority=item.priority,
        assignee=None,
    )
    tx.conn.execute(
        task_t.update()
        .where(task_t.c.id == task_id)
        .values(
            external_id=item.external_id,
            assignee_id=assignee_id,
            active_form=limits.line(item.active_form, 200)
            if item.status == "in_progress" and who.human
            else "",
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
    return task_id


def _update_text(tx: Tx, b: StoredRow, actor: str, item: Incoming, row: StoredRow) -> int:
    """Bring a known task's words in line with the file, recorded as a `sync` note; its
    status, owner, priority and what its holder is doing change only as the verbs allow."""
    fields = {
        "title": limits.title(item.title),
        "description": limits.text(item.description),
        "criteria": limits.text(item.criteria),
    }
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
            f"updated {', '.join(sorted(changed))}",
            {"source": "sync"},
        )
    return int(row["id"])


def _sync_doing(tx: Tx, b: StoredRow, who: reconcile.Importer, key: str, item: Incoming) -> None:
    """What a task in progress shows its holder doing, from the file, when a human or the
    holder imports it (as `doing` would); leaving in progress already cleared it."""
    row = tx.task_row(key)
    text = limits.line(item.active_form, 200)
    if row["status"] != "in_progress" or item.status != "in_progress" or row["active_form"] == text:
        return
    if not who.human and tx.agent_name(row["assignee_id"]) != who.name:
        return
    tx.conn.execute(
        task_t.update()
        .where(task_t.c.id == row["id"])
        .values(active_form=text, version=row["version"] + 1, updated_at=tx.now)
    )
    tx.event(
        b["id"], row["id"], who.name, "note", "sync", "updated active_form", {"source": "sync"}
    )


def _history_status(tx: Tx, b: StoredRow, actor: str, task_id: int, status: str, note: str) -> None:
    """Give a task a human imports for the first time the status its source recorded: history,
    not a move, written as a `status` event with subkind `imported`."""
    row = tx.conn.execute(sa.select(task_t).where(task_t.c.id == task_id)).mappings().one()
    values: dict[str, Any] = {
        "status": status,
        "version": row["version"] + 1,
        "updated_at": tx.now,
    }
    if status == "in_progress":
        values["started_at"] = row["started_at"] or tx.now
    if status in ("done", "cancelled"):
        values["completed_at"] = tx.now
    tx.conn.execute(task_t.update().where(task_t.c.id == task_id).values(**values))
    tx.event(
        b["id"],
        task_id,
        actor,
        "status",
        "imported",
        note,
        {"from": "pending", "to": status, "verb": "import"},
    )
    tasks.blocker_moved(tx, task_id, row["parent_id"], "pending", status)
    if status == "done":
        knowledge.index_task(tx, task_id, b["id"])


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
