"""Tasks, plans, the ready queue and the knowledge library through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from agentdeck.core import Deck


def test_task_add_with_every_option(cli, web: str) -> None:
    ran = cli(
        "task", "add", "Write docs", "-d", "All of them", "--criteria", "README builds",
        "-p", "0", "--skills", "writing", "--parent", "WEB-1", "--requires-approval",
        "--estimate", "2.5", "--assignee", "designer", "--blocked-by", "WEB-1,WEB-2",
        "--as", "planner", "--json",
    )  # fmt: skip
    assert ran.exit_code == 0, ran.stderr
    task = json.loads(ran.stdout)
    assert task["key"] == "WEB-3"
    assert (task["priority"], task["parent"], task["assignee"]) == (0, "WEB-1", "designer")
    assert task["requires_approval"] and task["estimate_hours"] == 2.5
    assert (task["column"], sorted(task["blocked_by"])) == ("blocked", ["WEB-1", "WEB-2"])


def test_task_add_needs_an_explicit_actor(cli, web: str, unchanged, tmp_path: Path) -> None:
    """With no name, no token and no credential file, nobody is acting."""
    check = unchanged()
    ran = cli("task", "add", "Anonymous", env={"XDG_CONFIG_HOME": str(tmp_path / "nobody")})
    assert ran.exit_code == 1
    assert ran.stderr.strip() == (
        "agentdeck: error: cannot tell who is acting: an agent sets AGENTDECK_TOKEN to its "
        "token (on a board in named mode, --as NAME or AGENTDECK_AS will do); a human saves "
        "their credential with `agentdeck login`"
    )
    check()


def test_a_human_at_their_terminal_needs_no_name(cli, web: str, deck: Deck) -> None:
    """The credential file names the human: `task add` with no --as acts as ann."""
    ran = cli("task", "add", "From ann's terminal", "--json")
    assert ran.exit_code == 0, ran.stderr
    created = [e for e in deck.events_since(0) if e.kind == "created" and e.task == "WEB-3"]
    assert [(e.actor, e.auth) for e in created] == [("ann", "credential file")]


def test_task_list_filters(cli, web: str) -> None:
    assert [t["key"] for t in json.loads(cli("task", "list", "--json").stdout)["tasks"]] == [
        "WEB-1",
        "WEB-2",
    ]
    blocked = json.loads(cli("task", "list", "--column", "blocked", "--json").stdout)["tasks"]
    assert [t["key"] for t in blocked] == ["WEB-2"]
    pending = json.loads(cli("task", "list", "--status", "pending,review", "--json").stdout)
    assert len(pending["tasks"]) == 2
    first = json.loads(cli("task", "list", "--limit", "1", "--json").stdout)
    page = json.loads(
        cli("task", "list", "--limit", "1", "--cursor", first["next_cursor"], "--json").stdout
    )
    assert [t["key"] for t in page["tasks"]] == ["WEB-2"] and page["next_cursor"] is None
    text = cli("task", "list").stdout
    assert "Build the API" in text and "blocked" in text


def test_task_show_includes_dependencies_and_the_log(cli, web: str, deck: Deck) -> None:
    deck.claim("coder", key="WEB-1")
    deck.log("WEB-1", "read the spec", actor="coder", kind="decision")
    shown = json.loads(cli("task", "show", "web-1", "--json").stdout)
    assert shown["task"]["key"] == "WEB-1"
    assert shown["blocks"] == ["WEB-2"]
    assert [e["text"] for e in shown["log"] if e["kind"] == "log"] == ["read the spec"]
    text = cli("task", "show", "WEB-1").stdout
    assert "read the spec" in text and "WEB-2" in text and "coder" in text


def test_task_show_says_the_status_once_in_words(cli, web: str, deck: Deck) -> None:
    """The status in words, with the column only where it differs: never `done (done)`."""
    deck.claim("coder", key="WEB-1")

    def status_of(key: str) -> str:
        text = cli("task", "show", key, env={"COLUMNS": "200"}).stdout
        return next(
            line.split(None, 1)[1].strip()
            for line in text.splitlines()
            if line.startswith("status ")
        )

    assert status_of("WEB-1") == "in progress"
    assert status_of("WEB-2") == "pending (blocked)"
    assert "WEB-1 (in progress)" in cli("task", "show", "WEB-2", env={"COLUMNS": "200"}).stdout
    deck.complete("WEB-1", actor="coder", result="ok", verified_by="pytest")
    assert (status_of("WEB-1"), status_of("WEB-2")) == ("done", "pending (ready)")


def test_task_show_of_a_missing_task_exits_1(cli, web: str) -> None:
    ran = cli("task", "show", "WEB-99")
    assert (ran.exit_code, ran.stderr) == (1, "agentdeck: error: no task WEB-99\n")


def test_plan_from_yaml_with_refs(cli, web: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "- ref: schema\n  title: Design the schema\n  skills: [python]\n"
        "- title: Write migrations\n  blocked_by: [schema, WEB-1]\n  priority: 1\n"
    )
    ran = cli("plan", str(plan), "--as", "planner", "--json")
    assert ran.exit_code == 0, ran.stderr
    created = json.loads(ran.stdout)
    assert created["created"] == 2
    assert [(t["key"], t["column"]) for t in created["tasks"]] == [
        ("WEB-3", "ready"),
        ("WEB-4", "blocked"),
    ]
    whole = json.loads(cli("task", "show", "WEB-4", "--json").stdout)["task"]
    assert sorted(whole["blocked_by"]) == ["WEB-1", "WEB-3"]


def test_plan_from_json_object_and_stdin(cli, web: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"tasks": [{"title": "One"}, {"title": "Two"}]}))
    assert len(json.loads(cli("plan", str(plan), "--as", "planner", "--json").stdout)["tasks"]) == 2
    ran = cli("plan", "-", "--as", "planner", input="[{title: From stdin}]")
    assert ran.exit_code == 0, ran.stderr
    assert "planned 1 task\n" in ran.stdout


def test_a_malformed_plan_names_the_file_and_line_and_creates_nothing(
    cli, web: str, tmp_path: Path, unchanged
) -> None:
    check = unchanged()
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("- title: ok\n- title: [unclosed\n")
    ran = cli("plan", str(bad_yaml), "--as", "planner")
    assert ran.exit_code == 1
    assert ran.stderr.startswith(f"agentdeck: error: {bad_yaml} line ")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("- title: ok\n- title: two\n  colour: red\n")
    ran = cli("plan", str(unknown), "--as", "planner")
    assert ran.exit_code == 1
    assert f"{unknown}: plan task 2: unknown field 'colour'" in ran.stderr
    not_a_list = tmp_path / "scalar.json"
    not_a_list.write_text('"just text"')
    ran = cli("plan", str(not_a_list), "--as", "planner")
    assert (ran.exit_code, "a plan is a list of tasks" in ran.stderr) == (1, True)
    check()


def test_ready_for_an_agent_and_for_everyone(cli, web: str) -> None:
    assert [t["key"] for t in json.loads(cli("ready", "--json").stdout)["tasks"]] == ["WEB-1"]
    nothing = json.loads(cli("ready", "--as", "designer", "--json").stdout)
    assert nothing == {"tasks": [], "next_cursor": None}
    assert "nothing is ready" in cli("ready", "--as", "designer").stdout


def test_search_and_similar_find_finished_work(cli, web: str, deck: Deck) -> None:
    deck.claim("coder", key="WEB-1")
    deck.complete("WEB-1", actor="coder", result="REST endpoints with pagination")
    hits = json.loads(cli("search", "pagination", "--json").stdout)["hits"]
    assert [h["key"] for h in hits] == ["WEB-1"]
    assert "WEB-1" in cli("search", "pagination").stdout
    deck.add_task("Build the API client", actor="planner")
    similar = json.loads(cli("similar", "WEB-3", "--json").stdout)["hits"]
    assert [h["key"] for h in similar] == ["WEB-1"]
    assert "nothing found" in cli("search", "zebra").stdout


def test_search_ranks_hits_with_relevance_not_raw_scores(cli, web: str, deck: Deck) -> None:
    """People see 1., 2. and a relevance as a share of the best hit; `--json` keeps `score`."""
    for key, result in (("WEB-1", "pagination pagination pagination"), ("WEB-2", "pagination")):
        deck.claim("coder", key=key)
        deck.complete(key, actor="coder", result=result, verified_by="pytest")
    hits = json.loads(cli("search", "pagination", "--json").stdout)["hits"]
    assert [h["key"] for h in hits] == ["WEB-1", "WEB-2"]
    assert all(isinstance(h["score"], float) for h in hits)
    text = cli("search", "pagination", env={"COLUMNS": "200"}).stdout
    lines = [line for line in text.splitlines() if "WEB-" in line]
    assert lines[0].startswith("1. WEB-1") and lines[0].endswith("(relevance 100%)")
    assert lines[1].startswith("2. WEB-2") and re.search(r"\(relevance (\d+|<1)%\)$", lines[1])
    assert "score" not in text and "e-0" not in text
