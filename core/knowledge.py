"""The knowledge library: finished tasks, full-text indexed, searched by humans and agents.

A task is indexed when it reaches done (title, description, criteria, result, verification,
notes and decisions) and dropped from the index if it is reopened. Verbs here: search,
similar, reindex; `moves.move` calls index_task and unindex_task.
"""

from __future__ import annotations

import sqlalchemy as sa

from agentdeck.core.models import SearchHit
from agentdeck.core.storage import dialect
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import board_t, event_t, task_t
from agentdeck.core.storage.transaction import Tx, task_key

_NOTE_KINDS = ("note", "approval", "reopened")

# Built once: completing and claiming a task run these.
_TASK = Prepared(sa.select(task_t).where(task_t.c.id == sa.bindparam("p_id")))
_NOTES = Prepared(
    sa.select(event_t.c.text)
    .where(
        event_t.c.task_id == sa.bindparam("p_id"),
        sa.or_(
            event_t.c.kind.in_(_NOTE_KINDS),
            sa.and_(event_t.c.kind == "log", event_t.c.subkind.in_(("decision", "verification"))),
        ),
        event_t.c.text != "",
    )
    .order_by(event_t.c.id)
    .limit(200)
)
_HITS = Prepared(
    sa.select(task_t.c.id, task_t.c.number, task_t.c.title, task_t.c.result, board_t.c.key)
    .join(board_t, board_t.c.id == task_t.c.board_id)
    .where(task_t.c.id.in_(sa.bindparam("p_ids", expanding=True)))
)
_TITLE = Prepared(
    sa.select(task_t.c.title, task_t.c.description).where(task_t.c.id == sa.bindparam("p_id"))
)


def index_task(tx: Tx, task_id: int, board_id: int) -> None:
    """(Re)index a finished task with its result and the notes and decisions made on the way."""
    tx.flush_events()  # the note written with this very move (an approval) is indexed too
    task = _TASK.first(tx.conn, {"p_id": task_id})
    if task is None:
        return
    notes = _NOTES.scalars(tx.conn, {"p_id": task_id})
    body = "\n".join(
        part
        for part in (
            task["description"],
            task["criteria"],
            task["result"],
            task["verification"],
            *notes,
        )
        if part
    )
    dialect.knowledge_put(tx.conn, task_id, board_id, task["title"], body)


def unindex_task(tx: Tx, task_id: int) -> None:
    dialect.knowledge_drop(tx.conn, task_id)


def ranked(
    tx: Tx, board_id: int, text: str, limit: int, *, any_term: bool, exclude: int | None = None
) -> list[SearchHit]:
    """Search hits for free text on one board, best first."""
    query = dialect.fts_query(text, any_term=any_term, dialect=tx.conn.dialect.name)
    if query is None:
        return []
    found = dialect.knowledge_search(tx.conn, board_id, query, limit, exclude)
    if not found:
        return []
    rows = {r["id"]: r for r in _HITS.rows(tx.conn, {"p_ids": [f[0] for f in found]})}
    return [
        SearchHit(
            key=task_key(rows[i]["key"], rows[i]["number"]),
            title=rows[i]["title"],
            result=rows[i]["result"],
            snippet=" ".join(snippet.split()),
            score=score,
        )
        for i, snippet, score in found
        if i in rows
    ]


def similar_to(tx: Tx, task_id: int, board_id: int, limit: int = 3) -> list[SearchHit]:
    task = _TITLE.first(tx.conn, {"p_id": task_id})
    if task is None:
        return []
    text = f"{task['title']} {task['description'][:2000]}"
    return ranked(tx, board_id, text, limit, any_term=True, exclude=task_id)


def search(tx: Tx, query: str, *, board: str | None = None, limit: int = 10) -> list[SearchHit]:
    """Finished tasks matching every word of `query`, best first."""
    b = tx.board(board)
    return ranked(tx, b["id"], query, max(1, min(limit, 100)), any_term=False)


def similar(tx: Tx, key: str, *, limit: int = 3) -> list[SearchHit]:
    """Finished tasks most like this one (by its title and description)."""
    task, b = tx.task(key)
    return similar_to(tx, task["id"], b["id"], max(1, min(limit, 50)))


def reindex(tx: Tx, board: str | None = None) -> int:
    """Rebuild the knowledge index of a board's finished tasks; returns how many."""
    b = tx.board(board)
    ids = (
        tx.conn.execute(
            sa.select(task_t.c.id).where(task_t.c.board_id == b["id"], task_t.c.status == "done")
        )
        .scalars()
        .all()
    )
    for task_id in ids:
        index_task(tx, task_id, b["id"])
    return len(ids)
