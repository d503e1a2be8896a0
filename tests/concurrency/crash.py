"""The kill -9 loop: writers working a board are SIGKILLed at random moments and restarted.

The test runs a short loop; `python -m tests.concurrency.crash --kills 200` runs a long one and
prints what it checked. Afterwards every acknowledged write must be present, no task held by two
agents at once, and killed agents' leases recoverable; a SQLite file must also pass its own
integrity and foreign-key checks (a PostgreSQL server rolls back a killed client's transaction
and enforces foreign keys itself).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from agentdeck.core import Deck, LeaseExpiredError
from agentdeck.core.models import Event
from tests.concurrency import harness, workers

ENV_KILLS = "AGENTDECK_CRASH_KILLS"
LEASE_SECONDS = 5
LOGS_PER_TASK = 3
LOW_WATER = 150  # top the queue up when fewer ready tasks are left
TOP_UP = 300
MAX_KILL_DELAY_S = 0.1


def kills_from_env(default: int = 30) -> int:
    """How many SIGKILLs to deliver: `AGENTDECK_CRASH_KILLS`, else `default`."""
    raw = os.environ.get(ENV_KILLS, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


@dataclass
class Writer:
    """One writer slot; each restart is a new incarnation with its own acknowledgement file."""

    index: int
    incarnation: int = 0
    proc: BaseProcess | None = None
    up: Connection | None = None
    ready: bool = False


@dataclass
class CrashReport:
    kills: int
    incarnations: int
    seconds: float
    acks: Counter[str] = field(default_factory=Counter)
    events: int = 0
    recovered: list[str] = field(default_factory=list)

    def summary(self) -> str:
        acked = ", ".join(f"{n} {op}" for op, n in sorted(self.acks.items()))
        return (
            f"{self.kills} SIGKILLs over {self.incarnations} writer processes in "
            f"{self.seconds:.1f}s; acknowledged {acked}; {self.events} events; "
            f"{len(self.recovered)} expired leases recovered"
        )


def _start(w: Writer, db: str | Path, work: Path) -> None:
    w.incarnation += 1
    parent_end, child_end = harness.SPAWN.Pipe(duplex=False)
    acks = work / f"w{w.index}-{w.incarnation}.acks"
    w.proc = harness.SPAWN.Process(
        target=workers.crash_writer,
        args=(str(db), harness.agent_name(w.index), str(acks), child_end, LOGS_PER_TASK),
        name=f"writer-{w.index}-{w.incarnation}",
        daemon=True,
    )
    w.proc.start()
    child_end.close()
    w.up, w.ready = parent_end, False


def _kill(w: Writer) -> None:
    assert w.proc is not None and w.proc.pid is not None
    os.kill(w.proc.pid, signal.SIGKILL)
    w.proc.join(30)
    assert not w.proc.is_alive(), f"{w.proc.name} survived SIGKILL"
    if w.up is not None:
        w.up.close()
    w.up = None


def _wait_for_progress(writers: list[Writer], deadline: float) -> None:
    """Block until some starting writer reports its first acknowledged write (or one dies)."""
    pending = {w.up: w for w in writers if not w.ready and w.up is not None}
    sentinels = {w.proc.sentinel: w for w in writers if w.proc is not None}
    timeout = deadline - time.monotonic()
    assert timeout > 0, "the kill loop ran out of time waiting for writers to start working"
    for ready in wait([*pending, *sentinels], timeout):
        if ready in sentinels:
            w = sentinels[ready]
            assert w.proc is not None
            raise AssertionError(f"{w.proc.name} exited by itself with code {w.proc.exitcode}")
        w = pending[ready]  # type: ignore[index]
        try:
            w.ready = w.up is not None and w.up.recv() == "up"
        except EOFError:
            w.ready = False


def run_crash_loop(
    db: str | Path,
    work: Path,
    *,
    kills: int,
    writers: int = 8,
    seed: int = 0,
    budget_s: float = 600,
) -> CrashReport:
    """SIGKILL random busy writers at random moments `kills` times, restarting each one, on
    the database at `db` (a SQLite file or a database URL)."""
    rng = random.Random(seed)
    harness.make_board(db, agents=writers, tasks=TOP_UP, lease_seconds=LEASE_SECONDS)
    started = time.monotonic()
    deadline = started + budget_s
    slots = [Writer(i) for i in range(writers)]
    planned = TOP_UP
    done = incarnations = 0
    with Deck.open(db) as deck:
        for w in slots:
            _start(w, db, work)
            incarnations += 1
        try:
            while done < kills:
                busy = [w for w in slots if w.ready]
                if not busy:
                    _wait_for_progress(slots, deadline)
                    continue
                victim = rng.choice(busy)
                # The random pause is the point: it lands the kill at an arbitrary instant of
                # the victim's work, often inside a transaction.
                time.sleep(rng.uniform(0, MAX_KILL_DELAY_S))
                _kill(victim)
                done += 1
                _start(victim, db, work)
                incarnations += 1
                if deck.counts(harness.BOARD).by_column.get("ready", 0) < LOW_WATER:
                    harness.add_tasks(deck, TOP_UP, start=planned)
                    planned += TOP_UP
        finally:
            for w in slots:
                if w.proc is not None and w.proc.is_alive():
                    _kill(w)
    report = CrashReport(done, incarnations, time.monotonic() - started)
    verify(db, work, report)
    return report


# -- what must hold afterwards ----------------------------------------------------------------


def read_acks(work: Path) -> list[dict[str, Any]]:
    """Every complete acknowledgement line; a line cut short by the kill was never acknowledged."""
    acks = []
    for path in sorted(work.glob("*.acks")):
        text = path.read_text()
        lines = text.split("\n")
        acks.extend(json.loads(line) for line in lines[:-1] if line)
    return acks


def is_sqlite_file(db: str | Path) -> bool:
    return "://" not in str(db)


def check_integrity(db: str | Path) -> None:
    """SQLite's own checks of the file; nothing to do for a server."""
    if not is_sqlite_file(db):
        return
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


