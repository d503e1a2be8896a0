"""Files an importer is pointed at, as an adversary would lay them out: symlinks out of a Claude
directory, FIFOs, /dev/zero and oversized files. Only regular files are read, never more than
the limit; a directory's odd entries are skipped and reported, a single odd file is refused.

Every read that could block runs through `promptly`, so a regression fails instead of hanging."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck, ValidationError
from agentdeck.core.formats import beads, claude, files
from tests.core.formats.conftest import FIXTURES
from tests.core.helpers import Refused

SECRET = "Outside secret task"


def promptly(run: Callable[[], Any], seconds: float = 20) -> Any:
    """What `run()` returns or raises, failing the test if it is still reading after `seconds`."""
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            outcome["value"] = run()
        except BaseException as exc:  # handed to the test's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still reading after {seconds} s: blocked or reading forever"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A valid Claude task file (and a folder holding one) outside the imported directory."""
    home = tmp_path / "home"
    (home / "folder").mkdir(parents=True)
    doc = {"id": "7", "subject": SECRET, "status": "pending", "blocks": [], "blockedBy": []}
    for path in (home / "secret.json", home / "folder" / "7.json"):
        path.write_text(json.dumps(doc))
    return home


def titles(deck: Deck) -> list[str]:
    return [t.title for t in deck.list_tasks("SHOP", include_cancelled=True)]


def test_symlinks_out_of_a_claude_directory_are_skipped_and_reported(
    team: Deck, claude_dir: Path, outside: Path
) -> None:
    (claude_dir / "7.json").symlink_to(outside / "secret.json")
    (claude_dir / "8.json").symlink_to(outside / "folder", target_is_directory=True)
    (claude_dir / "9.json").symlink_to(claude_dir / "1.json")  # even one that stays inside
    skipped: list[str] = []
    tasks = team.import_claude(claude_dir, actor="ann", on_skip=skipped.append).tasks
    assert len(tasks) == 6 and SECRET not in titles(team)
    assert skipped == [
        "skipped 7.json: a symbolic link, not read",
        "skipped 8.json: a symbolic link, not read",
        "skipped 9.json: a symbolic link, not read",
    ]


def test_fifos_devices_and_subdirectories_in_a_claude_directory_are_skipped_promptly(
    team: Deck, claude_dir: Path
) -> None:
    os.mkfifo(claude_dir / "7.json")
    (claude_dir / "8.json").symlink_to("/dev/zero")
    (claude_dir / "9.json").mkdir()
    skipped: list[str] = []
    tasks = promptly(
        lambda: team.import_claude(claude_dir, actor="ann", on_skip=skipped.append)
    ).tasks
    assert [t.key for t in tasks] == [f"SHOP-{n}" for n in range(1, 7)]
    assert skipped == [
        "skipped 7.json: a FIFO (named pipe), not read",
        "skipped 8.json: a symbolic link, not read",
        "skipped 9.json: a directory, not read",
    ]


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "symlink_to_dev_zero", "symlink_to_fifo"])
def test_a_beads_file_that_is_not_a_regular_file_is_refused_promptly(
    team: Deck, refused: Refused, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "issues.jsonl"
    expected = {
        "fifo": "a FIFO (named pipe), not read",
        "dev_zero": "a device, not read",
        "symlink_to_dev_zero": "a device, not read",
        "symlink_to_fifo": "a FIFO (named pipe), not read",
    }[kind]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path = Path("/dev/zero")
    elif kind == "symlink_to_dev_zero":
        path.symlink_to("/dev/zero")
    else:
        os.mkfifo(tmp_path / "pipe")
        path.symlink_to(tmp_path / "pipe")
    with refused(ValidationError, f"{path}: {expected}"):
        promptly(lambda: team.import_beads(path, actor="ann"))


def test_a_beads_file_the_user_names_may_be_a_link_to_a_regular_file(
    team: Deck, tmp_path: Path
) -> None:
    """Unlike an entry of a scanned directory, a file the user named is theirs to link."""
    path = tmp_path / "issues.jsonl"
    path.symlink_to(FIXTURES / "beads" / "issues.jsonl")
    assert promptly(lambda: team.import_beads(path, actor="ann")).tasks


def test_oversized_files_are_refused_naming_the_limit(
    team: Deck, refused: Refused, claude_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An oversized Claude Code task file is skipped and reported (the rest imports; with
    nothing else readable, the import is refused naming it); an oversized beads export is
    refused whole."""
    monkeypatch.setattr(claude, "MAX_FILE", 400)
    (claude_dir / "1.json").write_text(json.dumps({"pad": "x" * 500}))
    (claude_dir / "6.json").write_text(json.dumps({"id": "6", "subject": "S", "status": "pending"}))
    imported = team.import_claude(claude_dir, actor="ann")
    assert imported.summary is not None
    assert "1.json: larger than 400 bytes; file skipped" in imported.summary.problems
    assert imported.tasks[-1].title == "S" and len(imported.tasks) < 6
    monkeypatch.setattr(claude, "MAX_FILE", 10)
    with refused(ValidationError, "1.json: larger than 10 bytes"):
        team.import_claude(claude_dir, actor="ann")
    beads_file = tmp_path / "issues.jsonl"
    shutil.copy(FIXTURES / "beads" / "issues.jsonl", beads_file)
    monkeypatch.setattr(beads, "MAX_BEADS_FILE", beads_file.stat().st_size - 1)
    with refused(ValidationError, f"larger than {beads_file.stat().st_size - 1} bytes"):
        team.import_beads(beads_file, actor="ann")
    monkeypatch.setattr(beads, "MAX_BEADS_FILE", beads_file.stat().st_size)
    assert len(team.import_beads(beads_file, actor="ann").tasks) > 0  # exactly at the limit


class Endless:
    """A stream that never ends (what a size from `stat` cannot warn about), counting reads."""

    def __init__(self) -> None:
        self.given = 0

    def read(self, size: int) -> bytes:
        self.given += size
        return b"x" * size


def test_the_limit_is_enforced_while_reading_not_from_the_size_stat_reports(
    tmp_path: Path,
) -> None:
    stream = Endless()
    with pytest.raises(ValidationError, match="stdin: larger than 3 MiB"):
        files.read_at_most(stream, 3 * files.MIB, "stdin")  # type: ignore[arg-type]
    assert stream.given == 3 * files.MIB + 1
    # /proc files say size 0 and hold more: the read still stops at the limit.
    with pytest.raises(ValidationError, match="larger than 10 bytes"):
        files.read_regular_file("/proc/self/status", 10)
    (tmp_path / "ok.json").write_bytes(b"0123456789")
    assert files.read_regular_file(tmp_path / "ok.json", 10) == b"0123456789"
    with pytest.raises(ValidationError, match=r"missing\.json: no such file"):
        files.read_regular_file(tmp_path / "missing.json", 10)
