"""Who may do what: the checks behind human-only moves and the lead's edits.

Human-only moves (approve, reject, reopen, answer, cancel) need a human on the board acting
with their credential; assigning, prioritising and setting budgets need a human or the board's
lead; usage on a task is recorded by its assignee, the lead or a human. Each check
authenticates the actor first (`Tx.actor`), so a name alone never passes one.
"""

from __future__ import annotations

from agentdeck.core.errors import PermissionDeniedError
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key


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


def require_may_record_usage(tx: Tx, b: StoredRow, task: StoredRow | None, actor: str) -> StoredRow:
    """The agent row of `actor` if it may record usage against `task` on board `b`, else
    `PermissionDeniedError`.

    Usage counts against budgets, and a spent hard budget stops work: so on a task only its
    assignee (who spent it, even after the task stopped), the board's lead or a human may record
    it, and no agent can push another's task over its limit. Usage on the board alone is always
    the actor's own.
    """
    who = tx.actor(b, actor)
    if task is None or task["assignee_id"] == who["id"]:
        return who
    if who["kind"] == "human" or b["lead"] == who["name"]:
        return who
    key = task_key(b["key"], task["number"])
    holder = tx.agent_name(task["assignee_id"])
    assignee = f"its assignee ({holder})" if holder else "its assignee (it has none)"
    raise PermissionDeniedError(
        f"{actor} cannot record usage on {key}: only {assignee}, the board's lead or a human may"
    )


def require_assignee_lead_or_human(
    tx: Tx, b: StoredRow, task: StoredRow, actor: str, doing: str
) -> StoredRow:
    """The agent row of `actor` if it is `task`'s assignee, board `b`'s lead or a human on
    it (authenticated), else `PermissionDeniedError` saying who may `doing`."""
    who = tx.actor(b, actor)
    if task["assignee_id"] == who["id"] or who["kind"] == "human" or b["lead"] == who["name"]:
        return who
    raise PermissionDeniedError(
        f"{actor} cannot {doing}: only its assignee, the board's lead or a human may"
    )
