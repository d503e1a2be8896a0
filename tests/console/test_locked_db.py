"""The console while another process holds the database's write lock: the human's move waits
in its worker, a line says the console is waiting (and for how long), the keys and the reads
behind them keep working, and the move lands once the lock is let go; a move whose wait runs
out is one error line, and the console carries on.

The holder is a real process (`tests/lock_holder.py`), holding SQLite's write lock the way the
`sqlite3` shell does, or agentdeck's writer lock as well the way another agentdeck writer does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdeck.core import Deck, identity
from agentdeck.core.models import COLUMNS
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.console.screens.board import BoardScreen
from agentdeck.tui.console.screens.task_detail import TaskDetailScreen
from tests.console.board_fixture import FrozenClock
from tests.console.conftest import SIZE, notices, screen_text, settle, wait_for
from tests.console.test_moves import select
from tests.lock_holder import holding_write_lock

pytestmark = pytest.mark.anyio
HOLDERS = ["sqlite", "agentdeck"]
WAITING = "database busy — waiting for another writer"


def open_deck(path: Path, clock: FrozenClock, timeout: float) -> Iterator[Deck]:
    """The app's deck, holding the human's saved credential as the console's own would."""
    with Deck.open(path, clock=clock, timeout=timeout) as opened:
        identity.present_credentials(opened)
        yield opened


@pytest.fixture
def patient(board_db: Path, clock: FrozenClock) -> Iterator[Deck]:
    """The app's deck, waiting up to a minute for a lock (the tests let go well before)."""
    yield from open_deck(board_db, clock, 60.0)


@pytest.fixture
def hasty(board_db: Path, clock: FrozenClock) -> Iterator[Deck]:
    """The app's deck, giving up on a lock after half a second."""
    yield from open_deck(board_db, clock, 0.5)


def waiting_shown(app: AgentDeckApp) -> bool:
    return WAITING in screen_text(app)


@pytest.mark.parametrize("holder", HOLDERS)
async def test_a_move_waits_for_the_lock_says_so_and_lands_after(
    patient: Deck, other: Deck, board_db: Path, holder: str
) -> None:
    app = make_app(patient, actor="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-11")
        board = app.screen
        assert isinstance(board, BoardScreen)
        with holding_write_lock(board_db, holder) as lock:
            await pilot.press("a")
            await wait_for(pilot, lambda: waiting_shown(app))
            assert "of 60 s)" in screen_text(app)
            # Still responsive: the cursor moves, and a task opens and loads (reads go on).
            column = board.column_index
            await pilot.press("left")
            assert board.column_index == column - 1
            await pilot.press("right", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
            await wait_for(pilot, lambda: app.screen.detail is not None)
            assert waiting_shown(app), "the busy line shows on every screen"
            await pilot.press("escape")
            assert other.get_task("WEB-11").status == "review"
            lock.release()
            await wait_for(pilot, lambda: any("WEB-11 approved" in n for n in notices(app)))
        await wait_for(pilot, lambda: not waiting_shown(app))
        assert app.write_wait_since is None
        assert other.get_task("WEB-11").status == "done"
        assert "WEB-11" in board.columns[COLUMNS.index("done")].keys


@pytest.mark.parametrize("holder", HOLDERS)
async def test_a_move_that_waits_past_its_timeout_is_one_error_line(
    hasty: Deck, other: Deck, board_db: Path, holder: str
) -> None:
    app = make_app(hasty, actor="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-11")
        with holding_write_lock(board_db, holder):
            await pilot.press("a")
            await wait_for(pilot, lambda: any("stayed locked" in n for n in notices(app)))
        errors = [n for n in notices(app) if "stayed locked" in n]
        assert errors == [
            "the database stayed locked by another writer for over 0.5s "
            "(raise AGENTDECK_TIMEOUT to wait longer)"
        ]
        await wait_for(pilot, lambda: app.write_wait_since is None and not waiting_shown(app))
        assert other.get_task("WEB-11").status == "review"
        # The console carries on: the same move works now that the lock is gone.
        await pilot.press("a")
        await wait_for(pilot, lambda: any("WEB-11 approved" in n for n in notices(app)))
        assert other.get_task("WEB-11").status == "done"
