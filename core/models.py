"""Frozen read models: what `Deck` hands to the CLI, the MCP server and the TUI.

They are plain snapshots, never live ORM rows, so no widget can lazy-load from the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

STATUSES = ("pending", "in_progress", "review", "escalated", "done", "failed", "cancelled")
OPEN_STATUSES = ("pending", "in_progress", "review", "escalated", "failed")
FINISHED_STATUSES = ("done", "cancelled")
COLUMNS = ("blocked", "ready", "in_progress", "needs_human", "done", "failed")
COLUMN_TITLES = {
    "blocked": "Blocked",
    "ready": "Ready",
    "in_progress": "In progress",
    "needs_human": "Needs human",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
# What a task is; shown on its card. "task" is the default of every new task.
TASK_TYPES = ("task", "bug", "feature", "epic", "chore")
LOG_KINDS = ("action", "tool_call", "decision", "observation", "verification")
METRICS = ("tokens", "cost_usd", "cpu_hours", "gpu_hours")


def column_of(status: str, open_deps: int) -> str:
    """The board column a task shows in, from its stored status and the unfinished tasks it
    waits on (blockers, and an epic's subtasks): a pending epic with open subtasks is Blocked."""
    if status == "pending":
        return "blocked" if open_deps else "ready"
    if status in ("review", "escalated"):
        return "needs_human"
    return status


class _Jsonable:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: datetimes as ISO 8601 strings, tuples as lists."""
        return _plain(asdict(self))  # type: ignore[call-overload]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Board(_Jsonable):
    key: str
    name: str
    goal: str
    due_at: datetime | None
    lead: str | None
    require_verification: bool
    lease_seconds: int
    created_at: datetime
    agents: str  # "token" (every actor presents a credential) or "named" (agents may go by name)


@dataclass(frozen=True, slots=True)
class Credential(_Jsonable):
    """Who a token makes its holder: a member of a board. `token` is the secret itself, given
    only when it is minted (`agent add`, `board create`, a rotation), empty everywhere else."""

    board: str
    name: str
    kind: str
    token: str


@dataclass(frozen=True, slots=True)
class Agent(_Jsonable):
    name: str
    board: str
    kind: str
    skills: tuple[str, ...]
    role: str
    supervisor: str | None
    last_heartbeat: datetime | None
    current_task: str | None
    active_form: str
    state: str  # working | idle | stale


@dataclass(frozen=True, slots=True)
class Task(_Jsonable):
    key: str
    board: str
    title: str
    description: str
    criteria: str
    priority: int
    required_skills: tuple[str, ...]
    parent: str | None
    requires_approval: bool
    estimate_hours: float | None
    assignee: str | None
    status: str
    column: str
    type: str  # one of TASK_TYPES
    labels: tuple[str, ...]  # case-folded, sorted
    active_form: str
    result: str
    verification: str
    verified: bool
    escalation_reason: str
    lease_expires_at: datetime | None
    lease_stale: bool
    version: int
    blocked_by: tuple[str, ...]
    cost_usd: float
    tokens: int
    over_budget: bool
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    # An epic's progress: its subtasks done, of those not cancelled (0 and 0 for a plain task).
    subtasks_done: int = 0
    subtasks_total: int = 0


@dataclass(frozen=True, slots=True)
class Event(_Jsonable):
    id: int
    board: str
    task: str | None
    actor: str
    kind: str
    subkind: str
    text: str
    data: dict[str, Any]
    created_at: datetime
    # How the actor proved who it was: "token", "credential file", "named" (its name alone,
    # on a board in named mode), "imported" (history from an export), "" (the system).
    auth: str = ""


@dataclass(frozen=True, slots=True)
class Message(_Jsonable):
    id: int
    to: str
    sender: str
    task: str | None
    kind: str
    text: str
    created_at: datetime
    read: bool


@dataclass(frozen=True, slots=True)
class InboxPage(_Jsonable):
    """A page of unread messages, oldest first, and the cursor of the next page: the id of
    this page's last message, or None when no unread message follows it."""

    messages: tuple[Message, ...]
    next_cursor: str | None

    def __bool__(self) -> bool:
        """An empty page is false, like an empty list: a waiting inbox waits on."""
        return bool(self.messages)


@dataclass(frozen=True, slots=True)
class Checkpoint(_Jsonable):
    task: str
    actor: str
    sha: str
    message: str
    files: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GitCommit(_Jsonable):
    sha: str
    subject: str


@dataclass(frozen=True, slots=True)
class FileChange(_Jsonable):
    status: str  # A added, M modified, D deleted, T type changed
    path: str


@dataclass(frozen=True, slots=True)
class TaskChanges(_Jsonable):
    """What changed in a git work tree since a task started: the commits after `base` up to
    `head` (newest first) and the files they changed. `since` says where `base` came from:
    "first checkpoint" (the parent of the task's first linked commit), "claimed" (the newest
    commit before the task was first claimed), "created" (before it was created, for a task
    never claimed), or "root" (no commit before that: all of HEAD's history)."""

    task: str
    base: str | None
    since: str
    head: str
    commits: tuple[GitCommit, ...]
    more_commits: bool
    files: tuple[FileChange, ...]
    uncommitted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rollback(_Jsonable):
    """What `rollback` did: the commit it restored the tree of (`to`), where HEAD was
    (`from_head`), and the new commit that restores it (None when the tree already matched)."""

    task: str
    to: str
    from_head: str
    commit: str | None
    forced: bool


@dataclass(frozen=True, slots=True)
class UsageTotals(_Jsonable):
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cpu_seconds: float = 0.0
    gpu_seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


@dataclass(frozen=True, slots=True)
class BudgetStatus(_Jsonable):
    scope: str
    subject: str
    metric: str
    used: float
    soft: float | None
    hard: float | None
    level: str  # ok | warn | over


@dataclass(frozen=True, slots=True)
class SearchHit(_Jsonable):
    key: str
    title: str
    result: str
    snippet: str
    score: float


@dataclass(frozen=True, slots=True)
class TaskDetail(_Jsonable):
    """Everything the task screen shows except the log, which is loaded separately."""

    task: Task
    blocks: tuple[str, ...]
    blocked_by_all: tuple[tuple[str, str], ...]  # (key, status) of every blocker
    subtasks: tuple[str, ...]
    assignee_history: tuple[tuple[str, str, datetime], ...]  # (agent, by, when)
    notes: tuple[Event, ...]
    checkpoints: tuple[Checkpoint, ...]
    usage: UsageTotals  # what counts against budgets
    event_count: int
    # The figures as given per source, when the task has measured usage (else None): what
    # its agents reported and what their runtimes measured, to show the gap.
    measured: UsageTotals | None = None
    reported: UsageTotals | None = None
    # The newest comments (oldest first, at most `comments.SHOWN`) and how many there are.
    comments: tuple[Event, ...] = ()
    comments_total: int = 0
    # Non-blocking relations an import brought: (kind, the linked task's key or "" when it is
    # not on the board, the source's reference), and what its source had with no other home.
    links: tuple[tuple[str, str, str], ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Edited(_Jsonable):
    """The result of `edit_task`: the task as it is now, and the fields the edit changed
    (empty when every value given was already the task's: then nothing was written)."""

    task: Task
    changed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Claim(_Jsonable):
    """A claimed task with what the agent should read before starting."""

    task: Task
    inbox: tuple[Message, ...]
    similar: tuple[SearchHit, ...]


@dataclass(frozen=True, slots=True)
class Completion(_Jsonable):
    """The result of `complete`: the task, and a nudge when it was done without evidence."""

    task: Task
    nudge: str | None


@dataclass(frozen=True, slots=True)
class BurnDownPoint(_Jsonable):
    at: datetime
    open: int
    scope: int


@dataclass(frozen=True, slots=True)
class BurnDown(_Jsonable):
    points: tuple[BurnDownPoint, ...]
    ideal: tuple[BurnDownPoint, ...]
    forecast: tuple[BurnDownPoint, ...]
    due_at: datetime | None
    forecast_done_at: datetime | None
    throughput_per_day: float
    # The forecast's range (95%): the earliest and latest likely finish; late is None when
    # the slowest likely rate is zero. `forecast_note` says why there is no forecast yet.
    forecast_early: datetime | None = None
    forecast_late: datetime | None = None
    forecast_note: str = ""


@dataclass(frozen=True, slots=True)
class CostLine(_Jsonable):
    """One agent's (or model's) cost in each bucket of a `CostSeries`."""

    name: str
    costs: tuple[float, ...]
    total: float


@dataclass(frozen=True, slots=True)
class CostSeries(_Jsonable):
    """Cost over time, per agent or per model: `starts[i]` opens bucket i (`bucket_seconds`
    long, the last one running to now); the biggest spenders first, the rest as "others"."""

    by: str  # "agent" or "model"
    bucket_seconds: int
    starts: tuple[datetime, ...]
    lines: tuple[CostLine, ...]
    total: float


@dataclass(frozen=True, slots=True)
class BoardCounts(_Jsonable):
    """Task counts per board column, for the header and the report."""

    by_column: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(n for c, n in self.by_column.items() if c != "cancelled")

    @property
    def done(self) -> int:
        return self.by_column.get("done", 0)


@dataclass(frozen=True, slots=True)
class Skipped(_Jsonable):
    """A change an import wanted but its actor may not make through the lifecycle: left as it
    is and reported. `wanted` is a status, or `assigned to NAME` / `priority N`."""

    key: str
    wanted: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class KindCounts(_Jsonable):
    """For one kind of task (its type: task, bug, epic, ...), what an import created, updated
    and found already as the source has it."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class ImportSummary(_Jsonable):
    """What an import of another tool's tasks did, or would do with `dry_run` (then nothing
    was written): per kind of task created / updated / unchanged; the source statuses mapped
    to agentdeck's (from, to, tasks); records of other kinds skipped (kind, count); source
    fields with no agentdeck home kept in task metadata (field, tasks); references to items
    outside the source kept on the task (source id, reference); and problems read past (one
    line each: the file or line, and what is wrong)."""

    source: str
    board: str
    dry_run: bool
    kinds: tuple[KindCounts, ...]
    mapped: tuple[tuple[str, str, int], ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()
    kept: tuple[tuple[str, int], ...] = ()
    external: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    created_board: bool = False

    @property
    def created(self) -> int:
        return sum(k.created for k in self.kinds)

    @property
    def updated(self) -> int:
        return sum(k.updated for k in self.kinds)

    @property
    def unchanged(self) -> int:
        return sum(k.unchanged for k in self.kinds)


@dataclass(frozen=True, slots=True)
class Imported(_Jsonable):
    """What an import of another tool's tasks did: the tasks it touched, what it left alone
    (moves the importer may not make), and its summary (None only for the hooks' mirrors)."""

    board: str
    tasks: tuple[Task, ...]
    skipped: tuple[Skipped, ...] = ()
    summary: ImportSummary | None = None


SIGNALS = ("metrics", "traces", "logs")


@dataclass(frozen=True, slots=True)
class MeasuredPoint(_Jsonable):
    """One usage figure an agent's own telemetry measured, decoded from OTLP by `core.otel`.

    `series` names the stream the figure belongs to (signal, metric or event name, its
    attributes and the sender's resource identity, in a stable order), so a resent batch maps
    to the same series and window and is never counted twice. A cumulative point carries the
    running total since `start`; a delta point (and every span or log record) carries only the
    amount of its own window `start`..`end`. `session` groups the signals of one running agent
    (its `session.id` or `service.instance.id`): usage of one session is counted from the first
    signal that brought it, so a runtime exporting the same work as metrics and as log events
    is not counted twice. `task` is the resource's `agentdeck.task`, when the sender pinned one.
    """

    signal: str  # one of SIGNALS
    series: str
    end: datetime
    start: datetime | None = None
    cumulative: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str = ""
    session: str = ""
    task: str | None = None


@dataclass(frozen=True, slots=True)
class Measured(_Jsonable):
    """What `Deck.record_measured` did with one batch of points from one sender.

    `counted` points added usage; `repeated` were already counted (a resent batch, or a
    cumulative total that did not grow); `other_signal` belong to a session whose usage is
    counted from another signal; `rejected` could not be taken (a pinned task the sender does
    not hold, a figure out of range), each with its reason in `errors`. `tasks` are the keys
    the usage landed on ("" for the board). `crossed` are the budgets it pushed past a limit.
    """

    agent: str
    board: str
    counted: int = 0
    repeated: int = 0
    other_signal: int = 0
    rejected: int = 0
    errors: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    crossed: tuple[BudgetStatus, ...] = ()
