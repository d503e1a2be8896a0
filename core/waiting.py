"""Waiting instead of polling: a claim that waits for a task, an inbox that waits for a message.

An idle agent asks once with `wait` seconds; the verb tries, and when there is nothing it
sleeps on the change feed (`agentdeck.core.feed`) until another process commits, then tries
again. The cursor (newest event id) is read before each try, so a commit landing between the
try and the wait still wakes it. A lease that lapses makes a task claimable with no commit at
all, so a waiting claim also wakes when the soonest lease on the board runs out (the claim
sweeps lapsed leases itself). Refusals are not waited on: a claim over a hard budget fails at
once, like any other error.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from agentdeck.core.errors import ValidationError
from agentdeck.core.feed import ChangeFeed
from agentdeck.core.models import InboxPage

if TYPE_CHECKING:
    from agentdeck.core.deck import Deck
    from agentdeck.core.models import Claim

R = TypeVar("R")

MAX_WAIT_SECONDS = 3600
# After the soonest lease's deadline, by the deck's clock, before trying again: a claim made
# right at the deadline could still see the lease held.
LEASE_SLACK_S = 0.05


def wait_seconds(value: float, cap: float = MAX_WAIT_SECONDS) -> float:
    """`value` if it is a wait the verbs accept (0 to `cap` seconds), else `ValidationError`."""
    if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= cap:
        raise ValidationError(f"wait must be from 0 to {cap:g} seconds, not {value!r}")
    return float(value)


def until_found(
    deck: Deck,
    attempt: Callable[[], R],
    wait: float,
    *,
    feed: ChangeFeed | None = None,
    next_lapse: Callable[[], float | None] | None = None,
) -> R:
    """Run `attempt` until it returns something truthy or `wait` seconds pass (then its last,
    falsy answer). Between tries, sleep on `feed` (a feed of its own if None, opened only once
    the first try finds nothing) until a commit, or until `next_lapse()` seconds pass, when
    given. A closed feed ends the wait (another thread's way to cancel it)."""
    deadline = time.monotonic() + wait_seconds(wait)
    own: ChangeFeed | None = None
    try:
        while True:
            cursor = deck.max_event_id()
            found = attempt()
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            if feed is None:
                feed = own = ChangeFeed(deck)
            if feed.closed:
                return found
            lapse = next_lapse() if next_lapse is not None else None
            if lapse is not None:
                left = min(left, max(lapse, 0.0) + LEASE_SLACK_S)
            feed.wait(cursor, left)
            if feed.closed:  # cancelled meanwhile: no more tries, nothing taken after it
                return found
    finally:
        if own is not None:
            own.close()


def claim(
    deck: Deck,
    actor: str,
    *,
    board: str | None,
    wait: float,
    feed: ChangeFeed | None = None,
) -> Claim | None:
    """`Deck.claim` of the best ready task, waiting up to `wait` seconds for one."""

    def attempt() -> Claim | None:
        return deck.claim(actor, board=board)

    return until_found(
        deck, attempt, wait, feed=feed, next_lapse=lambda: deck.next_lease_lapse(board)
    )


def inbox(
    deck: Deck,
    actor: str,
    *,
    board: str | None,
    mark_read: bool,
    wait: float,
    feed: ChangeFeed | None = None,
    limit: int | None = None,
    after_id: int | None = None,
) -> InboxPage:
    """`Deck.inbox_page`, waiting up to `wait` seconds for a first unread message."""

    def attempt() -> InboxPage:
        return deck.inbox_page(
            actor, board=board, mark_read=mark_read, limit=limit, after_id=after_id
        )

    return until_found(deck, attempt, wait, feed=feed)
