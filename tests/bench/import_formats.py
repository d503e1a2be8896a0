"""Benchmark: importing a 700-issue beads export, against a native import of the same board.

The export is generated from the shapes of tests/core/formats/fixtures/beads/real_world.jsonl
(an epic with subtasks, hooked, pinned, custom and closed statuses, every dependency type,
wisp references not in the file, agent, message and memory records), copied with fresh ids
until it has 700 issues. Each run times, on a fresh SQLite file: the beads import (a human's
first import: history with real times, labels, links, metadata), a dry run of it, the
re-import that finds everything unchanged, and the baseline: `json.loads` of the board's
native export plus `import_board` of it (the same tasks, written by the native importer).
Prints medians and the ratio of the beads import to the baseline.
Run: `python -m tests.bench.import_formats [--runs N] [--issues N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentdeck.core import Deck

FIXTURE = Path(__file__).parents[1] / "core" / "formats" / "fixtures" / "beads" / "real_world.jsonl"


def generate(issues: int) -> str:
    """`issues` issues (plus the memory records) shaped like the fixture's, ids made unique
    per copy and dependencies kept within their copy (wisps and externals stay dangling)."""
    templates = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    ids = {t["id"] for t in templates if "id" in t}
    lines: list[str] = []
    made = copy = 0
    while made < issues:
        for template in templates:
            record: dict[str, Any] = json.loads(json.dumps(template))
            if "id" in record:
                if made >= issues:
                    continue
                record["id"] = f"{record['id']}-{copy}"
                for dep in record.get("dependencies", []):
                    dep["issue_id"] = record["id"]
                    if dep["depends_on_id"] in ids:
                        dep["depends_on_id"] = f"{dep['depends_on_id']}-{copy}"
                made += 1
            else:
                record["key"] = f"{record['key']}-{copy}"
            lines.append(json.dumps(record))
        copy += 1
    return "\n".join(lines) + "\n"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def one_run(tmp: Path, export: Path, n: int) -> dict[str, float]:
    with Deck.open(tmp / f"bench-{n}.db", create=True) as deck:
        deck.create_board("BD", "Beads", actor="ann")
        took: dict[str, float] = {}
        took["dry run"], _ = timed(
            lambda: deck.import_source("beads", export, actor="ann", board="BD", dry_run=True)
        )
        took["beads import"], imported = timed(
            lambda: deck.import_source("beads", export, actor="ann", board="BD")
        )
        took["re-import (unchanged)"], again = timed(
            lambda: deck.import_source("beads", export, actor="ann", board="BD")
        )
        assert again.summary.created == again.summary.updated == 0
        native = tmp / f"native-{n}.json"
        native.write_text(json.dumps(deck.export_board("BD")))
        took["baseline: json + native import"], _ = timed(
            lambda: deck.import_board(json.loads(native.read_text()), actor="ann", key=f"N{n}")
        )
        took["tasks"] = len(imported.tasks)
        return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--issues", type=int, default=700)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        export = tmp / "issues.jsonl"
        export.write_text(generate(args.issues))
        runs = [one_run(tmp, export, n) for n in range(args.runs)]
    print(
        f"{args.issues} beads issues -> {int(runs[0]['tasks'])} tasks, median of {args.runs} runs"
    )
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "tasks"}
    for label, seconds in medians.items():
        print(f"  {label:32} {seconds:7.3f} s")
    base = medians["baseline: json + native import"]
    print(f"  ratio beads import / baseline    {medians['beads import'] / base:7.2f}")


if __name__ == "__main__":
    main()
