"""Budgets through the CLI as an adversary uses it: usage on another agent's task, and an agent
carrying on after a hard stop."""

from __future__ import annotations

import json

from agentdeck.core import Deck
from tests.cli.test_errors import one_line_error


def test_usage_on_another_agents_task_is_refused_as_a_real_process(
    agentdeck, web: str, deck: Deck, unchanged
) -> None:
    """designer tries to push coder's task over its budget with the installed `agentdeck`."""
    deck.claim("coder")
    deck.set_budget("tokens", actor="ann", scope="task", subject="WEB-1", hard=100)
    check = unchanged()
    ran = agentdeck("usage", "WEB-1", "--tokens-in", "5000", "--as", "designer")
    assert ran.returncode == 2
    assert one_line_error(ran.stderr) == (
        "designer cannot record usage on WEB-1: only its assignee (coder), the board's lead or "
        "a human may"
    )
    check()
    assert deck.usage_totals("WEB").tokens == 0
    assert deck.get_task("WEB-1").status == "in_progress"


def test_the_holder_lead_and_humans_may_record_usage(cli, web: str, deck: Deck, human_env) -> None:
    deck.claim("coder")
    for who in ("coder", "planner", "bob"):
        env = human_env(who) if who == "bob" else None
        ran = cli("usage", "WEB-1", "--tokens-in", "10", "--as", who, env=env)
        assert (ran.exit_code, ran.stdout) == (0, "recorded usage on WEB-1\n"), ran.stderr
    assert deck.usage_totals(task="WEB-1").tokens_in == 30


def test_crossing_a_hard_budget_says_the_scope_is_stopped_and_work_verbs_exit_4(
    cli, web: str, deck: Deck, unchanged
) -> None:
    deck.claim("coder")
    deck.set_budget("tokens", actor="ann", soft=100, hard=1000)
    ran = cli("usage", "WEB-1", "--tokens-in", "150", "--as", "coder")
    assert ran.stderr == "agentdeck: note: board tokens budget passed its soft limit: 150 of 100\n"
    ran = cli("usage", "WEB-1", "--tokens-in", "900", "--as", "coder")
    assert ran.exit_code == 0
    assert ran.stderr == (
        "agentdeck: note: board tokens budget is spent: 1,050 of 1,000; work in its scope is "
        "stopped (its tasks wait in Needs human) until a human raises it\n"
    )
    assert deck.get_task("WEB-1").column == "needs_human"
    check = unchanged()
    for args in (
        ("heartbeat",),
        ("doing", "more", "--task", "WEB-1"),
        ("done", "WEB-1", "--verified-by", "pytest"),
        ("submit", "WEB-1"),
        ("checkpoint", "WEB-1", "--sha", "abc123"),
        ("claim",),
    ):
        ran = cli(*args, "--as", "coder")
        assert ran.exit_code == 4, (args, ran.stderr)
        error = one_line_error(ran.stderr)
        assert error.startswith("coder cannot "), error
        assert "the board tokens budget is exhausted (1,050 of 1,000 tokens)" in error
    check()
    ran = cli("log", "WEB-1", "stopped by the budget", "--as", "coder")  # still open
    assert ran.exit_code == 0
    ran = cli("budget", "set", "tokens", "--hard", "5000", "--as", "ann", "--json")
    assert json.loads(ran.stdout)["level"] == "ok"
    assert cli("heartbeat", "--as", "coder").exit_code == 0
