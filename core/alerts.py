"""Needs-human alerts: which events put a task in front of a human, read the same way by every
way a human is told (the console's bell and desktop notification, `agentdeck notify`'s webhook).

A task needs a human when it moves to review (submitted), is escalated by its agent, is stopped
by a spent hard budget (an escalation by the budget's rule, `data.reason == "budget"`), or
fails. Each such move writes one `status` event, so an alert is one event: following the event
cursor gives each alert exactly once. History brought in by an import is not news and never
alerts. The text is the agent's own words, untrusted: it reaches an alert as one line with
every unsafe character (`agentdeck.core.safe_text.UNSAFE`) removed, clipped; each output still
escapes it for where it goes (Slack's mrkdwn, a terminal's OSC string).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agentdeck.core import safe_text

if TYPE_CHECKING:
    from agentdeck.core.deck import Deck
    from agentdeck.core.models import Event

# Why a task needs a human, and how each reads after its key.
REASONS: dict[str, str] = {
    "review": "is waiting for review",
    "escalation": "is escalated: its agent asks a human",
    "budget": "is stopped by a spent budget",
    "failure": "failed",
}
TEXT_LIMIT = 240
PAGE = 500


@dataclass(frozen=True, slots=True)
class Alert:
    """One task entering Needs human (or failing): the event that moved it, and why."""

    event_id: int
    board: str
    task: str
    reason: str  # a key of REASONS
    actor: str
    text: str  # the agent's words: one line, unsafe characters removed, clipped
    at: datetime

    @property
    def headline(self) -> str:
        """ "WEB-12 is waiting for review": the key and the reason, no agent text."""
        return f"{self.task} {REASONS[self.reason]}"

    @property
    def urgent(self) -> bool:
        """Escalations, budget stops and failures block work; a review only waits."""
        return self.reason != "review"


def one_line(text: str, limit: int = TEXT_LIMIT) -> str:
    """Untrusted text as one clipped line with every unsafe character removed."""
    flat = " ".join(safe_text.dropped(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def alert_for(event: Event) -> Alert | None:
    """The alert an event raises, or None: a `status` move to review, escalated or failed."""
    if event.kind != "status" or event.task is None or event.auth == "imported":
        return None
    target = event.data.get("to")
    if target == "review":
        reason = "review"
    elif target == "escalated":
        reason = "budget" if event.data.get("reason") == "budget" else "escalation"
    elif target == "failed":
        reason = "failure"
    else:
        return None
    return Alert(
        event.id,
        event.board,
        event.task,
        reason,
        event.actor,
        one_line(event.text),
        event.created_at,
    )


def alerts_after(deck: Deck, cursor: int, board: str | None) -> Iterator[tuple[int, Alert | None]]:
    """Every event after `cursor` (on `board`, or on every board), oldest first, a page at a
    time, as (event id, its alert or None): the caller moves its cursor past each id."""
    while True:
        page = deck.events_since(cursor, board=board, limit=PAGE)
        for event in page:
            yield event.id, alert_for(event)
        if len(page) < PAGE:
            return
        cursor = page[-1].id
