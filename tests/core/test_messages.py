"""Messages between members: agent to agent, agent to the lead, human to agent, human to human;
the sender is who the credential proves, and a message tied to a task shows in its log."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck, NotFoundError, PermissionDeniedError, ValidationError
from agentdeck.core.limits import MAX_TEXT, TRUNCATION_MARKER
from tests.core.helpers import Refused, task_in


def _as(web: Deck, name: str) -> Deck:
    """A second deck on the same database holding only `name`'s token: a member at their own
    terminal, who can prove no one else."""
    token = web.issued_token(name, "WEB")
    assert token is not None
    other = Deck.open(web.url)
    other.present(token)
    return other


def test_an_agent_messages_another_agent(web: Deck) -> None:
    sent = web.send("be", "the API returns 500 on /login", actor="fe")
    assert (sent.to, sent.sender, sent.task, sent.kind, sent.read) == (
        "be",
        "fe",
        None,
        "message",
        False,
    )
    got = web.inbox("be")
    assert [(m.id, m.sender, m.to, m.text, m.kind) for m in got] == [
        (sent.id, "fe", "be", "the API returns 500 on /login", "message")
    ]
    assert web.inbox("fe") == []  # the sender's inbox is untouched


def test_lead_names_the_board_lead(web: Deck) -> None:
    sent = web.send("lead", "blocked on the schema", actor="gen")
    assert sent.to == "sup"
    assert [(m.sender, m.text) for m in web.inbox("sup")] == [("gen", "blocked on the schema")]
    assert web.send("Sup", "again", actor="gen").to == "sup"  # by name, any case


def test_a_human_messages_an_agent_and_an_agent_answers_the_human(web: Deck) -> None:
    web.send("gen", "please look at WEB-1 first", actor="ann")
    assert [m.sender for m in web.inbox("gen")] == ["ann"]
    web.send("ann", "will do", actor="gen")
    assert [(m.sender, m.text) for m in web.inbox("ann")] == [("gen", "will do")]


def test_a_message_tied_to_a_task_shows_in_its_log_and_inbox(web: Deck) -> None:
    key = task_in(web, "in_progress")
    sent = web.send("lead", "is the form in scope?", actor="gen", task=key.lower())
    assert sent.task == key
    assert [(m.task, m.text) for m in web.inbox("sup", mark_read=False)] == [
        (key, "is the form in scope?")
    ]
    entry = [e for e in web.task_events(key) if e.kind == "message"]
    assert [(e.actor, e.subkind, e.text, e.data, e.auth) for e in entry] == [
        ("gen", "message", "is the form in scope?", {"to": "sup"}, "token")
    ]


def test_the_recipient_claims_and_finds_the_message(web: Deck) -> None:
    key = web.add_task("Fix the API", actor="ann", assignee="be").key
    web.inbox("be")  # the assignment notice, read
    web.send("be", "the 500 comes from the session table", actor="fe", task=key)
    claim = web.claim("be", key=key)
    assert claim is not None
    assert [(m.sender, m.task) for m in claim.inbox] == [("fe", key)]


def test_the_sender_is_who_the_credential_proves(web: Deck, refused: Refused) -> None:
    """An agent holding its own token cannot send as another member, agent or human."""
    with _as(web, "fe") as fe:
        with refused(PermissionDeniedError, "the credential given is fe's", "cannot act as gen"):
            fe.send("be", "forged", actor="gen")
        with refused(PermissionDeniedError, "cannot act as ann"):
            fe.send("be", "forged", actor="ann")
        assert fe.send("be", "real", actor="fe").sender == "fe"
    assert [m.sender for m in web.inbox("be")] == ["fe"]


def test_without_a_credential_only_a_named_board_takes_an_agent_by_name(
    web: Deck, refused: Refused
) -> None:
    web.set_agents_mode("named", actor="ann")
    with Deck.open(web.url) as nobody:  # no credential at all
        with refused(PermissionDeniedError, "ann"):
            nobody.send("gen", "by name alone", actor="ann")  # a human, never by name
        assert nobody.send("be", "by name", actor="gen").sender == "gen"  # named mode
        web.set_agents_mode("token", actor="ann")
        with refused(PermissionDeniedError, "gen"):
            nobody.send("be", "by name alone", actor="gen")


def test_refusals(web: Deck, refused: Refused) -> None:
    key = task_in(web, "pending")
    with refused(NotFoundError, "cannot send to 'ghost'", "no member of board WEB"):
        web.send("ghost", "hello", actor="fe")
    with refused(NotFoundError, "ghost"):
        web.send("be", "hello", actor="ghost")  # a sender not on the board
    with refused(ValidationError, "a message needs text"):
        web.send("be", "  \n", actor="fe")
    with refused(ValidationError, "to yourself"):
        web.send("fe", "note to self", actor="fe")
    with refused(NotFoundError, "no task WEB-99"):
        web.send("be", "hello", actor="fe", task="WEB-99")
    with refused(ValidationError, "not a task key"):
        web.send("be", "hello", actor="fe", task="nonsense")
    web.create_board("API", "Api", actor="ann")
    with refused(ValidationError, f"{key} is not on board API"):
        web.send("ann", "hello", actor="bob", task=key, board="API")


def test_lead_on_a_board_without_one_is_its_first_human(deck: Deck) -> None:
    deck.create_board("OPS", "Ops", actor="ann")
    deck.add_agent("bob", actor="ann", kind="human")
    deck.add_agent("gen", actor="ann")
    assert deck.send("lead", "hello", actor="gen").to == "ann"
    assert [m.sender for m in deck.inbox("ann")] == ["gen"]


def test_a_member_called_lead_is_messaged_by_name(deck: Deck) -> None:
    deck.create_board("OPS", "Ops", actor="ann", lead="sup")
    deck.add_agent("lead", actor="ann")
    assert deck.send("lead", "hi", actor="ann").to == "lead"


@pytest.mark.parametrize("extra", [1, 5000])
def test_a_long_message_is_cut_like_a_log_entry(web: Deck, extra: int) -> None:
    sent = web.send("be", "x" * (MAX_TEXT + extra), actor="fe")
    assert sent.text == "x" * MAX_TEXT + TRUNCATION_MARKER.format(dropped=extra)
    assert web.inbox("be")[0].text == sent.text
