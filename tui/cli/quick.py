"""The `agentdeck` console script: a front of standard-library code that hands a command to the
user's resident server, so an agent's call does not pay for importing SQLAlchemy, SQLModel and
Typer (0.45-0.6 s of CPU) every time.

The server (`agentdeck.tui.cli.resident`, started by `agentdeck.tui.cli.resident_start` when none
answers) has the command line's modules imported and forks one child per call; the child adopts
this process's stdin, stdout and stderr (passed as file descriptors), its environment
(credentials such as AGENTDECK_TOKEN, XDG_CONFIG_HOME and HOME included), working directory,
umask and arguments, and runs the Typer app exactly as `agentdeck.tui.cli.app.main` would here.
It answers with the exit code once the command has finished (after its commit), and this process
exits with it. SIGINT, SIGTERM and SIGHUP are forwarded to the child.

Protocol (one Unix stream connection per call): the client sends `<fingerprint>\\n<length>\\n`
then the request (a dict, in `marshal`'s format); the child answers `pid N`; the client commits
with `go`, which carries four descriptors (0, 1, 2 and the working directory; until then nothing
has run, so any failure before it falls back to running in-process); then the client may send
`sig N` lines, and the child ends with `exit CODE UTIME STIME`. A child that finds the server's code older
than the client's (the fingerprint) answers `stale` and the server exits; the client starts a
fresh one.

Only commands in `SERVED` go to the server: the console, the servers (`mcp`, `otel`, `serve`)
and the human one-offs run here. Anything unusual (no Unix sockets, `AGENTDECK_NO_SERVER=1`, a
runtime directory that is not ours and private, a server that does not answer in time) runs the
command in this process, with the same result.

This module imports only the standard library on its fast path; `tests/cli/test_resident.py`
checks that with `python -X importtime`.
"""

from __future__ import annotations

import _socket
import marshal
import os
import stat
import sys
import zlib

# Not `typing.TYPE_CHECKING`: importing typing, socket, signal or collections.abc (and the enum
# module they pull in) would cost this front more than all its own work.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

ENV_NO_SERVER = "AGENTDECK_NO_SERVER"
ENV_RUNTIME_DIR = "AGENTDECK_RUNTIME_DIR"
ENV_IDLE = "AGENTDECK_SERVER_IDLE"
ENV_TIMEOUT = "AGENTDECK_SERVER_TIMEOUT"
# For benchmarks: a file to which each call through the server appends the CPU seconds (user
# and system) of the server's child that ran it, which the caller's own rusage cannot see.
ENV_TIMES = "AGENTDECK_SERVER_TIMES"
DEFAULT_IDLE_S = 900.0
DEFAULT_TIMEOUT_S = 3.0
SUN_PATH_MAX = 104  # the smallest sockaddr_un path length among the Unix systems (macOS)

# The root options the app accepts before a command name, and whether each takes a value
# (the app's root options: `agentdeck.tui.cli.app` reads them from here).
ROOT_OPTIONS = {
    "--db": True,
    "--as": True,
    "--board": True,
    "--json": False,
    "--otel": True,
    "--no-notify": False,
}
# Commands that run in the resident server: short calls that read and write the database and
# print. A test checks that every command of the app is in exactly one of these two sets.
SERVED = frozenset(
    {
        "agent",
        "budget",
        "task",
        "plan",
        "ready",
        "search",
        "similar",
        "comment",
        "claim",
        "heartbeat",
        "doing",
        "log",
        "usage",
        "submit",
        "done",
        "fail",
        "escalate",
        "release",
        "checkpoint",
        "inbox",
        "send",
        "changes",
        "rollback",
        "approve",
        "reject",
        "reopen",
        "answer",
        "assign",
        "priority",
        "cancel",
        "events",
        "report",
        "burndown",
        "export",
        "import",
        "hook",
    }
)
# Run in this process: the console (`board` with no subcommand opens it), long-running servers
# that gain nothing from a warm start, desktop notifications, and human one-offs that may read a
# terminal (`login`) or write client files (`connect`).
IN_PROCESS = frozenset(
    {"board", "login", "connect", "notify", "mcp", "otel", "serve", "screenshot", "demo", "server"}
)

