"""Budgets: soft limits warn once, hard limits refuse claims and stop the work in their scope
(more on stops in test_budget_stops.py)."""

from __future__ import annotations

import pytest

from agentdeck.core import (
    Deck,
    NotFoundError,
    OverBudgetError,
    PermissionDeniedError,
    ValidationError,
)
from tests.core.helpers import Refused, events_after, kinds, task_in


def test_set_budget_reports_status_and_writes_an_event(web: Deck) -> None:
    cursor = web.max_event_id()
    status = web.set_budget("tokens", actor="ann", soft=800, hard=1000)
    assert (status.scope, status.subject, status.metric, status.used, status.level) == (
        "board",
        "",
        "tokens",
        0,
        "ok",
    )
    assert (status.soft, status.hard) == (800, 1000)
    [event] = events_after(web, cursor)
    assert (event.kind, event.subkind, event.actor) == ("budget", "set", "ann")
    assert web.budget_status() == [status]


def test_set_budget_counts_usage_already_recorded(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.record_usage(key, actor="gen", cost_usd=3.0, gpu_seconds=7200)
    assert (
        web.set_budget("cost_usd", actor="ann", scope="agent", subject="gen", soft=2.0).level
        == "warn"
    )
    status = web.set_budget("gpu_hours", actor="ann", scope="task", subject=key.lower(), hard=10)
    assert (status.subject, status.used, status.level) == (key, 2.0, "ok")


def test_set_budget_refusals(web: Deck, refused: Refused) -> None:
    with refused(ValidationError, "unknown metric 'watts'", "tokens"):
        web.set_budget("watts", actor="ann", hard=1)
    with refused(ValidationError, "unknown scope 'team'"):
        web.set_budget("tokens", actor="ann", scope="team", hard=1)
    with refused(ValidationError, "hard limit must be a finite number >= 0, not -1"):
        web.set_budget("tokens", actor="ann", hard=-1)
    with refused(ValidationError, "soft limit, a hard limit"):
        web.set_budget("tokens", actor="ann")
    with refused(PermissionDeniedError, "only a human may set budgets", "gen is an agent"):
        web.set_budget("tokens", actor="gen", hard=1)
    with refused(NotFoundError, "ghost"):
        web.set_budget("tokens", actor="ann", scope="agent", subject="ghost", hard=1)
    with refused(NotFoundError, "WEB-9"):
        web.set_budget("tokens", actor="ann", scope="task", subject="WEB-9", hard=1)
    with refused(PermissionDeniedError, "only a human may set budgets", "sup is an agent"):
        web.set_budget("tokens", actor="sup", hard=1)  # not even the lead


def test_soft_crossing_warns_once(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.set_budget("tokens", actor="ann", soft=100)
    assert web.record_usage(key, actor="gen", tokens_in=60) == []
    cursor = web.max_event_id()
    [crossed] = web.record_usage(key, actor="gen", tokens_in=60)
    assert (crossed.level, crossed.used) == ("warn", 120)
    budget_events = [e for e in events_after(web, cursor) if e.kind == "budget"]
    assert [(e.subkind, e.actor, e.task) for e in budget_events] == [("soft", "gen", key)]
    assert budget_events[0].data["used"] == 120 and budget_events[0].data["limit"] == 100
    cursor = web.max_event_id()
    assert web.record_usage(key, actor="gen", tokens_in=500) == []
    assert "budget" not in [e.kind for e in events_after(web, cursor)]
    assert web.get_task(key).status == "in_progress"  # a soft limit never stops work
    [status] = web.budget_status()
    assert (status.used, status.level) == (620, "warn")


def test_hard_crossing_escalates_the_task_with_reason_budget(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.set_budget("cost_usd", actor="ann", scope="task", subject=key, hard=1.0)
    web.record_usage(key, actor="gen", cost_usd=0.6)
    cursor = web.max_event_id()
    [crossed] = web.record_usage(key, actor="gen", cost_usd=0.6)
    assert (crossed.scope, crossed.subject, crossed.level) == ("task", key, "over")
    task = web.get_task(key)
    assert (task.status, task.column) == ("escalated", "needs_human")
    assert task.escalation_reason.startswith("budget:") and task.over_budget
    events = events_after(web, cursor)
    assert kinds(events) == [
        ("budget", "hard"),
        ("usage", ""),
        ("status", "escalated"),
        ("message", "budget"),
    ]
    assert events[2].data["reason"] == "budget" and events[2].actor == "agentdeck"


def test_board_hard_budget_refuses_claims(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    web.add_task("Next job", actor="ann")
    web.set_budget("tokens", actor="ann", hard=1000)
    web.record_usage(key, actor="gen", tokens_in=1000)
    assert web.get_task(key).status == "escalated"
    for agent in ("gen", "fe"):
        with refused(OverBudgetError, f"{agent} cannot claim", "board tokens budget", "exhausted"):
            web.claim(agent)
    web.set_budget("tokens", actor="ann", hard=5000)  # a human raises the limit
    claim = web.claim("fe")
    assert claim is not None and claim.task.title == "Next job"


def test_agent_hard_budget_refuses_only_that_agent(web: Deck, refused: Refused) -> None:
    web.add_task("First", actor="ann")
    web.add_task("Second", actor="ann")
    web.set_budget("gpu_hours", actor="ann", scope="agent", subject="gen", hard=1)
    web.record_usage(None, actor="gen", gpu_seconds=3600)
    with refused(OverBudgetError, "gen cannot claim", "agent gen gpu_hours budget"):
        web.claim("gen")
    claim = web.claim("fe")
    assert claim is not None and claim.task.title == "First"


def test_exhausted_task_budget_excludes_that_task_from_claims(web: Deck, refused: Refused) -> None:
    costly = web.add_task("Costly", actor="ann", priority=0).key
    cheap = web.add_task("Cheap", actor="ann", priority=4).key
    web.record_usage(costly, actor="ann", cost_usd=5.0)
    web.set_budget("cost_usd", actor="ann", scope="task", subject=costly, hard=2.0)
    assert web.get_task(costly).over_budget and web.get_task(costly).status == "pending"
    claim = web.claim("gen")
    assert claim is not None and claim.task.key == cheap
    assert web.claim("fe") is None
    with refused(OverBudgetError, costly, "exhausted"):
        web.claim("gen", key=costly)


def test_exhausted_task_budget_after_answer_is_not_reclaimed(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.set_budget("tokens", actor="ann", scope="task", subject=key, hard=10)
    web.record_usage(key, actor="gen", tokens_out=11)
    web.answer(key, actor="ann", text="try a cheaper model")
    assert web.get_task(key).status == "pending"
    assert web.claim("gen") is None


def test_usage_of_other_agents_and_tasks_does_not_count(web: Deck) -> None:
    key = task_in(web, "in_progress")
    other = web.add_task("Other", actor="ann").key
    web.set_budget("tokens", actor="ann", scope="agent", subject="fe", hard=10)
    web.set_budget("tokens", actor="ann", scope="task", subject=other, hard=10)
    assert web.record_usage(key, actor="gen", tokens_in=100) == []
    assert {s.used for s in web.budget_status()} == {0}
    assert web.get_task(key).status == "in_progress"


@pytest.mark.parametrize(
    ("metric", "usage", "used"),
    [
        ("tokens", {"tokens_in": 7, "tokens_out": 5}, 12),
        ("cost_usd", {"cost_usd": 1.25}, 1.25),
        ("cpu_hours", {"cpu_seconds": 5400}, 1.5),
        ("gpu_hours", {"gpu_seconds": 900}, 0.25),
    ],
)
def test_each_metric_adds_up(web: Deck, metric: str, usage: dict[str, float], used: float) -> None:
    web.set_budget(metric, actor="ann", soft=1000)
    web.record_usage(None, actor="gen", **usage)  # type: ignore[arg-type]
    [status] = web.budget_status(scope="board")
    assert status.used == pytest.approx(used)
