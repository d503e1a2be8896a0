"""Whose clock a board runs on: on PostgreSQL the server's, so machines whose clocks are 20
minutes off share a board without taking each other's tasks; on SQLite, the one machine's.

The PostgreSQL cases open several decks on one database, each with a skewed machine clock (the
`clock` a deck would use on SQLite), and check every lease, stamp and event time against the
server's own `clock_timestamp()` read around the calls on a separate connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from agentdeck.core import Deck, InvalidTransitionError, LeaseExpiredError
from agentdeck.core.storage.database import Clock
from tests.backends import database_url
from tests.conftest import FakeClock, make_web_board
from tests.core.helpers import claim_key

LEASE = timedelta(minutes=15)  # the default lease
SKEW = timedelta(minutes=20)


def machine_clock(skew: timedelta) -> Clock:
    """The clock of a machine that is `skew` ahead of true time (behind when negative)."""
    return lambda: datetime.now(UTC) + skew


def server_time(deck: Deck) -> datetime:
    """The server's clock right now, read in SQL outside agentdeck's transactions."""
    with deck.engine.connect() as conn:
        at: datetime = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
    return at.astimezone(UTC)


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    """A fresh schema on the test PostgreSQL server (skipped without one)."""
    return database_url("postgres", tmp_path)


@pytest.fixture
def honest(pg_url: str) -> Iterator[Deck]:
    """A deck on a machine whose clock is right, with the WEB board on the default lease
    (agents act by name: the other machines' decks hold no tokens)."""
    with Deck.open(pg_url) as deck:
        make_web_board(deck, lease_seconds=int(LEASE.total_seconds()), agents="named")
        yield deck


@contextmanager
def machine(pg_url: str, skew: timedelta) -> Iterator[Deck]:
    """A deck on the same database from a machine whose clock is off by `skew`."""
    with Deck.open(pg_url, clock=machine_clock(skew)) as deck:
        yield deck


def test_a_machine_20_minutes_fast_cannot_take_a_task_claimed_a_moment_ago(
    honest: Deck, pg_url: str
) -> None:
    """By its own clock gen's lease ran out five minutes ago; by the server's it has 15 to go."""
    key = honest.add_task("Build the login form", actor="ann").key
    claim_key(honest, key, "gen")
    with machine(pg_url, SKEW) as fast:
        assert fast.expire_leases() == []
        assert fast.claim("fe") is None  # the only task is held, so nothing is ready
        with pytest.raises(InvalidTransitionError, match="it is in progress"):
            fast.claim("fe", key=key)
        with pytest.raises(LeaseExpiredError, match="held by gen, not fe"):
            fast.log(key, "mine now", actor="fe")
        assert not fast.get_task(key).lease_stale
    task = honest.get_task(key)
    assert (task.status, task.assignee) == ("in_progress", "gen")
    assert honest.complete(key, actor="gen", verified_by="pytest").task.status == "done"


def test_a_machine_20_minutes_slow_takes_a_lease_that_runs_15_minutes_by_the_server(
    honest: Deck, pg_url: str
) -> None:
    """By a right clock, a lease the slow machine stamped by its own would have run out five
    minutes before it was taken, and the next claim anywhere would sweep it."""
    key = honest.add_task("Build the login form", actor="ann").key
    with machine(pg_url, -SKEW) as slow:
        before = server_time(honest)
        claim_key(slow, key, "gen")
        after = server_time(honest)
        task = slow.get_task(key)
    assert task.started_at is not None and task.lease_expires_at is not None
    assert before <= task.started_at <= after
    assert before + LEASE <= task.lease_expires_at <= after + LEASE
    assert honest.expire_leases() == []
    assert honest.claim("fe") is None
    assert honest.get_task(key).assignee == "gen"


def test_a_lease_runs_out_by_the_server_clock_alone(honest: Deck, pg_url: str) -> None:
    """A machine a day ahead sweeps nothing; moving the server's time itself (the test-only
    offset) past the lease does, and not before."""
    key = honest.add_task("Build the login form", actor="ann").key
    claim_key(honest, key, "gen")
    with machine(pg_url, timedelta(days=1)) as tomorrow:
        assert tomorrow.expire_leases() == []
    almost = LEASE - timedelta(minutes=1)
    with Deck.open(pg_url, server_clock_offset_for_tests=lambda: almost) as early:
        assert early.expire_leases() == []
        assert not early.get_task(key).lease_stale
    past = LEASE + timedelta(seconds=1)
    with Deck.open(pg_url, server_clock_offset_for_tests=lambda: past) as later:
        assert later.get_task(key).lease_stale
        assert later.expire_leases() == [key]
    assert honest.get_task(key).assignee is None


@pytest.mark.parametrize("skew", [SKEW, -SKEW], ids=["fast", "slow"])
def test_every_time_a_skewed_machine_writes_is_the_server_s(
    honest: Deck, pg_url: str, skew: timedelta
) -> None:
    """Created, started, updated, completed, heartbeat and event times, and `Deck.now()`, all
    fall between two readings of the server's clock; one transaction has one time."""
    cursor = honest.max_event_id()
    with machine(pg_url, skew) as skewed:
        before = server_time(honest)
        key = skewed.add_task("Build the login form", actor="gen").key
        claim = skewed.claim("gen", key=key)
        skewed.log(key, "Wired the form", actor="gen")
        skewed.heartbeat("gen")
        done = skewed.complete(key, actor="gen", verified_by="pytest").task
        now = skewed.now()
        after = server_time(honest)
        beat = skewed.get_agent("gen").last_heartbeat
        events = skewed.events_since(cursor)
    assert claim is not None
    started = claim.task.started_at
    assert started is not None and claim.task.lease_expires_at == started + LEASE
    assert claim.task.updated_at == started  # the claim's one time
    assert [e.created_at for e in events if e.kind == "claimed"] == [started]
    times = [done.created_at, started, beat, done.updated_at, done.completed_at, now]
    times += [e.created_at for e in events]
    assert all(t is not None and before <= t <= after for t in times), (before, times, after)


def test_events_from_a_fast_and_a_slow_machine_keep_the_server_s_order(
    honest: Deck, pg_url: str
) -> None:
    """Writes taking turns from machines 40 minutes apart: event times follow event ids."""
    key = honest.add_task("Build the login form", actor="ann").key
    claim_key(honest, key, "gen")
    cursor = honest.max_event_id()
    with machine(pg_url, SKEW) as fast, machine(pg_url, -SKEW) as slow:
        before = server_time(honest)
        for n in range(6):
            (fast if n % 2 else slow).log(key, f"step {n}", actor="gen")
        after = server_time(honest)
    events = honest.events_since(cursor)
    assert [e.text for e in events] == [f"step {n}" for n in range(6)]
    times = [e.created_at for e in events]
    assert times == sorted(times) and before <= times[0] and times[-1] <= after


def test_sqlite_runs_on_this_machine_s_clock(tmp_path: Path) -> None:
    """A SQLite file is one machine's: every deck on it stamps and compares leases with its
    machine clock (`clock`), and the server offset, which only PostgreSQL has, changes nothing."""
    path = tmp_path / "board.db"
    clock = FakeClock()
    with Deck.open(path, create=True, clock=clock, server_clock_offset_for_tests=lambda: SKEW) as d:
        make_web_board(d, lease_seconds=int(LEASE.total_seconds()))
        key = d.add_task("Build the login form", actor="ann").key
        claim_key(d, key, "gen")
        assert d.now() == clock.now == d.get_task(key).started_at
    # The same file read with that machine's clock 20 minutes on: past the lease.
    with Deck.open(path, clock=lambda: clock.now + SKEW) as later:
        assert later.expire_leases() == [key]
