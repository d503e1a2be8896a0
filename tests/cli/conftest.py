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

from agentdeck.core import Deck, identity
from agentdeck.tui.cli.app import build_app
from tests.backends import migrate_from_template

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
def tokens() -> dict[str, str]:
    """The WEB board's members' tokens, by name, once `web` has made them."""
    return {}


@pytest.fixture
def web(db: str, tokens: dict[str, str]) -> str:
    """Board WEB (agents act by name, on both backends): humans `ann` (creator, whose
    credential is in this test's credential file) and `bob`, lead agent `planner`, workers
    `coder` (python) and `designer` (css); tasks WEB-1 (ready, python), WEB-2 (waits on WEB-1).
    Every member's token is in `tokens`; `human_env("bob")` acts as bob."""
    migrate_from_template(db)
    with Deck.open(db, create=True) as deck:
        deck.create_board(
            "WEB", "Website", actor="ann", lead="planner", goal="Ship it", agents="named"
        )
        deck.add_agent("bob", actor="ann", kind="human")
        deck.add_agent("coder", actor="ann", skills=["python"], role="backend dev")
        deck.add_agent("designer", actor="ann", skills=["css"])
        deck.add_task("Build the API", actor="planner", skills=["python"], priority=1)
        deck.add_task("Wire the UI", actor="planner", blocked_by=["WEB-1"])
        for name in ("ann", "bob", "planner", "coder", "designer"):
            tokens[name] = deck.issued_token(name, "WEB") or ""
        identity.save_credential(
            identity.database_id(deck.url, deck.path), "WEB", "ann", tokens["ann"]
        )
    return db


@pytest.fixture
def human_env(web: str, tokens: dict[str, str], tmp_path: Path) -> Callable[[str], dict[str, str]]:
    """The environment of another human of WEB at their own terminal: `env=human_env("bob")`
    gives a config directory whose credential file holds bob's token."""

    def env(name: str) -> dict[str, str]:
        config = tmp_path / f"config-{name}"
        with Deck.open(web) as deck:
            where = identity.database_id(deck.url, deck.path)
        saved = os.environ.get("XDG_CONFIG_HOME")
        os.environ["XDG_CONFIG_HOME"] = str(config)
        try:
            identity.save_credential(where, "WEB", name, tokens[name])
        finally:
            os.environ["XDG_CONFIG_HOME"] = saved or ""
        return {"XDG_CONFIG_HOME": str(config)}

    return env


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
def deck(web: str, tokens: dict[str, str]) -> Iterator[Deck]:
    """A second handle on the WEB database, for setting up and checking state; it holds every
    member's token."""
    with Deck.open(web) as opened:
        for token in tokens.values():
            opened.present(token)
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
