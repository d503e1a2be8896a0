"""Live refresh: turn writes by other processes into small, confirmed, coalesced hints.

The wake-ups are core's change feed (`agentdeck.core.feed.hints`), the same ones a waiting claim
sleeps on: the database directory watched with watchfiles (the db file and its `-wal`, never
`-shm`, which readers touch too) with a short step instead of the 1.6 s default debounce, or
LISTEN/NOTIFY on PostgreSQL. A wake-up is only a hint: it is confirmed by asking for the newest
event id, a read transaction that is closed at once so WAL checkpoints are never held back.
Hints reach the app at most `1 / min_interval` times a second. When nothing wakes it for
`fallback_poll` seconds the id is checked anyway, which covers filesystems without change
notifications and lost notifications.
"""

from __future__ import annotations

import threading
import time
from contextlib import closing
from dataclasses import dataclass

from textual.message import Message
from textual.message_pump import MessagePump

from agentdeck.core import Deck, DeckError
from agentdeck.core.feed import hints, relevant_files

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
        self.check()
        wake_ups = hints(
            self.deck, self.stop_event, fallback=self.fallback_poll, trouble=self._report
        )
        with closing(wake_ups):
            for _woke in wake_ups:  # a file event, a NOTIFY, or `fallback_poll` without one
                self._throttle()
                if self.stop_event.is_set():
                    return
                self.check()

    # The watch filter (the database file and its `-wal`, not `-shm`), core's own.
    _relevant = staticmethod(relevant_files)

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
