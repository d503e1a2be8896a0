"""Every write by a task's holder renews its lease: an agent that keeps working needs no
heartbeat. Late writes stay refused, other members' writes renew nothing, and a spent hard
budget renews nothing (like the heartbeat, which it refuses)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from agentdeck.core import Deck, LeaseExpiredError
from agentdeck.core.storage.tables import budget_t
from tests.conftest import LEASE_SECONDS, FakeClock
from tests.core.helpers import claim_key


def lease_of(deck: Deck, key: str) -> datetime:
    expires = deck.get_task(key).lease_expires_at
    assert expires is not None
    return expires


# Each holder write, as (name, call(deck, key)).
WRITES: list[tuple[str, Callable[[Deck, str], object]]] = [
    ("log", lambda d, k: d.log(k, "still at it", actor="gen")),
    ("doing on the task", lambda d, k: d.doing("gen", "Writing tests", key=k)),
    ("doing", lambda d, k: d.doing("gen", "Writing tests")),
    ("usage", lambda d, k: d.record_usage(k, actor="gen", tokens_in=10)),
    ("checkpoint", lambda d, k: d.checkpoint(k, actor="gen", repo=None, sha="ab" * 20)),
]


@pytest.mark.parametrize("write", [w for _, w in WRITES], ids=[n for n, _ in WRITES])
def test_a_holder_write_renews_the_lease_and_marks_the_agent_alive(
    web: Deck, clock: FakeClock, write: Callable[[Deck, str], object]
) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    first = lease_of(web, key)
    clock.advance(LEASE_SECONDS - 10)
    write(web, key)
    renewed = lease_of(web, key)
    beat = web.get_agent("gen").last_heartbeat
    assert renewed > first
    assert beat is not None and (renewed - beat).total_seconds() == LEASE_SECONDS
    clock.advance(LEASE_SECONDS - 10)  # past the first lease, within the renewed one
    assert web.expire_leases() == []
    assert web.get_task(key).status == "in_progress"


@pytest.mark.parametrize("write", [WRITES[0][1], WRITES[3][1]], ids=["log", "usage"])
def test_a_burst_of_writes_renews_once_a_second(
    web: Deck, clock: FakeClock, write: Callable[[Deck, str], object]
) -> None:
    """Writes less than a second apart renew the lease once: the lease stands within a
    second of where each write would put it. The first write a second later moves it again."""
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS / 2)  # within the lease (on PostgreSQL the server's clock runs on)
    write(web, key)
    renewed = lease_of(web, key)
    for _ in range(3):
        clock.advance(0.3)
        write(web, key)
        assert lease_of(web, key) == renewed
        assert web.get_agent("gen").last_heartbeat == renewed - timedelta(seconds=LEASE_SECONDS)
    clock.advance(0.1)  # 1.0 s after the renewal (and on PostgreSQL, the real time since)
    write(web, key)
    assert (lease_of(web, key) - renewed).total_seconds() == pytest.approx(1.0, abs=0.5)
    beat = web.get_agent("gen").last_heartbeat
    assert beat is not None and (lease_of(web, key) - beat).total_seconds() == LEASE_SECONDS


def test_a_holder_that_keeps_logging_is_never_expired(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    for step in range(8):  # eight leases long in all, never a heartbeat
        clock.advance(LEASE_SECONDS * 0.9)
        web.log(key, f"step {step}", actor="gen")
        assert web.claim("fe") is None and web.expire_leases() == []
    clock.advance(LEASE_SECONDS + 1)  # then it stops writing: the lease lapses as ever
    assert web.expire_leases() == [key]


def test_a_late_write_stays_refused_and_renews_nothing(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS + 1)
    with pytest.raises(LeaseExpiredError, match="expired"):
        web.log(key, "too late", actor="gen")
    task = web.get_task(key)
    assert (task.status, task.assignee) == ("pending", None)


def test_writes_by_others_renew_nothing(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    first = lease_of(web, key)
    clock.advance(10)
    web.log(key, "a human's note", actor="ann")
    web.record_usage(key, actor="sup", tokens_in=5)  # the lead may record usage on it
    web.record_usage(None, actor="gen", board="WEB", tokens_in=5)  # the holder, on the board
    assert lease_of(web, key) == first


def test_over_a_hard_budget_log_and_usage_stay_open_but_renew_nothing(
    web: Deck, clock: FakeClock
) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    web.set_budget("tokens", actor="ann", scope="agent", subject="gen", hard=1_000_000)
    # A stop moves the agent's tasks to Needs human in the crossing's own transaction; a write
    # racing it (PostgreSQL) can still find the task in progress with the budget spent.
    with web.engine.begin() as conn:
        conn.execute(budget_t.update().values(hard_hit=True))
    first = lease_of(web, key)
    clock.advance(10)
    web.log(key, "reporting what I did", actor="gen")
    web.record_usage(key, actor="gen", tokens_in=5)
    web.doing("gen", "wrapping up")
    assert lease_of(web, key) == first
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(budget_t.c.hard_hit)).scalar_one()
