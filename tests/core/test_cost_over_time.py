"""Cost over time per agent or model: SQL sums per time bucket, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from agentdeck.core import Deck, ValidationError
from agentdeck.core.metrics import OTHERS, bucket_seconds
from tests.conftest import FakeClock
from tests.core.helpers import claim_key

DAY = 24 * 3600


def spend(deck: Deck, agent: str, cost: float, model: str = "m") -> None:
    key = deck.add_task(f"Work for {agent}", actor="ann").key
    claim_key(deck, key, agent)
    deck.record_usage(key, actor=agent, cost_usd=cost, tokens_in=10, model=model)


def test_no_usage_is_an_empty_series(web: Deck) -> None:
    series = web.cost_over_time()
    assert series.lines == () and series.starts == () and series.total == 0.0


def test_cost_is_summed_per_day_bucket_and_agent(web: Deck, clock: FakeClock) -> None:
    spend(web, "fe", 1.25, model="big")
    spend(web, "be", 0.5, model="small")
    clock.advance(DAY)
    spend(web, "fe", 2.0, model="big")
    clock.advance(DAY)
    spend(web, "be", 0.25, model="big")
    series = web.cost_over_time(buckets=3)
    assert series.by == "agent" and series.bucket_seconds == DAY
    assert len(series.starts) == 3
    assert [(s - series.starts[0]).total_seconds() for s in series.starts] == [0, DAY, 2 * DAY]
    lines = {line.name: line for line in series.lines}
    assert [line.name for line in series.lines] == ["fe", "be"]  # biggest spender first
    assert lines["fe"].costs == (1.25, 2.0, 0.0) and lines["fe"].total == 3.25
    assert lines["be"].costs == (0.5, 0.0, 0.25) and lines["be"].total == 0.75
    assert series.total == pytest.approx(web.usage_totals().cost_usd)

    by_model = web.cost_over_time(by="model", buckets=3)
    models = {line.name: line.costs for line in by_model.lines}
    assert models == {"big": (1.25, 2.0, 0.25), "small": (0.5, 0.0, 0.0)}


def test_spenders_past_the_top_are_summed_as_others(web: Deck) -> None:
    for agent, cost in (("fe", 3.0), ("be", 2.0), ("gen", 1.0), ("sup", 0.5)):
        spend(web, agent, cost)
    series = web.cost_over_time(top=2)
    assert [(line.name, line.total) for line in series.lines] == [
        ("fe", 3.0),
        ("be", 2.0),
        (OTHERS, 1.5),
    ]
    # One spender more than the top is shown by name, not as a lone "others".
    assert [line.name for line in web.cost_over_time(top=3).lines] == ["fe", "be", "gen", "sup"]


def test_bad_arguments_are_one_clear_error(web: Deck) -> None:
    with pytest.raises(ValidationError, match="cost by"):
        web.cost_over_time(by="task")
    with pytest.raises(ValidationError, match="buckets"):
        web.cost_over_time(buckets=0)


def test_bucket_length_covers_the_span_in_whole_hours_and_days() -> None:
    from datetime import timedelta

    assert bucket_seconds(timedelta(minutes=1), 24) == 3600
    assert bucket_seconds(timedelta(hours=30), 24) == 3 * 3600
    assert bucket_seconds(timedelta(days=16), 24) == DAY
    assert bucket_seconds(timedelta(days=400), 24) == 17 * DAY


def _cells(deck: Deck) -> list[tuple[object, ...]]:
    from agentdeck.core.storage.spend import spend_t

    with deck.engine.connect() as conn:
        rows = conn.execute(spend_t.select().order_by(*spend_t.primary_key.columns)).all()
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows]


def test_the_hourly_spend_rollup_kept_as_usage_is_written_equals_one_rebuilt(
    web: Deck, clock: FakeClock
) -> None:
    """Usage by agents, with and without a model, on a task and on the board alone, hours
    apart and twice in one hour: the rollup kept as it was written equals one rebuilt from
    the usage rows, and the totals read from it equal the sums over the usage rows."""
    from agentdeck.core.storage import spend as rollup
    from agentdeck.core.storage.tables import usage_t

    spend(web, "fe", 1.25, model="big")
    spend(web, "fe", 0.5, model="big")  # the same hour, agent and model: one cell
    clock.advance(3 * 3600)
    spend(web, "be", 0.75, model="")
    web.record_usage(None, actor="ann", cost_usd=0.1, tokens_out=7)  # the board's own
    kept = _cells(web)
    assert len(kept) == 3
    with web.engine.connect() as conn, conn.begin() as rebuilding:
        [board_id] = {c[0] for c in kept}
        rollup.rebuild(conn, int(board_id))  # type: ignore[call-overload]
        rebuilt = conn.execute(
            rollup.spend_t.select().order_by(*rollup.spend_t.primary_key.columns)
        ).all()
        summed = conn.execute(
            sa.select(sa.func.sum(usage_t.c.cost_usd), sa.func.sum(usage_t.c.tokens_out))
        ).one()
        rebuilding.rollback()
    assert kept == [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rebuilt]
    totals = web.usage_totals()
    assert totals.cost_usd == pytest.approx(float(summed[0])) == pytest.approx(2.6)
    assert totals.tokens_out == int(summed[1]) == 7
    assert web.usage_totals(agent="fe").cost_usd == pytest.approx(1.75)
    assert web.cost_over_time().total == pytest.approx(2.6)
