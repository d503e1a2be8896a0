"""Starting the demo's agent processes, granting them turns, and making sure none outlives us.

`Team` spawns one `agentdeck.tui.demo.agent` process per role, all in one process group, and stops
them with a deadline: ask politely (`stop` and closed pipes), then SIGTERM the group, then
SIGKILL it. `Conductor` is a thread that grants turns in story-time order, paced to the wall
clock by `--speed`; one turn runs at a time, so the sequence of moves depends only on the
seed, never on which process the OS schedules first.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from agentdeck.core.identity import ENV_AS, ENV_TOKEN
from agentdeck.core.storage.engine import ENV_DB
from agentdeck.tui.demo.team import Role

_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class AgentProcess:
    """One running role, spoken to over its stdin and stdout."""

    role: Role
    popen: subprocess.Popen[str]
    log_path: Path
    ready: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _read(self) -> dict[str, Any] | None:
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline()
        if not line:
            return None
        try:
            message: dict[str, Any] = json.loads(line)
        except ValueError:
            return {"error": f"{self.role.name}: unreadable reply {line[:80]!r}"}
        return message

    def turn(self) -> dict[str, Any] | None:
        """Grant one turn and return the reply, or None if the process has gone."""
        try:
            if not self.ready:
                if self._read() is None:
                    return None
                self.ready = True
            assert self.popen.stdin is not None
            self.popen.stdin.write("turn\n")
            self.popen.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            return None
        return self._read()

    def last_error_line(self) -> str:
        """The last line the process wrote to its log (a traceback's last line), if any."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""


class Team:
    """The demo's agent processes, in one process group the demo owns.

    All processes start at once, from the main thread (Linux's parent-death signal fires when
    the *thread* that started a child ends), but only the first role (the lead) loads its
    libraries straight away; the others wait for `go`, sent once the lead has moved the board,
    so the lead's first turn is not slowed by five interpreters importing at the same time.
    """

    def __init__(
        self,
        roles: list[Role],
        config: dict[str, Any],
        log_dir: Path,
        *,
        db: str,
        env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.roles, self.config, self.log_dir, self.db = roles, config, log_dir, db
        # Each role's own environment on top of ours, by role name: its credential.
        self.env = env or {}
        self.agents: dict[int, AgentProcess] = {}
        self.pgid: int | None = None
        self.stopped = False
        self._lock = threading.RLock()
        self._logs: list[IO[str]] = []

    @property
    def pids(self) -> list[int]:
        return [a.pid for a in list(self.agents.values())]

    def start(self) -> None:
        """Start every role's process; all but the first hold until `release`."""
        self._spawn(self.roles)

    def release(self) -> None:
        """Let the held processes load their libraries and get ready for their turns."""
        for agent in list(self.agents.values())[1:]:
            with contextlib.suppress(OSError, ValueError):
                assert agent.popen.stdin is not None
                agent.popen.stdin.write("go\n")
                agent.popen.stdin.flush()

    def _spawn(self, roles: list[Role]) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        env[ENV_DB] = self.db  # not on the command line, where a URL's password would show
        for inherited in (ENV_TOKEN, ENV_AS):  # the user's own identity is not the agents'
            env.pop(inherited, None)
        for role in roles:
            with self._lock:
                if self.stopped:
                    return
                config = {
                    **self.config,
                    "role": role.to_dict(),
                    "parent": os.getpid(),
                    "hold": role is not self.roles[0],
                }
                log_path = self.log_dir / f"{role.name}.log"
                log = log_path.open("w", encoding="utf-8")
                self._logs.append(log)
                popen = subprocess.Popen(
                    [sys.executable, "-m", "agentdeck.tui.demo.agent", json.dumps(config)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    bufsize=1,
                    # Its credential in the environment, never on the command line (`ps`).
                    env={**env, **self.env.get(role.name, {})},
                    cwd=str(_ROOT),
                    # One group for the whole team, apart from the terminal's foreground group,
                    # so Ctrl-C reaches only the parent and one killpg reaches every agent.
                    process_group=self.pgid or 0,
                )
                self.pgid = self.pgid or popen.pid
                self.agents[role.index] = AgentProcess(role, popen, log_path)

    def stop(self, grace: float = 2.0) -> None:
        """Stop every agent: `stop` on its pipe, then SIGTERM, then SIGKILL, each with a deadline."""
        with self._lock:
            self.stopped = True
        for agent in list(self.agents.values()):
            with contextlib.suppress(OSError, ValueError):
                assert agent.popen.stdin is not None
                agent.popen.stdin.write("stop\n")
                agent.popen.stdin.close()
        if not self._wait(grace):
            self._signal(signal.SIGTERM)
            if not self._wait(1.0):
                self._signal(signal.SIGKILL)
                self._wait(1.0)
        for agent in list(self.agents.values()):
            with contextlib.suppress(OSError, ValueError):
                if agent.popen.stdout is not None:
                    agent.popen.stdout.close()
        for log in self._logs:
            log.close()

    def _wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        for agent in list(self.agents.values()):
            with contextlib.suppress(subprocess.TimeoutExpired):
                agent.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        return all(a.popen.poll() is not None for a in list(self.agents.values()))

    def _signal(self, signum: int) -> None:
        if self.pgid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signum)
        for agent in list(self.agents.values()):  # one that left the group still gets it
            if agent.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    agent.popen.send_signal(signum)


class Conductor(threading.Thread):
    """Grants turns in story-time order; a turn's pause moves that agent's next turn later."""

    def __init__(self, team: Team, speed: float = 1.0, max_turns: int | None = None) -> None:
        super().__init__(name="demo-conductor", daemon=True)
        self.team, self.speed, self.max_turns = team, speed, max_turns
        self.turns = 0
        self.first_turn_at: float | None = None  # monotonic time the first turn finished
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        queue = [(self._offset(role), role.index) for role in self.team.roles]
        heapq.heapify(queue)
        while queue and not self.stopping.is_set():
            if self.max_turns is not None and self.turns >= self.max_turns:
                break
            at, index = heapq.heappop(queue)
            delay = start + at / self.speed - time.monotonic()
            if delay > 0 and self.stopping.wait(delay):
                break
            agent = self.team.agents.get(index)
            reply = agent.turn() if agent is not None else None
            if self.stopping.is_set() or agent is None:
                break
            if self.first_turn_at is None:
                self.first_turn_at = time.monotonic()
                self.team.release()
            if reply is None or "error" in reply:
                self.errors.append(self._describe(agent, reply))
                continue
            self.turns += 1
            heapq.heappush(queue, (at + max(0.05, float(reply.get("pause", 1.0))), index))

    @staticmethod
    def _offset(role: Role) -> float:
        """When each member takes its first turn: the lead at once, the workers right after."""
        return {"supervisor": 0.0, "reviewer": 2.0}.get(role.kind, 0.3 + 0.25 * role.index)

    @staticmethod
    def _describe(agent: AgentProcess, reply: dict[str, Any] | None) -> str:
        if reply is not None:
            return str(reply["error"])
        with contextlib.suppress(subprocess.TimeoutExpired):
            agent.popen.wait(timeout=2)  # it closed its pipe; let it finish exiting
        code = agent.popen.poll()
        detail = agent.last_error_line()
        return f"{agent.role.name}: the process ended (exit code {code}){': ' + detail if detail else ''}"

    def stop(self) -> None:
        self.stopping.set()
