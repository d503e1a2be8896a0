"""WAL growth soak: `python -m tests.hardening.wal_soak [--minutes 10 | --seconds S] [--writers 8]`.

With the console open on a board and N writer processes working it, the database's `-wal` file
must stay under 64 MiB. Readers pin the WAL (a checkpoint cannot copy past the oldest reader's
snapshot, and the WAL only starts over when no reader is in it), so the console is the real app,
headless (Textual's `run_test`) in its own process, watching the file and refreshing the board
and its charts panel as fast as it does for a person. The writers run the benchmark's agent mix
(`tests.bench.mix`: claim, 10 log entries, usage, complete) until time is up; a feeder in this
process plans more tasks whenever fewer than a few dozen are ready, as a lead agent would.

The `-wal` size is sampled every second. SQLite never shrinks the file below its high-water
mark except to `journal_size_limit` (64 MiB), so a WAL that once passed the limit is seen at the
limit by the next sample. Printed: max and p95 WAL size, committed operations/s, WAL restarts
(each follows a complete checkpoint; read from the WAL header's salt), the console's refreshes,
how long its read transactions stayed open and how late its event loop ran, errors, and the
load average (the machine may be shared). Exits 1 if the WAL reached 64 MiB or anything failed
(a console that does not shut down within a minute included). `run_soak` is what
`test_wal_growth.py` runs, shorter.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import os
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from agentdeck.core import Deck
from tests.bench import mix
from tests.concurrency import harness

LIMIT_BYTES = 64 * 1024 * 1024
MIB = 1024 * 1024
CHUNK_TASKS = 5  # tasks a writer works per `mix.deck_writer` call, between deadline checks
READY_LOW = 40  # the feeder plans more when fewer tasks than this are ready
PLAN_MORE = 200
CONSOLE_SIZE = (160, 48)
TICK_S = 0.25  # the console process checks for the stop signal this often
EXIT_GRACE_S = 60.0


@dataclass
class SoakResult:
    """What one soak measured."""

    seconds: float
    writers: int
    ops: int
    wal_samples: list[int] = field(default_factory=list)
    wal_restarts: int = 0
    wal_truncations: int = 0
    console_refreshes: int = 0
    console_reads: list[float] = field(default_factory=list)
    console_lags: list[float] = field(default_factory=list)
    console_refresh_ui: float = 0.0
    console_exit_seconds: float = 0.0
    console_stacks: str = ""  # the console's threads, if it hung shutting down
    planned: int = 0
    errors: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def wal_max(self) -> int:
        return max(self.wal_samples, default=0)

    @property
    def wal_p95(self) -> int:
        ordered = sorted(self.wal_samples) or [0]
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

    @property
    def ok(self) -> bool:
        return self.wal_max < LIMIT_BYTES and not self.errors


# -- the writers -------------------------------------------------------------------------------


class _OpenGate:
    """A start gate that is already open: `mix.deck_writer` waits on one per call."""

    def wait(self, timeout: float | None = None) -> bool:
        return True


class _Tally:
    """Collects what successive `mix.deck_writer` calls report (it puts one dict per call)."""

    def __init__(self) -> None:
        self.ops = 0
        self.errors: list[str] = []

    def put(self, result: dict[str, Any]) -> None:
        self.ops += result["ops"]
        self.errors.extend(result["errors"])


def soak_writer(db: str, agent: str, seconds: float, gate: Event, stop: Event, out: str) -> None:
    """Work the mix in chunks until `seconds` have passed (or `stop` is set); report ops and
    errors to `out`."""
    gate.wait()
    tally = _Tally()
    start = time.monotonic()
    while time.monotonic() - start < seconds and len(tally.errors) < mix.MAX_ERRORS:
        if stop.is_set():
            break
        before = tally.ops
        mix.deck_writer(db, agent, CHUNK_TASKS, _OpenGate(), tally)
        if tally.ops - before < CHUNK_TASKS * mix.OPS_PER_TASK:
            stop.wait(0.05)  # nothing ready just now: the feeder is planning more
    elapsed = time.monotonic() - start
    result = {"ops": tally.ops, "errors": tally.errors, "seconds": elapsed}
    Path(out).write_text(json.dumps(result))


# -- the console -------------------------------------------------------------------------------


class _ReadTimes:
    """How long each of the console's transactions stays open: each one pins the WAL."""

    def __init__(self, engine: sa.Engine) -> None:
        self.seconds: list[float] = []
        sa.event.listen(engine, "begin", self._begin)
        sa.event.listen(engine, "commit", self._end)
        sa.event.listen(engine, "rollback", self._end)

    def _begin(self, conn: sa.Connection) -> None:
        conn.info["soak_begun"] = time.perf_counter()

    def _end(self, conn: sa.Connection) -> None:
        begun = conn.info.pop("soak_begun", None)
        if begun is not None:
            self.seconds.append(time.perf_counter() - begun)