# Messages and the child's exit statuses that tell the server why a child ended early.
STALE = "stale"
UNFIT = "unfit"  # the child cannot take the caller's resource limits: run in-process
EXIT_STALE = 201
EXIT_STOP = 202

REQUEST_RUN = "run"
REQUEST_STATUS = "status"
REQUEST_STOP = "stop"


class Unavailable(Exception):
    """The server cannot take this call; run it in this process instead."""


class Stale(Exception):
    """The server runs older code than this client; it has exited, start a new one."""


def main() -> None:
    """The console script: the resident server for a served command, else in-process."""
    code = None
    if command_name(sys.argv[1:]) in SERVED:
        code = through_server(sys.argv)
    if code is None:
        from agentdeck.tui.cli.app import main as in_process

        in_process()
        return
    sys.exit(code)


def first_word(argv: Sequence[str]) -> str | None:
    """The first word of an argument list after the root options (`--db X`, `--json`, ...),
    or None if another option comes first; `agentdeck.tui.cli.app` reads commands this way too."""
    tokens = iter(argv)
    for token in tokens:
        option = token.split("=", 1)[0]
        if option in ROOT_OPTIONS:
            if ROOT_OPTIONS[option] and "=" not in token:
                next(tokens, None)
            continue
        return None if token.startswith("-") else token
    return None


def command_name(argv: Sequence[str]) -> str | None:
    """The command an argument list runs if only root options come before it, else None."""
    token = first_word(argv)
    return token if token in SERVED or token in IN_PROCESS else None


# -- where the server lives ---------------------------------------------------------------------


def server_enabled() -> bool:
    """Whether this platform and environment allow the resident server at all."""
    if os.environ.get(ENV_NO_SERVER, "") not in ("", "0"):
        return False
    return os.name == "posix" and all(
        hasattr(_socket, name) for name in ("AF_UNIX", "SCM_RIGHTS", "CMSG_LEN")
    )


def runtime_dir(create: bool = True) -> str | None:
    """The per-user directory of the server's socket: `AGENTDECK_RUNTIME_DIR`, else
    `$XDG_RUNTIME_DIR/agentdeck`, else `/tmp/agentdeck-UID`; None unless it is a real directory
    (not a link) owned by this user and closed to everyone else."""
    uid = os.getuid()
    explicit = os.environ.get(ENV_RUNTIME_DIR, "")
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if explicit:
        path = explicit
    elif xdg.startswith("/"):
        path = os.path.join(xdg, "agentdeck")
    else:
        path = f"/tmp/agentdeck-{uid}"
    try:
        if create:
            try:  # noqa: SIM105 (contextlib would cost this front an import)
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
        return None
    return path


def server_key() -> str:
    """Which installation a server belongs to: this environment (sys.prefix), this copy of agentdeck and
    PYTHONPATH. Two virtual environments of one user each get their own server."""
    from agentdeck import tui

    where = "\0".join(
        (sys.prefix, *tui.__path__, os.environ.get("PYTHONPATH", ""), sys.version)
    ).encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(where):08x}{zlib.adler32(where):08x}"


def socket_path(directory: str) -> str:
    """The server's socket in `directory`."""
    return os.path.join(directory, f"server-{server_key()}.sock")


