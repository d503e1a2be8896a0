"""The charts panel keeps up with live changes, and the console shuts down cleanly after.

A change arriving once the panel's reload interval has passed used to start a zero-second
Textual timer, which divides by its interval: the timer died with ZeroDivisionError, the panel
never reloaded again, and quitting the console raised it again before the file watcher was
stopped, so the process hung on the watcher's thread (found by the WAL soak).
"""

from __future__ import annotations

import pytest

import agentdeck.tui.console.screens.board as board_screen
from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.widgets.burndown import BurnDownChart
from tests.console.conftest import SIZE, settle, wait_for

pytestmark = pytest.mark.anyio


async def test_a_change_after_the_interval_reloads_the_charts_at_once(
    app: AgentDeckApp, other: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_screen, "PANELS_INTERVAL_S", 0.0)  # every change is past it
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
