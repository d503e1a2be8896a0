"""Claiming the next ready task, and leases: renewal, expiry, and late updates refused."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck, InvalidTransitionError, LeaseExpiredError, NotFoundError
from tests.conftest import LEASE_SECONDS, FakeClock, sqlite_time
from tests.core.helpers import Refused, claim_key, events_after, kinds, task_in


def test_claim_moves_task_in_progress_with_a_lease(web: Deck) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    cursor = web.max_event_id()
    before = web.now()
    claim = web.claim("gen")
    assert claim is not None
    task = claim.task
    assert (task.key, task.status, task.column, task.assignee) == (
        key,
        "in_progress",
        "in_progress",
        "gen",
    )
    assert task.version == 2
    assert task.started_at is not None and before <= task.started_at <= web.now()
    assert task.lease_expires_at is not None
    assert (task.lease_expires_at - task.started_at).total_seconds() == LEASE_SECONDS
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.actor, event.task) == (
        "claimed",
        "in_progress",
        "gen",
        key,
    )
    assert event.data["from"] == "pending" and event.data["to"] == "in_progress"
    agent = web.get_agent("gen")
    assert (agent.current_task, agent.state) == (key, "working")


def test_claim_with_nothing_ready_returns_none_and_writes_nothing(web: Deck) -> None:
    web.add_task("Needs python", actor="ann", skills=["python"])
    cursor = web.max_event_id()
    assert web.claim("fe") is None
    assert web.max_event_id() == cursor


def test_two_claims_never_get_the_same_task(web: Deck) -> None:
    web.add_task("Only one", actor="ann")
    assert web.claim("gen") is not None
    assert web.claim("fe") is None


def test_claim_prefers_assigned_then_priority_then_age(web: Deck) -> None:
    old_p2 = web.add_task("Old P2", actor="ann", priority=2).key
    new_p1 = web.add_task("New P1", actor="ann", priority=1).key
    older_p1_other = web.add_task("For fe", actor="ann", priority=0, assignee="fe").key
    mine_p4 = web.add_task("Mine but P4", actor="ann", priority=4, assignee="gen").key
    newer_p1 = web.add_task("Newer P1", actor="ann", priority=1).key
    order = []
    while (claim := web.claim("gen")) is not None:
        order.append(claim.task.key)
    assert order == [mine_p4, new_p1, newer_p1, old_p2]
    assert web.get_task(older_p1_other).status == "pending"  # assigned to someone else


def test_claim_filters_by_skills(web: Deck) -> None:
    python = web.add_task("Python job", actor="ann", skills=["python"], priority=0).key
    both = web.add_task("Full stack", actor="ann", skills=["python", "frontend"], priority=0).key
    anyone = web.add_task("Anyone", actor="ann", priority=4).key
    ui = web.add_task("UI job", actor="ann", skills=["frontend"], priority=1).key
    assert [t.key for t in web.ready(agent="fe")] == [ui, anyone]
    assert [t.key for t in web.ready(agent="be")] == [python, anyone]
    assert [t.key for t in web.ready(agent="gen")] == [anyone]
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == ui
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == anyone
    assert web.claim("fe") is None
    assert web.claim("gen") is None
    claim = web.claim("be")
    assert claim is not None and claim.task.key == python
    assert web.claim("be") is None
    assert web.get_task(both).status == "pending"


def test_assigned_task_is_claimed_even_without_the_skills(web: Deck) -> None:
    key = web.add_task("Python job", actor="ann", skills=["python"], assignee="fe").key
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == key


def test_blocked_task_is_not_claimed(web: Deck, refused: Refused) -> None:
    blocker = web.add_task("First", actor="ann", skills=["python"]).key
    blocked = web.add_task("Second", actor="ann", blocked_by=[blocker]).key
    assert web.claim("gen") is None
    with refused(InvalidTransitionError, f"cannot claim {blocked}", "waits on unfinished"):
        web.claim("gen", key=blocked)


def test_claim_by_key(web: Deck, refused: Refused) -> None:
    web.add_task("Urgent", actor="ann", priority=0)
    later = web.add_task("Later", actor="ann", priority=4).key
    theirs = web.add_task("Theirs", actor="ann", assignee="be").key
    claim = web.claim("gen", key=later)
    assert claim is not None and claim.task.key == later
    with refused(InvalidTransitionError, f"cannot claim {later}", "it is in progress"):
        web.claim("fe", key=later)
    with refused(InvalidTransitionError, f"cannot claim {theirs}", "assigned to someone else"):
        web.claim("gen", key=theirs)
    with refused(NotFoundError, "WEB-99"):
        web.claim("gen", key="WEB-99")


def test_claim_by_unknown_agent_refused(web: Deck, refused: Refused) -> None:
    web.add_task("Anything", actor="ann")
    with refused(NotFoundError, "ghost", "WEB"):
        web.claim("ghost")


def test_claim_returns_unread_inbox_and_marks_it_read(web: Deck) -> None:
    key = web.add_task("Build the login form", actor="ann", assignee="gen").key
    claim = web.claim("gen")
    assert claim is not None
    assert [(m.kind, m.task, m.sender) for m in claim.inbox] == [("assignment", key, "ann")]
    assert web.inbox("gen") == []
    web.add_task("Another", actor="ann")
    claim = web.claim("gen")
    assert claim is not None and claim.inbox == ()


def test_claim_returns_three_most_similar_finished_tasks(web: Deck) -> None:
    for title in (
        "Login form for admins",
        "Login form for guests",
        "Login form for partners",
        "Login form for staff",
        "Export the invoices to CSV",
    ):
        task_in(web, "done", title)
    web.add_task("Login form for customers", actor="ann")
    claim = web.claim("gen")
    assert claim is not None and claim.task.title == "Login form for customers"
    assert len(claim.similar) == 3
    assert all(hit.title.startswith("Login form") for hit in claim.similar)
    assert claim.task.key not in {hit.key for hit in claim.similar}


def test_claim_similar_empty_without_history(web: Deck) -> None:
    web.add_task("Build the login form", actor="ann")
    claim = web.claim("gen")
    assert claim is not None and claim.similar == ()


# -- leases ----------------------------------------------------------------------------------


def test_expired_lease_is_swept_by_the_next_claim(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    version = web.get_task(key).version
    clock.advance(LEASE_SECONDS + 1)
    assert web.get_task(key).lease_stale
    cursor = web.max_event_id()
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == key
    assert claim.task.assignee == "fe" and claim.task.version == version + 2
    events = events_after(web, cursor)
    assert kinds(events) == [("lease_expired", "pending"), ("claimed", "in_progress")]
    expired = events[0]
    assert expired.task == key and expired.actor == "agentdeck"
    assert expired.data["holder"] == "gen" and "gen" in expired.text
    assert web.get_agent("gen").current_task is None


def test_sweep_returns_task_to_the_queue_unassigned(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS + 1)
    assert web.expire_leases() == [key]
    task = web.get_task(key)
    assert (task.status, task.column, task.assignee, task.lease_expires_at) == (
        "pending",
        "ready",
        None,
        None,
    )
    assert web.expire_leases() == []


@sqlite_time
def test_lease_not_expired_at_the_deadline(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS)
    assert web.expire_leases() == []
    web.log(key, "still here", actor="gen")


def test_late_log_and_complete_from_old_holder_refused(
    web: Deck, clock: FakeClock, refused: Refused
) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS + 1)
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == key
    with refused(LeaseExpiredError, f"cannot log on {key}", "held by fe, not gen"):
        web.log(key, "I am back", actor="gen")
    with refused(LeaseExpiredError, f"cannot complete {key}", "held by fe, not gen"):
        web.complete(key, actor="gen", verified_by="pytest")
    web.log(key, "carrying on", actor="fe")


def test_late_update_before_any_sweep_is_refused_and_sweeps(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS + 1)
    cursor = web.max_event_id()
    with pytest.raises(LeaseExpiredError, match=f"cannot complete {key}: the lease of gen expired"):
        web.complete(key, actor="gen", result="done", verified_by="pytest")
    # The refusal wrote no completion; the lapsed lease was swept back to the queue instead.
    assert kinds(events_after(web, cursor)) == [("lease_expired", "pending")]
    task = web.get_task(key)
    assert (task.status, task.assignee, task.result) == ("pending", None, "")
    with pytest.raises(LeaseExpiredError, match="pending, not held by gen"):
        web.log(key, "hello?", actor="gen")


def test_heartbeat_renews_the_lease(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS - 10)
    assert web.heartbeat("gen") == [key]
    task, beat = web.get_task(key), web.get_agent("gen").last_heartbeat
    assert task.lease_expires_at is not None and beat is not None
    assert (task.lease_expires_at - beat).total_seconds() == LEASE_SECONDS
    clock.advance(LEASE_SECONDS - 10)  # past the first lease, within the renewed one
    assert web.claim("fe") is None
    assert web.get_task(key).status == "in_progress"
    web.log(key, "still working", actor="gen")
    web.complete(key, actor="gen", verified_by="pytest")
    assert web.get_task(key).status == "done"


def test_heartbeat_does_not_revive_an_expired_lease(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "gen")
    clock.advance(LEASE_SECONDS + 1)
    assert web.heartbeat("gen") == []
    assert web.expire_leases() == [key]


def test_heartbeat_with_nothing_held(web: Deck) -> None:
    before = web.now()
    assert web.heartbeat("gen") == []
    beat = web.get_agent("gen").last_heartbeat
    assert beat is not None and before <= beat <= web.now()
    with pytest.raises(NotFoundError, match="ghost"):
        web.heartbeat("ghost")
