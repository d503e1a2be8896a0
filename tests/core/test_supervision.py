"""The human's verbs: approve, reject, reopen, answer, assign, set_priority, cancel."""

from __future__ import annotations

import pytest

from agentdeck.core import (
    ConflictError,
    Deck,
    InvalidTransitionError,
    LeaseExpiredError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    lifecycle,
)
from tests.conftest import FakeClock
from tests.core.helpers import Refused, claim_key, events_after, kinds, task_in


def test_approve_makes_review_done(web: Deck) -> None:
    key = task_in(web, "review", requires_approval=True)
    version = web.get_task(key).version
    cursor = web.max_event_id()
    task = web.approve(key, actor="ann", note="Looks good", expected_version=version)
    assert (task.status, task.column, task.version) == ("done", "done", version + 1)
    assert task.completed_at is not None
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.actor, event.text) == (
        "approval",
        "approved",
        "ann",
        "Looks good",
    )


def test_agent_cannot_approve(web: Deck, refused: Refused) -> None:
    key = task_in(web, "review")
    with refused(PermissionDeniedError, "only a human may approve", "gen is an agent"):
        web.approve(key, actor="gen")
    with refused(PermissionDeniedError, "only a human may approve", "sup is an agent"):
        web.approve(key, actor="sup")


def test_human_cannot_approve_own_work(web: Deck, refused: Refused) -> None:
    key = web.add_task("Write the release notes", actor="ann").key
    claim_key(web, key, "ann")
    web.submit(key, actor="ann", result="notes.md")
    with refused(PermissionDeniedError, f"ann cannot approve {key}", "own work"):
        web.approve(key, actor="ann")
    assert web.approve(key, actor="bob").status == "done"


def test_reject_sends_work_back_with_notes(web: Deck) -> None:
    key = task_in(web, "review")
    cursor = web.max_event_id()
    task = web.reject(key, actor="ann", notes="Add a test for the empty password")
    assert (task.status, task.column, task.assignee) == ("pending", "ready", "gen")
    assert kinds(events_after(web, cursor)) == [("approval", "rejected"), ("message", "rejection")]
    claim = web.claim("gen")
    assert claim is not None and claim.task.key == key
    [note] = claim.inbox
    assert (note.kind, note.sender, note.task) == ("rejection", "ann", key)
    assert note.text == f"{key}: Add a test for the empty password"


def test_reopen_done_task_with_notes(web: Deck) -> None:
    key = task_in(web, "done")
    cursor = web.max_event_id()
    task = web.reopen(key, actor="bob", notes="The button is misaligned on mobile")
    assert (task.status, task.column, task.assignee, task.completed_at) == (
        "pending",
        "ready",
        "gen",
        None,
    )
    events = events_after(web, cursor)
    assert kinds(events) == [("reopened", "pending"), ("message", "reopen")]
    assert events[0].actor == "bob" and events[0].text == "The button is misaligned on mobile"
    [note] = web.inbox("gen")
    assert note.kind == "reopen" and "misaligned" in note.text
    assert web.task_detail(key).notes[0].text == "The button is misaligned on mobile"


def test_reopen_failed_task(web: Deck) -> None:
    key = task_in(web, "failed")
    assert web.reopen(key, actor="ann", notes="The API is back up").status == "pending"


def test_answer_escalation_returns_task_to_its_agent(web: Deck) -> None:
    key = task_in(web, "escalated")
    cursor = web.max_event_id()
    task = web.answer(key, actor="ann", text="Credentials are in the vault under staging/")
    assert (task.status, task.column, task.escalation_reason, task.assignee) == (
        "pending",
        "ready",
        "",
        "gen",
    )
    assert kinds(events_after(web, cursor)) == [("status", "pending"), ("message", "answer")]
    claim = web.claim("gen")
    assert claim is not None and claim.task.key == key
    assert [m.kind for m in claim.inbox] == ["answer"]
    assert "vault" in claim.inbox[0].text


