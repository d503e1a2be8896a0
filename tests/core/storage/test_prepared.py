"""The driver-level path for hot statements gives what SQLAlchemy's own execution gives.

Each case runs a statement both ways on the same connection (SQLite and, when configured,
PostgreSQL) and compares rows, so a compile or conversion slip shows up as a difference.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from agentdeck.core import Deck
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import event_t, task_t


def sqlalchemy_rows(conn: sa.Connection, statement: Any, params: dict[str, Any]) -> list[dict]:
    return [dict(r) for r in conn.execute(statement, params).mappings()]


@pytest.fixture
def board(deck: Deck) -> Deck:
    deck.create_board("WEB", "Website", actor="hana")
    deck.add_agent("ada", actor="hana", skills=["python"])
    for i in range(4):
        deck.add_task(f"Task {i}", actor="hana", priority=i % 3)
    deck.add_task("Blocked", actor="hana", blocked_by=["WEB-1", "WEB-2"])
    claim = deck.claim("ada")
    assert claim is not None
    deck.log(claim.task.key, "ran the tests", actor="ada", data={"n": 1, "ok": True})
    return deck


def test_rows_match_sqlalchemy_with_times_json_and_booleans(board: Deck) -> None:
    statement = sa.select(task_t).where(task_t.c.id <= sa.bindparam("p_max")).order_by(task_t.c.id)
    with board._db.read() as tx:
        expected = sqlalchemy_rows(tx.conn, statement, {"p_max": 5})
        got = Prepared(statement).rows(tx.conn, {"p_max": 5})
    assert got == expected and len(got) == 5
    held = got[0]
    assert held["lease_expires_at"].tzinfo is UTC and held["required_skills"] == []
    assert isinstance(held["requires_approval"], bool)


def test_expanding_and_literal_in_lists(board: Deck) -> None:
    statement = sa.select(task_t.c.id, task_t.c.status).where(
        task_t.c.id.in_(sa.bindparam("p_ids", expanding=True)),
        task_t.c.status.not_in(("done", "cancelled")),
    )
    prepared = Prepared(statement)
    with board._db.read() as tx:
        for ids in ([1], [1, 3, 5], [2, 4], []):
            expected = sqlalchemy_rows(tx.conn, statement, {"p_ids": ids})
            assert prepared.rows(tx.conn, {"p_ids": ids}) == expected


def test_insert_values_come_from_the_parameter_names(board: Deck) -> None:
    insert = Prepared(event_t.insert().returning(event_t.c.id, event_t.c.data))
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with board._db.write() as tx:
        row = insert.first(
            tx.conn,
            {
                "board_id": 1,
                "task_id": None,
                "actor": "hana",
                "kind": "note",
                "text": "ünïcode ✓",
                "data": {"nested": [1, "two"]},
                "created_at": now,
            },
        )
        # Columns left out get their defaults, scalar ("" for subkind) and computed ({} for data).
        bare = insert.first(
            tx.conn,
            {"board_id": 1, "task_id": None, "actor": "hana", "kind": "note", "created_at": now},
        )
    assert row is not None and row["data"] == {"nested": [1, "two"]}
    event = board.events_since(row["id"] - 1)[0]
    assert (event.text, event.created_at, event.subkind) == ("ünïcode ✓", now, "")
    assert bare is not None and bare["data"] == {}
    assert (board.events_since(bare["id"] - 1)[0].text, bare["data"]) == ("", {})


def test_update_counts_changed_rows_and_textual_sql_reads_by_position(board: Deck) -> None:
    bump = Prepared(
        task_t.update().where(task_t.c.id == sa.bindparam("p_id"), task_t.c.version == 1)
    )
    with board._db.write() as tx:
        assert bump.run(tx.conn, {"p_id": 2, "priority": 0}) == 1
        assert bump.run(tx.conn, {"p_id": 999, "priority": 0}) == 0
        counted = Prepared(
            sa.text("SELECT count(*) AS n, max(id) AS top FROM task WHERE priority = :p")
        )
        row = counted.first(tx.conn, {"p": 0})
        assert row is not None and list(row) == ["n", "top"] and row["n"] >= 1
    assert board.get_task("WEB-2").priority == 0


def test_driver_errors_are_wrapped_like_sqlalchemys(board: Deck) -> None:
    broken = Prepared(sa.text("SELECT no_such_column FROM task"))
    with pytest.raises(sa.exc.DBAPIError), board._db.read() as tx:
        broken.rows(tx.conn)


def test_cursor_events_still_fire(board: Deck) -> None:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    statement = Prepared(sa.select(task_t.c.id).where(task_t.c.id == sa.bindparam("p_id")))
    sa.event.listen(board.engine, "before_cursor_execute", before)
    try:
        with board._db.read() as tx:
            assert statement.scalar(tx.conn, {"p_id": 1}) == 1
    finally:
        sa.event.remove(board.engine, "before_cursor_execute", before)
    assert any(s.lstrip().startswith("SELECT task.id") for s in seen)
