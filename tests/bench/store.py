"""Store benchmark: `python -m tests.bench.store [--quick] [--tasks N] [--writers N]
[--backend sqlite|postgres|both] [--pg-url URL] [--pg-writers N]`.

Prints, from one run on this machine:
  (a) committed operations/s through `Deck` with N writer processes doing the agent mix
      (claim, 10 log entries, 1 usage record, complete = 13 committed operations per task);
      with `--backend both`, on SQLite and on PostgreSQL (`--pg-writers`, default the same
      N), and the PostgreSQL/SQLite ratio;
  (b) the same mix as hand-written SQL through the stdlib `sqlite3` module, and the ratio,
      three ways: with the same checks and upkeep as `Deck` (authentication, holder and lease
      checks, hard budgets, lease sweeps and renewals, usage counted once, budget totals,
      blocker counts, the flow rollup, the knowledge index, the inbox and similar tasks of a
      claim), the honest comparison, waiting for the write lock in SQLite's busy handler as
      plain `sqlite3` code does, and again queued on an `flock` as `Deck` is; and the writes
      alone, the floor (see `mix`);
  (c) claim latency with N pending tasks, at the SQL level (the claim's UPDATE … RETURNING,
      timed around the cursor) and for the whole `deck.claim` call;
  (d) status-count time (`deck.counts`) at N tasks;
  (e) event ingestion: bulk (`import_board` of an exported board) and one `deck.log` at a time.
Targets: >= 2,000 ops/s through Deck with 8 writers and 0 errors, and at least 0.6 of the
hand-written mix with the same checks; claim p99 < 1 ms at the SQL level; status counts
< 10 ms at 100,000 tasks. A script that prints figures, not a test.

`--backend sqlite` (the default) measures SQLite files as above. `postgres` runs (a), (c), (d)
and (e) through `Deck` on the server at `--pg-url` (default: AGENTDECK_TEST_PG); `both` runs
everything on SQLite plus (a) on PostgreSQL. PostgreSQL runs use fresh schemas, dropped at the
end; their boards are in `token` mode, so each writer presents its agent's token. A server on
this machine shares its CPUs with the writers, and its CPU is not counted in the writers' CPU
per operation.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from agentdeck.core import Deck
from tests.bench import mix
from tests.concurrency.harness import title

SPAWN_CTX = "spawn"
BOARD = "BENCH"
HUMAN = "bench"
PLAN_CHUNK = 2000
PG_ENV = "AGENTDECK_TEST_PG"

# A place for one database: given a name, a fresh SQLite path or PostgreSQL schema URL.
Fresh = Callable[[str], str]


@contextmanager
def postgres_schemas(base: str) -> Iterator[Fresh]:
    """Fresh schemas on the server at `base`, each reached through a search_path URL; all
    dropped when the block ends."""
    engine = sa.create_engine(base)
    made: list[str] = []

    def fresh(name: str) -> str:
        schema = f"bench_{name.replace('-', '_').lower()}_{uuid.uuid4().hex[:8]}"
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"

    try:
        yield fresh
    finally:
        with engine.begin() as conn:
            for schema in made:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


# The credentials each benchmark database's members were given, by database and name.
TOKENS: dict[str, dict[str, str]] = {}


def new_board(db: str | Path, *, agents: int, tasks: int) -> float:
    """A board with agents a0.. and `tasks` ready tasks; returns seconds spent planning.
    The members' tokens are kept in `TOKENS[str(db)]`."""
    with Deck.open(db, create=True) as deck:
        deck.create_board(BOARD, "benchmark", actor=HUMAN)
        for i in range(agents):
            deck.add_agent(f"a{i}", actor=HUMAN)
        names = [HUMAN, *(f"a{i}" for i in range(agents))]
        TOKENS[str(db)] = {n: t for n in names if (t := deck.issued_token(n, BOARD)) is not None}
        start = time.perf_counter()
        for first in range(0, tasks, PLAN_CHUNK):
            count = min(PLAN_CHUNK, tasks - first)
            deck.plan([{"title": title(first + n)} for n in range(count)], actor=HUMAN)
        return time.perf_counter() - start


def open_as(db: str, name: str) -> Deck:
    """The benchmark database, acting with member `name`'s credential."""
    deck = Deck.open(db)
    token = TOKENS.get(db, {}).get(name)
    if token is not None:
        deck.present(token)
    return deck


