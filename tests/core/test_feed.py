"""The change feed: a commit by another OS process wakes a waiter; timeouts, close, and WAL.

The feeds here are made with a fallback re-check of an hour, so a wait that ends before its
timeout was woken by the file watch (SQLite) or NOTIFY (PostgreSQL), never by the fallback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import sqlalchemy as sa

from agentdeck.core import Deck
from agentdeck.core.feed import ChangeFeed
from tests.conftest import sqlite_time

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0


def commit_elsewhere(deck: Deck, db_url: str, title: str) -> subprocess.Popen[str]:
    """Start another OS process that adds a task to WEB as ann (with her token)."""
    token = deck.issued_token("ann", "WEB")
    assert token is not None
    code = (
        "import os\n"
        "from agentdeck.core import Deck\n"
        "with Deck.open(os.environ['DB']) as deck:\n"
        "    deck.present(os.environ['TOKEN'])\n"
        f"    deck.add_task({title!r}, actor='ann', board='WEB')\n"
    )
    env = {**os.environ, "DB": db_url, "TOKEN": token, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, text=True)


def test_a_commit_by_another_process_wakes_the_wait(web: Deck, db_url: str) -> None:
    with ChangeFeed(web, fallback=HOUR) as feed:
        cursor = web.max_event_id()
        writer = commit_elsewhere(web, db_url, "Written elsewhere")
        newest = feed.wait(cursor, 120)
        assert writer.wait(60) == 0
    assert newest > cursor
    assert newest == web.max_event_id()
    assert [t.title for t in web.list_tasks("WEB")][-1] == "Written elsewhere"


def test_a_wait_returns_at_once_when_already_past_and_times_out_otherwise(web: Deck) -> None:
    with ChangeFeed(web, fallback=HOUR) as feed:
        newest = web.max_event_id()
        assert feed.wait(newest - 1, HOUR) == newest
        assert feed.wait(newest, 0.05) == newest  # nothing came: the newest id, not past it
        assert feed.wait(newest, 0) == newest
        web.add_task("Written here", actor="ann")
        assert feed.wait(newest, HOUR) == newest + 1


def test_close_from_another_thread_ends_a_wait(web: Deck) -> None:
    feed = ChangeFeed(web, fallback=HOUR)
    cursor = web.max_event_id()
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(feed.wait(cursor, HOUR)))
    waiter.start()
    feed.close()
    waiter.join(60)
    assert not waiter.is_alive()
    assert got == [cursor] and feed.closed
    assert feed.wait(cursor, HOUR) == cursor  # a closed feed never blocks
    feed.close()  # twice is fine


@sqlite_time
def test_waiting_holds_no_read_transaction_so_checkpoints_run(web: Deck) -> None:
    path = web.path
    assert path is not None
    with ChangeFeed(web, fallback=0.01) as feed:  # re-checking all the time
        cursor = web.max_event_id()
        waiter = threading.Thread(target=feed.wait, args=(cursor, HOUR))
        waiter.start()
        web.add_task("Fills the WAL", actor="ann")
        waiter.join(60)
        for _ in range(20):
            feed.wait(web.max_event_id(), 0.02)
            engine = sa.create_engine(f"sqlite:///{path}")
            with engine.connect() as conn:
                busy, _log, _moved = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            engine.dispose()
            assert busy == 0


def test_ctrl_c_closing_the_feed_while_its_own_thread_holds_the_lock_ends_the_wait(
    tmp_path: Path,
) -> None:
    """`claim --wait` closes the feed from its SIGINT handler, which runs on the main thread:
    if the signal lands while that thread is inside the feed (holding its lock in `wait` or
    `_learn`), closing must not wait on the lock the thread itself holds. Played in a child
    process (a deadlock there fails this test on the timeout instead of hanging the run): the
    handler fires exactly while the lock is held."""
    script = (
        "import os, signal, sys\n"
        "from agentdeck.core import Deck\n"
        "from agentdeck.core.feed import ChangeFeed\n"
        "deck = Deck.open(sys.argv[1], create=True)\n"
        "feed = ChangeFeed(deck)\n"
        "signal.signal(signal.SIGUSR1, lambda *_: feed.close())\n"
        "with feed._changed:\n"
        "    os.kill(os.getpid(), signal.SIGUSR1)  # the handler runs before the next line\n"
        "    assert feed.closed\n"
        "print(feed.wait(after=10**9, timeout=60) >= 0, feed.closed)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "feed.db")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "True True"), done.stderr
