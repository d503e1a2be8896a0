"""Writing an imported task list into a board, in one transaction.

Tasks are matched by their source id (`external_id`), so importing again updates what
changed instead of duplicating. A human's first import of a task is history: it gets the
status its source recorded (a `status` event with subkind `imported`). Everything else, every
change to a task already on the board and any status an agent's new task asks for, goes
through the lifecycle moves the importer may make (reconcile.py); what it may not make is
left alone and reported. Only a human or the board's lead adds the agents a file names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from agentdeck.core import boards, knowledge, limits, names, tasks
from agentdeck.core.errors import CycleError, ValidationError
from agentdeck.core.formats import reconcile
from agentdeck.core.models import Imported, ImportSummary, KindCounts, Skipped
from agentdeck.core.storage import dialect
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import (
    agent_t,
    board_t,
    event_t,
    task_label_t,
    task_link_t,
    task_t,
)
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


# What a status an importer does not know becomes (`map_status`): the first rule whose word
# appears in the status's name, else pending. Always reported in the summary.
STATUS_RULES = (
    (("cancel", "wontfix", "won't", "reject", "tombstone", "duplicate", "obsolete"), "cancelled"),
    (("done", "close", "complete", "finish", "resolve", "merged", "shipped"), "done"),
    (("progress", "hook", "doing", "active", "started", "wip", "review"), "in_progress"),
    (("block", "wait", "defer", "pin", "hold", "todo", "open", "backlog"), "pending"),
)
# Statuses an import may give a task (what `--map-status FROM=TO` may name).
IMPORT_STATUSES = ("pending", "in_progress", "done", "cancelled")
FINISHED = ("done", "cancelled")


def map_status(
    raw: str, known: dict[str, str], overrides: dict[str, str] | None, notes: ReadNotes
) -> str:
    """The agentdeck status of a source status: `--map-status` first, then the source's own
    table (`known`), then `STATUS_RULES` by the words in its name, else pending; every status
    the source's table does not know, or whose name is not agentdeck's, is counted in
    `notes.mapped` for the summary."""
    folded = raw.strip().lower()
    if overrides and folded in overrides:
        status = overrides[folded]
    elif folded in known:
        status = known[folded]
    else:
        squashed = folded.replace(" ", "").replace("-", "").replace("_", "")
        status = next(
            (to for words, to in STATUS_RULES if any(w in squashed for w in words)), "pending"
        )
    if folded != status or folded not in known:
        notes.mapped[(raw, status)] = notes.mapped.get((raw, status), 0) + 1
    return status


def parse_status_map(pairs: list[str] | tuple[str, ...] | None) -> dict[str, str]:
    """`--map-status FROM=TO` options as a table (FROM folded to lower case), refusing a TO an
    import cannot give a task."""
    table: dict[str, str] = {}
    for pair in pairs or ():
        source, sep, target = pair.partition("=")
        source, target = source.strip().lower(), target.strip().lower()
        if not sep or not source or not target:
            raise ValidationError(
                f"--map-status takes FROM=TO, like hooked=in_progress, not {pair!r}"
            )
        if target not in IMPORT_STATUSES:
            raise ValidationError(
                f"--map-status {pair}: {target!r} is not one of {', '.join(IMPORT_STATUSES)}"
            )
        table[source] = target
    return table


def _check(items: list[Incoming], source: str, notes: ReadNotes) -> list[Incoming]:
    """The items to import: a repeated id is read once (the first) and reported; a cycle of
    blockers among them is refused, naming source ids (nothing to wait on would ever finish)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.external_id in seen:
            notes.problems.append(
                f"{item.where or source}: task id {item.external_id!r} appears twice; "
                "the first is imported"
            )
            continue
        seen.add(item.external_id)
        kept.append(item)
    cycle = _waiting_cycle(kept)
    if cycle:
        where = next(i.where for i in kept if i.external_id == cycle[0]) or source
        shown = cycle if len(cycle) <= 8 else [*cycle[:4], "…", *cycle[-2:]]
        raise CycleError(f"{where}: task {cycle[0]} waits on itself: {' -> '.join(shown)}")
    return kept


