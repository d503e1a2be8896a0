"""Fixtures for the importer tests: a board to import into, and the sample files laid out."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from agentdeck.core import Deck
from tests.conftest import START

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def team(deck: Deck) -> Deck:
    """A deck with an empty board SHOP, supervised by the human `ann`."""
    deck.create_board("SHOP", "Web shop", actor="ann")
    return deck


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    """A copy of the Claude Code task list, file n last written n hours before the test starts."""
    target = tmp_path / "tasks"
    shutil.copytree(FIXTURES / "claude_tasks", target)
    for path in target.glob("*.json"):
        written = (START - timedelta(hours=int(path.stem))).timestamp()
        os.utime(path, (written, written))
    return target
