"""Another process holding a SQLite database's write lock: `python tests/lock_holder.py DB
[--as sqlite|agentdeck] [--seconds N]`.

`--as sqlite` (the default) is what the `sqlite3` shell does after `BEGIN IMMEDIATE`: it holds
SQLite's write lock and nothing else. `--as agentdeck` is an agentdeck writer in the middle of a
long transaction: it takes agentdeck's kernel writer lock (`agentdeck.core.storage.writer_lock`) first, then
`BEGIN IMMEDIATE`. The process prints `held` once the lock is held, lets go when a line arrives
on its stdin, stdin closes or `--seconds` pass, then prints `released` and exits.

Tests use `holding_write_lock(db)`, which starts the process, waits for `held`, and releases it on
leaving the block (or earlier with `.release()`).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WRITER_LOCK_SUFFIX = (
    "-writer.lock"  # agentdeck.core.storage.writer_lock.LOCK_SUFFIX; not imported, to start fast
)


def hold(db: str, kind: str, seconds: float | None) -> None:
    """Take the write lock, say so, and keep it until told (or `seconds` pass)."""
    if kind == "agentdeck":
        fd = os.open(f"{db}{WRITER_LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    print("held", flush=True)
    ready, _, _ = select.select([sys.stdin], [], [], seconds)
    if ready:
        sys.stdin.readline()
    conn.execute("ROLLBACK")
    conn.close()
    print("released", flush=True)


class LockHolder:
    """A running holder process; `release()` ends its transaction and waits for it to exit."""

    def __init__(self, db: str | Path, kind: str = "sqlite") -> None:
        self.db = str(db)
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, __file__, self.db, "--as", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _expect(self, word: str, timeout: float) -> None:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        said = self.proc.stdout.readline().strip() if ready else "(nothing)"
        if said != word:
            self.proc.kill()
            raise AssertionError(f"lock holder said {said!r}, expected {word!r}")

    def wait_held(self, timeout: float = 30.0) -> LockHolder:
        self._expect("held", timeout)
        return self

    def release(self, timeout: float = 30.0) -> None:
        """Let go of the lock; returns once the holder has rolled back and exited."""
        if self.proc.poll() is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.write("release\n")
        self.proc.stdin.flush()
        self._expect("released", timeout)
        self.proc.stdin.close()
        self.proc.wait(timeout)
        assert self.proc.stdout is not None
        self.proc.stdout.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@contextmanager
def holding_write_lock(db: str | Path, kind: str = "sqlite") -> Iterator[LockHolder]:
    """Another process holds the write lock of `db` inside the block."""
    holder = LockHolder(db, kind)
    try:
        yield holder.wait_held()
        holder.release()
    finally:
        holder.kill()


def blocked_flock_waiters(lock_file: Path) -> int:
    """How many processes wait in a blocking `flock` on `lock_file` right now (Linux
    `/proc/locks` lists waiters with `->`): how a test knows a writer is queued."""
    inode = lock_file.stat().st_ino
    count = 0
    for row in Path("/proc/locks").read_text().splitlines():
        fields = row.split()
        if "->" in fields and "FLOCK" in fields:
            device_inode = fields[fields.index("->") + 5]
            if device_inode.rsplit(":", 1)[-1] == str(inode):
                count += 1
    return count


def wait_until_queued(lock_file: Path, timeout: float = 30.0) -> None:
    """Wait until some process is blocked on the agentdeck writer lock, or fail at `timeout`."""
    deadline = time.monotonic() + timeout
    while blocked_flock_waiters(lock_file) == 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"no writer queued on {lock_file.name} within {timeout:g}s")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--as", dest="kind", choices=("sqlite", "agentdeck"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    hold(args.db, args.kind, args.seconds)


if __name__ == "__main__":
    main()
