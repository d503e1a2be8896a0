"""The credential commands as a user meets them: `board create` saves yours, `agent add`
prints the new member's token once, `agent token` rotates and revokes, `login` saves a token
another human gave you (or takes a legacy board's first one), `board agents` switches modes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from agentdeck.core import Deck, identity


def _saved(deck: Deck) -> dict[str, dict[str, str]]:
    return identity.saved_credentials(identity.database_id(deck.url, deck.path))


def test_board_create_saves_the_creators_credential_and_prints_the_leads_token(
    cli, db: str
) -> None:
    ran = cli("board", "create", "OPS", "Operations", "--as", "ann", "--lead", "boss", "--json")
    assert ran.exit_code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["agents"] in ("named", "token")
    assert doc["lead_token"].startswith("adk_")
    path = Path(doc["credential_file"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with Deck.open(db) as deck:
        assert _saved(deck)["OPS"]["name"] == "ann"
    # the creator needs no flags afterwards: her credential names her
    ran = cli("budget", "set", "tokens", "--hard", "1000", "--board", "OPS")
    assert ran.exit_code == 0, ran.stderr


def test_agent_add_prints_the_token_once_and_it_works(cli, web: str, deck: Deck) -> None:
    ran = cli("agent", "add", "tester", "--json")
    assert ran.exit_code == 0, ran.stderr
    token = json.loads(ran.stdout)["token"]
    assert token.startswith("adk_")
    assert token not in json.dumps([a.to_dict() for a in deck.list_agents("WEB")])
    ran = cli("task", "add", "From the tester", "--json", env={"AGENTDECK_TOKEN": token})
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["key"] == "WEB-3"
    created = [e for e in deck.events_since(0) if e.task == "WEB-3" and e.kind == "created"]
    assert [(e.actor, e.auth) for e in created] == [("tester", "token")]


def test_text_output_tells_where_the_token_goes(cli, web: str) -> None:
    ran = cli("agent", "add", "tester")
    assert ran.exit_code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "added agent tester to board WEB"
    assert "give it to the agent as AGENTDECK_TOKEN" in lines[1]
    assert lines[2].startswith("adk_")


def test_rotating_an_agents_token_stops_the_old_one(
    cli, web: str, tokens: dict[str, str], unchanged
) -> None:
    old = tokens["coder"]
    ran = cli("agent", "token", "coder", "--rotate", "--json")
    assert ran.exit_code == 0, ran.stderr
    new = json.loads(ran.stdout)["token"]
    assert new.startswith("adk_") and new != old
    check = unchanged()
    ran = cli("claim", "--json", env={"AGENTDECK_TOKEN": old})
    assert ran.exit_code == 2, ran.stderr  # the old token names nobody any more
    assert "AGENTDECK_TOKEN is no member's credential" in ran.stderr
    check()
    ran = cli("claim", "--json", env={"AGENTDECK_TOKEN": new})
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["task"]["assignee"] == "coder"


def test_an_agent_rotates_its_own_token_but_not_anothers(
    cli, web: str, tokens: dict[str, str], unchanged
) -> None:
    ran = cli(
        "agent", "token", "coder", "--rotate", "--json", env={"AGENTDECK_TOKEN": tokens["coder"]}
    )
    assert ran.exit_code == 0, ran.stderr
    check = unchanged()
    as_designer = {"AGENTDECK_TOKEN": tokens["designer"]}
    ran = cli("agent", "token", "coder", "--rotate", env=as_designer)
    assert ran.exit_code == 2
    assert ran.stderr == (
        "agentdeck: error: only a human may rotate another member's token; designer is an agent\n"
    )
    check()


def test_revoking_a_token_on_a_token_board_locks_the_agent_out(
    cli, web: str, tokens: dict[str, str]
) -> None:
    assert cli("board", "agents", "token").exit_code == 0
    ran = cli("agent", "token", "designer", "--revoke", "--json")
    assert (ran.exit_code, json.loads(ran.stdout)) == (0, {"name": "designer", "revoked": True})
    ran = cli("claim", "--as", "designer")
    assert ran.exit_code == 2
    assert "designer must present its credential on board WEB" in ran.stderr


def test_rotating_your_own_human_token_saves_it(cli, web: str, deck: Deck) -> None:
    before = _saved(deck)["WEB"]["token"]
    ran = cli("agent", "token", "ann", "--rotate", "--json")
    assert ran.exit_code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["token"] is None and doc["credential_file"]
    after = _saved(deck)["WEB"]["token"]
    assert after != before
    assert cli("cancel", "WEB-2", "--reason", "still me").exit_code == 0


def test_login_saves_a_token_another_human_gave_you(
    cli, web: str, deck: Deck, tmp_path: Path
) -> None:
    carol = json.loads(cli("agent", "add", "carol", "--human", "--json").stdout)["token"]
    at_carols = {"XDG_CONFIG_HOME": str(tmp_path / "carol")}
    ran = cli("login", "--token", "-", input=carol + "\n", env=at_carols)
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith("saved carol's credential for board WEB in ")
    ran = cli("cancel", "WEB-2", "--reason", "carol at her terminal", "--json", env=at_carols)
    assert ran.exit_code == 0, ran.stderr
    assert [e.actor for e in deck.events_since(0) if e.subkind == "cancelled"] == ["carol"]


def test_login_refuses_an_agents_token_and_one_nobody_holds(
    cli, web: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "x")}
    ran = cli("login", "--token", "-", input=tokens["coder"], env=env)
    assert ran.exit_code == 1
    assert "that is agent coder's token; agents use it as AGENTDECK_TOKEN" in ran.stderr
    ran = cli("login", "--token", "-", input="adk_" + "z" * 43, env=env)
    assert ran.exit_code == 1
    assert "no member of this database holds that token" in ran.stderr
    ran = cli("login", "--token", "adk_visible_in_ps", env=env)
    assert ran.exit_code == 1
    assert "pass the token on stdin with --token -" in ran.stderr
    assert not (tmp_path / "x").exists()


def test_login_without_a_token_is_refused_where_humans_hold_credentials(cli, web: str) -> None:
    ran = cli("login", "--as", "bob")
    assert ran.exit_code == 2
    assert "humans on board WEB already hold credentials" in ran.stderr


def test_board_agents_is_a_human_move(cli, web: str, tokens: dict[str, str], deck: Deck) -> None:
    ran = cli("board", "agents", "token", "--json")
    assert (ran.exit_code, json.loads(ran.stdout)["agents"]) == (0, "token")
    ran = cli("board", "agents", "named", env={"AGENTDECK_TOKEN": tokens["planner"]})
    assert ran.exit_code == 2
    assert "only a human may change how agents sign in; planner is an agent" in ran.stderr
    assert deck.get_board("WEB").agents == "token"
    ran = cli("board", "agents", "sometimes")
    assert ran.exit_code == 1
    assert "agents mode must be token or named" in ran.stderr


def test_importing_an_export_makes_you_its_human(cli, web: str, tmp_path: Path, deck: Deck) -> None:
    out = tmp_path / "web.json"
    assert cli("export", "--out", str(out)).exit_code == 0
    ran = cli("import", str(out), "--key", "COPY", "--as", "zed", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["credential_file"]
    assert _saved(deck)["COPY"]["name"] == "zed"
    assert "adk_" not in out.read_text()  # tokens are never exported
    ran = cli("budget", "set", "tokens", "--hard", "5", "--board", "COPY", "--json")
    assert ran.exit_code == 0, ran.stderr
