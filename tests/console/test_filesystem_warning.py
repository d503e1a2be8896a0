"""The console opened on a database on a network filesystem says so in a notification."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdeck.core.storage import filesystems
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.screens.board import BoardScreen
from tests.console.conftest import SIZE, notices, screen_text, settle, wait_for
from tests.core.storage.test_filesystems import fake_mounts

pytestmark = pytest.mark.anyio


async def test_the_console_warns_about_a_network_filesystem(
    board_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filesystems, "MOUNTS_FILE", fake_mounts(tmp_path, board_db.parent, "9p"))
    app = AgentDeckApp(db=str(board_db), actor="ann", watch=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen))
        await settle(pilot)
        warnings = [n for n in notices(app) if "filesystem" in n]
        assert len(warnings) == 1
        assert warnings[0].startswith(f"the database {board_db.resolve()} is on a 9p filesystem")
        # The toast shows it on screen, wrapped to its width.
        await wait_for(pilot, lambda: "is on a 9p filesystem" in " ".join(screen_text(app).split()))


async def test_the_console_on_a_local_disk_shows_no_such_warning(
    board_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filesystems, "MOUNTS_FILE", fake_mounts(tmp_path, board_db.parent, "ext4"))
    app = AgentDeckApp(db=str(board_db), actor="ann", watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BoardScreen))
        await settle(pilot)
        assert not [n for n in notices(app) if "filesystem" in n]
