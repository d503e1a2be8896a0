"""Who may do what: the checks behind human-only moves and the lead's edits.

Human-only moves (approve, reject, reopen, answer, cancel) need a human actor on the board;
assigning, prioritising and setting budgets need a human or the board's lead.
"""

from __future__ import annotations

from agentdeck.core.errors import PermissionDeniedError
from agentdeck.core.storage.transaction import StoredRow, Tx


def require_human_or_lead(tx: Tx, b: StoredRow, actor: str, doing: str) -> None:
    """Refuse `actor` unless it is a human on the board or the board's lead agent."""
    who = tx.agent(b["id"], actor, b["key"])
    if who["kind"] != "human" and b["lead"] != actor:
        raise PermissionDeniedError(
            f"only a human or the board's lead may {doing}; {actor} is neither"
        )


def require_human(tx: Tx, board_id: int, actor: str, doing: str, board_key: str = "") -> StoredRow:
    """The human agent row for `actor`, or `PermissionDeniedError`."""
    row = tx.agent(board_id, actor, board_key)
    if row["kind"] != "human":
        raise PermissionDeniedError(
            f"only a human may {doing}; {actor} is an agent "
            "(humans are added with `agentdeck agent add NAME --human`)"
        )
    return row


def is_human(tx: Tx, b: StoredRow, actor: str) -> bool:
    """Whether `actor` acts as a human on board `b`: the one place writers that adapt to
    their actor (imports) ask, so that it can become credential-aware in one place."""
    return bool(tx.agent(b["id"], actor, b["key"])["kind"] == "human")


def is_lead(tx: Tx, b: StoredRow, actor: str) -> bool:
    """Whether `actor` is board `b`'s lead (supervisor) agent; `tx` for when that is checked
    against a credential too."""
    del tx
    return bool(b["lead"] == actor)
