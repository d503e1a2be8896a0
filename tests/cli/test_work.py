"""The agent's verbs through the CLI: claim to done, and everything in between."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agentdeck.core import Deck


def test_claim_takes_the_best_ready_task_with_inbox_and_similar(cli, web: str) -> None:
    ran = cli("claim", "--as", "coder", "--json")
    assert ran.exit_code == 0, ran.stderr
    claimed = json.loads(ran.stdout)
    assert set(claimed) == {"task", "inbox", "similar"}
    assert (claimed["task"]["key"], claimed["task"]["status"]) == ("WEB-1", "in_progress")
    assert claimed["task"]["assignee"] == "coder"


def test_claim_a_named_task_in_text(cli, web: str) -> None:
    ran = cli("claim", "WEB-1", "--as", "designer")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith("claimed WEB-1")


def test_actor_and_board_come_from_the_environment(cli, web: str) -> None:
    ran = cli("claim", "--json", env={"AGENTDECK_AS": "coder", "AGENTDECK_BOARD": "web"})
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["task"]["assignee"] == "coder"


def test_options_before_the_command_apply_to_it(cli, web: str) -> None:
    ran = cli("--as", "coder", "--json", "claim")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["task"]["key"] == "WEB-1"


def test_heartbeat_lists_held_tasks(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    assert json.loads(cli("heartbeat", "--as", "coder", "--json").stdout) == {
        "agent": "coder",
        "held": ["WEB-1"],
    }
    assert cli("heartbeat", "--as", "coder").stdout == "coder is alive; holding WEB-1\n"


def test_doing_shows_on_the_task(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    ran = cli("doing", "Writing the SQL migration", "--as", "coder")
    assert ran.exit_code == 0, ran.stderr
    assert deck.get_task("WEB-1").active_form == "Writing the SQL migration"
    ran = cli("doing", "Running tests", "--task", "WEB-1", "--as", "coder", "--json")
    assert json.loads(ran.stdout)["task"] == "WEB-1"


def test_log_with_kind_and_data(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    ran = cli("log", "WEB-1", "pytest: 42 passed", "--kind", "verification", "--data",
              '{"passed": 42}', "--as", "coder", "--json")  # fmt: skip
    assert ran.exit_code == 0, ran.stderr
    entry = json.loads(ran.stdout)
    assert set(entry) == {"id", "task", "kind"} and entry["kind"] == "verification"
    whole = json.loads(cli("task", "show", "WEB-1", "--json", "--full").stdout)["log"][-1]
    assert (whole["id"], whole["subkind"], whole["data"], whole["task"]) == (
        entry["id"],
        "verification",
        {"passed": 42},
        "WEB-1",
    )
    assert cli("log", "WEB-1", "edited api.py", "--as", "coder").stdout.startswith(
        "logged action on WEB-1"
    )


def test_log_rejects_bad_data_and_kinds(cli, web: str, deck: Deck, unchanged) -> None:
    deck.claim("coder")
    check = unchanged()
    ran = cli("log", "WEB-1", "x", "--data", "[1]", "--as", "coder")
    assert (ran.exit_code, "--data must be a JSON object" in ran.stderr) == (1, True)
    ran = cli("log", "WEB-1", "x", "--kind", "gossip", "--as", "coder")
    assert (ran.exit_code, "unknown log kind 'gossip'" in ran.stderr) == (1, True)
    check()


def test_usage_records_and_reports_crossed_budgets(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    deck.set_budget("tokens", actor="ann", soft=100)
    ran = cli("usage", "WEB-1", "--tokens-in", "150", "--tokens-out", "20", "--cost", "0.25",
              "--model", "m1", "--as", "coder", "--json")  # fmt: skip
    assert ran.exit_code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["task"] == "WEB-1"
    assert [(b["metric"], b["level"]) for b in doc["budgets_crossed"]] == [("tokens", "warn")]
    assert deck.usage_totals("WEB").tokens == 170
    ran = cli("usage", "--cpu-seconds", "60", "--as", "coder")
    assert ran.stdout == "recorded usage on the board\n"


def test_submit_puts_work_in_review(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    ran = cli("submit", "WEB-1", "--result", "API done", "--verified-by", "pytest", "--as",
              "coder", "--json")  # fmt: skip
    assert json.loads(ran.stdout) == {
        "key": "WEB-1",
        "status": "review",
        "column": "needs_human",
        "assignee": "coder",
    }
    task = deck.get_task("WEB-1")
    assert (task.status, task.result, task.verified) == ("review", "API done", True)


def test_done_without_evidence_nudges_on_stderr(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    ran = cli("done", "WEB-1", "--result", "API done", "--as", "coder")
    assert (ran.exit_code, ran.stdout) == (0, "WEB-1 is done\n")
    assert "without verification evidence" in ran.stderr


def test_done_with_evidence(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    ran = cli("done", "WEB-1", "--verified-by", "pytest -q", "--as", "coder", "--json")
    completion = json.loads(ran.stdout)
    assert (completion["key"], completion["status"], completion["nudge"]) == ("WEB-1", "done", None)
    assert deck.get_task("WEB-2").column == "ready"


def test_fail_and_escalate_say_why(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    ran = cli("fail", "WEB-1", "the API was removed", "--as", "coder", "--json", "--full")
    task = json.loads(ran.stdout)
    assert (task["status"], task["result"]) == ("failed", "the API was removed")
    deck.add_task("Deploy", actor="planner")
    deck.claim("coder", key="WEB-3")
    ran = cli("escalate", "WEB-3", "need staging credentials", "--as", "coder")
    assert ran.stdout == "WEB-3 is escalated to a human\n"
    assert deck.get_task("WEB-3").escalation_reason == "need staging credentials"


def test_release_returns_the_task_to_the_queue(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    task = json.loads(cli("release", "WEB-1", "--note", "stuck", "--as", "coder", "--json").stdout)
    assert (task["status"], task["assignee"]) == ("pending", None)


def test_checkpoint_records_git_head(cli, web: str, deck: Deck, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    try:
        git("init", "-q")
    except FileNotFoundError:
        pytest.skip("git is not installed")
    (repo / "api.py").write_text("print('hi')\n")
    git("add", "api.py")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "Add API")
    ran = cli("checkpoint", "WEB-1", "--repo", str(repo), "--as", "coder", "--json")
    assert ran.exit_code == 0, ran.stderr
    point = json.loads(ran.stdout)
    assert (point["message"], point["files"], len(point["sha"])) == ("Add API", ["api.py"], 40)
    ran = cli("checkpoint", "WEB-1", "--sha", "abc123", "--message", "manual", "--as", "coder")
    assert ran.stdout == "WEB-1: checkpoint abc123 manual\n"


def test_inbox_reads_and_marks_read(cli, web: str, deck: Deck) -> None:
    deck.assign("WEB-1", "coder", actor="ann")
    peeked = json.loads(cli("inbox", "--peek", "--as", "coder", "--json").stdout)
    assert [m["text"] for m in peeked["messages"]] == ["WEB-1 is assigned to you"]
    assert "WEB-1 is assigned to you" in cli("inbox", "--as", "coder").stdout
    empty = {"messages": [], "next_cursor": None}
    assert json.loads(cli("inbox", "--as", "coder", "--json").stdout) == empty
