"""Setting up through the CLI: boards, agents and budgets."""

from __future__ import annotations

import json

from agentdeck.core import Deck


def test_board_create_makes_the_database_and_adds_the_creator(cli, db: str) -> None:
    ran = cli("board", "create", "web", "Website", "--goal", "Launch", "--as", "ann", "--json")
    assert ran.exit_code == 0, ran.stderr
    board = json.loads(ran.stdout)
    assert (board["key"], board["name"], board["goal"]) == ("WEB", "Website", "Launch")
    with Deck.open(db) as deck:
        (ann,) = deck.list_agents("WEB")
        assert (ann.name, ann.kind) == ("ann", "human")


def test_board_create_defaults_the_creator_to_the_login_name(cli, db: str, monkeypatch) -> None:
    monkeypatch.setenv("LOGNAME", "carol")
    monkeypatch.setenv("USER", "carol")
    ran = cli("board", "create", "OPS", "Operations")
    assert ran.exit_code == 0, ran.stderr
    assert "created board OPS" in ran.stdout
    with Deck.open(db) as deck:
        assert [a.name for a in deck.list_agents("OPS")] == ["carol"]


def test_board_list(cli, web: str) -> None:
    assert [b["key"] for b in json.loads(cli("board", "list", "--json").stdout)["boards"]] == [
        "WEB"
    ]
    text = cli("board", "list").stdout
    assert "WEB" in text and "Website" in text


def test_agent_add_with_skills_role_and_a_human(cli, web: str) -> None:
    ran = cli(
        "agent", "add", "tester", "--skills", "python, qa", "--role", "QA", "--as", "ann", "--json"
    )
    assert ran.exit_code == 0, ran.stderr
    agent = json.loads(ran.stdout)
    assert (agent["kind"], agent["skills"], agent["role"]) == ("agent", ["python", "qa"], "QA")
    assert (
        json.loads(cli("agent", "add", "dora", "--human", "--as", "ann", "--json").stdout)["kind"]
        == "human"
    )


def test_agent_list_shows_the_team(cli, web: str) -> None:
    team = {a["name"]: a for a in json.loads(cli("agent", "list", "--json").stdout)["agents"]}
    assert set(team) == {"ann", "bob", "planner", "coder", "designer"}
    assert team["coder"]["state"] == "idle"
    assert "backend dev" in cli("agent", "list").stdout


def test_budget_set_and_show(cli, web: str) -> None:
    ran = cli("budget", "set", "tokens", "--soft", "800", "--hard", "1000", "--as", "ann", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["level"] == "ok"
    shown = json.loads(cli("budget", "show", "--json").stdout)
    assert [(b["metric"], b["soft"], b["hard"]) for b in shown["budgets"]] == [
        ("tokens", 800, 1000)
    ]
    assert shown["usage"]["tokens_in"] == 0
    assert "tokens" in cli("budget", "show").stdout


def test_an_agent_may_not_set_budgets(cli, web: str, unchanged) -> None:
    check = unchanged()
    ran = cli("budget", "set", "tokens", "--hard", "5", "--as", "coder")
    assert ran.exit_code == 2
    assert "only a human" in ran.stderr
    check()
