"""The paper trail: the change cursor, a task's log with paging, changes since a cursor, details."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck, NotFoundError
from tests.conftest import FakeClock
from tests.core.helpers import claim_key, events_after, task_in


def test_every_event_has_board_task_actor_and_time(web: Deck, clock: FakeClock) -> None:
    cursor = web.max_event_id()
    clock.advance(30)
    before = web.now()
    key = task_in(web, "done")
    after = web.now()
    events = events_after(web, cursor)
    assert [e.kind for e in events] == ["created", "claimed", "status"]
    assert [e.actor for e in events] == ["ann", "gen", "gen"]
    assert {(e.board, e.task) for e in events} == {("WEB", key)}
    times = [e.created_at for e in events]
    assert before <= times[0] and times == sorted(times) and times[-1] <= after
    ids = [e.id for e in events]
    assert ids == sorted(ids) and ids[0] > cursor and ids[-1] == web.max_event_id()


def test_events_since_pages_with_a_limit_and_filters_by_board(web: Deck) -> None:
    web.create_board("API", "API", actor="ann")
    web.add_task("Web task", actor="ann", board="WEB")
    web.add_task("Api task", actor="ann", board="API")
    everything = events_after(web, 0)
    assert len(everything) == web.max_event_id()
    page = web.events_since(0, limit=3)
    assert page == everything[:3]
    assert web.events_since(page[-1].id, limit=2) == everything[3:5]
    assert {e.board for e in web.events_since(0, board="API")} == {"API"}
    assert web.events_since(web.max_event_id()) == []


def test_max_event_id_of_an_empty_database(deck: Deck) -> None:
    assert deck.max_event_id() == 0


def test_task_events_tail_first_with_paging_and_kinds(web: Deck) -> None:
    key = task_in(web, "in_progress")
    for i in range(10):
        web.log(key, f"step {i}", actor="gen", kind="decision" if i % 3 == 0 else "action")
    log = web.task_events(key)
    assert [e.kind for e in log[:2]] == ["created", "claimed"] and len(log) == 12
    tail = web.task_events(key, limit=4)
    assert [e.text for e in tail] == ["step 6", "step 7", "step 8", "step 9"]
    before = web.task_events(key, before_id=tail[0].id, limit=2)
    assert [e.text for e in before] == ["step 4", "step 5"]
    after = web.task_events(key, after_id=before[-1].id, limit=2)
    assert [e.text for e in after] == ["step 6", "step 7"]
    decisions = web.task_events(key, kinds=["decision"])
    assert [e.text for e in decisions] == ["step 0", "step 3", "step 6", "step 9"]
    assert [e.kind for e in web.task_events(key, kinds=["claimed"])] == ["claimed"]
    with pytest.raises(NotFoundError):
        web.task_events("WEB-99")


def test_changes_since_returns_new_events_and_touched_tasks(web: Deck) -> None:
    schema = web.add_task("Schema", actor="ann").key
    api = web.add_task("API", actor="ann", blocked_by=[schema]).key
    untouched = web.add_task("Docs", actor="ann").key
    claim_key(web, schema)
    cursor = web.max_event_id()
    web.complete(schema, actor="gen", verified_by="pytest")
    changes = web.changes_since(cursor)
    assert changes.cursor == web.max_event_id() and not changes.truncated
    assert [(e.kind, e.task) for e in changes.events] == [("status", schema)]
    tasks = {t.key: t for t in changes.tasks}
    assert set(tasks) == {schema, api}  # the dependent's column changed too
    assert tasks[api].column == "ready" and untouched not in tasks


def test_changes_since_with_nothing_new_keeps_the_cursor(web: Deck) -> None:
    web.add_task("Schema", actor="ann")
    cursor = web.max_event_id()
    changes = web.changes_since(cursor)
    assert (changes.cursor, changes.events, changes.tasks, changes.truncated) == (
        cursor,
        (),
        (),
        False,
    )


def test_changes_since_truncates_and_resumes(web: Deck) -> None:
    for i in range(5):
        web.add_task(f"Task {i}", actor="ann")
    first = web.changes_since(0, limit=3)
    assert first.truncated and len(first.events) == 3
    rest = web.changes_since(first.cursor, limit=100)
    assert not rest.truncated
    assert [e.id for e in first.events + rest.events] == [e.id for e in events_after(web, 0)]


def test_task_detail_gathers_everything_about_a_task(web: Deck, clock: FakeClock) -> None:
    epic = web.add_task("Login epic", actor="ann").key
    schema = task_in(web, "done", "Schema")
    design = web.add_task("Design", actor="ann").key
    key = web.add_task("API", actor="ann", parent=epic, blocked_by=[schema, design]).key
    ui = web.add_task("UI", actor="ann", blocked_by=[key]).key
    web.assign(key, "be", actor="ann")
    web.cancel(design, actor="ann")
    claim_key(web, key, "be")
    web.record_usage(key, actor="be", tokens_in=100, tokens_out=20, cost_usd=0.1)
    web.checkpoint(key, actor="be", sha="abc123", message="wip")
    web.submit(key, actor="be", result="done")
    web.reject(key, actor="bob", notes="Add pagination")
    detail = web.task_detail(key)
    assert detail.task.key == key and detail.task.parent == epic
    assert detail.blocked_by_all == ((schema, "done"), (design, "cancelled"))
    assert detail.blocks == (ui,)
    assert web.task_detail(epic).subtasks == (key,)
    assert [(who, by) for who, by, _ in detail.assignee_history] == [("be", "ann"), ("be", "be")]
    notes = [(n.kind, n.actor, n.text) for n in detail.notes]
    assert ("approval", "bob", "Add pagination") in notes
    assert [c.sha for c in detail.checkpoints] == ["abc123"]
    assert (detail.usage.tokens, detail.usage.cost_usd) == (120, 0.1)
    assert detail.event_count == len(web.task_events(key))
    assert detail.to_dict()["task"]["key"] == key


def test_read_models_are_frozen_snapshots(web: Deck) -> None:
    task = web.add_task("Schema", actor="ann")
    with pytest.raises(AttributeError):
        task.status = "done"  # type: ignore[misc]
    web.set_priority(task.key, 0, actor="ann")
    assert task.priority == 2  # the snapshot does not change under the caller
    as_dict = task.to_dict()
    assert as_dict["key"] == task.key and isinstance(as_dict["created_at"], str)
