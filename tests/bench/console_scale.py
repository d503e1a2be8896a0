"""The console at scale: `python -m tests.bench.console_scale [--tasks N] [--events N]`.

Builds (or reuses, cached under `$XDG_CACHE_HOME/agentdeck-bench/`) a SQLite board of
`--tasks` tasks and about `--events` events (100,000 and 1,000,000 by default: the builder of
`tests.bench.aggregates`, with more log lines per task), and the same board at
`--baseline-tasks` tasks (1,000, as many events per task) as the same-run baseline. Each board
is copied to a scratch file (the run writes to it) and measured in a fresh child process:

- first paint: from creating the app (`make_app` and `app.run_test`, headless, 160x48; the
  process's imports and `Deck.open` are printed apart) until the board screen has loaded and
  every column that holds tasks has its first cards mounted, plus one `pilot.pause()` (a
  screen refresh). A paint in a real terminal adds the terminal's own time.
- peak RSS: the child's VmHWM at its end (after the refresh and scrolls), and `ru_maxrss`
  of the child (`os.wait4`). The boards are built in a process of their own, so the child is
  forked from a small parent (Linux's `ru_maxrss` keeps the parent's size from before exec).
- refresh: another OS process changes `--changes` tasks of the Ready column: comments on half
  of them, in its loaded window, and the other half, deep in it, raised to priority 0 (they
  move into the window); then the board's refresh runs and
  the figure is the time spent in its refresh handler on the UI thread, summed over the
  messages that carried the changes (`BoardScreen.refresh_ui_total`: applying the tasks to
  the windows, re-showing the columns, the keys); the worker's database reads are not in it
  (they are printed apart, as the wall time from asking to applied).
- scroll: `--steps` page-down presses in the Done column (the largest) and then in Ready,
  each timed from the key press until the selection has moved and any page read it started
  has landed (`pilot.press` plus waiting for the read); median and worst step.
- task models held by the board screen at the end (`BoardState.size()`), and the time of
  the reads behind the charts panel, budgets, roster and header (burn-down from the rollup,
  cost as a grouped sum, budget and usage totals, the roster, the board), warm, in a row.

A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BOARD = "BIG"
SIZE = (160, 48)
ROOT = Path(__file__).resolve().parents[2]


def cached_board(tasks: int, events: int, rebuild: bool) -> tuple[str, str]:
    """(path, the human's token) of the cached board; built on first use."""
    from agentdeck.core import Deck
    from tests.bench import aggregates

    path = aggregates.sqlite_place(tasks, rebuild, name=f"console-e{events}")
    token_file = Path(f"{path}.token")
    if not aggregates.has_board(path) or not token_file.exists():
        for suffix in ("", "-wal", "-shm", ".token"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        begun = time.perf_counter()
        doc = aggregates.document(tasks, events / tasks)
        with Deck.open(path, create=True) as deck:
            deck.import_board(doc, actor=aggregates.HUMAN, rebase_time=True)
            token = deck.issued_token(aggregates.HUMAN, BOARD)
        assert token is not None
        token_file.write_text(token)
        print(f"built {tasks:,} tasks / {events:,} events in {time.perf_counter() - begun:.0f} s")
    else:
        print(f"reusing the cached board of {tasks:,} tasks / {events:,} events")
    with Deck.open(path):  # migrated once here, not in the timed child
        pass
    return path, token_file.read_text()


# Comments on the tasks in the window (each re-read and re-applied in place), and the tasks
# deep in the column raised to priority 0 (each moves into the window at the top).
WRITER = """
import sys
from agentdeck.core import Deck, identity
deck = Deck.open(sys.argv[1])
identity.present_credentials(deck)
near = int(sys.argv[2])
for i, key in enumerate(sys.argv[3:]):
    if i < near:
        deck.comment(key, "looked at it", actor="ann")
    else:
        deck.set_priority(key, 0, actor="ann")
"""


def built(tasks: int, events: int, rebuild: bool) -> tuple[str, str]:
    """`cached_board` run in a process of its own (building takes gigabytes)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "board.json"
        args = [sys.executable, "-m", "tests.bench.console_scale", "--build", str(out)]
        args += ["--tasks", str(tasks), "--events", str(events)]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "AGENTDECK_NO_SERVER": "1"}
        subprocess.run([*args, *(["--rebuild"] if rebuild else [])], env=env, cwd=ROOT, check=True)
        path, token = json.loads(out.read_text())
    return str(path), str(token)


def child(db: str, changes: int, steps: int) -> dict[str, Any]:
    """Run the console over `db` and measure (this is the fresh process)."""
    begun = time.perf_counter()
    import asyncio

    from agentdeck.core import Deck
    from agentdeck.core.models import COLUMNS
    from agentdeck.tui.console.app import make_app
    from agentdeck.tui.console.screens.board import BoardScreen

    deck = Deck.open(db)
    imported = time.perf_counter() - begun
    figures: dict[str, Any] = {"imports_and_open_s": imported}

    async def run() -> None:
        started = time.perf_counter()
        app = make_app(deck, actor="ann", board=BOARD)
        async with app.run_test(size=SIZE) as pilot:

            def painted() -> bool:
                screen = app.screen
                if not isinstance(screen, BoardScreen) or screen.cursor < 0:
                    return False
                return all(
                    c.card(c.keys[0]) is not None for c in screen.columns if c.count and c.keys
                ) and all(c.keys for c in screen.columns if c.count)

            while not painted():
                await pilot.pause(0.005)
            await pilot.pause()
            figures["first_paint_s"] = time.perf_counter() - started
            screen = app.screen
            assert isinstance(screen, BoardScreen)
            figures["columns"] = {c.column: c.count for c in screen.columns}

            # 50 changes by another process: half in the Ready window, half deep in Ready.
            ready = screen.state.windows["ready"]
            near = [t.key for t in ready.tasks[: changes // 2]]
            deep_page = deck.column_page(BOARD, "ready", offset=ready.count // 2, limit=changes)
            keys = near + [t.key for t in deep_page.tasks[: changes - len(near)]]
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            writer = [sys.executable, "-c", WRITER, db, str(len(near)), *keys]
            subprocess.run(writer, env=env, check=True)
            target = deck.max_event_id()
            screen.refresh_ui_total = 0.0
            asked = time.perf_counter()
            screen.refresh_data()
            while screen.cursor < target:
                await pilot.pause(0.002)
            figures["refresh_wall_s"] = time.perf_counter() - asked
            figures["refresh_ui_s"] = screen.refresh_ui_total
            figures["changed_in_window"] = sum(
                1 for k in keys if screen.state.tasks.get(k) is not None
            )

            # A key press that changes nothing (Left in the first column): the harness's own
            # cost of a press, which every scroll step below includes.
            while screen.column_index:
                await pilot.press("left")
            idle = []
            for _ in range(5):
                step = time.perf_counter()
                await pilot.press("left")
                idle.append(time.perf_counter() - step)
            figures["noop_press_s"] = statistics.median(idle)

            # Scroll: page down through Done, then Ready.
            for name in ("done", "ready"):
                while screen.active_column.column != name:
                    target_index = COLUMNS.index(name)
                    await pilot.press("right" if screen.column_index < target_index else "left")
                times = []
                for _ in range(steps):
                    step = time.perf_counter()
                    await pilot.press("pagedown")
                    while screen._fetching:
                        await pilot.pause(0.002)
                    times.append(time.perf_counter() - step)
                figures[f"scroll_{name}_median_s"] = statistics.median(times)
                figures[f"scroll_{name}_worst_s"] = max(times)
                figures[f"scroll_{name}_position"] = screen.active_column.selected_position
            figures["task_models"] = screen.state.size()

    asyncio.run(run())
    # What the charts panel, roster and header read (BoardScreen.load_panels and the load):
    # aggregates and rollups, timed here one after another in the child, once warm.
    reads = (
        lambda: deck.burndown(BOARD),
        lambda: deck.cost_over_time(BOARD),
        lambda: (deck.budget_status(BOARD), deck.usage_totals(BOARD)),
        lambda: (deck.usage_by_source(BOARD), deck.refusals()),
        lambda: (deck.list_agents(BOARD), deck.get_board(BOARD)),
    )
    for read in reads:
        read()
    panels = time.perf_counter()
    for read in reads:
        read()
    figures["panels_s"] = time.perf_counter() - panels
    figures["vm_hwm_mb"] = _vm_hwm_mb()
    deck.close()
    return figures


def _vm_hwm_mb() -> float:
    """This process's peak resident memory since it started its program (VmHWM): unlike
    `ru_maxrss`, it does not carry over the memory of the process it was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(path: str, token: str, changes: int, steps: int) -> dict[str, Any]:
    """Copy the board to a scratch file and run the child over it; its figures and peak RSS."""
    with tempfile.TemporaryDirectory() as scratch:
        db = str(Path(scratch) / "board.db")
        with sqlite3.connect(path) as src, sqlite3.connect(db) as dst:
            src.backup(dst)  # a consistent copy (the WAL folded in)
        out = Path(scratch) / "figures.json"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "XDG_CONFIG_HOME": scratch,
            "AGENTDECK_NO_SERVER": "1",
            "AGENTDECK_TOKEN": token,
        }
        args = [sys.executable, "-m", "tests.bench.console_scale", "--child", db, str(out)]
        args += ["--changes", str(changes), "--steps", str(steps)]
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"the measuring child failed: {err[-2000:]}")
        figures: dict[str, Any] = json.loads(out.read_text())
        figures["peak_rss_mb"] = usage.ru_maxrss / 1024
        began = time.perf_counter()
        with sqlite3.connect(db) as conn:
            conn.execute("SELECT count(*) FROM task").fetchone()
            conn.execute("SELECT count(*) FROM event").fetchone()
        figures["count_star_s"] = time.perf_counter() - began
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--baseline-tasks", type=int, default=1_000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--build", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        Path(args.build).write_text(json.dumps(cached_board(args.tasks, args.events, args.rebuild)))
        return 0
    if args.child:
        db, out = args.child
        Path(out).write_text(json.dumps(child(db, args.changes, args.steps)))
        return 0
    load = os.getloadavg()
    print(f"load: {load[0]:.2f} {load[1]:.2f} (1 and 5 min), {os.cpu_count()} cores")
    per_task = args.events / args.tasks
    big = built(args.tasks, args.events, args.rebuild)
    small = built(args.baseline_tasks, int(args.baseline_tasks * per_task), args.rebuild)
    base = measure(*small, args.changes, args.steps)
    fig = measure(*big, args.changes, args.steps)
    load = os.getloadavg()
    print(f"load after: {load[0]:.2f} {load[1]:.2f}")
    print(f"columns at {args.tasks:,}: {fig['columns']}")
    print(
        f"SELECT count(*) over task and event: {fig['count_star_s'] * 1000:.1f} ms "
        f"({base['count_star_s'] * 1000:.1f} ms at {args.baseline_tasks:,})"
    )
    rows = [
        ("imports + Deck.open (s)", "imports_and_open_s", None),
        ("first paint (s)", "first_paint_s", 1.5),
        ("peak RSS, VmHWM of the child (MB)", "vm_hwm_mb", 250),
        ("peak RSS, ru_maxrss of the child (MB)", "peak_rss_mb", 250),
        (f"refresh, {args.changes} changes: UI thread (ms)", "refresh_ui_s", 0.050),
        (f"refresh, {args.changes} changes: asked to applied (ms)", "refresh_wall_s", None),
        ("a key press that changes nothing (ms)", "noop_press_s", None),
        ("scroll Done: page step, median (ms)", "scroll_done_median_s", None),
        ("scroll Done: page step, worst (ms)", "scroll_done_worst_s", None),
        ("scroll Ready: page step, median (ms)", "scroll_ready_median_s", None),
        ("scroll Ready: page step, worst (ms)", "scroll_ready_worst_s", None),
        ("task models held", "task_models", None),
        ("charts, budgets, roster, header reads (ms)", "panels_s", None),
    ]
    big_label, small_label = f"{args.tasks:,}", f"{args.baseline_tasks:,}"
    print(f"\n  {'figure':44} {big_label:>10} {small_label:>10} {'ratio':>7}  target")
    for label, key, target in rows:
        scale = 1000 if "(ms)" in label else 1
        value, baseline = fig[key] * scale, base[key] * scale
        ratio = value / baseline if baseline else float("nan")
        goal = ""
        if target is not None:
            limit = target * scale
            goal = f"{'met' if value <= limit else 'NOT MET'} (<= {limit:g})"
        print(f"  {label:44} {value:10.1f} {baseline:10.1f} {ratio:7.2f}  {goal}")
    print(
        f"\n  {fig['changed_in_window']} of the {args.changes} changed tasks are in a loaded "
        f"window after the refresh; scrolled to position {fig['scroll_done_position']:,} of Done and "
        f"{fig['scroll_ready_position']:,} of Ready in {args.steps} page steps each"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
