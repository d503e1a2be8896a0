"""The charts panel keeps up with live changes, and the console shuts down cleanly after.

A change arriving once the panel's reload interval has passed used to start a zero-second
Textual timer, which divides by its interval: the timer died with ZeroDivisionError, the panel
never reloaded again, and quitting the console raised it again before the file watcher was
stopped, so the process hung on the watcher's thread (found by the WAL soak).
"""

from __future__ import annotations

import pytest

import agentdeck.tui.console.screens.board_charts as board_charts
from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.widgets.burndown import BurnDownChart
from tests.console.conftest import SIZE, settle, wait_for

pytestmark = pytest.mark.anyio


async def test_a_change_after_the_interval_reloads_the_charts_at_once(
    app: AgentDeckApp, other: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_charts, "PANELS_INTERVAL_S", 0.0)  # every change is past it
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        chart = app.screen.query_one(BurnDownChart)
        for n in range(3):
            shown = chart.burndown
            assert shown is not None
            other.add_task(f"one more {n}", actor="ann")
            app.request_refresh()  # the fixture app has no file watcher
            await wait_for(pilot, lambda: chart.burndown != shown)  # noqa: B023
            assert chart.burndown.points[-1].scope == shown.points[-1].scope + 1
    # Leaving `run_test` shut the app down: it re-raised any timer's error.


async def test_the_gauges_show_measured_usage_and_refused_telemetry(
    app: AgentDeckApp, other: Deck, tokens: dict[str, str]
) -> None:
    """Usage an agent's runtime measured shows under the board's gauges beside what the agents
    reported, and requests the receiver refused today are counted there in red."""
    from agentdeck.core.models import MeasuredPoint
    from agentdeck.tui.console.widgets.budget_gauges import BudgetGauges
    from tests.console.conftest import screen_text

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        gauges = app.screen.query_one(BudgetGauges)
        assert gauges.view.measured is None and "measured" not in screen_text(app)
        point = MeasuredPoint("metrics", "s", other.now(), tokens_in=123_000, cost_usd=4.5)
        other.record_measured(tokens["be-1"], [point])
        other.count_refusal("credential")
        app.request_refresh()
        await wait_for(pilot, lambda: gauges.view.measured is not None and gauges.view.refused)
        await settle(pilot)
        text = screen_text(app)
        assert "measured 123.0k tok · $4.50" in text
        assert "telemetry refused today: 1" in text
