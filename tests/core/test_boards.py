"""Boards and their teams: creating boards, adding agents and humans, reading the roster."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck, NotFoundError, ValidationError
from tests.conftest import LEASE_SECONDS, FakeClock
from tests.core.helpers import Refused, claim_key, events_after


def test_create_board_makes_creator_a_human_and_lead_an_agent(deck: Deck) -> None:
    board = deck.create_board(
        "web", "Website", actor="ann", lead="sup", goal="Ship it", lease_seconds=120
    )
    assert (board.key, board.name, board.goal, board.lead) == ("WEB", "Website", "Ship it", "sup")
    assert board.lease_seconds == 120 and not board.require_verification
    team = {a.name: a for a in deck.list_agents("WEB")}
    assert team["ann"].kind == "human" and team["ann"].role == "supervisor"
    assert team["sup"].kind == "agent" and team["sup"].role == "lead"
    [event] = events_after(deck, 0)
    assert (event.kind, event.subkind, event.actor, event.board) == (
        "board",
        "created",
        "ann",
        "WEB",
    )


def test_get_board_by_key_or_the_only_one(web: Deck) -> None:
    assert web.get_board().key == "WEB"
    assert web.get_board("web").key == "WEB"


def test_several_boards_need_a_key(web: Deck) -> None:
    web.create_board("API", "API", actor="ann")
    assert [b.key for b in web.list_boards()] == ["API", "WEB"]
    with pytest.raises(ValidationError, match="several boards"):
        web.get_board()
    with pytest.raises(ValidationError, match="several boards"):
        web.add_task("Anything", actor="ann")


def test_no_board_yet_is_not_found(deck: Deck) -> None:
    with pytest.raises(NotFoundError, match="no board yet"):
        deck.get_board()


def test_unknown_board_is_not_found(web: Deck, refused: Refused) -> None:
    with pytest.raises(NotFoundError, match="no board 'NOPE'"):
        web.get_board("NOPE")
    with refused(NotFoundError, "NOPE"):
        web.add_task("Anything", actor="ann", board="NOPE")
    with refused(NotFoundError, "NOPE"):
        web.add_agent("zed", actor="ann", board="NOPE")


def test_duplicate_board_refused(web: Deck, refused: Refused) -> None:
    with refused(ValidationError, "WEB already exists"):
        web.create_board("WEB", "Again", actor="ann")


def test_lease_too_short_refused(deck: Deck) -> None:
    with pytest.raises(ValidationError, match="lease_seconds"):
        deck.create_board("WEB", "Website", actor="ann", lease_seconds=1)


@pytest.mark.parametrize("seconds", [365 * 24 * 3600 + 1, 2**63 - 1, 2**63])
def test_lease_longer_than_a_year_refused(deck: Deck, seconds: int) -> None:
    """Found by tests/fuzz: 2^63 did not fit the column, and 2^63 - 1 was stored and then
    made every claim on the board fail with an OverflowError."""
    with pytest.raises(ValidationError, match="lease_seconds must be from 5 to 31536000"):
        deck.create_board("WEB", "Website", actor="ann", lease_seconds=seconds)
    assert deck.list_boards() == []
    assert deck.list_boards() == []


def test_add_agent_with_skills_and_event(deck: Deck) -> None:
    deck.create_board("WEB", "Website", actor="ann")
    cursor = deck.max_event_id()
    agent = deck.add_agent("be", actor="ann", skills=["Python", "backend", "python"], role="dev")
    assert agent.skills == ("backend", "python")
    assert (agent.kind, agent.role, agent.state, agent.current_task) == (
        "agent",
        "dev",
        "idle",
        None,
    )
    [event] = events_after(deck, cursor)
    assert (event.kind, event.subkind, event.actor, event.data) == (
        "agent",
        "added",
        "ann",
        {"name": "be"},
    )


def test_add_human(web: Deck) -> None:
    assert web.get_agent("bob").kind == "human"


def test_add_agent_refusals(web: Deck, refused: Refused) -> None:
    with refused(ValidationError, "fe is already on board WEB"):
        web.add_agent("fe", actor="ann")
    with refused(ValidationError, "kind must be agent or human"):
        web.add_agent("robot", actor="ann", kind="robot")
    with refused(ValidationError, "agent name"):
        web.add_agent("has space", actor="ann")
    with refused(ValidationError, "skill"):
        web.add_agent("odd", actor="ann", skills=["no spaces allowed"])


def test_add_agent_by_a_stranger_refused(web: Deck, refused: Refused) -> None:
    with refused(NotFoundError, "mallory", "WEB"):
        web.add_agent("eve", actor="mallory")


def test_get_agent_unknown_is_not_found(web: Deck) -> None:
    with pytest.raises(NotFoundError, match="no agent 'nobody' on board WEB"):
        web.get_agent("nobody")


def test_roster_states_idle_working_stale(web: Deck, clock: FakeClock) -> None:
    key = web.add_task("Build the login form", actor="ann").key
    claim_key(web, key, "fe")
    states = {a.name: (a.state, a.current_task) for a in web.list_agents()}
    assert states["fe"] == ("working", key)
    assert states["be"] == ("idle", None)
    clock.advance(LEASE_SECONDS + 1)
    assert web.get_agent("fe").state == "stale"
    web.heartbeat("fe")
    assert web.get_agent("fe").state == "working"
