"""`agentdeck task edit`, labels and types through the CLI, on both backends: what a human at
their terminal and an agent with its token may change, versions, stdin, clearing fields, and
the label filters of `ready`, `task list` and `report`.

On the `web` board the planner (the lead) created WEB-1 and WEB-2 (WEB-2 waits on WEB-1); ann
acts through her credential file, agents through `AGENTDECK_TOKEN`."""

from __future__ import annotations

import json
from pathlib import Path

from agentdeck.core import Deck


def receipt(ran) -> dict:
    assert ran.exit_code == 0, ran.stderr
    return json.loads(ran.stdout)


def test_a_human_edits_with_the_version_she_saw(cli, web: str, deck: Deck) -> None:
    seen = json.loads(cli("task", "show", "WEB-1", "--json").stdout)["task"]["version"]
    ran = cli(
        "task", "edit", "WEB-1", "--title", "Build the orders API", "--label", "API",
        "--label", "backend", "--type", "feature", "--priority", "0", "--estimate", "2",
        "--skills", "python, sql", "--version", str(seen), "--json",
    )  # fmt: skip
    assert receipt(ran) == {
        "key": "WEB-1",
        "version": seen + 1,
        "changed": ["title", "skills", "estimate_hours", "priority", "labels", "type"],
    }
    t = deck.get_task("WEB-1")
    assert (t.title, t.labels, t.type, t.priority) == (
        "Build the orders API",
        ("api", "backend"),
        "feature",
        0,
    )
    assert t.required_skills == ("python", "sql") and t.estimate_hours == 2
    [event] = [e for e in deck.task_events("WEB-1") if e.kind == "edited"]
    assert (event.actor, event.auth) == ("ann", "credential file")
    shown = cli("task", "show", "WEB-1")
    assert "feature" in shown.stdout and "api, backend" in shown.stdout


def test_a_stale_version_is_refused_and_nothing_changes(
    cli, web: str, deck: Deck, unchanged
) -> None:
    check = unchanged()
    ran = cli("task", "edit", "WEB-1", "--title", "Late", "--version", "7")
    assert ran.exit_code == 2
    assert ran.stderr.strip() == (
        "agentdeck: error: WEB-1 changed since you saw it (now version 1, you had 7; it is "
        "pending); reload and try again"
    )
    ran = cli("task", "edit", "WEB-1", "--title", "Late", "--expected-version", "0", "--json")
    assert ran.exit_code == 2 and json.loads(ran.stdout)["error"]["exit_code"] == 2
    check()


def test_a_humans_edit_conflicts_with_an_agents_claim(
    cli, web: str, tokens: dict[str, str]
) -> None:
    seen = json.loads(cli("task", "show", "WEB-1", "--json").stdout)["task"]["version"]
    claimed = cli("claim", "WEB-1", "--json", env={"AGENTDECK_TOKEN": tokens["coder"]})
    assert claimed.exit_code == 0, claimed.stderr
    ran = cli("task", "edit", "WEB-1", "--priority", "0", "--version", str(seen))
    assert ran.exit_code == 2 and "it is in progress" in ran.stderr
    # Without --version the command edits what it reads when it starts.
    assert receipt(cli("task", "edit", "WEB-1", "--priority", "0", "--json"))["changed"] == [
        "priority"
    ]


def test_without_a_version_and_with_nothing_new(cli, web: str) -> None:
    ran = cli("task", "edit", "WEB-1", "--title", "Build the API")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == "WEB-1 unchanged: it already had every value given (version 1)\n"
    ran = cli("task", "edit", "WEB-1")
    assert ran.exit_code == 1 and "nothing to change on WEB-1" in ran.stderr


def test_description_from_stdin_and_clearing_fields(cli, web: str, deck: Deck) -> None:
    hostile = "line one\n\x1b[31mred\x1b[0m $(rm -rf ~)\n"
    ran = cli(
        "task", "edit", "WEB-2", "-d", "-", "--parent", "WEB-1", "--estimate", "3", input=hostile
    )
    assert ran.exit_code == 0, ran.stderr
    t = deck.get_task("WEB-2")
    assert (t.description, t.parent, t.estimate_hours) == (hostile, "WEB-1", 3)
    ran = cli("task", "edit", "WEB-2", "--parent", "-", "--estimate", "-", "--json")
    assert receipt(ran)["changed"] == ["estimate_hours", "parent"]
    assert (deck.get_task("WEB-2").parent, deck.get_task("WEB-2").estimate_hours) == (None, None)
    ran = cli("task", "edit", "WEB-2", "--estimate", "soon")
    assert ran.exit_code == 1 and "--estimate is a number of hours or -" in ran.stderr


