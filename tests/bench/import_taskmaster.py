"""Benchmark: reading a 2,000-task Taskmaster file, against plain `json.loads` of it.

Issue #16 asks for the time to import a 2,000-task Taskmaster file. This part times the
reader (`read_taskmaster`: parse, map every field, resolve every dependency, check for cycles)
on a file generated from the shapes of the fixture (tests/core/formats/fixtures/taskmaster:
several tags, text and integer ids, subtask references, complexity fields, a few dangling
dependencies), alternating with `json.loads` of the same bytes so both see the same machine
load, and prints both medians and their ratio. Then the whole import into a board
(`Deck.import_source("taskmaster", ...)`: read, then every task, subtask, dependency and
history event written in one transaction) on a fresh SQLite file per run, against the baseline
of a native import (`json.loads` + `import_board`) of the same board, as for beads.
Run: `python -m tests.bench.import_taskmaster [--tasks 2000] [--runs 9] [--imports 3]`.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agentdeck.core import Deck
from agentdeck.core.formats.taskmaster import read_taskmaster

FIXTURE = Path(__file__).resolve().parents[1] / "core" / "formats" / "fixtures" / "taskmaster"


def generate(total: int) -> dict[str, Any]:
    """About `total` tasks and subtasks in four tags, each a fixture task renumbered, with its
    dependencies pointed at earlier tasks of its tag (and one in fifty at a missing one)."""
    seed = json.loads((FIXTURE / "tasks.json").read_text())
    shapes = [task for tag in seed.values() for task in tag["tasks"]]
    doc: dict[str, Any] = {}
    made, n = 0, 0
    while made < total:
        tag = ("master", "feature-a", "feature-b", "loop")[n % 4]
        tasks = doc.setdefault(tag, {"tasks": [], "metadata": {"description": tag}})["tasks"]
        task = copy.deepcopy(shapes[n % len(shapes)])
        number = len(tasks) + 1
        task["id"] = number if n % 3 else str(number)
        earlier = [t["id"] for t in tasks[-5:]]
        task["dependencies"] = earlier[: n % 3] + ([10_000 + n] if n % 50 == 0 else [])
        tasks.append(task)
        made += 1 + len(task.get("subtasks", []))
        n += 1
    return doc


def import_run(tmp: Path, path: Path, n: int) -> tuple[float, float, int]:
    """One whole import into a new board and the native baseline: seconds each, and tasks."""
    with Deck.open(tmp / f"bench-{n}.db", create=True) as deck:
        deck.create_board("TM", "Taskmaster", actor="ann")
        start = time.perf_counter()
        imported = deck.import_source("taskmaster", path, actor="ann", board="TM")
        took = time.perf_counter() - start
        native = tmp / f"native-{n}.json"
        native.write_text(json.dumps(deck.export_board("TM")))
        start = time.perf_counter()
        deck.import_board(json.loads(native.read_text()), actor="ann", key=f"N{n}")
        baseline = time.perf_counter() - start
        return took, baseline, len(imported.tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--imports", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tasks.json"
        path.write_text(json.dumps(generate(args.tasks), indent=2))
        data = path.read_bytes()
        read, loads = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            items, notes = read_taskmaster(path)
            read.append(time.perf_counter() - start)
            start = time.perf_counter()
            json.loads(data)
            loads.append(time.perf_counter() - start)
        imports = [import_run(Path(tmp), path, n) for n in range(args.imports)]
    reader, baseline = statistics.median(read), statistics.median(loads)
    print(
        f"{len(items)} tasks ({len(notes.external)} external references) in "
        f"{len(data) / 2**20:.1f} MiB, median of {args.runs} runs"
    )
    print(f"read_taskmaster: {reader * 1000:.1f} ms")
    print(f"json.loads:      {baseline * 1000:.1f} ms")
    print(f"ratio:           {reader / baseline:.1f}x")
    whole = statistics.median(i[0] for i in imports)
    native = statistics.median(i[1] for i in imports)
    print(f"import into a board ({imports[0][2]} tasks, median of {args.imports}): {whole:.2f} s")
    print(f"native import of the same board: {native:.2f} s; ratio {whole / native:.2f}x")


if __name__ == "__main__":
    main()
