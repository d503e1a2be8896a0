"""Small builders the core tests share: a task in a given status, and the events since a cursor."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from agentdeck.core import Deck, DeckError
from agentdeck.core.models import Event

# The `refused` fixture: `with refused(ErrorType, *fragments):` asserts the error and no writes.
Refused = Callable[..., AbstractContextManager[pytest.ExceptionInfo[DeckError]]]


def claim_key(deck: Deck, key: str, agent: str = "gen") -> None:
    """Have `agent` claim exactly the task `key`."""
    claim = deck.claim(agent, key=key)
    assert claim is not None and claim.task.key == key


def task_in(deck: Deck, status: str, title: str = "Build the login form", **fields: Any) -> str:
    """A new task on WEB moved to `status` by the usual verbs; `gen` holds it where needed."""
    key = deck.add_task(title, actor="ann", **fields).key
    if status == "pending":
        return key
    if status == "cancelled":
        deck.cancel(key, actor="ann", reason="not needed")
        return key
    claim_key(deck, key)
    if status == "review":
        deck.submit(key, actor="gen", result="ready for a look", verified_by="pytest")
    elif status == "escalated":
        deck.escalate(key, actor="gen", reason="need staging credentials")
    elif status == "done":
        deck.complete(key, actor="gen", result="shipped", verified_by="pytest")
    elif status == "failed":
        deck.fail(key, actor="gen", reason="the API is down")
    else:
        assert status == "in_progress", status
    assert deck.get_task(key).status == status
    return key


def events_after(deck: Deck, cursor: int, **kwargs: Any) -> list[Event]:
    """Every event written after `cursor`, oldest first."""
    return deck.events_since(cursor, **kwargs)


def kinds(events: list[Event]) -> list[tuple[str, str]]:
    """(kind, subkind) of each event, for compact assertions."""
    return [(e.kind, e.subkind) for e in events]
