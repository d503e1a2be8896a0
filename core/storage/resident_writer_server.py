"""The resident writer itself: the process `agentdeck.core.storage.resident_writer` starts
for one SQLite file. It takes every request that has arrived, runs each verb in one
transaction (`Database.batch`) with that request's own credentials, commits once, and only
then answers each caller; it exits when no deck has been connected for a while. A batch runs
without savepoints first; one whose write failed is rolled back and run again with a savepoint
per write, so the failure rolls back alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import pickle
import selectors
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdeck.core import claims
from agentdeck.core.credentials import Keyring
from agentdeck.core.errors import DeckError, StorageError
from agentdeck.core.storage.resident_writer import (
    FORWARDED,
    FRAME_HEAD,
    GREETING,
    IDLE_S,
    LIFE_WAIT_S,
    MAX_FRAME,
    Credentials,
    fingerprint,
    send_frame,
)

if TYPE_CHECKING:
    from agentdeck.core.deck import Deck


class _Redo(Exception):
    """A write failed in a batch without savepoints: roll it back and run it with them."""


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer runs as this user (SO_PEERCRED; the socket's directory is private
    too). True where the platform cannot tell."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def _keyring(creds: Credentials) -> Keyring:
    keyring = Keyring()
    for token, source in creds:
        keyring.add(token, source)
    return keyring


def _verbs(deck: Deck) -> dict[str, Callable[..., Any]]:
    """The forwarded verbs, bound to the writer's deck; nothing else can be asked for. A claim
    is only taken here: its caller reads the similar tasks after the commit (`Deck.claim`)."""
    verbs = {name: getattr(deck, name) for name in FORWARDED}
    verbs["claim"] = functools.partial(claims.claim_taken, deck._db)
    return verbs


class Writer:
    """Serves one database file's decks until idle (see the module's docstring)."""

    def __init__(self, deck: Deck, listener: socket.socket, path: Path, start_lock: Path):
        self.deck = deck
        self.listener = listener
        self.path = path
        self.start_lock = start_lock
        self.verbs = _verbs(deck)
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ)
        self.buffers: dict[socket.socket, bytearray] = {}
        self.batches = 0
        self.requests = 0
        self.redone = 0  # batches run again with savepoints, after a failed write
        self.fingerprint = fingerprint()

    def serve(self, idle_s: float = IDLE_S) -> None:
        idle_since = time.monotonic()
        while True:
            timeout = None if self.buffers else max(0.0, idle_since + idle_s - time.monotonic())
            pending = self._gather(self.selector.select(timeout))
            if pending:
                self._run(pending)
            if self.buffers:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= idle_s and self._stop():
                return

    def _gather(
        self, events: list[tuple[selectors.SelectorKey, int]]
    ) -> list[tuple[socket.socket, Any]]:
        pending: list[tuple[socket.socket, Any]] = []
        for key, _ in events:
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is self.listener:
                self._accept()
                continue
            try:
                data = sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                self._drop(sock)
                continue
            buffer = self.buffers[sock]
            buffer += data
            while len(buffer) >= FRAME_HEAD.size:
                (size,) = FRAME_HEAD.unpack_from(buffer)
                if size > MAX_FRAME:
                    self._drop(sock)
                    break
                if len(buffer) < FRAME_HEAD.size + size:
                    break
                body = bytes(buffer[FRAME_HEAD.size : FRAME_HEAD.size + size])
                del buffer[: FRAME_HEAD.size + size]
                pending.append((sock, body))
        return pending

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.setblocking(True)
            if not _same_user(conn):
                conn.close()
                continue
            try:
                send_frame(conn, (GREETING, self.fingerprint))
            except OSError:
                conn.close()
                continue
            self.buffers[conn] = bytearray()
            self.selector.register(conn, selectors.EVENT_READ)

    def _drop(self, sock: socket.socket) -> None:
        self.buffers.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(sock)
        sock.close()

    def _run(self, pending: list[tuple[socket.socket, bytes]]) -> None:
        """Run every pending request in one transaction, then answer them all. A SIGTERM
        waits until the batch is committed and answered."""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            self._answer(self._commit(pending))
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})

    def _commit(
        self, pending: list[tuple[socket.socket, bytes]]
    ) -> list[tuple[socket.socket, tuple[str, Any]]]:
        """Every pending request's answer, after one commit. First without savepoints, the
        cheap way; if any write in it failed, that attempt is rolled back whole and the batch
        runs again with a savepoint per write, so the failure rolls back alone."""
        answers = self._attempt(pending, savepoints=False)
        if answers is None:
            self.redone += 1
            answers = self._attempt(pending, savepoints=True)
        assert answers is not None
        self.batches += 1
        self.requests += len(pending)
        return answers

    def _attempt(
        self, pending: list[tuple[socket.socket, bytes]], *, savepoints: bool
    ) -> list[tuple[socket.socket, tuple[str, Any]]] | None:
        """The batch run once and committed: its answers, or None if, without savepoints, a
        write failed (then nothing was committed)."""
        db = self.deck._db
        answers: list[tuple[socket.socket, tuple[str, Any]]] = []
        try:
            with db.batch(savepoints=savepoints) as batch:
                for sock, body in pending:
                    answers.append((sock, self._one(body)))
                    if batch.failed:
                        raise _Redo
        except _Redo:
            return None
        except DeckError as exc:  # the batch could not begin or commit: nothing was applied
            answers = [(sock, ("error", exc)) for sock, _ in pending]
        except Exception as exc:
            failure = StorageError(f"the resident writer could not commit: {exc}"[:300])
            answers = [(sock, ("error", failure)) for sock, _ in pending]
        finally:
            db.keyring = Keyring()
        return answers

    def _answer(self, answers: list[tuple[socket.socket, tuple[str, Any]]]) -> None:
        for sock, answer in answers:
            try:
                try:
                    send_frame(sock, answer)
                except (pickle.PicklingError, TypeError, AttributeError):  # does not pickle
                    send_frame(sock, ("error", StorageError(f"{answer[1]!r}"[:300])))
            except OSError:  # that deck has gone; its write stands, as in-process
                self._drop(sock)

    def _one(self, body: bytes) -> tuple[str, Any]:
        """One request's answer: ("ok", result) or ("error", the DeckError it raised)."""
        try:
            verb, args, kwargs, creds = pickle.loads(body)
            run = self.verbs[verb]
        except Exception:
            return "error", StorageError("the resident writer got a request it does not serve")
        self.deck._db.keyring = _keyring(creds)
        try:
            return "ok", run(*args, **kwargs)
        except DeckError as exc:
            return "error", exc
        except Exception as exc:  # a bug: rolled back to its savepoint, said as one line
            return "error", StorageError(f"{type(exc).__name__}: {exc}"[:300])

    def _stop(self) -> bool:
        """Exit unless a deck is connecting: under the start lock, take any connection that
        is waiting; with none, remove the socket so the next deck starts a new writer."""
        fd = os.open(self.start_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._accept()
            if self.buffers:
                return False
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.listener.close()
            return True
        finally:
            os.close(fd)


def _give_up(_signum: int, _frame: object) -> None:
    raise TimeoutError


def main(argv: list[str]) -> int:
    """`python -m agentdeck.core.storage.resident_writer_server DB SOCKET`: serve until idle. Prints
    "ready" once it listens (or once it sees another writer already serving DB)."""
    if os.fork() > 0:  # the writer is a grandchild of the deck that started it
        os._exit(0)
    from agentdeck.core.deck import Deck

    db_path, path = Path(argv[0]), Path(argv[1])
    # One writer per file: a lock held for the writer's life, its pid inside.
    life = os.open(f"{path}.life", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    # A writer that was just killed may hold it a moment longer, while it exits.
    signal.signal(signal.SIGALRM, _give_up)
    signal.alarm(LIFE_WAIT_S)
    try:
        fcntl.flock(life, fcntl.LOCK_EX)
    except TimeoutError:
        print("busy", flush=True)  # another writer serves this file: its decks use it
        return 0
    finally:
        signal.alarm(0)
    os.ftruncate(life, 0)
    os.write(life, f"{os.getpid()}\n".encode())
    deck = Deck.open(db_path, writer=False)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a killed writer's socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(128)
    listener.setblocking(False)
    writer = Writer(deck, listener, path, Path(f"{path}.start"))
    print("ready", flush=True)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        writer.serve(float(os.environ.get("AGENTDECK_WRITER_IDLE_S", IDLE_S)))
    except SystemExit:  # SIGTERM, between batches: the next deck starts a new writer
        with contextlib.suppress(OSError):
            path.unlink()
    finally:
        deck.close()
    return 0


def _terminate(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
