"""The console's task detail shows a task's comments and an epic's progress; a card shows it."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.widgets.task_card import context_line
from tests.console.conftest import SIZE, screen_text
from tests.console.test_screens import open_detail

pytestmark = pytest.mark.anyio


async def test_detail_shows_comments_and_subtask_progress(app: AgentDeckApp, other: Deck) -> None:
    other.comment("WEB-7", "Remember the [b]empty state[/b]", actor="ann")
    other.comment("WEB-7", "On it", actor="fe-1")
    part = other.add_task("Empty state", actor="ann", parent="WEB-7").key
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, app, "WEB-7")
        text = screen_text(app)
        for expected in (
            "Comments",
            "Remember the [b]empty state[/b]",
            "On it",
            f"0/1 done: {part}",
        ):
            assert expected in text, expected


def test_an_epic_card_shows_what_it_waits_on_and_its_progress(other: Deck) -> None:
    epic = other.add_task("Launch", actor="ann").key
    other.add_task("Part one", actor="ann", parent=epic)
    shown = context_line(other.get_task(epic)).plain
    assert shown == "⊘ subtasks · 0/1"
