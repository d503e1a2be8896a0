"""Benchmark: what one agent CLI call costs, against importing sqlmodel.

Agents call `agentdeck` thousands of times, so start-up is the price of every step. This runs
`agentdeck log KEY "text" --as a` and `python -c "import sqlmodel"` alternately (so both see
the same machine load), 20 times each, and prints both medians and their ratio (target: at
most 1.3). For context it also times the same `log` made by a bare Python call of
`agentdeck.core.Deck` with no CLI, which shows how much of the cost is the CLI's own.
Run: `python -m tests.bench.cli_startup [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.3
CORE_ONLY = """
from agentdeck.core import Deck
with Deck.open() as deck:
    deck.log({key!r}, "text", actor="a")
"""


def _agentdeck() -> str:
    script = Path(sys.executable).parent / "agentdeck"
    if not script.exists():
        sys.exit(f"no agentdeck script next to {sys.executable}; run `pip install -e .` first")
    return str(script)


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _prepare(db: Path) -> str:
    """A board with agent `a` holding one task; returns the task's key."""
    from agentdeck.core import Deck

    with Deck.open(db, create=True) as deck:
        deck.create_board("BEN", "Benchmark", actor="human", lease_seconds=86400)
        deck.add_agent("a", actor="human")
        task = deck.add_task("Log many lines", actor="human")
        deck.claim("a", key=task.key)
        return task.key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        key = _prepare(db)
        env = {**os.environ, "AGENTDECK_DB": str(db)}
        commands = {
            "cli": [_agentdeck(), "log", key, "text", "--as", "a"],
            "baseline": [sys.executable, "-c", "import sqlmodel"],
            "core": [sys.executable, "-c", CORE_ONLY.format(key=key)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for cmd in commands.values():  # warm the OS file cache and the bytecode caches
            _wall(cmd, env)
        for _ in range(runs):
            for name, cmd in commands.items():
                times[name].append(_wall(cmd, env))
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    ratio = ms["cli"] / ms["baseline"]
    print(f"agentdeck log KEY text --as a (median of {runs}): {ms['cli']:7.1f} ms")
    print(f"python -c 'import sqlmodel'   (median of {runs}): {ms['baseline']:7.1f} ms")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"ratio: {ratio:.2f} ({verdict} the {TARGET_RATIO} target)")
    print(
        f"for context, the same log from bare Python (core only, no CLI): {ms['core']:.1f} ms, "
        f"ratio {ms['core'] / ms['baseline']:.2f}; the CLI adds {ms['cli'] - ms['core']:.1f} ms"
    )


if __name__ == "__main__":
    main()
