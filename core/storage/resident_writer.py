"""Group commit for SQLite: one resident writer process per database file.

Many agent processes writing one SQLite file take turns at its single write lock, and each
turn costs a `BEGIN IMMEDIATE`, a commit and a hand-over between processes whose caches are
cold. With `AGENTDECK_WRITER=resident` (or `Deck.open(..., writer=True)`) a `Deck` on a SQLite
file sends the agents' hot verbs (`FORWARDED`) to a resident writer instead. The writer takes
every request that has arrived, runs them all in one transaction (`Database.batch`), commits
once, and only then answers each caller: an answer is never sent for a write that is not
committed, so a writer killed mid-batch loses no acknowledged write.

Each request carries the caller's credentials (the tokens its deck presents), and the writer
runs the verb with exactly those, so a verb authenticates in the writer as it would in the
caller. The writer is started on demand by the first deck that wants it, listens on a socket in
a private per-user directory, and exits after `IDLE_S` with no connected deck. A deck that
cannot reach or start one runs the verb in-process, as without it.

Frames are a 4-byte length and a pickle. Both ends are this user's own processes (the socket's
directory is closed to others), running the same installed agentdeck. This module is the
decks' side and what both sides share; the writer process is `resident_writer_server`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import selectors
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

from agentdeck.core.errors import StorageError

ENV_WRITER = "AGENTDECK_WRITER"
ENV_RUNTIME_DIR = "AGENTDECK_RUNTIME_DIR"
IDLE_S = 60.0  # how long a writer with no deck connected stays
START_TIMEOUT_S = 10.0
LIFE_WAIT_S = 5  # how long a new writer waits for a dying one's lock
# The verbs agents call most, the ones a writer runs for them.
FORWARDED = frozenset(
    {"claim", "heartbeat", "log", "record_usage", "complete", "submit", "fail", "escalate"}
)
FRAME_HEAD = struct.Struct("!I")
MAX_FRAME = 64 * 1024 * 1024
GREETING = "agentdeck-writer"  # a live writer's first frame: this and its code's fingerprint

Credentials = list[tuple[str, str]]  # (token, how it was given)


def wanted() -> bool:
    """Whether this environment asks decks to use a resident writer."""
    return os.environ.get(ENV_WRITER, "").strip().lower() == "resident"


def writer_pid(db_path: Path) -> int | None:
    """The pid of the writer serving `db_path`, if one has run (for tests and benchmarks)."""
    directory = runtime_dir()
    if directory is None:
        return None
    try:
        return int(Path(f"{socket_for(db_path, directory)}.life").read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def runtime_dir() -> Path | None:
    """The per-user directory of writers' sockets (as the CLI's resident server's): made if
    missing, and None unless it is a real directory owned by this user and closed to others."""
    explicit = os.environ.get(ENV_RUNTIME_DIR, "")
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if explicit:
        path = Path(explicit)
    elif xdg.startswith("/"):
        path = Path(xdg) / "agentdeck"
    else:
        path = Path(f"/tmp/agentdeck-{os.getuid()}")
    with contextlib.suppress(FileExistsError, OSError):
        path.mkdir(mode=0o700)
    try:
        info = path.lstat()
    except OSError:
        return None
    private = info.st_uid == os.getuid() and not info.st_mode & 0o077
    return path if path.is_dir() and not path.is_symlink() and private else None


def socket_for(db_path: Path, directory: Path) -> Path:
    """The writer's socket for one database file (by its resolved path)."""
    digest = hashlib.sha256(str(db_path.resolve()).encode("utf-8", "surrogateescape"))
    return directory / f"writer-{digest.hexdigest()[:24]}.sock"


def fingerprint() -> str:
    """The installed agentdeck's state: the count and newest modification time of the
    files of its core. A writer started before an upgrade differs from its new callers."""
    from agentdeck import core

    newest, count = 0, 0
    for root in core.__path__:
        for folder, _, files in os.walk(root):
            for name in files:
                if name.endswith(".py"):
                    with contextlib.suppress(OSError):
                        newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
                        count += 1
    return f"{count}:{newest}"


# -- frames -----------------------------------------------------------------------------------


