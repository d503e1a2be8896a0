"""The resident server behind `agentdeck`'s console script (`agentdeck.tui.cli.quick`).

One server per user and installation holds the command line's modules imported (Typer, the
commands, `agentdeck.core` with SQLAlchemy and SQLModel), each served command's Click command
built, and the caches a first call fills filled: before it listens it runs the agents' verbs on
a throwaway board of its own (`agentdeck.tui.cli.resident_warmup`), which it then closes and
deletes. It never opens a caller's database: nothing that holds a connection, a thread or a lock
exists when it forks, and each child makes its own engine, checks the schema and authenticates.
Each call is one child, forked on accept, which adopts the caller's stdin/stdout/stderr,
environment, working directory, umask and arguments, runs `agentdeck.tui.cli.app.main` exactly as
the caller's own process would (its own engine and connection, its own transaction), and sends
the exit code on the connection it inherited only after the command returned (after its commit).
The child owns that connection: a server killed with -9 leaves every child to finish and answer.

The server refuses a peer of another user (SO_PEERCRED), exits after `AGENTDECK_SERVER_IDLE`
seconds without a call (default 15 minutes; a fresh server waits at least `FIRST_CALL_WAIT_S` for
the call it was started for, and takes a call already waiting before it leaves), when another
server takes its socket's name, or when a client's fingerprint shows the installed code changed
(`quick.fingerprint`).
`agentdeck server status|stop` asks it over the same socket (`agentdeck.tui.cli.resident_control`).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import marshal
import os
import resource
import select
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any

from agentdeck.tui.cli import quick, resident_warmup

NAME_CHECK_S = 30.0  # how often an idle server checks that its socket is still its own
# A server is started for a call: however short its idle limit, it waits this long for the first
# one, so a client slowed down between "ready" and its connect is not left to run in-process.
FIRST_CALL_WAIT_S = 15.0


class Server:
    """The listening socket and what the children inherit from it."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = quick.socket_path(directory)
        self.fingerprint = quick.fingerprint()  # before the imports: a change during them shows
        self.started = time.time()
        self.served = 0
        self.idle_s = _idle_seconds()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.inode = 0
        self.wake_r, self.wake_w = os.pipe()
        self.last_call = time.monotonic()

    def listen(self) -> None:
        """Bind a fresh name and rename it over the socket's, so a new server replaces an old
        one atomically (the old one notices and exits)."""
        temporary = f"{self.path}.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        old_umask = os.umask(0o177)
        try:
            self.listener.bind(temporary)
        finally:
            os.umask(old_umask)
        self.listener.listen(128)
        os.rename(temporary, self.path)
        self.inode = os.stat(self.path).st_ino
        with open(self.path.removesuffix(".sock") + ".pid", "w") as pid_file:
            pid_file.write(f"{os.getpid()}\n")  # for people and tests; the socket is the truth
        self.last_call = time.monotonic()  # idle from now, not from before the imports

    def owns_name(self) -> bool:
        """Whether the socket's name still leads to this server."""
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def release_name(self) -> None:
        """Remove the socket's name if it is still this server's."""
        if self.owns_name():
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def serve(self) -> None:
        """Accept calls until idle, replaced, stale or stopped."""
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda _s, _f: None)
        signal.signal(signal.SIGTERM, _exit_on_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            while True:
                limit = self.idle_s if self.served else max(self.idle_s, FIRST_CALL_WAIT_S)
                idle_left = limit - (time.monotonic() - self.last_call)
                if idle_left <= 0:
                    if not self._pending():
                        return
                    idle_left = 0.0  # a call came in as the time ran out: take it
                ready, _, _ = select.select(
                    [self.listener.fileno(), self.wake_r], [], [], min(idle_left, NAME_CHECK_S)
                )
                if self.wake_r in ready:
                    os.read(self.wake_r, 512)
                if self._reap():
                    return
                if self.listener.fileno() in ready:
                    self._accept()
                elif not ready and not self.owns_name():
                    return
        finally:
            self.release_name()
            self.listener.close()

    def _pending(self) -> bool:
        """Whether a call waits on the listening socket now."""
        ready, _, _ = select.select([self.listener.fileno()], [], [], 0)
        return bool(ready)

    def _reap(self) -> bool:
        """Collect ended children; True when one asked the server to exit."""
        leave = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return leave
            if pid == 0:
                return leave
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) in (
                quick.EXIT_STALE,
                quick.EXIT_STOP,
            ):
                leave = True

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            if not quick.peer_is_us(conn):
                return
            self.served += 1
            self.last_call = time.monotonic()
            try:
                pid = os.fork()
            except OSError:
                return  # the client sees the connection close and runs the call itself
            if pid == 0:
                code = 1
                try:
                    code = Child(self, conn).run()
                finally:
                    os._exit(code)