def bare_ids(external_id: str) -> list[str]:
    """The ids older agentdeck versions stored for a namespaced id, matched on re-import so a
    board imported before namespacing is updated, not duplicated: `beads:bd-1` was `bd-1`,
    `claude:LIST/3` was `LIST/3` (the hook's mirror) or `3` (`import claude`)."""
    source, sep, rest = external_id.partition(":")
    if not sep:
        return []
    if source == "claude":
        _, slash, task = rest.rpartition("/")
        return [rest, task] if slash else [rest]
    return [rest] if source == "beads" else []


class _DryRun(Exception):
    """Raised inside the write transaction of a dry run, to roll it back with its answer."""

    def __init__(self, imported: Imported) -> None:
        self.imported = imported


def into_board(
    db: Database,
    items: list[Incoming],
    *,
    actor: str,
    board: str | None,
    source: str,
    notes: ReadNotes | None = None,
    dry_run: bool = False,
    create: str | None = None,
) -> Imported:
    """Write the source into the board in one transaction, with a summary of what it did.
    New tasks are made as the file says if a human imports them (history, with the source's
    real times), else pending; every change to a task already on the board, and every status
    an agent's new task asks for, goes through the lifecycle moves the actor may make
    (reconcile.py), and what it may not make is reported. With `create` (a board name) the
    board `board` is made first if it does not exist. With `dry_run` everything is done in a
    transaction that is rolled back: the answer says what would happen and nothing changes."""
    notes = notes if notes is not None else ReadNotes()
    items = _check(items, source, notes)
    try:
        with db.write() as tx:
            imported = _write(tx, items, actor, board, source, notes, dry_run, create)
            if dry_run:
                raise _DryRun(imported)
            return imported
    except _DryRun as rolled_back:
        return rolled_back.imported


