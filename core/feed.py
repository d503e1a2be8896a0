"""The change feed: wake soon after any process commits events to a deck's database.

One mechanism for everyone who waits (a `claim --wait`, an inbox wait, the console, MCP
resource notifications). On SQLite the database directory is watched with watchfiles: the db
file and its `-wal`, never `-shm` (readers touch it too), with a short step instead of the
1.6 s default debounce. On PostgreSQL every event-writing transaction NOTIFYs
(`agentdeck.core.storage.dialect.notify`) and a dedicated connection LISTENs
(`agentdeck.core.storage.listen`). Either way a wake-up is only a hint, confirmed by asking for
the newest event id in a read transaction that is closed at once, so WAL checkpoints are never
held back. When nothing wakes it for `fallback` seconds the id is checked anyway, which covers
filesystems without change notifications and lost notifications.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from agentdeck.core.deck import Deck

# watchfiles: yield `STEP_MS` after the last change of a burst, at most `DEBOUNCE_MS` after
# the first; a waiter hears of a commit within about 10 ms.
DEBOUNCE_MS = 40
STEP_MS = 8
FALLBACK_S = 1.0
WAIT_SLICE_S = 0.5  # the longest a wait sleeps before Python may run a pending signal handler
# PostgreSQL: how long one LISTEN wait lasts before the stop flag is looked at again.
LISTEN_SLICE_S = 0.25

# Called with a problem watching (None once it works again), for callers that show it.
Trouble = Callable[[str | None], None]


def hints(
    deck: Deck,
    stop: threading.Event,
    *,
    fallback: float = FALLBACK_S,
    trouble: Trouble | None = None,
) -> Generator[bool]:
    """Yield whenever the database may have changed, until `stop` is set: True after a file
    event or a notification, False after `fallback` seconds without one. Unconfirmed: the
    caller asks for the newest event id. Close the generator when done (it owns a watch or a
    LISTEN connection)."""
    path = deck.path
    if path is None:
        yield from _notifications(deck, stop, fallback)
        return
    while not stop.is_set():
        try:
            yield from _file_events(path, stop, fallback)
        except (OSError, RuntimeError) as exc:
            # The directory vanished or the OS refused a watch: time out instead, until it is back.
            if trouble is not None:
                trouble(f"cannot watch {path.parent}: {exc}")
            if stop.wait(fallback):
                return
            yield False


def relevant_files(path: Path) -> Callable[[object, str], bool]:
    """The watch filter: the database file and its `-wal`, not `-shm` (readers touch it)."""
    names = {path.name, f"{path.name}-wal"}

    def relevant(_change: object, changed: str) -> bool:
        return Path(changed).name in names

    return relevant


def _file_events(path: Path, stop: threading.Event, fallback: float) -> Iterator[bool]:
    from watchfiles import watch

    for changes in watch(
        path.parent,
        watch_filter=relevant_files(path),
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        rust_timeout=max(1, int(fallback * 1000)),
        yield_on_timeout=True,
        recursive=False,
        raise_interrupt=False,
    ):
        if stop.is_set():
            return
        yield bool(changes)  # an empty set is the fallback timeout


def _notifications(deck: Deck, stop: threading.Event, fallback: float) -> Iterator[bool]:
    """PostgreSQL: a hint per NOTIFY (or lost connection), and one every `fallback` seconds."""
    from agentdeck.core.storage.listen import ChangeListener

    try:
        listener: ChangeListener | None = ChangeListener(deck.engine)
    except ValueError:  # not PostgreSQL after all (an in-memory SQLite has no path): time out
        listener = None
    checked = time.monotonic()
    try:
        while not stop.is_set():
            if listener is None:
                if stop.wait(fallback):
                    return
                woke = False
            else:
                woke = listener.wait(min(LISTEN_SLICE_S, fallback))
            if stop.is_set():
                return
            if woke or time.monotonic() - checked >= fallback:
                checked = time.monotonic()
                yield woke
    finally:
        if listener is not None:
            listener.close()


class ChangeFeed:
    """Wakes a waiter soon after any process commits events to this deck's database.

    A background thread watches (see `hints`) and confirms each hint with the newest event id;
    `wait` blocks on that. Any thread may call `wait`, and any other `close`, which ends every
    wait at once. Close the feed before the deck it watches.
    """

    def __init__(self, deck: Deck, *, fallback: float = FALLBACK_S) -> None:
        self._deck = deck
        self._fallback = fallback
        # Re-entrant: `close` may run in a signal handler (Ctrl-C during a wait, see
        # tui/cli/stopping.py) on the main thread while that thread holds this very lock in
        # `wait` or `_learn`; with a plain Lock that handler would wait on itself forever.
        self._changed = threading.Condition(threading.RLock())
        self._newest = 0  # the newest event id known, only ever growing
        self._closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agentdeck-change-feed", daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed

    def wait(self, after: int, timeout: float) -> int:
        """Block until the newest event id is > after (return it) or `timeout` seconds pass
        (return the newest id, <= after). Returns at once if already past `after`, or if the
        feed is closed (then the newest id known, maybe <= after)."""
        deadline = time.monotonic() + max(0.0, timeout)
        self._learn(self._deck.max_event_id())  # fresh: a commit before the watch began counts
        with self._changed:
            while self._newest <= after and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                # In slices: a signal that lands on another thread does not interrupt this
                # wait, and Python runs handlers (Ctrl-C's, which closes the feed) only when
                # the main thread comes back to the interpreter. No query is made per slice.
                self._changed.wait(min(left, WAIT_SLICE_S))
            return self._newest

    def close(self) -> None:
        """Stop watching and end every wait at once; safe to call twice, from any thread."""
        self._stop.set()
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _learn(self, newest: int) -> None:
        with self._changed:
            if newest > self._newest:
                self._newest = newest
                self._changed.notify_all()

    def _run(self) -> None:
        # Signals go to the main thread, not this one or the watcher threads it starts (they
        # inherit the mask): there Python runs the handler at once.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        with closing(hints(self._deck, self._stop, fallback=self._fallback)) as woken:
            for _ in woken:
                if self._stop.is_set():
                    return
                try:
                    newest = self._deck.max_event_id()
                except Exception:  # locked, deleted, server gone: the next hint tries again
                    continue
                self._learn(newest)