@pytest.mark.parametrize("verb", ["reject", "reopen", "answer"])
def test_notes_are_required(web: Deck, refused: Refused, verb: str) -> None:
    key = task_in(web, {"reject": "review", "reopen": "done", "answer": "escalated"}[verb])
    with refused(ValidationError, "needs notes"):
        if verb == "answer":
            web.answer(key, actor="ann", text=" ")
        else:
            getattr(web, verb)(key, actor="ann", notes="")


@pytest.mark.parametrize("verb", ["reject", "reopen", "answer", "cancel"])
def test_agents_cannot_use_human_verbs(web: Deck, refused: Refused, verb: str) -> None:
    key = task_in(
        web,
        {"reject": "review", "reopen": "done", "answer": "escalated", "cancel": "pending"}[verb],
    )
    with refused(PermissionDeniedError, "only a human", "sup is an agent"):
        if verb == "answer":
            web.answer(key, actor="sup", text="do it")
        elif verb == "cancel":
            web.cancel(key, actor="sup")
        else:
            getattr(web, verb)(key, actor="sup", notes="do it")


def test_assign_pending_task(web: Deck) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    cursor = web.max_event_id()
    task = web.assign(key, "fe", actor="ann", expected_version=1)
    assert (task.assignee, task.status, task.version) == ("fe", "pending", 2)
    events = events_after(web, cursor)
    assert kinds(events) == [("assigned", ""), ("message", "assignment")]
    assert events[0].data == {"from_agent": None, "to_agent": "fe"}
    assert [m.kind for m in web.inbox("fe")] == ["assignment"]
    claim = web.claim("gen")
    assert claim is None
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == key


def test_lead_may_assign_other_agents_may_not(web: Deck, refused: Refused) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    assert web.assign(key, "be", actor="sup").assignee == "be"
    with refused(PermissionDeniedError, "only a human or the board's lead", "gen is neither"):
        web.assign(key, "gen", actor="gen")


def test_assign_unassigns_with_none(web: Deck) -> None:
    key = web.add_task("Build the login form", actor="ann", assignee="fe").key
    task = web.assign(key, None, actor="ann")
    assert task.assignee is None
    claim = web.claim("gen")
    assert claim is not None and claim.task.key == key


def test_reassign_in_progress_task_refuses_the_old_holder(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    task = web.assign(key, "fe", actor="ann")
    assert (task.status, task.assignee, task.lease_expires_at) == ("pending", "fe", None)
    events = events_after(web, cursor)
    assert kinds(events) == [("assigned", "pending"), ("message", "assignment")]
    assert events[0].data["from_agent"] == "gen" and events[0].data["to_agent"] == "fe"
    assert web.get_agent("gen").current_task is None
    with refused(LeaseExpiredError, f"cannot log on {key}", "not held by gen"):
        web.log(key, "still mine?", actor="gen")
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == key
    assert [h[0] for h in web.task_detail(key).assignee_history] == ["gen", "fe", "fe"]


def test_reassign_escalated_task_clears_the_reason(web: Deck) -> None:
    key = task_in(web, "escalated")
    task = web.assign(key, "be", actor="ann")
    assert (task.status, task.assignee, task.escalation_reason) == ("pending", "be", "")


def test_assign_unknown_agent_refused(web: Deck, refused: Refused) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    with refused(NotFoundError, "nobody"):
        web.assign(key, "nobody", actor="ann")


def test_set_priority(web: Deck) -> None:
    key = web.add_task("Build the login form", actor="ann", priority=3).key
    cursor = web.max_event_id()
    task = web.set_priority(key, 0, actor="sup", expected_version=1)
    assert (task.priority, task.version) == (0, 2)
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.actor, event.text) == (
        "priority",
        "0",
        "sup",
        "P3 -> P0",
    )
    assert event.data == {"from_priority": 3, "to_priority": 0}


def test_set_priority_refusals(web: Deck, refused: Refused) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    with refused(ValidationError, "priority must be 0"):
        web.set_priority(key, 9, actor="ann")
    with refused(PermissionDeniedError, "only a human or the board's lead", "fe is neither"):
        web.set_priority(key, 0, actor="fe")


