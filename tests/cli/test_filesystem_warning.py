"""A database on a network filesystem: every command says so once on stderr, and --json stdout
stays one clean document."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agentdeck.core.storage import filesystems
from tests.cli.conftest import Ran, sqlite_only
from tests.core.storage.test_filesystems import fake_mounts

pytestmark = sqlite_only


def test_a_command_warns_once_on_stderr(
    web: str, cli: Callable[..., Ran], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filesystems, "MOUNTS_FILE", fake_mounts(tmp_path, Path(web).parent, "nfs"))
    ran = cli("ready", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert [t["key"] for t in json.loads(ran.stdout)["tasks"]] == ["WEB-1"]
    lines = ran.stderr.splitlines()
    assert len(lines) == 1
    database = Path(web).resolve()
    assert lines[0].startswith(
        f"agentdeck: warning: the database {database} is on a nfs filesystem"
    )


def test_a_command_on_a_local_disk_says_nothing(
    web: str, cli: Callable[..., Ran], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filesystems, "MOUNTS_FILE", fake_mounts(tmp_path, Path(web).parent, "ext4"))
    ran = cli("ready")
    assert ran.exit_code == 0
    assert ran.stderr == ""
