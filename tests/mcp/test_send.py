"""The `send` tool: messages from the server's agent, who is the sender whatever the call says,
to another agent, the lead or a human, on both backends."""

from __future__ import annotations

from agentdeck.core import Deck
from agentdeck.core.mcp.tools import call
from tests.core.helpers import task_in


def test_an_agent_sends_to_an_agent_the_lead_and_a_human(web: Deck) -> None:
    to_be = call(web, "gen", "send", {"to": "be", "text": "the API is down"})
    assert not to_be.error, to_be.text
    assert to_be.data == {"id": to_be.data["id"], "to": "be", "task": None}
    assert to_be.text == f"sent #{to_be.data['id']} to be"
    assert call(web, "gen", "send", {"to": "lead", "text": "need a decision"}).data["to"] == "sup"
    assert call(web, "gen", "send", {"to": "ann", "text": "a question"}).data["to"] == "ann"
    assert [(m.sender, m.text) for m in web.inbox("be")] == [("gen", "the API is down")]
    assert [(m.sender, m.text) for m in web.inbox("sup")] == [("gen", "need a decision")]
    assert [(m.sender, m.text) for m in web.inbox("ann")] == [("gen", "a question")]


def test_the_recipient_reads_it_with_the_inbox_tool_and_the_task_log_shows_it(web: Deck) -> None:
    key = task_in(web, "in_progress")
    sent = call(web, "gen", "send", {"to": "be", "text": "see the migration", "task": key})
    assert sent.data["task"] == key and sent.text.endswith(f"about {key}")
    inbox = call(web, "be", "inbox", {})
    assert [(m["from"], m["task"], m["kind"], m["text"]) for m in inbox.data["messages"]] == [
        ("gen", key, "message", "see the migration")
    ]
    shown = call(web, "ann", "task_show", {"key": key, "full": True}).data
    assert [(e["actor"], e["text"]) for e in shown["log"] if e["kind"] == "message"] == [
        ("gen", "see the migration")
    ]


def test_the_sender_cannot_be_chosen_and_a_stranger_is_refused(web: Deck) -> None:
    before = web.max_event_id()
    forged = call(web, "gen", "send", {"to": "be", "text": "x", "actor": "ann"})
    assert forged.error and "there is no actor argument" in forged.text
    nobody = call(web, "gen", "send", {"to": "ghost", "text": "x"})
    assert nobody.error and nobody.text.startswith("cannot send to 'ghost'")
    assert nobody.data["code"] == 1
    missing = call(web, "gen", "send", {"to": "be"})
    assert missing.error and "text" in missing.text
    assert web.max_event_id() == before
