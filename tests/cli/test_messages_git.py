"""`send`, `inbox`, `changes` and `rollback` through the CLI, and the one default identity every
command acting without --as uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentdeck.core import Deck
from tests.core.test_history import AFTER, git


def test_an_agent_sends_with_its_token_and_the_other_reads_it(
    cli, web: str, deck: Deck, tokens: dict[str, str]
) -> None:
    coder = {"AGENTDECK_TOKEN": tokens["coder"]}
    ran = cli("send", "designer", "the API is up", "--task", "WEB-1", "--json", env=coder)
    assert ran.exit_code == 0, ran.stderr
    sent = json.loads(ran.stdout)
    assert sent == {"id": sent["id"], "to": "designer", "task": "WEB-1"}
    text = cli("inbox", "--peek", env={"AGENTDECK_TOKEN": tokens["designer"]}).stdout
    assert "message from coder on WEB-1: the API is up" in text
    shown = json.loads(cli("task", "show", "WEB-1", "--json").stdout)
    assert [(e["actor"], e["text"]) for e in shown["log"] if e["kind"] == "message"] == [
        ("coder", "the API is up")
    ]


def test_lead_and_a_human_at_their_terminal(cli, web: str, deck: Deck) -> None:
    """ann's credential file names her: no --as. An agent's message to a human waits in the
    human's own inbox."""
    assert cli("send", "lead", "please plan the UI").stdout.startswith("sent to planner (#")
    assert [(m.sender, m.text) for m in deck.inbox("planner")] == [("ann", "please plan the UI")]
    deck.send("ann", "done planning", actor="planner")
    ran = cli("inbox", "--json")
    assert [(m["from"], m["text"]) for m in json.loads(ran.stdout)["messages"]] == [
        ("planner", "done planning")
    ]


def test_a_forged_sender_and_a_stranger_are_refused(
    cli, web: str, deck: Deck, tokens: dict[str, str], unchanged
) -> None:
    check = unchanged()
    coder = {"AGENTDECK_TOKEN": tokens["coder"]}
    forged = cli("send", "planner", "x", "--as", "designer", env=coder)
    assert forged.exit_code == 2
    assert "the credential given is coder's" in forged.stderr
    as_human = cli("send", "planner", "x", "--as", "ann", env=coder)
    assert as_human.exit_code == 2
    stranger = cli("send", "ghost", "x", env=coder)
    assert stranger.exit_code == 1
    assert stranger.stderr.startswith("agentdeck: error: cannot send to 'ghost': no member")
    assert stranger.stderr.count("\n") == 1
    check()
    assert deck.inbox("planner", mark_read=False) == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A work tree with one old commit, pushed to a bare `origin`."""
    origin, path = tmp_path / "origin.git", tmp_path / "repo"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "coder@example.com")
    git(path, "config", "user.name", "coder")
    git(path, "remote", "add", "origin", str(origin))
    (path / "api.py").write_text("v1\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "base")
    git(path, "push", "-q", "origin", "main")
    return path


def _work(repo: Path, body: str, message: str) -> str:
    (repo / "api.py").write_text(body)
    git(repo, "commit", "-qam", message, date=AFTER)
    return git(repo, "rev-parse", "HEAD")


def test_changes_and_rollback(cli, web: str, deck: Deck, repo: Path) -> None:
    deck.claim("coder", key="WEB-1")
    base = git(repo, "rev-parse", "HEAD")
    first = _work(repo, "v2\n", "first step")
    assert cli("checkpoint", "WEB-1", "--repo", str(repo), "--as", "coder").exit_code == 0
    second = _work(repo, "v3\n", "second step")
    assert cli("checkpoint", "WEB-1", "--repo", str(repo), "--as", "coder").exit_code == 0
    git(repo, "push", "-q", "origin", "main")

    found = json.loads(cli("changes", "WEB-1", "--repo", str(repo), "--json").stdout)
    assert (found["base"], found["since"]) == (base, "first checkpoint")
    assert [c["sha"] for c in found["commits"]] == [second, first]
    assert found["files"] == [{"status": "M", "path": "api.py"}]
    said = cli("changes", "WEB-1", "--repo", str(repo)).stdout
    assert said.startswith(f"WEB-1: 2 commits and 1 file changed since {base[:12]}")

    (repo / "api.py").write_text("dirty\n")
    dirty = cli("rollback", "WEB-1", "--repo", str(repo), "--as", "coder")
    assert dirty.exit_code == 2 and "uncommitted changes" in dirty.stderr
    git(repo, "checkout", "-q", "--", "api.py")

    ran = cli("rollback", "WEB-1", "--repo", str(repo), "--as", "coder", "--json")
    assert ran.exit_code == 0, ran.stderr
    done = json.loads(ran.stdout)
    assert (done["to"], done["from_head"], done["forced"]) == (first, second, False)
    assert (repo / "api.py").read_text() == "v2\n"
    assert git(repo, "rev-parse", "HEAD^") == second
    git(repo, "push", "-q", "origin", "main")  # a fast-forward: nothing pushed was rewritten
    logged = [e for e in deck.task_events("WEB-1") if e.kind == "rollback"]
    assert [(e.actor, e.data["commit"]) for e in logged] == [("coder", done["commit"])]

    refused = cli("rollback", "WEB-1", "--to", done["commit"], "--repo", str(repo), "--as", "coder")
    assert refused.exit_code == 2 and "pass --force" in refused.stderr


def test_rollback_help_says_what_it_does_to_the_work_tree(cli, web: str) -> None:
    shown = " ".join(cli("rollback", "--help").stdout.split())
    for words in ("What it does to the work tree", "new commit", "never rewritten", "Untracked"):
        assert words in shown, words


@pytest.mark.parametrize(
    "command",
    [
        ("task", "add", "From the terminal"),
        ("send", "coder", "hello"),
        ("inbox",),
        ("cancel", "WEB-2", "not needed"),
    ],
    ids=lambda c: c[0] if c[0] != "task" else "task add",
)
def test_every_command_acting_without_as_has_one_default_identity(
    cli, web: str, deck: Deck, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command
) -> None:
    """The credential file's holder; without one, the login name when it names a member (and
    then the credential is still demanded); else one line saying how to say who you are. The
    same for an agent's verb (`send`, `inbox`, `task add`) as for a human's (`cancel`)."""
    cursor = deck.max_event_id()
    ran = cli(*command)
    assert ran.exit_code == 0, ran.stderr
    assert {e.actor for e in deck.events_since(cursor)} <= {"ann"}

    nobody = {"XDG_CONFIG_HOME": str(tmp_path / "empty-config")}
    monkeypatch.setenv("LOGNAME", "bob")
    monkeypatch.setenv("USER", "bob")
    as_bob = cli(*command, env=nobody)
    assert as_bob.exit_code == 2, as_bob.stderr
    assert "bob" in as_bob.stderr and "credential" in as_bob.stderr
    monkeypatch.setenv("LOGNAME", "stranger")
    monkeypatch.setenv("USER", "stranger")
    unknown = cli(*command, env=nobody)
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("agentdeck: error: cannot tell who is acting")
