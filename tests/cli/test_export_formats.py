"""`agentdeck export --format beads|backlog` through the real app: what it prints and writes,
and refusals as one line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Ran


def test_beads_to_stdout_and_to_a_file(cli, web: str, tmp_path: Path) -> None:
    ran: Ran = cli("export", "--format", "beads")
    assert ran.exit_code == 0, ran.stderr
    issues = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [(i["id"], i["title"], i["status"]) for i in issues] == [
        ("web-1", "Build the API", "open"),
        ("web-2", "Wire the UI", "open"),
    ]
    assert issues[1]["dependencies"][0]["depends_on_id"] == "web-1"
    out = tmp_path / "issues.jsonl"
    ran = cli("export", "--format", "beads", "--out", str(out))
    assert ran.stdout == f"wrote board WEB as beads (2 tasks) to {out}\n"
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["web-1", "web-2"]
    ran = cli("export", "--format", "beads", "--out", str(tmp_path), "--json")
    assert json.loads(ran.stdout) == {
        "board": "WEB",
        "format": "beads",
        "path": str(tmp_path / "issues.jsonl"),
        "tasks": 2,
    }


def test_backlog_into_the_current_folder_once(cli, web: str, tmp_path: Path) -> None:
    ran = cli("export", "--format", "backlog")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == "wrote board WEB as backlog (2 tasks) to backlog\n"
    names = sorted(p.name for p in (tmp_path / "backlog" / "tasks").iterdir())
    assert names == ["task-1 - Build-the-API.md", "task-2 - Wire-the-UI.md"]
    assert (tmp_path / "backlog" / "config.yml").is_file()
    again = cli("export", "--format", "backlog")
    assert again.exit_code == 1 and again.stderr.count("\n") == 1
    assert "already has task files; export into an empty folder" in again.stderr


def test_an_unknown_format_is_one_line(cli, web: str) -> None:
    ran = cli("export", "--format", "jira")
    assert ran.exit_code == 1 and ran.stderr.count("\n") == 1, ran.stderr
    assert "'jira' is not one of beads, backlog" in ran.stderr
