"""Who is acting: one rule for the CLI, the console and the MCP server, and the human's
credential file behind it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agentdeck.core import Deck, PermissionDeniedError, ValidationError, identity


@pytest.fixture(autouse=True)
def _no_ambient_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTDECK_AS", raising=False)


def _where(deck: Deck) -> str:
    return identity.database_id(deck.url, deck.path)


def test_an_agent_must_be_named_or_hold_a_token(
    deck: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck.create_board("WEB", "Website", actor="ann")
    with Deck.open(deck.url) as fresh:
        with pytest.raises(
            ValidationError, match="cannot tell who is acting: an agent sets AGENTDECK_TOKEN"
        ):
            identity.acting_name(fresh, None, "WEB")
        monkeypatch.setenv("AGENTDECK_AS", "coder")
        assert identity.acting_name(fresh, None, "WEB") == "coder"
        assert identity.acting_name(fresh, "other", "WEB") == "other"


def test_the_token_names_the_agent(web: Deck, monkeypatch: pytest.MonkeyPatch) -> None:
    token = web.issued_token("fe", "WEB")
    assert token is not None
    monkeypatch.setenv("AGENTDECK_TOKEN", token)
    with Deck.open(web.url) as fresh:
        assert identity.present_credentials(fresh) == "token"
        assert identity.acting_name(fresh, None, None) == "fe"


def test_with_an_agent_token_the_credential_file_is_not_read(
    web: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent started with its token cannot borrow the human's powers by accident."""
    identity.save_credential(_where(web), "WEB", "ann", web.issued_token("ann", "WEB") or "")
    monkeypatch.setenv("AGENTDECK_TOKEN", web.issued_token("fe", "WEB") or "")
    with Deck.open(web.url) as fresh:
        identity.present_credentials(fresh)
        key = fresh.add_task("needs review", actor="fe", requires_approval=True).key
        with pytest.raises(PermissionDeniedError, match="the credential given is fe's"):
            fresh.cancel(key, actor="ann", reason="agent tries the human's name")


def test_a_human_is_named_by_their_credential_file(web: Deck) -> None:
    identity.save_credential(_where(web), "WEB", "bob", web.issued_token("bob", "WEB") or "")
    with Deck.open(web.url) as fresh:
        assert identity.present_credentials(fresh) == "credential file"
        assert identity.acting_name(fresh, None, "WEB") == "bob"
        key = fresh.add_task("a task", actor="bob").key
        assert fresh.cancel(key, actor="bob", reason="not needed").status == "cancelled"
        auth = [
            e.auth for e in fresh.events_since(0) if e.kind == "status" and e.subkind == "cancelled"
        ]
        assert auth == ["credential file"]


def test_a_human_without_a_credential_defaults_to_the_login_name_and_is_refused(
    web: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity.getpass, "getuser", lambda: "ann")
    with Deck.open(web.url) as fresh:
        assert identity.present_credentials(fresh) is None
        assert identity.acting_name(fresh, None, "WEB") == "ann"
        key = web.add_task("a task", actor="gen").key
        with pytest.raises(PermissionDeniedError, match="acts only with their credential"):
            fresh.cancel(key, actor="ann", reason="by name")


def test_no_login_name_is_one_line(web: Deck, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise KeyError("uid 1234 has no name")

    monkeypatch.setattr(identity.getpass, "getuser", no_user)
    with (
        Deck.open(web.url) as fresh,
        pytest.raises(ValidationError, match="cannot tell who is acting"),
    ):
        identity.acting_name(fresh, None, "WEB")


def test_an_environment_value_that_is_not_utf8_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDECK_AS", "bad\udcff")
    with pytest.raises(ValidationError, match="AGENTDECK_AS is not UTF-8"):
        identity.named_actor(None)


def test_the_credential_file_is_private_and_keeps_other_entries(
    _own_credential_file: Path,
) -> None:
    identity.save_credential("/db/one", "WEB", "ann", "adk_" + "a" * 43)
    identity.save_credential("/db/two", "API", "ann", "adk_" + "b" * 43)
    identity.save_credential("/db/one", "WEB", "ann", "adk_" + "c" * 43)  # replaced
    path = identity.credential_path()
    assert path == _own_credential_file / "agentdeck" / "credentials.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert identity.saved_credentials("/db/one") == {
        "WEB": {"name": "ann", "token": "adk_" + "c" * 43}
    }
    assert set(json.loads(path.read_text())["databases"]) == {"/db/one", "/db/two"}


def test_a_damaged_credential_file_is_one_line(_own_credential_file: Path) -> None:
    path = identity.credential_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ValidationError, match="is not JSON; fix or remove it"):
        identity.saved_credentials("/db/one")
