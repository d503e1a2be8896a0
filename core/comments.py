"""Comments: what members say about a task, apart from the holder's work log.

Any member of the board, human or agent, may comment on any of its tasks, in any status: a
question, a pointer, a heads-up. A comment is an event of kind `comment` on the task (so it
lands atomically, follows the change feed and stays in the task's history), never a log entry:
it renews no lease and needs no hold. Its text is stored literally and shown escaped.

Verbs here: comment. `task_detail` shows a task's newest `SHOWN` comments with their count;
the report lists the newest on open tasks (`on_open_tasks`).
"""

from __future__ import annotations

import sqlalchemy as sa

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import OPEN_STATUSES, Event
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import event_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key

KIND = "comment"
SHOWN = 10  # the newest comments `task show` carries; its `comments_total` counts them all

_INSERT = Prepared(event_t.insert().returning(event_t.c.id))
_NEWEST = Prepared(
    sa.select(event_t)
    .where(event_t.c.task_id == sa.bindparam("p_task_id"), event_t.c.kind == KIND)
    .order_by(event_t.c.id.desc())
    .limit(sa.bindparam("p_limit"))
)
_COUNT = Prepared(
    sa.select(sa.func.count()).where(
        event_t.c.task_id == sa.bindparam("p_task_id"), event_t.c.kind == KIND
    )
)


def comment(tx: Tx, key: str, text: str, *, actor: str) -> Event:
    """Add `actor`'s comment `text` to task `key`; any member of its board may, on a task in
    any status. Refused for an empty text and for anyone who is not a member of the board (or
    cannot prove it); text past the log's size limit is cut with a marker, as a log entry's."""
    text = limits.text(text)
    if not text.strip():
        raise ValidationError("a comment needs text")
    # As `log` does: take PostgreSQL's event-order lock first, then insert for the id.
    tx.order_events()
    task, b = tx.task(key)
    who = tx.actor(b, actor)
    name = who["name"]
    event_id = _INSERT.scalar(
        tx.conn,
        {
            "board_id": b["id"],
            "task_id": task["id"],
            "actor": name,
            "kind": KIND,
            "subkind": "",
            "text": text,
            "data": {},
            "created_at": tx.now,
            "auth": tx.auth.get(name, ""),
        },
    )
    tx.notify_boards.add(b["id"])
    upper = task_key(b["key"], task["number"])
    return Event(event_id, b["key"], upper, name, KIND, "", text, {}, tx.now, tx.auth.get(name, ""))


def newest(tx: Tx, task: StoredRow, limit: int = SHOWN) -> tuple[list[StoredRow], int]:
    """A task's newest `limit` comment rows, oldest first, and how many it has in all."""
    rows = _NEWEST.rows(tx.conn, {"p_task_id": task["id"], "p_limit": limit})
    total = int(_COUNT.scalar(tx.conn, {"p_task_id": task["id"]}) or 0)
    return list(reversed(rows)), total


def on_open_tasks(tx: Tx, board_id: int, limit: int) -> tuple[list[StoredRow], int]:
    """The board's newest `limit` comments on tasks still open (not done or cancelled), newest
    first, each row with its task's `number`; and how many there are in all."""
    where = (
        task_t.c.board_id == board_id,
        task_t.c.status.in_(OPEN_STATUSES),
        event_t.c.kind == KIND,
    )
    joined = event_t.join(task_t, task_t.c.id == event_t.c.task_id)
    rows = (
        tx.conn.execute(
            sa.select(event_t, task_t.c.number)
            .select_from(joined)
            .where(*where)
            .order_by(event_t.c.id.desc())
            .limit(limit)
        )
        .mappings()
        .all()
    )
    total = tx.conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where))
    return list(rows), int(total.scalar_one())
