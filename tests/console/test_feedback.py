"""A key that cannot act says why, and a task that moved on under the cursor (someone else
acted on it just before the key) is named, never swapped silently for the next one."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.widgets import DataTable

from agentdeck.core import Deck
from agentdeck.core.models import Task
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.feedback import why_not
from agentdeck.tui.console.screens.needs_human import NeedsHumanScreen
from tests.console.conftest import SIZE, notices, screen_text, settle, wait_for
from tests.console.test_moves import select

pytestmark = pytest.mark.anyio


async def test_a_key_whose_move_does_not_apply_says_why(app: AgentDeckApp, other: Deck) -> None:
    before = other.get_task("WEB-7")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-7")  # in progress
        await pilot.press("a")
        await settle(pilot)
        assert "WEB-7 is in progress; only a task in review can be approved" in notices(app)
        await pilot.press("o")
        await settle(pilot)
        assert (
            "WEB-7 is in progress; only a task that is done or failed can be reopened"
            in notices(app)
        )
    assert other.get_task("WEB-7").version == before.version  # nothing was written


def test_priority_keys_at_the_ends_say_so(other: Deck) -> None:
    task: Task = other.get_task("WEB-7")
    top, bottom = replace(task, priority=0), replace(task, priority=4)
    assert why_not("raise_priority", top) == "WEB-7 is already P0, the highest priority"
    assert why_not("lower_priority", bottom) == "WEB-7 is already P4, the lowest priority"
    assert why_not("raise_priority", task) is None
    assert why_not("answer_task", task) == (
        "WEB-7 is in progress; only a task that is escalated can be answered"
    )
    assert why_not("approve_task", None) == "No task is selected"
    assert why_not("open_task", task) is None  # not a task move: nothing to explain


def queue_keys(screen: NeedsHumanScreen) -> list[str]:
    table = screen.query_one("#queue", DataTable)
    return [table.get_row_at(i)[0].plain for i in range(table.row_count)]


async def open_queue(app: AgentDeckApp, pilot) -> NeedsHumanScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, NeedsHumanScreen)
    assert queue_keys(screen)[:2] == ["WEB-11", "WEB-12"]
    assert screen.cursor_key() == "WEB-11"
    return screen


async def test_a_task_approved_elsewhere_after_the_refresh_keeps_the_cursor_and_is_named(
    app: AgentDeckApp, other: Deck
) -> None:
    """bob approves WEB-11 from another deck; the queue refreshes; then ann presses `a`."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        other.approve("WEB-11", actor="bob")
        app.request_refresh()  # what the file watcher does
        await wait_for(pilot, lambda: "WEB-11" in screen.gone)
        assert screen.cursor_key() == "WEB-11"  # the cursor did not jump to WEB-12
        assert "approved by bob" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert "WEB-11 was already approved by bob" in notices(app)
        assert other.get_task("WEB-12").status == "review"  # never approved in its place
        assert screen.cursor_key() == "WEB-11"
        # Moving on drops the struck row; the cursor lands where the user moved it.
        await pilot.press("down")
        await settle(pilot)
        assert "WEB-11" not in queue_keys(screen)
        assert screen.cursor_key() == "WEB-12"
        assert not screen.gone


async def test_a_task_approved_elsewhere_before_the_refresh_is_refused_by_name(
    app: AgentDeckApp, other: Deck
) -> None:
    """bob approves WEB-11 between the queue's last refresh and ann's `a`: the move is
    refused with who did what, and the row stays under the cursor, marked."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        other.approve("WEB-11", actor="bob")
        await pilot.press("a")  # the screen still shows WEB-11 waiting
        await settle(pilot)
        await wait_for(pilot, lambda: "WEB-11" in screen.gone)
        assert "WEB-11 was already approved by bob" in notices(app)
        assert not any("version" in n for n in notices(app))
        assert screen.cursor_key() == "WEB-11"
        assert other.get_task("WEB-12").status == "review"
        assert [e.actor for e in other.task_events("WEB-11", kinds=["approval"])] == ["bob"]


async def test_own_moves_leave_the_queue_without_a_mark(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_queue(app, pilot)
        await pilot.press("a")
        await settle(pilot)
        await wait_for(pilot, lambda: "WEB-11" not in queue_keys(screen))
        assert not screen.gone
        assert screen.cursor_key() == "WEB-12"
        assert other.get_task("WEB-11").status == "done"
