"""The sentences core writes for people: counts agree with their nouns and amounts are
written as numbers people read (7,381,467 tokens), never as 7.397e+06 or 15000000.0."""

from __future__ import annotations

from agentdeck.core import Deck
from agentdeck.core.words import plural
from tests.core.helpers import events_after, task_in


def test_plural() -> None:
    assert [plural(n, "task") for n in (0, 1, 2, 1200)] == [
        "0 tasks",
        "1 task",
        "2 tasks",
        "1,200 tasks",
    ]
    assert plural(1, "similar past task") == "1 similar past task"
    assert plural(3, "entry", "entries") == "3 entries"


def test_one_planned_task_and_one_token_are_singular(web: Deck) -> None:
    cursor = web.max_event_id()
    web.plan([{"ref": "a", "title": "Only one"}], actor="sup")
    key = task_in(web, "in_progress", "Count me")
    web.record_usage(key, actor="gen", tokens_in=1, tokens_out=0, cost_usd=0.0)
    web.record_usage(key, actor="gen", tokens_in=7_000_000, tokens_out=381_467, cost_usd=1.5)
    texts = [e.text for e in events_after(web, cursor) if e.kind in ("plan", "usage")]
    assert texts == ["planned 1 task", "1 token, $0.0000", "7,381,467 tokens, $1.5000"]


def test_budget_events_write_amounts_as_people_read_them(web: Deck) -> None:
    key = task_in(web, "in_progress", "Spend")
    cursor = web.max_event_id()
    web.set_budget("tokens", actor="ann", soft=7_381_467, hard=15_000_000)
    web.set_budget("cost_usd", actor="ann", soft=2.5)
    web.record_usage(key, actor="gen", tokens_in=7_396_605, tokens_out=0, cost_usd=3.0)
    texts = [e.text for e in events_after(web, cursor) if e.kind == "budget"]
    assert texts[:2] == [
        "board tokens budget set: soft 7,381,467 tokens, hard 15,000,000 tokens",
        "board cost_usd budget set: soft 2.5 USD, no hard limit",
    ]
    assert sorted(texts[2:]) == [
        "board cost_usd budget passed its soft limit: 3 of 2.5 USD",
        "board tokens budget passed its soft limit: 7,396,605 of 7,381,467 tokens",
    ]
