"""Compact views: what they keep, how they clip, and the page cursor an agent hands back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentdeck.core import Deck, views
from agentdeck.core.errors import ValidationError
from tests.core.helpers import claim_key


def test_a_task_card_keeps_what_an_agent_decides_on(web: Deck) -> None:
    blocker = web.add_task("Design the schema", actor="ann").key
    key = web.add_task(
        "Build the login form\nwith  OAuth " + "y" * 200,
        actor="ann",
        description="d" * 5000,
        skills=["frontend"],
        blocked_by=[blocker],
        priority=1,
        labels=["UI", "auth"],
        type="feature",
    ).key
    card = views.task_card(web.get_task(key))
    assert list(card) == [
        "key",
        "title",
        "type",
        "status",
        "priority",
        "labels",
        "assignee",
        "skills",
        "blocked_by",
        "doing",
    ]
    assert card["title"].startswith("Build the login form with OAuth y")
    assert len(card["title"]) == views.TITLE and card["title"].endswith("…")
    assert (card["status"], card["priority"], card["skills"]) == ("pending", 1, ["frontend"])
    assert card["blocked_by"] == [blocker]
    assert (card["type"], card["labels"]) == ("feature", ["auth", "ui"])
    assert len(json.dumps(card)) < 400 < len(json.dumps(web.get_task(key).to_dict()))


def test_doing_is_one_clipped_line(web: Deck) -> None:
    key = web.add_task("Ship", actor="ann").key
    claim_key(web, key, "gen")
    web.doing("gen", "step one\n\x1b[2J " + "z" * 400, key=key)
    card = views.task_card(web.get_task(key))
    assert card["assignee"] == "gen"
    assert card["doing"].startswith("step one \x1b[2J z") and len(card["doing"]) == views.LINE


def test_many_blockers_are_counted_not_listed(web: Deck) -> None:
    blockers = [web.add_task(f"Part {i}", actor="ann").key for i in range(12)]
    key = web.add_task("Assemble", actor="ann", blocked_by=blockers).key
    card = views.task_card(web.get_task(key))
    assert len(card["blocked_by"]) == views.MAX_BLOCKERS and card["more_blockers"] == 4


def test_many_labels_are_counted_not_listed(web: Deck) -> None:
    key = web.add_task("Tagged", actor="ann", labels=[f"l{i:02}" for i in range(20)]).key
    card = views.task_card(web.get_task(key))
    assert card["labels"] == [f"l{i:02}" for i in range(views.MAX_LABELS)]
    assert card["more_labels"] == 20 - views.MAX_LABELS


def test_messages_events_and_hits_are_compact(web: Deck) -> None:
    key = web.add_task("Write docs", actor="ann").key
    claim_key(web, key, "gen")
    web.log(key, "ran\nthe tests " + "t" * 500, actor="gen", data={"big": "b" * 1000})
    web.submit(key, actor="gen", result="done " * 100, verified_by="pytest")
    web.reject(key, actor="ann", notes="redo it: " + "n" * 2000)
    message = views.message_card(web.inbox("gen", mark_read=False)[-1])
    assert message["from"] == "ann" and message["task"] == key
    assert len(message["text"]) == views.MESSAGE and message["text"].startswith(
        f"{key}: redo it: n"
    )
    logged = next(e for e in web.task_events(key) if e.kind == "log")
    event = views.event_card(logged)
    assert event["text"].startswith("ran the tests t") and "data" not in event
    assert len(event["text"]) == views.LINE


@pytest.mark.parametrize("cursor", ["-1", "1e3", "abc", "٣", " 5", "99999999999"])
def test_a_forged_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(ValidationError, match="not a page cursor"):
        views.start_of(cursor)


def test_pages_chain_to_the_end() -> None:
    items = list(range(45))
    seen, cursor = [], None
    while True:
        start = views.start_of(cursor)
        shown, cursor = views.page(items[start : start + 21], start, 20, lambda n: {"n": n})
        seen += [s["n"] for s in shown]
        if cursor is None:
            break
    assert seen == items


def test_a_claim_view_has_the_task_whole_without_bookkeeping(web: Deck) -> None:
    key = web.add_task(
        "Ship the API", actor="ann", description="para one\n\npara two " + "d" * 3000, criteria="c"
    ).key
    claim = web.claim("gen", key=key)
    assert claim is not None
    view = views.claim_view(claim)
    task = view["task"]
    assert task["description"] == web.get_task(key).description  # whole, not clipped
    assert task["criteria"] == "c" and task["assignee"] == "gen"
    assert not set(views.NOISE) & set(task)
    assert set(task) | set(views.NOISE) == set(web.get_task(key).to_dict())
    assert view["inbox"] == [] and view["similar"] == []


def test_receipts_say_what_changed_in_a_few_fields(web: Deck) -> None:
    key = web.add_task("Ship", actor="ann", description="x" * 2000).key
    claim_key(web, key, "gen")
    entry = web.log(key, "ran the tests " * 50, actor="gen", kind="verification")
    assert views.log_receipt(entry) == {"id": entry.id, "task": key, "kind": "verification"}
    done = web.complete(key, actor="gen", result="shipped")
    receipt = views.done_receipt(done)
    assert receipt["key"] == key and receipt["status"] == "done" and receipt["column"] == "done"
    assert set(receipt) == {"key", "status", "column", "assignee", "nudge"}
    assert len(json.dumps(receipt)) < 200
    assert views.usage_receipt(key, []) == {"task": key, "recorded": True, "budgets_crossed": []}


def test_a_plan_receipt_pairs_each_ref_with_its_key(web: Deck) -> None:
    specs: list[dict[str, Any]] = [{"title": "A", "ref": "a"}, {"title": "B", "blocked_by": ["a"]}]
    made = web.plan(specs, actor="ann")
    out = views.plan_receipt([s.get("ref") for s in specs], made)
    assert out["created"] == 2
    assert [(t["ref"], t["column"]) for t in out["tasks"]] == [("a", "ready"), (None, "blocked")]


def test_a_detail_view_has_every_task_field_and_notes_whole(web: Deck) -> None:
    key = web.add_task("Ship", actor="ann").key
    claim_key(web, key, "gen")
    web.release(key, actor="gen", note="handing over: " + "n" * 900)
    view = views.detail_view(web.task_detail(key))
    assert view["task"] == web.get_task(key).to_dict()
    assert any(n["text"].endswith("n" * 900) for n in view["notes"])
    json.dumps(view)
