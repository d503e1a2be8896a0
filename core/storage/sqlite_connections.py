"""SQLite connections kept open between transactions, with transactions run on the driver.

A verb's transaction is short (an agent's log entry is one look-up and one insert), so what
surrounds it costs as much as the work: checking a connection out of SQLAlchemy's pool and
back in (with its reset), and SQLAlchemy's begin and commit bookkeeping, came to about 30 µs
of the 40 µs an empty write transaction took. The shelf keeps idle `sa.Connection`s open, and
begins and commits on the driver connection under them (SQLite's `BEGIN IMMEDIATE` for writes).
Statements still run through SQLAlchemy or `agentdeck.core.storage.prepared` on that same connection.

Any thread may take any idle connection (they are opened with `check_same_thread=False`); a
nested transaction simply takes another one. A connection inherited across `fork()` is never
used: the shelf belongs to the process that filled it. A connection whose commit or rollback
failed (an I/O error, a full disk) is closed rather than shelved.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# How a transaction starts on a driver connection: (driver connection, write?) -> None.
Begin = Callable[[sqlite3.Connection, bool], None]


class Shelf:
    """Idle connections of one engine, at most `keep` of them."""

    def __init__(self, engine: sa.Engine, begin: Begin, keep: int = 4):
        self._engine = engine
        self._begin = begin
        self._keep = keep
        self._idle: list[sa.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False

    @contextmanager
    def transaction(
        self, *, write: bool, after: Callable[[sa.Connection], None] | None = None
    ) -> Iterator[sa.Connection]:
        """A connection inside a transaction begun on the driver; committed when the block
        ends (then `after(conn)` runs, still before anyone else can take it), rolled back if it
        raises."""
        conn = self._take()
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        try:
            self._begin(driver, write)
        except BaseException:
            self._give_back(conn)
            raise
        try:
            yield conn
            _on_driver(driver, "COMMIT")
            if after is not None:
                after(conn)
        except BaseException:
            self._finish(conn, driver)
            raise
        self._finish(conn, driver)

    def close(self) -> None:
        """Close every idle connection; ones in use are closed when their transaction ends."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()

    def _take(self) -> sa.Connection:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._engine.connect()

    def _finish(self, conn: sa.Connection, driver: sqlite3.Connection) -> None:
        if driver.in_transaction:
            try:
                driver.rollback()
            except sqlite3.Error:
                conn.invalidate()  # unusable now: closed, and never shelved again
                conn.close()
                return
        if conn.in_transaction():
            # SQLAlchemy began its own bookkeeping transaction for a statement run through
            # it; the driver has already ended the real one, so this only resets that state.
            conn.rollback()
        self._give_back(conn)

    def _give_back(self, conn: sa.Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._keep and self._pid == os.getpid():
                self._idle.append(conn)
                return
        conn.close()


def _on_driver(driver: sqlite3.Connection, statement: str) -> None:
    """Run a transaction-control statement; driver errors wrapped as SQLAlchemy wraps them."""
    try:
        driver.execute(statement)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc
