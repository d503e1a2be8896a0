"""The command palette holds agentdeck's actions first, one line each, and none of Textual's
widget keys (Down, Page down, Focus Next...); Textual's own few commands come after."""

from __future__ import annotations

from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.palette import TEXTUAL_KEPT
from tests.console.conftest import SIZE, settle, type_text, wait_for
from tests.console.test_moves import select

pytestmark = pytest.mark.anyio

TEXTUAL_WIDGET_KEYS = ("Down", "Up", "Page down", "Page up", "Focus Next", "Focus Previous")


def palette_lines(app: AgentDeckApp) -> list[list[str]]:
    """Each command the open palette lists, as the lines it shows."""
    palette = app.screen
    assert isinstance(palette, CommandPalette)
    options = palette.query_one(CommandList)
    return [
        str(options.get_option_at_index(i).prompt).splitlines() for i in range(options.option_count)
    ]


async def open_palette(pilot: Pilot[Any], app: AgentDeckApp) -> list[list[str]]:
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    await wait_for(pilot, lambda: len(palette_lines(app)) > 3)
    await settle(pilot)
    return palette_lines(app)


async def test_the_palette_lists_agentdeck_actions_first_one_line_each(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-14")
        lines = await open_palette(pilot, app)
    assert all(len(command) == 1 for command in lines), lines
    titles = [command[0] for command in lines]
    theirs = [i for i, t in enumerate(titles) if t in TEXTUAL_KEPT]
    ours = [i for i, t in enumerate(titles) if t not in TEXTUAL_KEPT]
    assert ours and theirs and max(ours) < min(theirs), titles
    assert not any(t.split(" · ")[0] in TEXTUAL_WIDGET_KEYS for t in titles), titles
    assert not any(t.startswith(("Focus", "Scroll", "Page", "Down", "Up")) for t in titles), titles
    # Each of ours says what it does and which key does it.
    assert any(t.startswith("Raise the priority") and t.endswith(" · p") for t in titles), titles


async def test_a_query_ranks_agentdeck_actions_and_runs_them(
    app: AgentDeckApp, other: Deck
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-14")
        await open_palette(pilot, app)
        await type_text(pilot, "priority")
        await wait_for(pilot, lambda: "Raise" in str(palette_lines(app)))
        await settle(pilot)
        first = palette_lines(app)[0]
        assert len(first) == 1 and "priority" in first[0].lower(), palette_lines(app)
        await type_text(pilot, " towards")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    assert other.get_task("WEB-14").priority == 1
