"""What the board screen holds: per column, its counts and a window of its tasks, and the filter.

A board of 100,000 tasks is never loaded whole: each column keeps how many tasks it holds
(under the filter, and in all) and a contiguous window of them in display order, a few pages
around the selection, read from the database (`Deck.column_page`) by the board screen's
workers. A refresh applies the tasks that changed to the windows they fall into (in order, by
`paging.display_key`, the order the database pages in) and takes counts and the windows'
places in their columns from the database. Pure Python with no widgets and no database, so
a refresh computes its diff cheaply and tests can check it directly.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import COLUMNS, Task
from agentdeck.core.paging import ColumnFilter, ColumnPage, display_key

LABEL_PREFIXES = ("label:", "#")  # `label:bug` and `#bug` in the filter's text name a label


def label_term(word: str) -> str | None:
    """The label a filter word names (`label:bug`, `#Bug` -> `bug`), or None for plain text.
    Labels are stored in `limits.label`'s folded form; so is the term (one no label can have
    is kept as typed, and matches nothing)."""
    for prefix in LABEL_PREFIXES:
        if word[: len(prefix)].casefold() == prefix and len(word) > len(prefix):
            try:
                return limits.label(word[len(prefix) :])
            except ValidationError:
                return word[len(prefix) :]
    return None


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """Which tasks the board shows: free text (key, title, description, assignee), labels
    (`label:bug` or `#bug` words in the text: the task must carry each), an agent (assignee)
    and a required skill; empty parts match everything."""

    text: str = ""
    agent: str = ""
    skill: str = ""

    @property
    def active(self) -> bool:
        return bool(self.text or self.agent or self.skill)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the text asks for."""
        return tuple(t for w in self.text.split() if (t := label_term(w)) is not None)

    @property
    def words(self) -> tuple[str, ...]:
        """The text's plain words (not labels), case-folded."""
        return tuple(w.casefold() for w in self.text.split() if label_term(w) is None)

    def matches(self, task: Task) -> bool:
        if self.agent and task.assignee != self.agent:
            return False
        if self.skill and self.skill not in task.required_skills:
            return False
        if self.text:
            if not set(self.labels) <= set(task.labels):
                return False
            haystack = f"{task.key} {task.title} {task.assignee or ''} {task.description}"
            return all(word in haystack.casefold() for word in self.words)
        return True

    def sql(self) -> ColumnFilter:
        """The filter as the database applies it (`Deck.column_page`)."""
        return ColumnFilter(
            words=self.words, labels=self.labels, agent=self.agent, skill=self.skill
        )

    def describe(self) -> str:
        words = " ".join(w for w in self.text.split() if label_term(w) is None)
        parts = [f'"{words}"' if words else "", *(f"label:{t}" for t in self.labels)]
        parts += [self.agent and f"@{self.agent}", self.skill and f"#{self.skill}"]
        return " ".join(p for p in parts if p)


def task_number(key: str) -> int:
    return int(key.rpartition("-")[2] or 0)


# Tasks a column window reads at a time, and how many pages of them it keeps at most.
PAGE = 60
KEEP_PAGES = 3


