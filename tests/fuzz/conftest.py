"""The ground every fuzz test stands on: a populated board in a sandbox directory that is put
back byte for byte before each example, a snapshot of every stored row to prove a refused call
wrote nothing, and the one-line error rule.

Examples are independent (each starts from the same database file), so a failure hypothesis
finds replays exactly. `AGENTDECK_FUZZ_EXAMPLES=10` runs ten times as many examples.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from agentdeck.core import Deck, identity
from agentdeck.tui.cli.app import build_app, command_name
from tests.conftest import _dump, make_web_board

SCALE_ENV = "AGENTDECK_FUZZ_EXAMPLES"
DB = "board.db"
# The marker the CLI adds to an error it did not expect: a bug, even though it is one line.
UNEXPECTED_CLI = "to see the traceback)"
# And the MCP tool table's equivalent.
UNEXPECTED_MCP = ": internal error: "

# Names a fuzzer may pick on the sandbox board (see `build_board`): real ones and near misses.
KEYS = (
    *(f"WEB-{n}" for n in range(1, 10)),
    "web-3",
    "WEB-0",
    "WEB-10",
    "WEB-999999999",
    "WEB-1234567890",
    "WEB-",
    "-3",
    "NOPE-1",
    "WEB-1.5",
    "WEB--1",
    " WEB-4 ",
    "WEB-\uff11",
)
NAMES = ("ann", "bob", "sup", "fe", "be", "gen", "nobody", "root", "Ann", "a b", "x" * 65, "-", "")
BOARDS = ("WEB", "web", "NOPE", "W-B", "ABCDEFGHIJK", "1AB", "")


def examples(n: int) -> settings:
    """Hypothesis settings for `n` examples in CI, times AGENTDECK_FUZZ_EXAMPLES for long runs."""
    scale = float(os.environ.get(SCALE_ENV) or 1)
    return settings(
        max_examples=max(1, round(n * scale)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


def build_board(deck: Deck) -> None:
    """Board WEB (see `make_web_board`) with a task in every status, a dependency, log entries,
    usage, a checkpoint, a budget and an unread message, so verbs have something to act on.

    WEB-1 ready, WEB-2 waits on WEB-1, WEB-3 in progress (be), WEB-4 in review (gen),
    WEB-5 escalated (fe), WEB-6 done, WEB-7 failed, WEB-8 cancelled, WEB-9 requires approval.
    """
    make_web_board(deck, lease_seconds=int(timedelta(days=30).total_seconds()))
    add = deck.add_task
    add("Build the API", actor="sup", skills=["python"], priority=1, description="REST")
    add("Wire the UI", actor="sup", blocked_by=["WEB-1"], criteria="renders")
    add("Write the migration", actor="sup", skills=["backend"])
    add("Review copy", actor="sup", requires_approval=True)
    add("Deploy staging", actor="sup")
    add("Index the orders table", actor="sup")
    add("Call the old API", actor="sup")
    add("Drop IE support", actor="sup")
    add("Sign off the launch", actor="sup", requires_approval=True, estimate_hours=2.5)
    deck.claim("gen", key="WEB-6")
    deck.log("WEB-6", "EXPLAIN shows an index scan", actor="gen", kind="verification")
    deck.complete("WEB-6", actor="gen", result="added an index on orders(created_at)")
    deck.claim("gen", key="WEB-7")
    deck.fail("WEB-7", actor="gen", reason="the old API was removed")
    deck.claim("gen", key="WEB-4")
    deck.submit("WEB-4", actor="gen", result="copy reviewed", verified_by="read twice")
    deck.claim("fe", key="WEB-5")
    deck.escalate("WEB-5", actor="fe", reason="need staging credentials")
    deck.cancel("WEB-8", actor="ann", reason="out of scope")
    deck.claim("be", key="WEB-3")
    deck.log("WEB-3", "wrote 0003_orders.py", actor="be", kind="action", data={"files": 1})
    deck.record_usage("WEB-3", actor="be", tokens_in=1200, tokens_out=300, cost_usd=0.02)
    deck.checkpoint("WEB-3", actor="be", sha="0123456789abcdef0123", message="migration")
    deck.set_budget("tokens", actor="ann", hard=1_000_000, soft=500_000)
    deck.set_budget("cost_usd", actor="ann", scope="agent", subject="be", hard=50)
    deck.assign("WEB-1", "be", actor="ann")  # leaves be an unread assignment message


def snapshot(db: Path) -> Any:
    """Every row of every table in the database at `db` (and the search index)."""
    with Deck.open(db) as deck:
        return _dump(deck)


class Sandbox:
    """A working directory holding `board.db` and the input files the fuzzers point at.

    `reset()` puts the directory back exactly as built (new files removed, the database file
    copied back), so every example starts from the same state; `before` is that state's rows.
    """

    def __init__(self, root: Path) -> None:
        self.template = root / "template"
        self.work = root / "work"
        self.template.mkdir()
        with Deck.open(self.template / DB, create=True) as deck:
            build_board(deck)
            self.export = deck.export_board("WEB")
            self.ann_token = deck.issued_token("ann", "WEB") or ""
        _write_inputs(self.template, self.export)
        # Closing the last connection checkpointed the WAL: the file alone is the database.
        assert not (self.template / f"{DB}-wal").exists()
        (self.template / f"{DB}-writer.lock").unlink(missing_ok=True)
        self.before = snapshot(self.template / DB)
        self.reset()

    @property
    def db(self) -> Path:
        return self.work / DB

    def reset(self) -> None:
        """Back to the built state, with ann's credential in this test's credential file (she
        is the human at this terminal; everyone else acts by name on the named board)."""
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.template, self.work)
        identity.save_credential(str(self.db.resolve()), "WEB", "ann", self.ann_token)

    def assert_unchanged(self, why: str) -> None:
        """The database holds exactly the rows it was built with."""
        assert snapshot(self.db) == self.before, f"the database changed: {why}"


def _write_inputs(folder: Path, export: dict[str, Any]) -> None:
    """Files that the CLI's path arguments may name: good, bad and odd."""
    (folder / "adir").mkdir()
    (folder / "garbage.db").write_text("this is not a database\n")
    (folder / "notutf8.json").write_bytes(b'{"tasks": ["\xff\xfe"]}')
    (folder / "empty.json").write_text("")
    (folder / "bad.json").write_text('{"format": "agentdeck-board", ')
    (folder / "deep.json").write_text("[" * 100_000)
    (folder / "deep.yaml").write_text("[" * 5_000 + "]" * 5_000)
    (folder / "export.json").write_text(json.dumps(export))
    (folder / "plan.yaml").write_text(
        "- ref: a\n  title: Plan the sprint\n- title: Run it\n  blocked_by: [a, WEB-1]\n"
    )
    (folder / "plan.json").write_text(json.dumps({"tasks": [{"title": "From JSON"}]}))
    (folder / "bad.yaml").write_text("- title: [unclosed\n")
    (folder / "dict.yaml").write_text("title: not a list\n")
    (folder / "dangling.yaml").write_text("- title: X\n  blocked_by: [nope]\n  parent: WEB-99\n")
    (folder / "junk.yaml").write_text("- 3\n- [1, 2]\n- {title: 7, priority: high}\n")
    claude = folder / "claude"
    claude.mkdir()
    (claude / "1.json").write_text(
        json.dumps({"id": "1", "subject": "Mirror me", "status": "pending"})
    )
    (claude / "2.json").write_text(
        json.dumps({"id": "2", "subject": "Then me", "status": "completed", "blockedBy": ["1"]})
    )
    (folder / "beads.jsonl").write_text(
        json.dumps({"id": "bd-1", "title": "A bead", "status": "open", "priority": 1}) + "\n"
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox that is also the working directory and AGENTDECK_DB for the whole module."""
    box = Sandbox(tmp_path_factory.mktemp("fuzz"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(box.work)
        patch.setenv("AGENTDECK_DB", str(box.db))
        patch.setenv("AGENTDECK_TIMEOUT", "5")
        for name in ("AGENTDECK_AS", "AGENTDECK_BOARD", "AGENTDECK_DEBUG"):
            patch.delenv(name, raising=False)
        yield box


def one_line_error(stderr: str, prefix: str = "agentdeck: error: ") -> str:
    """The message of a CLI failure, after checking it is one non-empty line and no traceback."""
    assert "Traceback" not in stderr, stderr
    assert stderr.startswith(prefix) and stderr.count("\n") == 1, repr(stderr)
    message = stderr.removeprefix(prefix).strip()
    assert message, "an empty error message"
    assert UNEXPECTED_CLI not in message, f"an unexpected error: {message}"
    return message


# Click commands by the name `main()` builds them for (just the invoked command, as the real
# script does); building one costs ~100 ms, so each is built once and reused.
_APPS: dict[str | None, Any] = {}


def run_in_process(args: list[str]) -> tuple[int, str, str]:
    """`agentdeck ARGS` through the app `main()` would build, with Typer's test isolation of
    stdin, stdout and stderr; any exception other than the exit escapes and fails the test."""
    name = command_name(args)
    if name not in _APPS:
        _APPS[name] = typer.main.get_command(build_app(name))
    with CliRunner().isolation() as (stdout, stderr, _):
        try:
            _APPS[name].main(args=args, prog_name="agentdeck")
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        return code, stdout.getvalue().decode(), stderr.getvalue().decode()