def console_reader(db: str, ready: Event, stop: Event, out: str) -> None:
    """The real console over `db`, headless, live, charts shown, until `stop` is set."""
    asyncio.run(_console_reporting_errors(db, ready, stop, Path(out)))


async def _console_reporting_errors(db: str, ready: Event, stop: Event, out: Path) -> None:
    """`_console`, leaving the traceback of anything it raises beside `out` (if the console's
    threads then keep the process alive, it is all the caller gets)."""
    try:
        await _console(db, ready, stop, out)
    except BaseException:
        out.with_suffix(".error").write_text(traceback.format_exc())
        raise


async def _console(db: str, ready: Event, stop: Event, out: Path) -> None:
    from agentdeck.tui.console.app import AgentDeckApp
    from agentdeck.tui.console.screens.board import BoardScreen

    errors: list[str] = []
    app = AgentDeckApp(db=db, actor=harness.HUMAN, watch=True)
    shown = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("severity") == "error":
            errors.append(message)  # every error the console shows, however briefly
        shown(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    refreshes, lags, refresh_ui = 0, [], 0.0
    async with app.run_test(size=CONSOLE_SIZE) as pilot:
        while not (isinstance(app.screen, BoardScreen) and app.screen.cursor >= 0):
            await pilot.pause(0.05)
        board = app.screen
        reads = _ReadTimes(app.deck.engine)
        await pilot.press("b")  # the charts panel: burn-down and budgets reload every 2 s
        ready.set()
        cursor = board.cursor
        while not stop.is_set():
            asked = time.monotonic()
            await pilot.pause(TICK_S)
            lags.append(time.monotonic() - asked - TICK_S)  # how late the event loop woke us
            if board.cursor != cursor:
                refreshes += 1
                cursor = board.cursor
                refresh_ui = max(refresh_ui, board.refresh_ui_seconds)
        seen = {
            "refreshes": refreshes,
            "errors": errors,
            "reads": reads.seconds,
            "lags": lags,
            "refresh_ui": refresh_ui,
            "app_running": app.is_running,
        }
        out.write_text(json.dumps(seen))  # before shutting down, which is timed by the caller
        # If shutting down hangs, leave the threads' stacks for the report.
        stacks = out.with_suffix(".stacks").open("w")
        faulthandler.dump_traceback_later(EXIT_GRACE_S / 2, file=stacks)
    faulthandler.cancel_dump_traceback_later()


# -- watching the WAL --------------------------------------------------------------------------


def wal_state(db: Path) -> tuple[int, int | None]:
    """The `-wal` file's size, and the first salt of its header (None if no header yet).

    SQLite adds one to that salt each time the WAL starts over from its beginning, which it
    does only after a checkpoint copied every frame back and no reader still needs them.
    """
    wal = db.with_name(db.name + "-wal")
    try:
        with wal.open("rb") as f:
            header = f.read(20)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return 0, None
    salt = int.from_bytes(header[16:20], "big") if len(header) == 20 else None
    return size, salt


def restarts_between(before: int | None, after: int | None) -> int:
    """WAL restarts between two salts (a new WAL file has a random salt: counted as one)."""
    if before is None or after is None or before == after:
        return 0
    steps = (after - before) % 2**32
    return steps if steps < 1_000_000 else 1


def run_soak(folder: Path, *, seconds: float, writers: int, console: bool = True) -> SoakResult:
    """Create a board in `folder`, run the console and `writers` writers for `seconds`, and
    sample the WAL every second."""
    db = folder / "soak.db"
    harness.make_board(db, agents=writers, tasks=writers * CHUNK_TASKS * 4)
    result = SoakResult(seconds=seconds, writers=writers, ops=0, load_before=os.getloadavg())
    gate, ready, stop = harness.SPAWN.Event(), harness.SPAWN.Event(), harness.SPAWN.Event()
    console_out = folder / "console.json"
    outs = [folder / f"writer{i}.json" for i in range(writers)]
    workers = [
        harness.SPAWN.Process(
            target=soak_writer,
            args=(str(db), harness.agent_name(i), seconds, gate, stop, str(out)),
        )
        for i, out in enumerate(outs)
    ]
    procs = list(workers)
    if console:
        procs.append(
            harness.SPAWN.Process(
                target=console_reader, args=(str(db), ready, stop, str(console_out))
            )
        )
    for proc in procs:
        proc.start()
    try:
        if console and not ready.wait(120):
            raise RuntimeError("the console did not show the board within 120 s")
        _sample_and_feed(db, result, gate, seconds, workers)
    finally:
        stop.set()
        gate.set()
        harness.join_all(workers, timeout=120)
        if console:
            _join_console(procs[-1], result, folder)
    for out in outs:
        done = harness.read_result(out)
        result.ops += done["ops"]
        result.errors += [f"writer: {e}" for e in done["errors"]]
    if console:
        seen = harness.read_result(console_out)
        result.console_refreshes = seen["refreshes"]
        result.console_reads = seen["reads"]
        result.console_lags = seen["lags"]
        result.console_refresh_ui = seen["refresh_ui"]
        if not seen["app_running"]:
            result.errors.append("console: the app had stopped before the end of the soak")
        result.errors += [f"console: {e}" for e in seen["errors"]]
    result.load_after = os.getloadavg()
    return result


def _join_console(proc: Any, result: SoakResult, result_folder: Path) -> None:
    """Wait for the console to shut down; one that does not within `EXIT_GRACE_S` is killed
    and counted as an error."""
    told = time.monotonic()
    proc.join(EXIT_GRACE_S)
    result.console_exit_seconds = time.monotonic() - told
    if proc.is_alive():
        proc.kill()
        proc.join()
        result.errors.append(f"console: still running {EXIT_GRACE_S:g} s after told to stop")
    for name in ("console.error", "console.stacks"):
        if (result_folder / name).exists():
            result.console_stacks += (result_folder / name).read_text()


def _sample_and_feed(
    db: Path, result: SoakResult, gate: Event, seconds: float, writers: list[Any]
) -> None:
    """Once a second until the writers are done: sample the WAL, and plan more tasks when few
    are ready."""
    tick = threading.Event()  # never set: the sampling clock
    with Deck.open(db) as deck:
        gate.set()
        start = time.monotonic()
        _, last_salt = wal_state(db)
        n = 0
        while any(p.is_alive() for p in writers):
            size, salt = wal_state(db)
            if result.wal_samples and size < result.wal_samples[-1]:
                result.wal_truncations += 1  # only a checkpoint that empties it shrinks the file
            result.wal_samples.append(size)
            result.wal_restarts += restarts_between(last_salt, salt)
            last_salt = salt if salt is not None else last_salt
            if time.monotonic() - start < seconds:
                ready = deck.counts(harness.BOARD).by_column.get("ready", 0)
                if ready < READY_LOW:
                    harness.add_tasks(deck, PLAN_MORE, start=10_000_000 + result.planned)
                    result.planned += PLAN_MORE
            n += 1
            tick.wait(max(0.0, start + n - time.monotonic()))


def _reads(result: SoakResult) -> str:
    reads = sorted(result.console_reads)
    if not reads:
        return "no console transactions"
    p99 = reads[min(len(reads) - 1, int(0.99 * len(reads)))]
    share = sum(reads) / result.seconds if result.seconds else 0.0
    return (
        f"{len(reads)} console transactions, p99 {p99 * 1000:.0f} ms, max {reads[-1] * 1000:.0f} "
        f"ms, open {100 * share:.0f}% of the time"
    )


def _lags(result: SoakResult) -> str:
    lags = sorted(result.console_lags)
    if not lags:
        return "event loop not measured"
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
    p50, top = lags[len(lags) // 2], lags[-1]
    return (
        f"event-loop lag p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {top * 1000:.0f} ms"
    )


def report(result: SoakResult) -> str:
    def load(avg: tuple[float, float, float]) -> str:
        return " ".join(f"{x:.2f}" for x in avg)

    rate = result.ops / result.seconds if result.seconds else 0.0
    lines = [
        f"WAL soak: console + {result.writers} writers for {result.seconds:g} s "
        f"({os.cpu_count()} CPUs)",
        f"  wal max {result.wal_max / MIB:.1f} MiB, p95 {result.wal_p95 / MIB:.1f} MiB "
        f"(limit {LIMIT_BYTES / MIB:.0f} MiB), {len(result.wal_samples)} samples",
        f"  WAL restarts (after complete checkpoints): {result.wal_restarts}; the file seen "
        f"truncated {result.wal_truncations} times (agentdeck.core.storage.wal_checkpoint)",
        f"  committed ops: {result.ops} ({rate:.0f} ops/s); tasks planned by the feeder: "
        f"{result.planned}",
        f"  console refreshes applied: {result.console_refreshes}; {_reads(result)}",
        f"  console {_lags(result)}; slowest refresh on the UI thread "
        f"{result.console_refresh_ui * 1000:.0f} ms; shut down in "
        f"{result.console_exit_seconds:.1f} s",
        f"  load average before {load(result.load_before)}, after {load(result.load_after)}",
        f"  errors: {len(result.errors)}",
    ]
    lines += [f"    {e}" for e in result.errors[:20]]
    lines.append("OK" if result.ok else "FAILED")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=None, help="overrides --minutes")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--no-console", action="store_true", help="writers only, for comparison")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="wal-soak-") as folder:
        result = run_soak(
            Path(folder), seconds=seconds, writers=args.writers, console=not args.no_console
        )
    print(report(result))
    if result.console_stacks:
        print(
            "the console shutting down (its error, or its threads if it hung):\n"
            + result.console_stacks
        )
    raise SystemExit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
