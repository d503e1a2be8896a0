"""The installed `agentdeck` script as real processes: an agent's whole loop, exit codes,
import hygiene, and the long-running followers (`events --follow`, `import claude --watch`)
stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentdeck.core import Deck
from tests.cli.conftest import AGENTDECK
from tests.cli.test_reports import write_claude_task

DEADLINE_S = 30.0


def test_an_agent_loop_through_real_processes(agentdeck, db: str) -> None:
    """The README's flow: a human creates a board (their credential is saved), adds an agent
    (its token printed once), and the agent works with only AGENTDECK_TOKEN, no names."""

    def ok(*args: str, env: dict[str, str] | None = None) -> str:
        ran = agentdeck(*args, env=env)
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    ok("board", "create", "OPS", "Operations", "--as", "ann", "--agents", "token")
    bot = json.loads(ok("agent", "add", "bot", "--skills", "shell", "--json"))
    assert bot["token"].startswith("adk_")
    ok("task", "add", "Rotate the logs", "--skills", "shell")
    as_bot = {"AGENTDECK_TOKEN": bot["token"]}
    claimed = json.loads(ok("claim", "--json", env=as_bot))
    key = claimed["task"]["key"]
    assert (key, claimed["task"]["assignee"]) == ("OPS-1", "bot")
    ok("log", key, "logrotate -f done", "--kind", "verification", env=as_bot)
    done = json.loads(ok("done", key, "--result", "rotated", "--json", env=as_bot))
    assert (done["key"], done["status"], done["nudge"]) == (key, "done", None)
    events = json.loads(ok("events", "--json", "--full"))["events"]
    assert {(e["actor"], e["auth"]) for e in events if e["task"] == key} == {
        ("ann", "credential file"),
        ("bot", "token"),
    }


def test_exit_codes_from_a_real_process(agentdeck, web: str) -> None:
    usage = agentdeck("log", "WEB-1")
    assert usage.returncode == 1 and usage.stderr.startswith("agentdeck: error: Missing")
    refused = agentdeck("approve", "WEB-1", "--as", "ann")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    nothing = agentdeck("claim", "--as", "designer")
    assert (nothing.returncode, nothing.stdout) == (3, "")
    assert "Traceback" not in usage.stderr + refused.stderr + nothing.stderr


def imported_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a real CLI call imports, from `python -X importtime`."""
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", str(AGENTDECK), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    found = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", ran.stderr, re.MULTILINE)
    assert "agentdeck.core" in found, "importtime output was not parsed"
    return {name.split(".")[0] for name in found}


def test_a_cli_call_never_imports_the_console_libraries(web: str, deck: Deck) -> None:
    deck.claim("coder")
    hot = imported_modules("log", "WEB-1", "step", "--as", "coder")
    assert not hot & {"textual", "plotext", "textual_plotext", "mcp", "rich"}, hot
    table = imported_modules("task", "list")
    assert "rich" in table
    assert not table & {"textual", "plotext", "textual_plotext", "mcp"}, table


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """A long-running `agentdeck` whose stdout lines arrive on a queue; Ctrl-C'd at the end."""
    process = subprocess.Popen(
        [str(AGENTDECK), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def next_line_with(lines: queue.Queue[str], text: str) -> str:
    """Wait (up to the deadline) for a line containing `text`."""
    deadline = time.monotonic() + DEADLINE_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} within {DEADLINE_S}s")


def interrupt(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=DEADLINE_S)
    assert process.stderr is not None
    return code, process.stderr.read()


def test_events_follow_prints_new_events_and_stops_cleanly_on_ctrl_c(web: str, deck: Deck) -> None:
    with running("events", "--follow", "--limit", "1") as (process, lines):
        next_line_with(lines, "Wire the UI")  # the newest event so far
        deck.claim("coder")
        deck.log("WEB-1", "followed live", actor="coder")
        assert "coder log/action followed live" in next_line_with(lines, "followed live")
        code, stderr = interrupt(process)
    assert (code, stderr) == (0, "")


def test_events_follow_json_is_one_object_per_line(web: str, deck: Deck) -> None:
    cursor = deck.max_event_id()
    with running("events", "--follow", "--since", str(cursor), "--json") as (process, lines):
        deck.claim("coder")
        first = json.loads(next_line_with(lines, '"claimed"'))
        assert (first["kind"], first["task"], first["id"]) == ("claimed", "WEB-1", cursor + 1)
        code, _ = interrupt(process)
    assert code == 0


def test_events_follow_stops_cleanly_on_ctrl_c_in_the_middle_of_its_queries(
    web: str, deck: Deck
) -> None:
    """Ctrl-C while the follower is busy (a writer keeps it querying) still ends it with exit 0
    and nothing on stderr. It used to land inside a PostgreSQL query now and then: psycopg
    turned it into a "query cancelled" error, which the follower took for a lost connection
    and carried on (never stopping), or reported as an unexpected error."""
    deck.claim("coder")
    writing = threading.Event()
    stop_writing = threading.Event()

    def write() -> None:
        while not stop_writing.is_set():
            deck.log("WEB-1", "busy", actor="coder")
            writing.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        for round_ in range(6):
            with running("events", "--follow", "--json", "--limit", "1") as (process, lines):
                next_line_with(lines, '"busy"')
                time.sleep(0.05 * round_)  # a different moment of the follower's loop each round
                code, stderr = interrupt(process)
            assert (code, stderr) == (0, ""), f"round {round_}"
    finally:
        stop_writing.set()
        writer.join(timeout=DEADLINE_S)


def test_import_claude_watch_mirrors_changes(web: str, tmp_path: Path, deck: Deck) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    write_claude_task(folder, "1", "Survey the code", "pending")
    with running("import", "claude", str(folder), "--watch", "--as", "ann") as (process, lines):
        next_line_with(lines, "mirrored 1 claude task ")
        write_claude_task(folder, "2", "Write the fix", "in_progress", owner="worker")
        next_line_with(lines, "mirrored 2 claude tasks")
        code, stderr = interrupt(process)
    assert (code, stderr) == (0, "")
    titles = {t.title: t.status for t in deck.list_tasks("WEB")}
    assert titles["Write the fix"] == "in_progress"


def test_a_closed_pipe_is_not_a_traceback(web: str, deck: Deck) -> None:
    deck.plan([{"title": f"Task {i}"} for i in range(400)], actor="planner")
    process = subprocess.Popen(
        [str(AGENTDECK), "events", "--limit", "400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    process.wait(timeout=DEADLINE_S)
    assert "Traceback" not in process.stderr.read()
