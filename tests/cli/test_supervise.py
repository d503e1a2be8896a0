"""The human's verbs through the CLI, with optimistic concurrency via --expected-version."""

from __future__ import annotations

import json

from agentdeck.core import Deck


def _in_review(deck: Deck) -> None:
    deck.claim("coder")
    deck.submit("WEB-1", actor="coder", result="done", verified_by="pytest")


def test_approve_finishes_work_in_review(cli, web: str, deck: Deck) -> None:
    _in_review(deck)
    ran = cli("approve", "WEB-1", "--note", "looks good", "--as", "ann", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "done"


def test_approve_defaults_to_the_login_name(cli, web: str, deck: Deck, monkeypatch) -> None:
    _in_review(deck)
    monkeypatch.setenv("LOGNAME", "bob")
    monkeypatch.setenv("USER", "bob")
    ran = cli("approve", "WEB-1")
    assert (ran.exit_code, ran.stdout) == (0, "approved WEB-1; it is done\n")


def test_an_agent_cannot_approve(cli, web: str, deck: Deck, unchanged) -> None:
    _in_review(deck)
    check = unchanged()
    ran = cli("approve", "WEB-1", "--as", "designer")
    assert ran.exit_code == 2
    assert "only a human may approve work" in ran.stderr
    check()


def test_reject_needs_notes_and_sends_them_to_the_agent(cli, web: str, deck: Deck) -> None:
    _in_review(deck)
    missing = cli("reject", "WEB-1", "--as", "ann")
    assert missing.exit_code == 1 and 'agentdeck reject KEY "notes"' in missing.stderr
    ran = cli("reject", "WEB-1", "validate e-mail", "--as", "ann", "--json")
    assert json.loads(ran.stdout)["status"] == "pending"
    assert [m.text for m in deck.inbox("coder")] == ["WEB-1: validate e-mail"]


def test_reopen_a_done_task_with_notes(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    deck.complete("WEB-1", actor="coder", verified_by="tests")
    ran = cli("reopen", "WEB-1", "--notes", "breaks on Safari", "--as", "ann")
    assert (ran.exit_code, ran.stdout) == (0, "reopened WEB-1; back to coder\n")
    assert deck.get_task("WEB-1").status == "pending"


def test_answer_an_escalation(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    deck.escalate("WEB-1", actor="coder", reason="need a key")
    ran = cli("answer", "WEB-1", "use the staging key", "--as", "ann", "--json")
    assert json.loads(ran.stdout)["status"] == "pending"
    assert [m.text for m in deck.inbox("coder")] == ["WEB-1: use the staging key"]


def test_assign_and_unassign(cli, web: str, deck: Deck) -> None:
    task = json.loads(cli("assign", "WEB-1", "designer", "--as", "ann", "--json").stdout)
    assert task["assignee"] == "designer"
    assert cli("assign", "WEB-1", "-", "--as", "ann").stdout == "WEB-1 is assigned to nobody\n"
    assert deck.get_task("WEB-1").assignee is None


def test_priority(cli, web: str, deck: Deck) -> None:
    ran = cli("priority", "WEB-2", "0", "--as", "ann")
    assert (ran.exit_code, ran.stdout) == (0, "WEB-2 is now P0\n")
    assert deck.get_task("WEB-2").priority == 0
    bad = cli("priority", "WEB-2", "9", "--as", "ann")
    assert bad.exit_code == 1 and "priority must be 0" in bad.stderr


def test_cancel_unblocks_dependents(cli, web: str, deck: Deck) -> None:
    task = json.loads(cli("cancel", "WEB-1", "--reason", "dropped", "--as", "ann", "--json").stdout)
    assert task["status"] == "cancelled"
    assert deck.get_task("WEB-2").column == "ready"


def test_a_stale_expected_version_is_a_conflict(cli, web: str, deck: Deck, unchanged) -> None:
    seen = deck.get_task("WEB-1").version
    deck.set_priority("WEB-1", 3, actor="bob")
    check = unchanged()
    for args in (
        ("priority", "WEB-1", "0"),
        ("assign", "WEB-1", "coder"),
        ("cancel", "WEB-1"),
    ):
        ran = cli(*args, "--expected-version", str(seen), "--as", "ann")
        assert ran.exit_code == 2, args
        assert ran.stderr.startswith("agentdeck: error: ") and ran.stderr.count("\n") == 1
    check()
    current = str(deck.get_task("WEB-1").version)
    ran = cli("priority", "WEB-1", "0", "--expected-version", current, "--as", "ann")
    assert ran.exit_code == 0, ran.stderr


def test_a_refused_transition_exits_2_and_changes_nothing(cli, web: str, unchanged) -> None:
    check = unchanged()
    ran = cli("approve", "WEB-1", "--as", "ann")
    assert ran.exit_code == 2
    assert "WEB-1" in ran.stderr and "pending" in ran.stderr
    ran = cli("reopen", "WEB-2", "--notes", "again", "--as", "ann", "--json")
    assert ran.exit_code == 2
    assert json.loads(ran.stdout)["error"]["exit_code"] == 2
    check()


def test_free_text_is_positional_and_the_old_options_still_work(cli, web: str, deck: Deck) -> None:
    """`reject KEY "notes"`, `cancel KEY "reason"`, ... as `answer` and `escalate` always
    were; `--notes`, `--reason`, `--note` and `--result` stay, hidden, for scripts."""
    _in_review(deck)
    assert cli("reject", "WEB-1", "--notes", "by the old option", "--as", "ann").exit_code == 0
    claimed = deck.claim("coder")
    assert claimed is not None and claimed.inbox[-1].text == "WEB-1: by the old option"
    deck.submit("WEB-1", actor="coder", verified_by="pytest")
    assert cli("approve", "WEB-1", "nice work", "--as", "ann").exit_code == 0
    assert cli("reopen", "WEB-1", "breaks on Safari", "--as", "ann").exit_code == 0
    assert cli("cancel", "WEB-2", "out of scope", "--as", "ann").exit_code == 0
    notes = [(e.kind, e.text) for e in deck.task_detail("WEB-1").notes]
    assert ("approval", "nice work") in notes and ("reopened", "breaks on Safari") in notes
    assert deck.task_detail("WEB-2").notes[-1].text == "out of scope"
    assert [m.text for m in deck.inbox("coder")][-1:] == ["WEB-1: breaks on Safari"]
    key = deck.add_task("Spare", actor="ann").key
    ran = cli("cancel", key, "one reason", "--reason", "another", "--as", "ann")
    assert ran.exit_code == 1
    assert "give the reason once: as an argument or with --reason, not both" in ran.stderr
    assert deck.get_task(key).status == "pending"
    assert cli("cancel", key, "--reason", "the old way", "--as", "ann").exit_code == 0
    assert deck.task_detail(key).notes[-1].text == "the old way"


def test_hidden_aliases_stay_out_of_help(cli, web: str) -> None:
    for verb, alias in (("reject", "--notes"), ("cancel", "--reason"), ("approve", "--note")):
        shown = cli(verb, "--help").stdout
        assert alias not in shown, verb
