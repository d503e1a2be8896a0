"""Bounded answers at scale: `python -m tests.bench.aggregates [--tasks N] [--cli] [--rebuild]`.

Builds (or reuses, from a cache) a board of `--tasks` tasks (100,000 by default) and about
three events per task (created, status changes, log lines), with labels, an agent per task,
usage rows and budgets, then times, in this process, the reads that must stay flat as a
board grows: the burn-down, throughput, budget figures, the report's summary (JSON) and its
default markdown, the first and a deep page of `task list`, and `--all` streaming. Each
figure is the median of `--repeat` runs, printed with its ratio to a same-run baseline:
one pass over every task row (`SELECT sum(length(title)) FROM task`: what any read that
loads the board costs at least); `SELECT count(*)` over the task and event tables is
printed too (an index count, much cheaper).

With `--cli` it also runs `agentdeck task list --json`, `report`, `burndown` and `task list
--all --json` in fresh processes and prints each one's wall time, CPU (user + system) and
peak resident memory (`os.wait4`'s rusage of that child), the figures issue #17 states
before this work: 76 MB / 11.8 s CPU / 443 MB, 9 MB / 5.5 s / 310 MB, 1.8 s / 178 MB.

SQLite always (the board cached under `$XDG_CACHE_HOME/agentdeck-bench/`); PostgreSQL too
when AGENTDECK_TEST_PG is set (the board cached in a schema of that server). The board is
built through `Deck.import_board` (the core's bulk path: one transaction, history and
rollups included). A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from agentdeck.core import Deck

BOARD = "BIG"
HUMAN = "ann"
AGENTS = 20
LABELS = ("backend", "frontend", "infra", "docs", "bug", "perf", "security", "ux")
# 40% done, 8% in progress, 4% review, 43% pending, 5% failed: a board weeks into its work.
STATUSES = ["done"] * 40 + ["in_progress"] * 8 + ["review"] * 4 + ["pending"] * 43 + ["failed"] * 5
CACHE_VERSION = 1


def document(tasks: int, events_per_task: float = 3.0) -> dict[str, Any]:
    """An export document of `tasks` tasks and about `events_per_task` events each."""
    start = datetime.now(UTC) - timedelta(days=60)
    span = 60 * 24 * 60  # minutes of history

    def at(minute: float) -> str:
        return (start + timedelta(minutes=minute)).isoformat()

    agents: list[dict[str, Any]] = [
        {"name": f"agent-{i}", "kind": "agent", "skills": ["python"], "created_at": at(0)}
        for i in range(AGENTS)
    ]
    agents.append({"name": HUMAN, "kind": "human", "skills": [], "created_at": at(0)})
    doc_tasks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    usage: list[dict[str, Any]] = []
    target = int(tasks * events_per_task)
    for n in range(1, tasks + 1):
        status = STATUSES[n % len(STATUSES)]
        created = span * n / (tasks + 1) * 0.99
        started = created + 30 if status != "pending" else None
        finished = created + 60 + n % 600 if status in ("done", "failed") else None
        agent = f"agent-{n % AGENTS}" if status != "pending" else None
        doc_tasks.append(
            {
                "key": f"{BOARD}-{n}",
                "title": f"Task {n}: migrate module {n % 97} to the new API",
                "description": "Move the calls over and delete the shim.",
                "priority": n % 5,
                "skills": ["python"],
                "labels": [LABELS[n % len(LABELS)], *([LABELS[n % 3]] if n % 4 == 0 else [])],
                "assignee": agent,
                "status": status,
                "result": "moved and tested" if status == "done" else "",
                "verified": status == "done",
                "created_at": at(created),
                "started_at": at(started) if started is not None else None,
                "completed_at": at(finished) if finished is not None else None,
                "updated_at": at(finished or started or created),
            }
        )
        events.append(
            {
                "task": f"{BOARD}-{n}",
                "actor": HUMAN,
                "kind": "created",
                "text": "created",
                "data": {"to": "pending"},
                "created_at": at(created),
            }
        )
        if started is not None:
            events.append(
                {
                    "task": f"{BOARD}-{n}",
                    "actor": agent,
                    "kind": "status",
                    "subkind": "claimed",
                    "data": {"from": "pending", "to": "in_progress"},
                    "created_at": at(started),
                }
            )
        if finished is not None:
            events.append(
                {
                    "task": f"{BOARD}-{n}",
                    "actor": agent,
                    "kind": "status",
                    "subkind": status,
                    "data": {"from": "in_progress", "to": status},
                    "created_at": at(finished),
                }
            )
            usage.append(
                {
                    "task": f"{BOARD}-{n}",
                    "agent": agent,
                    "tokens_in": 1000 + n % 5000,
                    "tokens_out": 200 + n % 700,
                    "cost_usd": 0.01 + (n % 100) / 1000,
                    "created_at": at(finished),
                }
            )
    kinds = ("action", "tool_call", "decision", "observation")
    i = 0
    while len(events) < target:
        n = 1 + (i * 7919) % tasks
        events.append(
            {
                "task": f"{BOARD}-{n}",
                "actor": f"agent-{n % AGENTS}",
                "kind": "log",
                "subkind": kinds[i % 4],
                "text": f"step {i}: ran the tests, {i % 50} failures left",
                "created_at": at(span * n / (tasks + 1) * 0.99 + 40),
            }
        )
        i += 1
    budgets = [
        {"scope": "board", "subject": "", "metric": "cost_usd", "soft": 1e6, "hard": 2e6},
        {"scope": "board", "subject": "", "metric": "tokens", "soft": 1e10, "hard": None},
        *(
            {
                "scope": "agent",
                "subject": f"agent-{a}",
                "metric": "tokens",
                "soft": 1e9,
                "hard": None,
            }
            for a in range(AGENTS)
        ),
    ]
    return {
        "format": "agentdeck-board",
        "version": 1,
        "exported_at": at(span),
        "board": {
            "key": BOARD,
            "name": "Big board",
            "goal": "A hundred thousand tasks",
            "lease_seconds": 900,
            "created_at": at(0),
        },
        "agents": agents,
        "tasks": doc_tasks,
        "dependencies": [
            {"task": f"{BOARD}-{n}", "blocked_by": f"{BOARD}-{n - 1}"} for n in range(3, tasks, 11)
        ],
        "events": events,
        "usage": usage,
        "budgets": budgets,
        "messages": [],
        "checkpoints": [],
    }


def has_board(url: str) -> bool:
    """Whether the cached database already holds the built board."""
    try:
        with Deck.open(url) as deck:
            return any(b.key == BOARD for b in deck.list_boards())
    except Exception:
        return False


def build(url: str, tasks: int, events_per_task: float = 3.0) -> float:
    """Import the generated board (`document`) into `url`; seconds it took (document and
    import)."""
    begun = time.perf_counter()
    doc = document(tasks, events_per_task)
    with Deck.open(url, create=True) as deck:
        deck.import_board(doc, actor=HUMAN, rebase_time=True)
    return time.perf_counter() - begun


def sqlite_place(tasks: int, rebuild: bool, name: str = "aggregates") -> str:
    """The cached SQLite file of a `tasks`-task board (`name` tells benchmarks' boards apart)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agentdeck-bench"
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}-{tasks}-v{CACHE_VERSION}.db"
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return str(path)


