"""Headless SVG screenshots of the console, for the README and for checking the looks.

`take_screenshot("sample_boards/website.json", "screenshots/board.svg", "board", "140x42")`
imports a sample board (or opens a database) into a private copy with the clock frozen at the
board's last event, opens one screen, waits until every worker is done and saves the SVG.
The same input gives the same picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from agentdeck.core import Deck, ValidationError, credentials

SCREENS = ("board", "charts", "detail", "needs-human", "search", "report", "help")
SCREENSHOT_HUMAN = "you"


class _Frozen:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def parse_size(size: tuple[int, int] | str) -> tuple[int, int]:
    """`(140, 42)` or `"140x42"` as (columns, rows)."""
    if isinstance(size, str):
        width, _, height = size.lower().partition("x")
        if not (width.isdigit() and height.isdigit()):
            raise ValidationError(f"size {size!r} must look like 140x42")
        size = (int(width), int(height))
    if not (40 <= size[0] <= 400 and 12 <= size[1] <= 200):
        raise ValidationError(f"size {size[0]}x{size[1]} is outside 40x12 .. 400x200")
    return size


def _last_event_time(deck: Deck) -> datetime:
    newest = deck.max_event_id()
    events = deck.events_since(max(0, newest - 1), limit=1)
    return events[-1].created_at if events else deck.now()


def _prepare(source: str, workdir: Path) -> tuple[Deck, str | None]:
    """A deck over a private copy of `source` (a sample board file, or the only board of a
    database on either backend, exported through `Deck` so uncheckpointed WAL content and
    PostgreSQL boards come along) with a frozen clock, and the board to show."""
    target = workdir / "board.db"
    if "://" not in source and source.endswith(".json"):
        doc = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        with Deck.open(source) as live:
            doc = live.export_board()
    exported = datetime.fromisoformat(doc.get("exported_at") or doc["board"]["created_at"])
    deck = Deck.open(target, create=True, clock=_Frozen(exported))
    key: str | None = deck.import_board(doc, actor=SCREENSHOT_HUMAN).key
    token = deck.issued_token(SCREENSHOT_HUMAN, key or "")
    deck.close()
    with Deck.open(target) as probe:
        at = _last_event_time(probe) + timedelta(seconds=30)
    shown = Deck.open(target, clock=_Frozen(at))
    if token is not None:  # the console acts as the importer, with their credential
        shown.present(token, credentials.BY_FILE)
    return shown, key


async def settle(pilot: Pilot[Any], rounds: int = 40) -> None:
    """Wait until no worker runs (the file watcher aside, which runs for good) and the
    screen has processed what they posted."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        busy = [w for w in app.workers if w.is_running and w.group != "watcher"]
        if not busy:
            break
        for worker in busy:
            # A failed worker is the screens' business: they turn it into a notification.
            with contextlib.suppress(WorkerFailed, WorkerCancelled):
                await worker.wait()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def freeze_cursors(app: Any) -> None:
    """Stop text cursors blinking, so a screenshot does not depend on when it is taken."""
    from textual.widgets import Input

    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False


def _detail_task(deck: Deck, board: str) -> str | None:
    """The in-progress (else any) task with the longest log: the liveliest detail screen."""
    tasks = deck.list_tasks(board, status="in_progress") or deck.list_tasks(board)
    if not tasks:
        return None
    return max(tasks[:20], key=lambda t: (deck.task_detail(t.key).event_count, -t.priority)).key


def _search_query(deck: Deck, board: str) -> str:
    """The word shared by the most finished tasks: a search with several hits to show."""
    counts: dict[str, int] = {}
    for task in deck.list_tasks(board, status="done"):
        words = {w.strip(".,:;()").lower() for w in f"{task.title} {task.result}".split()}
        for word in words:
            if len(word) > 4 and word.isalpha():
                counts[word] = counts.get(word, 0) + 1
    return max(sorted(counts), key=counts.__getitem__) if counts else "test"


async def _shoot(deck: Deck, board: str | None, screen: str, size: tuple[int, int]) -> str:
    from agentdeck.tui.console.app import make_app
    from agentdeck.tui.console.screens.needs_human import NeedsHumanScreen
    from agentdeck.tui.console.screens.report import ReportScreen
    from agentdeck.tui.console.screens.search import SearchScreen
    from agentdeck.tui.console.screens.task_detail import TaskDetailScreen

    # The watcher runs as it would for a user (the header says "live"); nothing writes to
    # the private copy, so it never changes the picture.
    app = make_app(deck, actor=SCREENSHOT_HUMAN, board=board, watch=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        key = app.board_key
        if screen == "charts":
            await pilot.press("b")
        elif screen == "detail":
            task = _detail_task(deck, key)
            if task is not None:
                app.push_screen(TaskDetailScreen(task))
        elif screen == "needs-human":
            app.push_screen(NeedsHumanScreen())
        elif screen == "search":
            app.push_screen(SearchScreen(_search_query(deck, key)))
        elif screen == "report":
            app.push_screen(ReportScreen())
        elif screen == "help":
            await pilot.press("question_mark")
        await settle(pilot)
        freeze_cursors(app)
        await pilot.pause()
        return app.export_screenshot(title=f"agentdeck · {screen}")


def take_screenshot(
    db_or_sample: str | Path,
    out_path: str | Path,
    screen: str = "board",
    size: tuple[int, int] | str = (140, 42),
) -> Path:
    """Render one screen of a board (sample JSON or database) to an SVG file; returns its path."""
    if screen not in SCREENS:
        raise ValidationError(f"unknown screen {screen!r}; screens: {', '.join(SCREENS)}")
    source = str(db_or_sample)
    if "://" not in source and not Path(source).is_file():
        raise ValidationError(f"no sample board or database at {source}")
    dimensions = parse_size(size)
    out = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="agentdeck-shot-") as tmp:
        deck, board = _prepare(source, Path(tmp))
        try:
            svg = asyncio.run(_shoot(deck, board, screen, dimensions))
        finally:
            deck.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg, encoding="utf-8")
    return out
