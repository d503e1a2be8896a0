"""Wake-up latency of a waiting claim: `python -m tests.bench.wake_latency [--rounds 30]
[--poll 1.0] [--backend sqlite|postgres|both] [--pg-url URL]`.

Process A (a spawned child) waits in `Deck.claim(agent, wait=60)` on one change feed; process
B (this one) commits a task A may claim, at a random moment (uniform over one poll interval)
after A has started waiting, and
notes the time its commit returned. A notes when its claim returned. The latency is the
difference (CLOCK_MONOTONIC is one clock for every process on Linux). Prints, per backend, the
median and p95 over `--rounds` wake-ups of:
  (a) the bare commit: how long B's `add_task` call took, for scale;
  (b) the waiting claim: B's commit returned -> A's claim returned;
  (c) the baseline from the same run: the same agent polling instead, `claim()` then a sleep
      of `--poll` seconds, as idle agents did before `--wait` (exit 3, sleep, try again).
and the ratio of (c) to (b). PostgreSQL runs when `--pg-url` or AGENTDECK_TEST_PG is set. A
script that prints figures, not a test (tests/cli/test_wait.py asserts the behaviour).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from agentdeck.core import Deck
from agentdeck.core.feed import ChangeFeed
from tests.bench.store import PG_ENV, postgres_schemas

BOARD = "WAKE"
HUMAN = "boss"
AGENT = "idle"
SPAWN = multiprocessing.get_context("spawn")


def waiter(db: str, mode: str, poll: float, rounds: int, pipe: Connection) -> None:
    """Process A: `rounds` times, say it is about to wait, then wait for a task (`mode`
    "feed") or poll for one every `poll` seconds ("poll"); send back when each claim returned."""
    with Deck.open(db) as deck:
        feed = ChangeFeed(deck) if mode == "feed" else None
        for _ in range(rounds):
            assert deck.claim(AGENT, board=BOARD) is None
            pipe.send("waiting")
            if mode == "feed":
                claimed = deck.claim(AGENT, board=BOARD, wait=60, feed=feed)
            else:
                while (claimed := deck.claim(AGENT, board=BOARD)) is None:
                    time.sleep(poll)
            returned = time.monotonic()
            assert claimed is not None
            deck.complete(claimed.task.key, actor=AGENT, verified_by="bench")
            pipe.send(returned)
        if feed is not None:
            feed.close()


def measure(
    db: str, token: str, mode: str, args: argparse.Namespace
) -> tuple[list[float], list[float]]:
    """(commit durations, latencies) in ms for `args.rounds` wake-ups of a waiter in `mode`."""
    ours, theirs = SPAWN.Pipe()
    child = SPAWN.Process(target=waiter, args=(db, mode, args.poll, args.rounds, theirs))
    child.start()
    commits, latencies = [], []
    with Deck.open(db) as deck:
        deck.present(token)
        for n in range(args.rounds):
            assert ours.recv() == "waiting"
            # Land anywhere in a wait, or anywhere in a poll's sleep (uniform: a fair baseline).
            time.sleep(random.uniform(0.05, 0.05 + args.poll))
            start = time.monotonic()
            deck.add_task(f"task {mode} {n}", actor=HUMAN, board=BOARD)
            committed = time.monotonic()
            returned = ours.recv()
            commits.append((committed - start) * 1000)
            latencies.append((returned - committed) * 1000)
    child.join(60)
    return commits, latencies


def fresh_board(db: str) -> str:
    """A board where `AGENT` waits for work and `HUMAN` adds it; the human's token."""
    with Deck.open(db, create=True) as deck:
        deck.create_board(BOARD, "wake-up latency", actor=HUMAN, agents="named")
        deck.add_agent(AGENT, actor=HUMAN)
        token = deck.issued_token(HUMAN, BOARD)
        assert token is not None
        return token


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run(backend: str, db_for: dict[str, str], args: argparse.Namespace) -> None:
    figures = {}
    for mode in ("feed", "poll"):
        db = db_for[mode]
        figures[mode] = measure(db, fresh_board(db), mode, args)
    commits = figures["feed"][0] + figures["poll"][0]
    feed, poll = figures["feed"][1], figures["poll"][1]
    print(f"{backend}: {args.rounds} wake-ups per mode")
    print(
        f"  (a) bare commit (B's add_task):        median {statistics.median(commits):7.1f} ms"
        f"   p95 {p95(commits):7.1f} ms"
    )
    print(
        f"  (b) waiting claim (commit -> claimed): median {statistics.median(feed):7.1f} ms"
        f"   p95 {p95(feed):7.1f} ms   max {max(feed):7.1f} ms"
    )
    print(
        f"  (c) polling every {args.poll:g} s (baseline):    median {statistics.median(poll):7.1f} ms"
        f"   p95 {p95(poll):7.1f} ms"
    )
    print(
        f"  (c)/(b): median {statistics.median(poll) / statistics.median(feed):5.1f} x"
        f"   p95 {p95(poll) / p95(feed):5.1f} x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get(PG_ENV))
    args = parser.parse_args(argv)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run("sqlite", {m: str(Path(tmp) / f"{m}.db") for m in ("feed", "poll")}, args)
    if args.backend in ("postgres", "both"):
        if not args.pg_url:
            print(f"postgres: skipped (pass --pg-url or set {PG_ENV})", file=sys.stderr)
            return 0 if args.backend == "both" else 2
        with postgres_schemas(args.pg_url) as fresh:
            run("postgres", {m: fresh(f"wake_{m}") for m in ("feed", "poll")}, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
