"""The board screen: columns and cards, moving around, opening, filtering, panels, boards."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.console.screens.board import BoardScreen
from agentdeck.tui.console.screens.task_detail import TaskDetailScreen
from agentdeck.tui.console.widgets.column import TaskColumn
from agentdeck.tui.console.widgets.header import BoardHeader
from agentdeck.tui.console.widgets.task_card import TaskCard
from tests.console.conftest import SIZE, screen_text, settle, type_text, wait_for

pytestmark = pytest.mark.anyio


def board(app: AgentDeckApp) -> BoardScreen:
    screen = app.screen
    assert isinstance(screen, BoardScreen), f"expected the board, got {type(screen).__name__}"
    return screen


def column(app: AgentDeckApp, name: str) -> TaskColumn:
    return app.screen.query_one(f"#col-{name}", TaskColumn)


def shown_keys(app: AgentDeckApp, name: str) -> list[str]:
    """Keys of the cards mounted in a column, top to bottom."""
    return [c.key for c in column(app, name).query(TaskCard) if not c._pruning]


async def test_board_shows_every_column_with_its_cards(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        counts = other.counts("WEB").by_column
        for name in ("blocked", "ready", "in_progress", "needs_human", "done", "failed"):
            assert len(column(app, name).keys) == counts[name]
        # Done: most recent first; the others by priority then age.
        done = [t for t in other.list_tasks("WEB", status="done")]
        newest_first = [t.key for t in sorted(done, key=lambda t: t.completed_at, reverse=True)]
        assert column(app, "done").keys == newest_first
        card = column(app, "in_progress").card("WEB-7")
        assert card is not None
        text = card.render().plain
        assert "Build the blog" in text and "@fe-1" in text and "Writing the pagination" in text
        assert "$4.20" in card.border_title
        header = app.screen.query_one(BoardHeader)
        assert (header.done, header.total) == (counts["done"], sum(counts.values()))
        assert header.board is not None and header.board.name == "Website relaunch"


async def test_cards_show_blockers_and_badges(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        blocked = column(app, "blocked").card("WEB-16")
        assert blocked is not None and "⊘ WEB-7" in blocked.render().plain
        stale = column(app, "in_progress").card("WEB-9")
        assert stale is not None and "stale" in (stale.border_subtitle or "")
        over = column(app, "needs_human").card("WEB-12")
        assert over is not None and "over" in (over.border_subtitle or "")
        unverified = column(app, "done").card("WEB-6")
        assert unverified is not None and "unverified" in (unverified.border_subtitle or "")


async def test_arrows_and_hjkl_move_between_columns_and_cards(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = board(app)
        assert screen.selected_task().key == "WEB-15"  # first card of Ready
        await pilot.press("down")
        assert screen.selected_task().key == "WEB-14"
        await pilot.press("j")
        assert screen.selected_task().key == "WEB-18"
        await pilot.press("j")  # already last: stays
        assert screen.selected_task().key == "WEB-18"
        await pilot.press("k", "up")
        assert screen.selected_task().key == "WEB-15"
        await pilot.press("right")
        assert screen.active_column.column == "in_progress"
        await pilot.press("l")
        assert screen.selected_task().key == "WEB-13"
        await pilot.press("h", "h", "left")
        assert screen.active_column.column == "blocked"
        await pilot.press("left")  # first column: stays
        assert screen.active_column.column == "blocked"
        assert column(app, "blocked").card("WEB-19").has_class("-cursor")


async def test_enter_opens_the_task_and_escape_returns(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("right", "down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TaskDetailScreen) and screen.key == "WEB-7"
        assert "Build the blog index page" in str(screen.query_one("#detail-title").render())
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_a_column_longer_than_the_screen_shows_what_fits(deck: Deck, other: Deck) -> None:
    other.plan(
        [{"title": f"Bulk task {n}", "priority": 3} for n in range(60)],
        actor="planner",
        board="WEB",
    )
    app = make_app(deck)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ready = column(app, "ready")
        assert ready.count == 63 and len(ready.keys) == 60  # a page of 60 is loaded
        mounted = shown_keys(app, "ready")
        assert 3 <= len(mounted) == ready.capacity < 20
        below = str(ready.query_one(".more.-below").render())
        assert f"▼ {63 - len(mounted)} more" in below
        await pilot.press(*["down"] * 20)
        await settle(pilot)
        assert board(app).selected_task().key == ready.keys[20]
        assert ready.keys[20] in shown_keys(app, "ready")
        assert "▲" in str(ready.query_one(".more.-above").render())


async def test_filter_narrows_the_board_and_escape_clears_it(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "docs")
        await pilot.press("enter")
        await settle(pilot)
        for name in ("blocked", "ready", "in_progress", "needs_human", "done", "failed"):
            for key in column(app, name).keys:
                task = board(app).state.tasks[key]
                assert "docs" in f"{task.title} {task.description}".lower()
        assert column(app, "ready").keys == ["WEB-14"]
        assert "docs" in app.screen.query_one(BoardHeader).filter_text
        await pilot.press("escape")
        await settle(pilot)
        assert len(column(app, "ready").keys) == 3
        assert app.screen.query_one(BoardHeader).filter_text == ""


async def test_filter_by_agent(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board(app).set_filter(board(app).state.filter.__class__(agent="be-1"))
        await settle(pilot)
        everything = [
            k
            for n in ("blocked", "ready", "in_progress", "needs_human", "done", "failed")
            for k in column(app, n).keys
        ]
        assert everything and all(board(app).state.tasks[k].assignee == "be-1" for k in everything)


async def test_b_toggles_the_charts_panel(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panels = app.screen.query_one("#panels")
        assert not panels.display
        await pilot.press("b")
        await settle(pilot)
        assert panels.display
        roster = app.screen.query_one("#roster")
        names = {str(row.value) for row in roster.rows}
        assert {"fe-1", "be-1", "ops-2"} <= names and "ann" not in names
        assert app.screen.query_one("#burndown").burndown is not None
        gauges = app.screen.query_one("#budgets").render().plain
        assert "$14.51" in gauges and "$40.00" in gauges
        await pilot.press("b")
        assert not panels.display


async def test_B_switches_to_another_board(deck: Deck, other: Deck) -> None:
    other.create_board("OPS", "Operations", actor="ann")
    other.add_task("Rotate the TLS certificates", actor="ann", board="OPS")
    app = make_app(deck, board="WEB")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("B")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.board_key == "OPS"
        assert board(app).query_one(BoardHeader).board.key == "OPS"
        assert column(app, "ready").keys == ["OPS-1"]


async def test_question_mark_shows_the_keys(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        for label in (
            "Approve",
            "Reject",
            "Reassign",
            "Filter",
            "Charts",
            "Report",
            "Boards",
            "Quit",
        ):
            assert label in text
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_q_quits(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)


async def test_clicking_a_card_selects_it_and_a_double_click_opens_it(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = column(app, "done").card("WEB-6")
        await pilot.click(card, offset=(3, 2))
        await settle(pilot)
        assert board(app).selected_task().key == "WEB-6"
        assert board(app).active_column.column == "done"
        await pilot.click(card, offset=(3, 2), times=2)
        await settle(pilot)
        assert isinstance(app.screen, TaskDetailScreen) and app.screen.key == "WEB-6"
