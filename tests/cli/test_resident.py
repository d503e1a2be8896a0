"""The resident server behind the console script (`agentdeck.tui.cli.quick` and `.resident`),
exercised with real processes: the installed `agentdeck` script, the server it starts, and the
child that runs each call.

Every test here has its own runtime directory (AGENTDECK_RUNTIME_DIR) and kills, by pid, the
servers started in it at teardown; the rest of the suite runs with AGENTDECK_NO_SERVER=1.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import resource
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer

from agentdeck.core import Deck
from agentdeck.core.storage import schema
from agentdeck.tui.cli import app, quick
from tests.cli.conftest import AGENTDECK, sqlite_only
from tests.concurrency.crash import kills_from_env

Run = Callable[..., subprocess.CompletedProcess[str]]
# How long (AGENTDECK_SERVER_TIMEOUT, seconds) these tests' clients wait for a server to start
# and to take a call before they run it in-process.
START_WAIT_S = "120"


class Resident:
    """A runtime directory of the test's own and the environment that uses it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.times = directory / "times"

    @property
    def env(self) -> dict[str, str]:
        """The test's environment (as its fixtures left it), using this directory's server."""
        env = {k: v for k, v in os.environ.items() if k != quick.ENV_NO_SERVER}
        return env | {
            quick.ENV_RUNTIME_DIR: str(self.directory),
            quick.ENV_TIMES: str(self.times),
            # A loaded CI machine can take longer than the 15 s a client waits for a fresh
            # server to say "ready" (its imports and warm-up: 1.8 s on a quiet one), and then
            # the call runs in-process: correct, but not what these tests are about.
            quick.ENV_TIMEOUT: START_WAIT_S,
        }

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        cwd: Path | None = None,
        umask: int = -1,
        file_size_limit: int | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """The installed `agentdeck` script, as an agent runs it."""
        return subprocess.run(
            [str(AGENTDECK), *args],
            env={**self.env, **(env or {})},
            input=input,
            cwd=cwd,
            umask=umask,
            preexec_fn=None if file_size_limit is None else lambda: _limit(file_size_limit),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def served(self) -> int:
        """How many calls a server's child has answered so far."""
        return len(self.times.read_text().splitlines()) if self.times.exists() else 0

    def servers(self) -> list[int]:
        """The pids of the servers started for this directory (from /proc): the processes
        that run the server's code, without the children a live server forked for calls."""
        ours = self.processes()
        return [pid for pid, parent in ours.items() if parent not in ours]

    def processes(self) -> dict[int, int]:
        """Every process of this directory's servers and their children: pid -> parent pid."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if (
                    any(b"agentdeck.tui.cli.resident" in a for a in argv)
                    and os.fsencode(self.directory) in argv
                    and int(entry.name) != os.getpid()
                ):
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    found[int(entry.name)] = int(stat[1])
            except OSError:  # it ended while we looked: it is no longer one of them
                continue
        return found

    def socket(self) -> Path:
        return self.directory / f"server-{quick.server_key()}.sock"

    def listener(self) -> int:
        """The pid of the server that listens on the socket's name now (SO_PEERCRED)."""
        with socket.socket(socket.AF_UNIX) as probe:
            probe.connect(str(self.socket()))
            creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        return int.from_bytes(creds[:4], sys.byteorder)


def _limit(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


@pytest.fixture
def resident() -> Iterator[Resident]:
    # A short path: a Unix socket's path must fit in about 100 bytes.
    directory = Path(tempfile.mkdtemp(prefix="adr-"))
    try:
        yield Resident(directory)
    finally:
        for pid in Resident(directory).processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if directory.is_symlink():
            directory.unlink()
        shutil.rmtree(directory, ignore_errors=True)


def gone(pid: int, timeout: float) -> bool:
    """Wait (woken by the kernel, not polling) until process `pid` has ended."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def in_process(
    resident: Resident, *args: str, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    env = dict(kwargs.pop("env", None) or {})  # type: ignore[call-overload]
    return resident.run(*args, env={**env, quick.ENV_NO_SERVER: "1"}, **kwargs)  # type: ignore[arg-type]


# -- what goes where ------------------------------------------------------------------------------


def test_every_command_is_either_served_or_run_in_process() -> None:
    assert set(app.COMMANDS) == quick.SERVED | quick.IN_PROCESS
    assert not quick.SERVED & quick.IN_PROCESS
    # The front reads root options from its own table: it must be the root's real options.
    root = typer.main.get_command(app.build_app(only="log"))
    real = {
        name: not getattr(param, "is_flag", False)
        for param in root.params
        if param.param_type_name == "option"
        for name in param.opts
        if name.startswith("--") and name != "--help"
    }
    assert real == quick.ROOT_OPTIONS
    for argv in (
        ["log", "K", "x"],
        ["--db", "x.db", "--json", "claim"],
        ["--as=coder", "done", "K"],
        ["--db"],
        ["--help"],
        ["nosuch"],
        [],
        ["--board", "log", "claim"],
    ):
        assert quick.command_name(argv) == app.command_name(argv), argv


@sqlite_only
def test_the_front_imports_only_the_standard_library(resident: Resident, web: str) -> None:
    """`python -X importtime` of a real call through the server: beyond what Python's own
    start-up loads (site, and an editable install's finder), only standard-library modules and
    the front's own three."""
    baseline = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True
    )
    assert resident.run("ready", "--as", "coder").returncode == 0  # the server is up
    before = resident.served()
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", str(AGENTDECK), "ready", "--as", "coder"],
        env=resident.env,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0 and "WEB-1" in ran.stdout
    assert resident.served() == before + 1, "the call did not go through the server"

    def names(stderr: str) -> set[str]:
        return {
            line.rsplit("|", 1)[1].strip()
            for line in stderr.splitlines()
            if line.startswith("import time:") and "|" in line
        }

    loaded = names(ran.stderr) - names(baseline.stderr)
    own = {"agentdeck", "agentdeck.tui", "agentdeck.tui.cli", "agentdeck.tui.cli.quick"}
    outside = {
        m for m in loaded - own if m.split(".")[0] not in sys.stdlib_module_names | {"_signal"}
    }
    assert "agentdeck.tui.cli.quick" in loaded
    assert outside == set()
    assert not {"typer", "click", "sqlalchemy", "agentdeck.tui.cli.app"} & loaded


# -- the same answers as in-process -----------------------------------------------------------------


@sqlite_only
def test_a_call_through_the_server_answers_as_in_process(
    resident: Resident, web: str, deck: Deck
) -> None:
    deck.claim("coder", key="WEB-1")
    calls = [
        ("ready", "--as", "designer", "--json"),
        ("task", "show", "WEB-1"),
        ("task", "show", "WEB-99"),  # not found: exit 1, one line on stderr
        ("--json", "task", "show", "WEB-99"),  # and its JSON error on stdout
        ("claim", "WEB-2", "--as", "designer"),  # refused: exit 2
        ("claim", "--as", "designer"),  # nothing ready: exit 3
        ("log", "WEB-1"),  # a usage error from Click
        ("log", "--help"),
    ]
    before = resident.served()
    codes = set()
    for args in calls:
        served, alone = resident.run(*args), in_process(resident, *args)
        assert (served.returncode, served.stdout, served.stderr) == (
            alone.returncode,
            alone.stdout,
            alone.stderr,
        ), args
        codes.add(served.returncode)
    assert codes == {0, 1, 2, 3}
    assert resident.served() == before + len(calls)
    # A write: acknowledged once, present once.
    wrote = resident.run("log", "WEB-1", "through the server", "--as", "coder")
    assert wrote.returncode == 0 and wrote.stderr == ""
    texts = [e.text for e in deck.events_since(0) if e.kind == "log"]
    assert texts.count("through the server") == 1


@sqlite_only
def test_credentials_pass_through_and_identity_is_what_in_process_allows(
    resident: Resident, db: str
) -> None:
    with Deck.open(db, create=True) as deck:
        deck.create_board("TOK", "Tokens", actor="ann", agents="token")
        deck.add_agent("coder", actor="ann")
        deck.add_task("Build it", actor="ann")
        token = deck.issued_token("coder", "TOK")
    assert token
    claimed = resident.run("claim", "--json", env={"AGENTDECK_TOKEN": token})
    assert claimed.returncode == 0, claimed.stderr
    assert '"assignee": "coder"' in claimed.stdout.replace('"holder"', '"assignee"') or (
        "coder" in claimed.stdout
    )
    # A forged name beside coder's token, or no token at all: refused exactly as in-process.
    for env in ({"AGENTDECK_TOKEN": token, "AGENTDECK_AS": "ann"}, {"AGENTDECK_AS": "coder"}):
        served = resident.run("log", "TOK-1", "forged", env=env)
        alone = in_process(resident, "log", "TOK-1", "forged", env=env)
        assert served.returncode == alone.returncode != 0
        assert served.stderr == alone.stderr
    assert resident.served() >= 3


@sqlite_only
def test_a_warmed_server_refuses_a_forged_identity(resident: Resident, db: str) -> None:
    """The server warms up by running an agent named `agent`'s verbs with its token on a board
    of its own: nothing of that identity reaches a call. On a token board with a member of the
    same name, a call with no token, with a forged one, or with another board's token beside
    `--as agent`, is refused exactly as in-process, and writes nothing."""
    with Deck.open(db, create=True) as deck:
        deck.create_board("TOK", "Tokens", actor="ann", agents="token")
        deck.add_agent("agent", actor="ann")
        deck.add_task("Build it", actor="ann")
        token = deck.issued_token("agent", "TOK")
    assert token
    # Started (and warmed) by this call, which acts with the real token.
    assert resident.run("claim", "--json", env={"AGENTDECK_TOKEN": token}).returncode == 0
    assert len(resident.servers()) == 1
    forged = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")  # well-formed
    for env in ({}, {"AGENTDECK_TOKEN": forged}, {"AGENTDECK_AS": "agent"}):
        for args in (("log", "TOK-1", "forged"), ("heartbeat", "--as", "agent"), ("done", "TOK-1")):
            served = resident.run(*args, env=env)
            alone = in_process(resident, *args, env=env)
            assert (served.returncode, served.stdout, served.stderr) == (
                alone.returncode,
                alone.stdout,
                alone.stderr,
            ), (args, env)
            assert served.returncode != 0, (args, env)
    with Deck.open(db) as deck:
        assert [e.kind for e in deck.events_since(0) if e.kind in ("log", "completed")] == []
        assert deck.get_task("TOK-1").status == "in_progress"


@sqlite_only
def test_a_warmed_server_keeps_nothing_of_its_warm_up(resident: Resident, web: str) -> None:
    """The warm-up's board is closed and deleted before the server listens: the server holds
    no file of it (no database, WAL or writer lock: a lock left open would be inherited by
    every child) and runs one thread (it forks). The folder a server killed while warming up
    left behind (`warm-PID` in the runtime directory) is deleted by the next server."""
    dead = resident.directory / f"warm-{_ended_pid()}"
    dead.mkdir()
    (dead / "board.db").write_text("left by a killed server")
    assert resident.run("ready", "--as", "coder").returncode == 0
    [pid] = resident.servers()
    held = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            held.append(os.readlink(fd))
    assert [h for h in held if "warm-" in h or "board.db" in h] == []
    assert len(list(Path(f"/proc/{pid}/task").iterdir())) == 1
    assert [p.name for p in resident.directory.iterdir() if p.name.startswith("warm-")] == []


def _ended_pid() -> int:
    """The pid of a process that has ended (and been waited for)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@sqlite_only
def test_an_older_schema_is_migrated_through_a_warmed_server(
    resident: Resident, web: str, tmp_path: Path
) -> None:
    """A server warmed up on a board at the head revision still checks each database a call
    opens: a board left at the previous revision by an older agentdeck is migrated by the call,
    which answers as in-process does on a copy of the same board."""
    from tests.core.storage.test_migrations import _downgrade_to

    assert resident.run("ready", "--as", "coder").returncode == 0  # a warmed server, running
    with Deck.open(web) as deck:
        _downgrade_to(deck, schema.REVISIONS[-2])
    twin = tmp_path / "twin.db"
    with sqlite3.connect(web) as source, sqlite3.connect(twin) as copy:
        source.backup(copy)
    assert _revision(web) == _revision(str(twin)) == schema.REVISIONS[-2]
    before = resident.served()
    args = ("ready", "--as", "coder", "--json")
    served = resident.run(*args)
    alone = in_process(resident, *args, env={"AGENTDECK_DB": str(twin)})
    assert served.returncode == 0, served.stderr
    assert (served.returncode, served.stdout, served.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert resident.served() == before + 1
    assert _revision(web) == _revision(str(twin)) == schema.HEAD


def _revision(path: str) -> str | None:
    """The schema revision stored in the SQLite file at `path`, read without migrating it."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return schema.current_revision(conn)
    finally:
        engine.dispose()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
@sqlite_only
def test_a_peer_of_another_user_is_refused(resident: Resident, web: str) -> None:
    assert resident.run("ready", "--as", "coder").returncode == 0
    path = resident.socket()
    resident.directory.chmod(0o711)
    path.chmod(0o666)
    code = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(sys.argv[1])\n"
        "fd = os.open('/', os.O_RDONLY)\n"
        "try:\n"
        "    socket.send_fds(s, [b'x\\n2\\n{}'], [0, 1, 2, fd])\n"
        "    print(repr(s.recv(100)))\n"
        "except (BrokenPipeError, ConnectionResetError):\n"
        "    print('closed')\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=30
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() in ("b''", "closed")  # closed without an answer
    assert resident.served() == 1
    resident.directory.chmod(0o700)  # (0711 is not private: it would run in-process)
    assert resident.run("ready", "--as", "coder").returncode == 0  # and still serving us
    assert resident.served() == 2


@sqlite_only
def test_stdin_passes_through(resident: Resident, web: str, deck: Deck) -> None:
    before = resident.served()
    edited = resident.run(
        "task", "edit", "WEB-1", "--description", "-", "--as", "ann", input="Read from stdin\n"
    )
    assert edited.returncode == 0, edited.stderr
    assert resident.served() == before + 1
    assert deck.get_task("WEB-1").description.strip() == "Read from stdin"


@sqlite_only
def test_working_directory_and_umask_pass_through(
    resident: Resident, web: str, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    before = resident.served()
    exported = resident.run("export", "--out", "board.json", cwd=work, umask=0o027)
    assert exported.returncode == 0, exported.stderr
    assert resident.served() == before + 1
    assert (work / "board.json").stat().st_mode & 0o777 == 0o640
    assert '"WEB-1"' in (work / "board.json").read_text()
    # A file-size limit (ulimit -f) holds in the server's child as in the caller.
    limited = resident.run("export", "--out", "big.json", cwd=work, file_size_limit=100)
    alone = in_process(resident, "export", "--out", "big.json", cwd=work, file_size_limit=100)
    assert resident.served() == before + 2
    assert (limited.returncode, limited.stderr) == (alone.returncode, alone.stderr)
    assert limited.returncode == 5 and "size limit" in limited.stderr  # it held


# -- failures and restarts --------------------------------------------------------------------------


@sqlite_only
def test_server_status_stop_and_idle_exit(resident: Resident, web: str) -> None:
    status = resident.run("server", "status")
    assert status.returncode == 0 and status.stdout.startswith("no resident server")
    resident.run("ready", "--as", "coder", env={quick.ENV_IDLE: "600"})
    [pid] = resident.servers()
    status = resident.run("server", "status")
    assert status.stdout.startswith(f"running: pid {pid},")
    stopped = resident.run("server", "stop")
    assert stopped.stdout.startswith(f"stopped: pid {pid},")
    assert gone(pid, 30) and not resident.socket().exists()
    # Idle: a server started with a one-second idle limit exits by itself (perhaps already).
    before = resident.served()
    assert resident.run("ready", "--as", "coder", env={quick.ENV_IDLE: "1"}).returncode == 0
    assert resident.served() == before + 1
    idle = int(resident.socket().with_suffix(".pid").read_text())
    assert idle != pid
    assert gone(idle, 30)
    assert not resident.socket().exists()


@sqlite_only
def test_a_fresh_server_waits_for_its_first_call_past_a_short_idle_limit(
    resident: Resident, web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server is started for a call: a client that is slow to connect after "ready" (a loaded
    machine) still finds it, however short the idle limit; after that call the limit holds."""
    from agentdeck.tui.cli.resident_start import start_server

    monkeypatch.setenv(quick.ENV_IDLE, "0.2")
    monkeypatch.setenv(quick.ENV_TIMEOUT, START_WAIT_S)  # as `Resident.env` does
    assert start_server(str(resident.directory), wait=True)
    pid_file = resident.socket().with_suffix(".pid")
    pid = int(pid_file.read_text())
    assert not gone(pid, 1.0)  # the slow client: five idle limits pass before it connects
    before = resident.served()
    assert resident.run("ready", "--as", "coder").returncode == 0
    assert resident.served() == before + 1
    # Served by that server: a new one would have written its own pid before it took the call.
    # (Asking the socket races with its exit: after its first call the 0.2 s limit holds.)
    assert int(pid_file.read_text()) == pid
    assert gone(pid, 30)  # and then it leaves by itself


@sqlite_only
def test_changed_code_restarts_the_server(resident: Resident, web: str, tmp_path: Path) -> None:
    """The fingerprint covers the import path's folders: a new file in one (as installing a
    package makes) means the server runs old code; it exits and a fresh one answers."""
    extra = tmp_path / "site"
    extra.mkdir()
    env = {"PYTHONPATH": str(extra)}
    assert resident.run("ready", "--as", "coder", env=env).returncode == 0
    [old] = resident.servers()
    (extra / "new_package.py").write_text("")
    before = resident.served()
    again = resident.run("ready", "--as", "coder", env=env)
    assert again.returncode == 0 and "WEB-1" in again.stdout
    assert resident.served() == before + 1  # answered by the new server
    assert gone(old, 30)
    [new] = resident.servers()
    assert new != old


@sqlite_only
def test_a_malformed_request_runs_nothing_and_an_older_client_hears_stale(
    resident: Resident, web: str
) -> None:
    """Requests travel in marshal's format: a body that is not one gets no answer (nothing ran;
    the server serves on), and a client of another version, whose fingerprint differs, hears
    `stale` before its body is read, whatever its format (a Python literal, as older clients
    sent), so it starts a fresh server."""
    assert resident.run("ready", "--as", "coder").returncode == 0
    [pid] = resident.servers()
    python = AGENTDECK.parent / "python"
    current = subprocess.run(
        [str(python), "-c", "from agentdeck.tui.cli import quick; print(quick.fingerprint())"],
        env=resident.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    def ask(fingerprint: str, body: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(30)
            conn.connect(str(resident.socket()))
            conn.sendall(f"{fingerprint}\n{len(body)}\n".encode() + body)
            return conn.recv(100)

    before = resident.served()
    assert ask(current, b"\x00 not marshal") == b""
    assert ask(current, marshal.dumps(["op", "run"])) == b""  # not a dict
    assert resident.servers() == [pid] and resident.served() == before
    older = repr({"op": "run", "argv": ["agentdeck", "ready"], "env": {}}).encode()
    assert ask("0.0.00000000", older) == b"stale\n"
    assert gone(pid, 30)
    again = resident.run("ready", "--as", "coder")
    assert again.returncode == 0 and "WEB-1" in again.stdout
    assert resident.served() == before + 1
    assert resident.servers() != [pid]


@sqlite_only
@pytest.mark.parametrize("hostile", ["open to others", "a symbolic link", "another owner"])
def test_a_hostile_runtime_directory_means_in_process(
    resident: Resident, web: str, deck: Deck, hostile: str, tmp_path: Path
) -> None:
    target = resident.directory
    if hostile == "open to others":
        target.chmod(0o755)
    elif hostile == "a symbolic link":
        real = tmp_path / "real"
        real.mkdir(mode=0o700)
        target.rmdir()
        target.symlink_to(real)
    else:
        if os.getuid() != 0:
            pytest.skip("needs root to give the directory to another user")
        os.chown(target, 65534, 65534)
    deck.claim("coder", key="WEB-1")
    wrote = resident.run("log", "WEB-1", "hostile", "--as", "coder")
    assert wrote.returncode == 0 and wrote.stderr == ""
    assert resident.servers() == [] and resident.served() == 0
    assert not any(p.suffix == ".sock" for p in Path(os.path.realpath(target)).iterdir())
    assert [e.text for e in deck.events_since(0)].count("hostile") == 1


@sqlite_only
def test_a_stuck_server_means_in_process_exactly_once(
    resident: Resident, web: str, deck: Deck
) -> None:
    """A server that accepts the call and never starts it: after AGENTDECK_SERVER_TIMEOUT the
    call runs in-process, once, and a fresh server is started for the next calls."""
    deck.claim("coder", key="WEB-1")
    stuck = socket.socket(socket.AF_UNIX)
    stuck.bind(str(resident.socket()))
    stuck.listen(8)
    try:
        wrote = resident.run(
            "log", "WEB-1", "once", "--as", "coder", env={quick.ENV_TIMEOUT: "0.5"}
        )
        assert wrote.returncode == 0 and wrote.stderr == ""
        assert [e.text for e in deck.events_since(0)].count("once") == 1
        assert resident.served() == 0
        assert len(resident.servers()) == 1  # started, to take the socket's name
    finally:
        stuck.close()
    assert [e.text for e in deck.events_since(0)].count("once") == 1


@sqlite_only
def test_ctrl_c_reaches_the_call(resident: Resident, web: str) -> None:
    """SIGINT to the client (no terminal: a process of its own session, as in CI) stops the
    `events --follow` running in the server's child, which exits 0 as in-process."""
    assert resident.run("ready", "--as", "coder").returncode == 0
    [server] = resident.servers()
    follower = subprocess.Popen(
        [str(AGENTDECK), "events", "--follow", "--as", "ann"],
        env=resident.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline()  # it runs: the history came out
        children = Path(f"/proc/{server}/task/{server}/children").read_text().split()
        assert len(children) == 1
        follower.send_signal(signal.SIGINT)
        assert follower.wait(30) == 0
        assert gone(int(children[0]), 30)
    finally:
        follower.kill()
        follower.wait()


@sqlite_only
def test_a_waiting_claim_through_the_server(resident: Resident, web: str, deck: Deck) -> None:
    """`claim --wait` runs as long as it needs in the server's child and takes the task a
    commit elsewhere makes ready."""
    assert resident.run("ready", "--as", "designer").returncode == 0
    [server] = resident.servers()
    waiting = subprocess.Popen(
        [str(AGENTDECK), "claim", "--wait", "120", "--as", "designer", "--json"],
        env=resident.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        children = Path(f"/proc/{server}/task/{server}/children")
        while not children.read_text().split():  # its child runs the claim
            assert waiting.poll() is None, waiting.communicate()
            select.select([], [], [], 0.05)
        deck.add_task("Style the page", actor="planner", skills=["css"])
        out, err = waiting.communicate(timeout=120)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert "Style the page" in out


@sqlite_only
def test_a_killed_server_loses_no_acknowledged_write(
    resident: Resident, web: str, deck: Deck
) -> None:
    """Writers call `agentdeck log` in a loop through the server while it is SIGKILLed, each
    time after more writes were acknowledged; every call still succeeds (the children finish
    and answer; calls that find no server start one) and every acknowledged entry is in the
    log, once. A tenth of AGENTDECK_CRASH_KILLS kills (at least 3): each costs a server start."""
    deck.claim("coder", key="WEB-1")
    kills = max(3, kills_from_env(default=30) // 10)
    acked: list[str] = []
    failures: list[str] = []
    progress = threading.Condition()
    stop = threading.Event()

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            text = f"w{n}-{i}"
            done = resident.run("log", "WEB-1", text, "--as", "coder")
            with progress:
                if done.returncode == 0:
                    acked.append(text)
                else:
                    failures.append(f"{text}: {done.returncode} {done.stderr}")
                progress.notify_all()
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    killed = []
    try:
        for _ in range(kills):
            with progress:
                mark = resident.served()
                assert progress.wait_for(lambda m=mark: resident.served() >= m + 4, 120)
            # The server now listening (its children, running calls, are left alone).
            pid = resident.listener()
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    assert failures == []
    assert len(set(killed)) == kills
    logged = [e.text for e in deck.events_since(0) if e.kind == "log"]
    assert sorted(set(acked) - set(logged)) == []
    assert len(logged) == len(set(logged))  # and none twice
