"""Where the database is and how connections to it behave.

SQLite is tuned for many writer processes: WAL, `synchronous=NORMAL`, a busy timeout, foreign
keys, and every write transaction begun with `BEGIN IMMEDIATE` so a reader never has to upgrade
to a writer mid-transaction (that upgrade fails with SQLITE_BUSY no timeout can fix).
Connections never cross `fork()`: a child process disposes the pool it inherited.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from agentdeck.core.errors import DatabaseBusyError, NotFoundError, StorageError
from agentdeck.core.storage.writer_lock import WriterLock
from agentdeck.core.storage.writer_lock import for_database as writer_lock_for

DB_DIRNAME = ".agentdeck"
DB_FILENAME = "board.db"
ENV_DB = "AGENTDECK_DB"
ENV_TIMEOUT = "AGENTDECK_TIMEOUT"
DEFAULT_TIMEOUT_S = 15.0
WRITE_OPTION = "agentdeck_write"

_engines: weakref.WeakSet[sa.Engine] = weakref.WeakSet()
_writer_locks: weakref.WeakKeyDictionary[sa.Engine, tuple[WriterLock, float]] = (
    weakref.WeakKeyDictionary()
)
_timeouts: weakref.WeakKeyDictionary[sa.Engine, float] = weakref.WeakKeyDictionary()
# Told True when a write transaction starts waiting for another writer, False when it stops.
WaitWatcher = Callable[[bool], None]
_wait_watchers: weakref.WeakKeyDictionary[sa.Engine, WaitWatcher] = weakref.WeakKeyDictionary()


def _dispose_after_fork() -> None:
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_dispose_after_fork)


def find_database(start: Path | None = None) -> Path | None:
    """The nearest `.agentdeck/board.db` in `start` or a parent, like git finds `.git`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DB_DIRNAME / DB_FILENAME
        if candidate.is_file():
            return candidate
    return None


def resolve_url(target: str | os.PathLike[str] | None, *, create: bool = False) -> str:
    """A SQLAlchemy URL from a path, a URL, `AGENTDECK_DB`, or the nearest board database."""
    raw = os.fspath(target) if target is not None else os.environ.get(ENV_DB) or None
    if raw and "://" in raw:
        return raw
    if raw:
        path = Path(raw).expanduser()
    else:
        found = find_database()
        if found is not None:
            path = found
        elif create:
            path = Path.cwd() / DB_DIRNAME / DB_FILENAME
        else:
            raise NotFoundError(
                f"no agentdeck database in {Path.cwd()} or its parents; create one with "
                "`agentdeck board create`, or pass --db / set AGENTDECK_DB"
            )
    if not path.exists() and not create:
        raise NotFoundError(f"no agentdeck database at {path}; pass --db with an existing file")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


def timeout_seconds() -> float:
    raw = os.environ.get(ENV_TIMEOUT)
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S


def make_engine(url: str, *, timeout: float | None = None) -> sa.Engine:
    """An engine configured for agentdeck's concurrency rules on SQLite or PostgreSQL."""
    timeout = timeout_seconds() if timeout is None else timeout
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": timeout, "isolation_level": None, "check_same_thread": False},
            pool_size=4,
            max_overflow=8,
        )
        _tune_sqlite(engine, timeout)
        database = engine.url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _writer_locks[engine] = (writer_lock_for(Path(database)), timeout)
    else:
        # Keep any server options the URL carries (e.g. a search_path) and add the lock timeout.
        options = sa.engine.make_url(url).query.get("options", "")
        options = options if isinstance(options, str) else " ".join(options)
        engine = sa.create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": f"{options} -c lock_timeout={int(timeout * 1000)}".strip()},
        )
    _engines.add(engine)
    _timeouts[engine] = timeout
    return engine


def engine_timeout(engine: sa.Engine) -> float:
    """The lock timeout, in seconds, this engine's connections were made with."""
    return _timeouts.get(engine, timeout_seconds())


def watch_write_waits(engine: sa.Engine, watcher: WaitWatcher | None) -> None:
    """Have `watcher(True)` called, from the writing thread, when a write transaction on this
    SQLite engine starts waiting for another writer (agentdeck's writer lock or SQLite's own
    write lock), and `watcher(False)` when that wait ends, with the lock or at the timeout; None
    stops it. A console uses this to say it is waiting. Not reported on PostgreSQL."""
    if watcher is None:
        _wait_watchers.pop(engine, None)
    else:
        _wait_watchers[engine] = watcher


