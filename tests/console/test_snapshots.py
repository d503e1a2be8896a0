"""SVG snapshots of the main screens over the fixed WEB board: frozen clock, watcher off,
no blinking cursor. Each docstring says what a correct picture shows; when a snapshot
changes, look at the picture (pytest --snapshot-report) before accepting it.

The board, the task detail and the needs-human queue are taken at 80x24 (usable: keys
whole, counts kept, the log given the room), 120x40 and 200x60; the other screens at the
console's usual 140x42, and search and help at 80x24 too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from agentdeck.core import Deck
from agentdeck.tui.console.app import make_app
from agentdeck.tui.console.screens.needs_human import NeedsHumanScreen
from agentdeck.tui.console.screens.report import ReportScreen
from agentdeck.tui.console.screens.search import SearchScreen
from agentdeck.tui.demo.screenshot import freeze_cursors, settle
from tests.console.conftest import SIZE
from tests.console.test_moves import select

Before = Callable[[Pilot[Any]], Awaitable[None]]

# The three terminal sizes every main screen must work at.
SIZES = [
    pytest.param((80, 24), id="80x24"),
    pytest.param((120, 40), id="120x40"),
    pytest.param((200, 60), id="200x60"),
]
SMALL = [pytest.param(SIZE, id="140x42"), pytest.param((80, 24), id="80x24")]


def steps(*actions: Callable[[Pilot[Any]], Awaitable[None]]) -> Before:
    """Settle, run each step and settle after it, then stop cursors blinking."""

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for action in actions:
            await action(pilot)
            await settle(pilot)
        freeze_cursors(pilot.app)

    return run


def press(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)

    return run


def go_to(key: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await select(pilot, pilot.app, key)

    return run


def push(factory: Callable[[], Any]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(factory())

    return run


@pytest.mark.parametrize("size", SIZES)
def test_board(snap_compare, deck: Deck, size: tuple[int, int]) -> None:
    """Header with WEB, the goal, 7/24 done and "paused" (watcher off); six columns with
    counts 5/3/4/3/7/2 (at 80x24 as "Doing", "Needs": every count shown); every card's key
    whole on its border (at 80x24 the priority shown as the key's colour); the cursor on
    WEB-15 in Ready; WEB-9 marked stale, WEB-12 over, WEB-6 unverified; Done newest first; a
    footer of whole keys without approve/reject (not a review), "?" help and the palette."""
    assert snap_compare(make_app(deck), terminal_size=size, run_before=steps())


def test_board_with_charts(snap_compare, deck: Deck) -> None:
    """The board above a panel: a burn-down with open, scope, ideal and forecast lines and a
    legend; board gauges for tokens, cost, CPU h and GPU h with soft-limit ticks; the roster
    with fe-1/be-1/qa-1 working, ops-2 stale, the others idle."""
    assert snap_compare(make_app(deck), terminal_size=SIZE, run_before=steps(press("b")))


@pytest.mark.parametrize("size", SIZES)
def test_task_detail_with_log(snap_compare, deck: Deck, size: tuple[int, int]) -> None:
    """WEB-7 in progress: fields, description, criteria, dependencies both ways and history
    on the left (at 80x24 above the log, full width); the log, newest last with the cursor
    on it, "following", taking most of the room."""
    app = make_app(deck)
    assert snap_compare(app, terminal_size=size, run_before=steps(go_to("WEB-7"), press("enter")))


@pytest.mark.parametrize("size", SIZES)
def test_needs_human_queue(snap_compare, deck: Deck, size: tuple[int, int]) -> None:
    """Three waiting tasks, oldest first (WEB-11 review, WEB-12 review, WEB-13 answer), titles
    cut with an ellipsis; the first highlighted with its result, "verified", criteria and
    recent log (rows cut, never wrapped) on the right, or below the list at 80x24."""
    app = make_app(deck)
    assert snap_compare(app, terminal_size=size, run_before=steps(push(NeedsHumanScreen)))


@pytest.mark.parametrize("size", SMALL)
def test_knowledge_search(snap_compare, deck: Deck, size: tuple[int, int]) -> None:
    """The query "content schema" and WEB-2 "Design the content schema…" as the best hit
    with its snippet and result, indented under the title."""
    app = make_app(deck)
    run = steps(push(lambda: SearchScreen("content schema")))
    assert snap_compare(app, terminal_size=size, run_before=run)


def test_report(snap_compare, deck: Deck) -> None:
    """The progress report rendered as markdown: title, goal, 7 of 24 done, the done list."""
    app = make_app(deck)
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(push(ReportScreen)))


def test_reject_dialog(snap_compare, deck: Deck) -> None:
    """A "Reject WEB-11" dialog over the dimmed board: the task's key and title, a prompt
    for what to fix, an empty notes field, Send back and Cancel buttons."""
    app = make_app(deck)
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(go_to("WEB-11"), press("x")))


@pytest.mark.parametrize("size", SMALL)
def test_help(snap_compare, deck: Deck, size: tuple[int, int]) -> None:
    """The keys dialog: every board key with its label and what it does; approve, reject,
    reopen and answer dimmed because the selected task (WEB-15) is ready."""
    assert snap_compare(
        make_app(deck), terminal_size=size, run_before=steps(press("question_mark"))
    )


def test_hostile_text_stays_literal(snap_compare, deck: Deck, other: Deck) -> None:
    """A P0 ready card whose title is Rich markup and escape codes: the brackets show as
    typed ([bold red]PWNED[/]…) in plain card colours, escapes as ␛ symbols."""
    other.add_task(
        "[bold red]PWNED[/] \x1b[31mRED\x1b[0m [link=https://evil.example]x[/link]",
        actor="planner",
        board="WEB",
        priority=0,
    )
    assert snap_compare(make_app(deck), terminal_size=SIZE, run_before=steps())
