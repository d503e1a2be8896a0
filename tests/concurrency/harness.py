"""Shared parts of the multi-process tests: a board to fight over, and waiting on processes.

Children are started with the "spawn" method so none of them inherits a parent's connection;
each opens its own `Deck` on the same SQLite file.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from agentdeck.core import Deck
from agentdeck.core.models import Event
from tests.concurrency import workers

SPAWN = multiprocessing.get_context("spawn")
BOARD = "RUN"
HUMAN = "boss"
PLANNER = "planner"  # the lead agent, who plans the work (by name: the board is in named mode)
PLAN_CHUNK = 2000
ENV_DRAIN_TASKS = "AGENTDECK_DRAIN_TASKS"


def drain_tasks(default: int) -> int:
    """How many tasks a drain test races over: `AGENTDECK_DRAIN_TASKS` for a long run (the
    first wave measured 2,000), else `default`, sized so CI stays within its time."""
    raw = os.environ.get(ENV_DRAIN_TASKS, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def agent_name(i: int) -> str:
    return f"w{i}"


def make_board(path: str | Path, *, agents: int, tasks: int, lease_seconds: int = 900) -> str:
    """A board with `agents` agents (w0, w1, ...) and `tasks` ready tasks, in plan chunks, in
    the database at `path` (a SQLite file or a database URL); the human's token.

    The board is in `named` mode on both backends: these runs measure writes racing, and the
    worker processes act by name (credentials have their own tests, tests/hardening)."""
    with Deck.open(path, create=True) as deck:
        deck.create_board(
            BOARD,
            "concurrency run",
            actor=HUMAN,
            lead=PLANNER,
            lease_seconds=lease_seconds,
            agents="named",
        )
        for i in range(agents):
            deck.add_agent(agent_name(i), actor=HUMAN)
        add_tasks(deck, tasks)
        token = deck.issued_token(HUMAN, BOARD)
        assert token is not None
        return token


_VERBS = ("add", "fix", "test", "port", "tune", "document", "refactor", "profile", "review")
_NOUNS = ("parser", "login", "cache", "schema", "exporter", "scheduler", "billing", "search")


def title(n: int) -> str:
    """A varied task title, so the knowledge index ranks a realistic share of finished tasks."""
    return f"{_VERBS[n % len(_VERBS)]} {_NOUNS[n // len(_VERBS) % len(_NOUNS)]} {n}"


def add_tasks(deck: Deck, count: int, *, start: int = 0) -> None:
    """Plan `count` more ready tasks, at most `PLAN_CHUNK` per transaction."""
    for first in range(start, start + count, PLAN_CHUNK):
        last = min(first + PLAN_CHUNK, start + count)
        deck.plan([{"title": title(n)} for n in range(first, last)], actor=PLANNER, board=BOARD)


def all_events(deck: Deck) -> list[Event]:
    """Every event of the database, oldest first, read page by page through the cursor."""
    events: list[Event] = []
    cursor = 0
    while page := deck.events_since(cursor, limit=1000):
        events.extend(page)
        cursor = page[-1].id
    return events


def join_all(procs: Iterable[BaseProcess], timeout: float) -> None:
    """Wait for every process to exit by a deadline; kill stragglers and fail if one hangs."""
    deadline = time.monotonic() + timeout
    hung = []
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            hung.append(proc.name)
            proc.kill()
            proc.join()
    assert not hung, f"processes still running after {timeout:g}s: {hung}"


def read_result(path: Path) -> dict[str, Any]:
    """The JSON summary a child wrote as its last act."""
    assert path.exists(), f"{path.name} missing: the child died before reporting"
    return json.loads(path.read_text())


def spend_race(
    db: str,
    out_dir: Path,
    *,
    agents: int,
    limit: float,
    per_call: int,
    calls: int,
    obey: bool = True,
) -> list[dict[str, Any]]:
    """A fresh board in `db` with a hard board token budget of `limit`, each of `agents` agents
    holding a task and looping log, usage (`per_call` tokens) and heartbeat at once until it is
    stopped (see `workers.spend_until_stopped`); returns their reports."""
    boss = make_board(db, agents=agents, tasks=agents)
    with Deck.open(db) as deck:
        deck.present(boss)
        deck.set_budget("tokens", actor=HUMAN, hard=limit)
    gate = SPAWN.Barrier(agents)
    outs = [out_dir / f"spend-{i}.json" for i in range(agents)]
    procs = [
        SPAWN.Process(
            target=workers.spend_until_stopped,
            args=(db, agent_name(i), f"{BOARD}-{i + 1}", per_call, calls, gate, str(out), obey),
        )
        for i, out in enumerate(outs)
    ]
    for proc in procs:
        proc.start()
    join_all(procs, timeout=300)  # a hang guard, not a timing
    assert [p.exitcode for p in procs] == [0] * agents
    return [read_result(out) for out in outs]


def usage_after_crossing(events: list[Event]) -> Counter[str]:
    """Usage calls per agent committed after the one that spent the hard budget."""
    crossing = next(e for e in events if (e.kind, e.subkind) == ("budget", "hard"))
    crossed = next(e for e in events if e.kind == "usage" and e.id > crossing.id)
    return Counter(e.actor for e in events if e.kind == "usage" and e.id > crossed.id)
