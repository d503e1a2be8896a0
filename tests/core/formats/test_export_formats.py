"""Leaving agentdeck: a board exported as a beads issues.jsonl and as a Backlog.md folder, each
checked against the other tool's own rules and read back: the same titles, statuses, labels,
types, priorities, parents and dependencies. Backlog.md's real CLI reads the folder too when
it is installed (`backlog` on PATH, or AGENTDECK_TEST_BACKLOG naming the binary)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck, ValidationError
from agentdeck.core.formats.backlog import read_backlog
from agentdeck.core.formats.beads import read_beads
from agentdeck.core.formats.export_backlog import BACKLOG_STATUS, file_name
from agentdeck.core.formats.export_beads import BEADS_STATUS
from agentdeck.core.formats.export_formats import write_export

TRICKY_TITLE = 'Café: "quotes", a/slash & <angle> — 日本語?'


@pytest.fixture
def board(web: Deck) -> Deck:
    """WEB with a task in every status, an epic with children, labels, types, priorities 0-4,
    an estimate, criteria with ticked boxes, comments, and text that looks like the other
    tools' markup."""
    add = web.add_task
    add("Epic: checkout", actor="sup", type="epic", labels=["checkout"], priority=0)
    add("Build the API", actor="sup", parent="WEB-1", labels=["backend", "api"], priority=1)
    add(
        TRICKY_TITLE,
        actor="sup",
        parent="WEB-1",
        blocked_by=["WEB-2"],
        type="bug",
        priority=4,
        estimate_hours=2.5,
        criteria="- [x] parses\n- [ ] renders 日本語\nplain line",
        description="Has <!-- AC:END --> and <!-- SECTION:DESCRIPTION:END --> inside.",
    )
    add("Review copy", actor="sup", type="chore", labels=["docs"])
    add("Deploy staging", actor="sup", type="feature", blocked_by=["WEB-2", "WEB-4"])
    add("Index orders", actor="sup")
    add("Call the old API", actor="sup")
    add("Drop IE support", actor="sup")
    add("Ask for credentials", actor="sup")
    web.claim("gen", key="WEB-6")
    web.complete("WEB-6", actor="gen", result="added an index on orders(created_at)")
    web.claim("gen", key="WEB-7")
    web.fail("WEB-7", actor="gen", reason="the old API was removed")
    web.claim("gen", key="WEB-4")
    web.submit("WEB-4", actor="gen", result="copy reviewed", verified_by="read twice")
    web.claim("fe", key="WEB-9")
    web.escalate("WEB-9", actor="fe", reason="need staging credentials")
    web.cancel("WEB-8", actor="ann", reason="out of scope")
    web.claim("be", key="WEB-2")
    web.comment("WEB-3", "first\n---\nstill one comment", actor="ann")
    web.comment("WEB-3", "second, by an agent", actor="be")
    return web


def tasks_of(deck: Deck) -> dict[str, Any]:
    return {t["key"]: t for t in deck.export_board("WEB")["tasks"]}


# -- beads ---------------------------------------------------------------------------------

# beads' rules, from internal/types/types.go (Issue.ValidateWithCustom, Status, IssueType,
# Dependency, Comment), written down here so the check does not trust the exporter.
BEADS_STATUSES = {"open", "in_progress", "blocked", "deferred", "closed", "pinned", "hooked"}
BEADS_TYPES = {"bug", "feature", "task", "epic", "chore", "decision", "message", "molecule"}
BEADS_DEP_TYPES = {
    "blocks",
    "parent-child",
    "conditional-blocks",
    "waits-for",
    "related",
    "discovered-from",
}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def beads_problems(text: str) -> list[str]:
    """Everything in `text` beads would refuse to import, one line each."""
    problems: list[str] = []
    issues = [json.loads(line) for line in text.splitlines()]
    ids = [i.get("id") for i in issues]
    if len(set(ids)) != len(ids):
        problems.append("repeated ids")
    for issue in issues:
        me = issue.get("id")
        if not isinstance(me, str) or not me:
            problems.append(f"{issue}: no id")
        title = issue.get("title")
        if not isinstance(title, str) or not 1 <= len(title) <= 500:
            problems.append(f"{me}: title must be 1-500 characters")
        if not isinstance(issue.get("priority"), int) or not 0 <= issue["priority"] <= 4:
            problems.append(f"{me}: priority must be between 0 and 4")
        if issue.get("status", "open") not in BEADS_STATUSES:
            problems.append(f"{me}: invalid status: {issue.get('status')}")
        if issue.get("issue_type", "task") not in BEADS_TYPES:
            problems.append(f"{me}: invalid issue type: {issue.get('issue_type')}")
        if (issue.get("status") == "closed") != ("closed_at" in issue):
            problems.append(f"{me}: closed_at must be set exactly when closed")
        for stamp in ("created_at", "updated_at", "closed_at", "started_at"):
            if stamp in issue and not RFC3339.match(issue[stamp]):
                problems.append(f"{me}: {stamp} is not RFC 3339: {issue[stamp]}")
        if issue.get("estimated_minutes", 0) < 0:
            problems.append(f"{me}: estimated_minutes cannot be negative")
        for dep in issue.get("dependencies", []):
            if dep.get("issue_id") != me or dep.get("depends_on_id") not in ids:
                problems.append(f"{me}: dependency {dep} does not join two issues of the file")
            if dep.get("type") not in BEADS_DEP_TYPES:
                problems.append(f"{me}: unknown dependency type {dep.get('type')}")
        for comment in issue.get("comments", []):
            if set(comment) != {"id", "issue_id", "author", "text", "created_at"}:
                problems.append(f"{me}: comment fields {sorted(comment)}")
        if "metadata" in issue and not isinstance(issue["metadata"], dict):
            problems.append(f"{me}: metadata must be a JSON object")
    return problems