def fingerprint() -> str:
    """The state of the installed code: the newest modification time and the count of the
    files of agentdeck's packages, and the modification times of the import path's folders
    (installing or removing a package changes its site-packages folder). A server whose
    fingerprint differs from its client's runs old code and is replaced."""
    import agentdeck
    from agentdeck import tui

    roots = list(tui.__path__)
    for finder in sys.meta_path:  # where `agentdeck.core` would be found, without importing it
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec("agentdeck.core", agentdeck.__path__) if find_spec else None
        if spec is not None:
            roots.extend(spec.submodule_search_locations or ())
            break
    newest = count = 0
    pending = roots
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name == "__pycache__" or entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
                continue
            try:
                newest = max(newest, entry.stat().st_mtime_ns)
            except OSError:
                continue
            count += 1
    folders = []
    # The first entry is the script's folder (or the current one) unless Python ran with -P,
    # as the server does: the rest is the import path proper.
    for place in sys.path if sys.flags.safe_path else sys.path[1:]:
        try:
            folders.append(str(os.stat(place or ".").st_mtime_ns))
        except OSError:
            folders.append("-")
    return f"{newest}.{count}.{zlib.crc32(' '.join(folders).encode()):08x}"


def timeout_s() -> float:
    """How long to wait for the server's first answer (`AGENTDECK_SERVER_TIMEOUT`)."""
    try:
        value = float(os.environ.get(ENV_TIMEOUT, "") or DEFAULT_TIMEOUT_S)
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


# -- the client ----------------------------------------------------------------------------------


def through_server(argv: Sequence[str]) -> int | None:
    """Run `argv` in the resident server (starting it if need be) and return its exit code, or
    None when it must run in this process: nothing has run in the server then."""
    if not server_enabled():
        return None
    directory = runtime_dir()
    if directory is None:
        return None
    path = socket_path(directory)
    if len(path.encode("utf-8", "surrogateescape")) >= SUN_PATH_MAX:
        return None
    try:
        fds = _own_fds()
    except OSError:
        return None
    try:
        for _attempt in range(2):
            conn = connect(path)
            if conn is None:
                from agentdeck.tui.cli.resident_start import start_server  # none runs yet

                if not start_server(directory, wait=True):
                    return None
                conn = connect(path)
                if conn is None:
                    return None
            try:
                return run_remote(conn, argv, fds)
            except Stale:
                continue
            except Unavailable:
                # A server that takes a call and never starts it is stuck: this call runs
                # here, and a fresh server takes the socket's name for the next ones.
                from agentdeck.tui.cli.resident_start import start_server

                start_server(directory, wait=False)
                return None
            finally:
                conn.close()
    finally:
        os.close(fds[3])
    return None


def _own_fds() -> list[int]:
    """This process's stdin, stdout and stderr, and its working directory, to hand over."""
    for fd in (0, 1, 2):
        os.fstat(fd)  # a closed one raises: run here, as the app would see it
    flags = getattr(os, "O_PATH", os.O_RDONLY) | getattr(os, "O_DIRECTORY", 0)
    return [0, 1, 2, os.open(".", flags)]


def connect(path: str) -> _socket.socket | None:
    """A connection to the server at `path`, or None if none listens there (or it is not ours)."""
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    conn.settimeout(timeout_s())
    try:
        conn.connect(path)
        if not peer_is_us(conn):
            raise OSError("the server's socket belongs to another user")
    except OSError:
        conn.close()
        return None
    return conn


def peer_is_us(conn: _socket.socket) -> bool:
    """Whether the process at the other end runs as this user (where the system can tell)."""
    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:
        return True  # the socket sits in a directory only this user can enter
    creds = conn.getsockopt(_socket.SOL_SOCKET, option, 12)  # struct ucred: pid, uid, gid
    return int.from_bytes(creds[4:8], sys.byteorder) == os.getuid()


RLIMITS = ("RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CPU", "RLIMIT_CORE")


def _limits() -> dict[str, tuple[int, int]]:
    """This process's resource limits (`ulimit`) that the child must take on: a file-size limit
    must stop a write there as it would here."""
    import resource

    return {
        name: resource.getrlimit(getattr(resource, name))
        for name in RLIMITS
        if hasattr(resource, name)
    }


