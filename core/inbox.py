"""Agents' inboxes and git checkpoints: what reaches an agent, and what it committed.

Verbs here: send_message (one member to another), inbox, checkpoint, checkpoints; other
verbs deliver their notices (assignments, review notes, answers) with send.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from agentdeck.core import git, limits, names, rows_to_models
from agentdeck.core.errors import NotFoundError, ValidationError
from agentdeck.core.models import Checkpoint, InboxPage, Message
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import agent_t, checkpoint_t, message_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key


def send(
    tx: Tx,
    board_id: int,
    agent_id: int | None,
    task_id: int | None,
    sender: str,
    kind: str,
    text: str,
) -> int | None:
    """Put a message in an agent's inbox and record it on the board (and on the task, if
    any); its id, or None when there is nobody to send it to."""
    if agent_id is None:
        return None
    message_id = tx.conn.execute(
        message_t.insert()
        .values(
            board_id=board_id,
            agent_id=agent_id,
            task_id=task_id,
            sender=sender,
            kind=kind,
            # Callers cut notes with `limits.text` before adding the task key; cutting the whole
            # again would replace their marker with one that names the wrong count.
            text=limits.storable(text),
            created_at=tx.now,
        )
        .returning(message_t.c.id)
    ).scalar_one()
    to = tx.agent_name(agent_id)
    tx.event(board_id, task_id, sender, "message", kind, text, {"to": to})
    return int(message_id)


LEAD = "lead"  # `send lead ...`: the board's lead, whoever it is
MESSAGE = "message"  # the kind of a message one member sends another


def send_message(
    tx: Tx,
    to: str,
    text: str,
    *,
    actor: str,
    board: str | None = None,
    task: str | None = None,
) -> Message:
    """Send a message from member `actor` (authenticated: the sender is who the credential
    proves, never a name the caller states) to member `to` of the board: an agent, a human,
    or `lead` for the board's lead (on a board with none, its first human, who made it). It lands in the recipient's inbox (`agentdeck inbox`,
    humans' included) and, with `task`, in that task's log. Text is cut like a log entry."""
    body = limits.text(text)
    if not body.strip():
        raise ValidationError("a message needs text")
    task_id = number = None
    if task is not None:
        row, b = tx.task(task)
        if board is not None and tx.board(board)["id"] != b["id"]:
            raise ValidationError(f"{task.upper()} is not on board {board.upper()}")
        task_id, number = row["id"], row["number"]
    else:
        b = tx.board(board)
    sender = tx.actor(b, actor)
    name = to.strip()
    if names.fold(name) == LEAD and not _is_member(tx, b, name):
        name = b["lead"] or _first_human(tx, b)
    try:
        recipient = tx.agent(b["id"], name, b["key"])
    except NotFoundError:
        raise NotFoundError(
            f"cannot send to {limits.line(to, 60)!r}: no member of board {b['key']} has that "
            "name (`agentdeck agent list` shows who is on it)"
        ) from None
    if recipient["id"] == sender["id"]:
        raise ValidationError("a message to yourself is a note; log it on the task instead")
    message_id = send(tx, b["id"], recipient["id"], task_id, sender["name"], MESSAGE, body)
    assert message_id is not None
    return Message(
        id=message_id,
        to=recipient["name"],
        sender=sender["name"],
        task=task_key(b["key"], number) if number is not None else None,
        kind=MESSAGE,
        text=body,
        created_at=tx.now,
        read=False,
    )


def _first_human(tx: Tx, b: StoredRow) -> str:
    """Who `lead` names on a board with no lead agent: its first human, the one who made it."""
    first = tx.conn.execute(
        sa.select(agent_t.c.name)
        .where(agent_t.c.board_id == b["id"], agent_t.c.kind == "human")
        .order_by(agent_t.c.id)
        .limit(1)
    ).scalar()
    if first is None:
        raise ValidationError(f"board {b['key']} has no lead and no human; send to a name")
    return str(first)


def _is_member(tx: Tx, b: StoredRow, name: str) -> bool:
    try:
        tx.agent(b["id"], name, b["key"])
    except NotFoundError:
        return False
    return True


# Built once: every claim reads the agent's unread messages.
_UNREAD = Prepared(
    sa.select(message_t, task_t.c.number)
    .outerjoin(task_t, task_t.c.id == message_t.c.task_id)
    .where(message_t.c.agent_id == sa.bindparam("p_agent_id"), message_t.c.read_at.is_(None))
    .order_by(message_t.c.id)
)


def unread(
    tx: Tx,
    board_key: str,
    agent_id: int,
    agent_name: str,
    *,
    mark_read: bool,
    limit: int | None = None,
    after_id: int | None = None,
) -> InboxPage:
    """The agent's unread messages, oldest first: those after message `after_id`, at most
    `limit` of them, and whether more follow (read from the same rows). Only the messages
    returned are marked read, so a page never hides the ones after it."""
    rows = _UNREAD.rows(tx.conn, {"p_agent_id": agent_id})
    if after_id is not None:
        rows = [r for r in rows if r["id"] > after_id]
    more = limit is not None and len(rows) > max(0, limit)
    if limit is not None:
        rows = rows[: max(0, limit)]
    if mark_read and rows:
        tx.conn.execute(
            message_t.update()
            .where(message_t.c.id.in_([r["id"] for r in rows]))
            .values(read_at=tx.now)
        )
    messages = tuple(
        rows_to_models.message(
            r, agent_name, task_key(board_key, r["number"]) if r["number"] else None
        )
        for r in rows
    )
    return InboxPage(messages, str(messages[-1].id) if more and messages else None)


def checkpoint_models(tx: Tx, task_id: int, key: str) -> list[Checkpoint]:
    """Read models of a task's checkpoints, oldest first."""
    rows = tx.conn.execute(
        sa.select(checkpoint_t).where(checkpoint_t.c.task_id == task_id).order_by(checkpoint_t.c.id)
    ).mappings()
    return [
        Checkpoint(
            key, r["actor"], r["sha"], r["message"], tuple(r["files"] or ()), r["created_at"]
        )
        for r in rows
    ]


def inbox(
    db: Database,
    actor: str,
    *,
    board: str | None = None,
    mark_read: bool = True,
    limit: int | None = None,
    after_id: int | None = None,
) -> InboxPage:
    """The agent's unread messages, oldest first, with the next page's cursor; reading marks
    them read. `limit` and `after_id` (the last message id of the page before) page them;
    only the messages returned are marked read."""
    if limit is not None:
        limit = limits.row_window(limit)
    if after_id is not None:
        after_id = limits.row_window(after_id)
    page = {"limit": limit, "after_id": after_id}
    if not mark_read:
        with db.read() as tx:
            b = tx.board(board)
            a = tx.actor(b, actor)
            return unread(tx, b["key"], a["id"], actor, mark_read=False, **page)
    with db.write() as tx:
        b = tx.board(board)
        a = tx.actor(b, actor)
        return unread(tx, b["key"], a["id"], actor, mark_read=True, **page)


def checkpoint(
    db: Database,
    key: str,
    *,
    actor: str,
    repo: str | Path | None = ".",
    sha: str | None = None,
    message: str = "",
    files: Sequence[str] = (),
) -> Checkpoint:
    """Link a git commit to a task: HEAD of `repo`, or an explicit `sha`. Refused (exit 4)
    while a hard budget over the task (the board's, the actor's, the task's) is spent."""
    if sha is None:
        sha, message, found = git.head_commit(repo or ".")
        files = files or found
    sha = sha.strip()
    if not sha or len(sha) > 64 or not all(c in "0123456789abcdefABCDEF" for c in sha):
        raise ValidationError(f"{sha[:70]!r} is not a git commit sha")
    # Imported here: budgets imports this module to tell holders their work is stopped.
    from agentdeck.core import budgets, claims

    with db.write() as tx:
        task, b = tx.task(key)
        a = tx.actor(b, actor)
        upper = task_key(b["key"], task["number"])
        budgets.require_within_budget(tx, b["id"], actor, upper, f"checkpoint {upper}")
        file_list = [limits.text(f, 500) for f in list(files)[:1000]]
        message = limits.text(message, 2000)
        tx.conn.execute(
            checkpoint_t.insert().values(
                board_id=b["id"],
                task_id=task["id"],
                actor=actor,
                sha=sha.lower(),
                message=message,
                files=file_list,
                created_at=tx.now,
            )
        )
        claims.renew(tx, b, a, task["id"], upper)  # the holder's commit: its lease renewed
        tx.event(
            b["id"],
            task["id"],
            actor,
            "checkpoint",
            "",
            limits.text(message, 500),
            {"sha": sha.lower(), "files": len(file_list)},
        )
        return Checkpoint(
            task=task_key(b["key"], task["number"]),
            actor=actor,
            sha=sha.lower(),
            message=message,
            files=tuple(file_list),
            created_at=tx.now,
        )


def checkpoints(tx: Tx, key: str) -> list[Checkpoint]:
    """The commits linked to a task, oldest first."""
    task, b = tx.task(key)
    return checkpoint_models(tx, task["id"], task_key(b["key"], task["number"]))
