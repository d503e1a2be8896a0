"""The shortcuts the agent verbs take give exactly what the long way gives.

Each shortcut is checked against the path it replaced, on SQLite and (when configured)
PostgreSQL: times bound through the shared per-transaction memory, statement forms found by
their parameter names, a task read with its board in one query, and budgets bumped and read
back in one statement.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from agentdeck.core import Deck
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import UTCDateTime, task_t

_ECHO_TIME = sa.select(sa.cast(sa.bindparam("p_at", type_=UTCDateTime), sa.String).label("at"))


def _bound_by_sqlalchemy(conn: sa.Connection, at: datetime) -> Any:
    return conn.execute(_ECHO_TIME, {"p_at": at}).scalar_one()


def test_every_time_binds_as_sqlalchemy_binds_it_even_as_objects_come_and_go(web: Deck) -> None:
    """The memory of converted times is keyed by the object: times made and dropped one after
    another (naive, UTC and another zone, often at a dropped one's address) must each get
    their own conversion, the one SQLAlchemy gives."""
    prepared = Prepared(_ECHO_TIME)
    base = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with web._db.read() as tx:
        for i in range(600):
            # A new object each time, usually at a freed one's address; some not in UTC.
            at = base + timedelta(microseconds=i * 7919)
            if i % 3 == 1:
                at = at.astimezone(UTC).replace(tzinfo=None)  # naive, taken as UTC
            elif i % 3 == 2:
                at = at.astimezone(datetime(2026, 1, 1).astimezone().tzinfo)
            assert prepared.scalar(tx.conn, {"p_at": at}) == _bound_by_sqlalchemy(tx.conn, at)
            del at
            if i % 100 == 0:
                gc.collect()


def test_one_time_bound_in_several_statements_stays_itself(web: Deck) -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    later = now + timedelta(seconds=900)
    select_two = Prepared(
        sa.select(
            sa.cast(sa.bindparam("p_a", type_=UTCDateTime), sa.String).label("a"),
            sa.cast(sa.bindparam("p_b", type_=UTCDateTime), sa.String).label("b"),
        )
    )
    echo = Prepared(_ECHO_TIME)
    with web._db.read() as tx:
        for _ in range(3):
            row = select_two.first(tx.conn, {"p_a": now, "p_b": later})
            assert row is not None
            assert row["a"] == _bound_by_sqlalchemy(tx.conn, now)
            assert row["b"] == _bound_by_sqlalchemy(tx.conn, later)
            assert echo.scalar(tx.conn, {"p_at": later}) == row["b"]
            assert echo.scalar(tx.conn, {"p_at": now}) == row["a"] != row["b"]


def test_a_form_is_found_by_names_in_any_order_and_lists_keep_their_length(web: Deck) -> None:
    statement = sa.select(task_t.c.number).where(
        task_t.c.board_id == sa.bindparam("p_board"),
        task_t.c.number.in_(sa.bindparam("p_numbers", expanding=True)),
        task_t.c.priority <= sa.bindparam("p_priority"),
    )
    prepared = Prepared(statement)
    for n in range(1, 6):
        web.add_task(f"task {n}", actor="ann", priority=n % 3)
    with web._db.read() as tx:
        for numbers in ([1], [1, 2, 3], [2, 5], [], [4, 1]):
            for params in (
                {"p_board": 1, "p_numbers": numbers, "p_priority": 1},
                {"p_priority": 1, "p_numbers": numbers, "p_board": 1},
            ):
                want = sorted(tx.conn.execute(statement, params).scalars())
                assert sorted(prepared.scalars(tx.conn, params)) == want


def test_a_task_and_its_board_in_one_query_are_the_rows_read_one_by_one(web: Deck) -> None:
    key = web.add_task("ship the parser", actor="ann", labels=["api"]).key
    with web._db.read() as tx:
        task, board = tx.task(key.lower())
        assert dict(task) == dict(tx.task_row(key))
        assert dict(board) == dict(tx.board_by_id(task["board_id"]))
        assert task["board_key"] == board["key"] == "WEB"


def test_usage_crossing_several_limits_reports_each_once_in_scope_order(web: Deck) -> None:
    key = web.add_task("costly", actor="ann").key
    claim = web.claim("gen", key=key)
    assert claim is not None
    web.set_budget("tokens", actor="ann", scope="task", subject=key, soft=100)
    web.set_budget("cost_usd", actor="ann", scope="agent", subject="gen", soft=0.5)
    web.set_budget("tokens", actor="ann", soft=1000)
    web.set_budget("cost_usd", actor="ann", soft=50.0)  # not crossed
    crossed = web.record_usage(key, actor="gen", tokens_in=1500, cost_usd=1.0)
    assert [(s.scope, s.subject, s.metric, s.level) for s in crossed] == [
        ("agent", "gen", "cost_usd", "warn"),
        ("board", "", "tokens", "warn"),
        ("task", key, "tokens", "warn"),
    ]
    assert web.record_usage(key, actor="gen", tokens_in=10) == []  # each crossing said once
    used = {(s.scope, s.metric): s.used for s in web.budget_status()}
    assert used == {
        ("agent", "cost_usd"): 1.0,
        ("board", "tokens"): 1510.0,
        ("board", "cost_usd"): 1.0,
        ("task", "tokens"): 1510.0,
    }
    warnings = [e for e in web.task_events(key) if e.kind == "budget"]
    assert len(warnings) == 3