def _tune_sqlite(engine: sa.Engine, timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        # Keep the WAL file from growing without bound after a large checkpoint.
        cur.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        driver = conn.connection.driver_connection
        if driver.in_transaction:  # type: ignore[union-attr]
            return  # begun on the driver already (see `agentdeck.core.storage.sqlite_connections`)
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        begin_sqlite(engine, driver, write)  # type: ignore[arg-type]


def begin_sqlite(engine: sa.Engine, driver: sqlite3.Connection, write: bool) -> None:
    """`BEGIN IMMEDIATE` (a write) or `BEGIN` on a SQLite driver connection.

    Straight to the driver: every transaction runs this, and SQLAlchemy's statement machinery
    costs several times the BEGIN itself. Errors are wrapped as SQLAlchemy would, so
    `translate_busy` still recognises a lock timeout.
    """
    statement = "BEGIN IMMEDIATE" if write else "BEGIN"
    try:
        watcher = _wait_watchers.get(engine) if write else None
        if watcher is None:
            driver.execute(statement)
        else:
            _begin_watched(driver, int(engine_timeout(engine) * 1000), watcher)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


def _begin_watched(driver: Any, busy_ms: int, watcher: WaitWatcher) -> None:
    """`BEGIN IMMEDIATE`, telling `watcher` when it has to wait for a writer outside
    agentdeck (the `sqlite3` shell, say): SQLite's busy handler waits without a sign, so the
    first try is made without it."""
    driver.execute("PRAGMA busy_timeout=0")
    try:
        driver.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as exc:
        if not _is_lock_error(str(exc)):
            raise
    finally:
        driver.execute(f"PRAGMA busy_timeout={busy_ms}")
    watcher(True)
    try:
        driver.execute("BEGIN IMMEDIATE")
    finally:
        watcher(False)


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: sa.Engine) -> Path | None:
    """The database file of a SQLite engine, or None for other backends."""
    if not is_sqlite(engine) or not engine.url.database:
        return None
    return Path(engine.url.database)


@contextmanager
def writer_turn(engine: sa.Engine) -> Iterator[None]:
    """Wait for the writer lock of a SQLite file (see `agentdeck.core.storage.writer_lock`) for up to the
    engine's timeout; a clear `DatabaseBusyError` if the turn never comes."""
    entry = _writer_locks.get(engine)
    if entry is None:
        yield
        return
    lock, timeout = entry
    watcher = _wait_watchers.get(engine)
    if not (lock.acquire(timeout) if watcher is None else _acquire_watched(lock, timeout, watcher)):
        raise DatabaseBusyError(_busy_message(timeout))
    try:
        yield
    finally:
        lock.release()


def _acquire_watched(lock: WriterLock, timeout: float, watcher: WaitWatcher) -> bool:
    """`lock.acquire(timeout)`, with `watcher` told when a wait starts and ends."""
    waited = False

    def waiting() -> None:
        nonlocal waited
        waited = True
        watcher(True)

    try:
        return lock.acquire(timeout, on_wait=waiting)
    finally:
        if waited:
            watcher(False)


def _busy_message(timeout: float) -> str:
    return (
        f"the database stayed locked by another writer for over {timeout:g}s "
        f"(raise {ENV_TIMEOUT} to wait longer)"
    )


@contextmanager
def translate_busy(timeout: float | None = None) -> Iterator[None]:
    """Turn a lock timeout from either backend into one clear `DatabaseBusyError`, and a full
    disk or a failed write into one clear `StorageError`."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        text = str(exc.orig).lower()
        if _is_lock_error(text):
            wait = timeout_seconds() if timeout is None else timeout
            raise DatabaseBusyError(_busy_message(wait)) from exc
        unusable = storage_error(exc.orig)
        if unusable is not None:
            raise unusable from exc
        raise


def _is_lock_error(text: str) -> bool:
    """Whether a driver message means a lock wait ran out (SQLite or PostgreSQL)."""
    text = text.lower()
    return "locked" in text or "busy" in text or "lock timeout" in text


# SQLite's primary result codes (the low byte of an extended code like SQLITE_IOERR_WRITE),
# and PostgreSQL's SQLSTATE for a full disk.
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"
_RETRY = "nothing was saved; free some space and run it again"


def storage_error(orig: BaseException | None) -> StorageError | None:
    """A clear `StorageError` for a driver error that means the database file could not be
    written or read, or None for any other error.

    SQLite says SQLITE_FULL when the disk is out of space (ENOSPC), but SQLITE_IOERR_WRITE
    when a write fails otherwise, which is what a file-size limit (`ulimit -f`, EFBIG) or a
    quota gives; both leave the file intact and the transaction rolled back.
    """
    if getattr(orig, "sqlite_errorcode", None) is None:
        if getattr(orig, "sqlstate", None) == _PG_DISK_FULL:
            return StorageError(f"the database server's disk is full (SQLSTATE 53100); {_RETRY}")
        return None
    code: int = orig.sqlite_errorcode  # type: ignore[union-attr]
    name = getattr(orig, "sqlite_errorname", "") or f"SQLite error {code}"
    if code & 0xFF == _SQLITE_FULL:
        return StorageError(f"the disk holding the database is full ({name}); {_RETRY}")
    if code & 0xFF != _SQLITE_IOERR:
        return None
    if "READ" in name:
        return StorageError(f"could not read the database file ({name}); the disk may be failing")
    return StorageError(
        f"could not write the database file ({name}): the disk may be full, or the file over "
        f"a size limit (ulimit -f) or quota; {_RETRY}"
    )
