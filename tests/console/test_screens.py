"""Task detail with its live log, the needs-human queue, knowledge search and the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.screens.dialogs import EventDialog
from agentdeck.tui.console.screens.needs_human import NeedsHumanScreen
from agentdeck.tui.console.screens.report import ReportScreen
from agentdeck.tui.console.screens.search import SearchScreen
from agentdeck.tui.console.screens.task_detail import TaskDetailScreen
from agentdeck.tui.console.widgets.log_view import LogView
from tests.console.conftest import SIZE, screen_text, settle, type_text, wait_for
from tests.console.test_moves import select

pytestmark = pytest.mark.anyio


async def open_detail(pilot, app: AgentDeckApp, key: str) -> TaskDetailScreen:
    await settle(pilot)
    await select(pilot, app, key)
    await pilot.press("enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TaskDetailScreen)
    return screen


async def test_detail_shows_everything_about_the_task(app: AgentDeckApp, other: Deck) -> None:
    other.checkpoint(
        "WEB-7",
        actor="fe-1",
        sha="0123456789abcdef",
        message="Paginator component",
        files=["a.tsx"],
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, app, "WEB-7")
        text = screen_text(app)
        for expected in (
            "Build the blog index page with pagination",  # title
            "Keep the change",  # description
            "Works on staging",  # success criteria
            "WEB-3",  # blocked by (done)
            "WEB-16 WEB-19",  # blocks
            "Writing the pagination component",  # doing now
            "$4.20",  # usage
            "0123456789",  # checkpoint
            "Prefetch the next page on hover",  # the log
        ):
            assert expected in text, expected


async def test_the_log_loads_the_newest_page_first_and_pages_back(
    app: AgentDeckApp, monkeypatch: pytest.MonkeyPatch, other: Deck
) -> None:
    monkeypatch.setattr("agentdeck.tui.console.screens.task_detail.PAGE", 5)
    every = other.task_events("WEB-7", limit=1000)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, app, "WEB-7")
        log = screen.query_one(LogView)
        # 5 newest first, then older pages as the view sits at the top of a short list.
        await wait_for(pilot, lambda: len(log.events) == len(every))
        assert [e.id for e in log.events] == [e.id for e in every]
        assert not log.more_before


async def test_the_log_follows_new_events(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, app, "WEB-7")
        log = screen.query_one(LogView)
        assert log.follow
        other.log("WEB-7", "npm run build: 0 warnings", actor="fe-1", kind="tool_call")
        app.request_refresh()  # what the watcher does when the file changes
        await wait_for(pilot, lambda: log.events[-1].text == "npm run build: 0 warnings")
        assert log.cursor == len(log.events) - 1
        await pilot.press("up")  # reading back pauses following
        assert not log.follow
        assert "paused" in screen_text(app)
        other.log("WEB-7", "deployed the preview", actor="fe-1")
        app.request_refresh()
        await wait_for(pilot, lambda: log.events[-1].text == "deployed the preview")
        assert log.cursor == len(log.events) - 3
        await pilot.press("f")
        assert log.follow and log.cursor == len(log.events) - 1


async def test_t_filters_the_log_by_kind(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, app, "WEB-7")
        log = screen.query_one(LogView)
        await pilot.press("t")  # all -> actions
        await settle(pilot)
        assert log.events and {e.subkind for e in log.events} == {"action"}
        assert "kind: actions" in screen_text(app)
        await pilot.press("t")  # -> tool calls
        await settle(pilot)
        assert {e.subkind for e in log.events} == {"tool_call"}


async def test_enter_on_a_log_line_shows_the_whole_event(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, app, "WEB-7")
        log = screen.query_one(LogView)
        await pilot.press("up")
        chosen = log.events[log.cursor]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventDialog)
        assert chosen.text in screen_text(app)
        await pilot.press("escape")
        assert app.screen is screen


async def test_moves_work_from_the_detail_screen(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, app, "WEB-12")
        await pilot.press("x")
        await settle(pilot)
        await type_text(pilot, "use the shared mailer")
        await pilot.press("enter")
        await settle(pilot)
        assert other.get_task("WEB-12").status == "pending"
        # The detail refreshes: the note shows, and rejecting no longer applies.
        await wait_for(pilot, lambda: "use the shared mailer" in screen_text(app))
        assert "reject_task" not in {b.binding.action for b in app.screen.active_bindings.values()}


async def test_the_needs_human_queue_lists_oldest_first_and_acts(
    app: AgentDeckApp, other: Deck
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NeedsHumanScreen)
        waiting = sorted(
            other.list_tasks("WEB", status=("review", "escalated")), key=lambda t: t.updated_at
        )
        table = screen.query_one("#queue")
        assert [table.get_row_at(i)[0].plain for i in range(table.row_count)] == [
            t.key for t in waiting
        ]
        text = screen_text(app)
        assert "Form posts to the ESP with double opt-in" in text  # the result of the first
        assert "Recent log" in text and "ran the unit tests" in text
        await pilot.press("a")
        await settle(pilot)
        assert other.get_task(waiting[0].key).status == "done"
        await wait_for(pilot, lambda: table.row_count == len(waiting) - 1)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskDetailScreen) and app.screen.key == waiting[1].key


async def test_s_searches_finished_work_and_opens_a_hit(app: AgentDeckApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await type_text(pilot, "content schema")
        await settle(pilot)
        await wait_for(pilot, lambda: [h.key for h in app.screen.hits][:1] == ["WEB-2"])
        assert "Design the content schema" in screen_text(app)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskDetailScreen) and app.screen.key == "WEB-2"


async def test_g_shows_the_report_and_w_saves_it(
    app: AgentDeckApp, tmp_path: Path, other: Deck
) -> None:
    target = tmp_path / "status.md"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        assert "progress report" in screen_text(app)
        await pilot.press("w")
        await settle(pilot)
        field = app.screen.query_one("#path")
        field.value = ""
        await type_text(pilot, str(target))
        await pilot.press("enter")
        await wait_for(pilot, target.exists)
        assert target.read_text(encoding="utf-8") == screen.markdown
        assert "Website relaunch" in screen.markdown


@pytest.mark.parametrize(("size", "stacked"), [((80, 24), True), ((140, 42), False)])
async def test_on_a_narrow_terminal_the_log_goes_under_the_fields_at_full_width(
    app: AgentDeckApp, size: tuple[int, int], stacked: bool
) -> None:
    """At 80 columns a log beside the fields would be 16 columns of timestamps: it goes under
    them instead, as wide as the screen, and its rows still show their text."""
    async with app.run_test(size=size) as pilot:
        screen = await open_detail(pilot, app, "WEB-7")
        log = screen.query_one(LogView).region
        fields = screen.query_one("#detail-info").region
        assert (log.y >= fields.bottom) is stacked
        assert (log.width >= size[0] - 4) is stacked
        assert "Prefetch the next page" in screen_text(app)