def test_beads_export_keeps_beads_rules_and_reads_back(board: Deck) -> None:
    text = board.export_format("WEB", "beads")["issues.jsonl"]
    assert beads_problems(text) == []
    issues = {i["id"]: i for i in map(json.loads, text.splitlines())}
    ours = tasks_of(board)
    assert list(issues) == [key.lower() for key in ours]
    for key, task in ours.items():
        issue = issues[key.lower()]
        assert issue["title"] == task["title"]
        assert issue["status"] == BEADS_STATUS[task["status"]]
        assert issue["priority"] == task["priority"] and issue["issue_type"] == task["type"]
        assert issue.get("labels", []) == task["labels"]
        assert issue["metadata"]["agentdeck"]["key"] == key
    assert issues["web-3"]["dependencies"] == [
        {
            "issue_id": "web-3",
            "depends_on_id": "web-2",
            "type": "blocks",
            "created_at": ours["WEB-3"]["created_at"],
        },
        {
            "issue_id": "web-3",
            "depends_on_id": "web-1",
            "type": "parent-child",
            "created_at": ours["WEB-3"]["created_at"],
        },
    ]
    assert issues["web-3"]["estimated_minutes"] == 150
    assert [c["author"] for c in issues["web-3"]["comments"]] == ["ann", "be"]
    done, cancelled = issues["web-6"], issues["web-8"]
    assert done["close_reason"] == "added an index on orders(created_at)"
    assert done["closed_at"] == ours["WEB-6"]["completed_at"]
    assert cancelled["close_reason"].startswith("cancelled")
    assert cancelled["metadata"]["agentdeck"]["status"] == "cancelled"
    assert issues["web-4"]["metadata"]["agentdeck"] == {
        "key": "WEB-4",
        "status": "review",
        "verification": "read twice",
        "result": "copy reviewed",
    }
    assert issues["web-9"]["status"] == "blocked" and issues["web-7"]["status"] == "blocked"


def test_beads_export_reads_back_through_the_beads_reader(board: Deck, tmp_path: Path) -> None:
    path = write_export(board.export_format("WEB", "beads"), "beads", tmp_path)
    assert path == tmp_path / "issues.jsonl"
    items, notes = read_beads(path)
    back = {i.external_id.removeprefix("beads:"): i for i in items}
    ours = tasks_of(board)
    assert not notes.problems and not notes.skipped
    assert [i.title for i in back.values()] == [t["title"] for t in ours.values()]
    assert back["web-3"].blocked_by == ["beads:web-2"] and back["web-3"].parent == "beads:web-1"
    assert back["web-5"].blocked_by == ["beads:web-2", "beads:web-4"]
    assert back["web-3"].criteria == ours["WEB-3"]["criteria"]
    assert back["web-3"].comments[0][:2] == ("ann", "first\n---\nstill one comment")


# -- Backlog.md ----------------------------------------------------------------------------


def exported_folder(deck: Deck, out: Path) -> Path:
    return write_export(deck.export_format("WEB", "backlog"), "backlog", out)


def test_backlog_export_reads_back_the_same(board: Deck, tmp_path: Path) -> None:
    folder = exported_folder(board, tmp_path)
    assert folder == tmp_path / "backlog"
    items, notes = read_backlog(folder)
    back = {i.external_id: i for i in items}
    ours = tasks_of(board)
    assert list(back) == [f"backlog:TASK-{n}" for n in range(1, 10)]
    for key, task in ours.items():
        item = back["backlog:TASK-" + key.split("-")[1]]
        assert item.title == task["title"]
        assert item.status == task["status"]  # every agentdeck status has its own column
        assert item.labels == task["labels"] and item.type == task["type"]
        assert item.priority == task["priority"]  # 0 and 4 through config.yml's priorities
        assert item.assignee == task["assignee"]
        assert item.result == task["result"]
    three = back["backlog:TASK-3"]
    assert three.parent == "backlog:TASK-1" and three.blocked_by == ["backlog:TASK-2"]
    assert back["backlog:TASK-5"].blocked_by == ["backlog:TASK-2", "backlog:TASK-4"]
    assert three.criteria == "- [x] parses\n- [ ] renders 日本語\n- [ ] plain line"
    assert [c["checked"] for c in three.metadata["acceptance_criteria"]] == [True, False, False]
    # markers in a task's words are defused, so they cannot cut its section short
    assert three.description.startswith("Has <!- AC:END -> and <!- SECTION:DESCRIPTION:END ->")
    assert [(a, t) for a, t, _ in three.comments] == [
        ("ann", "first\n- - -\nstill one comment"),
        ("be", "second, by an agent"),
    ]
    assert "Verification: read twice" in back["backlog:TASK-4"].notes
    assert "Escalated: need staging credentials" in back["backlog:TASK-9"].notes
    assert isinstance(three.created_at, datetime)
    assert (notes.external, notes.problems, notes.skipped) == ([], [], {})


