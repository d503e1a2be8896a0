"""Resource subscriptions for agentdeck's MCP server: which `agentdeck://` URIs the client
subscribed to, and the one background pump that sends `notifications/resources/updated` when
another process (or this server's own tools) commits a change to one of them.

A client watches through `resources/subscribe` (protocol versions through 2025-11-25) or, from
2026-07-28, `subscriptions/listen` streams naming URIs. The pump runs only while at least one
URI is watched. It blocks on the change feed (`agentdeck.core.feed.ChangeFeed`) in a worker
thread, reads each board's new events with `Deck.changes_since`, and notifies every watched URI
those events change, once per batch, in the order the URIs were first watched. A notification
is a hint to read the resource again: a change that lands while a batch is read may be announced
twice, never not at all.

Every change counts, the server agent's own writes through its tools included (the spec makes
no exception for them, and a client subscribed to a task wants to hear of a human's answer and
of its own log alike). Marking inbox messages read writes no event, so it
does not notify the inbox resource.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

import anyio
import anyio.to_thread
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus

from agentdeck.core.deck import Deck
from agentdeck.core.errors import DeckError
from agentdeck.core.feed import ChangeFeed
from agentdeck.core.mcp.resources import Target

log = logging.getLogger("agentdeck.mcp")

FEED_SLICE = 10.0  # seconds one feed wait lasts before the pump looks at its subscriptions
BATCH = 1000  # events read per changes_since call
RETRY = 1.0  # seconds before trying again after the database failed a batch


class Notifier(Protocol):
    """Where `resources/subscribe` notifications go: the connection's `ServerSession`."""

    async def send_resource_updated(self, uri: str) -> None: ...


class Subscriptions:
    """The URIs one client watches, resolved to what they name, and the pump.

    Two eras of the protocol watch differently: through 2025-11-25 a client sends
    `resources/subscribe` per URI and hears on its session (`add`, `remove`); from 2026-07-28 it
    opens `subscriptions/listen` streams naming URIs, which the SDK's `ListenHandler` serves
    from a bus (`listen`, `unlisten`; the bus filters per stream)."""

    def __init__(self, deck: Deck, agent: str, bus: SubscriptionBus | None = None) -> None:
        self._deck = deck
        self._agent = agent
        self._bus = bus
        self._targets: dict[str, Target] = {}  # every watched URI, in the order first watched
        self._subscribed: set[str] = set()  # by resources/subscribe
        self._listening: Counter[str] = Counter()  # by open listen streams
        self._session: Notifier | None = None
        self._after = 0  # the newest event id already looked at
        self._wake = anyio.Event()
        self._feed: ChangeFeed | None = None
        self._thread = anyio.CapacityLimiter(1)  # the pump's own thread, apart from the tools'

    @property
    def uris(self) -> tuple[str, ...]:
        return tuple(self._targets)

    def add(self, session: Notifier, uri: str, target: Target, mark: int) -> None:
        """Watch `uri` (naming the resolved `target`) for `resources/subscribe`, from event id
        `mark` on: every change committed after `mark` is announced. The latest session is
        where notifications go (a stdio server has one connection)."""
        self._watch({uri: target}, mark)
        self._subscribed.add(uri)
        self._session = session

    def remove(self, uri: str) -> None:
        """Stop `resources/subscribe` notifications for `uri`; none is sent after this."""
        self._subscribed.discard(uri)
        self._forget(uri)

    def listen(self, targets: dict[str, Target], mark: int) -> None:
        """Watch these URIs for one listen stream, from event id `mark` on."""
        self._watch(targets, mark)
        self._listening.update(targets.keys())

    def unlisten(self, uris: Iterable[str]) -> None:
        """The listen stream that watched `uris` ended."""
        for uri in uris:
            self._listening[uri] -= 1
            if self._listening[uri] <= 0:
                del self._listening[uri]
            self._forget(uri)

    def _watch(self, targets: dict[str, Target], mark: int) -> None:
        if not self._targets:
            self._after = mark
        for uri, target in targets.items():
            self._targets.setdefault(uri, target)
        self._wake.set()

    def _forget(self, uri: str) -> None:
        if uri not in self._subscribed and uri not in self._listening:
            self._targets.pop(uri, None)

    async def run(self) -> None:
        """Pump until cancelled; closes the change feed on the way out."""
        try:
            while True:
                while not self._targets:
                    self._wake = anyio.Event()
                    await self._wake.wait()
                try:
                    await self._pump_once()
                except (DeckError, OSError) as exc:  # a locked or vanished database: try again
                    log.warning("resource notifications: %s", exc)
                    await anyio.sleep(RETRY)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return  # the client is gone; the server is shutting down
        finally:
            if self._feed is not None:
                self._feed.close()  # ends the abandoned wait in its thread at once

    async def _pump_once(self) -> None:
        if self._feed is None:
            self._feed = await anyio.to_thread.run_sync(ChangeFeed, self._deck)
        feed = self._feed
        newest = await anyio.to_thread.run_sync(
            feed.wait, self._after, FEED_SLICE, abandon_on_cancel=True, limiter=self._thread
        )
        start = self._after
        if newest <= start:
            return
        watched = dict(self._targets)
        changed = await anyio.to_thread.run_sync(
            self._changed, watched, start, newest, limiter=self._thread
        )
        self._after = max(self._after, newest)
        for uri in changed:  # each checked just before it is sent: unwatched means unheard
            if uri in self._subscribed and self._session is not None:
                await self._session.send_resource_updated(uri)
            if uri in self._listening and self._bus is not None:
                await self._bus.publish(ResourceUpdated(uri))

    def _changed(self, watched: dict[str, Target], start: int, newest: int) -> list[str]:
        """The watched URIs that the events after `start` (up to at least `newest`) change."""
        boards: dict[str, list[tuple[str, Target]]] = {}
        for uri, target in watched.items():
            if target.board is not None:
                boards.setdefault(target.board, []).append((uri, target))
        hit: set[str] = set()
        for board, targets in boards.items():
            cursor = start
            while True:
                changes = self._deck.changes_since(cursor, board=board, limit=BATCH)
                hit.update(uri for uri, t in targets if t.affected_by(board, changes, self._agent))
                if not changes.truncated or changes.cursor >= newest:
                    break
                cursor = changes.cursor
        return [uri for uri in watched if uri in hit]
