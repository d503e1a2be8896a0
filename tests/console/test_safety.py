"""Untrusted text stays literal, and a database that cannot be used is a message, not a crash."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text

from agentdeck.core import Deck, identity
from agentdeck.core.limits import MAX_TEXT
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.console.screens.dialogs import EventDialog
from agentdeck.tui.console.screens.needs_human import NeedsHumanScreen
from agentdeck.tui.console.screens.status import ProblemScreen
from agentdeck.tui.console.screens.task_detail import TaskDetailScreen
from agentdeck.tui.console.widgets.log_view import format_event
from tests.console.conftest import SIZE, notices, screen_text, settle, wait_for
from tests.console.test_live import ROOT
from tests.console.test_moves import column, select

pytestmark = pytest.mark.anyio

MARKUP = "[bold red]PWNED[/] [link=https://evil.example]click me[/link] [/]"
ANSI = "\x1b[31mRED\x1b[0m \x1b]8;;https://evil.example\x07osc-link\x1b]8;;\x07 \x9b2J"


def assert_plain(text: Text) -> None:
    """No style in `text` came from the agent: no links, no red, no bold from markup."""
    for span in text.spans:
        assert "link" not in str(span.style), span
        assert "PWNED" not in text.plain[span.start : span.end] or "red" not in str(span.style)


@pytest.fixture
def hostile(other: Deck) -> str:
    """A task whose every agent-written field tries markup and terminal escapes."""
    task = other.add_task(
        f"{MARKUP} {ANSI}",
        actor="planner",
        board="WEB",
        description=f"line one\n{MARKUP}\n{ANSI}",
        criteria=MARKUP,
        priority=0,
        skills=["frontend"],
    )
    other.claim("fe-1", key=task.key)
    other.doing("fe-1", f"doing {MARKUP}", key=task.key)
    other.log(task.key, f"log {MARKUP} {ANSI}", actor="fe-1", kind="decision")
    other.submit(task.key, actor="fe-1", result=f"result {MARKUP}")
    return task.key


async def test_markup_and_escapes_in_titles_show_literally_on_the_board(
    app: AgentDeckApp, hostile: str
) -> None:
    async with app.run_test(size=(200, 42)) as pilot:
        await settle(pilot)
        card = column(app, "needs_human").card(hostile)
        assert card is not None
        rendered = card.render()
        assert "[bold red]PWNED[/]" in rendered.plain
        assert_plain(rendered)
        text = screen_text(app)
        assert "[bold red]PWNED[/]" in text
        assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text


async def test_markup_and_escapes_show_literally_in_the_detail_and_log(
    app: AgentDeckApp, hostile: str
) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await select(pilot, app, hostile)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskDetailScreen)
        text = screen_text(app)
        assert "log [bold red]PWNED[/] [link=https://evil.example]click me[/link]" in text
        assert "result [bold red]PWNED[/]" in text
        assert "doing [bold red]PWNED[/]" in text
        assert "␛[31mRED␛[0m ␛]8;;https://evil.example␇osc-link" in text
        assert "\x1b" not in text and "\x07" not in text
        svg = app.export_screenshot()
        assert "evil.example" in svg and "href" not in svg.split("evil.example")[0][-200:]
        for event in app.screen.query_one("#log").events:
            assert_plain(format_event(event))


async def test_markup_shows_literally_in_the_needs_human_queue(
    app: AgentDeckApp, hostile: str
) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        app.push_screen(NeedsHumanScreen())
        await settle(pilot)
        while app.screen.selected_task().key != hostile:
            await pilot.press("down")
        await settle(pilot)
        text = screen_text(app)
        assert "result [bold red]PWNED[/]" in text
        assert "\x1b" not in text


def test_problem_message_for_a_database_from_a_newer_agentdeck(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    conn.commit()
    conn.close()
    assert "newer" in problem_shown(AgentDeckApp(db=str(path), actor="ann", watch=False))


def test_problem_message_for_a_missing_database(tmp_path: Path) -> None:
    shown = problem_shown(AgentDeckApp(db=str(tmp_path / "nowhere.db"), actor="ann", watch=False))
    assert "no agentdeck database" in shown


def test_problem_message_for_a_database_without_boards(tmp_path: Path) -> None:
    Deck.open(tmp_path / "empty.db", create=True).close()
    shown = problem_shown(AgentDeckApp(db=str(tmp_path / "empty.db"), actor="ann", watch=False))
    assert "no board" in shown


def problem_shown(app: AgentDeckApp) -> str:
    import asyncio

    async def run() -> str:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, ProblemScreen)
            text = screen_text(app)
            await pilot.press("q")
            return text

    return asyncio.run(run())


async def test_a_locked_database_gives_a_notice_and_the_app_carries_on(
    board_db: Path, clock
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"conn = sqlite3.connect({str(board_db)!r}, isolation_level=None)\n"
            "conn.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "conn.execute('COMMIT')\n",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    deck = Deck.open(board_db, clock=clock, timeout=0.3)
    identity.present_credentials(deck)  # ann's, as the console presents them
    try:
        app = make_app(deck)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)  # reads work while a writer holds the lock (WAL)
            await select(pilot, app, "WEB-11")
            assert holder.stdout.readline().strip() == "locked"
            await pilot.press("a")
            await settle(pilot)
            assert any("locked" in n for n in notices(app))
            assert app.is_running
            holder.communicate("go\n", timeout=30)
            await pilot.press("a")
            await settle(pilot)
            await wait_for(pilot, lambda: "WEB-11" in column(app, "done").keys)
    finally:
        if holder.poll() is None:
            holder.kill()
        deck.close()


def test_the_report_does_not_turn_bare_domains_into_links() -> None:
    """Agent text like "see evil.example" stays text: links in a terminal are clickable."""
    from agentdeck.tui.console.screens.report import _literal_parser

    tokens = _literal_parser().parse("Task: see evil.example or https://evil.example now")
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert "link_open" not in kinds


# -- 10 MB of log, controls, bidi overrides and replaced invalid UTF-8 ---------------------------

# Every C0 control but newline, DEL, every C1 control, bidi overrides, NUL and the lone
# surrogates Python makes of bytes that are not UTF-8 (stored as U+FFFD).
NASTY = (
    "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c != 0x0A)
    + "\u202eRTL\u202c \u2066iso\u2069 bad\udcff\udc80bytes [bold red]PWNED[/]"
)
RAW = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\n"]
RAW += ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
FLOOD = 10 * 1024 * 1024
ENTRY = 16 * 1024  # 640 entries of 16 KiB: 10 MB, more than one page of the log view


@pytest.fixture
def flooded(other: Deck) -> str:
    """A task with a 10 MB description (stored cut, with a marker), a 10 MB log (640 entries of
    16 KiB and one of 10 MB cut to 64 KiB), then an entry of controls and invalid UTF-8."""
    task = other.add_task(
        "Flood " + NASTY, actor="planner", board="WEB", description="d" * FLOOD, skills=["frontend"]
    )
    other.claim("fe-1", key=task.key)
    other.log(task.key, "entry 0 " + "x" * FLOOD, actor="fe-1", kind="tool_call")
    for n in range(1, FLOOD // ENTRY + 1):
        other.log(task.key, f"entry {n} " + "x" * ENTRY, actor="fe-1", kind="tool_call")
    other.log(task.key, "tail " + NASTY, actor="fe-1", kind="observation")
    return task.key


def assert_no_raw_controls(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the screen"


async def test_a_ten_megabyte_log_opens_pages_back_and_shows_controls_literally(
    app: AgentDeckApp, flooded: str
) -> None:
    """The detail opens on the newest entry with controls shown as symbols, overrides dropped
    and bad bytes as U+FFFD; Home pages back through 10 MB to the first entry, whose 64 KiB
    opens in full with its truncation marker; Enter on the newest shows it literally too."""
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert_no_raw_controls(screen_text(app))
        await select(pilot, app, flooded)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaskDetailScreen)
        log = app.screen.query_one("#log")
        await wait_for(pilot, lambda: bool(log.events))
        text = screen_text(app)
        assert_no_raw_controls(text)
        assert "tail \ufffd␁␂" in text and "bad\ufffd\ufffdbytes [bold red]PWNED[/]" in text
        assert "RTL iso" in text  # the overrides are gone, the words stay in their order

        log.focus()
        while log.more_before or log.cursor > 0:
            await pilot.press("home")
            await wait_for(pilot, lambda: not log.loading_older)
        first = next(i for i, e in enumerate(log.events) if e.text.startswith("entry 0 "))
        assert len(log.events) > 640 and log.events[0].kind == "created"
        await pilot.press(*["down"] * first, "enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EventDialog) and dialog.event.text.startswith("entry 0 xxx")
        shown = screen_text(app)
        assert f"#{dialog.event.id}  " in shown and "  entry 0  " in shown
        await pilot.press("end")  # scrolls the dialog's 64 KiB to its end
        await settle(pilot)
        assert f"[truncated by agentdeck: {FLOOD + 8 - MAX_TEXT} more characters]" in (
            screen_text(app)
        )
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("end")
        await wait_for(pilot, lambda: log.cursor == len(log.events) - 1)
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        assert_no_raw_controls(shown)
        assert "bad\ufffd\ufffdbytes [bold red]PWNED[/]" in shown and "␛" in shown