def send_frame(sock: socket.socket, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(FRAME_HEAD.pack(len(data)) + data)


def recv_frame(sock: socket.socket) -> Any:
    """One frame, or `EOFError` if the other end closed first. Read in one call when it can
    (a frame is small, and the writer sends nothing unasked, so what arrives is one frame):
    a deck pays one system call per answer, not two."""
    data = sock.recv(1 << 16)
    while len(data) < FRAME_HEAD.size:
        more = sock.recv(1 << 16)
        if not more:
            raise EOFError
        data += more
    (size,) = FRAME_HEAD.unpack_from(data)
    end = FRAME_HEAD.size + size
    chunks, got = [data], len(data)
    while got < end:
        chunk = sock.recv(min(1 << 20, end - got))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    data = b"".join(chunks) if len(chunks) > 1 else data
    if got != end:
        raise EOFError  # more than one frame: not this protocol
    return pickle.loads(data[FRAME_HEAD.size :])


# -- the client, in each deck -----------------------------------------------------------------


class WriterUnreachable(Exception):
    """No writer could be reached or started; the verb runs in-process instead."""


class WriterClient:
    """A deck's connection to the writer of its database file, made on first use."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self._sock: socket.socket | None = None
        self._pid = os.getpid()

    def call(
        self, verb: str, args: tuple[Any, ...], kwargs: dict[str, Any], creds: Credentials
    ) -> Any:
        """Run `verb` in the writer with these credentials; its result, or its error raised
        here. `WriterUnreachable` if the request could not be delivered (nothing ran)."""
        request = (verb, args, kwargs, creds)
        try:
            sock = self._connected()
            send_frame(sock, request)
        except OSError:  # the writer has gone (stopped, or killed): nothing was delivered
            self.close()
            try:  # once more, through the writer started in its place
                sock = self._connected()
                send_frame(sock, request)
            except OSError as exc:
                self.close()
                raise WriterUnreachable(str(exc)) from None
        try:
            status, value = recv_frame(sock)
        except (EOFError, OSError):
            self.close()
            raise StorageError(
                "the resident writer stopped before answering; this call may or may not have "
                "been applied (check with `agentdeck show`)"
            ) from None
        if status == "ok":
            return value
        raise value

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None

    def _connected(self) -> socket.socket:
        if self._pid != os.getpid():  # forked: the parent's connection is not ours
            self._sock, self._pid = None, os.getpid()
        if self._sock is None:
            self._sock = connect(self.db_path)
        return self._sock


def connect(db_path: Path) -> socket.socket:
    """A connection to the writer of `db_path`, started if none runs. Connecting and starting
    happen under a lock file beside the socket, so only one writer is started and a writer
    never exits while a deck is connecting (it takes the same lock to exit)."""
    directory = runtime_dir()
    if directory is None:
        raise WriterUnreachable("no private runtime directory")
    path = socket_for(db_path, directory)
    fd = os.open(f"{path}.start", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            return _dial(path)
        except (OSError, EOFError):  # none, or one that died: start one
            _start(db_path, path)
            try:
                return _dial(path)
            except (OSError, EOFError) as exc:
                raise WriterUnreachable(str(exc) or "the writer closed at once") from None
    finally:
        os.close(fd)  # releases the lock


def _dial(path: Path) -> socket.socket:
    """A connection to a live writer: it greets each connection it accepts, so a request is
    never sent to a writer that died (a killed one may accept connections while it exits).
    `WriterUnreachable` if a live writer does not greet in time (busy: run in-process)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        sock.settimeout(START_TIMEOUT_S)
        try:
            greeting = recv_frame(sock)
        except TimeoutError:
            raise WriterUnreachable("the resident writer did not answer in time") from None
        if greeting != (GREETING, fingerprint()):
            # Not one, or one running other code than ours (an upgrade since it started):
            # this deck writes in-process rather than through code it was not written for.
            raise WriterUnreachable("not an agentdeck writer of this installation")
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock


def _start(db_path: Path, path: Path) -> None:
    """Start a writer and wait for it to say it listens (a line on its stdout)."""
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentdeck.core.storage.resident_writer_server",
                str(db_path),
                str(path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        raise WriterUnreachable(str(exc)) from None
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    ready = selector.select(START_TIMEOUT_S)
    selector.close()
    line = proc.stdout.readline() if ready else b""
    proc.stdout.close()
    proc.wait()  # it forked the writer and left at once: nothing stays our child
    if line.strip() != b"ready":
        raise WriterUnreachable("the resident writer did not start")
