"""The SQL that differs between SQLite and PostgreSQL, kept in one place.

Everything else in `core` is dialect-neutral SQLAlchemy Core.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from agentdeck.core.storage.prepared import Prepared

NOTIFY_CHANNEL = "agentdeck_events"
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def notify(conn: sa.Connection, board_ids: Iterable[int]) -> None:
    """PostgreSQL: wake LISTENers in the same transaction that wrote the events."""
    for board_id in sorted(set(board_ids)):
        conn.execute(
            sa.text("SELECT pg_notify(:ch, :payload)"),
            {"ch": NOTIFY_CHANNEL, "payload": str(board_id)},
        )


def skills_fit(conn: sa.Connection, task_table: sa.Table, agent_skills: list[str]) -> Any:
    """True where every skill the task requires is among `agent_skills` (none required fits all)."""
    skills_json = json.dumps(sorted(agent_skills))
    if conn.dialect.name == "postgresql":
        return task_table.c.required_skills.op("<@")(
            sa.cast(sa.literal(skills_json), task_table.c.required_skills.type)
        )
    return sa.text(
        "(json_array_length(task.required_skills) = 0 OR NOT EXISTS ("
        " SELECT 1 FROM json_each(task.required_skills) AS need"
        " WHERE need.value NOT IN (SELECT value FROM json_each(:agent_skills))))"
    ).bindparams(agent_skills=skills_json)


def lock_pick(conn: sa.Connection, select: sa.Select) -> sa.Select:
    """PostgreSQL: skip rows another claim holds, so two agents never wait on one task."""
    if conn.dialect.name == "postgresql":
        # NO KEY UPDATE: it does not conflict with the key-share locks that inserting an event
        # (a foreign key to the task) takes, so a claim never deadlocks with an event append.
        return select.with_for_update(skip_locked=True, key_share=True)  # FOR NO KEY UPDATE
    return select


# A per-board lock that orders hard-budget stops against the verbs they stop (PostgreSQL's
# two-int advisory key space, apart from the event-order lock's one-bigint key).
_STOP_LOCK_KEY = 0x61676273  # "agbs"
_STOP_LOCKS = {
    exclusive: Prepared(
        sa.text(
            f"SELECT {'pg_advisory_xact_lock' if exclusive else 'pg_advisory_xact_lock_shared'}"
            "(CAST(:k AS integer), CAST(:b AS integer))"
        )
    )
    for exclusive in (False, True)
}


def board_stop_lock(conn: sa.Connection, board_id: int, *, exclusive: bool) -> None:
    """PostgreSQL: hold the board's stop lock to the end of the transaction, shared by the verbs
    a hard budget stops and taken alone by the transaction that stops them, so each verb runs
    wholly before a stop (which then sees its task) or wholly after (and sees the stop).
    SQLite runs one writer at a time already."""
    if conn.dialect.name == "postgresql":
        _STOP_LOCKS[exclusive].scalar(conn, {"k": _STOP_LOCK_KEY, "b": board_id})


_USAGE_LOCK_KEY = 0x61677573  # "agus"
_USAGE_LOCK = Prepared(
    sa.text("SELECT pg_advisory_xact_lock(CAST(:k AS integer), CAST(:a AS integer))")
)


def usage_lock(conn: sa.Connection, agent_id: int) -> None:
    """PostgreSQL: hold one agent's usage lock to the end of the transaction, so two writers
    of its usage (the agent's own `usage` and the telemetry receiver) read and extend its
    totals one after the other. SQLite runs one writer at a time already."""
    if conn.dialect.name == "postgresql":
        _USAGE_LOCK.scalar(conn, {"k": _USAGE_LOCK_KEY, "a": agent_id})


_GRAPH_LOCK_KEY = 0x61676467  # "agdg"
_GRAPH_LOCK = Prepared(
    sa.text("SELECT pg_advisory_xact_lock(CAST(:k AS integer), CAST(:b AS integer))")
)


def graph_lock(conn: sa.Connection, board_id: int) -> None:
    """PostgreSQL: hold the board's dependency-graph lock to the end of the transaction, so two
    edits that would each close half of a cycle (A waits on B, B on A; or each the other's
    subtask) check the graph one after the other instead of both passing on what they read.
    Take it before the transaction's first write, or two edits can deadlock on each other's
    rows. Advisory transaction locks stack, so taking it again is harmless. SQLite runs one
    writer at a time already."""
    if conn.dialect.name == "postgresql":
        _GRAPH_LOCK.scalar(conn, {"k": _GRAPH_LOCK_KEY, "b": board_id})


# -- knowledge index -------------------------------------------------------------------------


# Per backend and table, the statement that adds to a rollup's cells; built on first use (the
# rollups run it on every finished task and usage record, and building it cost more than
# running it), not at import (the dialect modules are big).
_ADD_TO: dict[tuple[str, str], Prepared] = {}


def add_to_cells(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT each row of a rollup `table` (keyed by its primary key), or add its other columns
    to the row already there: the rollups' one write (`storage.flow`, `storage.spend`)."""
    if not rows:
        return
    name = conn.dialect.name
    prepared = _ADD_TO.get((name, table.name))
    if prepared is None:
        insert: Any
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table)
        keys = [c.name for c in table.primary_key.columns]
        prepared = _ADD_TO[(name, table.name)] = Prepared(
            statement.on_conflict_do_update(
                index_elements=keys,
                set_={
                    c.name: c + statement.excluded[c.name] for c in table.c if c.name not in keys
                },
            )
        )
    prepared.run_many(conn, rows)


