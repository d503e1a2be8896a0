"""Hard-stop overshoot: `python -m tests.bench.budget_stop [--agents 8] [--limit 10000]
[--per-call 800] [--calls 40] [--backend sqlite|postgres|both] [--pg-url URL]`.

Eight agents (real processes) each hold a task and loop log, usage (`--per-call` tokens),
heartbeat at once against a hard board token budget of `--limit`, until their next work verb
exits 4. Prints, from one run on this machine:
  (a) the tokens recorded and recorded/limit: the overshoot, and the bound the design promises
      (limit + one in-flight usage call per agent);
  (b) the baseline from the same run: the same agents and tasks (`--calls` usage calls each)
      when nothing but claims is stopped (their loop has no work verb, so nothing refuses them),
      which is what the workforce spent before hard budgets stopped work.
Usage calls per agent after the crossing must be at most 1. A script that prints figures, not
a test (tests/concurrency/test_budget_stop.py asserts the bound).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from agentdeck.core import Deck
from tests.bench.store import PG_ENV, postgres_schemas
from tests.concurrency import harness


def measure(db: str, out_dir: Path, args: argparse.Namespace, *, obey: bool) -> dict[str, float]:
    """One race on a fresh board in `db`: tokens recorded, agents stopped with exit 4, and the
    most usage calls one agent made after the crossing."""
    results = harness.spend_race(
        db,
        out_dir,
        agents=args.agents,
        limit=args.limit,
        per_call=args.per_call,
        calls=args.calls,
        obey=obey,
    )
    errors = [e for r in results for e in r["errors"]]
    if errors:
        raise SystemExit(f"{len(errors)} errors, first: {errors[0]}")
    with Deck.open(db) as deck:
        [budget] = deck.budget_status(harness.BOARD)
        after = harness.usage_after_crossing(harness.all_events(deck))
    return {
        "used": budget.used,
        "stopped": sum(1 for r in results if r["stop"] and r["stop"]["exit_code"] == 4),
        "after_max": max(after.values(), default=0),
        "after_total": sum(after.values()),
    }


def run(name: str, fresh: dict[str, str], args: argparse.Namespace) -> None:
    limit, agents = args.limit, args.agents
    with tempfile.TemporaryDirectory(prefix="agentdeck-bench-") as scratch:
        stop = measure(fresh["stop"], Path(scratch), args, obey=True)
    with tempfile.TemporaryDirectory(prefix="agentdeck-bench-") as scratch:
        base = measure(fresh["base"], Path(scratch), args, obey=False)
    bound = limit + agents * args.per_call
    print(f"{name}: {agents} agents, hard limit {limit:,.0f} tokens, {args.per_call} tokens a call")
    print(
        f"  (a) hard stop: recorded {stop['used']:,.0f} tokens = {stop['used'] / limit:.2f} x the "
        f"limit (bound {bound / limit:.2f} x); {stop['stopped']:.0f}/{agents} agents stopped "
        f"with exit 4; usage calls after the crossing: {stop['after_total']:.0f} in all, at most "
        f"{stop['after_max']:.0f} per agent"
    )
    print(
        f"  (b) baseline, claims-only stop ({args.calls} calls a task): recorded "
        f"{base['used']:,.0f} tokens = {base['used'] / limit:.2f} x the limit; the stop spent "
        f"{stop['used'] / base['used']:.3f} of the baseline"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="agentdeck hard-stop overshoot benchmark")
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--limit", type=float, default=10_000)
    parser.add_argument("--per-call", type=int, default=800, help="tokens per usage call")
    parser.add_argument("--calls", type=int, default=40, help="usage calls in a task")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get(PG_ENV))
    args = parser.parse_args(argv)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="agentdeck-bench-") as scratch:
            files = {k: str(Path(scratch) / f"{k}.db") for k in ("stop", "base")}
            run("SQLite", files, args)
    if args.backend in ("postgres", "both"):
        if not args.pg_url:
            parser.error(f"--backend {args.backend} needs --pg-url or {PG_ENV}")
        with postgres_schemas(args.pg_url) as fresh:
            run("PostgreSQL", {k: fresh(k) for k in ("stop", "base")}, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