def _stream_setup(stream: object) -> tuple[str, str, bool]:
    """How Python set up one of this process's text streams, for the child to do the same."""
    return (
        str(getattr(stream, "encoding", None) or "utf-8"),
        str(getattr(stream, "errors", None) or "strict"),
        bool(getattr(stream, "line_buffering", False)),
    )


def send_request(conn: _socket.socket, request: dict[str, object]) -> None:
    """Send a request in the framing the server reads: fingerprint, length, and the request in
    `marshal`'s format (built into the interpreter, and several times cheaper to read than a
    Python literal; client and server run the same Python, which the server's key includes)."""
    body = marshal.dumps(request)
    conn.sendall(f"{fingerprint()}\n{len(body)}\n".encode() + body)


def send_go(conn: _socket.socket, fds: Sequence[int]) -> None:
    """Commit to the call: `go`, with the descriptors (SCM_RIGHTS) the child adopts. They are
    sent only now, to a child that has answered, so a stuck server never holds this process's
    stdout open (a pipe's reader would wait for it)."""
    rights = b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds)  # an array of C ints
    conn.sendmsg([b"go\n"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])


class LineReader:
    """Lines from the server's side of a connection."""

    def __init__(self, conn: _socket.socket) -> None:
        self.conn = conn
        self.buffer = b""

    def line(self) -> str | None:
        """The next line without its newline, or None at the end of the connection."""
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8", "replace")


def run_remote(conn: _socket.socket, argv: Sequence[str], fds: Sequence[int]) -> int:
    """Hand the call over on `conn` and wait for its exit code. Raises Unavailable (or Stale)
    while nothing has run yet."""
    old_umask = os.umask(0o077)
    os.umask(old_umask)
    request: dict[str, object] = {
        "op": REQUEST_RUN,
        "argv": list(argv),
        "env": dict(os.environ),
        "umask": old_umask,
        "limits": _limits(),
        "stdio": [_stream_setup(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
    }
    reader = LineReader(conn)
    try:
        send_request(conn, request)
        first = reader.line()
    except OSError as exc:  # a timeout is an OSError too
        raise Unavailable(str(exc)) from exc
    if first == STALE:
        raise Stale()
    if first == UNFIT:
        raise Unavailable("the server cannot take this process's limits")
    if first is None or not first.startswith("pid "):
        raise Unavailable(f"unexpected answer {first!r}")
    try:
        send_go(conn, fds)  # from here on the command runs in the server
    except OSError as exc:
        raise Unavailable(str(exc)) from exc
    conn.settimeout(None)
    return _wait_for_exit(conn, reader)


def _wait_for_exit(conn: _socket.socket, reader: LineReader) -> int:
    """Forward signals to the child until it reports its exit code."""
    import _signal as signal  # the C module: `signal` would import enum

    forwarded: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        forwarded.append(signum)
        try:  # noqa: SIM105
            conn.sendall(b"sig %d\n" % signum)
        except OSError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    while True:
        try:
            line = reader.line()
        except OSError:
            line = None
        if line is None:
            break
        if line.startswith("exit "):
            _, raw_code, utime, stime = line.split()
            code = int(raw_code)
            times = os.environ.get(ENV_TIMES)
            if times:
                with open(times, "a") as out:
                    out.write(f"{utime} {stime}\n")
            if code < 0:  # the child died of this signal, as Python does on an uncaught Ctrl-C
                _die_of(-code)
            return code
    # The child ended without an answer: if it was a signal we passed on, end the same way.
    for signum in reversed(forwarded):
        if signum != signal.SIGINT:
            _die_of(signum)
    sys.stderr.write(
        "agentdeck: error: the resident server's process for this command ended without "
        "an answer; it may or may not have taken effect\n"
    )
    return 1


def _die_of(signum: int) -> None:
    """End this process by signal `signum`, as the command's own process did."""
    import _signal as signal

    sys.stdout.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


if __name__ == "__main__":
    main()
