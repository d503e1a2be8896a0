"""The agent's verbs on a task it holds: doing, log, usage, submit, complete, fail, escalate, release."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from agentdeck.core import (
    Deck,
    InvalidTransitionError,
    LeaseExpiredError,
    NotFoundError,
    ValidationError,
)
from agentdeck.core.storage.transaction import Tx
from tests.conftest import FakeClock, make_web_board
from tests.core.helpers import Refused, events_after, kinds, task_in


def test_doing_sets_active_form_on_agent_and_task(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    web.doing("gen", "Writing   the SQL\nmigration")
    assert web.get_agent("gen").active_form == "Writing the SQL migration"
    assert web.get_task(key).active_form == "Writing the SQL migration"
    [event] = events_after(web, cursor)
    assert (event.kind, event.actor, event.task, event.text) == (
        "doing",
        "gen",
        key,
        "Writing the SQL migration",
    )
    web.doing("gen", "Running tests", key=key)
    assert web.get_task(key).active_form == "Running tests"


def test_doing_on_a_task_held_by_another_refused(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    with refused(LeaseExpiredError, key, "held by gen, not fe"):
        web.doing("fe", "Sneaking in", key=key)


def test_log_appends_an_event_of_its_kind(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    entry = web.log(key, "Chose bcrypt", actor="gen", kind="decision", data={"why": "standard"})
    assert (entry.kind, entry.subkind, entry.task, entry.actor) == ("log", "decision", key, "gen")
    [stored] = events_after(web, cursor)
    assert stored == entry
    assert stored.data == {"why": "standard"}


def test_human_may_log_on_any_task(web: Deck) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    assert web.log(key, "Remember the design doc", actor="bob", kind="observation").actor == "bob"


def test_assignee_may_log_while_waiting_on_a_human(web: Deck) -> None:
    key = task_in(web, "escalated")
    assert web.log(key, "While I wait: found the old creds doc", actor="gen").task == key


def test_log_refusals(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    pending = web.add_task("Not claimed", actor="ann").key
    done = task_in(web, "done", "Done already")
    with refused(ValidationError, "unknown log kind 'rant'", "verification"):
        web.log(key, "text", actor="gen", kind="rant")
    with refused(ValidationError, "needs text"):
        web.log(key, "   ", actor="gen")
    with refused(ValidationError, "JSON"):
        web.log(key, "text", actor="gen", data={"when": object()})
    with refused(LeaseExpiredError, f"cannot log on {key}", "held by gen, not fe"):
        web.log(key, "not mine", actor="fe")
    with refused(LeaseExpiredError, f"cannot log on {pending}", "claim it first"):
        web.log(pending, "early", actor="gen")
    with refused(InvalidTransitionError, f"{done}", "it is done", "allowed: reopen"):
        web.log(done, "afterthought", actor="gen")
    with refused(NotFoundError, "WEB-99"):
        web.log("WEB-99", "text", actor="gen")
    with refused(NotFoundError, "ghost"):
        web.log(key, "text", actor="ghost")


def test_record_usage_rolls_up_per_task_agent_and_board(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    crossed = web.record_usage(
        key, actor="gen", tokens_in=1000, tokens_out=250, cost_usd=0.5, cpu_seconds=30, model="m1"
    )
    assert crossed == []
    web.record_usage(key, actor="gen", tokens_in=10, gpu_seconds=7.5)
    web.record_usage(None, actor="fe", cost_usd=0.25)
    [first, *_] = events_after(web, cursor)
    assert (first.kind, first.subkind, first.actor, first.task) == ("usage", "m1", "gen", key)
    assert first.data["tokens_in"] == 1000 and first.data["cost_usd"] == 0.5
    task = web.get_task(key)
    assert (task.tokens, task.cost_usd) == (1260, 0.5)
    by_task = web.usage_totals(task=key)
    assert (by_task.tokens_in, by_task.tokens_out, by_task.gpu_seconds) == (1010, 250, 7.5)
    assert web.usage_totals(agent="fe").cost_usd == 0.25
    board = web.usage_totals()
    assert (board.tokens, board.cost_usd, board.cpu_seconds) == (1260, 0.75, 30.0)
    assert web.task_detail(key).usage == by_task


def test_record_usage_refusals(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    with refused(ValidationError, "tokens_in"):
        web.record_usage(key, actor="gen", tokens_in=-1)
    with refused(ValidationError, "tokens_out"):
        web.record_usage(key, actor="gen", tokens_out=1.5)  # type: ignore[arg-type]
    with refused(ValidationError, "cost_usd"):
        web.record_usage(key, actor="gen", cost_usd=float("nan"))
    with refused(NotFoundError, "ghost"):
        web.record_usage(key, actor="ghost", tokens_in=1)


def test_submit_moves_to_review(web: Deck) -> None:
    key = task_in(web, "in_progress", requires_approval=True)
    cursor = web.max_event_id()
    task = web.submit(key, actor="gen", result="PR #12", verified_by="pytest -q: 40 passed")
    assert (task.status, task.column, task.result, task.verified) == (
        "review",
        "needs_human",
        "PR #12",
        True,
    )
    assert task.assignee == "gen" and task.lease_expires_at is None
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.actor, event.text) == (
        "status",
        "review",
        "gen",
        "PR #12",
    )
    assert web.get_agent("gen").current_task is None


def test_complete_with_evidence_is_verified(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    before = web.now()
    done = web.complete(key, actor="gen", result="Shipped", verified_by="pytest: 40 passed")
    assert done.nudge is None
    task = done.task
    assert (task.status, task.column, task.result, task.verification) == (
        "done",
        "done",
        "Shipped",
        "pytest: 40 passed",
    )
    assert task.verified and task.lease_expires_at is None
    assert task.completed_at is not None and before <= task.completed_at <= web.now()
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.actor) == ("status", "done", "gen")
    assert event.data["verb"] == "complete"
    agent = web.get_agent("gen")
    assert (agent.current_task, agent.active_form, agent.state) == (None, "", "idle")


def test_verification_log_counts_as_evidence(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.log(key, "ran pytest: 40 passed", actor="gen", kind="verification")
    done = web.complete(key, actor="gen", result="Shipped")
    assert done.task.verified and done.nudge is None


def test_complete_without_evidence_nudges(web: Deck) -> None:
    key = task_in(web, "in_progress")
    done = web.complete(key, actor="gen", result="Shipped")
    assert done.task.status == "done"
    assert done.task.verified is False
    assert done.nudge is not None and key in done.nudge and "verification" in done.nudge


def test_board_requiring_verification_refuses_unverified_complete(
    deck: Deck, refused: Refused
) -> None:
    make_web_board(deck, require_verification=True)
    key = task_in(deck, "in_progress")
    with refused(InvalidTransitionError, f"cannot complete {key}", "requires verification"):
        deck.complete(key, actor="gen", result="trust me")
    assert deck.complete(key, actor="gen", verified_by="pytest").task.status == "done"


def test_complete_refused_when_approval_required(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress", requires_approval=True)
    with refused(InvalidTransitionError, f"cannot complete {key}", "requires approval", "submit"):
        web.complete(key, actor="gen", verified_by="pytest")


def test_fail_records_the_reason(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    task = web.fail(key, actor="gen", reason="upstream API returns 500")
    assert (task.status, task.column, task.result) == (
        "failed",
        "failed",
        "upstream API returns 500",
    )
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.text) == (
        "status",
        "failed",
        "upstream API returns 500",
    )


def test_escalate_waits_on_a_human(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    task = web.escalate(key, actor="gen", reason="need staging credentials")
    assert (task.status, task.column, task.escalation_reason, task.assignee) == (
        "escalated",
        "needs_human",
        "need staging credentials",
        "gen",
    )
    assert kinds(events_after(web, cursor)) == [("status", "escalated")]


def test_escalate_needs_a_reason(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    with refused(ValidationError, "reason"):
        web.escalate(key, actor="gen", reason="  ")


def test_release_returns_task_to_the_queue_unassigned(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.doing("gen", "Thinking")
    cursor = web.max_event_id()
    task = web.release(key, actor="gen", note="out of my depth")
    assert (task.status, task.column, task.assignee, task.active_form) == (
        "pending",
        "ready",
        None,
        "",
    )
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.text) == ("status", "pending", "out of my depth")
    claim = web.claim("fe")
    assert claim is not None and claim.task.key == key


def test_holder_verbs_refused_for_another_agent(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    for verb, call in (
        ("complete", lambda: web.complete(key, actor="fe", verified_by="x")),
        ("submit", lambda: web.submit(key, actor="fe")),
        ("fail", lambda: web.fail(key, actor="fe", reason="x")),
        ("escalate", lambda: web.escalate(key, actor="fe", reason="x")),
        ("release", lambda: web.release(key, actor="fe")),
    ):
        with refused(LeaseExpiredError, f"cannot {verb} {key}", "held by gen, not fe"):
            call()


def test_log_racing_a_cancel_never_lands_after_it(
    web: Deck, db_url: str, backend: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log entry whose transaction read the task (held, in progress) just before a human's
    cancel committed is ordered before the cancel, never appended after it as if the cancelled
    task were still held (on PostgreSQL it was: the entry's id came after the cancel's)."""
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers: no commit can fall between a read and a write")
    key = task_in(web, "in_progress")
    read = Tx.task_and_actor
    bob_token = web.issued_token("bob", "WEB") or ""
    cancelling = threading.Thread(target=_cancel_as_bob, args=(db_url, clock, key, bob_token))

    def read_then_cancel(tx: Tx, *args: Any) -> Any:
        row = read(tx, *args)
        monkeypatch.setattr(Tx, "task_and_actor", read)
        cancelling.start()
        _wait_until_done_or_waiting_on_a_lock(web, cancelling)
        return row

    monkeypatch.setattr(Tx, "task_and_actor", read_then_cancel)
    entry = web.log(key, "ran the tests", actor="gen")
    cancelling.join(30)
    assert not cancelling.is_alive()
    assert web.get_task(key).status == "cancelled"
    [cancel] = [e for e in web.events_since(0) if e.subkind == "cancelled"]
    assert entry.id < cancel.id


def _cancel_as_bob(db_url: str, clock: FakeClock, key: str, token: str) -> None:
    with Deck.open(db_url, **clock.deck_options()) as other:
        other.present(token)
        other.cancel(key, actor="bob", reason="out of scope")


def _wait_until_done_or_waiting_on_a_lock(deck: Deck, thread: threading.Thread) -> None:
    """Until `thread` finished or another PostgreSQL session waits on a lock (deadline 30 s)."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 30
    with deck.engine.connect() as conn:
        while thread.is_alive():
            blocked = conn.execute(waiting).scalar()
            conn.rollback()  # pg_stat_activity is a snapshot per transaction
            if blocked:
                return
            assert time.monotonic() < deadline, "the cancel neither finished nor waited"
            thread.join(0.01)
