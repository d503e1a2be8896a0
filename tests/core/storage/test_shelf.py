"""SQLite connections kept between transactions: reused, never shared while in use, never
carried across fork(), and left clean when a transaction fails."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.core.errors import NotFoundError


@pytest.fixture
def sqlite_deck(tmp_path: Path) -> Deck:
    deck = Deck.open(tmp_path / "board.db", create=True)
    deck.create_board("WEB", "Website", actor="hana")
    deck.add_agent("ada", actor="hana")
    deck.add_task("Build it", actor="hana")
    return deck


def driver_of(deck: Deck, *, write: bool) -> sqlite3.Connection:
    with deck._db.write() if write else deck._db.read() as tx:
        driver = tx.conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection) and driver.in_transaction
        return driver


def test_transactions_reuse_one_open_connection(sqlite_deck: Deck) -> None:
    first = driver_of(sqlite_deck, write=True)
    assert driver_of(sqlite_deck, write=False) is first
    assert driver_of(sqlite_deck, write=True) is first
    assert not first.in_transaction


def test_a_nested_transaction_takes_another_connection(sqlite_deck: Deck) -> None:
    with sqlite_deck._db.read() as outer:
        inner = driver_of(sqlite_deck, write=True)
        assert inner is not outer.conn.connection.driver_connection
    assert sqlite_deck.get_task("WEB-1").title == "Build it"


def test_a_failed_transaction_writes_nothing_and_leaves_the_connection_clean(
    sqlite_deck: Deck,
) -> None:
    before = sqlite_deck.max_event_id()
    with pytest.raises(NotFoundError):
        sqlite_deck.log("WEB-1", "from a stranger", actor="nobody")
    claim = sqlite_deck.claim("ada")
    assert claim is not None and sqlite_deck.max_event_id() == before + 1
    assert not driver_of(sqlite_deck, write=False).in_transaction


def test_a_statement_through_sqlalchemy_inside_joins_the_driver_transaction(
    sqlite_deck: Deck,
) -> None:
    """SQLAlchemy's own autobegin must not start a second transaction (SQLite would refuse)."""
    with sqlite_deck._db.write() as tx:
        tx.conn.exec_driver_sql("UPDATE task SET priority = 0")
        assert tx.conn.in_transaction()
    assert sqlite_deck.get_task("WEB-1").priority == 0
    with sqlite_deck._db.read() as tx:
        assert not tx.conn.in_transaction()  # SQLAlchemy's bookkeeping was reset in between
        assert tx.conn.exec_driver_sql("SELECT priority FROM task").scalar() == 0


def _write_in_child(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    deck = _inherited
    shelf = deck._db.shelf
    assert shelf is not None
    inherited = [c.connection.driver_connection for c in shelf._idle]  # kept alive to compare
    with deck._db.write() as tx:
        fresh = all(tx.conn.connection.driver_connection is not d for d in inherited)
    deck.log("WEB-1", f"from child {os.getpid()}", actor="hana")
    queue.put((len(inherited), fresh))


_inherited: Deck


def test_a_forked_child_never_uses_the_parents_connections(sqlite_deck: Deck) -> None:
    global _inherited
    _inherited = sqlite_deck
    parent_driver = driver_of(sqlite_deck, write=True)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_write_in_child, args=(queue,))
    child.start()
    inherited, fresh = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert inherited == 1 and fresh
    # The parent's own connection still works, and sees the child's entry.
    assert driver_of(sqlite_deck, write=True) is parent_driver
    texts = [e.text for e in sqlite_deck.task_events("WEB-1")]
    assert any(t.startswith("from child") for t in texts)
