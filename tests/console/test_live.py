"""Live refresh: writes by other processes reach the board without a key press, as diffs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.tui.console.app import make_app
from agentdeck.tui.console.screens.board import BoardScreen
from agentdeck.tui.console.watcher import DatabaseWatcher
from agentdeck.tui.console.widgets.header import BoardHeader
from agentdeck.tui.console.widgets.task_card import TaskCard
from tests.console.conftest import SIZE, settle, wait_for
from tests.console.test_moves import column, select

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


def run_writer(db: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run a small script using `Deck` in a separate OS process against `db`, presenting the
    human's saved credentials (the test's own credential file, passed on in the environment)."""
    code = (
        "from agentdeck.core import Deck, identity\n"
        f"deck = Deck.open({str(db)!r})\n"
        "identity.present_credentials(deck)\n"
    ) + textwrap.dedent(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


async def test_another_process_writes_and_the_board_updates_by_itself(
    deck: Deck, board_db: Path
) -> None:
    app = make_app(deck, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        assert screen.query_one(BoardHeader).live in ("live", "pulse")
        run_writer(
            board_db,
            """
            deck.add_task("Written by another process", actor="planner", board="WEB", priority=0)
            deck.set_priority("WEB-18", 4, actor="ann")
            """,
        )

        def shows_the_writes() -> bool:
            ready = column(app, "ready")
            new = [
                k for k in ready.keys if screen.state.tasks[k].title == "Written by another process"
            ]
            card = ready.card("WEB-18")
            return (
                bool(new)
                and ready.keys[0] == new[0]
                and card is not None
                and "P4" in card.border_title
            )

        await wait_for(pilot, shows_the_writes, timeout=15)


async def test_a_refresh_patches_changed_cards_and_keeps_the_cursor(app, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-14")
        screen = app.screen
        before = {c.key: c for c in screen.query(TaskCard)}
        other.set_priority("WEB-18", 0, actor="bob")  # moves to the top of Ready
        other.log("WEB-7", "one more step", actor="fe-1")  # touches a card, changes nothing on it
        app.request_refresh()
        await wait_for(pilot, lambda: column(app, "ready").keys[0] == "WEB-18")
        await settle(pilot)
        after = {c.key: c for c in screen.query(TaskCard) if not c._pruning}
        assert set(after) == set(before)
        for key in before:
            assert after[key] is before[key], f"card {key} was rebuilt instead of patched"
        assert "P0" in after["WEB-18"].border_title
        assert screen.selected_task().key == "WEB-14"
        assert after["WEB-14"].has_class("-cursor")


async def test_a_deleted_database_is_reported_not_a_crash(deck: Deck, board_db: Path) -> None:
    app = make_app(deck, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = app.screen.query_one(BoardHeader)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{board_db}{suffix}").unlink(missing_ok=True)
        await wait_for(pilot, lambda: "deleted" in (header.problem or ""), timeout=15)
        assert app.is_running
        assert "deleted" in header.render().plain


class Collect:
    """Stands in for the app: records what the watcher posts."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    def post_message(self, message: object) -> bool:
        self.messages.append(message)
        return True


def test_the_watcher_confirms_hints_against_the_newest_event(
    deck: Deck, other: Deck, board_db: Path
) -> None:
    target = Collect()
    watcher = DatabaseWatcher(deck, target, cursor=deck.max_event_id())  # type: ignore[arg-type]
    assert watcher.check() is False  # a hint with nothing new: no refresh
    other.log("WEB-7", "new work", actor="fe-1")
    assert watcher.check() is True
    changed = [m for m in target.messages if isinstance(m, DatabaseWatcher.Changed)]
    assert [m.max_event_id for m in changed] == [other.max_event_id()]
    assert watcher.check() is False
    # A burst of Changed notices collapses into one in the app's queue.
    assert changed[0].can_replace(DatabaseWatcher.Changed(1))


def test_the_watcher_ignores_the_shm_file(deck: Deck, board_db: Path) -> None:
    """Readers touch `-shm` constantly; reacting to it would refresh in a loop."""
    seen: list[str] = []

    class Spy(DatabaseWatcher):
        def check(self) -> bool:
            seen.append("check")
            self.stop()
            return False

    watcher = Spy(deck, Collect(), fallback_poll=30)  # type: ignore[arg-type]
    names = {board_db.name, f"{board_db.name}-wal"}
    assert f"{board_db.name}-shm" not in names
    from watchfiles import Change

    relevant = watcher._relevant(board_db)
    assert relevant(Change.modified, str(board_db))
    assert relevant(Change.modified, f"{board_db}-wal")
    assert not relevant(Change.modified, f"{board_db}-shm")
    assert not relevant(Change.modified, str(board_db.parent / "notes.txt"))


def test_on_postgresql_the_watcher_wakes_on_notify(tmp_path: Path) -> None:
    """No file to watch: LISTEN/NOTIFY wakes the watcher, the max event id confirms."""
    import threading

    from tests.backends import database_url

    url = database_url("postgres", tmp_path)
    with Deck.open(url, create=True) as deck, Deck.open(url) as writer:
        deck.create_board("PG", "Postgres", actor="ann")
        writer.present(deck.issued_token("ann", "PG") or "")  # ann, from another machine
        target = Collect()
        watcher = DatabaseWatcher(deck, target, cursor=deck.max_event_id(), fallback_poll=30)  # type: ignore[arg-type]
        thread = threading.Thread(target=watcher.run)
        thread.start()
        try:
            writer.add_task("Wake the console", actor="ann", board="PG")
            deadline = time.monotonic() + 10
            while not any(isinstance(m, DatabaseWatcher.Changed) for m in target.messages):
                assert time.monotonic() < deadline, (
                    "no Changed notice within 10 s (the fallback poll is 30 s)"
                )
                thread.join(0.01)
        finally:
            watcher.stop()
            thread.join(5)
        assert not thread.is_alive()
        changed = [m for m in target.messages if isinstance(m, DatabaseWatcher.Changed)]
        assert changed[-1].max_event_id == writer.max_event_id()


async def test_the_console_runs_on_postgresql(tmp_path: Path) -> None:
    """Scale-out: the same console over PostgreSQL loads the board, acts, and goes live."""
    from tests.backends import database_url

    url = database_url("postgres", tmp_path)
    with Deck.open(url, create=True) as deck, Deck.open(url) as other:
        deck.create_board("PG", "Postgres", actor="ann")
        other.present(deck.issued_token("ann", "PG") or "")  # ann, from another machine
        other.add_task("First", actor="ann", board="PG", priority=2)
        app = make_app(deck, board="PG", watch=True)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert column(app, "ready").keys == ["PG-1"]
            await pilot.press("p")
            await settle(pilot)
            assert other.get_task("PG-1").priority == 1
            other.add_task("Second", actor="ann", board="PG", priority=0)
            await wait_for(pilot, lambda: column(app, "ready").keys == ["PG-2", "PG-1"], timeout=15)
