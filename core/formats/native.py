"""Native export and import of a whole board with its history, as one versioned JSON document.

Verbs here: export_board, import_board. Import is all or nothing: the document is validated first and written in one transaction,
and a document from a newer format version is refused with a clear message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa

from agentdeck.core import (
    boards,
    budgets,
    credentials,
    knowledge,
    limits,
    names,
    permissions,
)
from agentdeck.core import tasks as task_rows  # `tasks` names lists of tasks here
from agentdeck.core.errors import PermissionDeniedError, ValidationError
from agentdeck.core.formats.documents import Doc
from agentdeck.core.models import METRICS, STATUSES, Board
from agentdeck.core.storage import flow, spend
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import (
    agent_t,
    board_t,
    budget_t,
    checkpoint_t,
    dependency_t,
    event_t,
    message_t,
    task_label_t,
    task_t,
    usage_t,
)
from agentdeck.core.storage.transaction import Tx, split_key, task_key
from agentdeck.core.tasks import recount_open_deps

FORMAT = "agentdeck-board"
VERSION = 1
MAX_DOCUMENT = 256 * 1024 * 1024  # an export file, read by formats/files.py
_TASK_TIMES = ("created_at", "started_at", "completed_at", "updated_at", "lease_expires_at")
# A usage row's amounts, checked on import by the same rules as `record_usage`.
_COUNTS = ("tokens_in", "tokens_out")
_AMOUNTS = ("cost_usd", "cpu_seconds", "gpu_seconds")
USAGE_SOURCES = ("reported", "measured")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_board(tx: Tx, board: str | None = None) -> dict[str, Any]:
    """The whole board (team, tasks, dependencies, events, usage, budgets, messages,
    checkpoints) as a JSON-ready document in format `agentdeck-board` version 1."""
    b = tx.board(board)
    bid = b["id"]
    agents = {
        r["id"]: r
        for r in tx.conn.execute(sa.select(agent_t).where(agent_t.c.board_id == bid)).mappings()
    }
    tasks = (
        tx.conn.execute(sa.select(task_t).where(task_t.c.board_id == bid).order_by(task_t.c.number))
        .mappings()
        .all()
    )
    keys = {r["id"]: task_key(b["key"], r["number"]) for r in tasks}
    labels: dict[int, list[str]] = {}
    for task_id, label in tx.conn.execute(
        sa.select(task_label_t.c.task_id, task_label_t.c.label)
        .join(task_t, task_t.c.id == task_label_t.c.task_id)
        .where(task_t.c.board_id == bid)
        .order_by(task_label_t.c.task_id, task_label_t.c.label)
    ):
        labels.setdefault(task_id, []).append(label)

    def name(agent_id: int | None) -> str | None:
        return agents[agent_id]["name"] if agent_id in agents else None

    def rows(table: sa.Table) -> list[sa.RowMapping]:
        return list(
            tx.conn.execute(
                sa.select(table).where(table.c.board_id == bid).order_by(table.c.id)
            ).mappings()
        )

    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": tx.now.isoformat(),
        "board": {
            "key": b["key"],
            "name": b["name"],
            "goal": b["goal"],
            "due_at": _iso(b["due_at"]),
            "lead": b["lead"],
            "require_verification": b["require_verification"],
            "lease_seconds": b["lease_seconds"],
            "agents": b["agents_mode"],
            "created_at": _iso(b["created_at"]),
        },
        "agents": [
            {
                "name": a["name"],
                "kind": a["kind"],
                "skills": list(a["skills"] or []),
                "role": a["role"],
                "supervisor": a["supervisor"],
                "last_heartbeat": _iso(a["last_heartbeat"]),
                "current_task": keys.get(a["current_task_id"]),
                "active_form": a["active_form"],
                "created_at": _iso(a["created_at"]),
            }
            for a in agents.values()
        ],
        "tasks": [
            {
                "key": keys[t["id"]],
                "title": t["title"],
                "description": t["description"],
                "criteria": t["criteria"],
                "priority": t["priority"],
                "skills": list(t["required_skills"] or []),
                "parent": keys.get(t["parent_id"]),
                "requires_approval": t["requires_approval"],
                "estimate_hours": t["estimate_hours"],
                "assignee": name(t["assignee_id"]),
                "status": t["status"],
                "type": t["type"],
                "labels": labels.get(t["id"], []),
                "active_form": t["active_form"],
                "result": t["result"],
                "verification": t["verification"],
                "verified": t["verified"],
                "escalation_reason": t["escalation_reason"],
                "version": t["version"],
                **{f: _iso(t[f]) for f in _TASK_TIMES},
            }
            for t in tasks
        ],
        "dependencies": [
            {"task": keys[d], "blocked_by": keys[bl]}
            for d, bl in tx.conn.execute(
                sa.select(dependency_t.c.task_id, dependency_t.c.blocker_id)
                .join(task_t, task_t.c.id == dependency_t.c.task_id)
                .where(task_t.c.board_id == bid)
                .order_by(dependency_t.c.task_id, dependency_t.c.blocker_id)
            )
        ],
        "events": [
            {
                "task": keys.get(e["task_id"]),
                "actor": e["actor"],
                "kind": e["kind"],
                "subkind": e["subkind"],
                "text": e["text"],
                "data": e["data"] or {},
                "created_at": _iso(e["created_at"]),
            }
            for e in rows(event_t)
        ],
        "usage": [
            {
                "task": keys.get(u["task_id"]),
                "agent": name(u["agent_id"]),
                "tokens_in": u["tokens_in"],
                "tokens_out": u["tokens_out"],
                "cost_usd": u["cost_usd"],
                "cpu_seconds": u["cpu_seconds"],
                "gpu_seconds": u["gpu_seconds"],
                "model": u["model"],
                "created_at": _iso(u["created_at"]),
                "source": u["source"],
                **{f"raw_{c}": u[f"raw_{c}"] for c in ("tokens_in", "tokens_out", "cost_usd")},
            }
            for u in rows(usage_t)
        ],
        "budgets": [
            {
                "scope": r["scope"],
                "subject": r["subject"],
                "metric": r["metric"],
                "soft": r["soft"],
                "hard": r["hard"],
            }
            for r in rows(budget_t)
        ],
        "messages": [
            {
                "to": name(m["agent_id"]),
                "sender": m["sender"],
                "task": keys.get(m["task_id"]),
                "kind": m["kind"],
                "text": m["text"],
                "created_at": _iso(m["created_at"]),
                "read_at": _iso(m["read_at"]),
            }
            for m in rows(message_t)
        ],
        "checkpoints": [
            {
                "task": keys[c["task_id"]],
                "actor": c["actor"],
                "sha": c["sha"],
                "message": c["message"],
                "files": list(c["files"] or []),
                "created_at": _iso(c["created_at"]),
            }
            for c in rows(checkpoint_t)
        ],
    }


def import_board(
    db: Database, doc: Any, *, actor: str, key: str | None = None, rebase_time: bool = False
) -> Board:
    """Create a board from an exported document, history included, all or nothing; never
    into an existing board, and only for a human (an agent the document names is refused).

    `key` renames the board; `rebase_time` shifts every timestamp so the export moment
    becomes now (used by the demo so a sample board's history ends today).
    """
    d = Doc(doc, "document")
    fmt, version = d.get("format", str), d.get("version", int)
    if fmt != FORMAT:
        raise ValidationError(f"document: format is {fmt!r}, expected {FORMAT!r}")
    if version > VERSION:
        raise ValidationError(
            f"document: format version {version} is newer than this agentdeck reads ({VERSION}); upgrade agentdeck"
        )
    now = db.now()
    shift = now - d.time("exported_at") if rebase_time else timedelta(0)
    with db.write() as tx:
        return _Importer(tx, d, shift, actor).run(key)


class _Importer:
    """Validates and writes one document inside the caller's transaction."""

    def __init__(self, tx: Tx, doc: Doc, shift: timedelta, actor: str) -> None:
        self.tx, self.doc, self.shift, self.actor = tx, doc, shift, actor
        self.agent_ids: dict[str, int] = {}
        self.task_ids: dict[str, int] = {}

    def t(self, value: datetime | None) -> datetime | None:
        return value + self.shift if value is not None else None

    def run(self, key: str | None) -> Board:
        from agentdeck.core import rows_to_models

        tx, board = self.tx, self.doc.obj("board")
        old_key = board.check("key", str, limits.board_key)
        new_key = limits.board_key(key) if key else old_key
        if tx.conn.execute(sa.select(board_t.c.id).where(board_t.c.key == new_key)).first():
            raise ValidationError(
                f"board {new_key} already exists; import it under another key with --key"
            )
        tasks = self.doc.list("tasks")
        self.bid = tx.conn.execute(
            board_t.insert().values(
                key=new_key,
                name=board.check("name", str, limits.title),
                goal=limits.text(board.opt("goal", str, "")),
                due_at=self.t(board.opt_time("due_at")),
                lead=board.opt("lead", str, None),
                require_verification=board.opt("require_verification", bool, False),
                lease_seconds=board.check("lease_seconds", int, limits.lease_seconds, 900),
                agents_mode=board.check(
                    "agents", str, credentials.agents_mode, boards.default_mode(tx.conn)
                ),
                next_number=max((t.check("key", str, split_key)[1] for t in tasks), default=0) + 1,
                created_at=self.t(board.time("created_at")),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        self.old_key, self.new_key = old_key, new_key
        self._agents()
        self._check_creator()
        self._tasks(tasks)
        self._rest()
        for task_id in tx.conn.execute(
            sa.select(task_t.c.id).where(task_t.c.board_id == self.bid, task_t.c.status == "done")
        ).scalars():
            knowledge.index_task(tx, task_id, self.bid)
        return rows_to_models.board(tx.board_by_id(self.bid))

    def _check_creator(self) -> None:
        """History is restored only for a human: one the document names, or someone it does
        not, who creates the board as `create_board` would; never for one of its agents."""
        if self.actor in self.agent_ids and not permissions.is_human(
            self.tx, self.tx.board_by_id(self.bid), self.actor
        ):
            raise PermissionDeniedError(
                f"only a human may import a board with its history; {self.actor} is an agent "
                "in this document"
            )

    def rekey(self, item: Doc, field: str, required: bool = True) -> int | None:
        raw = item.get(field, str) if required else item.opt(field, str, None)
        if raw is None:
            return None
        try:
            board_part, _ = split_key(raw)
        except ValidationError as exc:
            raise ValidationError(f"{item.path}.{field}: {exc}") from None
        if board_part != self.old_key or raw.upper() not in self.task_ids:
            raise ValidationError(f"{item.path}.{field}: {raw!r} is not a task of this board")
        return self.task_ids[raw.upper()]

    def _usage(self, u: Doc) -> dict[str, Any]:
        """One usage row: counted figures, where they came from and the figures as given
        (documents from before measured usage have neither: reported, as counted)."""
        row = {
            "board_id": self.bid,
            "task_id": self.rekey(u, "task", required=False),
            "agent_id": self.agent(u, "agent"),
            **{f: u.check(f, int, partial(limits.count, label=f), 0) for f in _COUNTS},
            **{f: u.check(f, float, partial(limits.amount, label=f), 0.0) for f in _AMOUNTS},
            "model": u.opt("model", str, ""),
            "created_at": self.t(u.time("created_at")),
        }
        source = u.opt("source", str, "reported")
        if source not in USAGE_SOURCES:
            raise ValidationError(f"{u.path}.source: must be one of {', '.join(USAGE_SOURCES)}")
        row["source"] = source
        for f in (*_COUNTS, "cost_usd"):
            check = limits.count if f in _COUNTS else limits.amount
            kind = int if f in _COUNTS else float
            row[f"raw_{f}"] = u.check(f"raw_{f}", kind, partial(check, label=f), row[f])
        return row

    def agent(self, item: Doc, field: str) -> int | None:
        name = item.opt(field, str, None)
        if name is None:
            return None
        if name not in self.agent_ids:
            raise ValidationError(f"{item.path}.{field}: {name!r} is not an agent of this board")
        return self.agent_ids[name]

    def _agents(self) -> None:
        for a in self.doc.list("agents"):
            name = a.check("name", str, limits.name)
            if name in self.agent_ids:
                raise ValidationError(f"{a.path}.name: {name!r} appears twice")
            kind = a.opt("kind", str, "agent")
            if kind not in ("agent", "human"):
                raise ValidationError(f"{a.path}.kind: must be agent or human")
            self.agent_ids[name] = self.tx.conn.execute(
                agent_t.insert().values(
                    board_id=self.bid,
                    name=name,
                    kind=kind,
                    skills=a.check("skills", list, limits.skills, []),
                    role=a.opt("role", str, ""),
                    supervisor=a.opt("supervisor", str, None),
                    last_heartbeat=self.t(a.opt_time("last_heartbeat")),
                    active_form=a.opt("active_form", str, ""),
                    created_at=self.t(a.time("created_at")),
                    name_key=names.fold(name),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        self._credentials()

    def _credentials(self) -> None:
        """Tokens are never exported: every member of the new board gets a new one (held by
        this deck; a human hands agents theirs with `agent token NAME --rotate`), and whoever
        imports joins as a human if the document does not name them."""
        tx = self.tx
        if self.actor not in self.agent_ids:
            boards.insert_member(tx, self.bid, self.new_key, self.actor, "human", [], "", None)
        members = sa.select(agent_t.c.id, agent_t.c.name).where(agent_t.c.board_id == self.bid)
        for row in tx.conn.execute(members).all():
            boards.new_credential(tx, row.id, self.new_key, row.name)
        tx.auth[self.actor] = credentials.BY_TOKEN

    def _tasks(self, tasks: list[Doc]) -> None:
        parents: list[tuple[int, Doc]] = []
        for item in tasks:
            raw_key = item.get("key", str).upper()
            board_part, number = item.check("key", str, split_key)
            if board_part != self.old_key or raw_key in self.task_ids:
                raise ValidationError(
                    f"{item.path}.key: {raw_key!r} is a duplicate or not on board {self.old_key}"
                )
            status = item.get("status", str)
            if status not in STATUSES:
                raise ValidationError(
                    f"{item.path}.status: {status!r} is not one of {', '.join(STATUSES)}"
                )
            times = {f: self.t(item.opt_time(f)) for f in _TASK_TIMES}
            times["created_at"] = times["created_at"] or self.t(item.time("created_at"))
            task_id = self.tx.conn.execute(
                task_t.insert().values(
                    board_id=self.bid,
                    number=number,
                    title=item.check("title", str, limits.title),
                    description=limits.text(item.opt("description", str, "")),
                    criteria=limits.text(item.opt("criteria", str, "")),
                    priority=item.check("priority", int, limits.priority, 2),
                    required_skills=item.check("skills", list, limits.skills, []),
                    requires_approval=item.opt("requires_approval", bool, False),
                    estimate_hours=item.opt("estimate_hours", float, None),
                    assignee_id=self.agent(item, "assignee"),
                    status=status,
                    type=item.check("type", str, limits.task_type, "task"),
                    active_form=item.opt("active_form", str, ""),
                    result=limits.text(item.opt("result", str, "")),
                    verification=limits.text(item.opt("verification", str, "")),
                    verified=item.opt("verified", bool, False),
                    escalation_reason=item.opt("escalation_reason", str, ""),
                    version=item.opt("version", int, 1),
                    **{**times, "updated_at": times["updated_at"] or times["created_at"]},
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self.task_ids[raw_key] = task_id
            parents.append((task_id, item))
            task_rows.add_labels(self.tx, task_id, item.check("labels", list, limits.labels, []))
        for task_id, item in parents:
            parent = self.rekey(item, "parent", required=False)
            if parent is not None:
                self.tx.conn.execute(
                    task_t.update().where(task_t.c.id == task_id).values(parent_id=parent)
                )
        for agent in self.doc.list("agents"):
            current = agent.opt("current_task", str, None)
            if current and current.upper() in self.task_ids:
                self.tx.conn.execute(
                    agent_t.update()
                    .where(agent_t.c.id == self.agent_ids[agent.get("name", str)])
                    .values(current_task_id=self.task_ids[current.upper()])
                )

    def _rest(self) -> None:
        tx = self.tx
        pairs: dict[tuple[int | None, int | None], None] = {}  # a set in document order
        for item in self.doc.list("dependencies"):
            pair = (self.rekey(item, "task"), self.rekey(item, "blocked_by"))
            if pair in pairs:
                raise ValidationError(f"{item.path}: the same dependency appears twice")
            pairs[pair] = None
        if pairs:
            tx.conn.execute(
                dependency_t.insert(), [{"task_id": t, "blocker_id": b} for t, b in pairs]
            )
        recount_open_deps(tx, self.bid)
        self._check_acyclic()
        events = [
            {
                "board_id": self.bid,
                "task_id": self.rekey(e, "task", required=False),
                "actor": e.get("actor", str),
                "kind": e.get("kind", str),
                "subkind": e.opt("subkind", str, ""),
                "text": limits.text(e.opt("text", str, "")),
                "data": e.check("data", dict, limits.storable_json, {}),
                "created_at": self.t(e.time("created_at")),
                "auth": "imported",  # history: no credential can be checked after the fact
            }
            for e in self.doc.list("events")
        ]
        events.sort(key=lambda e: e["created_at"])
        for i in range(0, len(events), 1000):
            tx.conn.execute(event_t.insert(), events[i : i + 1000])
        flow.record(tx.conn, events)  # the history written directly: its burn-down rollup too
        usage = [self._usage(u) for u in self.doc.list("usage")]
        for i in range(0, len(usage), 1000):
            tx.conn.execute(usage_t.insert(), usage[i : i + 1000])
        spend.record(tx.conn, usage)  # and its hourly rollup
        for m in self.doc.list("messages"):
            to = self.agent(m, "to")
            if to is None:
                raise ValidationError(f"{m.path}.to: a message needs a recipient")
            tx.conn.execute(
                message_t.insert().values(
                    board_id=self.bid,
                    agent_id=to,
                    task_id=self.rekey(m, "task", required=False),
                    sender=m.get("sender", str),
                    kind=m.get("kind", str),
                    text=limits.text(m.get("text", str)),
                    created_at=self.t(m.time("created_at")),
                    read_at=self.t(m.opt_time("read_at")),
                )
            )
        for c in self.doc.list("checkpoints"):
            tx.conn.execute(
                checkpoint_t.insert().values(
                    board_id=self.bid,
                    task_id=self.rekey(c, "task"),
                    actor=c.get("actor", str),
                    sha=c.get("sha", str),
                    message=c.opt("message", str, ""),
                    files=c.check("files", list, limits.storable_json, []),
                    created_at=self.t(c.time("created_at")),
                )
            )
        self._budgets()

    def _check_acyclic(self) -> None:
        cyclic = self.tx.conn.execute(
            sa.text(
                "WITH RECURSIVE walk(start, id, depth) AS ("
                " SELECT d.task_id, d.blocker_id, 1 FROM dependency d JOIN task t ON t.id = d.task_id WHERE t.board_id = :b"
                " UNION SELECT w.start, d.blocker_id, w.depth + 1 FROM walk w JOIN dependency d ON d.task_id = w.id"
                " WHERE w.depth < 10000 AND w.id <> w.start)"
                " SELECT start FROM walk WHERE id = start LIMIT 1"
            ),
            {"b": self.bid},
        ).first()
        if cyclic:
            raise ValidationError("dependencies: they form a cycle; a task cannot wait on itself")

    def _budgets(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        for item in self.doc.list("budgets"):
            scope, subject, metric = (
                item.get("scope", str),
                item.opt("subject", str, ""),
                item.get("metric", str),
            )
            if scope not in budgets.SCOPES or metric not in METRICS:
                raise ValidationError(f"{item.path}: unknown scope {scope!r} or metric {metric!r}")
            where: list[Any] = [usage_t.c.board_id == self.bid]
            if scope == "agent":
                where.append(usage_t.c.agent_id == self.agent(item, "subject"))
            elif scope == "task":
                where.append(usage_t.c.task_id == self.rekey(item, "subject"))
                subject = task_key(self.new_key, split_key(subject)[1])
            if (scope, subject, metric) in seen:
                raise ValidationError(
                    f"{item.path}: a second {metric} budget for {scope} {subject}"
                )
            seen.add((scope, subject, metric))
            soft = item.check("soft", float, lambda v: limits.budget_limit(v, "soft"), None)
            hard = item.check("hard", float, lambda v: limits.budget_limit(v, "hard"), None)
            key = (scope, subject, metric)
            budgets.insert_budget(self.tx, self.bid, key, soft, hard, where, crossed=True)
