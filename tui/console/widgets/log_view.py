"""A task's log as a virtual list: only the lines on screen are rendered.

The screen loads the newest page first and hands older pages in when the view nears the
top (`NeedOlder`); new events are appended and, in follow mode, kept in view. At most
`LOG_CAP` events are held, so a task with 100,000 events opens and scrolls as fast as one
with ten.

An event whose actor proved itself by name alone (an agent on a board in `named` mode) shows
a dim `·named` after the actor (`NAMED_MARK`); every other move was backed by a token, and a
human's always is (humans never act by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agentdeck.core.credentials import BY_NAME
from agentdeck.core.models import Event
from agentdeck.tui.console.agent_text import clean, styled

LOG_CAP = 20_000
ACTOR_WIDTH = 12
# After the actor of an event made by name alone, with no credential (`Event.auth` "named").
NAMED_MARK = "·named"
# How each kind of proof reads in full (the event dialog).
AUTH_WORDS = {
    "token": "acted with its own token",
    "credential file": "acted with a human's saved credential",
    BY_NAME: "acted by name alone, with no token (its board lets agents act by name)",
    "imported": "imported from an export: who acted is as the file says",
}
KIND_STYLES = {
    "action": "cyan",
    "tool_call": "dodger_blue1",
    "decision": "magenta",
    "observation": "",
    "verification": "green",
    "status": "yellow",
    "claimed": "yellow",
    "created": "yellow",
    "approval": "bold green",
    "reopened": "bold yellow",
    "assigned": "yellow",
    "priority": "yellow",
    "message": "bold",
    "note": "bold",
    "usage": "grey50",
    "budget": "red",
    "lease_expired": "bold red",
    "checkpoint": "green",
    "doing": "italic grey62",
}
_CURSOR = Style(bgcolor="grey30", bold=True)
_CURSOR_UNFOCUSED = Style(bgcolor="grey19")
_MOVES = ("status", "claimed", "approval", "reopened", "lease_expired")


def kind_label(event: Event) -> str:
    return event.subkind if event.kind == "log" and event.subkind else event.kind


def describe(event: Event) -> str:
    """The event's text, with the move it made for lifecycle events."""
    text = event.text
    if event.kind in _MOVES and event.data.get("to"):
        move = f"{event.data.get('from', '?')} → {event.data['to']}"
        return f"{move}: {text}" if text else move
    if event.kind == "checkpoint" and event.data.get("sha"):
        return f"{str(event.data['sha'])[:10]} {text}"
    return text


def by_name(event: Event) -> bool:
    """Whether the event's actor proved nothing but its name (an agent on a named board)."""
    return event.auth == BY_NAME


def actor_text(event: Event, limit: int = ACTOR_WIDTH, style: str = "bold") -> Text:
    """The actor, shown literally, then a dim `·named` if it acted by name alone."""
    text = styled(clean(event.actor, single_line=True, limit=limit), style)
    if by_name(event):
        text.append(NAMED_MARK, style="dim italic")
    return text


def actor_column(events: Sequence[Event]) -> int:
    """How wide the actor column of a log is: 12 cells, or as many as its widest marked actor
    needs (at most 12 + the marker), so the columns stay aligned."""
    marked = (
        cell_len(clean(e.actor, single_line=True, limit=ACTOR_WIDTH)) + len(NAMED_MARK)
        for e in events
        if by_name(e)
    )
    return max(ACTOR_WIDTH, max(marked, default=0))


def format_event(event: Event, actor_width: int = ACTOR_WIDTH) -> Text:
    """One log row: time, actor (marked if it acted by name alone), kind and the text folded
    to a single line."""
    label = kind_label(event)
    row = Text(no_wrap=True)
    row.append(f"{event.created_at:%d %b %H:%M:%S} ", style="grey50")
    actor = actor_text(event)
    row.append_text(actor)
    # The padding keeps the actor's style, so it ends the actor's span rather than starting
    # the next one (SVG renderers drop the leading spaces of a span).
    row.append(" " * max(1, actor_width + 1 - cell_len(actor.plain)), style="bold")
    row.append(f"{label[:12]:<12} ", style=KIND_STYLES.get(label, KIND_STYLES.get(event.kind, "")))
    row.append(clean(describe(event), single_line=True, limit=2000))
    return row


