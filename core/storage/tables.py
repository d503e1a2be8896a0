"""SQLModel tables: the stored shape of boards, agents, tasks and their paper trail.

These rows never leave `core`; callers get the frozen read models in `agentdeck.core.models`.
Times are stored as naive UTC and handed back timezone-aware (see `UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A datetime stored as naive UTC on every backend and read back as aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class JsonType(sa.types.TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL; the PostgreSQL dialect is imported only when used,
    which keeps it out of every CLI call on SQLite."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())


def _json(default: Any) -> Any:
    return Field(default_factory=lambda: default.copy(), sa_type=JsonType)


def _time(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class BoardRow(SQLModel, table=True):
    __tablename__ = "board"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    name: str
    goal: str = ""
    due_at: datetime | None = _time()
    lead: str | None = None
    require_verification: bool = False
    lease_seconds: int = 900
    next_number: int = 1
    created_at: datetime = _time(nullable=False)
    # "token": every actor presents its credential; "named": agents may act by name alone
    # (a local board's solo set-up). Human-only moves need a human credential in both.
    agents_mode: str = Field(default="token", sa_column_kwargs={"server_default": "named"})


class AgentRow(SQLModel, table=True):
    __tablename__ = "agent"
    __table_args__ = (
        sa.UniqueConstraint("board_id", "name"),
        sa.Index("ix_agent_name_key", "board_id", "name_key"),
        sa.Index("ix_agent_token_hash", "token_hash", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    name: str
    kind: str = "agent"
    skills: list[str] = _json([])
    role: str = ""
    supervisor: str | None = None
    last_heartbeat: datetime | None = _time()
    current_task_id: int | None = None
    active_form: str = ""
    created_at: datetime = _time(nullable=False)
    # The name folded for comparison (NFKC, case-insensitive): `Alice` finds `alice`.
    name_key: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # SHA-256 of the member's credential (the token itself is shown once and never stored).
    token_hash: str | None = None


class TaskRow(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (
        sa.UniqueConstraint("board_id", "number"),
        # The claim walks this index in (priority, id) order for one board's ready tasks.
        sa.Index(
            "ix_task_claim", "board_id", "status", "open_deps", "assignee_id", "priority", "id"
        ),
        sa.Index("ix_task_lease", "status", "lease_expires_at"),
        sa.Index("ix_task_external", "board_id", "external_id", unique=True),
        # An epic's progress: its children by status.
        sa.Index("ix_task_parent", "parent_id", "status"),
        # A board's tasks in list order, and its finished work newest first: pages read
        # without sorting the board.
        sa.Index("ix_task_order", "board_id", "priority", "id"),
        sa.Index("ix_task_finished", "board_id", "status", "completed_at"),
        # Each board column in display order (`paging.column_page`): by priority and number,
        # and Done and Failed newest first.
        sa.Index("ix_task_column", "board_id", "status", "priority", "number", "open_deps"),
        sa.Index(
            "ix_task_column_finished",
            "board_id",
            "status",
            sa.text("coalesce(completed_at, updated_at)"),
            "number",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    number: int
    title: str
    description: str = ""
    criteria: str = ""
    priority: int = 2
    required_skills: list[str] = _json([])
    parent_id: int | None = Field(default=None, foreign_key="task.id")
    requires_approval: bool = False
    estimate_hours: float | None = None
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    status: str = "pending"
    active_form: str = ""
    result: str = ""
    verification: str = ""
    verified: bool = False
    lease_expires_at: datetime | None = _time()
    version: int = 1
    # Number of unfinished tasks this one waits on: its blockers (`dependency`) and its children
    # (tasks whose `parent_id` is it: an epic waits on them); kept in step so readiness is indexable.
    open_deps: int = 0
    escalation_reason: str = ""
    # The id a task has in the tool it was imported from (a Claude Code task id, a beads id).
    external_id: str | None = None
    created_at: datetime = _time(nullable=False)
    started_at: datetime | None = _time()
    completed_at: datetime | None = _time()
    updated_at: datetime = _time(nullable=False)
    # What the task is: task, bug, feature, epic or chore (`models.TASK_TYPES`).
    type: str = Field(default="task", sa_column_kwargs={"server_default": "task"})
    # What an import's source had with no agentdeck home, kept verbatim (JSON; None or {}
    # for a task no import wrote): `{"beads": {"design": ...}}`, shown by `task show`.
    meta: dict[str, Any] | None = Field(default=None, sa_type=JsonType, nullable=True)


class DependencyRow(SQLModel, table=True):
    __tablename__ = "dependency"

    task_id: int = Field(foreign_key="task.id", primary_key=True)
    blocker_id: int = Field(foreign_key="task.id", primary_key=True, index=True)


class TaskLabelRow(SQLModel, table=True):
    """A label on a task, case-folded (`limits.label`); a task has each label at most once.
    Filters by label walk `ix_task_label_label` (label, task_id) to the task ids."""

    __tablename__ = "task_label"
    __table_args__ = (sa.Index("ix_task_label_label", "label", "task_id"),)

    task_id: int = Field(foreign_key="task.id", primary_key=True)
    label: str = Field(primary_key=True)


class TaskLinkRow(SQLModel, table=True):
    """A non-blocking relation an import brought (beads `related`, `discovered-from`, a
    reference to an item outside the source): to a task of the board (`target_id`) or, when
    the target is not on it, to the source's reference alone (`target_ref`). Blocking ones
    are `dependency` rows instead."""

    __tablename__ = "task_link"
    __table_args__ = (
        sa.Index("ix_task_link_task", "task_id"),
        sa.Index("ix_task_link_target", "target_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    kind: str
    target_id: int | None = Field(default=None, foreign_key="task.id")
    target_ref: str = Field(default="", sa_column_kwargs={"server_default": ""})


class EventRow(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        sa.Index("ix_event_board", "board_id", "id"),
        sa.Index("ix_event_task", "task_id", "id"),
        # Task detail reads a task's notes and claims by kind; without this it scans the whole log.
        sa.Index("ix_event_task_kind", "task_id", "kind"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    task_id: int | None = Field(default=None, foreign_key="task.id")
    actor: str
    kind: str
    subkind: str = ""
    text: str = ""
    data: dict[str, Any] = _json({})
    created_at: datetime = _time(nullable=False)
    # How the actor proved who it was: "token", "credential file", "named" (its name alone,
    # on a board in named mode), or "" for the system and events from before credentials.
    auth: str = Field(default="", sa_column_kwargs={"server_default": ""})


class UsageRow(SQLModel, table=True):
    __tablename__ = "usage"

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cpu_seconds: float = 0.0
    gpu_seconds: float = 0.0
    model: str = ""
    created_at: datetime = _time(nullable=False)
    # Where the figures came from: "reported" (the agent said so: `agentdeck usage`) or
    # "measured" (its runtime's own telemetry, over OTLP). The columns above are what this row
    # adds to the *counted* usage budgets run on; the raw_ columns are the figures as given.
    # For one agent on one task, each figure counts the larger of what was reported and what
    # was measured (`budgets.counted_increment`), so the same work is never counted twice.
    source: str = Field(default="reported", sa_column_kwargs={"server_default": "reported"})
    raw_tokens_in: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    raw_tokens_out: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    raw_cost_usd: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})


class MeasureRow(SQLModel, table=True):
    """One usage figure received from an agent's telemetry, kept so a resent batch is known
    (one row per sender, series and window end) and a cumulative series can be turned into
    deltas (its last running total). `counted` is False for a point whose session's usage
    is counted from another signal."""

    __tablename__ = "measure"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "series", "end_at"),
        sa.Index("ix_measure_session", "agent_id", "session", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    series: str
    signal: str
    session: str = ""
    cumulative: bool = False
    start_at: datetime | None = _time()
    end_at: datetime = _time(nullable=False)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class RefusalRow(SQLModel, table=True):
    """Requests the telemetry receiver refused, counted per day and reason (a bad credential,
    a malformed or oversized body), so the console can say someone is knocking."""

    __tablename__ = "refusal"
    __table_args__ = (sa.UniqueConstraint("day", "reason"),)

    id: int | None = Field(default=None, primary_key=True)
    day: str  # YYYY-MM-DD, UTC
    reason: str
    count: int = 0


class FlowRow(SQLModel, table=True):
    """Per board and minute, how scope and done-ness changed (see `storage.flow`)."""

    __tablename__ = "flow"

    board_id: int = Field(foreign_key="board.id", primary_key=True)
    minute: int = Field(primary_key=True)  # minutes since the epoch, UTC
    scope: int = 0
    done: int = 0


class FlowHourRow(SQLModel, table=True):
    """Per board and hour, the sums of `FlowRow` (see `storage.flow`): the long burn-down's."""

    __tablename__ = "flow_hour"

    board_id: int = Field(foreign_key="board.id", primary_key=True)
    hour: int = Field(primary_key=True)  # hours since the epoch, UTC
    scope: int = 0
    done: int = 0