def test_an_agent_that_did_not_create_the_task_is_refused(
    cli, web: str, tokens: dict[str, str], unchanged
) -> None:
    check = unchanged()
    ran = cli(
        "task", "edit", "WEB-1", "--title", "Mine", env={"AGENTDECK_TOKEN": tokens["designer"]}
    )
    assert ran.exit_code == 2
    assert "designer cannot edit WEB-1: only its creator (planner), the board's lead" in ran.stderr
    check()
    lead = cli(
        "task", "edit", "WEB-1", "--title", "Lead's", env={"AGENTDECK_TOKEN": tokens["planner"]}
    )
    assert lead.exit_code == 0, lead.stderr


def test_the_holder_adds_dependencies_and_notes_only(
    cli, web: str, deck: Deck, tokens: dict[str, str]
) -> None:
    coder = {"AGENTDECK_TOKEN": tokens["coder"]}
    assert cli("claim", "WEB-1", env=coder).exit_code == 0
    found = deck.add_task("Fix the schema", actor="ann").key
    for option, value in (
        ("--criteria", "Nothing"),
        ("--title", "Easier"),
        ("--remove-dep", "WEB-2"),
    ):
        ran = cli("task", "edit", "WEB-1", option, value, env=coder)
        assert ran.exit_code == 2 and "coder cannot change the" in ran.stderr, ran.stderr
    ran = cli(
        "task", "edit", "WEB-1", "--add-dep", found, "--criteria-note", "schema first",
        "--json", env=coder,
    )  # fmt: skip
    assert receipt(ran)["changed"] == ["criteria", "dependencies"]
    assert deck.get_task("WEB-1").criteria == "- Note from coder: schema first"
    cycle = cli("task", "edit", "WEB-1", "--add-dep", "WEB-2", env=coder)
    assert cycle.exit_code == 2 and "WEB-1 cannot wait on WEB-2" in cycle.stderr


def test_a_done_task_keeps_its_history(cli, web: str, deck: Deck, tokens: dict[str, str]) -> None:
    coder = {"AGENTDECK_TOKEN": tokens["coder"]}
    assert cli("claim", "WEB-1", env=coder).exit_code == 0
    assert cli("done", "WEB-1", "--verified-by", "pytest", env=coder).exit_code == 0
    ran = cli("task", "edit", "WEB-1", "--criteria", "Easier")
    assert ran.exit_code == 2
    assert "it is done, and a finished task keeps its history" in ran.stderr
    assert receipt(cli("task", "edit", "WEB-1", "--label", "shipped", "--json"))["changed"] == [
        "labels"
    ]


def test_labels_and_types_on_add_and_the_filters(cli, web: str) -> None:
    ran = cli(
        "task", "add", "Crash on empty cart", "--type", "bug", "--label", "Checkout",
        "--label", "urgent", "--json",
    )  # fmt: skip
    added = receipt(ran)
    assert (added["type"], added["labels"]) == ("bug", ["checkout", "urgent"])
    bad = cli("task", "add", "Bad", "--label", "two words")
    assert bad.exit_code == 1 and "label 'two words' must be" in bad.stderr
    bad = cli("task", "add", "Bad", "--type", "story")
    assert (
        bad.exit_code == 1 and "type must be one of task, bug, feature, epic, chore" in bad.stderr
    )
    ready = receipt(cli("ready", "--label", "CHECKOUT", "--json"))["tasks"]
    assert [(t["key"], t["type"], t["labels"]) for t in ready] == [
        ("WEB-3", "bug", ["checkout", "urgent"])
    ]
    listed = receipt(cli("task", "list", "--label", "urgent", "--json"))["tasks"]
    assert [t["key"] for t in listed] == ["WEB-3"]
    assert receipt(cli("task", "list", "--label", "nothing", "--json"))["tasks"] == []
    report = cli("report", "--label", "checkout")
    assert "**WEB-3** (bug) Crash on empty cart [checkout, urgent]" in report.stdout
    assert "WEB-1" not in report.stdout
    summary = receipt(cli("report", "--label", "checkout", "--json"))
    assert (summary["label"], summary["total"]) == ("checkout", 1)


def test_a_plan_file_with_labels_types_and_a_criteria_list(
    cli, web: str, deck: Deck, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "- ref: epic\n  title: Checkout\n  type: epic\n  labels: [shop]\n"
        "- title: Pay by card\n  parent: epic\n  labels: [Shop, payments]\n"
        "  criteria:\n    - Cards are charged once\n    - Refunds work\n"
    )
    created = receipt(cli("plan", str(plan), "--as", "planner", "--json"))
    epic, pay = (deck.get_task(t["key"]) for t in created["tasks"])
    assert (epic.type, epic.labels) == ("epic", ("shop",))
    assert pay.labels == ("payments", "shop")
    assert pay.criteria == "- [ ] Cards are charged once\n- [ ] Refunds work"
    bad = tmp_path / "bad.yaml"
    bad.write_text("- title: x\n  criteria: [ok, {nested: 1}]\n")
    ran = cli("plan", str(bad), "--as", "planner")
    assert ran.exit_code == 1 and f"{bad}: plan task 1: criteria items must be text" in ran.stderr
