"""Boards and their teams: creating a board, adding agents and humans, reading the roster,
and each member's credential (see `agentdeck.core.credentials`).

Who may create whom: whoever creates a board is its first human; only a human adds a human;
a human or the board's lead adds an agent. Each new member gets a token, held by the deck that
minted it (`Deck.issued_token`) so the caller can show it once.

Verbs here: create_board, get_board, list_boards, add_agent, list_agents, get_agent,
set_agents_mode, whoami, rotate_credential, revoke_credential, login.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from agentdeck.core import credentials, limits, names, permissions, rows_to_models, views
from agentdeck.core.errors import PermissionDeniedError, ValidationError
from agentdeck.core.models import Agent, Board, Credential
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.tables import agent_t, board_t, task_t
from agentdeck.core.storage.transaction import StoredRow, Tx, task_key


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
    agents: str | None = None,
) -> Board:
    """A new board; `actor` joins it as its first human, `lead` as its supervisor agent, each
    with a new credential (`Deck.issued_token`). `agents` is the board's mode: "named" lets
    agents act by name alone, "token" makes every actor present its credential; the default
    is "named" for a local SQLite file and "token" on PostgreSQL, which many machines share."""
    key = limits.board_key(key)
    actor = limits.name(actor)
    lead = limits.name(lead) if lead else None
    lease_seconds = limits.lease_seconds(lease_seconds)
    with db.write() as tx:
        agents = credentials.agents_mode(agents or default_mode(tx.conn))
        return insert_board(
            tx,
            key,
            name,
            actor=actor,
            goal=goal,
            due_at=due_at,
            lead=lead,
            require_verification=require_verification,
            lease_seconds=lease_seconds,
            agents=agents,
        )


def insert_board(
    tx: Tx,
    key: str,
    name: str,
    *,
    actor: str,
    goal: str = "",
    due_at: datetime | None = None,
    lead: str | None = None,
    require_verification: bool = False,
    lease_seconds: int = 900,
    agents: str = "token",
) -> Board:
    """`create_board` inside a transaction the caller holds (an import that creates its board
    writes it in the same transaction as its tasks); the arguments already checked."""
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
            agents_mode=agents,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    insert_member(tx, board_id, key, actor, "human", [], "supervisor", None)
    tx.auth[actor] = credentials.BY_TOKEN
    if lead and lead != actor:
        insert_member(tx, board_id, key, lead, "agent", [], "lead", None)
    tx.event(board_id, None, actor, "board", "created", f"board {key} created")
    return rows_to_models.board(tx.board_by_id(board_id))


def get_board(tx: Tx, key: str | None = None) -> Board:
    """A board by key, or the only board when `key` is None."""
    return rows_to_models.board(tx.board(key))


def list_boards(tx: Tx, *, limit: int | None = views.API_LIMIT, offset: int = 0) -> list[Board]:
    """The boards by key: at most `limit` (None: all) from `offset`."""
    q = sa.select(board_t).order_by(board_t.c.key).offset(limits.row_window(offset))
    if limit is not None:
        q = q.limit(limits.row_window(limit))
    rows = tx.conn.execute(q).mappings().all()
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
        require_may_add(tx, b, actor, kind)
        insert_member(tx, b["id"], b["key"], name, kind, limits.skills(skills), role, supervisor)
        tx.event(b["id"], None, actor, "agent", "added", f"{kind} {name} joined", {"name": name})
        row = tx.agent(b["id"], name)
        return rows_to_models.agent(row, b["key"], None, tx.now, b["lease_seconds"])


def require_may_add(tx: Tx, b: StoredRow, actor: str, kind: str) -> None:
    """Only a human adds a human; a human or the board's lead adds an agent."""
    who = tx.actor(b, actor)
    if who["kind"] == "human":
        return
    if kind == "human":
        raise PermissionDeniedError(f"only a human may add a human; {who['name']} is an agent")
    if b["lead"] is None or names.fold(b["lead"]) != names.fold(who["name"]):
        raise PermissionDeniedError(
            f"only a human or the board's lead may add agents; {who['name']} is neither"
        )


