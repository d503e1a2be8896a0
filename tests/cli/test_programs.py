"""The commands that start other programs: the console (in a real pseudo-terminal), the
screenshot renderer and the demo. The MCP server's own tests spawn `agentdeck mcp`."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.conftest import AGENTDECK, sqlite_only

DEADLINE_S = 60.0


@sqlite_only  # a sample board never opens the database
def test_screenshot_of_a_sample_board(cli, db: str, tmp_path: Path) -> None:
    out = tmp_path / "board.svg"
    ran = cli("screenshot", "--out", str(out), "--sample", "website", "--size", "100x30")
    assert (ran.exit_code, ran.stdout) == (0, f"wrote {out}\n"), ran.stderr
    assert out.read_text().startswith("<svg")


def test_screenshot_of_the_database(cli, backend: str, web: str, tmp_path: Path) -> None:
    """Screenshots draw a private copy of the board, exported from SQLite or PostgreSQL alike."""
    out = tmp_path / "board.svg"
    ran = cli("screenshot", "--out", str(out), "--screen", "board")
    assert ran.exit_code == 0, ran.stderr
    assert "Build the API" in out.read_text().replace("&#160;", " ")


@sqlite_only  # argument checks; screenshots of a database need a SQLite file
def test_screenshot_arguments_are_checked(cli, web: str, tmp_path: Path) -> None:
    ran = cli("screenshot", "--out", str(tmp_path / "x.svg"), "--sample", "nope")
    assert ran.exit_code == 1 and "no sample board 'nope'; samples:" in ran.stderr
    ran = cli("screenshot", "--out", str(tmp_path / "x.svg"), "--screen", "lobby")
    assert ran.exit_code == 1 and "unknown screen 'lobby'" in ran.stderr


@sqlite_only  # about database files: the demo's own, and AGENTDECK_DB's left alone
def test_demo_headless_runs_and_summarises(agentdeck, db: str, tmp_path: Path) -> None:
    demo_db = tmp_path / "demo.db"
    ran = agentdeck("demo", "--headless", "--turns", "4", "--agents", "2", "--db", str(demo_db))
    assert ran.returncode == 0, ran.stderr
    assert "agentdeck demo on board" in ran.stdout and "errors: none" in ran.stdout
    assert demo_db.exists() and not Path(db).exists(), "the demo must not touch AGENTDECK_DB"


def test_no_command_opens_the_console_in_a_terminal(web: str) -> None:
    """`agentdeck` in a real pseudo-terminal draws the board; `q` quits with exit code 0."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(AGENTDECK), "--as", "ann"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
        close_fds=True,
    )
    os.close(terminal)
    screen = b""

    def read_until(done, what: str) -> None:
        """Keep draining the terminal (a full pty blocks the app) until `done()`."""
        nonlocal screen
        deadline = time.monotonic() + DEADLINE_S
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{what} within {DEADLINE_S}s: {screen[-300:]!r}")
            if select.select([controller], [], [], min(left, 0.2))[0]:
                try:
                    screen += os.read(controller, 65536)
                except OSError:  # the app closed the terminal
                    return

    try:
        read_until(lambda: b"Build the API" in screen or process.poll() is not None, "no board")
        assert process.poll() is None, screen[-300:]
        os.write(controller, b"q")
        read_until(lambda: process.poll() is not None, "q did not quit")
        assert process.wait() == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
