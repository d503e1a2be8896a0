"""Boards and their teams: creating a board, adding agents and humans, reading the roster.

Verbs here: create_board, get_board, list_boards, add_agent, list_agents, get_agent.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from agentdeck.core import limits, names, rows_to_models
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import Agent, Board
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import agent_t, board_t, task_t
from agentdeck.core.storage.transaction import Tx, task_key


def create_board(
    db: Database,
    key: str,
    name: str,
    *,
    actor: str,
    goal: str = "",
    due_at: datetime | None = None,
    lead: str | None = None,
    require_verification: bool = False,
    lease_seconds: int = 900,
) -> Board:
    """A new board; `actor` joins it as its first human, `lead` as its supervisor agent."""
    key = limits.board_key(key)
    actor = limits.name(actor)
    lead = limits.name(lead) if lead else None
    lease_seconds = limits.lease_seconds(lease_seconds)
    with db.write() as tx:
        exists = tx.conn.execute(sa.select(board_t.c.id).where(board_t.c.key == key)).first()
        if exists:
            raise ValidationError(f"board {key} already exists")
        board_id = tx.conn.execute(
            board_t.insert().values(
                key=key,
                name=limits.title(name),
                goal=limits.text(goal),
                due_at=due_at,
                lead=lead,
                require_verification=require_verification,
                lease_seconds=lease_seconds,
                next_number=1,
                created_at=tx.now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        _insert_agent(tx, board_id, actor, "human", [], "supervisor", None, board=key)
        if lead and lead != actor:
            _insert_agent(tx, board_id, lead, "agent", [], "lead", None, board=key)
        tx.event(board_id, None, actor, "board", "created", f"board {key} created")
        return rows_to_models.board(tx.board_by_id(board_id))


def get_board(tx: Tx, key: str | None = None) -> Board:
    """A board by key, or the only board when `key` is None."""
    return rows_to_models.board(tx.board(key))


def list_boards(tx: Tx) -> list[Board]:
    rows = tx.conn.execute(sa.select(board_t).order_by(board_t.c.key)).mappings().all()
    return [rows_to_models.board(r) for r in rows]


def add_agent(
    db: Database,
    name: str,
    *,
    actor: str,
    board: str | None = None,
    kind: str = "agent",
    skills: list[str] | tuple[str, ...] = (),
    role: str = "",
    supervisor: str | None = None,
) -> Agent:
    """Add an agent (or, with `kind="human"`, a human) to a board's team."""
    if kind not in ("agent", "human"):
        raise ValidationError(f"kind must be agent or human, not {kind!r}")
    name = limits.name(name)
    with db.write() as tx:
        b = tx.board(board)
        tx.agent(b["id"], actor, b["key"])
        _insert_agent(
            tx, b["id"], name, kind, limits.skills(skills), role, supervisor, board=b["key"]
        )
        tx.event(b["id"], None, actor, "agent", "added", f"{kind} {name} joined", {"name": name})
        row = tx.agent(b["id"], name)
        return rows_to_models.agent(row, b["key"], None, tx.now, b["lease_seconds"])


def _insert_agent(
    tx: Tx,
    board_id: int,
    name: str,
    kind: str,
    skills: list[str],
    role: str,
    supervisor: str | None,
    *,
    board: str,
) -> None:
    """Add one member to a board's roster, refusing a name that is malformed, mixes scripts or
    folds to or looks like a current member's (`names.refusal_reason`). The roster is at most a
    few hundred names, so it is compared here in Python."""
    roster = tx.conn.execute(
        sa.select(agent_t.c.name).where(agent_t.c.board_id == board_id)
    ).scalars()
    reason = names.refusal_reason(name, roster, board=board)
    if reason:
        raise ValidationError(reason)
    tx.conn.execute(
        agent_t.insert().values(
            board_id=board_id,
            name=limits.name(name),
            kind=kind,
            skills=skills,
            role=limits.line(role, 200),
            supervisor=supervisor,
            active_form="",
            created_at=tx.now,
        )
    )


def list_agents(tx: Tx, board: str | None = None) -> list[Agent]:
    """The board's roster with each member's state: working, idle or stale."""
    b = tx.board(board)
    rows = (
        tx.conn.execute(
            sa.select(agent_t, task_t.c.number)
            .outerjoin(task_t, task_t.c.id == agent_t.c.current_task_id)
            .where(agent_t.c.board_id == b["id"])
            .order_by(agent_t.c.kind, agent_t.c.name)
        )
        .mappings()
        .all()
    )
    return [
        rows_to_models.agent(
            r,
            b["key"],
            task_key(b["key"], r["number"]) if r["number"] is not None else None,
            tx.now,
            b["lease_seconds"],
        )
        for r in rows
    ]


def get_agent(db: Database, name: str, board: str | None = None) -> Agent:
    """One member of a board's roster, with its state."""
    with db.read() as tx:
        roster = list_agents(tx, board)
    for agent in roster:
        if agent.name == name:
            return agent
    with db.read() as tx:
        b = tx.board(board)
        tx.agent(b["id"], name, b["key"])  # raises the not-found error
    raise AssertionError("unreachable")