def _exit_on_signal(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _idle_seconds() -> float:
    try:
        value = float(os.environ.get(quick.ENV_IDLE, "") or quick.DEFAULT_IDLE_S)
    except ValueError:
        return quick.DEFAULT_IDLE_S
    return value if value > 0 else quick.DEFAULT_IDLE_S


class Child:
    """One call, in the forked child."""

    def __init__(self, server: Server, conn: socket.socket) -> None:
        self.server = server
        self.conn = conn
        self.fds: list[int] = []

    def run(self) -> int:
        """Read the request, and run it once the client says go; the child's exit status."""
        server = self.server
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.set_wakeup_fd(-1)
        server.listener.close()
        os.close(server.wake_r)
        os.close(server.wake_w)
        conn = self.conn
        conn.settimeout(quick.timeout_s())
        try:
            claimed, body = self._read_request()
        except (OSError, ValueError):
            return 1
        if claimed != server.fingerprint:  # before reading a body another version wrote
            server.release_name()  # the client starts a fresh server under this name
            conn.sendall(f"{quick.STALE}\n".encode())
            return quick.EXIT_STALE
        try:
            request = marshal.loads(body)  # from a process of this user (SO_PEERCRED)
        except (ValueError, EOFError, TypeError):
            return 1
        if not isinstance(request, dict):
            return 1
        if request.get("op") == quick.REQUEST_RUN and not _take_limits(request.get("limits")):
            conn.sendall(f"{quick.UNFIT}\n".encode())
            return 0
        try:
            conn.sendall(b"pid %d\n" % os.getpid())
            if not self._read_go():
                return 0  # the client gave up waiting: nothing ran
        except OSError:
            return 0
        conn.settimeout(None)
        reader = quick.LineReader(conn)
        op = request.get("op")
        if op == quick.REQUEST_STATUS:
            conn.sendall(f"answer {self._status()!r}\n".encode())
            return 0
        if op == quick.REQUEST_STOP:
            server.release_name()
            conn.sendall(f"answer {self._status()!r}\n".encode())
            return quick.EXIT_STOP
        if len(self.fds) != 4:
            return 1
        self._adopt(request)
        threading.Thread(target=self._watch, args=(reader,), daemon=True).start()
        code = _run_app()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        own = resource.getrusage(resource.RUSAGE_CHILDREN)
        utime, stime = usage.ru_utime + own.ru_utime, usage.ru_stime + own.ru_stime
        with contextlib.suppress(OSError):
            conn.sendall(f"exit {code} {utime:.6f} {stime:.6f}\n".encode())
        return 0

    def _read_request(self) -> tuple[str, bytes]:
        """The fingerprint the client sent and its request's body, unread."""
        data = b""
        while data.count(b"\n") < 2:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise ValueError("the request was cut short")
            data += chunk
        claimed, size, body = data.split(b"\n", 2)
        while len(body) < int(size):
            chunk = self.conn.recv(65536)
            if not chunk:
                raise ValueError("the request was cut short")
            body += chunk
        return claimed.decode("utf-8", "replace"), body

    def _read_go(self) -> bool:
        """Read the client's `go` and the descriptors it carries; False if the client left."""
        data = b""
        while not data.endswith(b"\n"):
            chunk, fds, flags, _ = socket.recv_fds(self.conn, 3 - len(data), 8)
            self.fds.extend(fds)
            if flags & getattr(socket, "MSG_CTRUNC", 0):
                return False
            if not chunk:
                return False
            data += chunk
        return data == b"go\n"

    def _status(self) -> dict[str, Any]:
        server = self.server
        return {
            "pid": os.getppid(),
            "socket": server.path,
            "started": server.started,
            "calls": server.served,
            "idle_exit_s": server.idle_s,
        }

    def _adopt(self, request: dict[str, Any]) -> None:
        """Become the caller's process: its descriptors, directory, umask, environment,
        arguments and text streams, set up as Python set up the caller's."""
        stdin, stdout, stderr, cwd = self.fds
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.fchdir(cwd)
        os.close(cwd)
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})
        time.tzset()
        try:
            import locale

            locale.setlocale(locale.LC_CTYPE, "")
        except Exception:
            pass
        sys.argv = [str(a) for a in request["argv"]]
        setups = list(request["stdio"])
        streams = [_text_stream(fd, *setup) for fd, setup in enumerate(setups)]
        sys.stdin, sys.stdout, sys.stderr = streams
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams  # type: ignore[misc]

    def _watch(self, reader: quick.LineReader) -> None:
        """Pass on the client's signals; if the client is gone (killed), so is this call, as
        when a command's own process is killed."""
        while True:
            try:
                line = reader.line()
            except OSError:
                line = None
            if line is None:
                os.kill(os.getpid(), signal.SIGKILL)
                return
            if line.startswith("sig "):
                os.kill(os.getpid(), int(line.split()[1]))


