"""Who is acting: the one place that turns what a caller was told (an option, the
environment, the login) into an actor's name, for the CLI, the console and the MCP server.

Agents must say who they are (`--as NAME` or `AGENTDECK_AS`); a human at their own terminal
defaults to their login name. The name is only a claim here: what that actor may do is
decided by `Deck` on every call.

Kept free of SQLAlchemy, so an adapter can resolve the actor before it opens a database.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING

from agentdeck.core.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from agentdeck.core.deck import Deck

ENV_AS = "AGENTDECK_AS"


def from_environment(name: str) -> str | None:
    """An `AGENTDECK_*` variable's value, or None when unset or empty; bytes that are not
    UTF-8 (which Python hands over as lone surrogates) are refused, like an argument."""
    value = os.environ.get(name) or None
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{name} is not UTF-8 text") from None
    return value


def named_actor(given: str | None) -> str | None:
    """The name given, else `AGENTDECK_AS`, else None."""
    return given or from_environment(ENV_AS)


def acting_agent(given: str | None) -> str:
    """The acting agent, which must be named: the name given, else `AGENTDECK_AS`."""
    actor = named_actor(given)
    if not actor:
        raise ValidationError(f"say who is acting: pass --as NAME or set {ENV_AS}=NAME")
    return actor


def login_name() -> str | None:
    """The operating-system login name, or None where there is none (a container's bare uid)."""
    try:
        return getpass.getuser() or None
    except (KeyError, OSError):
        return None


def acting_human(given: str | None) -> str:
    """The acting human: the name given, else `AGENTDECK_AS`, else the login name."""
    actor = named_actor(given) or login_name()
    if not actor:
        raise ValidationError(f"cannot tell who you are; pass --as NAME or set {ENV_AS}")
    return actor


def join_as_human(deck: Deck, name: str, board: str) -> None:
    """Put the human `name` on `board`'s roster if they are not on it yet.

    Only members may add members, so a newcomer is added in the name of the board's first
    human (its creator), which the "joined" event records.
    """
    roster = deck.list_agents(board)
    if any(member.name == name for member in roster):
        return
    sponsor = next((member.name for member in roster if member.kind == "human"), None)
    if sponsor is None:
        raise NotFoundError(f"board {board} has no human to add {name} to it")
    try:
        deck.add_agent(name, actor=sponsor, board=board, kind="human")
    except ValidationError as exc:
        if "already on board" not in exc.message:  # another process added them meanwhile
            raise