def run_mix(
    db: str | Path, writer: Callable[..., None], writers: int, per_writer: int
) -> dict[str, Any]:
    """Start `writers` processes on the mix, open the gate at once, and total what they did."""
    import multiprocessing

    ctx = multiprocessing.get_context(SPAWN_CTX)
    gate, results = ctx.Event(), ctx.Queue()
    tokens = TOKENS.get(str(db), {})
    procs = [
        ctx.Process(
            target=writer,
            args=(str(db), f"a{i}", per_writer, gate, results, tokens.get(f"a{i}")),
        )
        for i in range(writers)
    ]
    for proc in procs:
        proc.start()
    gate.set()  # each writer has opened its database and waits here before starting its clock
    done = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(60)
    ops = sum(r["ops"] for r in done)
    span = max(r["end"] for r in done) - min(r["start"] for r in done)
    errors = [e for r in done for e in r["errors"]]
    cpu = sum(r["cpu"] for r in done)
    return {
        "ops": ops,
        "seconds": span,
        "rate": ops / span,
        "errors": errors,
        "cpu_per_op": cpu / ops,
    }


def start_writer(db: str) -> float:
    """Start the resident writer of `db` before the clock (a0's heartbeat goes through it, so
    it has started and warmed up); the CPU seconds that took it."""
    with open_as(db, "a0") as deck:
        assert deck.use_resident_writer()
        deck.heartbeat("a0")
    return writer_cpu(Path(db))


def writer_cpu(db: Path) -> float:
    """CPU seconds used so far by the resident writer of `db` (0 if none runs)."""
    from agentdeck.core.storage.resident_writer import writer_pid

    pid = writer_pid(db)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def stop_writer(db: Path) -> float:
    """Stop the resident writer of `db` (SIGTERM); the CPU seconds it used in all."""
    import signal

    from agentdeck.core.storage.resident_writer import writer_pid

    cpu, pid = writer_cpu(db), writer_pid(db)
    if pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    return cpu


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def sql_timer(engine: sa.Engine, match: Callable[[str], bool]) -> Iterator[list[float]]:
    """Seconds each matching statement spent in the driver's execute, collected while open."""
    timings: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if match(statement):
            timings.append(time.perf_counter() - conn.info.pop("bench_t0"))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield timings
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def is_claim_sql(statement: str) -> bool:
    return statement.lstrip().startswith("UPDATE task") and "RETURNING" in statement


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def bench_mix(
    places: dict[str, Fresh], writers: int, per_writer: int, pg_writers: int | None = None
) -> dict[str, str]:
    """(a) on each backend in `places`, and (b) on SQLite; returns each backend's Deck database."""
    print(
        f"(a/b) agent mix: {writers} writer processes x {per_writer} tasks x 13 operations "
        f"({os.cpu_count()} CPUs, load average {_load()} before the run)"
    )
    runs = {
        "sqlite": (
            ("Deck", mix.deck_writer),
            ("Deck, resident writer", mix.resident_writer),
            ("sqlite3 same checks", mix.guarded_writer),
            ("sqlite3 same checks+flock", mix.locked_writer),
            ("sqlite3 writes only", mix.sqlite_writer),
        ),
        "postgres": (("Deck on PostgreSQL", mix.deck_writer),),
    }
    rates: dict[str, float] = {}
    decks: dict[str, str] = {}
    for backend, fresh in places.items():
        count = (pg_writers or writers) if backend == "postgres" else writers
        for name, writer in runs[backend]:
            db = fresh("mix-" + "-".join(name.replace("+", " ").split()))
            new_board(db, agents=count, tasks=count * per_writer)
            started = start_writer(db) if writer is mix.resident_writer else 0.0
            r = run_mix(db, writer, count, per_writer)
            if writer is mix.resident_writer:
                # Its CPU is the writers' too: count what the run cost it, then stop it.
                r["writer_cpu_per_op"] = (stop_writer(Path(db)) - started) / r["ops"]
                r["cpu_per_op"] += r["writer_cpu_per_op"]
            rates[name] = r["rate"]
            if writer is mix.deck_writer:
                decks[backend] = db
            print(
                f"  {name:26s} {r['rate']:8.0f} committed ops/s  ({count} writers, {r['ops']} ops"
                f" in {r['seconds']:.2f}s, {len(r['errors'])} errors, "
                f"{r['cpu_per_op'] * 1e6:.0f} us of writer CPU per op; load {_load()})"
            )
            if "writer_cpu_per_op" in r:
                print(
                    f"{'':28s}(of the CPU per op, {r['writer_cpu_per_op'] * 1e6:.0f} us in the writer)"
                )
            for error in r["errors"][:3]:
                print(f"           error: {error}")
        if backend == "sqlite":
            for deck in ("Deck", "Deck, resident writer"):
                for base in (
                    "sqlite3 same checks",
                    "sqlite3 same checks+flock",
                    "sqlite3 writes only",
                ):
                    print(f"  ratio {deck}/{base}: {rates[deck] / rates[base]:.2f}")
    if len(places) > 1:
        ratio = rates["Deck on PostgreSQL"] / rates["Deck"]
        print(
            f"  ratio PostgreSQL ({pg_writers or writers} writers)/SQLite ({writers} writers) "
            f"through Deck: {ratio:.2f}"
        )
    return decks


