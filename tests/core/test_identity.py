"""Who is acting: one rule for the CLI, the console and the MCP server."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck, NotFoundError, ValidationError, identity


@pytest.fixture(autouse=True)
def _no_ambient_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTDECK_AS", raising=False)


def test_an_agent_must_be_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="say who is acting"):
        identity.acting_agent(None)
    monkeypatch.setenv("AGENTDECK_AS", "coder")
    assert identity.acting_agent(None) == "coder"
    assert identity.acting_agent("other") == "other"  # the given name wins over the environment


def test_a_human_defaults_to_the_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity.getpass, "getuser", lambda: "ann")
    assert identity.acting_human(None) == "ann"
    monkeypatch.setenv("AGENTDECK_AS", "bob")
    assert identity.acting_human(None) == "bob"


def test_no_login_name_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise KeyError("uid 1234 has no name")

    monkeypatch.setattr(identity.getpass, "getuser", no_user)
    with pytest.raises(ValidationError, match="cannot tell who you are"):
        identity.acting_human(None)


def test_an_environment_value_that_is_not_utf8_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDECK_AS", "bad\udcff")
    with pytest.raises(ValidationError, match="AGENTDECK_AS is not UTF-8"):
        identity.named_actor(None)


def test_join_as_human_adds_once_in_the_creators_name(web: Deck) -> None:
    identity.join_as_human(web, "carol", "WEB")
    identity.join_as_human(web, "carol", "WEB")
    carol = [a for a in web.list_agents("WEB") if a.name == "carol"]
    assert [a.kind for a in carol] == ["human"]


def test_join_as_human_on_an_unknown_board_is_not_found(web: Deck) -> None:
    with pytest.raises(NotFoundError):
        identity.join_as_human(web, "carol", "NOPE")
