"""Another process holds the database's write lock: a writing command waits up to its timeout
(`AGENTDECK_TIMEOUT`), then exits 5 with one line naming that timeout; reads are not held up;
a writer still waiting when the lock is let go goes through.

The holder is a real process (`tests/lock_holder.py`): either the `sqlite3` shell's way, SQLite's
own lock after `BEGIN IMMEDIATE`, or an agentdeck writer's, its kernel writer lock as well.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from agentdeck.core import DatabaseBusyError, Deck
from agentdeck.core.storage.writer_lock import LOCK_SUFFIX
from tests.cli.conftest import AGENTDECK, sqlite_only
from tests.lock_holder import holding_write_lock, wait_until_queued

HOLDERS = ["sqlite", "agentdeck"]
pytestmark = sqlite_only


def busy_line(timeout: str) -> str:
    return (
        f"agentdeck: error: the database stayed locked by another writer for over {timeout}s "
        "(raise AGENTDECK_TIMEOUT to wait longer)\n"
    )


@pytest.mark.parametrize("holder", HOLDERS)
def test_a_write_waits_its_timeout_then_exits_5_in_one_line(
    agentdeck, web: str, unchanged, holder: str
) -> None:
    check = unchanged()
    with holding_write_lock(web, holder):
        started = time.monotonic()
        ran = agentdeck("agent", "add", "late", "--as", "ann", env={"AGENTDECK_TIMEOUT": "1"})
        waited = time.monotonic() - started
    assert ran.returncode == 5, ran.stderr
    assert ran.stderr == busy_line("1")
    assert ran.stdout == ""
    assert waited >= 1, "gave up before its timeout"
    check()


@pytest.mark.parametrize("holder", HOLDERS)
def test_reads_are_not_held_up_by_a_writer(agentdeck, web: str, holder: str) -> None:
    with holding_write_lock(web, holder):
        ran = agentdeck("task", "show", "WEB-1", env={"AGENTDECK_TIMEOUT": "60"})
    assert ran.returncode == 0, ran.stderr
    assert "Build the API" in ran.stdout


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="sees lock waiters in /proc/locks")
def test_a_queued_write_goes_through_when_the_lock_is_let_go(web: str, deck: Deck) -> None:
    with holding_write_lock(web, "agentdeck") as holder:
        writer = subprocess.Popen(
            [str(AGENTDECK), "agent", "add", "late", "--as", "ann"],
            env={**os.environ, "AGENTDECK_TIMEOUT": "120"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until_queued(Path(f"{web}{LOCK_SUFFIX}"))
            assert writer.poll() is None
            holder.release()
            out, err = writer.communicate(timeout=120)
        finally:
            writer.kill()
            writer.wait()
    assert writer.returncode == 0, err
    assert "added agent late" in out
    assert "late" in [a.name for a in deck.list_agents("WEB")]


@pytest.mark.parametrize("holder", HOLDERS)
def test_the_busy_error_names_the_timeout_in_force(
    web: str, holder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deck opened with `timeout=` says that timeout, not `AGENTDECK_TIMEOUT`'s."""
    monkeypatch.setenv("AGENTDECK_TIMEOUT", "7")
    with (
        Deck.open(web, timeout=0.25) as deck,
        holding_write_lock(web, holder),
        pytest.raises(DatabaseBusyError) as raised,
    ):
        deck.add_agent("late", actor="ann")
    assert "for over 0.25s" in raised.value.message


@pytest.mark.parametrize("holder", HOLDERS)
def test_a_deck_reports_when_a_write_starts_and_stops_waiting(
    web: str, holder: str, tokens: dict[str, str]
) -> None:
    """What the console's busy line is built on: a wait is reported once it starts and again
    when it ends, here at the timeout; an uncontended write reports nothing."""
    seen: list[bool] = []
    with Deck.open(web, timeout=0.25) as deck:
        deck.present(tokens["ann"])
        deck.watch_write_waits(seen.append)
        deck.add_agent("early", actor="ann")
        assert seen == []
        with holding_write_lock(web, holder), pytest.raises(DatabaseBusyError):
            deck.add_agent("late", actor="ann")
        assert seen == [True, False]
        deck.watch_write_waits(None)
        with holding_write_lock(web, holder), pytest.raises(DatabaseBusyError):
            deck.add_agent("late", actor="ann")
        assert seen == [True, False]
        assert deck.add_agent("late", actor="ann").name == "late"