@pytest.mark.parametrize("status", ["pending", "in_progress", "review", "escalated", "failed"])
def test_cancel_any_open_task(web: Deck, status: str) -> None:
    key = task_in(web, status)
    cursor = web.max_event_id()
    task = web.cancel(key, actor="ann", reason="out of scope")
    assert task.status == "cancelled" and task.completed_at is not None
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.actor, event.text) == (
        "status",
        "cancelled",
        "ann",
        "out of scope",
    )
    assert key not in [t.key for t in web.list_tasks()]
    assert web.get_agent("gen").current_task is None


def test_cancelled_task_refuses_its_old_holder(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    web.cancel(key, actor="ann")
    with refused(InvalidTransitionError, key, "it is cancelled", "nothing (it is closed)"):
        web.complete(key, actor="gen", verified_by="pytest")


# -- stale versions --------------------------------------------------------------------------


STALE_CASES = {
    "approve": ("review", lambda d, k, v: d.approve(k, actor="ann", expected_version=v)),
    "reject": ("review", lambda d, k, v: d.reject(k, actor="ann", notes="no", expected_version=v)),
    "reopen": ("done", lambda d, k, v: d.reopen(k, actor="ann", notes="no", expected_version=v)),
    "answer": (
        "escalated",
        lambda d, k, v: d.answer(k, actor="ann", text="yes", expected_version=v),
    ),
    "assign": ("pending", lambda d, k, v: d.assign(k, "fe", actor="ann", expected_version=v)),
    "set_priority": (
        "pending",
        lambda d, k, v: d.set_priority(k, 0, actor="ann", expected_version=v),
    ),
    "cancel": ("pending", lambda d, k, v: d.cancel(k, actor="ann", expected_version=v)),
}


@pytest.mark.parametrize("verb", sorted(STALE_CASES))
def test_stale_expected_version_is_a_conflict(web: Deck, refused: Refused, verb: str) -> None:
    status, call = STALE_CASES[verb]
    key = task_in(web, status)
    seen = web.get_task(key).version
    web.log(key, "a log line does not change the version", actor="bob")
    assert web.get_task(key).version == seen
    if status == "done":  # someone else reopens it and it is finished again
        web.reopen(key, actor="bob", notes="redo")
        claim_key(web, key)
        web.complete(key, actor="gen", verified_by="pytest")
    else:
        web.set_priority(key, 1, actor="bob")
    current = web.get_task(key).version
    assert (web.get_task(key).status, current > seen) == (status, True)
    with refused(ConflictError, key, f"now version {current}", f"you had {seen}"):
        call(web, key, seen)
    assert call(web, key, current).version == current + 1


# -- a commit between a human's read and write (PostgreSQL runs writers at once) ----------------


def test_assign_after_a_concurrent_commit_is_a_conflict(
    web: Deck, db_url: str, backend: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two humans assign the same pending task with the version they both saw; the second's
    transaction read the task before the first committed. It is a conflict: the first
    assignment stands (it was silently overwritten, both versions 2, on PostgreSQL)."""
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers: no commit can fall between a read and a write")
    key = web.add_task("Build the login form", actor="ann").key
    bob_token = web.issued_token("bob", "WEB")
    assert bob_token is not None
    check_edit = lifecycle.check_edit

    def read_then_let_bob_assign(verb: str, upper: str, status: str) -> None:
        check_edit(verb, upper, status)
        monkeypatch.setattr(lifecycle, "check_edit", check_edit)
        with Deck.open(db_url, **clock.deck_options()) as other:
            other.present(bob_token)
            assert other.assign(key, "be", actor="bob", expected_version=1).version == 2

    monkeypatch.setattr(lifecycle, "check_edit", read_then_let_bob_assign)
    with pytest.raises(ConflictError, match=f"{key} changed while assign was being applied"):
        web.assign(key, "fe", actor="ann", expected_version=1)
    task = web.get_task(key)
    assert (task.assignee, task.version) == ("be", 2)
    assigned = [e for e in web.events_since(0) if e.kind == "assigned"]
    assert [(e.actor, e.text) for e in assigned] == [("bob", "be")]
