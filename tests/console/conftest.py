"""TUI test fixtures: the fixed WEB board on its own SQLite file, an app over it, helpers
that wait for workers (never sleeps), and a second deck to check what reached the database."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot

from agentdeck.core import Deck, credentials, identity
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.demo.screenshot import settle
from tests.console.board_fixture import HUMAN, FrozenClock, build_board, save_human_credential
from tests.console.board_fixture import tokens as board_tokens

SIZE = (140, 42)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests here (marked `anyio`) run on asyncio, which Textual needs."""
    return "asyncio"


@dataclass(frozen=True)
class Template:
    """The WEB board built once per session: its file, the clock where it was left, the task
    keys by plan ref, and every member's token (minted by the deck that built it)."""

    path: Path
    clock: FrozenClock
    keys: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture(scope="session")
def template_board(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Build the WEB board once per session; tests get a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "board.db"
    clock = FrozenClock()
    with Deck.open(path, create=True, clock=clock) as deck:
        keys = build_board(deck, clock)
        minted = board_tokens(deck)
    return Template(path, clock, keys, minted)


@pytest.fixture
def board_db(tmp_path: Path, template_board: Template) -> Path:
    """A copy of the WEB board, with `ann`'s token saved in this test's credential file (as
    `agentdeck board create` leaves it): a console opened on it acts as ann."""
    path = tmp_path / "board.db"
    shutil.copy(template_board.path, path)
    save_human_credential(path, template_board.tokens[HUMAN])
    return path


@pytest.fixture
def clock(template_board: Template) -> FrozenClock:
    """A clock standing at the moment the fixture board was finished."""
    return FrozenClock(template_board.clock.now)


@pytest.fixture
def keys(template_board: Template) -> dict[str, str]:
    return template_board.keys


@pytest.fixture
def tokens(template_board: Template) -> dict[str, str]:
    """Every member's token, by name."""
    return template_board.tokens


@pytest.fixture
def deck(board_db: Path, clock: FrozenClock) -> Iterator[Deck]:
    """The deck the app uses, holding what the console itself presents: the human's saved
    credentials (ann's)."""
    with Deck.open(board_db, clock=clock) as opened:
        identity.present_credentials(opened)
        yield opened


@pytest.fixture
def bare_deck(board_db: Path, clock: FrozenClock) -> Iterator[Deck]:
    """A deck on the board that presents no credential at all."""
    with Deck.open(board_db, clock=clock) as opened:
        yield opened


@pytest.fixture
def other(board_db: Path, clock: FrozenClock, tokens: dict[str, str]) -> Iterator[Deck]:
    """A second deck on the same file: how tests check the database and play the others. It
    holds both humans' credentials (ann's and bob's); the agents act by name, which board WEB
    (in `named` mode, the SQLite default) allows."""
    with Deck.open(board_db, clock=clock) as opened:
        for human in (HUMAN, "bob"):
            opened.present(tokens[human], credentials.BY_FILE)
        yield opened


@pytest.fixture
def app(deck: Deck) -> AgentDeckApp:
    """The console over the fixture board, watcher off, acting as human `ann`."""
    return make_app(deck, actor="ann")


def screen_text(app: AgentDeckApp) -> str:
    """What the terminal shows right now, as plain text (the way a user reads it)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def notices(app: AgentDeckApp) -> list[str]:
    """The notifications the app has shown (and not yet expired)."""
    return [n.message for n in app._notifications]


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type into the focused input, key by key."""
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])


__all__ = ["SIZE", "notices", "screen_text", "settle", "type_text", "wait_for"]
