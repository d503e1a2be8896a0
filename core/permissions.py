"""Who may do what: the checks behind human-only moves and the lead's edits.

Human-only moves (approve, reject, reopen, answer, cancel) need a human on the board acting
with their credential; assigning, prioritising and setting budgets need a human or the board's
lead. Each check authenticates the actor first (`Tx.actor`), so a name alone never passes one.
"""

from __future__ import annotations

from agentdeck.core.errors import PermissionDeniedError
from agentdeck.core.storage.transaction import StoredRow, Tx


def require_human_or_lead(tx: Tx, b: StoredRow, actor: str, doing: str) -> None:
    """Refuse `actor` unless it is a human on the board or the board's lead agent."""
    who = tx.actor(b, actor)
    if who["kind"] != "human" and b["lead"] != who["name"]:
        raise PermissionDeniedError(
            f"only a human or the board's lead may {doing}; {actor} is neither"
        )


def require_human(tx: Tx, board: StoredRow, actor: str, doing: str) -> StoredRow:
    """The human agent row for `actor`, acting with their credential, or
    `PermissionDeniedError`."""
    row = tx.agent(board["id"], actor, board["key"])
    if row["kind"] != "human":
        raise PermissionDeniedError(
            f"only a human may {doing}; {actor} is an agent "
            "(humans are added with `agentdeck agent add NAME --human`)"
        )
    tx.authenticate(board, row, human_move=True)
    return row


def is_human(tx: Tx, b: StoredRow, actor: str) -> bool:
    """Whether `actor` acts as a human on board `b` (with their credential: `Tx.actor`
    refuses a human by name): what writers that adapt to their actor (imports) ask."""
    return bool(tx.actor(b, actor)["kind"] == "human")


def is_lead(tx: Tx, b: StoredRow, actor: str) -> bool:
    """Whether `actor` is board `b`'s lead (supervisor) agent, authenticated."""
    return bool(b["lead"] is not None and tx.actor(b, actor)["name"] == b["lead"])
