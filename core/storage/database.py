"""The database every verb stands on: the engine, the clock, and short transactions.

`Database.write()` and `Database.read()` hand out a `Tx`; the domain functions take that `Tx`
and `Deck` composes them. Built from an engine and a clock (`Deck.open` makes the engine).

Whose clock a transaction's time comes from depends on who can be trusted with it. SQLite is
one file on one machine, so its time is that machine's clock. A PostgreSQL board is shared by
many machines whose clocks disagree (one 20 minutes fast would see every other agent's lease as
lapsed and take its task), so there every time a verb stamps or compares, lease deadlines
included, is the server's `now()`, and a client's clock is never read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from agentdeck.core.credentials import Keyring
from agentdeck.core.storage import dialect
from agentdeck.core.storage.engine import (
    WRITE_OPTION,
    WaitWatcher,
    begin_sqlite,
    engine_timeout,
    sqlite_path,
    translate_busy,
    watch_write_waits,
    writer_turn,
)
from agentdeck.core.storage.filesystems import database_warnings
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.schema import ensure_schema
from agentdeck.core.storage.sqlite_connections import Shelf
from agentdeck.core.storage.transaction import Tx
from agentdeck.core.storage.wal_checkpoint import WalGuard

Clock = Callable[[], datetime]
# How far a test moves the server's time (PostgreSQL), asked afresh by each transaction.
Offset = Callable[[], timedelta]

# `now()` is the time the transaction began on the server and stays the same for all of it, so
# reading it lazily (only transactions that need a time pay the round trip) still gives each
# transaction one time, the one any SQL `now()` in it would see. `statement_timestamp()` would
# depend on when the first verb asked; `clock_timestamp()` moves while a statement waits.
_SERVER_NOW = Prepared(sa.text("SELECT now()"))


@dataclass
class Batch:
    """The one write transaction of a `Database.batch`, and whether a write in it failed."""

    conn: sa.Connection
    savepoints: bool
    failed: bool = False


def system_clock() -> datetime:
    return datetime.now(UTC)


class Database:
    """Owns the engine and hands out short transactions, each a `Tx` read at one clock time:
    the server's on PostgreSQL, `clock` (this machine's) on SQLite."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock | None = None,
        server_clock_offset_for_tests: Offset | None = None,
        migrate: bool = True,
    ):
        """`clock` is the machine clock, used on SQLite only (tests pass one that stands still).
        `server_clock_offset_for_tests` is added to the server's time on PostgreSQL, so a test can
        move a shared board's time forward without any client clock being trusted; never set
        outside tests."""
        self._engine = engine
        self._machine_clock: Clock = clock or system_clock
        self._server_offset = server_clock_offset_for_tests
        self._server_clock = engine.dialect.name == "postgresql"
        # The credentials every transaction of this database presents (`core.credentials`).
        self.keyring = Keyring()
        path = sqlite_path(engine)
        # Said once, by whoever opened the deck: SQLite on a filesystem where WAL is unsafe.
        self.warnings: tuple[str, ...] = database_warnings(path)
        self._timeout = engine_timeout(engine)  # what a busy error says it waited
        self._wal_guard = (
            WalGuard(path, self._timeout) if path and path.name != ":memory:" else None
        )
        # SQLite: connections stay open between transactions (see `agentdeck.core.storage.sqlite_connections`).
        self._shelf = (
            None
            if engine.dialect.name == "postgresql"
            else Shelf(engine, lambda driver, write: begin_sqlite(engine, driver, write))
        )
        if migrate:
            with translate_busy(self._timeout):
                ensure_schema(engine)
        # Inside `batch()`: the one write transaction every transaction runs in.
        self._batch: Batch | None = None
        self._depth = 0

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @property
    def url(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def path(self) -> Path | None:
        """The SQLite file behind this database, or None on PostgreSQL."""
        return sqlite_path(self._engine)

    @property
    def shelf(self) -> Shelf | None:
        """SQLite's connections kept open between transactions; None on PostgreSQL."""
        return self._shelf

    @property
    def timeout(self) -> float:
        """Seconds a call waits for another writer's lock before `DatabaseBusyError`."""
        return self._timeout

    def now(self) -> datetime:
        """The time a verb would stamp now: the server's on PostgreSQL (one round trip), the
        machine clock on SQLite."""
        if not self._server_clock:
            return self._machine_clock()
        with self.read() as tx:
            return tx.now

    def _time(self, conn: sa.Connection) -> datetime:
        """One transaction's time, read on the first `tx.now` (see `_SERVER_NOW`)."""
        if not self._server_clock:
            return self._machine_clock()
        server: datetime = _SERVER_NOW.scalar(conn)
        at = server.astimezone(UTC)
        return at + self._server_offset() if self._server_offset is not None else at

    def close(self) -> None:
        if self._shelf is not None:
            self._shelf.close()
        self._engine.dispose()

    def watch_write_waits(self, watcher: WaitWatcher | None) -> None:
        """Have `watcher(True)` called (from the writing thread) when a write starts waiting for
        another process's write lock, and `watcher(False)` when the wait ends; None stops it.
        SQLite only: the console uses it to say it is waiting instead of looking frozen."""
        watch_write_waits(self._engine, watcher)

    def write(self) -> AbstractContextManager[Tx]:
        """A write transaction (`BEGIN IMMEDIATE` on SQLite) that appends its events on commit;
        inside a `batch`, one transaction of it."""
        if self._batch is not None:
            return self._in_batch(self._batch, write=True)
        return self._write()

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        with translate_busy(self._timeout), writer_turn(self._engine):
            if self._shelf is not None:
                guard = self._wal_guard
                after = guard.after_write if guard is not None else None
                with self._shelf.transaction(write=True, after=after) as conn:
                    tx = Tx(conn, self._time, self.keyring)
                    yield tx
                    tx.flush_events()
                return
            with self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    tx = Tx(conn, self._time, self.keyring)
                    yield tx
                    tx.flush_events()
                    dialect.notify(conn, tx.notify_boards)

    @contextmanager
    def batch(self, *, savepoints: bool = True) -> Iterator[Batch]:
        """Group commit (SQLite): until the block ends, every `write()` and `read()` of this
        database runs inside one write transaction, committed when the block ends. Used by
        the resident writer (`agentdeck.core.storage.resident_writer`), one thread only.

        With `savepoints`, each write is a savepoint: one that raises rolls back alone, so one
        verb's failure leaves the others' writes in place, exactly as separate transactions
        would. Without, writes run bare (two statements fewer each) and a write that raises
        only marks the batch `failed`: its partial changes stay, so the caller must then let
        the block raise, which rolls the whole batch back, and run it again with savepoints."""
        if self._shelf is None:
            raise RuntimeError("group commit is for SQLite files")
        if self._batch is not None:
            raise RuntimeError("batches do not nest")
        with translate_busy(self._timeout), writer_turn(self._engine):
            guard = self._wal_guard
            after = guard.after_write if guard is not None else None
            with self._shelf.transaction(write=True, after=after) as conn:
                self._batch = Batch(conn, savepoints)
                try:
                    yield self._batch
                finally:
                    self._batch = None

    @contextmanager
    def _in_batch(self, batch: Batch, *, write: bool) -> Iterator[Tx]:
        """One transaction of a batch (see `batch`): a savepoint, released on success (its
        events appended first) and rolled back to on failure, or, in a batch without
        savepoints, bare. Reads never write, so they need neither. Nested ones nest."""
        driver = batch.conn.connection.driver_connection if write and batch.savepoints else None
        name = f"tx{self._depth}"
        self._depth += 1
        try:
            if driver is not None:
                driver.execute(f"SAVEPOINT {name}")
            try:
                tx = Tx(batch.conn, self._time, self.keyring)
                yield tx
                tx.flush_events()
            except BaseException:
                if driver is not None:
                    driver.execute(f"ROLLBACK TO {name}")
                    driver.execute(f"RELEASE {name}")
                else:
                    batch.failed = batch.failed or write
                raise
            if driver is not None:
                driver.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    def read(self) -> AbstractContextManager[Tx]:
        """A read-only snapshot, closed as soon as the caller is done (WAL checkpoints can run);
        inside a `batch`, one that sees what the batch has written so far."""
        if self._batch is not None:
            return self._in_batch(self._batch, write=False)
        return self._read()

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        with translate_busy(self._timeout):
            if self._shelf is not None:
                with self._shelf.transaction(write=False) as conn:
                    yield Tx(conn, self._time, self.keyring)
                return
            with self._engine.connect() as conn, conn.begin():
                yield Tx(conn, self._time, self.keyring)
