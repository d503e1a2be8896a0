"""Benchmark: what one agent call costs from a fresh process on a 1,000-task board.

An agent works a task with `claim`, `heartbeat`, `log`, `usage` and `done`, each a new
`agentdeck` process. This runs that cycle N times through the resident server (the console
script's normal path) and N times in-process (`AGENTDECK_NO_SERVER=1`), interleaved so both see
the same load, on a SQLite board of 1,000 tasks, acting with the agent's token. For each verb it
prints the median wall time and the median CPU per call, counted honestly:

- through the server: the client process's CPU (this script's RUSAGE_CHILDREN), plus the CPU of
  the server's child that ran the call (the client appends it to `AGENTDECK_SERVER_TIMES`), plus
  the server's own CPU over the run (accepting and forking, from /proc) divided by its calls,
  plus what its children spent after answering (exiting: the kernel's count of the ended
  children's CPU, from /proc, less what they reported) divided by the calls;
- in-process: the process's CPU.

The calls through the server run the script of a regular (wheel) install, as `pip install
agentdeck` gives (byte-compiled, as pip does), built from this checkout into a temporary virtual environment that shares this
one's dependencies; the same figures for this editable checkout follow (its import finder adds
about 10 ms to every Python start-up). In-process calls use the wheel install too.

Baselines in the same run: `python -c "import sqlmodel"`, and Backlog.md's compiled binary for
the nearest verb on a 1,000-task backlog (installed with npm into a cache folder when npm is
available; otherwise the script says so): `task edit N -s "In Progress" -a @a` for claim,
`-s "In Progress"` again for heartbeat, `--append-notes` for log, `--comment` for usage and
`-s Done` for done. Targets: at most 100 ms wall and 60 ms CPU per call through the server, and
at least 3x less CPU than Backlog.md's binary.

Run: `python -m tests.bench.agent_call [--runs N]` (default 15); the load average is printed
before and after, since the figures depend on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

TASKS = 1000
VERBS = ("claim", "heartbeat", "log", "usage", "done")
TARGET_WALL_MS = 100.0
TARGET_CPU_MS = 60.0
TARGET_BACKLOG_RATIO = 3.0
NPM_PACKAGE = "backlog.md"


ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """#!{python}
import re
import sys
from agentdeck.tui.cli.quick import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def wheel_install(tmp: Path) -> str:
    """A regular install of this checkout (its wheel unpacked into a new virtual environment
    whose import path ends with this one's site-packages, for the dependencies); its script."""
    wheels = tmp / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A path line: this venv's own .pth files (the editable finder) are not run there.
    (Path(site) / "agentdeck_bench_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    with zipfile.ZipFile(next(wheels.glob("agentdeck-*.whl"))) as wheel:
        wheel.extractall(site)
    # pip compiles what it installs to bytecode (unless told --no-compile); without it, and with
    # PYTHONDONTWRITEBYTECODE set, every call would compile the front's modules from source.
    subprocess.run(
        [str(python), "-m", "compileall", "-q", str(Path(site) / "agentdeck")],
        check=True,
        capture_output=True,
    )
    script = venv / "bin" / "agentdeck"
    script.write_text(SCRIPT.format(python=python))
    script.chmod(0o755)
    return str(script)


def _agentdeck() -> str:
    script = Path(sys.executable).parent / "agentdeck"
    if not script.exists():
        sys.exit(f"no agentdeck script next to {sys.executable}; run `pip install -e .` first")
    return str(script)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Timer:
    """Runs a command and records its wall time and its CPU (the child's, plus `extra`)."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def run(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str],
        cwd: Path | None = None,
        extra_cpu: Callable[[], float] = lambda: 0.0,
    ) -> str:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.wall.setdefault(name, []).append(wall)
        self.cpu.setdefault(name, []).append(cpu + extra_cpu())
        return done.stdout

    def median_ms(self, name: str) -> tuple[float, float]:
        return (
            statistics.median(self.wall[name]) * 1000,
            statistics.median(self.cpu[name]) * 1000,
        )


def prepare_board(db: Path) -> str:
    """A SQLite board of 1,000 ready tasks and agent `a`; returns the agent's token."""
    from agentdeck.core import Deck

    with Deck.open(db, create=True) as deck:
        deck.create_board("BEN", "Benchmark", actor="human", lease_seconds=86400)
        deck.add_agent("a", actor="human")
        for i in range(TASKS):
            deck.add_task(f"Task {i}: make part {i} work", actor="human", priority=i % 4)
        token = deck.issued_token("a", "BEN")
        assert token is not None
        return token


def server_cpu_s(script: str, env: dict[str, str]) -> tuple[int, float, float]:
    """The resident server's pid, its own CPU seconds so far, and those of its children that
    have ended (the kernel's count, which includes what a child spends after it answered:
    exiting, unmapping the memory it shared with the server)."""
    out = subprocess.run(
        [script, "server", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(json.loads(out.stdout)["pid"])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (
        pid,
        (int(fields[11]) + int(fields[12])) / ticks,
        (int(fields[13]) + int(fields[14])) / ticks,
    )


def backlog_binary(cache: Path) -> Path | None:
    """Backlog.md's compiled binary, installed with npm into `cache`; None without npm."""
    found = list(cache.glob("node_modules/backlog.md-*/backlog"))
    if not found:
        npm = shutil.which("npm")
        if npm is None:
            return None
        cache.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            [npm, "install", "--prefix", str(cache), NPM_PACKAGE],
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            print(f"npm could not install {NPM_PACKAGE}: {installed.stderr.strip()[-300:]}")
            return None
        found = list(cache.glob("node_modules/backlog.md-*/backlog"))
    return found[0] if found else None


def prepare_backlog(binary: Path, folder: Path, env: dict[str, str]) -> None:
    """A Backlog.md project of 1,000 tasks, written as the files `backlog task create` writes."""
    folder.mkdir()
    subprocess.run(
        [str(binary), "init", "bench", "--defaults", "--no-git"],
        cwd=folder,
        env=env,
        capture_output=True,
        check=True,
    )
    tasks = folder / "backlog" / "tasks"
    tasks.mkdir(parents=True, exist_ok=True)
    for i in range(1, TASKS + 1):
        (tasks / f"task-{i} - Task-{i}.md").write_text(
            f"---\nid: TASK-{i}\ntitle: 'Task {i}: make part {i} work'\nstatus: To Do\n"
            f"assignee: []\ncreated_date: '2026-01-01 09:00'\nlabels: []\ndependencies: []\n"
            f"ordinal: {i * 1000}\n---\n"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--npm-cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "agentdeck-bench"
        / "npm",
    )
    args = parser.parse_args()
    runs = args.runs
    print(f"load average before: {_load()} ({os.cpu_count()} cores)")
    timer = Timer()
    with tempfile.TemporaryDirectory(prefix="agentcall") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "bench.db"
        token = prepare_board(db)
        runtime = tmp / "run"
        times = tmp / "times"
        base = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")} | {
            "AGENTDECK_DB": str(db),
            "AGENTDECK_TOKEN": token,
        }
        served = base | {
            "AGENTDECK_RUNTIME_DIR": str(runtime),
            "AGENTDECK_SERVER_TIMES": str(times),
        }
        alone = base | {"AGENTDECK_NO_SERVER": "1"}
        installed = wheel_install(tmp)
        scripts = {"server": installed, "editable": _agentdeck(), "in-process": installed}

        reported = {"server": 0.0, "editable": 0.0}  # the children's own figures, summed

        def child_cpu(mode: str) -> Callable[[], float]:
            def read() -> float:
                last = times.read_text().splitlines()[-1].split()
                cpu = float(last[0]) + float(last[1])
                reported[mode] += cpu
                return cpu

            return read

        def cycle(mode: str, env: dict[str, str], extra: Callable[[], float]) -> None:
            agentdeck = scripts[mode]
            out = timer.run(f"{mode} claim", [agentdeck, "claim", "--json"], env, None, extra)
            key = json.loads(out)["task"]["key"]
            calls = {
                "heartbeat": ["heartbeat"],
                "log": ["log", key, "pytest: 42 passed"],
                "usage": ["usage", key, "--tokens-in", "1200", "--tokens-out", "300"],
                "done": ["done", key, "Made it work", "--verified-by", "pytest"],
            }
            for verb, argv in calls.items():
                timer.run(f"{mode} {verb}", [agentdeck, *argv], env, None, extra)

        before = {}
        for mode in ("server", "editable"):
            subprocess.run(
                [scripts[mode], "heartbeat"], env=served, check=True, capture_output=True
            )
            before[mode] = server_cpu_s(scripts[mode], served)
        binary = backlog_binary(args.npm_cache)
        folder = tmp / "backlog"
        if binary is not None:
            prepare_backlog(binary, folder, base)
        for cmd in ([sys.executable, "-c", "import sqlmodel"],):
            subprocess.run(cmd, check=True)  # warm the file cache
        for run in range(runs):
            cycle("server", served, child_cpu("server"))
            cycle("in-process", alone, lambda: 0.0)
            cycle("editable", served, child_cpu("editable"))
            timer.run("import sqlmodel", [sys.executable, "-c", "import sqlmodel"], base)
            if binary is not None:
                n = str(run + 1)
                edits = {
                    "claim": ["-s", "In Progress", "-a", "@a"],
                    "heartbeat": ["-s", "In Progress"],
                    "log": ["--append-notes", "pytest: 42 passed"],
                    "usage": ["--comment", "usage: 1200 tokens in, 300 out"],
                    "done": ["-s", "Done", "--final-summary", "Made it work"],
                }
                for verb, extra_args in edits.items():
                    timer.run(
                        f"backlog {verb}",
                        [str(binary), "task", "edit", n, *extra_args, "--plain"],
                        base,
                        folder,
                    )
        per_call_server = {}
        per_call_exit = {}
        for mode in ("server", "editable"):
            pid, cpu_after, children_after = server_cpu_s(scripts[mode], served)
            assert pid == before[mode][0], "the server restarted during the run (code edited?)"
            # Its calls, and the status call between the readings.
            calls = runs * len(VERBS) + 1
            per_call_server[mode] = (cpu_after - before[mode][1]) / calls
            # What the children spent beyond the figure each reported before exiting.
            per_call_exit[mode] = (children_after - before[mode][2] - reported[mode]) / calls
            subprocess.run([scripts[mode], "server", "stop"], env=served, capture_output=True)

    print(
        f"1,000-task SQLite board, medians of {runs} calls per verb; CPU through the server = "
        f"client + the child that ran it + the server's own "
        f"{per_call_server['server'] * 1000:.1f} ms per call (accept and fork, averaged) + "
        f"the children's {per_call_exit['server'] * 1000:.1f} ms per call after answering "
        "(exit, averaged)"
    )
    header = f"{'verb':10} {'server wall':>12} {'server CPU':>11} {'in-process':>18}"
    header += f" {'editable':>18}"
    if binary is not None:
        header += f" {'Backlog.md':>18} {'CPU ratio':>10}"
    print(header + "   (wall / CPU, ms)")
    verdicts = []
    for verb in VERBS:
        wall, cpu = timer.median_ms(f"server {verb}")
        cpu += (per_call_server["server"] + per_call_exit["server"]) * 1000
        in_wall, in_cpu = timer.median_ms(f"in-process {verb}")
        ed_wall, ed_cpu = timer.median_ms(f"editable {verb}")
        ed_cpu += (per_call_server["editable"] + per_call_exit["editable"]) * 1000
        line = f"{verb:10} {wall:12.1f} {cpu:11.1f} {in_wall:8.1f} / {in_cpu:7.1f}"
        line += f" {ed_wall:8.1f} / {ed_cpu:7.1f}"
        ok = wall <= TARGET_WALL_MS and cpu <= TARGET_CPU_MS
        if binary is not None:
            bl_wall, bl_cpu = timer.median_ms(f"backlog {verb}")
            ratio = bl_cpu / cpu
            ok = ok and ratio >= TARGET_BACKLOG_RATIO
            line += f" {bl_wall:8.1f} / {bl_cpu:7.1f} {ratio:9.2f}x"
        verdicts.append(ok)
        print(line + ("" if ok else "   OVER target"))
    base_wall, base_cpu = timer.median_ms("import sqlmodel")
    print(f"python -c 'import sqlmodel': {base_wall:.1f} ms wall, {base_cpu:.1f} ms CPU")
    if binary is None:
        print("Backlog.md not measured: npm is not available (or could not install it)")
    else:
        print(f"Backlog.md: {binary}")
    print(
        f"targets: <= {TARGET_WALL_MS:.0f} ms wall and <= {TARGET_CPU_MS:.0f} ms CPU per call"
        + (f", >= {TARGET_BACKLOG_RATIO:.0f}x less CPU than Backlog.md" if binary else "")
        + f": met for {sum(verdicts)} of {len(VERBS)} verbs"
    )
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