def postgres_place(base: str, tasks: int, rebuild: bool) -> str:
    schema = f"bench_aggregates_{tasks}_v{CACHE_VERSION}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        if rebuild:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm: statement compilation and the page cache
    times = []
    for _ in range(repeat):
        begun = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begun)
    return statistics.median(times) * 1000


def drain(items: Iterator[Any]) -> int:
    return sum(1 for _ in items)


def bench_reads(name: str, url: str, repeat: int) -> None:

    with Deck.open(url) as deck:

        def counting() -> None:
            with deck.engine.connect() as conn:
                conn.execute(sa.text("SELECT count(*) FROM task")).scalar_one()
                conn.execute(sa.text("SELECT count(*) FROM event")).scalar_one()

        def scanning() -> None:
            with deck.engine.connect() as conn:
                conn.execute(sa.text("SELECT sum(length(title)) FROM task")).scalar_one()

        counted = median_ms(counting, repeat)
        base = median_ms(scanning, repeat)
        total = deck.counts(BOARD).total
        deep = deck.task_page(BOARD, limit=20).next_cursor
        for _ in range(3):  # a cursor some pages in
            deep = deck.task_page(BOARD, limit=20, cursor=deep).next_cursor
        checks: list[tuple[str, Callable[[], object]]] = [
            ("burndown", lambda: deck.burndown(BOARD)),
            ("throughput (7 days)", lambda: deck.throughput(BOARD)),
            ("cost over time (console chart)", lambda: deck.cost_over_time(BOARD)),
            (
                "budget status + usage totals",
                lambda: (deck.budget_status(BOARD), deck.usage_totals(BOARD)),
            ),
            ("report summary (JSON)", lambda: deck.report_summary(BOARD)),
            ("finished summary", lambda: deck.finished_summary(BOARD)),
            ("report (markdown, default)", lambda: deck.report(BOARD)),
            ("task list, first page", lambda: deck.task_page(BOARD, limit=20)),
            ("task list, 4th page", lambda: deck.task_page(BOARD, limit=20, cursor=deep)),
            ("ready, first page", lambda: deck.ready(BOARD, limit=21)),
        ]
        print(
            f"\n{name}: {total:,} tasks; SELECT count(*) over task and event: {counted:.1f} ms; "
            f"baseline, one pass over every task row (sum(length(title))): {base:.1f} ms"
        )
        print(f"  {'read':34} {'median':>9} {'x baseline':>11}")
        for label, fn in checks:
            ms = median_ms(fn, repeat)
            flag = "" if ms <= 100 else "  OVER 100 ms"
            print(f"  {label:34} {ms:8.1f}  {ms / base:10.2f}{flag}")
        begun = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        streamed = drain(deck.iter_tasks(BOARD))
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        took = time.perf_counter() - begun
        print(
            f"  iter_tasks (all {streamed:,}): {took:.2f} s, peak RSS grew {grew / 1024:.1f} MB "
            f"(counted {total:,})"
        )


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, stdout bytes) of one fresh CLI process."""
    with tempfile.TemporaryFile() as out:
        begun = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - begun
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err[-300:]}")
        size = out.seek(0, os.SEEK_END)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, size


def bench_cli(name: str, url: str, repeat: int) -> None:
    exe = str(Path(sys.executable).with_name("agentdeck"))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AGENTDECK_DB": url, "XDG_CONFIG_HOME": home}
        env.pop("AGENTDECK_TOKEN", None)
        print(f"\n{name}, fresh CLI processes (median of {repeat}):")
        print(f"  {'command':34} {'wall':>7} {'CPU':>7} {'peak RSS':>9} {'output':>10}")
        for label, argv in (
            ("board list --json (start-up)", ["board", "list", "--json"]),
            ("task list --json", ["task", "list", "--board", BOARD, "--json"]),
            ("report", ["report", "--board", BOARD]),
            ("report --json", ["report", "--board", BOARD, "--json"]),
            ("burndown", ["burndown", "--board", BOARD]),
            ("task list --all --json", ["task", "list", "--board", BOARD, "--all", "--json"]),
        ):
            runs = [run_child([exe, *argv], env) for _ in range(repeat)]
            wall, cpu, rss, size = (statistics.median(r[i] for r in runs) for i in range(4))
            print(f"  {label:34} {wall:6.2f}s {cpu:6.2f}s {rss:7.0f} MB {size / 1024:8.0f} KB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cli", action="store_true", help="also time fresh CLI processes")
    parser.add_argument("--rebuild", action="store_true", help="build the boards anew")
    args = parser.parse_args(argv)
    places = {"SQLite": sqlite_place(args.tasks, args.rebuild)}
    base = os.environ.get("AGENTDECK_TEST_PG")
    if base:
        places["PostgreSQL"] = postgres_place(base, args.tasks, args.rebuild)
    print(
        f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min), {os.cpu_count()} cores"
    )
    for name, url in places.items():
        if has_board(url):
            print(f"{name}: reusing the cached board")
        else:
            print(f"{name}: built {args.tasks:,} tasks in {build(url, args.tasks):.0f} s")
        bench_reads(name, url, args.repeat)
        if args.cli:
            bench_cli(name, url, max(1, args.repeat // 2 + 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
