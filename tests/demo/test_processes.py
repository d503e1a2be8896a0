"""No agent process outlives the demo: not after a normal end, Ctrl-C, SIGTERM, SIGKILL or a
closed terminal (SIGHUP)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.demo.helpers import alive, children_of, wait_until

ROOT = Path(__file__).resolve().parents[2]
TEAM = 6  # the lead, 4 workers and the reviewing teammate


def start_demo(db: Path) -> subprocess.Popen[str]:
    """`python -m agentdeck.tui.demo.run --headless` with no duration: it runs until told to stop."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentdeck.tui.demo.run",
            "--headless",
            "--db",
            str(db),
            "--speed",
            "4",
        ],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(db.parent)},  # where a killed demo leaves its logs
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def running_team(parent: subprocess.Popen[str]) -> list[int]:
    """Wait for the demo's whole team to be up, and return their pids."""
    wait_until(lambda: len(children_of(parent.pid)) >= TEAM, 30, "the agent processes")
    return children_of(parent.pid)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_agents_die_with_the_parent(tmp_path: Path, signum: int) -> None:
    """Killing the parent, even with SIGKILL (no handler can run), ends every agent."""
    parent = start_demo(tmp_path / "demo.db")
    try:
        team = running_team(parent)
        os.kill(parent.pid, signum)
        parent.wait(timeout=30)
        wait_until(lambda: not any(alive(pid) for pid in team), 15, "the agents to exit")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    if signum == signal.SIGTERM:
        assert parent.returncode == 128 + signal.SIGTERM
        assert "Traceback" not in parent.stderr.read()  # type: ignore[union-attr]


def test_ctrl_c_stops_the_team_and_prints_the_summary(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) ends a headless run cleanly: summary, exit 0, no agent left."""
    parent = start_demo(tmp_path / "demo.db")
    try:
        team = running_team(parent)
        os.kill(parent.pid, signal.SIGINT)
        out, err = parent.communicate(timeout=30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert parent.returncode == 0, err
    assert "agentdeck demo on board WEB" in out and "errors: none" in out
    assert not any(alive(pid) for pid in team)


def test_a_refused_option_is_one_line(tmp_path: Path) -> None:
    """Bad options fail with one clear line and start nothing."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentdeck.tui.demo.run",
            "--headless",
            "--agents",
            "0",
            "--db",
            str(tmp_path / "x.db"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.strip() == "agentdeck demo: --agents must be from 1 to 12, not 0"


def console_demo(tmp_path: Path) -> tuple[int, int]:
    """The interactive demo with its console in a real terminal (a pty, 120x40): the pid of
    the demo (the session leader) and the terminal's master side."""
    pytest.importorskip("agentdeck.tui.console.app")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the demo in a terminal 120x40
        os.environ.update(TERM="xterm-256color", TMPDIR=str(tmp_path))
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "agentdeck.tui.demo.run",
                "--db",
                str(tmp_path / "demo.db"),
                "--speed",
                "4",
            ],
        )
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    return pid, fd


def test_quitting_the_console_stops_every_agent(tmp_path: Path) -> None:
    """The interactive demo runs the console in a real terminal; pressing q ends it, exit 0,
    and no agent process is left."""
    pid, fd = console_demo(tmp_path)
    screen = bytearray()

    def drain() -> None:
        while select.select([fd], [], [], 0)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    try:
        team: list[int] = []

        def team_up() -> bool:
            drain()
            team[:] = children_of(pid)
            return len(team) >= TEAM and b"WEB-" in screen

        wait_until(team_up, 60, "the console and the agent processes")
        os.write(fd, b"q")

        status: list[int] = []

        def quit_() -> bool:
            drain()
            done, code = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                status.append(os.waitstatus_to_exitcode(code))
            return bool(status)

        wait_until(quit_, 30, "the console to quit")
        assert status == [0], screen[-2000:].decode("utf-8", "replace")
        wait_until(lambda: not any(alive(p) for p in team), 10, "the agents to exit")
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_closing_the_terminal_ends_the_demo_and_every_agent(tmp_path: Path) -> None:
    """Closing the terminal (tmux kill-session, a closed ssh window) hangs it up: the demo
    gets SIGHUP and exits with 128 + SIGHUP at once (no terminal to restore), and no agent
    process is left."""
    pid, fd = console_demo(tmp_path)
    seen = bytearray()
    team: list[int] = []
    try:

        def team_up() -> bool:
            while select.select([fd], [], [], 0)[0]:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen.extend(chunk)
            team[:] = children_of(pid)
            return len(team) >= TEAM and b"WEB-" in seen

        wait_until(team_up, 60, "the console and the agent processes")
        os.close(fd)  # the terminal goes away: the kernel hangs up its session
        fd = -1
        status: list[int] = []

        def exited() -> bool:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                status.append(os.waitstatus_to_exitcode(code))
            return bool(status)

        wait_until(exited, 30, "the demo to exit after its terminal hung up")
        assert status in ([128 + signal.SIGHUP], [-signal.SIGHUP]), status
        wait_until(lambda: not any(alive(p) for p in team), 10, "the agents to exit")
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if fd >= 0:
            os.close(fd)
