"""`agentdeck import SOURCE PATH` (issue #16): the summary, the same in a dry run and a real
one; `--create`, `--map-status` and `--json`; files of the wrong kind and empty files said in
one line; and `import claude --watch` mirroring through a malformed file, a deleted one and a
new list in a real process, each problem said once."""

from __future__ import annotations

import json
import os
from pathlib import Path

from agentdeck.core import Deck
from tests.cli.test_process import interrupt, next_line_with, running
from tests.core.formats.conftest import FIXTURES
from tests.fuzz.conftest import one_line_error

REAL_WORLD = FIXTURES / "beads" / "real_world.jsonl"


def test_dry_run_then_real_run_print_the_same_summary(cli, web: str, deck: Deck) -> None:
    args = ("import", "beads", str(REAL_WORLD), "--board", "PAY", "--create", "--as", "ann")
    dry = cli(*args, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "PAY" not in [b.key for b in deck.list_boards()]
    real = cli(*args)
    assert real.exit_code == 0, real.stderr
    dry_lines, real_lines = dry.stdout.splitlines(), real.stdout.splitlines()
    assert dry_lines[-1] == "dry run: nothing was changed"
    assert real_lines[-1].startswith("your credential is saved in ")
    assert dry_lines[:-1] == real_lines[:-1]
    assert real_lines[0] == (
        "made board PAY; mirrored 11 beads tasks into board PAY: 11 created, 0 updated, 0 unchanged"
    )
    assert "  statuses mapped: " in real_lines[2] and "hooked -> in_progress (1)" in real_lines[2]
    assert real_lines[3] == "  records skipped: agent (1), memory (2), message (1)"
    assert deck.get_board("PAY").name == "Imported from beads"
    again = cli(*args[:-2], "--as", "ann", "--json")
    doc = json.loads(again.stdout)
    assert (doc["created"], doc["updated"], doc["unchanged"], doc["dry_run"]) == (0, 0, 11, False)
    assert doc["skipped_records"] == {"agent": 1, "memory": 2, "message": 1}
    assert {"task": "beads:sh-9fz", "ref": "beads:external:ops:inc-311"} in doc["external"]
    assert doc["kinds"]["bug"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert {"from": "pinned", "to": "pending", "tasks": 1} in doc["mapped"]
    assert doc["tasks"][0]["key"] == "PAY-1" and "description" not in doc["tasks"][0]


def test_map_status_and_mistakes_are_one_line(cli, web: str, tmp_path: Path, unchanged) -> None:
    check = unchanged()
    ran = cli("import", "beads", str(REAL_WORLD), "--map-status", "hooked", "--as", "ann")
    assert (ran.exit_code, one_line_error(ran.stderr)) == (
        1,
        "--map-status takes FROM=TO, like hooked=in_progress, not 'hooked'",
    )
    taskmaster = tmp_path / "tasks.json"
    taskmaster.write_text(json.dumps({"master": {"tasks": []}}))
    ran = cli("import", "beads", str(taskmaster), "--as", "ann")
    assert one_line_error(ran.stderr) == (
        f"{taskmaster}: this looks like a Taskmaster tasks.json; "
        "use `agentdeck import taskmaster FILE`"
    )
    ran = cli("import", str(REAL_WORLD), "--as", "ann")
    assert one_line_error(ran.stderr).endswith(
        "this looks like a beads export (issues.jsonl); use `agentdeck import beads FILE`"
    )
    empty = tmp_path / "issues.jsonl"
    empty.write_text("")
    ran = cli("import", "beads", str(empty), "--as", "ann")
    assert (ran.exit_code, one_line_error(ran.stderr)) == (
        1,
        "issues.jsonl: empty: no beads issues in it",
    )
    ran = cli("import", "beads", "--as", "ann")
    assert one_line_error(ran.stderr) == "`agentdeck import beads` needs a FILE"
    ran = cli("import", str(REAL_WORLD), "--dry-run", "--as", "ann")
    assert one_line_error(ran.stderr) == "--dry-run works with `agentdeck import SOURCE PATH` only"
    check()
    ran = cli(
        "import",
        "beads",
        str(REAL_WORLD),
        "--map-status",
        "needs-sign-off=done",
        "--as",
        "ann",
        "--json",
    )
    assert {"from": "needs-sign-off", "to": "done", "tasks": 1} in json.loads(ran.stdout)["mapped"]


def write_atomically(path: Path, doc: object) -> None:
    """Write a task file the way an editor saves: whole, by rename (never caught half-written)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(doc))
    os.replace(temporary, path)


def task(task_id: str, subject: str, status: str, **extra: object) -> dict[str, object]:
    return {"id": task_id, "subject": subject, "status": status, "blockedBy": [], **extra}


def test_watch_mirrors_through_a_malformed_file_a_deleted_one_and_a_new_list(
    web: str, tmp_path: Path, deck: Deck
) -> None:
    tasks = tmp_path / "tasks"
    (tasks / "list-a").mkdir(parents=True)
    write_atomically(tasks / "list-a" / "1.json", task("1", "Survey the code", "completed"))
    write_atomically(
        tasks / "list-a" / "2.json", task("2", "Write the fix", "pending", blockedBy=["1"])
    )
    args = ("import", "claude", str(tasks), "--watch", "--json", "--as", "ann")
    with running(*args) as (process, lines):
        first = json.loads(next_line_with(lines, '"created": 2'))
        assert first["problems"] == []
        (tasks / "list-a" / "3.json").write_text('{"id": "3", "subject": ')  # malformed
        broken = json.loads(next_line_with(lines, "3.json"))
        assert broken["problems"] == [
            "list-a/3.json: line 1: not JSON (Expecting value); file skipped"
        ]
        (tasks / "list-a" / "1.json").unlink()  # Claude Code deletes completed tasks' files
        write_atomically(
            tasks / "list-a" / "2.json", task("2", "Write the fix", "in_progress", owner="ann")
        )
        next_line_with(lines, '"updated": 1')
        (tasks / "list-b").mkdir()
        write_atomically(
            tasks / "list-b" / "1.json", task("1", "Another session's first task", "pending")
        )
        newest = json.loads(next_line_with(lines, '"created": 1'))
        assert newest["problems"] == broken["problems"]  # still broken, still mirrored around
        code, stderr = interrupt(process)
    assert code == 0
    assert stderr.splitlines() == [f"agentdeck: note: {broken['problems'][0]}"]  # said once
    titles = {t.title: t.status for t in deck.list_tasks("WEB", include_cancelled=True)}
    assert titles["Survey the code"] == "done"  # its file is gone; it stays done
    assert titles["Another session's first task"] == "pending"
    said = [e for e in deck.events_since(0, board="WEB") if e.subkind == "import_problem"]
    assert [e.text for e in said] == [f"claude: {broken['problems'][0]}"]
