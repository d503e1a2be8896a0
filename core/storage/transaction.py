"""One transaction: the connection, its time, and the events it appends.

Events are buffered and inserted in one statement just before commit, so every mutation's
paper trail lands atomically with the change itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from agentdeck.core import credentials, limits, names
from agentdeck.core.credentials import Keyring
from agentdeck.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from agentdeck.core.storage import flow
from agentdeck.core.storage.prepared import Prepared, Row
from agentdeck.core.storage.tables import agent_t, board_t, event_t, task_t

# A stored row read by column name, from either path: the driver-level `Prepared` statements
# (a plain mapping) or SQLAlchemy's `RowMapping` (whose keys may also be columns, hence `Any`).
StoredRow = Mapping[Any, Any]

EVENT_ORDER_LOCK = 0x61676576  # "agev": PostgreSQL advisory lock held while appending events

# The look-ups every verb makes, prepared once (see `agentdeck.core.storage.prepared`): they run in every write
# transaction, and SQLAlchemy's per-execution overhead is several times their cost in SQLite.
_ANY_TWO_BOARDS = Prepared(sa.select(board_t).limit(2))
_BOARD_BY_KEY = Prepared(sa.select(board_t).where(board_t.c.key == sa.bindparam("p_key")))
_BOARD_BY_ID = Prepared(sa.select(board_t).where(board_t.c.id == sa.bindparam("p_id")))
_TASK_BY_KEY = Prepared(
    sa.select(task_t, board_t.c.key.label("board_key"))
    .join(board_t, board_t.c.id == task_t.c.board_id)
    .where(
        board_t.c.key == sa.bindparam("p_board_key"), task_t.c.number == sa.bindparam("p_number")
    )
)
# A task and its board in one query (`Tx.task`): the board's columns come back prefixed.
_BOARD_PREFIX = "board__"
_TASK_AND_BOARD = Prepared(
    sa.select(
        task_t,
        board_t.c.key.label("board_key"),
        *(c.label(f"{_BOARD_PREFIX}{c.key}") for c in board_t.c),
    )
    .join(board_t, board_t.c.id == task_t.c.board_id)
    .where(
        board_t.c.key == sa.bindparam("p_board_key"), task_t.c.number == sa.bindparam("p_number")
    )
)
_TASK_KEYS = (*(c.key for c in task_t.c), "board_key")
_BOARD_KEYS = tuple((f"{_BOARD_PREFIX}{c.key}", c.key) for c in board_t.c)
_AGENT_BY_NAME = Prepared(
    sa.select(agent_t).where(
        agent_t.c.board_id == sa.bindparam("p_board_id"), agent_t.c.name == sa.bindparam("p_name")
    )
)
_AGENT_BY_KEY = Prepared(
    sa.select(agent_t).where(
        agent_t.c.board_id == sa.bindparam("p_board_id"),
        agent_t.c.name_key == sa.bindparam("p_name_key"),
    )
)
# The members whose tokens a deck holds (see `agentdeck.core.credentials`).
_HOLDERS = Prepared(
    sa.select(agent_t.c.name, agent_t.c.kind, agent_t.c.token_hash, board_t.c.key)
    .join(board_t, board_t.c.id == agent_t.c.board_id)
    .where(agent_t.c.token_hash.in_(sa.bindparam("p_hashes", expanding=True)))
)
_TASK_AND_ACTOR = Prepared(
    sa.select(
        task_t.c.id,
        task_t.c.board_id,
        task_t.c.number,
        task_t.c.status,
        task_t.c.assignee_id,
        task_t.c.lease_expires_at,
        board_t.c.key.label("board_key"),
        board_t.c.agents_mode,
        board_t.c.lease_seconds,
        agent_t.c.id.label("agent_id"),
        agent_t.c.name.label("agent_name"),
        agent_t.c.kind.label("agent_kind"),
        agent_t.c.token_hash,
    )
    .join(board_t, board_t.c.id == task_t.c.board_id)
    .outerjoin(
        agent_t,
        sa.and_(agent_t.c.board_id == task_t.c.board_id, agent_t.c.name == sa.bindparam("p_actor")),
    )
    .where(
        board_t.c.key == sa.bindparam("p_board_key"), task_t.c.number == sa.bindparam("p_number")
    )
)
_AGENT_NAME = Prepared(sa.select(agent_t.c.name).where(agent_t.c.id == sa.bindparam("p_id")))
_EVENT_INSERT = Prepared(event_t.insert())
_EVENT_ORDER = Prepared(sa.text("SELECT pg_advisory_xact_lock(:k)"))


@dataclass
class Tx:
    """The state of one transaction; `Database.write()` and `Database.read()` make these."""

    conn: sa.Connection
    clock: Callable[[sa.Connection], datetime]  # where `now` comes from (see `Database`)
    # The credentials the deck presents, and how each actor of this transaction proved itself.
    keyring: Keyring = field(default_factory=Keyring)
    auth: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    notify_boards: set[int] = field(default_factory=set)
    _ordered: bool = False

    @cached_property
    def now(self) -> datetime:
        """This transaction's one time, read on first use: on PostgreSQL the server's, so
        leases, their expiry and every stamp agree across machines; on SQLite the machine's."""
        return self.clock(self.conn)

    def event(
        self,
        board_id: int,
        task_id: int | None,
        actor: str,
        kind: str,
        subkind: str = "",
        text: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append an event to the paper trail of this transaction."""
        self.events.append(
            {
                "board_id": board_id,
                "task_id": task_id,
                "actor": actor,
                "kind": kind,
                "subkind": subkind,
                "text": text,
                "data": data or {},
                "created_at": self.now,
                "auth": self.auth.get(actor, ""),
            }
        )
        self.notify_boards.add(board_id)

    def flush_events(self) -> None:
        if self.events:
            self.order_events()
            _EVENT_INSERT.run_many(self.conn, self.events)
            flow.record(self.conn, self.events)
            self.events = []

    def order_events(self) -> None:
        """Make event ids commit in id order, so a follower reading past its cursor never skips one.

        SQLite has one writer at a time already. On PostgreSQL, sequence values can commit out of
        order, so the short tail of a transaction that appends events (from the insert to the
        commit) takes a transaction-scoped advisory lock.
        """
        if not self._ordered and self.conn.dialect.name == "postgresql":
            _EVENT_ORDER.run(self.conn, {"k": EVENT_ORDER_LOCK})
        self._ordered = True

    # -- look-ups shared by every verb -------------------------------------------------------

    def board(self, key: str | None) -> Row:
        """The board with this key, or the only board when key is None."""
        if key is None:
            rows = _ANY_TWO_BOARDS.rows(self.conn)
            if len(rows) == 1:
                return rows[0]
            if not rows:
                raise NotFoundError(
                    "there is no board yet; create one with `agentdeck board create`"
                )
            raise ValidationError("there are several boards; name one with --board KEY")
        row = _BOARD_BY_KEY.first(self.conn, {"p_key": key.upper()})
        if row is None:
            raise NotFoundError(f"no board {key!r}")
        return row

    def board_by_id(self, board_id: int) -> Row:
        row = _BOARD_BY_ID.first(self.conn, {"p_id": board_id})
        if row is None:
            raise NotFoundError(f"no board with id {board_id}")
        return row

    def task(self, key: str) -> tuple[Row, Row]:
        """The task row (with its board's key as `board_key`, as `task_row` gives it) and its
        board row for a key like `WEB-12`; one query."""
        board_key, number = split_key(key)
        row = _TASK_AND_BOARD.first(self.conn, {"p_board_key": board_key, "p_number": number})
        if row is None:
            raise NotFoundError(f"no task {board_key}-{number}")
        return {k: row[k] for k in _TASK_KEYS}, {k: row[label] for label, k in _BOARD_KEYS}

    def task_row(self, key: str) -> Row:
        """The task row for a key like `WEB-12`, its board's key as `board_key`; one query."""
        board_key, number = split_key(key)
        row = _TASK_BY_KEY.first(self.conn, {"p_board_key": board_key, "p_number": number})
        if row is None:
            raise NotFoundError(f"no task {board_key}-{number}")
        return row

    def task_and_actor(self, key: str, actor: str) -> Row:
        """What a log entry checks, in one query: the task's id, number, status, holder and
        lease, its `board_id`, `board_key` and `lease_seconds`, and the actor's `agent_id`, `agent_name` and
        `agent_kind`, with the actor authenticated as `actor()` would; the same errors as
        `task()` then `actor()`. A name that is not stored exactly (`Coder`) takes the slower
        path through `actor()`."""
        board_key, number = split_key(key)
        params = {"p_board_key": board_key, "p_number": number, "p_actor": actor}
        row = _TASK_AND_ACTOR.first(self.conn, params)
        if row is None:
            raise NotFoundError(f"no task {board_key}-{number}")
        if row["agent_id"] is None:
            # Not under that exact name: perhaps under another case or width (`Coder`).
            board = {"id": row["board_id"], "key": board_key, "agents_mode": row["agents_mode"]}
            member = self.actor(board, actor)
            return {
                **row,
                "agent_id": member["id"],
                "agent_name": member["name"],
                "agent_kind": member["kind"],
                "token_hash": member["token_hash"],
            }
        member = {
            "name": row["agent_name"],
            "kind": row["agent_kind"],
            "token_hash": row["token_hash"],
        }
        self.authenticate({"key": board_key, "agents_mode": row["agents_mode"]}, member)
        return row

    def agent(self, board_id: int, name: str, board_key: str = "") -> Row:
        """A member of the board by name: exactly as stored, else compared without case or
        width (`Alice` finds `alice`). Not a proof of identity: acting goes through `actor`."""
        row = _AGENT_BY_NAME.first(self.conn, {"p_board_id": board_id, "p_name": name})
        if row is None:
            key = names.fold(name)
            row = _AGENT_BY_KEY.first(self.conn, {"p_board_id": board_id, "p_name_key": key})
        if row is None:
            raise _no_agent(name, board_key)
        return row

    def actor(self, board: StoredRow, name: str, *, human_move: bool = False) -> Row:
        """The member of `board` acting as `name`, once it has proved who it is
        (`authenticate`); `PermissionDeniedError` otherwise."""
        row = self.agent(board["id"], name, board["key"])
        self.authenticate(board, row, human_move=human_move)
        return row

    def authenticate(self, board: StoredRow, member: StoredRow, *, human_move: bool = False) -> str:
        """How `member` (an agent row of `board`) proves who it is in this transaction, or
        `PermissionDeniedError`; remembered, so its events record it.

        Its own token in the keyring proves it. Without one, an *agent* on a board in `named`
        mode may act by name, unless the deck holds an agent's token for someone else on this
        board (an agent with a credential acts only as itself). A human never acts by name.
        """
        name = member["name"]
        how = self.keyring.source(member["token_hash"])
        if how is None:
            impostor = self._other_token_holder(board, name)
            if impostor is not None:
                raise PermissionDeniedError(
                    f"the credential given is {impostor}'s on board {board['key']}; "
                    f"it cannot act as {name}"
                )
            if member["kind"] == "human":
                raise PermissionDeniedError(
                    f"{name} is a human on board {board['key']} and acts only with their "
                    "credential, never by name (see `agentdeck login`)"
                )
            if human_move or board["agents_mode"] != "named":
                raise PermissionDeniedError(
                    f"{name} must present its credential on board {board['key']} "
                    "(AGENTDECK_TOKEN: the token `agentdeck agent add` printed)"
                )
            how = credentials.BY_NAME
        elif how == credentials.MINTED:
            how = credentials.BY_TOKEN
        self.auth[name] = how
        return how

    def _other_token_holder(self, board: StoredRow, name: str) -> str | None:
        """The agent of `board` whose own token was presented to this deck (as an agent's
        AGENTDECK_TOKEN), if it is not `name`: an agent with a credential acts only as itself.
        (A human's credential file, and tokens this deck minted, do not bind it so.)"""
        for row in self.token_holders(credentials.BY_TOKEN):
            if row["key"] == board["key"] and row["kind"] == "agent" and row["name"] != name:
                return str(row["name"])
        return None

    def token_holders(self, source: str | None = None) -> list[Row]:
        """The members whose tokens this deck holds (from `source` only, if given): each
        row's name, kind, token_hash and board `key`."""
        hashes = self.keyring.digests(source)
        return _HOLDERS.rows(self.conn, {"p_hashes": hashes}) if hashes else []

    def agent_name(self, agent_id: int | None) -> str | None:
        if agent_id is None:
            return None
        name: str | None = _AGENT_NAME.scalar(self.conn, {"p_id": agent_id})
        return name


def _no_agent(name: str, board_key: str) -> NotFoundError:
    where = f" on board {board_key}" if board_key else ""
    return NotFoundError(f"no agent {name!r}{where}; add it with `agentdeck agent add {name}`")


def split_key(key: str) -> tuple[str, int]:
    """`WEB-12` -> ("WEB", 12); a clear error for anything else."""
    board_part, sep, number = key.strip().upper().rpartition("-")
    # ASCII digits only (int() rejects "²"), and few enough to fit a 32-bit SQL integer.
    if not sep or not (number.isascii() and number.isdigit()) or len(number) > 9 or not board_part:
        raise ValidationError(f"{key[:40]!r} is not a task key; keys look like WEB-12")
    return limits.board_key(board_part), int(number)


def task_key(board_key: str, number: int) -> str:
    return f"{board_key}-{number}"