def _take_limits(limits: object) -> bool:
    """Set the caller's resource limits on this child; False if one cannot be (a hard limit
    above the server's): the caller then runs the call itself, under its own."""
    if not isinstance(limits, dict):
        return False
    try:
        for name, (soft, hard) in limits.items():
            which = getattr(resource, str(name))
            if resource.getrlimit(which) != (soft, hard):
                resource.setrlimit(which, (soft, hard))
    except (AttributeError, ValueError, OSError, TypeError):
        return False
    return True


def _text_stream(fd: int, encoding: str, errors: str, line_buffering: bool) -> io.TextIOWrapper:
    """A text stream on `fd` as Python's start-up makes stdin, stdout or stderr."""
    raw = io.FileIO(fd, "rb" if fd == 0 else "wb", closefd=False)
    buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffered,
        encoding=encoding,
        errors=errors,
        newline="\n",
        line_buffering=line_buffering,
        write_through=fd == 2,
    )


def _run_app() -> int:
    """`agentdeck.tui.cli.app.main`, and what the interpreter does after it: the exit code
    (negative: the signal to die of), the exit functions, flushed streams."""
    from agentdeck.tui.cli import app

    code: int
    try:
        app.main()
        code = 0
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            sys.stderr.write(f"{exit_.code}\n")
            code = 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = -signal.SIGINT
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return code


def run() -> None:
    """The server process: `python -c '...run()' DIRECTORY READY_FD` (started by
    `resident_start.start_server`, detached in its own session); says `ready` on READY_FD once
    it listens."""
    directory, ready_fd = sys.argv[1], int(sys.argv[2])
    server = Server(directory)
    try:
        resident_warmup.preload()
        try:
            resident_warmup.warm_up(directory)
        except Exception:  # a colder server still serves every call correctly
            traceback.print_exc()
        gc.collect()
        gc.freeze()  # the children share these pages and never scan them
        server.listen()
    except BaseException:
        os.write(ready_fd, b"failed\n")
        raise
    with contextlib.suppress(OSError):  # the client may have stopped waiting: no matter
        os.write(ready_fd, b"ready\n")
    os.close(ready_fd)
    server.serve()
