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


@pytest.fixture
def beads_file(tmp_path: Path) -> Path:
    """A copy of the beads export: an epic with three subtasks, and four other issues."""
    target = tmp_path / "issues.jsonl"
    shutil.copy(FIXTURES / "beads" / "issues.jsonl", target)
    return target


@pytest.fixture
def mirrored(team: Deck, claude_dir: Path) -> Deck:
    """SHOP after the human ann's first import of the Claude task list: SHOP-1 done
    (team-lead), SHOP-2 and SHOP-3 in progress (frontend-dev, backend-dev), SHOP-4 pending
    and unassigned, waiting on both, SHOP-5 cancelled, SHOP-6 pending for qa; plus agent
    mallory, whom the file does not name."""
    team.import_claude(claude_dir, actor="ann")
    team.add_agent("mallory", actor="ann")
    return team
