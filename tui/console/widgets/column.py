"""A board column: a title with its count, and the cards that fit, keyed by task key.

Only the cards that fit the column's height are mounted, whatever the column holds, and the
column itself holds only a window of its tasks (`keys`, from position `head` of the
`count` it has; the board screen reads more pages as the selection nears an end), so a
column of 40,000 done tasks costs the same as one of five. The cards follow the selection;
"▲ N more" and "▼ N more" say what is outside them; the row above the cards is always there
(blank when nothing is above), so a scrolled column's cards stay in line with the others.
Updates are diffs: a card whose task did not change is left alone, new ones are mounted in
place, gone ones removed.

The title keeps its count at any width: the name shortens ("In progress", "Doing", "WIP")
before the count would be cut. A column narrower than `NARROW` drops its padding (class
`-narrow`) so a card's key still fits on its border.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import Static

from agentdeck.core.models import COLUMN_TITLES, Task
from agentdeck.tui.console.widgets.task_card import CARD_HEIGHT, TaskCard

# Shorter names for a column title that would not fit with its count, longest first.
SHORT_TITLES = {
    "blocked": ("Blocked", "Blk"),
    "ready": ("Ready", "Rdy"),
    "in_progress": ("Doing", "WIP"),
    "needs_human": ("Needs", "Hum"),
    "done": ("Done",),
    "failed": ("Failed", "Fail"),
    "cancelled": ("Cancelled", "Cxl"),
}
# Below this many cells a column drops its padding and its cards theirs (class `-narrow`).
NARROW = 20


def column_title(column: str, count: str, width: int | None) -> Text:
    """` Name ` then ` count ` (reversed), with the longest name that fits in `width` cells
    (None: not laid out yet, the full name); the count is never cut, the name goes first."""
    names = (COLUMN_TITLES[column], *SHORT_TITLES.get(column, ()))
    title = Text(no_wrap=True, overflow="crop")
    chosen = names[-1]
    for name in names:
        if width is None or len(name) + len(count) + 4 <= width:
            chosen = name
            break
    if width is not None and len(chosen) + len(count) + 4 > width:
        # Not even the shortest name fits with padding: drop the padding, then the name.
        room = width - len(count) - 3
        title.append(chosen[: max(0, room)] + (" " if room > 0 else ""), style="bold")
        title.append(f" {count} ", style="reverse")
        return title
    title.append(f" {chosen} ", style="bold")
    title.append(f" {count} ", style="reverse")
    return title


# The title row and the "▲ N more" row, always there above the cards.
ROWS_AROUND_CARDS = 2


class TaskColumn(Vertical):
    """One kanban column; the board screen owns which one is active and what is selected."""

    def __init__(self, column: str) -> None:
        super().__init__(id=f"col-{column}", classes=f"task-column -{column.replace('_', '-')}")
        self.column = column
        self.keys: list[str] = []
        self.selected_key: str | None = None
        self.window_start = 0  # index in `keys` of the first card shown
        self.head = 0  # position in the column of keys[0]
        self.count = 0  # tasks in the column under the filter
        self.total = 0  # tasks in the column
        self._tasks: Mapping[str, Task] = {}
        self._cards: dict[str, TaskCard] = {}
        self._shown: list[str] = []
        self._index: dict[str, int] = {}
        self._active = False

    def compose(self) -> ComposeResult:
        yield Static(classes="column-title")
        yield Static(classes="more -above")
        yield Vertical(classes="cards")
        yield Static(classes="more -below")

    @property
    def selected_index(self) -> int:
        if self.selected_key in self._index:
            return self._index[self.selected_key]
        return -1

    @property
    def capacity(self) -> int:
        """How many cards fit. Measured from the column's own height, which changes only on a
        resize, and not from the cards' container, whose height depends on whether the
        "▼ N more" row was showing at the last layout (measuring that raced the layout)."""
        rows = self.content_size.height - ROWS_AROUND_CARDS
        if self.content_size.height <= 0:  # before the first layout: guess from the screen
            rows = max(CARD_HEIGHT, self.app.size.height - 6)
        if self.count > rows // CARD_HEIGHT:
            rows -= 1  # not all fit: leave the row for "▼ N more"
        return max(1, rows // CARD_HEIGHT)

    def card(self, key: str) -> TaskCard | None:
        """The mounted card of a task, if it is in view."""
        return self._cards.get(key)

    def show(
        self,
        keys: list[str],
        tasks: Mapping[str, Task],
        *,
        head: int = 0,
        count: int | None = None,
        total: int | None = None,
        active: bool | None = None,
    ) -> None:
        """Show these keys (display order) of `tasks`, the first at position `head` of the
        column's `count` (under the filter; `total` in all); keep the selection on its key."""
        old_index = self.selected_index
        if keys and self.keys:
            # Keep the cards where they were when the window grew or shrank above them.
            self.window_start = max(0, self.window_start + self.head - head)
        self.keys = keys
        self._index = {k: i for i, k in enumerate(keys)}
        self._tasks = tasks
        self.head = head
        self.count = len(keys) if count is None else count
        self.total = self.count if total is None else total
        if active is not None:
            self._active = active
        if self.selected_key not in self._index:
            # The selected task left: stay at the same place in the column.
            self.selected_key = keys[min(max(old_index, 0), len(keys) - 1)] if keys else None
        self.refresh_window()

    def select_index(self, index: int) -> None:
        if not self.keys:
            self.selected_key = None
        else:
            self.selected_key = self.keys[max(0, min(index, len(self.keys) - 1))]
        self.refresh_window()

    def set_active(self, active: bool) -> None:
        self._active = active
        self.refresh_window()

    def refresh_window(self) -> None:
        """Lay the visible window of cards out again (after a resize or a move)."""
        capacity = self.capacity
        index = self.selected_index
        if index >= 0:
            if index < self.window_start:
                self.window_start = index
            elif index >= self.window_start + capacity:
                self.window_start = index - capacity + 1
        self.window_start = max(0, min(self.window_start, max(0, len(self.keys) - capacity)))
        window = self.keys[self.window_start : self.window_start + capacity]
        self._update_title()
        self._update_more(len(window))
        self._diff_cards(window)

    @property
    def selected_position(self) -> int:
        """The selection's position in the whole column (-1: none)."""
        index = self.selected_index
        return -1 if index < 0 else self.head + index

    def _update_title(self) -> None:
        count = f"{self.count}" if self.count == self.total else f"{self.count}/{self.total}"
        label = self.query_one(".column-title", Static)
        width = label.content_size.width or None
        label.update(column_title(self.column, count, width))
        self.set_class(self._active, "-active")

    def _update_more(self, shown: int) -> None:
        above = self.head + self.window_start
        below = max(0, self.count - above - shown)
        top = self.query_one(".more.-above", Static)
        bottom = self.query_one(".more.-below", Static)
        if not self.keys and not self.count:
            top.update("nothing here" if self.total == 0 else "none match the filter")
        else:
            top.update(f"▲ {above} more" if above else "")
        bottom.update(f"▼ {below} more" if below else "")
        bottom.display = below > 0

    def _diff_cards(self, window: list[str]) -> None:
        container = self.query_one(".cards", Vertical)
        wanted = set(window)
        for key in [k for k in self._cards if k not in wanted]:
            self._cards.pop(key).remove()
        shown = [k for k in self._shown if k in wanted]
        previous: TaskCard | None = None
        for position, key in enumerate(window):
            card = self._cards.get(key)
            task = self._tasks[key]
            if card is None:
                card = self._cards[key] = TaskCard(task)
                if previous is None and shown:
                    container.mount(card, before=self._cards[shown[0]])
                elif previous is None:
                    container.mount(card)
                else:
                    container.mount(card, after=previous)
                shown.insert(position, key)
            else:
                card.snapshot = task
                if shown.index(key) != position:
                    if previous is None:
                        container.move_child(card, before=self._cards[shown[0]])
                    else:
                        container.move_child(card, after=previous)
                    shown.remove(key)
                    shown.insert(position, key)
            card.set_class(key == self.selected_key, "-selected")
            card.set_class(key == self.selected_key and self._active, "-cursor")
            previous = card
        self._shown = window

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "-narrow")
        if self.keys or self._shown:
            self.refresh_window()
        # The title's own width is known once this resize is laid out.
        self.call_after_refresh(self._update_title)