@dataclass
class ColumnWindow:
    """One column: `count` tasks under the filter (`total` in all), of which `tasks` (display
    order, `keys` alongside, each one's `display_key` in `places`) are loaded, the first at
    position `start` of the column."""

    column: str
    tasks: list[Task] = field(default_factory=list)
    places: list[tuple[Any, ...]] = field(default_factory=list)
    start: int = 0
    count: int = 0
    total: int = 0
    # Whether the loaded tasks run to the column's end: known from the page that loaded the
    # end, kept while changes come and go (a count read later may lag or lead them).
    at_end: bool = True

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.tasks]

    @property
    def end(self) -> int:
        """The position after the last loaded task."""
        return self.start + len(self.tasks)

    @property
    def more_below(self) -> bool:
        return not self.at_end

    def place(self, task: Task) -> tuple[Any, ...]:
        return display_key(self.column, task)

    def reset(self, page: ColumnPage) -> None:
        self.tasks = list(page.tasks)
        self.places = [self.place(t) for t in page.tasks]
        self.start, self.count = page.start, page.count
        self.at_end = page.start + len(page.tasks) >= page.count

    def remove(self, key: str) -> tuple[Any, ...] | None:
        """Take a task out; its place, if it was loaded."""
        for i, task in enumerate(self.tasks):
            if task.key == key:
                place = self.places[i]
                del self.tasks[i], self.places[i]
                return place
        return None

    def insert(self, task: Task, was: tuple[Any, ...] | None = None) -> bool:
        """Put a task where it sorts, if that is inside the loaded window (or at an end of
        the column the window reaches); whether it went in. `was`: its place before, when it
        was loaded here (the window still spans it)."""
        place = self.place(task)
        ends = [p for p in (was, *self.places[:1], *self.places[-1:]) if p is not None]
        if self.start > 0 and (not ends or place < min(ends)):
            return False  # above the window
        if self.more_below and (not ends or place > max(ends)):
            return False  # below the window
        at = bisect_left(self.places, place)
        self.tasks.insert(at, task)
        self.places.insert(at, place)
        return True

    def rebase(self, anchor: Task, rank: int) -> None:
        """`rank` tasks come before `anchor`'s place in the column: so the window starts
        where its tasks before that place say."""
        self.start = max(0, rank - bisect_left(self.places, self.place(anchor)))

    def keep_around(self, key: str | None, keep: int) -> None:
        """Drop loaded tasks farthest from `key` (the selection) beyond `keep`."""
        if len(self.tasks) <= keep:
            return
        keys = self.keys
        middle = keys.index(key) if key in keys else 0
        low = max(0, min(middle - keep // 2, len(keys) - keep))
        if low + keep < len(keys):
            self.at_end = False
        self.tasks = self.tasks[low : low + keep]
        self.places = self.places[low : low + keep]
        self.start += low


class BoardState:
    """The board's columns, each its counts and a window of tasks; cancelled tasks are not
    shown. `tasks` maps the key of every loaded task to it."""

    def __init__(self, page: int = PAGE) -> None:
        self.page = page
        self.keep = page * KEEP_PAGES
        self.filter = BoardFilter()
        self.windows = {c: ColumnWindow(c) for c in COLUMNS}
        self.tasks: dict[str, Task] = {}
        self._column_of: dict[str, str] = {}

    def load(self, pages: Mapping[str, ColumnPage], totals: Mapping[str, int]) -> None:
        """Start over from a page of each column and the unfiltered counts."""
        for column, window in self.windows.items():
            window.reset(pages[column])
            window.total = totals.get(column, 0)
        self._reindex()

    def _reindex(self) -> None:
        self.tasks = {t.key: t for w in self.windows.values() for t in w.tasks}
        self._column_of = {t.key: c for c, w in self.windows.items() for t in w.tasks}

    def apply(self, tasks: Iterable[Task], matching: set[str] | None = None) -> set[str]:
        """Apply changed tasks to the windows (removing cancelled ones and, under a filter,
        those not in `matching`: the keys the database says it lets through; None: judged
        here); returns the columns whose loaded tasks changed."""
        touched: set[str] = set()
        for task in tasks:
            old = self.tasks.get(task.key)
            if old == task:
                continue
            was = self._column_of.pop(task.key, None)
            place = None
            if was is not None:
                place = self.windows[was].remove(task.key)
                del self.tasks[task.key]
                touched.add(was)
            shown = task.status != "cancelled" and (
                task.key in matching
                if matching is not None and self.filter.active
                else self.filter.matches(task)
            )
            if place is not None and was != task.column:
                place = None  # its place in another column bounds nothing here
            window = self.windows.get(task.column)
            if shown and window is not None and window.insert(task, place):
                self.tasks[task.key] = task
                self._column_of[task.key] = task.column
                touched.add(task.column)
        return touched

    def set_counts(
        self,
        counts: Mapping[str, int],
        totals: Mapping[str, int],
        ranks: Mapping[str, tuple[Task, int]] | None = None,
    ) -> None:
        """Counts from the database (under the filter, and in all) and, for windows that do not
        start the column, how many tasks come before an anchor task's place."""
        for column, window in self.windows.items():
            window.count = counts.get(column, 0)
            window.total = totals.get(column, 0)
            if ranks and column in ranks:
                window.rebase(*ranks[column])
            window.start = max(0, min(window.start, window.count - len(window.tasks)))
            if window.end >= window.count:
                window.at_end = True

    def extend(self, page: ColumnPage, anchor: str, below: bool, selected: str | None) -> bool:
        """Add a page read after (`below`) or before the window's edge task `anchor`; a page
        whose edge moved meanwhile is dropped (the next move asks again). Keeps `keep`
        tasks around `selected`. Whether the window changed."""
        window = self.windows[page.column]
        edge = window.tasks[-1 if below else 0].key if window.tasks else None
        if edge != anchor:
            return False
        fresh = [t for t in page.tasks if t.key not in self._column_of]
        places = [window.place(t) for t in fresh]
        if below:
            window.tasks += fresh
            window.places += places
            window.at_end = page.start + len(page.tasks) >= page.count
        else:
            window.tasks[:0] = fresh
            window.places[:0] = places
            window.start = page.start
        window.count = page.count
        window.keep_around(selected, self.keep)
        self._reindex()
        return True

    def edge(self, column: str, below: bool) -> Task | None:
        """The loaded task a page past the window's end (or before its start) is read from,
        None when the window already reaches that end of the column."""
        window = self.windows[column]
        more = window.more_below if below else window.start > 0
        if not window.tasks or not more:
            return None
        return window.tasks[-1 if below else 0]

    def refill(self, page: ColumnPage, selected: str | None) -> None:
        """Load a column's window anew from a page read by position (an emptied window, or
        the first page under a new filter)."""
        window = self.windows[page.column]
        window.reset(page)
        window.keep_around(selected, self.keep)
        self._reindex()

    def size(self) -> int:
        """How many task models the board holds."""
        return len(self.tasks)

    def set_filter(self, board_filter: BoardFilter) -> None:
        self.filter = board_filter

    def column_keys(self, column: str) -> list[str]:
        """Keys of the loaded window of a column, in display order."""
        return self.windows[column].keys

    def counts(self) -> dict[str, int]:
        """Tasks per column, ignoring the filter."""
        return {c: w.total for c, w in self.windows.items()}

    def agents(self) -> list[str]:
        return sorted({t.assignee for t in self.tasks.values() if t.assignee})

    def skills(self) -> list[str]:
        return sorted({s for t in self.tasks.values() for s in t.required_skills})
