"""What the demo tests share: a finished run's outcome, and watching OS processes through
/proc (no psutil) so a test can tell whether any agent outlived its parent."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.tui.demo.samples import SAMPLE_DIR
from agentdeck.tui.demo.summary import Transition, transitions


def alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children_of(parent: int) -> list[int]:
    """Live processes whose parent is `parent`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def imported_events(board: str) -> int:
    """How many events the sample board brings: the demo's own events come after them."""
    doc = json.loads((SAMPLE_DIR / f"{board}.json").read_text(encoding="utf-8"))
    return len(doc["events"])


@dataclass
class DemoRun:
    """The outcome of one headless demo run on its own database."""

    code: int
    output: str
    db: Path
    board_key: str
    cursor: int
    pids: list[int] = field(default_factory=list)

    def transitions(self) -> list[Transition]:
        with Deck.open(self.db) as deck:
            return transitions(deck, self.board_key, self.cursor)

    def deck(self) -> Deck:
        return Deck.open(self.db)
