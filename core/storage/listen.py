"""Waiting for changes on PostgreSQL: LISTEN on the channel every event-writing transaction
NOTIFYs (see `agentdeck.core.storage.dialect.notify`), with the max event id as the confirmation and fallback.

SQLite has no notifications; there the TUI watches the database file instead.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from agentdeck.core.storage.dialect import NOTIFY_CHANNEL


class ChangeListener:
    """A dedicated autocommit connection LISTENing for agentdeck events on PostgreSQL."""

    def __init__(self, engine: sa.Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL; watch the SQLite file instead")
        self._engine = engine
        self._raw: Any = None

    def _connect(self) -> Any:
        if self._raw is None:
            conn = self._engine.raw_connection()
            driver: Any = conn.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._conn, self._raw = conn, driver
        return self._raw

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for a notification; True if one (or more) arrived.

        A lost connection is dropped and reported as a change, so the caller re-checks by
        querying, which is always correct; the next call reconnects.
        """
        try:
            raw = self._connect()
            if any(True for _ in raw.notifies(timeout=0, stop_after=1)):
                self._drain(raw)
                return True
            ready, _, _ = select.select([raw.fileno()], [], [], timeout)
            if not ready:
                return False
            got = any(True for _ in raw.notifies(timeout=0))
            return got
        except Exception:
            self.close()
            return True

    @staticmethod
    def _drain(raw: Any) -> None:
        for _ in raw.notifies(timeout=0):
            pass

    def close(self) -> None:
        if self._raw is not None:
            try:
                self._conn.close()
            finally:
                self._raw = None


def wait_for_change(
    latest: Callable[[], int],
    cursor: int,
    *,
    listener: ChangeListener | None,
    timeout: float,
    poll: float = 2.0,
) -> int:
    """Wait until the max event id passes `cursor` (or `timeout` passes); return the max id.

    With a listener, notifications wake it at once; without one, or if notifications are
    lost, it polls every `poll` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        current = latest()
        if current > cursor:
            return current
        left = deadline - time.monotonic()
        if left <= 0:
            return current
        if listener is not None:
            listener.wait(min(left, poll))
        else:
            time.sleep(min(left, poll))
