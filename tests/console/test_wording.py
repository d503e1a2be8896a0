"""The console's own texts (outside the board widgets) name statuses in words."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.screens.search import SearchScreen
from agentdeck.tui.console.screens.task_detail import info_text
from tests.console.conftest import SIZE, screen_text, settle, type_text, wait_for


def test_the_task_screen_names_a_blocker_s_status_in_words(deck: Deck) -> None:
    """`WEB-3 (in progress)`, not `(in_progress)` (the task screen's dependencies)."""
    first = deck.add_task("Blocker", actor="ann")
    waiting = deck.add_task("Waits", actor="ann", blocked_by=[first.key])
    deck.assign(first.key, "fe-1", actor="ann")
    claimed = deck.claim("fe-1", board="WEB", key=first.key)
    assert claimed is not None
    text = info_text(deck.task_detail(waiting.key), deck.now()).plain
    assert f"{first.key} (in progress)" in text and "in_progress" not in text


@pytest.mark.anyio
async def test_one_search_hit_is_singular(app: AgentDeckApp, other: Deck) -> None:
    """The search screen says "1 finished task matches", not "1 finished task match"."""
    key = other.add_task("Zanzibar widget", actor="ann").key
    other.assign(key, "fe-1", actor="ann")
    claimed = other.claim("fe-1", board="WEB", key=key)
    assert claimed is not None
    other.complete(key, actor="fe-1", result="Zanzibar shipped")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await type_text(pilot, "Zanzibar")
        await wait_for(pilot, lambda: [h.key for h in app.screen.hits] == [key])
        await settle(pilot)
        assert "1 finished task matches" in screen_text(app)
