"""`Deck`: the one front door to agentdeck's data.

The CLI, the MCP server, the TUI and the demo agents all call it; none of them writes SQL.
Each verb is one short transaction that appends its events; results are frozen read models.

The verbs are plain functions in the module of their concept (tasks, work, supervision, ...),
each taking the transaction (`Tx`) it runs in; `Deck` composes them, one line per verb. A new
verb: write it as a function over a Tx in the module of its concept, then add one line here
(`_writes` or `_reads`). A verb that needs several transactions, or work outside one (reading
files, running git), takes the `Database` instead and is added with `_with_database`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import sqlalchemy as sa

from agentdeck.core import (
    boards,
    budgets,
    claims,
    comments,
    credentials,
    editing,
    events,
    history,
    knowledge,
    measured,
    metrics,
    paging,
    planning,
    report_figures,
    supervision,
    tasks,
    views,
    waiting,
    work,
)

# Imported under other names: `Deck.inbox`, `Deck.report` and `Deck.report_summary` are verbs
# of the same names.
from agentdeck.core import inbox as inboxes
from agentdeck.core import report as reports
from agentdeck.core import report_summary as summaries
from agentdeck.core.errors import NotFoundError, SchemaError, ValidationError
from agentdeck.core.feed import ChangeFeed
from agentdeck.core.formats import export_formats, importers, native
from agentdeck.core.models import Claim, InboxPage, Message
from agentdeck.core.storage import resident_writer
from agentdeck.core.storage.database import Clock, Database, Offset
from agentdeck.core.storage.engine import WaitWatcher, make_engine, resolve_url
from agentdeck.core.storage.transaction import Tx

P = ParamSpec("P")
R = TypeVar("R")


def _writes(fn: Callable[Concatenate[Tx, P], R]) -> Callable[Concatenate[Deck, P], R]:
    """A Deck verb: `fn` run in one write transaction."""

    @functools.wraps(fn)
    def verb(self: Deck, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._db.write() as tx:
            return fn(tx, *args, **kwargs)

    return _via_writer(verb)


def _reads(fn: Callable[Concatenate[Tx, P], R]) -> Callable[Concatenate[Deck, P], R]:
    """A Deck verb: `fn` run in one read-only snapshot."""

    @functools.wraps(fn)
    def verb(self: Deck, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._db.read() as tx:
            return fn(tx, *args, **kwargs)

    return verb


def _with_database(
    fn: Callable[Concatenate[Database, P], R],
) -> Callable[Concatenate[Deck, P], R]:
    """A Deck verb that opens its own transactions (several, or after work outside one)."""

    @functools.wraps(fn)
    def verb(self: Deck, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return fn(self._db, *args, **kwargs)

    return _via_writer(verb)


def _via_writer(verb: Callable[Concatenate[Deck, P], R]) -> Callable[Concatenate[Deck, P], R]:
    """`verb` as it is, unless the resident writer serves it (`resident_writer.FORWARDED`):
    then a deck that uses one sends it there, and runs it itself only if none answers."""
    name = verb.__name__
    if name not in resident_writer.FORWARDED:
        return verb

    @functools.wraps(verb)
    def forwarding(self: Deck, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._writer is not None:
            forwarded, result = self._forward(name, args, kwargs)
            if forwarded:
                return result  # type: ignore[no-any-return]
        return verb(self, *args, **kwargs)

    return forwarding


class Deck:
    """A task store many agents write to at once. Open with `Deck.open(path_or_url)`."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Clock | None = None,
        server_clock_offset_for_tests: Offset | None = None,
        migrate: bool = True,
    ):
        """`clock` is this machine's clock, used on SQLite; on PostgreSQL every time is the
        server's, moved by `server_clock_offset_for_tests` in tests only (see `Database`)."""
        self._db = Database(
            engine,
            clock=clock,
            server_clock_offset_for_tests=server_clock_offset_for_tests,
            migrate=migrate,
        )
        # Said once, by whoever opened the deck: SQLite on a filesystem where WAL is unsafe.
        self.warnings: tuple[str, ...] = self._db.warnings
        # The tokens presented (`present`), passed to a resident writer with each request.
        self._presented: list[tuple[str, str]] = []
        self._writer: resident_writer.WriterClient | None = None

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        clock: Clock | None = None,
        server_clock_offset_for_tests: Offset | None = None,
        timeout: float | None = None,
        writer: bool | None = None,
    ) -> Self:
        """Open the database at a path or URL (default: `AGENTDECK_DB`, then the nearest
        `.agentdeck/board.db`); `create=True` makes a new SQLite file if there is none.
        `clock` (SQLite) and `server_clock_offset_for_tests` (PostgreSQL): see `__init__`.
        `writer`: send agents' writes to the file's resident writer (`use_resident_writer`);
        None follows `AGENTDECK_WRITER=resident`. A deck with its own `clock` never does."""
        try:
            url = resolve_url(target, create=create)
        except RuntimeError as exc:  # `~name` for a user with no home directory
            raise NotFoundError(f"cannot find the database: {exc}") from None
        try:
            engine = make_engine(url, timeout=timeout)
        except (sa.exc.ArgumentError, TypeError):  # a URL no driver takes, or `sqlite://`
            shown = re.sub(r"//([^/:@]*):[^/@]*@", r"//\1:***@", url)
            raise ValidationError(
                f"cannot use {shown[:100]!r} as a database; pass a file path or a "
                "postgresql+psycopg:// URL"
            ) from None
        try:
            deck = cls(
                engine, clock=clock, server_clock_offset_for_tests=server_clock_offset_for_tests
            )
        except sa.exc.DBAPIError as exc:  # a directory, a file that is not a database, no server
            engine.dispose()
            where = engine.url.render_as_string(hide_password=True)
            raise SchemaError(f"cannot open the database {where}: {exc.orig}") from None
        if (resident_writer.wanted() if writer is None else writer) and clock is None:
            deck.use_resident_writer()
        return deck

    def use_resident_writer(self) -> bool:
        """Send the agents' hot verbs (`resident_writer.FORWARDED`) to the resident writer of
        this SQLite file, which commits many callers' writes together (group commit); started
        on demand. False, and nothing changes, on PostgreSQL or an in-memory database."""
        path = self._db.path
        if path is None or path.name == ":memory:" or not path.exists():
            return False
        self._writer = resident_writer.WriterClient(path)
        return True

    def _forward(
        self, verb: str, args: tuple[object, ...], kwargs: dict[str, object]
    ) -> tuple[bool, Any]:
        """(True, result) from the resident writer, or (False, None) when it cannot be reached
        (nothing ran there; the caller runs the verb in-process, as from now on)."""
        assert self._writer is not None
        minted = [(t, credentials.MINTED) for t in self._db.keyring.minted.values()]
        try:
            return True, self._writer.call(verb, args, kwargs, [*self._presented, *minted])
        except resident_writer.WriterUnreachable:
            self._writer = None
            return False, None

    @property
    def engine(self) -> sa.Engine:
        return self._db.engine

    @property
    def url(self) -> str:
        return self._db.url

    @property
    def path(self) -> Path | None:
        """The SQLite file behind this deck, or None on PostgreSQL."""
        return self._db.path

    @property
    def timeout(self) -> float:
        """Seconds a call waits for another writer's lock before `DatabaseBusyError`."""
        return self._db.timeout

    def watch_write_waits(self, watcher: WaitWatcher | None) -> None:
        """Have `watcher(True)` called (from the writing thread) when a write starts waiting for
        another process's write lock, and `watcher(False)` when the wait ends; None stops it.
        SQLite only: the console uses it to say it is waiting instead of looking frozen."""
        self._db.watch_write_waits(watcher)

    def now(self) -> datetime:
        """The time verbs stamp and compare leases against: the server's on PostgreSQL, this
        machine's clock on SQLite."""
        return self._db.now()

    def present(self, token: str, source: str = credentials.BY_TOKEN) -> None:
        """Act with this credential from now on: an agent's `AGENTDECK_TOKEN` (`source`
        "token"), or a human's from their credential file ("credential file"). Which member
        it makes this deck is looked up on each call (`whoami`); a token no member holds
        simply proves nothing."""
        token = credentials.check_token(token, "the token given")
        self._db.keyring.add(token, source)
        self._presented.append((token, source))

    def issued_token(self, name: str, board: str) -> str | None:
        """The token this deck minted for member `name` of `board` (by `create_board` or
        `add_agent`), to show once; None if it minted none."""
        return self._db.keyring.minted.get((board.upper(), name))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # core/boards.py
    create_board = _with_database(boards.create_board)
    get_board = _reads(boards.get_board)
    list_boards = _reads(boards.list_boards)
    add_agent = _with_database(boards.add_agent)
    list_agents = _reads(boards.list_agents)
    iter_boards = _with_database(paging.iter_boards)
    iter_agents = _with_database(paging.iter_agents)
    get_agent = _with_database(boards.get_agent)
    set_agents_mode = _with_database(boards.set_agents_mode)
    whoami = _reads(boards.whoami)
    rotate_credential = _with_database(boards.rotate_credential)
    revoke_credential = _with_database(boards.revoke_credential)
    login = _with_database(boards.login)

    # core/tasks.py
    add_task = _writes(tasks.add_task)
    add_dependency = _writes(tasks.add_dependency)
    get_task = _reads(tasks.get_task)
    list_tasks = _reads(tasks.list_tasks)
    task_page = _reads(paging.task_page)
    iter_tasks = _with_database(paging.iter_tasks)
    ready = _reads(tasks.ready)
    iter_ready = _with_database(paging.iter_ready)
    counts = _reads(tasks.counts)
    column_counts = _reads(paging.column_counts)
    column_page = _reads(paging.column_page)
    column_rank = _reads(paging.column_rank)
    matching = _reads(paging.matching)

    # core/editing.py
    edit_task = _writes(editing.edit_task)

    # core/planning.py
    plan = _with_database(planning.plan)

    # core/claims.py and core/work.py
    def claim(
        self,
        actor: str,
        *,
        board: str | None = None,
        key: str | None = None,
        wait: float = 0,
        feed: ChangeFeed | None = None,
    ) -> Claim | None:
        """Atomically take the best ready task for `actor` (or the task `key`), or None; see
        `claims.claim`. With `wait` seconds (at most 3600), when nothing is ready, wait that
        long for a task to become ready, woken by the change feed (`feed`, or one of its own;
        closing it from another thread ends the wait) and by the soonest lease lapsing."""
        wait = waiting.wait_seconds(wait)
        if not wait:
            if self._writer is not None:
                forwarded, taken = self._forward("claim", (actor,), {"board": board, "key": key})
                if forwarded:  # the writer took it; the read after the commit is ours
                    return None if taken is None else claims.with_similar(self._db, taken)
            return claims.claim(self._db, actor, board=board, key=key)
        if key:
            raise ValidationError("a claim waits for the best ready task; it cannot wait for a key")
        return waiting.claim(self, actor, board=board, wait=wait, feed=feed)

    expire_leases = _writes(claims.expire_leases)
    next_lease_lapse = _reads(claims.next_lease_lapse)
    heartbeat = _writes(claims.heartbeat)
    doing = _with_database(work.doing)
    log = _with_database(work.log)
    record_usage = _with_database(work.record_usage)
    submit = _with_database(work.submit)
    complete = _with_database(work.complete)
    fail = _with_database(work.fail)
    escalate = _with_database(work.escalate)
    release = _with_database(work.release)

    # core/comments.py
    comment = _writes(comments.comment)

    # core/supervision.py
    approve = _writes(supervision.approve)
    reject = _with_database(supervision.reject)
    reopen = _with_database(supervision.reopen)
    answer = _with_database(supervision.answer)
    assign = _writes(supervision.assign)
    set_priority = _with_database(supervision.set_priority)
    cancel = _writes(supervision.cancel)

    # core/events.py
    max_event_id = _reads(events.max_event_id)
    events_since = _reads(events.events_since)
    iter_events = _with_database(paging.iter_events)
    task_events = _with_database(events.task_events)
    task_log_page = _with_database(events.task_log_page)
    changes_since = _reads(events.changes_since)
    task_detail = _reads(events.task_detail)

    # core/inbox.py
    def inbox(
        self,
        actor: str,
        *,
        board: str | None = None,
        mark_read: bool = True,
        limit: int | None = views.API_LIMIT,
        after_id: int | None = None,
        wait: float = 0,
        feed: ChangeFeed | None = None,
    ) -> list[Message]:
        """The agent's unread messages, oldest first; reading marks read the ones returned.
        See `inbox_page`, which also says whether more follow."""
        return list(
            self.inbox_page(
                actor,
                board=board,
                mark_read=mark_read,
                limit=limit,
                after_id=after_id,
                wait=wait,
                feed=feed,
            ).messages
        )

    def inbox_page(
        self,
        actor: str,
        *,
        board: str | None = None,
        mark_read: bool = True,
        limit: int | None = views.API_LIMIT,
        after_id: int | None = None,
        wait: float = 0,
        feed: ChangeFeed | None = None,
    ) -> InboxPage:
        """A page of the agent's unread messages and the next page's cursor; reading marks
        read the ones returned. `limit` (at most `views.API_LIMIT` unless told; None for all)
        and `after_id` page them (see `inboxes.inbox`). With
        `wait` seconds (at most 3600), when there are none, wait that long for a first one
        (see `claim` for `feed`)."""
        wait = waiting.wait_seconds(wait)
        page = {"limit": limit, "after_id": after_id}
        if not wait:
            return inboxes.inbox(self._db, actor, board=board, mark_read=mark_read, **page)
        return waiting.inbox(
            self, actor, board=board, mark_read=mark_read, wait=wait, feed=feed, **page
        )

    send = _writes(inboxes.send_message)
    checkpoint = _with_database(inboxes.checkpoint)
    checkpoints = _reads(inboxes.checkpoints)

    # core/history.py
    changes = _with_database(history.changes)
    rollback = _with_database(history.rollback)

    # core/knowledge.py
    search = _reads(knowledge.search)
    similar = _reads(knowledge.similar)
    reindex = _writes(knowledge.reindex)

    # core/budgets.py
    set_budget = _with_database(budgets.set_budget)
    budget_status = _reads(budgets.budget_status)
    iter_budgets = _with_database(paging.iter_budgets)
    usage_totals = _reads(budgets.usage_totals)
    usage_by_source = _reads(measured.usage_by_source)

    # -- measured usage (the OTLP receiver) --
    sender = _reads(measured.sender)
    record_measured = _writes(measured.record_measured)
    count_refusal = _writes(measured.count_refusal)
    refusals = _reads(measured.refusals)

    # core/metrics.py, core/report.py, core/report_summary.py and core/report_figures.py
    burndown = _with_database(metrics.burndown)
    cost_over_time = _reads(metrics.cost_over_time)
    throughput = _reads(metrics.throughput)
    report = _with_database(reports.report)
    report_lines = _with_database(reports.report_lines)
    report_summary = _with_database(summaries.report_summary)
    finished_summary = _reads(report_figures.finished_summary)

    # core/formats/importers.py and core/formats/native.py
    import_source = _with_database(importers.import_source)
    import_claude = _with_database(importers.import_claude)
    import_claude_session = _with_database(importers.import_claude_session)
    import_claude_todos = _with_database(importers.import_claude_todos)
    import_beads = _with_database(importers.import_beads)
    export_board = _reads(native.export_board)
    export_format = _reads(export_formats.export_files)  # #16: beads / Backlog.md files
    import_board = _with_database(native.import_board)
