"""Every documented exit code, each as one line on stderr with no traceback, and a refused
command never changes anything."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

import agentdeck.core
from agentdeck.core import Deck
from agentdeck.core.storage.transaction import EVENT_ORDER_LOCK
from tests.cli.conftest import sqlite_only


def one_line_error(stderr: str) -> str:
    assert stderr.startswith("agentdeck: error: "), stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    return stderr.removeprefix("agentdeck: error: ").strip()


@sqlite_only  # parsing fails before the database is opened
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
def test_usage_errors_exit_1_not_2(cli, web: str, unchanged, args, says) -> None:
    check = unchanged()
    ran = cli(*args)
    assert ran.exit_code == 1
    assert says in one_line_error(ran.stderr)
    check()


@sqlite_only
def test_usage_errors_point_at_the_help(cli, web: str) -> None:
    assert "(see `agentdeck log --help`)" in cli("log", "WEB-1").stderr


def test_not_found_exits_1(cli, web: str) -> None:
    ran = cli("claim", "--as", "nobody")
    assert ran.exit_code == 1
    assert one_line_error(ran.stderr).startswith("no agent 'nobody' on board WEB")


@sqlite_only  # about finding a database file
def test_no_database_exits_1_with_a_hint(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("AGENTDECK_DB")
    ran = cli("ready")
    assert ran.exit_code == 1
    assert "create one with `agentdeck board create`" in one_line_error(ran.stderr)


@sqlite_only  # about database files and URLs
@pytest.mark.parametrize(
    ("where", "code", "says"),
    [
        ("adir", 5, "cannot open the database sqlite:///"),
        ("garbage.db", 5, "file is not a database"),
        ("nosuch://host/db", 1, "cannot use 'nosuch://host/db' as a database"),
        ("sqlite://", 1, "cannot use 'sqlite://' as a database"),
        ("~nosuchuser/board.db", 1, "cannot find the database"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_clear_line(
    cli, web: str, unchanged, tmp_path: Path, where: str, code: int, says: str
) -> None:
    """Found by tests/fuzz: these were "unexpected OperationalError" and the like."""
    (tmp_path / "adir").mkdir()
    (tmp_path / "garbage.db").write_text("not a database\n")
    check = unchanged()
    ran = cli("task", "add", "Something", "--as", "planner", "--db", where)
    assert ran.exit_code == code
    assert says in one_line_error(ran.stderr)
    check()


@sqlite_only
def test_an_argument_that_is_not_utf8_is_refused(cli, web: str, unchanged) -> None:
    """Found by tests/fuzz: Python hands argv bytes that are not UTF-8 over as lone surrogates,
    which reached the database driver as an "unexpected UnicodeEncodeError"."""
    check = unchanged()
    ran = cli("task", "list", "--status", "pending\udcff")
    assert ran.exit_code == 1
    assert one_line_error(ran.stderr) == "argument 'pending\\udcff' is not UTF-8 text"
    check()


@sqlite_only  # about reading input, not the backend
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("log", "WEB-1", "x", "--as", "coder", "--data", "[" * 5000),
            "--data is nested too deeply",
        ),
        (("import", "deep.json"), "deep.json: nested too deeply to read"),
        (("plan", "deep.json", "--as", "planner"), "deep.json: nested too deeply to read"),
        (("plan", "deep.yaml", "--as", "planner"), "deep.yaml: nested too deeply to read"),
        (("import", "claude", "deep"), "1.json: nested too deeply to read"),
        (("import", "beads", "deep.json"), "deep.json:1: nested too deeply to read"),
        (
            ("log", "WEB-1", "x", "--as", "coder", "--data", '{"a":' * 500 + "1" + "}" * 500),
            "nested more than 100 levels",
        ),
    ],
)
def test_input_nested_too_deeply_is_one_clear_line(
    cli, web: str, deck: Deck, unchanged, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    """Found by tests/fuzz: each was an "unexpected RecursionError"."""
    deck.claim("coder", key="WEB-1")
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "deep.yaml").write_text("[" * 5_000 + "]" * 5_000)
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "1.json").write_text("[" * 100_000)
    check = unchanged()
    ran = cli(*args)
    assert ran.exit_code == 1
    assert says in one_line_error(ran.stderr)
    check()


def test_refused_transition_exits_2(cli, web: str, deck: Deck, unchanged) -> None:
    check = unchanged()
    ran = cli("done", "WEB-1", "--as", "coder")
    assert ran.exit_code == 2
    assert "WEB-1" in one_line_error(ran.stderr)
    check()


def test_nothing_ready_exits_3(cli, web: str, unchanged) -> None:
    check = unchanged()
    ran = cli("claim", "--as", "designer", "--json")
    assert ran.exit_code == 3
    assert one_line_error(ran.stderr) == "nothing ready for designer to claim"
    assert json.loads(ran.stdout) == {
        "error": {"message": "nothing ready for designer to claim", "exit_code": 3}
    }
    check()


def test_over_budget_exits_4(cli, web: str, deck: Deck, unchanged) -> None:
    deck.set_budget("tokens", actor="ann", hard=10)
    deck.record_usage(None, actor="coder", tokens_in=50)
    check = unchanged()
    ran = cli("claim", "--as", "coder")
    assert ran.exit_code == 4
    assert "budget is exhausted" in one_line_error(ran.stderr)
    check()


@contextmanager
def another_writer(backend: str, db: str) -> Iterator[None]:
    """Another connection in the middle of a write: SQLite's write lock, or on PostgreSQL the
    advisory lock every write transaction takes to append its events."""
    if backend == "sqlite":
        blocker = sqlite3.connect(db, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        return
    engine = sa.create_engine(db)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_ORDER_LOCK})
            yield
    finally:
        engine.dispose()


def test_database_busy_exits_5(cli, backend: str, web: str, deck: Deck, unchanged) -> None:
    check = unchanged()
    with another_writer(backend, web):
        ran = cli("agent", "add", "late", "--as", "ann", env={"AGENTDECK_TIMEOUT": "0.2"})
    assert ran.exit_code == 5
    assert "locked" in one_line_error(ran.stderr)
    check()


def test_an_unexpected_error_is_one_line_unless_debugging(cli, web: str, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(agentdeck.core.Deck, "ready", broken)
    ran = cli("ready")
    assert ran.exit_code == 1
    assert one_line_error(ran.stderr) == (
        "unexpected ZeroDivisionError: division by zero "
        "(set AGENTDECK_DEBUG=1 to see the traceback)"
    )
    ran = cli("ready", env={"AGENTDECK_DEBUG": "1"})
    assert ran.exit_code == 1
    assert "Traceback" in ran.stderr and "broken" in ran.stderr


def test_json_errors_are_a_json_document_too(cli, web: str) -> None:
    ran = cli("task", "show", "WEB-7", "--json")
    assert ran.exit_code == 1
    assert json.loads(ran.stdout) == {"error": {"message": "no task WEB-7", "exit_code": 1}}