def _write(
    tx: Tx,
    items: list[Incoming],
    actor: str,
    board: str | None,
    source: str,
    notes: ReadNotes,
    dry_run: bool,
    create: str | None,
) -> Imported:
    made_board = False
    if create is not None and board and not _board_exists(tx, board):
        boards.insert_board(
            tx,
            limits.board_key(board),
            create,
            actor=limits.name(actor),
            agents=boards.default_mode(tx.conn),
        )
        made_board = True
    b = tx.board(board)
    dialect.graph_lock(tx.conn, b["id"])  # its links and parents are checked for cycles
    who = reconcile.importer(tx, b, actor)
    first_event = tx.conn.execute(sa.select(sa.func.max(event_t.c.id))).scalar() or 0
    aliases = _aliases(tx, b, {i.assignee for i in items if i.assignee})
    for item in items:
        if item.assignee in aliases:
            item.assignee = aliases[item.assignee]
    roster = _roster(tx, b, who, {i.assignee for i in items if i.assignee})
    stored = {
        r["external_id"]: r
        for r in tx.conn.execute(
            sa.select(task_t).where(task_t.c.board_id == b["id"], task_t.c.external_id.is_not(None))
        ).mappings()
    }
    existing: dict[str, StoredRow] = {}  # incoming id -> its task on the board
    claimed: set[int] = set()
    for item in items:
        for candidate in (item.external_id, *bare_ids(item.external_id)):
            row = stored.get(candidate)
            if row is not None and row["id"] not in claimed:
                existing[item.external_id] = row
                claimed.add(row["id"])
                break
    versions = {ext: row["version"] for ext, row in existing.items()}
    touched: dict[str, int] = {}
    for item in items:
        known = existing.get(item.external_id)
        if known is None:
            touched[item.external_id] = _create(tx, b, who, item, roster, notes)
        else:
            touched[item.external_id] = _update_text(tx, b, actor, item, known, notes)
    # References: to a task of this import, else to one an earlier import put on the board
    # (a Claude Code task whose file is gone), else kept as an external reference.
    on_board = {ext: int(r["id"]) for ext, r in stored.items()}

    def resolve(ref: str) -> int | None:
        if ref in touched:
            return touched[ref]
        for candidate in (ref, *bare_ids(ref)):
            if candidate in on_board:
                return on_board[candidate]
        return None

    for item in items:
        task_id = touched[item.external_id]
        links: list[tuple[str, int | None, str]] = []
        for blocker in item.blocked_by:
            found = resolve(blocker)
            if found is None:
                links.append(("blocks", None, blocker))
                notes.external.append((item.external_id, blocker))
            elif found != task_id:
                tasks.link(tx, task_id, found)
        if item.parent:
            found = resolve(item.parent)
            if found is None:
                links.append(("parent", None, item.parent))
                notes.external.append((item.external_id, item.parent))
            else:
                try:
                    tasks.set_parent(tx, task_id, found)
                except CycleError:  # its own parent, or its subtask's subtask: kept as a link
                    links.append(("parent", found, item.parent))
                    notes.problems.append(
                        f"{item.where or source}: task {item.external_id} cannot be a subtask "
                        f"of {item.parent} (that would be a loop); kept as a link"
                    )
        for kind, ref in item.links:
            found = resolve(ref)
            links.append((kind, found, ref))
            if found is None:
                notes.external.append((item.external_id, ref))
        for kind, ref in item.external_refs:
            links.append((kind, None, ref))
            notes.external.append((item.external_id, ref))
        _sync_links(tx, b, actor, task_id, links, item.external_id in existing)
    keys = _keys(tx, b, touched)
    note = f"imported from {source}"
    # History first, so a claim below sees the blockers the file finished.
    if who.human:
        finished = [
            touched[i.external_id]
            for i in items
            if i.external_id not in existing
            and _history(tx, b, actor, touched[i.external_id], i, note) == "done"
        ]
        for task_id in finished:  # after the history, so its events are flushed once
            knowledge.index_task(tx, task_id, b["id"])
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
        changes = [reconcile.bring_to(tx, who, key, item.status, owner, f"{note} ({item.where})")]
        if owner is not None or item.assignee is None:
            changes.append(reconcile.assign_to(tx, who, key, owner))
        changes.append(reconcile.prioritise(tx, who, key, item.priority))
        _sync_doing(tx, b, who, key, item)
        _sync_result(tx, b, actor, key, item)
        skipped += [c for c in changes if c is not None]
    _report_problems(tx, b, actor, source, notes)
    tx.flush_events()
    summary = _summary(tx, b, items, touched, existing, versions, first_event, source, notes)
    return Imported(
        b["key"],
        tuple(tasks.tasks_by_id(tx, list(touched.values()))),
        tuple(skipped),
        replace(summary, dry_run=dry_run, created_board=made_board),
    )


def _board_exists(tx: Tx, key: str) -> bool:
    found = tx.conn.execute(sa.select(board_t.c.id).where(board_t.c.key == key.upper())).first()
    return found is not None


def _summary(
    tx: Tx,
    b: StoredRow,
    items: list[Incoming],
    touched: dict[str, int],
    existing: dict[str, StoredRow],
    versions: dict[str, int],
    first_event: int,
    source: str,
    notes: ReadNotes,
) -> ImportSummary:
    """Counts per kind of what this import created, updated (a new version or any event
    written for the task) and left unchanged, with what the reader noticed."""
    ids = list(touched.values())
    evented = set(
        tx.conn.execute(
            sa.select(event_t.c.task_id)
            .where(event_t.c.id > first_event, event_t.c.task_id.in_(ids))
            .distinct()
        ).scalars()
    )
    now_versions: dict[int, int] = {
        task_id: version
        for task_id, version in tx.conn.execute(
            sa.select(task_t.c.id, task_t.c.version).where(task_t.c.id.in_(ids))
        )
    }
    counts: dict[str, dict[str, int]] = {}
    for item in items:
        task_id = touched[item.external_id]
        if item.external_id not in existing:
            outcome = "created"
        elif task_id in evented or now_versions[task_id] != versions[item.external_id]:
            outcome = "updated"
        else:
            outcome = "unchanged"
        cell = counts.setdefault(item.type, {"created": 0, "updated": 0, "unchanged": 0})
        cell[outcome] += 1
    return ImportSummary(
        source=source,
        board=b["key"],
        dry_run=False,
        kinds=tuple(KindCounts(kind, **c) for kind, c in sorted(counts.items())),
        mapped=tuple(sorted((a, z, n) for (a, z), n in notes.mapped.items())),
        skipped=tuple(sorted(notes.skipped.items())),
        kept=tuple(sorted(notes.kept.items())),
        external=tuple(dict.fromkeys(notes.external)),
        problems=tuple(notes.problems),
    )