class SpendRow(SQLModel, table=True):
    """Per board, hour, agent and model, the counted usage summed (see `storage.spend`)."""

    __tablename__ = "spend"

    board_id: int = Field(foreign_key="board.id", primary_key=True)
    hour: int = Field(primary_key=True)  # hours since the epoch, UTC
    agent_id: int = Field(default=0, primary_key=True)  # 0: usage recorded without an agent
    model: str = Field(default="", primary_key=True)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cpu_seconds: float = 0.0
    gpu_seconds: float = 0.0


class BudgetRow(SQLModel, table=True):
    __tablename__ = "budget"
    __table_args__ = (sa.UniqueConstraint("board_id", "scope", "subject", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    scope: str  # board | agent | task
    subject: str = ""  # "" for the board, the agent's name, or the task's key
    metric: str  # tokens | cost_usd | cpu_hours | gpu_hours
    soft: float | None = None
    hard: float | None = None
    used: float = 0.0
    soft_warned: bool = False
    hard_hit: bool = False


class MessageRow(SQLModel, table=True):
    __tablename__ = "message"
    __table_args__ = (sa.Index("ix_message_inbox", "agent_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    agent_id: int = Field(foreign_key="agent.id")
    task_id: int | None = Field(default=None, foreign_key="task.id")
    sender: str
    kind: str
    text: str
    created_at: datetime = _time(nullable=False)
    read_at: datetime | None = _time()


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id")
    task_id: int = Field(foreign_key="task.id", index=True)
    actor: str
    sha: str
    message: str = ""
    files: list[str] = _json([])
    created_at: datetime = _time(nullable=False)


board_t = BoardRow.__table__  # type: ignore[attr-defined]
agent_t = AgentRow.__table__  # type: ignore[attr-defined]
task_t = TaskRow.__table__  # type: ignore[attr-defined]
dependency_t = DependencyRow.__table__  # type: ignore[attr-defined]
task_label_t = TaskLabelRow.__table__  # type: ignore[attr-defined]
task_link_t = TaskLinkRow.__table__  # type: ignore[attr-defined]
event_t = EventRow.__table__  # type: ignore[attr-defined]
usage_t = UsageRow.__table__  # type: ignore[attr-defined]
measure_t = MeasureRow.__table__  # type: ignore[attr-defined]
refusal_t = RefusalRow.__table__  # type: ignore[attr-defined]
flow_t = FlowRow.__table__  # type: ignore[attr-defined]
flow_hour_t = FlowHourRow.__table__  # type: ignore[attr-defined]
spend_t = SpendRow.__table__  # type: ignore[attr-defined]
budget_t = BudgetRow.__table__  # type: ignore[attr-defined]
message_t = MessageRow.__table__  # type: ignore[attr-defined]
checkpoint_t = CheckpointRow.__table__  # type: ignore[attr-defined]
