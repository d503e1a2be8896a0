"""A writer lock for SQLite: one write transaction at a time, waiters woken by the kernel.

SQLite's own busy handler polls: a writer that finds the database locked sleeps 1, 2, 5 ... then
100 ms between attempts, so under steady load from many processes an unlucky one keeps waking
into a locked database and times out while the others take turns (measured: 12 s stalls and
"database is locked" with 8 processes). Taking an advisory `flock` on a lock file beside the
database before `BEGIN IMMEDIATE` turns that into a blocking wait the kernel ends the moment
the holder is done; SQLite's busy timeout remains as a backstop for writers outside agentdeck.
A killed holder's lock is released by the kernel with its file descriptors.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = "-writer.lock"


class WriterLock:
    """Serialises the write transactions of every process (and thread) on one database."""

    def __init__(self, db_path: Path):
        self.path = Path(f"{db_path}{LOCK_SUFFIX}")
        self._reset()

    def _reset(self) -> None:
        self._local = threading.Lock()
        self._fd: int | None = None
        self._held_fd: int | None = None

    def _shared_fd(self) -> int | None:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                return None  # a read-only folder: fall back to SQLite's own locking
        return self._fd

    def acquire(self, timeout: float) -> bool:
        """Take the lock within `timeout` seconds; False if it stayed held that long."""
        deadline = time.monotonic() + timeout
        if not self._local.acquire(timeout=max(0.0, timeout)):
            return False
        try:
            fd = self._shared_fd()
            if fd is None or fcntl is None:
                self._held_fd = None
                return True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._held_fd = fd
                return True
            except BlockingIOError:
                pass
            held = _wait_blocking(self.path, deadline - time.monotonic())
            if held is None:
                self._local.release()
                return False
            self._held_fd = held
            return True
        except BaseException:
            self._local.release()
            raise

    def release(self) -> None:
        fd, self._held_fd = self._held_fd, None
        try:
            if fd is not None and fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                if fd != self._fd:
                    os.close(fd)
        finally:
            self._local.release()

    def after_fork(self) -> None:
        """In a forked child: forget the parent's descriptor and in-process lock state."""
        if self._fd is not None:
            # Closing our copy never releases the parent's flock: it keeps its own descriptor.
            os.close(self._fd)
        self._reset()


def _wait_blocking(path: Path, timeout: float) -> int | None:
    """A descriptor holding the lock, taken by a blocking `flock` in a helper thread so the
    caller can give up at its deadline; None on timeout (the helper then lets go on arrival)."""
    if timeout <= 0:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    got = threading.Event()
    gate = threading.Lock()
    abandoned = False

    def wait() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            return
        with gate:
            if abandoned:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                return
            got.set()

    threading.Thread(target=wait, name="agentdeck-writer-lock", daemon=True).start()
    got.wait(timeout)
    with gate:
        if got.is_set():
            return fd
        abandoned = True
    return None


_locks: weakref.WeakSet[WriterLock] = weakref.WeakSet()


def for_database(db_path: Path) -> WriterLock:
    lock = WriterLock(db_path)
    _locks.add(lock)
    return lock


def _after_fork_in_child() -> None:
    for lock in list(_locks):
        lock.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
