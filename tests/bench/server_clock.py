"""Server-clock benchmark: `python -m tests.bench.server_clock [--pg-url URL] [--rounds N]
[--tasks N]`.

What taking each transaction's time from the PostgreSQL server (`SELECT now()`, one round trip,
only in transactions that ask for the time) costs the verbs agents run, against the same verbs
with the time read from this machine's clock (how agentdeck worked before), in the same run on
the same database. Prints, per mode and verb, the median time per call over `--rounds` rounds
(modes alternate round by round, so drift on a shared machine hits both), and the ratio.

  (a) one `SELECT now()` round trip on the driver, for scale;
  (b) an agent's task: claim by key, 3 log entries, complete (5 write transactions);
  (c) `get_task` (a read that needs the time, for the lease's staleness);
  (d) `max_event_id` (a read that does not: it must cost the same in both modes).

The server defaults to AGENTDECK_TEST_PG; the run uses a fresh schema, dropped at the end. A
script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

from agentdeck.core import Deck
from agentdeck.core.storage.database import _SERVER_NOW
from tests.bench.store import PG_ENV, postgres_schemas

BOARD = "CLK"
MODES = ("server", "machine")
WARM_UP = 3


def use_mode(deck: Deck, mode: str) -> None:
    """Read each transaction's time from the server (as shipped) or this machine's clock (the
    baseline: what every PostgreSQL transaction did before). A private switch, for this script."""
    deck._db._server_clock = mode == "server"


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Microseconds per call of `fn`, over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get(PG_ENV))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tasks", type=int, default=40, help="agent tasks per mode per round")
    args = parser.parse_args(argv)
    if not args.pg_url:
        print(f"no PostgreSQL server: pass --pg-url or set {PG_ENV}", file=sys.stderr)
        return 2
    with postgres_schemas(args.pg_url) as fresh, Deck.open(fresh("clock")) as deck:
        deck.create_board(BOARD, "server clock", actor="ann")
        deck.add_agent("gen", actor="ann")
        needed = 2 * args.rounds * args.tasks + WARM_UP + 1
        planned = deck.plan([{"title": f"t{n}"} for n in range(needed)], actor="ann")
        keys = iter([t.key for t in planned])
        probe = next(keys)

        def agent_task() -> None:
            key = next(keys)
            deck.claim("gen", key=key)
            for n in range(3):
                deck.log(key, f"step {n}", actor="gen")
            deck.complete(key, actor="gen", verified_by="bench")

        verbs: dict[str, tuple[Callable[[], object], int]] = {
            "agent task (5 writes)": (agent_task, args.tasks),
            "get_task": (lambda: deck.get_task(probe), 200),
            "max_event_id": (deck.max_event_id, 200),
        }
        for _ in range(WARM_UP):  # connections made, statements compiled
            for fn, _calls in verbs.values():
                fn()
        results: dict[tuple[str, str], list[float]] = {}
        rtt = []
        for round_ in range(args.rounds):
            for mode in MODES if round_ % 2 == 0 else reversed(MODES):
                use_mode(deck, mode)
                for name, (fn, calls) in verbs.items():
                    results.setdefault((name, mode), []).append(per_call(fn, calls))
            with deck._db.read() as tx:
                rtt.append(per_call(lambda conn=tx.conn: _SERVER_NOW.scalar(conn), 200))
        use_mode(deck, "server")
        print(f"PostgreSQL at {deck.url}; {args.rounds} rounds, medians")
        print(f"(a) SELECT now() round trip: {statistics.median(rtt):8.0f} µs")
        print(f"{'':4}{'verb':24}{'server µs':>12}{'machine µs':>12}{'ratio':>8}")
        for label, name in zip("bcd", verbs, strict=True):
            server = statistics.median(results[(name, "server")])
            machine = statistics.median(results[(name, "machine")])
            print(f"({label}) {name:24}{server:12.0f}{machine:12.0f}{server / machine:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
