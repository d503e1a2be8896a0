"""The part of `Deck` every verb stands on: the engine, the clock, and transactions."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from agentdeck.core.errors import NotFoundError, PermissionDeniedError, SchemaError, ValidationError
from agentdeck.core.storage import dialect
from agentdeck.core.storage.engine import (
    WRITE_OPTION,
    WaitWatcher,
    begin_sqlite,
    engine_timeout,
    make_engine,
    resolve_url,
    sqlite_path,
    translate_busy,
    watch_write_waits,
    writer_turn,
)
from agentdeck.core.storage.filesystems import database_warnings
from agentdeck.core.storage.schema import ensure_schema
from agentdeck.core.storage.sqlite_connections import Shelf
from agentdeck.core.storage.transaction import Tx
from agentdeck.core.storage.wal_checkpoint import WalGuard

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class DeckBase:
    """Owns the engine and hands out short transactions; verbs live in the mixins."""

    def __init__(self, engine: sa.Engine, *, clock: Clock | None = None, migrate: bool = True):
        self._engine = engine
        self._clock: Clock = clock or system_clock
        self._pg = engine.dialect.name == "postgresql"
        # Said once, by whoever opened the deck: SQLite on a filesystem where WAL is unsafe.
        self.warnings: tuple[str, ...] = database_warnings(sqlite_path(engine))
        self._timeout = engine_timeout(engine)  # what a busy error says it waited
        path = sqlite_path(engine)
        self._wal_guard = (
            WalGuard(path, self._timeout) if path and path.name != ":memory:" else None
        )
        # SQLite: connections stay open between transactions (see `agentdeck.core.storage.sqlite_connections`).
        self._shelf = (
            None
            if self._pg
            else Shelf(engine, lambda driver, write: begin_sqlite(engine, driver, write))
        )
        if migrate:
            with translate_busy(self._timeout):
                ensure_schema(engine)

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        clock: Clock | None = None,
        timeout: float | None = None,
    ):  # type: ignore[no-untyped-def]
        """Open the database at a path or URL (default: `AGENTDECK_DB`, then the nearest
        `.agentdeck/board.db`); `create=True` makes a new SQLite file if there is none."""
        try:
            url = resolve_url(target, create=create)
        except RuntimeError as exc:  # `~name` for a user with no home directory
            raise NotFoundError(f"cannot find the database: {exc}") from None
        try:
            engine = make_engine(url, timeout=timeout)
        except (sa.exc.ArgumentError, TypeError):  # a URL no driver takes, or `sqlite://`
            shown = re.sub(r"//([^/:@]*):[^/@]*@", r"//\1:***@", url)
            raise ValidationError(
                f"cannot use {shown[:100]!r} as a database; pass a file path or a "
                "postgresql+psycopg:// URL"
            ) from None
        try:
            return cls(engine, clock=clock)
        except sa.exc.DBAPIError as exc:  # a directory, a file that is not a database, no server
            engine.dispose()
            where = engine.url.render_as_string(hide_password=True)
            raise SchemaError(f"cannot open the database {where}: {exc.orig}") from None

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @property
    def url(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def path(self) -> Path | None:
        """The SQLite file behind this deck, or None on PostgreSQL."""
        return sqlite_path(self._engine)

    def close(self) -> None:
        if self._shelf is not None:
            self._shelf.close()
        self._engine.dispose()

    @property
    def timeout(self) -> float:
        """Seconds a call waits for another writer's lock before `DatabaseBusyError`."""
        return self._timeout

    def watch_write_waits(self, watcher: WaitWatcher | None) -> None:
        """Have `watcher(True)` called (from the writing thread) when a write starts waiting for
        another process's write lock, and `watcher(False)` when the wait ends; None stops it.
        SQLite only: the console uses it to say it is waiting instead of looking frozen."""
        watch_write_waits(self._engine, watcher)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        return self._clock()

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        """A write transaction (`BEGIN IMMEDIATE` on SQLite) that appends its events on commit."""
        with translate_busy(self._timeout), writer_turn(self._engine):
            if self._shelf is not None:
                guard = self._wal_guard
                after = guard.after_write if guard is not None else None
                with self._shelf.transaction(write=True, after=after) as conn:
                    tx = Tx(conn, self._clock())
                    yield tx
                    tx.flush_events()
                return
            with self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    tx = Tx(conn, self._clock())
                    yield tx
                    tx.flush_events()
                    dialect.notify(conn, tx.notify_boards)

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        """A read-only snapshot, closed as soon as the caller is done (WAL checkpoints can run)."""
        with translate_busy(self._timeout):
            if self._shelf is not None:
                with self._shelf.transaction(write=False) as conn:
                    yield Tx(conn, self._clock())
                return
            with self._engine.connect() as conn, conn.begin():
                yield Tx(conn, self._clock())

    @staticmethod
    def _require_human_or_lead(tx: Tx, b: Any, actor: str, doing: str) -> None:
        """Refuse `actor` unless it is a human on the board or the board's lead agent."""
        who = tx.agent(b["id"], actor, b["key"])
        if who["kind"] != "human" and b["lead"] != actor:
            raise PermissionDeniedError(
                f"only a human or the board's lead may {doing}; {actor} is neither"
            )

    @staticmethod
    def _require_human(tx: Tx, board_id: int, actor: str, doing: str, board_key: str = ""):  # type: ignore[no-untyped-def]
        """The human agent row for `actor`, or `PermissionDeniedError`."""
        row = tx.agent(board_id, actor, board_key)
        if row["kind"] != "human":
            raise PermissionDeniedError(
                f"only a human may {doing}; {actor} is an agent "
                "(humans are added with `agentdeck agent add NAME --human`)"
            )
        return row
