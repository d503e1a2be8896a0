"""CLI fixtures: a board database on each backend, and ways to run `agentdeck` against it.

The database is a temporary SQLite file or a fresh PostgreSQL schema (the root `backend`
fixture), so every CLI test that uses it runs on both; `sqlite_only` pins a test to SQLite when
it is about database files or does not touch the database at all.

`cli(...)` goes through the real Typer app in-process (Typer's CliRunner, the same error
handling and exit codes as the console script); `agentdeck(...)` runs the installed
`.venv/bin/agentdeck` as a real process. Both take the database from `AGENTDECK_DB`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentdeck.core import Deck
from agentdeck.tui.cli.app import build_app

AGENTDECK = Path(sys.executable).parent / "agentdeck"

# Direct parametrisation overrides the root `backend` fixture for one test.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


@dataclass
class Ran:
    """What one CLI call printed and how it exited."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def db(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database (a SQLite path or a PostgreSQL URL); AGENTDECK_DB points at it and no
    actor or board is preset."""
    monkeypatch.setenv("AGENTDECK_DB", db_url)
    for name in ("AGENTDECK_AS", "AGENTDECK_BOARD", "AGENTDECK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return db_url


@pytest.fixture
def web(db: str) -> str:
    """Board WEB: humans `ann` (creator) and `bob`, lead agent `planner`, workers `coder`
    (python) and `designer` (css); tasks WEB-1 (ready, python), WEB-2 (waits on WEB-1)."""
    with Deck.open(db, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann", lead="planner", goal="Ship it")
        deck.add_agent("bob", actor="ann", kind="human")
        deck.add_agent("coder", actor="ann", skills=["python"], role="backend dev")
        deck.add_agent("designer", actor="ann", skills=["css"])
        deck.add_task("Build the API", actor="planner", skills=["python"], priority=1)
        deck.add_task("Wire the UI", actor="planner", blocked_by=["WEB-1"])
    return db


@pytest.fixture
def cli(db: str) -> Callable[..., Ran]:
    """Run `agentdeck ARGS...` in-process through the real app."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Ran:
        result = runner.invoke(build_app(), list(args), input=input, env=env)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def agentdeck(db: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed `agentdeck` console script as a real process."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
        return subprocess.run(
            [str(AGENTDECK), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=timeout,
        )

    return run


@pytest.fixture
def deck(web: str) -> Iterator[Deck]:
    """A second handle on the WEB database, for setting up and checking state."""
    with Deck.open(web) as opened:
        yield opened


@pytest.fixture
def unchanged(deck: Deck) -> Callable[[], Callable[[], None]]:
    """`check = unchanged()` before a refused command; `check()` after it asserts that no
    event was written and no task changed."""

    def snapshot() -> Callable[[], None]:
        cursor = deck.max_event_id()
        tasks = [t.to_dict() for t in deck.list_tasks("WEB", include_cancelled=True)]

        def check() -> None:
            assert deck.max_event_id() == cursor, "a refused command wrote an event"
            assert [t.to_dict() for t in deck.list_tasks("WEB", include_cancelled=True)] == tasks

        return check

    return snapshot
