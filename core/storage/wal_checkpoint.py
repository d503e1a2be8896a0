"""The WAL checkpoint policy: keep a SQLite database's `-wal` file small while readers come and go.

SQLite checkpoints by itself (PASSIVE, once the WAL holds 1000 pages) and starts the WAL over
from its beginning when a checkpoint has copied every frame back and no reader still needs
them. A checkpoint cannot copy past the snapshot of the oldest open reader, though, and a
console refreshing several times a second on a busy, shared machine keeps some read open much
of the time: the WAL then rarely gets to start over and grows with every write (measured: 58 MiB
in one minute with 8 writers).

So after each write, a file past `TRUNCATE_AT_BYTES` gets a TRUNCATE checkpoint from the writer,
which still holds agentdeck's writer lock (no other write can start meanwhile): it waits up to
`WAIT_S` for readers of older snapshots to finish, copies every frame back and cuts the file to
nothing. If a reader outlasts the wait (a long export), the next try comes only once the WAL has
grown by another `TRUNCATE_AT_BYTES`, so a long read never stalls every write. The write itself
has committed by then: nothing here raises. `journal_size_limit` still caps the file at 64 MiB.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

TRUNCATE_AT_BYTES = 16 * 1024 * 1024
WAIT_S = 2.0


class WalGuard:
    """The policy for one deck's SQLite file; `after_write` runs after each committed write."""

    def __init__(self, db_path: Path, timeout: float) -> None:
        self.wal = f"{db_path}-wal"
        self.busy_ms = int(timeout * 1000)
        self.wait_ms = int(min(WAIT_S, timeout) * 1000)
        self.next_at = TRUNCATE_AT_BYTES
        self.truncated = 0  # checkpoints that emptied the WAL (for tests and figures)

    def after_write(self, conn: sa.Connection) -> None:
        """Checkpoint and truncate the WAL if it has grown past the mark; never raises."""
        try:
            size = os.stat(self.wal).st_size
        except OSError:
            return
        if size < self.next_at:
            return
        driver: Any = conn.connection.driver_connection
        try:
            driver.execute(f"PRAGMA busy_timeout={self.wait_ms}")
            try:
                row = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                driver.execute(f"PRAGMA busy_timeout={self.busy_ms}")
            done = row is not None and row[0] == 0
        except sqlite3.Error:
            done = False  # e.g. the disk is full: the write stands; try again later
        if done:
            self.truncated += 1
            self.next_at = TRUNCATE_AT_BYTES
        else:
            self.next_at = size + TRUNCATE_AT_BYTES