def check_acknowledged(acks: list[dict[str, Any]], events: list[Event]) -> None:
    """Every write a writer saw return is in the event log."""
    by_id = {e.id: e for e in events}
    claims = {(e.task, e.actor) for e in events if e.kind == "claimed"}
    usage = {(e.task, e.subkind) for e in events if e.kind == "usage"}
    completes = {
        (e.task, e.actor) for e in events if e.data.get("verb") == "complete" and e.kind == "status"
    }
    errors = [a["error"] for a in acks if a["op"] == "error"]
    assert not errors, f"writers hit {len(errors)} errors, first: {errors[0]}"
    for ack in acks:
        match ack["op"]:
            case "claim":
                assert (ack["key"], ack["agent"]) in claims, f"acknowledged claim lost: {ack}"
            case "log":
                event = by_id.get(ack["id"])
                assert event is not None, f"acknowledged log entry lost: {ack}"
                assert (event.task, event.text) == (ack["key"], ack["text"]), ack
            case "usage":
                assert (ack["key"], ack["nonce"]) in usage, f"acknowledged usage lost: {ack}"
            case "complete":
                assert (ack["key"], ack["agent"]) in completes, (
                    f"acknowledged completion lost: {ack}"
                )


def check_one_holder(events: list[Event]) -> None:
    """Each task's status moves chain (from == previous to): never claimed while held."""
    status: dict[str, str] = defaultdict(lambda: "pending")
    for e in events:
        if e.task is None or "from" not in e.data or "to" not in e.data:
            continue
        assert e.data["from"] == status[e.task], (
            f"{e.task}: {e.kind} from {e.data['from']} while it was {status[e.task]} (event {e.id})"
        )
        status[e.task] = e.data["to"]
    completed = Counter(e.task for e in events if e.data.get("verb") == "complete")
    assert max(completed.values(), default=0) <= 1, "a task was completed twice"


def check_lease_recovery(db: str | Path) -> list[str]:
    """Past the lease, the killed writers' tasks go back to the queue and their holders are
    refused."""
    with Deck.open(db) as deck:
        held = deck.list_tasks(harness.BOARD, status="in_progress")
    assert held, "no writer held a task when it was killed; the recovery check would be empty"
    # Past the lease: this machine's clock on SQLite, the server's on PostgreSQL.
    ahead = timedelta(seconds=LEASE_SECONDS + 1)
    later = deck.now() + ahead
    with Deck.open(db, clock=lambda: later, server_clock_offset_for_tests=lambda: ahead) as future:
        recovered = future.expire_leases(harness.BOARD)
        assert sorted(recovered) == sorted(t.key for t in held)
        ready = {t.key for t in future.list_tasks(harness.BOARD, column="ready")}
        assert {t.key for t in held} <= ready
        victim = held[0]
        assert victim.assignee is not None
        try:
            future.log(victim.key, "too late", actor=victim.assignee)
        except LeaseExpiredError:
            pass
        else:
            raise AssertionError(f"a late log from {victim.assignee} on {victim.key} was accepted")
        other = "w0" if victim.assignee != "w0" else "w1"
        claim = future.claim(other, board=harness.BOARD, key=victim.key)
        assert claim is not None and claim.task.assignee == other
    return recovered


def verify(db: str | Path, work: Path, report: CrashReport) -> None:
    check_integrity(db)
    acks = read_acks(work)
    report.acks = Counter(a["op"] for a in acks)
    with Deck.open(db) as deck:
        events = harness.all_events(deck)
    report.events = len(events)
    check_acknowledged(acks, events)
    check_one_holder(events)
    report.recovered = check_lease_recovery(db)
    check_integrity(db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=kills_from_env(200))
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="agentdeck-crash-") as tmp:
        work = Path(tmp)
        report = run_crash_loop(
            work / "board.db", work, kills=args.kills, writers=args.writers, seed=args.seed
        )
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
