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
from collections.abc import Callable
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
        self._held_fd: int | None = None
        self._handles = _Handles()
        # Close the descriptors and stop the waiter thread when this lock (its engine) goes.
        self._closer = weakref.finalize(self, self._handles.close)

    def _shared_fd(self) -> int | None:
        handles = self._handles
        if handles.fd is None:
            try:
                handles.fd = _open(self.path)
            except OSError:
                return None  # a read-only folder: fall back to SQLite's own locking
        return handles.fd

    def acquire(self, timeout: float, on_wait: Callable[[], None] | None = None) -> bool:
        """Take the lock within `timeout` seconds; False if it stayed held that long.
        `on_wait` is called once if the lock is not free at once, before waiting for it."""
        deadline = time.monotonic() + timeout
        if not self._local.acquire(blocking=False):
            if on_wait is not None:
                on_wait()
                on_wait = None
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
            if on_wait is not None:
                on_wait()
            waiter = self._handles.waiter
            if waiter is None:
                waiter = self._handles.waiter = _Waiter(self.path)
            if not waiter.take(deadline - time.monotonic()):
                self._local.release()
                return False
            self._held_fd = waiter.fd
            return True
        except BaseException:
            self._local.release()
            raise

    def release(self) -> None:
        fd, self._held_fd = self._held_fd, None
        try:
            if fd is not None and fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._local.release()

    def after_fork(self) -> None:
        """In a forked child: forget the parent's descriptors, waiter thread and lock state."""
        self._closer.detach()
        # Closing our copies never releases the parent's flock: it keeps its own descriptors.
        self._handles.close(forked=True)
        self._reset()


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


class _Handles:
    """The descriptors and waiter thread of one `WriterLock`, closed together."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self.waiter: _Waiter | None = None

    def close(self, forked: bool = False) -> None:
        if self.fd is not None:
            os.close(self.fd)
        if self.waiter is not None:
            self.waiter.stop(forked)
        self.fd, self.waiter = None, None


class _Request:
    __slots__ = ("abandoned", "granted")

    def __init__(self) -> None:
        self.granted = False
        self.abandoned = False


class _Waiter:
    """A long-lived thread that waits in a blocking `flock` on its own descriptor for whoever
    needs the lock, so the caller can give up at a deadline (a lock taken for a caller that
    gave up is let go at once). One thread per lock and process: starting a thread for each
    wait cost more CPU than the transactions it was waiting for."""

    def __init__(self, path: Path):
        self.fd = _open(path)
        self._cond = threading.Condition()
        self._pending: _Request | None = None
        self._stopped = False
        threading.Thread(target=self._serve, name="agentdeck-writer-lock", daemon=True).start()

    def stop(self, forked: bool = False) -> None:
        """End the thread, which then closes its descriptor (in a forked child there is no
        thread: close it here)."""
        if forked:
            os.close(self.fd)
            return
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def take(self, timeout: float) -> bool:
        """Hold the lock on `fd` within `timeout` seconds, or False."""
        request = _Request()
        with self._cond:
            self._pending = request
            self._cond.notify_all()
            if self._cond.wait_for(lambda: request.granted, max(0.0, timeout)):
                return True
            request.abandoned = True
            if self._pending is request:
                self._pending = None
            return False

    def _serve(self) -> None:
        assert fcntl is not None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._stopped)
                if self._stopped:
                    os.close(self.fd)
                    return
                request, self._pending = self._pending, None
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            with self._cond:
                if request is not None and not request.abandoned:
                    request.granted = True
                    self._cond.notify_all()
                    continue
            fcntl.flock(self.fd, fcntl.LOCK_UN)


_locks: weakref.WeakSet[WriterLock] = weakref.WeakSet()


def for_database(db_path: Path) -> WriterLock:
    lock = WriterLock(db_path)
    _locks.add(lock)
    return lock


def _after_fork_in_child() -> None:
    for lock in list(_locks):
        lock.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
