"""`import claude DIR`, `import beads FILE`, `import FILE` and `plan FILE` against files an
adversary laid out: real symlinks, FIFOs and /dev/zero, run as real processes with a timeout so
a command that blocks fails the test instead of hanging it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.tui.cli import tasks as plan_command
from tests.cli.conftest import AGENTDECK
from tests.cli.test_errors import one_line_error
from tests.cli.test_reports import write_claude_task

SECRET = "Outside secret task"


def test_import_claude_skips_and_reports_symlinks_and_fifos(
    agentdeck, web: str, deck: Deck, tmp_path: Path
) -> None:
    folder, home = tmp_path / "claude", tmp_path / "home"
    folder.mkdir()
    home.mkdir()
    write_claude_task(folder, "1", "Plan the work", "completed")
    write_claude_task(home, "7", SECRET, "pending")
    (folder / "7.json").symlink_to(home / "7.json")
    (folder / "8.json").symlink_to(home, target_is_directory=True)
    os.mkfifo(folder / "9.json")
    ran = agentdeck("import", "claude", str(folder), "--as", "ann", timeout=30)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == (
        "mirrored 1 claude task into board WEB: 1 created, 0 updated, 0 unchanged"
    )
    assert "3 records could not be read and were skipped (each said on stderr)" in ran.stdout
    assert ran.stderr.splitlines() == [
        "agentdeck: note: skipped 7.json: a symbolic link, not read",
        "agentdeck: note: skipped 8.json: a symbolic link, not read",
        "agentdeck: note: skipped 9.json: a FIFO (named pipe), not read",
    ]
    assert SECRET not in [t.title for t in deck.list_tasks("WEB", include_cancelled=True)]


@pytest.mark.parametrize("command", [["import"], ["import", "beads"], ["plan"]])
@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "symlink_to_dev_zero"])
def test_a_single_file_that_is_not_regular_is_refused_in_one_line(
    agentdeck, web: str, tmp_path: Path, unchanged, command: list[str], kind: str
) -> None:
    path = tmp_path / "input.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path = Path("/dev/zero")
    else:
        path.symlink_to("/dev/zero")
    check = unchanged()
    ran = agentdeck(*command, str(path), "--as", "ann", timeout=30)
    assert ran.returncode == 1
    expected = {
        "fifo": "a FIFO (named pipe), not read",
        "dev_zero": "a device, not read",
        "symlink_to_dev_zero": "a device, not read",
    }[kind]
    assert one_line_error(ran.stderr).endswith(f"{path}: {expected}")
    check()


def test_plan_from_endless_stdin_stops_at_the_limit(web: str, unchanged) -> None:
    check = unchanged()
    with open("/dev/zero", "rb") as zero:
        ran = subprocess.run(
            [str(AGENTDECK), "plan", "-", "--as", "ann"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert ran.returncode == 1
    assert one_line_error(ran.stderr) == "stdin: larger than 64 MiB"
    check()


def test_oversized_export_and_plan_are_refused_naming_the_limit(
    cli, web: str, tmp_path: Path, unchanged, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentdeck.core.formats import native

    monkeypatch.setattr(native, "MAX_DOCUMENT", 100)
    monkeypatch.setattr(plan_command, "MAX_PLAN", 100)
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"title": "x" * 200}]))
    check = unchanged()
    ran = cli("import", str(big), "--key", "BIG", "--as", "ann")
    assert (ran.exit_code, one_line_error(ran.stderr)) == (1, f"{big}: larger than 100 bytes")
    ran = cli("plan", str(big), "--as", "ann")
    assert (ran.exit_code, one_line_error(ran.stderr)) == (1, f"plan {big}: larger than 100 bytes")
    ran = cli("plan", "-", "--as", "ann", input=big.read_text())
    assert (ran.exit_code, one_line_error(ran.stderr)) == (1, "stdin: larger than 100 bytes")
    check()
