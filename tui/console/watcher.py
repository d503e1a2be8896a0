"""Live refresh: turn writes by other processes into small, confirmed, coalesced hints.

The database directory is watched with watchfiles (the db file and its `-wal`, never `-shm`,
which readers touch too) with a short step instead of the 1.6 s default debounce. A file event
is only a hint: it is confirmed by asking for the newest event id, a read transaction that is
closed at once so WAL checkpoints are never held back. On PostgreSQL the wake-up is
LISTEN/NOTIFY (`agentdeck.core.storage.listen`) instead of file events. Hints reach the app at most
`1 / min_interval` times a second. When no file event arrives for `fallback_poll` seconds the
id is checked anyway, which covers filesystems without change notifications and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message
from textual.message_pump import MessagePump

from agentdeck.core import Deck, DeckError

DEBOUNCE_MS = 40
STEP_MS = 8
MIN_INTERVAL_S = 0.1
FALLBACK_POLL_S = 2.0


class DatabaseWatcher:
    """Watches one deck's database and posts `Changed` / `Trouble` messages to a target."""

    @dataclass
    class Changed(Message):
        """New events exist past the cursor the watcher last reported; bursts collapse."""

        max_event_id: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DatabaseWatcher.Changed)

    @dataclass
    class Trouble(Message):
        """The database cannot be read (locked, deleted...); `problem` None means it recovered."""

        problem: str | None

    def __init__(
        self,
        deck: Deck,
        target: MessagePump,
        *,
        cursor: int = 0,
        min_interval: float = MIN_INTERVAL_S,
        fallback_poll: float = FALLBACK_POLL_S,
    ) -> None:
        self.deck = deck
        self.target = target
        self.cursor = cursor
        self.min_interval = min_interval
        self.fallback_poll = fallback_poll
        self.stop_event = threading.Event()
        self._problem: str | None = None
        self._last_post = 0.0

    def stop(self) -> None:
        """Ask the watch loop to end; it notices within a few milliseconds."""
        self.stop_event.set()

    def run(self) -> None:
        """The watch loop; run it in a thread worker. Returns when `stop()` is called."""
        path = self.deck.path
        self.check()
        if path is None:
            self._listen()
            return
        while not self.stop_event.is_set():
            try:
                self._watch_files(path)
            except (OSError, RuntimeError) as exc:
                # The directory vanished or the OS refused a watch: poll until it is back.
                self._report(f"cannot watch {path.parent}: {exc}")
                if self.stop_event.wait(self.fallback_poll):
                    return
                self.check()

    def _listen(self) -> None:
        """PostgreSQL: wake on LISTEN/NOTIFY, checking every `fallback_poll` seconds anyway."""
        from agentdeck.core.storage.listen import ChangeListener

        try:
            listener: ChangeListener | None = ChangeListener(self.deck.engine)
        except ValueError:
            listener = None
        checked = time.monotonic()
        try:
            while not self.stop_event.is_set():
                if listener is None:
                    if self.stop_event.wait(self.fallback_poll / 2):
                        return
                    woke = True
                else:
                    woke = listener.wait(min(0.5, self.fallback_poll))  # short: stop() is seen
                if woke or time.monotonic() - checked >= self.fallback_poll:
                    self._throttle()
                    self.check()
                    checked = time.monotonic()
        finally:
            if listener is not None:
                listener.close()

    @staticmethod
    def _relevant(path: Path) -> Callable[[object, str], bool]:
        """The watch filter: the database file and its `-wal`, not `-shm` (readers touch it)."""
        names = {path.name, f"{path.name}-wal"}

        def relevant(_change: object, changed: str) -> bool:
            return Path(changed).name in names

        return relevant

    def _watch_files(self, path: Path) -> None:
        from watchfiles import watch

        for _changes in watch(
            path.parent,
            watch_filter=self._relevant(path),
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self.stop_event,
            rust_timeout=int(self.fallback_poll * 1000),
            yield_on_timeout=True,
            recursive=False,
            raise_interrupt=False,
        ):
            # An empty set is a timeout: the fallback poll.
            self._throttle()
            if self.stop_event.is_set():
                return
            self.check()

    def _throttle(self) -> None:
        wait = self._last_post + self.min_interval - time.monotonic()
        if wait > 0:
            self.stop_event.wait(wait)

    def check(self) -> bool:
        """Confirm a hint: post `Changed` if events exist past the cursor; True if it did."""
        path = self.deck.path
        if path is not None and not path.exists():
            self._report(
                f"the database file {path.name} was deleted; the board shows its last state"
            )
            return False
        try:
            newest = self.deck.max_event_id()
        except DeckError as exc:
            self._report(exc.message)
            return False
        except Exception as exc:  # a vanished or corrupted file surfaces as driver errors
            self._report(f"cannot read the database: {str(exc).splitlines()[0][:160]}")
            return False
        self._report(None)
        if newest <= self.cursor:
            return False
        self.cursor = newest
        self._last_post = time.monotonic()
        self.target.post_message(self.Changed(newest))
        return True

    def _report(self, problem: str | None) -> None:
        if problem != self._problem:
            self._problem = problem
            self.target.post_message(self.Trouble(problem))