def bench_big_board(fresh: Fresh, tasks: int, claims: int, counts: int) -> None:
    db = fresh("big")
    planned = new_board(db, agents=4, tasks=tasks)
    print(f"(c/d) board of {tasks} pending tasks (planned in {planned:.1f}s)")
    with open_as(db, "a0") as deck:
        deck.claim("a0")  # warm caches and statement compilation
        whole: list[float] = []
        with sql_timer(deck.engine, is_claim_sql) as sql:
            for _ in range(claims):
                start = time.perf_counter()
                deck.claim("a0")
                whole.append(time.perf_counter() - start)
        print(
            f"  claim, SQL UPDATE…RETURNING: p50 {ms(pct(sql, 0.5))}  p99 {ms(pct(sql, 0.99))}  "
            f"max {ms(max(sql))}  ({len(sql)} claims)"
        )
        print(
            f"  claim, whole deck.claim():   p50 {ms(pct(whole, 0.5))}  p99 {ms(pct(whole, 0.99))}"
            f"  max {ms(max(whole))}"
        )
        deck.counts(BOARD)
        times: list[float] = []
        for _ in range(counts):
            start = time.perf_counter()
            by_column = deck.counts(BOARD).by_column
            times.append(time.perf_counter() - start)
        print(
            f"  deck.counts() at {sum(by_column.values())} tasks: p50 {ms(pct(times, 0.5))}  "
            f"p99 {ms(pct(times, 0.99))}  max {ms(max(times))}  {by_column}"
        )


def bench_ingest(db: str, log_rows: int) -> None:
    with open_as(db, HUMAN) as deck:
        doc = deck.export_board(BOARD)
        events = len(doc["events"])
        start = time.perf_counter()
        deck.import_board(doc, actor=HUMAN, key="COPY")
        took = time.perf_counter() - start
        print(
            f"(e) bulk ingestion: import_board of {events} events (+{len(doc['tasks'])} tasks): "
            f"{events / took:.0f} event rows/s ({took:.2f}s for the whole import)"
        )
        target = deck.plan([{"title": "log target"}], actor=HUMAN, board=BOARD)[0]
    with open_as(db, "a0") as deck:
        claim = deck.claim("a0", key=target.key)
        assert claim is not None
        start = time.perf_counter()
        for i in range(log_rows):
            deck.log(claim.task.key, f"entry {i}", actor="a0")
        took = time.perf_counter() - start
        print(f"    one deck.log() per transaction, 1 process: {log_rows / took:.0f} rows/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="agentdeck store benchmark")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=None, help="tasks per writer (mix)")
    parser.add_argument("--tasks", type=int, default=None, help="pending tasks for (c) and (d)")
    parser.add_argument("--claims", type=int, default=None, help="claims timed in (c)")
    parser.add_argument("--skip-big", action="store_true", help="skip (c) and (d)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument(
        "--pg-writers", type=int, default=None, help="writers on PostgreSQL (default: --writers)"
    )
    parser.add_argument("--skip-ingest", action="store_true", help="skip (e)")
    parser.add_argument(
        "--pg-url", default=os.environ.get(PG_ENV), help=f"PostgreSQL server (default: ${PG_ENV})"
    )
    args = parser.parse_args(argv)
    if args.backend != "sqlite" and not args.pg_url:
        parser.error(f"--backend {args.backend} needs --pg-url or {PG_ENV}")
    per_writer = args.per_writer or (10 if args.quick else 60)
    tasks = args.tasks or (10_000 if args.quick else 100_000)
    claims = args.claims or (300 if args.quick else 2000)
    with (
        tempfile.TemporaryDirectory(prefix="agentdeck-bench-") as tmp,
        postgres_schemas(args.pg_url) if args.backend != "sqlite" else _no_server() as on_pg,
    ):
        work = Path(tmp)
        places: dict[str, Fresh] = {}
        if args.backend != "postgres":
            places["sqlite"] = lambda name: str(work / f"{name}.db")
        if on_pg is not None:
            places["postgres"] = on_pg
        decks = bench_mix(places, args.writers, per_writer, args.pg_writers)
        # The rest on SQLite, or on PostgreSQL when that is the only backend asked for.
        main_backend = "postgres" if args.backend == "postgres" else "sqlite"
        if not args.skip_big:
            bench_big_board(places[main_backend], tasks, claims, 50 if args.quick else 200)
        if not args.skip_ingest:
            bench_ingest(decks[main_backend], 300 if args.quick else 2000)
    return 0


@contextmanager
def _no_server() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
