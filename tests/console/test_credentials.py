"""What the console shows about credentials: who it acts as (or that it can only look), the
board's agents mode, kept current as it changes, and a dim `·named` after an actor that acted
by its name alone, never after a human or a token-backed agent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.containers import VerticalScroll

from agentdeck.core import Deck
from agentdeck.core.models import Event
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.console.screens.dialogs import EventDialog
from agentdeck.tui.console.screens.help import HelpScreen
from agentdeck.tui.console.screens.needs_human import NeedsHumanScreen
from agentdeck.tui.console.widgets.header import BoardHeader
from agentdeck.tui.console.widgets.log_view import (
    NAMED_MARK,
    LogView,
    actor_column,
    format_event,
)
from tests.console.conftest import SIZE, notices, screen_text, settle, wait_for
from tests.console.test_moves import select
from tests.console.test_screens import open_detail

pytestmark = pytest.mark.anyio


def header_text(app: AgentDeckApp) -> str:
    return app.screen.query_one(BoardHeader).render().plain  # type: ignore[union-attr]


def log_rows(app: AgentDeckApp) -> dict[int, str]:
    """Each loaded event's log row as plain text, by event id."""
    log = app.screen.query_one(LogView)
    return {e.id: format_event(e, actor_column(log.events)).plain for e in log.events}


async def test_the_header_says_who_the_console_acts_as_and_how_agents_sign_in(
    app: AgentDeckApp, other: Deck
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = header_text(app)
        assert "as ann" in shown and "agents: named" in shown
        assert "Agents · named mode" in str(app.screen.query_one("#roster-panel").border_title)
        other.set_agents_mode("token", actor="bob")  # another human, elsewhere
        app.request_refresh()  # the fixture app has no file watcher
        await wait_for(pilot, lambda: "agents: token" in header_text(app))
        assert "token mode" in str(app.screen.query_one("#roster-panel").border_title)
        assert "as ann" in header_text(app)


async def test_without_a_credential_the_header_says_read_only(bare_deck: Deck) -> None:
    app = make_app(bare_deck, actor=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = header_text(app)
        assert "read-only" in shown and "as ann" not in shown


@pytest.mark.parametrize("size", [(80, 24), (140, 42)])
async def test_the_header_keeps_the_board_and_its_badges_at_80_and_140_columns(
    app: AgentDeckApp, size: tuple[int, int]
) -> None:
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        top = screen_text(app).splitlines()[0]
        for part in ("WEB", "Website", "as ann", "agents: named", "done"):
            assert part in top, (part, top)


async def test_an_agent_acting_by_name_is_marked_and_token_and_human_moves_are_not(
    app: AgentDeckApp, other: Deck
) -> None:
    other.log("WEB-11", "checked by name", actor="fe-2")  # `other` holds no agent token
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-11")
        await pilot.press("a")  # ann approves, with her credential
        await settle(pilot)
        events = other.task_events("WEB-11", limit=100)
        by_name = next(e for e in events if e.text == "checked by name")
        assert by_name.auth == "named"
        approval = next(e for e in events if e.kind == "approval")
        assert (approval.actor, approval.auth) == ("ann", "credential file")
        minted = next(e for e in events if e.kind == "claimed")
        assert minted.auth == "token"  # the fixture's deck acted with the tokens it minted

        await open_detail(pilot, app, "WEB-11")
        rows = log_rows(app)
        assert f"fe-2{NAMED_MARK}" in rows[by_name.id]
        assert NAMED_MARK not in rows[approval.id] and NAMED_MARK not in rows[minted.id]
        assert f"fe-2{NAMED_MARK}" in screen_text(app)

        log = app.screen.query_one(LogView)
        log.focus()
        log.cursor = next(i for i, e in enumerate(log.events) if e.text == "checked by name")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EventDialog)
        assert "acted by name alone" in screen_text(app)
        await pilot.press("escape")
        log.cursor = next(i for i, e in enumerate(log.events) if e.kind == "approval")
        await pilot.press("enter")
        await settle(pilot)
        assert "acted with a human's saved credential" in screen_text(app)


async def test_the_needs_human_queue_marks_the_agent_that_acted_by_name(
    app: AgentDeckApp, other: Deck
) -> None:
    other.log("WEB-11", "one more look by name", actor="fe-2")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(NeedsHumanScreen())
        await settle(pilot)
        await wait_for(pilot, lambda: "one more look by name" in screen_text(app))
        line = next(ln for ln in screen_text(app).splitlines() if "one more look by name" in ln)
        assert f"fe-2{NAMED_MARK}" in line


async def test_help_explains_the_marker_and_that_humans_never_act_by_name(
    app: AgentDeckApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        app.screen.query_one(VerticalScroll).scroll_end(animate=False)
        await settle(pilot)
        text = " ".join(screen_text(app).replace("│", " ").split())
        assert f"coder{NAMED_MARK}" in text
        assert "humans never act by name" in text


EVENT = Event(
    id=1,
    board="WEB",
    task="WEB-1",
    actor="reviewer",
    kind="log",
    subkind="observation",
    text="hello",
    data={},
    created_at=datetime(2025, 3, 3, tzinfo=UTC),
    auth="named",
)


def test_the_columns_stay_aligned_when_one_row_carries_the_marker() -> None:
    plain = replace(EVENT, id=2, actor="planner", auth="token")
    long_named = replace(EVENT, id=3, actor="a-very-long-agent-name", auth="named")
    width = actor_column([EVENT, plain, long_named])
    assert width == 12 + len(NAMED_MARK)
    rows = [format_event(e, width).plain for e in (EVENT, plain, long_named)]
    assert len({row.index("observation") for row in rows}) == 1, rows
    assert "reviewer·named" in rows[0] and "a-very-long…·named" in rows[2]
    assert actor_column([plain]) == 12 and NAMED_MARK not in format_event(plain).plain


def test_an_actor_with_markup_and_escapes_is_shown_literally_before_the_marker() -> None:
    hostile = replace(EVENT, actor="[red]x\x1b[0m")
    row = format_event(hostile, actor_column([hostile]))
    assert isinstance(row, Text)
    assert "[red]x␛[0m·named" in row.plain and "\x1b" not in row.plain
    assert not [s for s in row.spans if "red" in str(s.style)]


async def test_the_console_opened_on_a_file_acts_with_the_saved_credential(
    board_db: Path, other: Deck
) -> None:
    """The real way in: the app opens its own deck and presents the human's credential file;
    with no name given it acts as the credential's holder."""
    app = AgentDeckApp(db=str(board_db), actor=None, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "as ann" in header_text(app)
        await select(pilot, app, "WEB-11")
        await pilot.press("a")
        await settle(pilot)
    approval = next(e for e in other.task_events("WEB-11") if e.kind == "approval")
    assert (approval.actor, approval.auth) == ("ann", "credential file")


async def test_a_console_with_an_empty_credential_file_is_read_only(
    board_db: Path, other: Deck, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "someone-else"))
    app = AgentDeckApp(db=str(board_db), actor="ann", watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "read-only" in header_text(app)
        await select(pilot, app, "WEB-11")
        await pilot.press("a")
        await wait_for(pilot, lambda: any("no credential" in n for n in notices(app)))
    assert other.get_task("WEB-11").status == "review"
