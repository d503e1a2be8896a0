"""The writer lock in front of SQLite's: a writer held up by another process gets a clear error
at its timeout, carries on once the holder is done, and no descriptor outlives its deck."""

from __future__ import annotations

import gc
import os
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from agentdeck.core import DatabaseBusyError, Deck
from tests.concurrency import harness


def hold_write(db: str, holding: Event, release: Event) -> None:
    """Open a write transaction and keep it open until told to let go."""
    with Deck.open(db) as deck, deck._db.write():
        holding.set()
        release.wait(60)


def test_a_writer_held_up_by_another_process_times_out_then_resumes(tmp_path: Path) -> None:
    """While another process holds a write transaction, a write fails at its timeout with the
    one-line busy error (not a hang, not a traceback); once the holder commits it goes through."""
    db = tmp_path / "board.db"
    boss_token = harness.make_board(db, agents=1, tasks=1)
    holding, release = harness.SPAWN.Event(), harness.SPAWN.Event()
    holder = harness.SPAWN.Process(target=hold_write, args=(str(db), holding, release))
    holder.start()
    try:
        assert holding.wait(60), "the holder never started its transaction"
        with Deck.open(db, timeout=0.5) as deck:
            deck.present(boss_token)
            with pytest.raises(DatabaseBusyError, match=r"locked by another writer for over 0.5s"):
                deck.add_agent("late", actor=harness.HUMAN)
            release.set()
            holder.join(60)
            assert holder.exitcode == 0
            assert deck.add_agent("late", actor=harness.HUMAN).name == "late"
    finally:
        release.set()
        harness.join_all([holder], timeout=60)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_closed_decks_leave_no_descriptors_open(tmp_path: Path) -> None:
    """A process that opens and closes many decks (a test suite, a long-lived server) does not
    run out of file descriptors: the lock file's descriptor goes with its deck."""

    def open_descriptors() -> int:
        gc.collect()
        return len(os.listdir("/proc/self/fd"))

    def open_write_close(n: int) -> None:
        with Deck.open(tmp_path / f"b{n}.db", create=True) as deck:
            deck.create_board("B", "b", actor="ann")

    open_write_close(0)  # first-use imports and caches
    before = open_descriptors()
    for n in range(1, 60):
        open_write_close(n)
    assert open_descriptors() - before < 5
