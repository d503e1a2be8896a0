"""The part of `Deck` every verb stands on: the database and its transactions."""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from agentdeck.core import permissions
from agentdeck.core.errors import NotFoundError, SchemaError, ValidationError
from agentdeck.core.storage.database import Clock, Database
from agentdeck.core.storage.engine import WaitWatcher, make_engine, resolve_url
from agentdeck.core.storage.transaction import Tx


class DeckBase:
    """Owns the database and hands out short transactions; verbs live in the mixins."""

    def __init__(self, engine: sa.Engine, *, clock: Clock | None = None, migrate: bool = True):
        self._db = Database(engine, clock=clock, migrate=migrate)
        self.warnings: tuple[str, ...] = self._db.warnings

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
        return self._db.engine

    @property
    def url(self) -> str:
        return self._db.url

    @property
    def path(self) -> Path | None:
        """The SQLite file behind this deck, or None on PostgreSQL."""
        return self._db.path

    def close(self) -> None:
        self._db.close()

    @property
    def timeout(self) -> float:
        """Seconds a call waits for another writer's lock before `DatabaseBusyError`."""
        return self._db.timeout

    def watch_write_waits(self, watcher: WaitWatcher | None) -> None:
        self._db.watch_write_waits(watcher)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        return self._db.now()

    def _write(self) -> AbstractContextManager[Tx]:
        return self._db.write()

    def _read(self) -> AbstractContextManager[Tx]:
        return self._db.read()

    _require_human_or_lead = staticmethod(permissions.require_human_or_lead)
    _require_human = staticmethod(permissions.require_human)