def test_backlog_files_look_like_backlog_writes_them(board: Deck) -> None:
    files = board.export_format("WEB", "backlog")
    name = file_name("WEB-3", TRICKY_TITLE)
    assert name == "task-3 - Café-quotes-a-slash-angle-—-日本語.md"  # Backlog.md's own rules
    text = files[f"backlog/tasks/{name}"]
    assert text.startswith("---\nid: TASK-3\ntitle: ")
    assert "\n---\n\n## Description\n\n<!-- SECTION:DESCRIPTION:BEGIN -->\n" in text
    assert "## Acceptance Criteria\n<!-- AC:BEGIN -->\n- [x] #1 parses\n" in text
    config = files["backlog/config.yml"]
    assert "statuses:\n- To Do\n- In Progress\n- Review\n- Escalated\n- Failed\n- Done\n" in config
    assert "priorities:\n- Critical\n" in config


def test_backlog_export_never_writes_over_a_board(board: Deck, tmp_path: Path) -> None:
    exported_folder(board, tmp_path)
    with pytest.raises(ValidationError, match="already has task files"):
        exported_folder(board, tmp_path)
    # `--out backlog` means that folder, not backlog/backlog
    other = tmp_path / "other" / "backlog"
    assert exported_folder(board, other) == other


def test_an_unknown_format_is_refused(board: Deck) -> None:
    with pytest.raises(ValidationError, match="'jira' is not one of beads, backlog"):
        board.export_format("WEB", "jira")


def backlog_cli() -> str | None:
    return os.environ.get("AGENTDECK_TEST_BACKLOG") or shutil.which("backlog")


@pytest.mark.skipif(backlog_cli() is None, reason="Backlog.md's CLI is not installed")
def test_backlog_md_itself_reads_the_export(board: Deck, tmp_path: Path) -> None:
    exported_folder(board, tmp_path)
    run = subprocess.run(
        [str(backlog_cli()), "task", "list", "--plain"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    columns: dict[str, list[str]] = {}
    column = ""
    for line in run.stdout.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            column = line[:-1]
        elif line.strip():
            columns.setdefault(column, []).append(line.strip())
    for key, task in tasks_of(board).items():
        shown = [
            row for row in columns[BACKLOG_STATUS[task["status"]]] if f"TASK-{key[4:]} - " in row
        ]
        assert shown and task["title"] in shown[0], (key, columns)
    view = subprocess.run(
        [str(backlog_cli()), "task", "view", "TASK-3", "--plain"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "TASK-2" in view.stdout and "renders 日本語" in view.stdout, view.stdout


@pytest.mark.parametrize("fmt", ["beads", "backlog"])
def test_leaving_and_coming_back_keeps_every_task(board: Deck, tmp_path: Path, fmt: str) -> None:
    """Export as the other tool's files, then import them into a new board: the same titles,
    columns, labels, types, parents and blockers, and importing again changes nothing."""
    path = write_export(board.export_format("WEB", fmt), fmt, tmp_path)
    source = path if fmt == "beads" else tmp_path
    first = board.import_source(fmt, source, actor="sup", board="BACK", create=True)
    assert first.summary is not None and not first.summary.problems
    again = board.import_source(fmt, source, actor="sup", board="BACK")
    assert again.summary is not None
    assert (again.summary.created, again.summary.updated) == (0, 0)

    def shape(key: str) -> set[tuple[Any, ...]]:
        tasks = {t.key: t for t in board.list_tasks(key, include_cancelled=True, limit=None)}
        number = {k: k.split("-")[1] for k in tasks}
        return {
            (
                t.title,
                t.column,
                tuple(sorted(t.labels)),
                t.type,
                tasks[t.parent].title if t.parent else None,
                tuple(sorted(tasks[b].title for b in t.blocked_by)),
            )
            for t in tasks.values()
            if number[t.key]
        }

    back, web = shape("BACK"), shape("WEB")
    assert back == web, "\n".join(map(str, [*sorted(back - web), "--", *sorted(web - back)]))
