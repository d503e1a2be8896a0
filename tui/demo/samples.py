"""Generate the sample boards in `sample_boards/` by living through a few weeks of work.

`python -m agentdeck.tui.demo.samples` creates each board in a scratch database and lets the story's
team (lead, specialists, two humans) work it through the real `Deck` verbs, driven by a fake
clock that jumps from one turn to the next. Agents work around the clock; humans review only
on weekdays from 9 to 18. The history is therefore made of genuine lifecycle events, and the
same seed always writes the same files. Each board is exported with `Deck.export_board`.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agentdeck.core import Deck
from agentdeck.core.models import COLUMNS
from agentdeck.tui.demo.reviewer import Reviewer, ReviewerHabits
from agentdeck.tui.demo.stories import Story, stories, story
from agentdeck.tui.demo.supervisor import Supervisor, SupervisorHabits
from agentdeck.tui.demo.team import rng_for
from agentdeck.tui.demo.worker import Worker, WorkerHabits

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_boards"
# Simulated seconds per demo second: a worker's turn of ~2.7 s becomes about 110 minutes.
SCALE = 2400.0
# Beyond the story's length, keep going at most this long to reach a board with every column.
GRACE = timedelta(days=6)


class SimClock:
    """The deck's clock during generation: it shows whatever time the simulation has reached."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def office_hours(at: datetime) -> datetime:
    """The first moment at or after `at` on a weekday between 9:00 and 18:00."""
    while True:
        if at.weekday() >= 5 or at.hour >= 18:
            at = (at + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        elif at.hour < 9:
            at = at.replace(hour=9, minute=0, second=0, microsecond=0)
        else:
            return at


def _team(deck: Deck, s: Story, seed: int) -> list[tuple[Iterator[float], bool]]:
    """Each member's generator of turns, and whether it keeps office hours."""
    lead = Supervisor(
        deck,
        s,
        rng_for(seed, 0),
        SupervisorHabits(batches=s.phases, steer_rate=0.15, refill_below=0.45),
    )
    crash = s.lease_seconds * 1.6 / SCALE
    workers = [
        Worker(
            deck,
            s,
            m,
            rng_for(seed, i + 1),
            WorkerHabits(
                crash_delay=crash,
                rest=(4.0, 16.0),
                fail_rate=0.04,
                escalate_rate=0.4,
                work_turns=(10, 20),
                failing=s.failing_refs,
                gpu="benchmarking" in m.skills,
            ),
        )
        for i, m in enumerate(s.members)
    ]
    keys = s.ref_keys()
    humans = ReviewerHabits(
        humans=[h.name for h in s.humans],
        patience=4,
        reopen_rate=1.0,
        keep_failed=tuple(keys[ref] for ref in s.failing_refs[1:]),
        cancel_key=keys.get(s.cancel_ref, ""),
        cancel_turn=14,
        turn=(1.5, 3.0),
    )
    reviewer = Reviewer(deck, s, rng_for(seed, len(s.members) + 1), humans)
    return [(lead.run(), False), *((w.run(), False) for w in workers), (reviewer.run(), True)]


def _settled(deck: Deck, key: str) -> bool:
    """True when the board shows every column: blocked, ready, in progress, needs human, done
    and failed."""
    counts = deck.counts(key).by_column
    return all(counts.get(column, 0) for column in COLUMNS)


def generate(s: Story, seed: int = 0) -> dict[str, Any]:
    """The exported document of story `s` after its weeks of simulated work."""
    with tempfile.TemporaryDirectory(prefix="agentdeck-sample-") as scratch:
        clock = SimClock(s.start)
        deck = Deck.open(Path(scratch) / "board.db", create=True, clock=clock)
        try:
            owner, mate = s.humans
            deck.create_board(
                s.key,
                s.name,
                actor=owner.name,
                goal=s.goal,
                due_at=s.start + timedelta(days=s.due_days),
                lead=s.lead.name,
                lease_seconds=s.lease_seconds,
            )
            deck.add_agent(mate.name, actor=owner.name, kind="human", role=mate.role)
            for m in s.members:
                deck.add_agent(
                    m.name, actor=owner.name, skills=m.skills, role=m.role, supervisor=s.lead.name
                )
            for scope, subject, metric, soft, hard in s.budgets:
                deck.set_budget(
                    metric, actor=owner.name, scope=scope, subject=subject, soft=soft, hard=hard
                )
            _live(deck, s, seed, clock)
            return deck.export_board(s.key)
        finally:
            deck.close()


def _live(deck: Deck, s: Story, seed: int, clock: SimClock) -> None:
    """Run the team's turns in time order until the story's length is up and the board settled."""
    team = _team(deck, s, seed)
    end = s.start + timedelta(days=s.days)
    queue = [(s.start + timedelta(minutes=i), i) for i in range(len(team))]
    heapq.heapify(queue)
    while True:
        at, i = heapq.heappop(queue)
        if at >= end and _settled(deck, s.key):
            return
        if at >= end + GRACE:
            raise RuntimeError(f"{s.slug}: the board never showed every column; adjust the story")
        clock.now = at
        turns, office = team[i]
        pause = timedelta(seconds=next(turns) * SCALE)
        heapq.heappush(queue, (office_hours(at + pause) if office else at + pause, i))


def write(slug: str, seed: int = 0, directory: Path = SAMPLE_DIR) -> Path:
    """Generate one sample board and write it as `<slug>.json`."""
    doc = generate(story(slug), seed)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{slug}.json"
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m agentdeck.tui.demo.samples", description="Regenerate the sample boards."
    )
    parser.add_argument("boards", nargs="*", help="board slugs (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR)
    args = parser.parse_args(argv)
    for slug in args.boards or list(stories()):
        path = write(slug, args.seed, args.out)
        doc = json.loads(path.read_text(encoding="utf-8"))
        print(
            f"{path}: {len(doc['tasks'])} tasks, {len(doc['events'])} events, "
            f"{len(doc['usage'])} usage rows, {path.stat().st_size / 1024:.0f} KiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
