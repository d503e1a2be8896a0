"""The claim's single UPDATE … RETURNING, built once per shape and reused.

Claiming must stay one atomic statement over `ix_task_claim` however many agents race for the
queue; building it once per (backend, skills, by key, budget filter) keeps SQLAlchemy's
statement construction out of every claim's write transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from agentdeck.core.storage import dialect
from agentdeck.core.storage.prepared import Prepared
from agentdeck.core.storage.tables import UTCDateTime, budget_t, task_t

_claim_statements: dict[tuple[Any, ...], Prepared] = {}


def claim_statement(
    conn: sa.Connection, skills: tuple[str, ...], *, by_key: bool, exhausted: bool
) -> Prepared:
    """The claim's one UPDATE … RETURNING for an agent with these skills, built once per shape.

    Next ready task: the agent's own assignments first, then unassigned tasks its skills fit,
    by priority then age, skipping tasks whose hard budget is spent (`exhausted`). By key: that
    task, if it is ready and unassigned or assigned to the agent. Parameters: p_board_id,
    p_agent_id, p_lease, p_now, and p_number (by key) or p_key_prefix (next).
    """
    shape = (conn.dialect.name, skills, by_key, exhausted)
    statement = _claim_statements.get(shape)
    if statement is None:
        if len(_claim_statements) > 256:
            _claim_statements.clear()
        built = _build_claim(conn, list(skills), by_key, exhausted)
        statement = _claim_statements[shape] = Prepared(built)
    return statement


def _build_claim(conn: sa.Connection, skills: list[str], by_key: bool, exhausted: bool) -> Any:
    agent_id: sa.BindParameter[Any] = sa.bindparam("p_agent_id")
    ready = (
        task_t.c.board_id == sa.bindparam("p_board_id"),
        task_t.c.status == "pending",
        task_t.c.open_deps == 0,
    )
    if by_key:
        target: Any = (
            sa.select(task_t.c.id)
            .where(
                *ready,
                task_t.c.number == sa.bindparam("p_number"),
                sa.or_(task_t.c.assignee_id.is_(None), task_t.c.assignee_id == agent_id),
            )
            .scalar_subquery()
        )
    else:
        mine = sa.select(task_t.c.id).where(*ready, task_t.c.assignee_id == agent_id)
        open_ = sa.select(task_t.c.id).where(
            *ready, task_t.c.assignee_id.is_(None), dialect.skills_fit(conn, task_t, skills)
        )
        if exhausted:
            spent = sa.select(budget_t.c.subject).where(
                budget_t.c.board_id == sa.bindparam("p_board_id"),
                budget_t.c.scope == "task",
                budget_t.c.hard_hit,
            )
            key_expr = sa.bindparam("p_key_prefix", type_=sa.String) + sa.cast(
                task_t.c.number, sa.String
            )
            mine, open_ = (q.where(key_expr.not_in(spent)) for q in (mine, open_))
        target = sa.func.coalesce(
            *(
                dialect.lock_pick(
                    conn, q.order_by(task_t.c.priority, task_t.c.id).limit(1)
                ).scalar_subquery()
                for q in (mine, open_)
            )
        )
    now = sa.bindparam("p_now", type_=UTCDateTime)
    return (
        task_t.update()
        # Readiness again on the row itself: on PostgreSQL a transaction that committed since this
        # statement's snapshot (a subtask added to an epic, a blocker linked) is seen here, since
        # an UPDATE re-checks its WHERE on the newest version of a row it had to wait for.
        .where(task_t.c.id == target, task_t.c.status == "pending", task_t.c.open_deps == 0)
        .values(
            status="in_progress",
            assignee_id=agent_id,
            lease_expires_at=sa.bindparam("p_lease", type_=UTCDateTime),
            started_at=sa.func.coalesce(task_t.c.started_at, now),
            updated_at=now,
            active_form="",
            version=task_t.c.version + 1,
        )
        .returning(task_t.c.id)
    )
