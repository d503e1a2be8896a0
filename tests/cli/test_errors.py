"""Every documented exit code, each as one line on stderr with no traceback, and a refused
command never changes anything."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import core
from core import Deck


def one_line_error(stderr: str) -> str:
    assert stderr.startswith("agentdeck: error: "), stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    return stderr.removeprefix("agentdeck: error: ").strip()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("log", "WEB-1"), "Missing argument 'TEXT'"),
        (("claim", "--as", "coder", "--colour"), "No such option: --colour"),
        (("priority", "WEB-1", "high", "--as", "ann"), "Invalid value for 'N'"),
        (("clam",), "No such command 'clam'"),
        (("board",), "the board console needs a terminal"),
    ],
)
def test_usage_errors_exit_1_not_2(cli, web: Path, unchanged, args, says) -> None:
    check = unchanged()
    ran = cli(*args)
    assert ran.exit_code == 1
    assert says in one_line_error(ran.stderr)
    check()


def test_usage_errors_point_at_the_help(cli, web: Path) -> None:
    assert "(see `agentdeck log --help`)" in cli("log", "WEB-1").stderr


def test_not_found_exits_1(cli, web: Path) -> None:
    ran = cli("claim", "--as", "nobody")
    assert ran.exit_code == 1
    assert one_line_error(ran.stderr).startswith("no agent 'nobody' on board WEB")


def test_no_database_exits_1_with_a_hint(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("AGENTDECK_DB")
    ran = cli("ready")
    assert ran.exit_code == 1
    assert "create one with `agentdeck board create`" in one_line_error(ran.stderr)


def test_refused_transition_exits_2(cli, web: Path, deck: Deck, unchanged) -> None:
    check = unchanged()
    ran = cli("done", "WEB-1", "--as", "coder")
    assert ran.exit_code == 2
    assert "WEB-1" in one_line_error(ran.stderr)
    check()


def test_nothing_ready_exits_3(cli, web: Path, unchanged) -> None:
    check = unchanged()
    ran = cli("claim", "--as", "designer", "--json")
    assert ran.exit_code == 3
    assert one_line_error(ran.stderr) == "nothing ready for designer to claim"
    assert json.loads(ran.stdout) == {
        "error": {"message": "nothing ready for designer to claim", "exit_code": 3}
    }
    check()


def test_over_budget_exits_4(cli, web: Path, deck: Deck, unchanged) -> None:
    deck.set_budget("tokens", actor="ann", hard=10)
    deck.record_usage(None, actor="coder", tokens_in=50)
    check = unchanged()
    ran = cli("claim", "--as", "coder")
    assert ran.exit_code == 4
    assert "budget is exhausted" in one_line_error(ran.stderr)
    check()


def test_database_busy_exits_5(cli, web: Path, deck: Deck, unchanged) -> None:
    check = unchanged()
    blocker = sqlite3.connect(web, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        ran = cli("agent", "add", "late", "--as", "ann", env={"AGENTDECK_TIMEOUT": "0.2"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert ran.exit_code == 5
    assert "locked" in one_line_error(ran.stderr)
    check()


def test_an_unexpected_error_is_one_line_unless_debugging(cli, web: Path, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(core.Deck, "ready", broken)
    ran = cli("ready")
    assert ran.exit_code == 1
    assert one_line_error(ran.stderr) == (
        "unexpected ZeroDivisionError: division by zero "
        "(set AGENTDECK_DEBUG=1 to see the traceback)"
    )
    ran = cli("ready", env={"AGENTDECK_DEBUG": "1"})
    assert ran.exit_code == 1
    assert "Traceback" in ran.stderr and "broken" in ran.stderr


def test_json_errors_are_a_json_document_too(cli, web: Path) -> None:
    ran = cli("task", "show", "WEB-7", "--json")
    assert ran.exit_code == 1
    assert json.loads(ran.stdout) == {"error": {"message": "no task WEB-7", "exit_code": 1}}