def _report_problems(tx: Tx, b: StoredRow, actor: str, source: str, notes: ReadNotes) -> None:
    """Each problem the reader read past, as a board event the first time it is seen (a file
    that stays malformed under `--watch` is reported once, not at every change)."""
    if not notes.problems:
        return
    texts = [limits.text(f"{source}: {p}", 2000) for p in dict.fromkeys(notes.problems)]
    seen = set(
        tx.conn.execute(
            sa.select(event_t.c.text).where(
                event_t.c.board_id == b["id"],
                event_t.c.kind == "board",
                event_t.c.subkind == "import_problem",
                event_t.c.text.in_(texts),
            )
        ).scalars()
    )
    for text in texts:
        if text not in seen:
            tx.event(b["id"], None, actor, "board", "import_problem", text, {"source": source})


def _aliases(tx: Tx, b: StoredRow, named: set[str]) -> dict[str, str]:
    """Assignee names the file writes differently for one member (`@claude` and `@Claude`,
    or a name that looks like a member's), each mapped to the member's name on the board, or
    to the first spelling the file uses, so they become one agent instead of a refusal."""
    known = list(
        tx.conn.execute(sa.select(agent_t.c.name).where(agent_t.c.board_id == b["id"])).scalars()
    )
    aliases: dict[str, str] = {}
    for name in sorted(named):
        other = names.confusable_with(name, known)
        if other is None:
            known.append(name)
        elif other != name:
            aliases[name] = other
    return aliases


def _roster(tx: Tx, b: StoredRow, who: reconcile.Importer, named: set[str]) -> set[str]:
    """The board's agents after adding those the file names that are missing, which only a
    human or the board's lead may add (as add_agent does); others stay unknown."""
    have = set(
        tx.conn.execute(sa.select(agent_t.c.name).where(agent_t.c.board_id == b["id"])).scalars()
    )
    if not who.may_add_agents:
        return have
    refused = set()
    for name in sorted(named - have):
        if names.refusal_reason(name, have) is not None:  # e.g. mixed scripts: left unassigned
            refused.add(name)
            continue
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
    return have | (named - refused)


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


def _description(item: Incoming) -> str:
    """The task's description: the source's, then its notes under a "Notes" heading (kept in
    the description, not as comments, so a re-import compares and updates them in place)."""
    if not item.notes.strip():
        return limits.text(item.description)
    head = item.description.rstrip()
    return limits.text(
        f"{head}\n\n## Notes\n\n{item.notes.strip()}"
        if head
        else f"## Notes\n\n{item.notes.strip()}"
    )


def _labels(item: Incoming, notes: ReadNotes) -> list[str]:
    """The source's labels in stored form; one that cannot be a label even with its spaces
    made dashes is kept in metadata (`labels_not_kept`) and reported."""
    out: set[str] = set()
    for raw in item.labels:
        try:
            out.add(limits.label(re.sub(r"[\s,]+", "-", raw.strip())[: limits.MAX_LABEL]))
        except ValidationError:
            item.metadata.setdefault("labels_not_kept", []).append(raw)
            notes.problems.append(
                f"{item.where}: label {raw[:40]!r} cannot be a label; kept in metadata"
            )
    labels = sorted(out)
    if len(labels) > limits.MAX_LABELS:
        item.metadata.setdefault("labels_not_kept", []).extend(labels[limits.MAX_LABELS :])
        labels = labels[: limits.MAX_LABELS]
    return labels


