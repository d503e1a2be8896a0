"""The `-wal` file stays small while readers keep it busy: the console open over writers working
the board (the soak of `wal_soak.py`, short), and readers that always overlap, which would
otherwise keep SQLite from ever starting the WAL over.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from multiprocessing.synchronize import Event
from pathlib import Path

from agentdeck.core import Deck
from agentdeck.core.storage.wal_checkpoint import TRUNCATE_AT_BYTES
from tests.concurrency import harness
from tests.hardening.wal_soak import LIMIT_BYTES, report, run_soak

MIB = 1024 * 1024
SOAK_SECONDS = 10


def test_the_wal_stays_under_64_mib_with_the_console_open_over_busy_writers(
    tmp_path: Path,
) -> None:
    result = run_soak(tmp_path, seconds=SOAK_SECONDS, writers=6)
    print(report(result))
    assert result.errors == []
    assert result.ops > 0
    assert result.console_refreshes > 0 and result.console_reads, "the console never read"
    assert 0 < result.wal_max < LIMIT_BYTES


def overlapping_readers(db: str, ready: Event, stop: Event) -> None:
    """Two connections taking turns so that one read transaction is always open: each
    begins before the other ends, as a console's refreshes do on a busy machine."""
    first, second = (sqlite3.connect(db, isolation_level=None) for _ in range(2))
    pause = harness.SPAWN.Event()  # never set: how long each read stays open
    first.execute("BEGIN")
    first.execute("SELECT count(*) FROM event").fetchone()
    ready.set()
    while not stop.is_set():
        second.execute("BEGIN")
        second.execute("SELECT max(id) FROM event").fetchone()
        first.execute("COMMIT")
        pause.wait(0.01)
        first.execute("BEGIN")
        first.execute("SELECT max(id) FROM event").fetchone()
        second.execute("COMMIT")
        pause.wait(0.01)
    first.execute("COMMIT")


def wal_size(db: Path) -> int:
    try:
        return os.stat(f"{db}-wal").st_size
    except FileNotFoundError:
        return 0


def test_a_wal_that_readers_never_let_start_over_is_truncated_at_the_mark(tmp_path: Path) -> None:
    """Without the checkpoint policy this WAL grows with every write (past 120 MiB here)."""
    db = tmp_path / "board.db"
    harness.make_board(db, agents=1, tasks=1)
    ready, stop = harness.SPAWN.Event(), harness.SPAWN.Event()
    readers = harness.SPAWN.Process(target=overlapping_readers, args=(str(db), ready, stop))
    readers.start()
    sizes: list[int] = []
    try:
        assert ready.wait(60), "the readers never started"
        with Deck.open(db) as deck:
            key = deck.claim(harness.agent_name(0)).task.key
            note = "x" * 16_000
            written = 0
            while written < 2 * TRUNCATE_AT_BYTES:
                deck.log(key, note, actor=harness.agent_name(0))
                written += len(note)
                sizes.append(wal_size(db))
    finally:
        stop.set()
        harness.join_all([readers], timeout=60)
    assert readers.exitcode == 0
    shrank = sum(1 for a, b in itertools.pairwise(sizes) if b < a)
    assert shrank >= 1, f"never truncated; WAL reached {max(sizes) / MIB:.1f} MiB"
    assert max(sizes) < TRUNCATE_AT_BYTES + MIB