def fts_query(text: str, *, any_term: bool, dialect: str) -> str | None:
    """A safe full-text query from free text: words only, AND-ed (search) or OR-ed (similar).

    Each word once: SQLite's snippet() slows with every repeat of a term in the query times
    its matches (a claim took 40 s on tasks whose descriptions repeat their words)."""
    words = (t for t in _TOKEN_RE.findall(text.lower()) if len(t) > 1)
    tokens = list(dict.fromkeys(words))[:32]
    if not tokens:
        return None
    if dialect == "postgresql":
        return (" | " if any_term else " & ").join(tokens)
    return (" OR " if any_term else " ").join(f'"{t}"' for t in tokens)


def _by_dialect(postgresql: str, sqlite: str) -> dict[str, Prepared]:
    """A statement per backend, prepared once (completing and claiming a task run these)."""
    return {"postgresql": Prepared(sa.text(postgresql)), "sqlite": Prepared(sa.text(sqlite))}


_KNOWLEDGE_PUT = _by_dialect(
    "INSERT INTO knowledge (task_id, board_id, title, body) VALUES (:id, :b, :t, :body)",
    "INSERT INTO knowledge (rowid, board_id, title, body) VALUES (:id, :b, :t, :body)",
)
_KNOWLEDGE_DROP = _by_dialect(
    "DELETE FROM knowledge WHERE task_id = :id", "DELETE FROM knowledge WHERE rowid = :id"
)
_KNOWLEDGE_SEARCH = _by_dialect(
    "SELECT k.task_id, ts_headline('english', k.body, q, 'MaxWords=24, MinWords=8,"
    ' StartSel="", StopSel=""\'), ts_rank(k.tsv, q) AS score'
    " FROM knowledge k, to_tsquery('english', :q) q"
    " WHERE k.tsv @@ q AND k.board_id = :b AND k.task_id <> :ex"
    " ORDER BY score DESC, k.task_id LIMIT :n",
    # No snippet() here: it costs time in the square of a document's matches (80 ms for a
    # finished task whose text repeats a query word 2,400 times), on every claim's similar
    # tasks. The hits' bodies are read after ranking and cut in Python (`_snippet`).
    "SELECT rowid, '', -bm25(knowledge, 0, 4.0, 1.0)"
    " AS score FROM knowledge WHERE knowledge MATCH :q AND board_id = :b AND rowid <> :ex"
    " ORDER BY score DESC, rowid LIMIT :n",
)
_KNOWLEDGE_BODIES = Prepared(
    sa.text("SELECT rowid, body FROM knowledge WHERE rowid IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
)
SNIPPET_WORDS = 16


def _sql(statements: dict[str, Prepared], conn: sa.Connection) -> Prepared:
    return statements["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]


def knowledge_put(conn: sa.Connection, task_id: int, board_id: int, title: str, body: str) -> None:
    knowledge_drop(conn, task_id)
    _sql(_KNOWLEDGE_PUT, conn).run(conn, {"id": task_id, "b": board_id, "t": title, "body": body})


def knowledge_drop(conn: sa.Connection, task_id: int) -> None:
    _sql(_KNOWLEDGE_DROP, conn).run(conn, {"id": task_id})


def knowledge_search(
    conn: sa.Connection, board_id: int, query: str, limit: int, exclude: int | None = None
) -> list[tuple[int, str, float]]:
    """(task id, snippet, score) for the best matches, best first; higher score is better."""
    params = {"q": query, "b": board_id, "n": limit, "ex": exclude or -1}
    rows = _sql(_KNOWLEDGE_SEARCH, conn).rows(conn, params)
    found = [(int(a), b or "", float(c)) for a, b, c in (tuple(r.values()) for r in rows)]
    if conn.dialect.name == "postgresql" or not found:
        return found
    bodies = {
        int(r["rowid"]): r["body"]
        for r in _KNOWLEDGE_BODIES.rows(conn, {"ids": [f[0] for f in found]})
    }
    words = re.findall(r'"([^"]+)"', query)
    return [(i, _snippet(bodies.get(i, ""), words), score) for i, _, score in found]


def _snippet(body: str, words: list[str]) -> str:
    """About `SNIPPET_WORDS` words of `body` from just before the first word that starts like
    one of `words` (a stem's worth: the index stems, so "paginate" finds "pagination"), with
    "…" where the body is cut; its start when none matches. Linear in the body's length."""
    stems = {w[:5] for w in words}
    match = (
        re.search(r"\b(?:" + "|".join(map(re.escape, stems)) + ")", body, re.IGNORECASE)
        if stems
        else None
    )
    at = match.start() if match else 0
    offset = max(0, at - 200)
    spans = [m.span() for m in _TOKEN_RE.finditer(body, offset, at + 40 * SNIPPET_WORDS)]
    if not spans:
        return ""
    first = next((n for n, (start, _) in enumerate(spans) if start >= at), 0)
    first = max(0, first - 2)
    last = min(len(spans), first + SNIPPET_WORDS) - 1
    start, end = spans[first][0], spans[last][1]
    before = "…" if _TOKEN_RE.search(body, 0, start) else ""
    after = "…" if _TOKEN_RE.search(body, end) else ""
    return before + body[start:end] + after
