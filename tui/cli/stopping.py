"""Ctrl-C for the commands that keep running (`events --follow`, `import claude --watch`).

Python raises `KeyboardInterrupt` wherever the main thread happens to be when SIGINT comes. In
the middle of a PostgreSQL call, psycopg then cancels the statement and the server's "query
cancelled" error takes the interrupt's place: a follower loop took it for a lost connection and
carried on (the command never stopped), or it surfaced as an "unexpected" error. So these
commands take SIGINT as a request to stop, and check it between steps; each wait they make
ends within its poll interval, so they stop within half a second to a second, with exit 0.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def stop_on_interrupt() -> Iterator[threading.Event]:
    """An event set by SIGINT while the block runs (the previous handler is put back after).

    Off the main thread, where Python cannot install a handler, the event is never set.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def interrupt_calls(close: Callable[[], None]) -> Iterator[threading.Event]:
    """Like `stop_on_interrupt`, and SIGINT also calls `close` (a change feed's, ending a
    blocking wait at once). It is called from a new thread: the handler runs in the middle of
    whatever the main thread was doing, perhaps inside the lock `close` takes."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def interrupted(_signum: int, _frame: object) -> None:
        stop.set()
        threading.Thread(target=close, name="agentdeck-interrupt", daemon=True).start()

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
