"""`agentdeck otel` as a program: what it prints, how it stops, and its mistakes in one line."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from pathlib import Path

from tests.otel.test_end_to_end import AGENTDECK


def start(*args: str, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(AGENTDECK), "otel", *args, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def board(tmp_path: Path) -> Path:
    from agentdeck.core import Deck

    db = tmp_path / "board.db"
    with Deck.open(db, create=True) as deck:
        deck.create_board("WEB", "Website", actor="ann")
    return db


def test_it_prints_the_endpoint_and_environment_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = start("--port", "0", db=board(tmp_path))
    assert process.stdout is not None
    first = process.stdout.readline()
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)", first).group(1))  # type: ignore[union-attr]
    with socket.create_connection(("127.0.0.1", port), timeout=10):
        pass  # listening
    process.send_signal(signal.SIGINT)
    # Read through the same text streams readline used: it may have buffered the next lines
    # already, which communicate() (reading the pipes' descriptors) would never see.
    process.wait(timeout=30)
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    assert process.returncode == 0 and err == ""
    printed = first + out
    assert f"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{port}" in printed
    assert "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20$AGENTDECK_TOKEN" in printed
    assert "stopped after 0 measured points" in printed


def test_sigterm_stops_it_too(tmp_path: Path) -> None:
    process = start("--port", "0", db=board(tmp_path))
    assert process.stdout is not None
    process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start("--port", str(port), db=board(tmp_path))
        _, err = process.communicate(timeout=30)
    assert process.returncode == 1 and err.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err


def test_listening_beyond_this_machine_warns(tmp_path: Path) -> None:
    process = start("--host", "0.0.0.0", "--port", "0", db=board(tmp_path))
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    warning = process.stderr.readline()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert "other machines can send usage here" in warning and process.returncode == 0


def test_a_missing_database_is_one_line(tmp_path: Path) -> None:
    process = start("--port", "0", db=tmp_path / "nowhere" / "board.db")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1 and err.count("\n") == 1 and "Traceback" not in err


def test_otel_with_a_subcommand_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(AGENTDECK), "--otel", "4318", "ready", "--db", str(board(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "agentdeck otel" in done.stderr
    assert done.stderr.count("\n") == 1