class LogView(ScrollView, can_focus=True):
    """Virtual, follow-able log of events with a cursor; Enter shows the whole event."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "Oldest", show=False),
        Binding("end,G", "last", "Newest", show=False),
        Binding(
            "enter", "show_event", "Show event", tooltip="Show the whole event under the cursor"
        ),
    ]

    follow = reactive(True)
    cursor = reactive(-1, repaint=False)

    @dataclass
    class NeedOlder(Message):
        """The view reached the oldest loaded event and older ones exist."""

        before_id: int

    @dataclass
    class EventChosen(Message):
        """The human asked to read one event in full."""

        event: Event

    @dataclass
    class FollowChanged(Message):
        """Follow mode was switched on or off (by a key, or by scrolling up)."""

        follow: bool

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.events: list[Event] = []
        self.more_before = False
        self.loading_older = False
        self._cache: dict[int, Strip] = {}
        self._cache_width = 0
        self._actor_width = ACTOR_WIDTH

    # -- feeding ---------------------------------------------------------------------------

    def set_events(self, events: Sequence[Event], more_before: bool) -> None:
        """Replace the log with the newest page."""
        self.events = list(events)
        self.more_before = more_before
        self.loading_older = False
        self._cache.clear()
        self._actor_width = actor_column(self.events)
        self._resize_virtual()
        self.cursor = len(self.events) - 1
        # After layout: before it the view has no height and every position looks like the top.
        self.call_after_refresh(self._show_tail)

    def prepend(self, events: Sequence[Event], more_before: bool) -> None:
        """Add an older page above, keeping what is on screen in place."""
        self.loading_older = False
        self.more_before = more_before and bool(events)
        if not events:
            return
        self.events[:0] = events
        self._widen_for(events)
        dropped = max(0, len(self.events) - LOG_CAP)
        if dropped:
            del self.events[-dropped:]
            self.follow = False
        self._resize_virtual()
        self.cursor += len(events)
        self.scroll_to(y=self.scroll_y + len(events), animate=False, immediate=True)
        # Still at the top (a short log fits the screen): keep paging back.
        self.call_after_refresh(self._maybe_need_older)

    def append(self, events: Sequence[Event]) -> None:
        """Add new events at the bottom; in follow mode keep the newest in view."""
        if not events:
            return
        known = self.events[-1].id if self.events else 0
        fresh = [e for e in events if e.id > known]
        self.events.extend(fresh)
        self._widen_for(fresh)
        dropped = max(0, len(self.events) - LOG_CAP)
        if dropped:
            del self.events[:dropped]
            self.more_before = True
            self.cursor = max(0, self.cursor - dropped)
            self._cache.clear()
        self._resize_virtual()
        if self.follow:
            self.cursor = len(self.events) - 1
            self.call_after_refresh(self._show_tail)
        self.refresh()

    def _widen_for(self, events: Sequence[Event]) -> None:
        """Make room in the actor column once any event carries the by-name marker."""
        width = max(self._actor_width, actor_column(events))
        if width != self._actor_width:
            self._actor_width = width
            self._cache.clear()
            self.refresh()

    def _show_tail(self) -> None:
        """Bring the newest event into view (follow mode), then page back if still at the top."""
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self._maybe_need_older()

    def _resize_virtual(self) -> None:
        # As wide as the view: rows are cut with an ellipsis, never scrolled sideways.
        self.virtual_size = Size(max(1, self.scrollable_content_region.width), len(self.events))

    def _maybe_need_older(self) -> None:
        if self.more_before and not self.loading_older and self.events and self.scroll_y < 3:
            self.loading_older = True
            self.post_message(self.NeedOlder(self.events[0].id))

    # -- scrolling and the cursor ------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value < old_value and self.follow and new_value < self.max_scroll_y:
            self.follow = False
        self._maybe_need_older()

    def watch_follow(self, follow: bool) -> None:
        self.post_message(self.FollowChanged(follow))
        if follow and self.events:
            self.cursor = len(self.events) - 1
            self._show_tail()
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()

    def _move_cursor(self, delta: int) -> None:
        if not self.events:
            return
        self.cursor = max(0, min(len(self.events) - 1, self.cursor + delta))
        if delta < 0:
            self.follow = False
        elif self.cursor == len(self.events) - 1:
            self.follow = True
        top = int(self.scroll_y)
        height = max(1, self.scrollable_content_region.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._move_cursor(-1)

    def action_cursor_down(self) -> None:
        self._move_cursor(1)

    def action_page_up(self) -> None:
        self._move_cursor(-max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._move_cursor(max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._move_cursor(-len(self.events))

    def action_last(self) -> None:
        self.follow = True

    def action_show_event(self) -> None:
        if 0 <= self.cursor < len(self.events):
            self.post_message(self.EventChosen(self.events[self.cursor]))

    # -- rendering ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self.events):
            return Strip.blank(width, style)
        if width != self._cache_width or len(self._cache) > 4000:
            self._cache.clear()
            self._cache_width = width
        event = self.events[index]
        strip = self._cache.get(event.id)
        if strip is None:
            text = format_event(event, self._actor_width)
            text.truncate(width, overflow="ellipsis")
            segments = list(text.render(self.app.console))
            strip = Strip(segments).apply_style(style).crop_extend(0, width, style)
            self._cache[event.id] = strip
        if index == self.cursor:
            highlight = _CURSOR if self.has_focus else _CURSOR_UNFOCUSED
            strip = Strip(Segment.apply_style(iter(strip), post_style=highlight), width)
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self._resize_virtual()
        self._maybe_need_older()