def _estimate(item: Incoming, notes: ReadNotes) -> float | None:
    value = item.estimate_hours
    if value is None or limits.finite_from_zero(value):
        return value
    notes.problems.append(
        f"{item.where}: estimate {value!r} is not a number of hours >= 0; dropped"
    )
    return None


def _meta(item: Incoming, notes: ReadNotes) -> dict[str, Any] | None:
    if not item.metadata:
        return None
    try:
        return dict(limits.storable_json(item.metadata))
    except ValidationError as exc:
        notes.problems.append(f"{item.where}: metadata not kept: {exc.message}")
        return None


def _type(item: Incoming) -> str:
    try:
        return limits.task_type(item.type or "task")
    except ValidationError:
        item.metadata.setdefault("type", item.type)
        return "task"


def _create(
    tx: Tx,
    b: StoredRow,
    who: reconcile.Importer,
    item: Incoming,
    roster: set[str],
    notes: ReadNotes,
) -> int:
    """A new pending task as the file describes it, assigned as `add_task` would, created
    when the source says it was (its `created` event too, so the burn-down's scope starts
    then)."""
    assignee_id = None
    if item.assignee in roster:
        assignee_id = tx.agent(b["id"], item.assignee, b["key"])["id"]
    first = len(tx.events)
    kind = _type(item)
    task_id = tasks.insert_task(
        tx,
        b,
        who.name,
        title=limits.title(item.title),
        description=_description(item),
        criteria=limits.text(item.criteria),
        priority=item.priority,
        assignee=None,
        labels=_labels(item, notes),
        type=kind,
        estimate_hours=_estimate(item, notes),
    )
    created = item.created_at or tx.now
    for event in tx.events[first:]:
        event["created_at"] = created
    tx.conn.execute(
        task_t.update()
        .where(task_t.c.id == task_id)
        .values(
            external_id=item.external_id,
            assignee_id=assignee_id,
            active_form=limits.line(item.active_form, 200)
            if item.status == "in_progress" and who.human
            else "",
            created_at=created,
            result=limits.text(item.result),
            meta=_meta(item, notes),
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


def _update_text(
    tx: Tx, b: StoredRow, actor: str, item: Incoming, row: StoredRow, notes: ReadNotes
) -> int:
    """Bring a known task's words, labels, type, estimate and metadata in line with the file,
    recorded as one `sync` note; its status, owner, priority and what its holder is doing
    change only as the verbs allow. A task an older version imported under a bare id takes
    the namespaced one."""
    fields: dict[str, Any] = {
        "title": limits.title(item.title),
        "description": _description(item),
        "criteria": limits.text(item.criteria),
        "type": _type(item),
        "estimate_hours": _estimate(item, notes),
    }
    labels = _labels(item, notes)
    fields["meta"] = _meta(item, notes)
    changed = {
        k: v
        for k, v in fields.items()
        if row[k] != v and not (k == "meta" and not row[k] and not v)
    }
    had = set(
        tx.conn.execute(
            sa.select(task_label_t.c.label).where(task_label_t.c.task_id == row["id"])
        ).scalars()
    )
    words = sorted(changed)
    if had != set(labels):
        tasks.remove_labels(tx, row["id"], sorted(had - set(labels)))
        tasks.add_labels(tx, row["id"], sorted(set(labels) - had))
        words.append("labels")
    values: dict[str, Any] = dict(changed)
    if row["external_id"] != item.external_id:
        values["external_id"] = item.external_id
    if words:
        values.update(version=row["version"] + 1, updated_at=tx.now)
    if values:
        tx.conn.execute(task_t.update().where(task_t.c.id == row["id"]).values(**values))
    if words:
        shown = ["metadata" if w == "meta" else w for w in sorted(words)]
        tx.event(
            b["id"],
            row["id"],
            actor,
            "note",
            "sync",
            f"updated {', '.join(shown)}",
            {"source": "sync"},
        )
    return int(row["id"])


def _sync_links(
    tx: Tx,
    b: StoredRow,
    actor: str,
    task_id: int,
    links: list[tuple[str, int | None, str]],
    known: bool,
) -> None:
    """Make the task's links (kind, target task or None, the source's reference) the file's;
    on a task already on the board a change is a `sync` note."""
    want = sorted(
        set((limits.line(k, 60) or "related", t, limits.line(r, 500)) for k, t, r in links),
        key=lambda x: (x[0], x[2], x[1] or 0),
    )
    if not known and not want:  # a new task has none yet
        return
    have = sorted(
        set(
            (k, t, r)
            for k, t, r in tx.conn.execute(
                sa.select(
                    task_link_t.c.kind, task_link_t.c.target_id, task_link_t.c.target_ref
                ).where(task_link_t.c.task_id == task_id)
            ).all()
        ),
        key=lambda x: (x[0], x[2], x[1] or 0),
    )
    if want == have:
        return
    tx.conn.execute(task_link_t.delete().where(task_link_t.c.task_id == task_id))
    if want:
        tx.conn.execute(
            task_link_t.insert(),
            [{"task_id": task_id, "kind": k, "target_id": t, "target_ref": r} for k, t, r in want],
        )
    if known:
        tx.conn.execute(
            task_t.update()
            .where(task_t.c.id == task_id)
            .values(version=task_t.c.version + 1, updated_at=tx.now)
        )
        tx.event(b["id"], task_id, actor, "note", "sync", "updated links", {"source": "sync"})


def _sync_result(tx: Tx, b: StoredRow, actor: str, key: str, item: Incoming) -> None:
    """The source's completion reason as the task's result, after any move that wrote one."""
    row = tx.task_row(key)
    text = limits.text(item.result)
    if not text or row["result"] == text:
        return
    tx.conn.execute(
        task_t.update()
        .where(task_t.c.id == row["id"])
        .values(result=text, version=row["version"] + 1, updated_at=tx.now)
    )
    tx.event(b["id"], row["id"], actor, "note", "sync", "updated result", {"source": "sync"})


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


def _history(tx: Tx, b: StoredRow, actor: str, task_id: int, item: Incoming, note: str) -> str:
    """Give a task a human imports for the first time the statuses its source recorded, at
    the times it recorded them: history, not moves, each a `status` event with subkind
    `imported` dated when it happened (so the burn-down and the report show when the work
    really started and finished). Without a history, the source's closing or last-update
    time dates the one status it has. Returns the status it ends in (indexing a done task
    for search is the caller's)."""
    steps = [(s, at) for s, at in item.history if s in IMPORT_STATUSES]
    if item.status != "pending" and (not steps or steps[-1][0] != item.status):
        when = item.closed_at if item.status in FINISHED else None
        steps.append((item.status, when or item.updated_at or tx.now))
    if not steps:
        return "pending"
    row = tx.conn.execute(sa.select(task_t).where(task_t.c.id == task_id)).mappings().one()
    status, started, completed = "pending", None, None
    for to, when in steps:
        if to == status:
            continue
        tx.event(
            b["id"],
            task_id,
            actor,
            "status",
            "imported",
            note,
            {"from": status, "to": to, "verb": "import"},
        )
        tx.events[-1]["created_at"] = when
        if to == "in_progress" and started is None:
            started = when
        completed = when if to in FINISHED else None
        status = to
    if status == "pending":
        return status
    values: dict[str, Any] = {
        "status": status,
        "version": row["version"] + 1,
        "updated_at": tx.now,
        "started_at": started if status != "pending" else None,
        "completed_at": completed,
    }
    tx.conn.execute(task_t.update().where(task_t.c.id == task_id).values(**values))
    tasks.blocker_moved(tx, task_id, row["parent_id"], "pending", status)
    return status


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