def insert_member(
    tx: Tx,
    board_id: int,
    board_key: str,
    name: str,
    kind: str,
    skills: list[str],
    role: str,
    supervisor: str | None,
) -> None:
    """A new member with a new credential, held by this deck (`Keyring.minted`), refusing a
    name that is malformed, mixes scripts or folds to or looks like a current member's
    (`names.refusal_reason`). The roster is at most a few hundred names, so it is compared
    here in Python."""
    name = limits.name(name)
    roster = tx.conn.execute(
        sa.select(agent_t.c.name).where(agent_t.c.board_id == board_id)
    ).scalars()
    reason = names.refusal_reason(name, roster, board=board_key)
    if reason:
        raise ValidationError(reason)
    member_id = tx.conn.execute(
        agent_t.insert().values(
            board_id=board_id,
            name=name,
            name_key=names.fold(name),
            kind=kind,
            skills=skills,
            role=limits.line(role, 200),
            supervisor=supervisor,
            active_form="",
            created_at=tx.now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    new_credential(tx, member_id, board_key, name)


def new_credential(tx: Tx, member_id: int, board_key: str, name: str) -> str:
    """Give a member a new token (its old one stops working), held by this deck."""
    token = credentials.new_token()
    _store_hash(tx, member_id, credentials.digest(token))
    tx.keyring.add(token, credentials.MINTED)
    tx.keyring.minted[(board_key, name)] = token
    return token


def default_mode(conn: sa.Connection) -> str:
    """A new board's agents mode: "named" on a local SQLite file, "token" on PostgreSQL."""
    return "named" if conn.dialect.name == "sqlite" else "token"


def list_agents(
    tx: Tx, board: str | None = None, *, limit: int | None = views.API_LIMIT, offset: int = 0
) -> list[Agent]:
    """The board's roster with each member's state: working, idle or stale; at most `limit`
    members (None: all) from `offset`, by kind then name."""
    b = tx.board(board)
    q = (
        sa.select(agent_t, task_t.c.number)
        .outerjoin(task_t, task_t.c.id == agent_t.c.current_task_id)
        .where(agent_t.c.board_id == b["id"])
        .order_by(agent_t.c.kind, agent_t.c.name, agent_t.c.id)
        .offset(limits.row_window(offset))
    )
    if limit is not None:
        q = q.limit(limits.row_window(limit))
    rows = tx.conn.execute(q).mappings().all()
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
    """One member of a board's roster, with its state (found as `Tx.agent` finds it: by
    name, else without case or width)."""
    with db.read() as tx:
        b = tx.board(board)
        found = tx.agent(b["id"], name, b["key"])["name"]  # or the not-found error
        roster = list_agents(tx, board, limit=None)
    return next(agent for agent in roster if agent.name == found)


def set_agents_mode(db: Database, mode: str, *, actor: str, board: str | None = None) -> Board:
    """Switch the board between "token" and "named" mode; a human-only move."""
    mode = credentials.agents_mode(mode)
    with db.write() as tx:
        b = tx.board(board)
        permissions.require_human(tx, b, actor, "change how agents sign in")
        tx.conn.execute(board_t.update().where(board_t.c.id == b["id"]).values(agents_mode=mode))
        tx.event(b["id"], None, actor, "board", "agents", f"agents now act by {mode}")
        return rows_to_models.board(tx.board_by_id(b["id"]))


def whoami(tx: Tx, board: str | None = None) -> Credential | None:
    """The member this deck acts as on `board`: the holder of a token it was given, an
    agent's own token (`AGENTDECK_TOKEN`) first, then a human's credential file, then tokens
    it minted. With `board` None, the board those best credentials are for, if they are all
    for one. None when it holds none there. The answer's `token` is empty: never read back."""
    order = {credentials.BY_TOKEN: 1, credentials.BY_FILE: 2, credentials.MINTED: 3}

    def rank(row: StoredRow) -> int:
        source = tx.keyring.source(row["token_hash"]) or ""
        return 0 if (source, row["kind"]) == (credentials.BY_TOKEN, "agent") else order[source]

    found = tx.token_holders()
    if board is not None:
        key = tx.board(board)["key"]
        found = [r for r in found if r["key"] == key]
    if not found:
        return None
    found.sort(key=rank)
    best = [r for r in found if rank(r) == rank(found[0])]
    if board is None and len({r["key"] for r in best}) > 1:
        return None
    row = best[0]
    return Credential(board=row["key"], name=row["name"], kind=row["kind"], token="")


def rotate_credential(
    db: Database, name: str, *, actor: str, board: str | None = None
) -> Credential:
    """A new token for `name`, shown once; its old one stops working at once. A member may
    rotate its own; only a human rotates someone else's."""
    with db.write() as tx:
        b = tx.board(board)
        member = tx.agent(b["id"], name, b["key"])
        _may_manage(tx, b, member, actor, "rotate")
        token = new_credential(tx, member["id"], b["key"], member["name"])
        tx.event(b["id"], None, actor, "agent", "credential", f"{member['name']}'s token rotated")
        return Credential(board=b["key"], name=member["name"], kind=member["kind"], token=token)


def revoke_credential(db: Database, name: str, *, actor: str, board: str | None = None) -> None:
    """Make `name`'s token stop working until it is rotated. (An agent on a `named` board can
    still act by name: revoking protects `token` boards.)"""
    with db.write() as tx:
        b = tx.board(board)
        member = tx.agent(b["id"], name, b["key"])
        _may_manage(tx, b, member, actor, "revoke")
        _store_hash(tx, member["id"], None)
        tx.event(b["id"], None, actor, "agent", "credential", f"{member['name']}'s token revoked")


def _may_manage(tx: Tx, b: StoredRow, member: StoredRow, actor: str, verb: str) -> None:
    who = tx.actor(b, actor)
    if who["id"] != member["id"] and who["kind"] != "human":
        raise PermissionDeniedError(
            f"only a human may {verb} another member's token; {who['name']} is an agent"
        )


def _store_hash(tx: Tx, member_id: int, token_hash: str | None) -> None:
    tx.conn.execute(agent_t.update().where(agent_t.c.id == member_id).values(token_hash=token_hash))


def login(db: Database, name: str, *, board: str | None = None) -> Credential:
    """The first credential of a human on a board from before credentials, where no human
    holds one yet (trust on first use). Refused everywhere else: a human added since got
    theirs when added, and a lost one is rotated by another human."""
    with db.write() as tx:
        b = tx.board(board)
        member = tx.agent(b["id"], name, b["key"])
        if member["kind"] != "human":
            raise PermissionDeniedError(
                f"{member['name']} is an agent; agents get their token from `agent add`"
            )
        holder = tx.conn.execute(
            sa.select(agent_t.c.name)
            .where(
                agent_t.c.board_id == b["id"],
                agent_t.c.kind == "human",
                agent_t.c.token_hash.is_not(None),
            )
            .limit(1)
        ).first()
        if holder is not None:
            raise PermissionDeniedError(
                f"humans on board {b['key']} already hold credentials; ask one of them "
                f"(such as {holder.name}) to run `agentdeck agent token {member['name']} --rotate`"
            )
        token = new_credential(tx, member["id"], b["key"], member["name"])
        tx.auth[member["name"]] = credentials.BY_NAME
        tx.event(
            b["id"],
            None,
            member["name"],
            "agent",
            "credential",
            f"{member['name']} took the board's first human credential",
        )
        return Credential(board=b["key"], name=member["name"], kind="human", token=token)
