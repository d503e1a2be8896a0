"""Epics and comments through the CLI, on both backends: `comment KEY TEXT` by humans and
agents, comments and an epic's progress in `task show`, `ready` and `claim` leaving epics out,
and the report's Comments part."""

from __future__ import annotations

import json

from agentdeck.core import Deck

HOSTILE = "[bold red]approved[/] \x1b[31m\u202eevil"


def test_a_human_and_an_agent_comment_and_task_show_lists_them(cli, web: str) -> None:
    by_ann = cli("comment", "WEB-1", "the API spec moved to docs/api.md", "--json")
    assert by_ann.exit_code == 0, by_ann.stderr
    said = json.loads(by_ann.stdout)
    assert (said["task"], said["actor"], said["text"]) == (
        "WEB-1",
        "ann",
        "the API spec moved to docs/api.md",
    )
    by_coder = cli("comment", "WEB-1", HOSTILE, "--as", "coder")
    assert by_coder.exit_code == 0, by_coder.stderr
    assert by_coder.stdout.startswith("commented on WEB-1 (#")
    shown = json.loads(cli("task", "show", "WEB-1", "--json").stdout)
    assert shown["comments_total"] == 2
    assert [(c["actor"], c["text"]) for c in shown["comments"]] == [
        ("ann", "the API spec moved to docs/api.md"),
        ("coder", HOSTILE),
    ]
    text = cli("task", "show", "WEB-1")
    assert text.exit_code == 0
    assert "Comments" in text.stdout and "the API spec moved" in text.stdout
    assert "\x1b" not in text.stdout and "\u202e" not in text.stdout  # shown escaped
    assert "[bold red]approved[/]" in text.stdout  # markup shown literally


def test_comment_reads_stdin_and_refuses_outsiders_and_empty_text(cli, web: str, unchanged) -> None:
    ran = cli("comment", "WEB-2", "-", "--as", "designer", "--json", input="from a file\n")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["text"] == "from a file\n"
    check = unchanged()
    outsider = cli("comment", "WEB-2", "hello", "--as", "mallory")
    assert outsider.exit_code == 1
    assert outsider.stderr.strip() == (
        "agentdeck: error: no agent 'mallory' on board WEB; add it with `agentdeck agent add mallory`"
    )
    empty = cli("comment", "WEB-2", "  ", "--as", "coder")
    assert (empty.exit_code, empty.stderr.strip()) == (1, "agentdeck: error: a comment needs text")
    check()


def test_an_epic_shows_its_progress_and_is_neither_ready_nor_claimable(
    cli, web: str, deck: Deck
) -> None:
    epic = json.loads(cli("task", "add", "Checkout", "-p", "0", "--json").stdout)["key"]
    parts = [
        json.loads(cli("task", "add", f"Part {i}", "--parent", epic, "--json").stdout)["key"]
        for i in (1, 2, 3)
    ]
    ready = json.loads(cli("ready", "--json").stdout)["tasks"]
    assert epic not in [t["key"] for t in ready]
    refused = cli("claim", epic, "--as", "coder")
    assert refused.exit_code == 2
    assert f"cannot claim {epic}: it is an epic waiting on 3 unfinished subtasks (0/3 done)" in (
        refused.stderr
    )
    for key in parts[:2]:
        assert cli("claim", key, "--as", "coder").exit_code == 0
        assert cli("done", key, "--verified-by", "pytest", "--as", "coder").exit_code == 0
    listed = {t["key"]: t for t in json.loads(cli("task", "list", "--json").stdout)["tasks"]}
    assert listed[epic]["subtasks"] == "2/3"
    sheet = cli("task", "show", epic)
    assert f"2/3 done: {', '.join(parts)}" in sheet.stdout
    table = cli("task", "list")
    assert "[2/3]" in table.stdout
    report = cli("report", "--section", "blocked")
    assert "waiting on its subtasks (2/3 done)" in report.stdout
    assert cli("claim", parts[2], "--as", "coder").exit_code == 0
    assert cli("done", parts[2], "--verified-by", "pytest", "--as", "coder").exit_code == 0
    assert deck.get_task(epic).status == "done"


def test_the_report_has_a_comments_part_for_open_tasks(cli, web: str) -> None:
    assert cli("comment", "WEB-2", "blocked on the API, see WEB-1", "--as", "coder").exit_code == 0
    ran = cli("report", "--section", "comments")
    assert ran.exit_code == 0, ran.stderr
    assert "## Comments on open tasks (1)" in ran.stdout
    assert "**WEB-2** coder: blocked on the API, see WEB-1" in ran.stdout
