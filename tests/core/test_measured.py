"""Measured usage (`Deck.record_measured`): what an agent's own telemetry adds, to whom, once.

Written as a sender trying to get around it would: someone else's task pinned, a batch sent
twice, an old cumulative total after a newer one, the same work as metrics and as logs, a
clock far ahead, a revoked credential; and as the budget would see it: the larger of what was
reported and what was measured counts, never both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from agentdeck.core import Deck, NotAuthenticatedError
from agentdeck.core.models import MeasuredPoint
from tests.core.helpers import Refused, claim_key, events_after, task_in


def point(deck: Deck, series: str = "s1", seconds: float = 0, **fields: Any) -> MeasuredPoint:
    """A delta metrics point ending `seconds` after the deck's now."""
    fields.setdefault("signal", "metrics")
    end: datetime = deck.now() + timedelta(seconds=seconds)
    return MeasuredPoint(series=series, end=end, **fields)


def token(deck: Deck, name: str = "gen") -> str:
    minted = deck.issued_token(name, "WEB")
    assert minted is not None
    return minted


def test_points_land_on_the_held_task_marked_measured(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    done = web.record_measured(
        token(web),
        [
            point(web, "in", tokens_in=1200, model="claude-sonnet"),
            point(web, "out", tokens_out=300, model="claude-sonnet"),
            point(web, "cost", cost_usd=0.25, model="claude-sonnet"),
        ],
    )
    assert (done.agent, done.board, done.counted, done.tasks) == ("gen", "WEB", 3, (key,))
    [event] = events_after(web, cursor)
    assert (event.kind, event.actor, event.task) == ("usage", "gen", key)
    assert event.data["source"] == "measured" and event.text.startswith("measured 1,500 tokens")
    assert web.usage_totals(task=key).tokens == 1500
    assert web.usage_by_source(task=key)["measured"].cost_usd == pytest.approx(0.25)
    assert "reported" not in web.usage_by_source(task=key)


def test_without_a_held_task_usage_lands_on_the_board(web: Deck) -> None:
    done = web.record_measured(token(web, "fe"), [point(web, tokens_in=10)])
    assert done.tasks == ("",)
    assert web.usage_totals(agent="fe").tokens_in == 10


@pytest.mark.parametrize("bad", ["", "adk_" + "x" * 43, "not-a-token", "Bearer adk_" + "x" * 43])
def test_an_unknown_credential_is_refused_and_writes_nothing(
    web: Deck, refused: Refused, bad: str
) -> None:
    with refused(NotAuthenticatedError, "credential"):
        web.record_measured(bad, [point(web, tokens_in=10)])


def test_a_revoked_credential_is_refused(web: Deck, refused: Refused) -> None:
    old = token(web, "fe")
    web.revoke_credential("fe", actor="ann", board="WEB")
    with refused(NotAuthenticatedError, "unknown or revoked"):
        web.record_measured(old, [point(web, tokens_in=10)])


def test_a_resent_batch_counts_once(web: Deck) -> None:
    key = task_in(web, "in_progress")
    batch = [point(web, "in", tokens_in=100), point(web, "out", seconds=-1, tokens_out=50)]
    assert web.record_measured(token(web), batch).counted == 2
    again = web.record_measured(token(web), batch)
    assert (again.counted, again.repeated) == (0, 2)
    assert web.usage_totals(task=key).tokens == 150


def test_a_cumulative_series_adds_what_it_grew(web: Deck) -> None:
    key = task_in(web, "in_progress")
    now = web.now()  # one reading: PostgreSQL's time runs on between calls
    start = now - timedelta(minutes=5)

    def total(value: int, seconds: float) -> MeasuredPoint:
        end = now + timedelta(seconds=seconds)
        return MeasuredPoint("metrics", "cum", end, start, True, tokens_in=value)

    gen = token(web)
    assert web.record_measured(gen, [total(100, -60)]).counted == 1  # all of it is new
    assert web.record_measured(gen, [total(250, -30)]).counted == 1  # grew by 150
    assert web.usage_totals(task=key).tokens_in == 250
    # An older total after a newer one, and the same total again, add nothing.
    late = web.record_measured(gen, [total(180, -45), total(250, -30)])
    assert (late.counted, late.repeated) == (0, 2)
    assert web.record_measured(gen, [total(250, -10)]).counted == 1
    assert web.usage_totals(task=key).tokens_in == 250
    # A restart (a new start time) begins a new running total: all of it is new.
    restarted = point(web, "cum", -5, cumulative=True, start=web.now(), tokens_in=40)
    web.record_measured(gen, [restarted])
    assert web.usage_totals(task=key).tokens_in == 290


def test_a_total_that_falls_is_a_restart(web: Deck) -> None:
    key = task_in(web, "in_progress")
    start = web.now() - timedelta(minutes=5)
    gen = token(web)
    web.record_measured(gen, [point(web, "c", -20, cumulative=True, start=start, tokens_out=90)])
    web.record_measured(gen, [point(web, "c", -10, cumulative=True, start=start, tokens_out=30)])
    assert web.usage_totals(task=key).tokens_out == 120


def test_a_session_counts_from_its_first_signal_only(web: Deck) -> None:
    key = task_in(web, "in_progress")
    gen = token(web)
    logs = point(web, "req-1", signal="logs", session="sess-a", tokens_in=500)
    web.record_measured(gen, [logs])
    same_work = point(web, "tok", signal="metrics", session="sess-a", tokens_in=500)
    other = point(web, "tok", signal="metrics", session="sess-b", tokens_in=70)
    done = web.record_measured(gen, [same_work, other])
    assert (done.counted, done.other_signal) == (1, 1)
    assert web.usage_totals(task=key).tokens_in == 570


def test_a_pinned_task_must_be_the_senders(web: Deck) -> None:
    mine = task_in(web, "in_progress")
    theirs = web.add_task("Someone else's work", actor="ann").key
    claim_key(web, theirs, "be")
    done = web.record_measured(
        token(web),
        [
            point(web, "a", tokens_in=5, task=theirs),
            point(web, "b", tokens_in=7, task=mine),
            point(web, "c", tokens_in=9, task="WEB-999"),
        ],
    )
    assert (done.counted, done.rejected, done.tasks) == (1, 2, (mine,))
    assert any(f"{theirs}, which gen does not hold" in e for e in done.errors)
    assert web.usage_totals(task=theirs).tokens == 0
    assert web.usage_totals(task=mine).tokens == 7


def test_points_out_of_range_or_from_the_future_are_rejected(web: Deck) -> None:
    key = task_in(web, "in_progress")
    done = web.record_measured(
        token(web),
        [
            point(web, "future", seconds=2 * 3600, tokens_in=10),
            point(web, "neg", tokens_in=-1),
            point(web, "nan", cost_usd=float("nan")),
            point(web, "", tokens_in=1),
            point(web, "sig", signal="profiles", tokens_in=1),
            point(web, "ok", tokens_in=3),
        ],
    )
    assert (done.counted, done.rejected) == (1, 5)
    assert any("in the future" in e for e in done.errors)
    assert web.usage_totals(task=key).tokens == 3


def test_reported_and_measured_usage_count_the_larger_not_both(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.set_budget("tokens", actor="ann", scope="task", subject=key, soft=10_000)
    web.record_usage(key, actor="gen", tokens_in=1000)  # the agent says 1000
    web.record_measured(token(web), [point(web, tokens_in=1500)])  # its runtime saw 1500
    assert web.usage_totals(task=key).tokens_in == 1500
    [status] = web.budget_status(scope="task", subject=key)
    assert status.used == 1500
    web.record_usage(key, actor="gen", tokens_in=200)  # reported 1200 < measured 1500
    assert web.usage_totals(task=key).tokens_in == 1500
    web.record_usage(key, actor="gen", tokens_in=800)  # reported 2000 > measured 1500
    assert web.usage_totals(task=key).tokens_in == 2000
    by_source = web.usage_by_source(task=key)
    assert (by_source["reported"].tokens_in, by_source["measured"].tokens_in) == (2000, 1500)
    [status] = web.budget_status(scope="task", subject=key)
    assert status.used == 2000


def test_measured_usage_past_a_hard_budget_stops_the_work(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.set_budget("cost_usd", actor="ann", scope="agent", subject="gen", hard=1.0)
    done = web.record_measured(token(web), [point(web, cost_usd=1.5)])
    assert [(c.metric, c.level) for c in done.crossed] == [("cost_usd", "over")]
    task = web.get_task(key)
    assert task.status == "escalated"
    assert "budget" in (task.escalation_reason or "")


def test_refusals_are_counted_per_reason(web: Deck) -> None:
    assert web.refusals() == {}
    web.count_refusal("credential")
    web.count_refusal("credential")
    web.count_refusal("too large")
    assert web.refusals() == {"credential": 2, "too large": 1}


def test_the_report_and_the_task_show_both_sources_and_the_gap(web: Deck) -> None:
    key = task_in(web, "in_progress")
    other = task_in(web, "pending", "Only reported work")
    web.record_usage(key, actor="gen", tokens_in=1000, cost_usd=0.10)
    web.record_measured(token(web), [point(web, tokens_in=1500, cost_usd=0.40)])
    web.record_usage(None, actor="be", board="WEB", tokens_out=5)
    spent = web.report_summary()["spent"]
    assert spent["measured"] == {"cost_usd": 0.4, "tokens": 1500}
    assert spent["reported"] == {"cost_usd": 0.1, "tokens": 1005}
    assert spent["gap"] == {"tasks": 1, "tokens": 500, "cost_usd": pytest.approx(0.3)}
    assert spent["gaps"] == [
        {
            "key": key,
            "measured": {"tokens": 1500, "cost_usd": pytest.approx(0.4)},
            "reported": {"tokens": 1000, "cost_usd": pytest.approx(0.1)},
        }
    ]
    markdown = web.report(sections=["budgets"])
    assert "| measured (telemetry) | 1,500 | $0.40 |" in markdown
    assert "| reported (by agents) | 1,005 | $0.10 |" in markdown
    assert "| gap (measured - reported) on the 1 task with both | +500 | +$0.30 |" in markdown
    assert f"| {key} | 1,500 tok, $0.40 | 1,000 tok, $0.10 | +500 tok, +$0.30 |" in markdown
    detail = web.task_detail(key)
    assert detail.measured is not None and detail.measured.tokens == 1500
    assert detail.reported is not None and detail.reported.tokens == 1000
    assert detail.usage.tokens == 1500  # what counts: the larger
    assert web.task_detail(other).measured is None


def test_a_board_without_measured_usage_reports_as_before(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.record_usage(key, actor="gen", tokens_in=10)
    assert set(web.report_summary()["spent"]) == {"cost_usd", "tokens"}
    assert "Measured and reported" not in web.report()
