"""The demo tests' fixture: `run_demo(...)` runs `agentdeck demo --headless` in-process; its
agents are real OS processes on a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentdeck.tui.demo.conductor import Team
from agentdeck.tui.demo.run import demo_command
from tests.demo.helpers import DemoRun, imported_events


@pytest.fixture
def run_demo(tmp_path: Path) -> Callable[..., DemoRun]:
    """`run_demo(seed=.., turns=..)`: a headless demo in-process; its agents are real processes."""
    runs = 0

    def run(board: str = "website", **options: object) -> DemoRun:
        nonlocal runs
        runs += 1
        db = tmp_path / f"demo-{runs}.db"
        lines: list[str] = []
        pids: list[int] = []

        def seen(team: Team) -> None:
            pids.extend(team.pids)

        options = {"agents": 4, "speed": 1000.0, "duration": 60.0, **options}
        code = demo_command(
            board,
            db=db,
            headless=True,
            out=lines.append,
            on_start=seen,
            **options,  # type: ignore[arg-type]
        )
        key = {"website": "WEB", "database": "DB", "research": "RES"}[board]
        return DemoRun(code, "\n".join(lines), db, key, imported_events(board), pids)

    return run
