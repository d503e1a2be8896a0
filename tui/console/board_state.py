"""What the board screen shows: tasks keyed by key, the filter, and each column's order.

Pure Python with no widgets and no database, so a refresh can compute its diff cheaply and
tests can check ordering and filtering directly. Only columns a change touched are re-sorted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agentdeck.core import limits
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import COLUMNS, Task

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

    def describe(self) -> str:
        words = " ".join(w for w in self.text.split() if label_term(w) is None)
        parts = [f'"{words}"' if words else "", *(f"label:{t}" for t in self.labels)]
        parts += [self.agent and f"@{self.agent}", self.skill and f"#{self.skill}"]
        return " ".join(p for p in parts if p)


def task_number(key: str) -> int:
    return int(key.rpartition("-")[2] or 0)


def _sort_key(column: str, task: Task) -> tuple[float, ...]:
    if column in ("done", "failed"):
        # Most recent first.
        finished = task.completed_at or task.updated_at
        return (-finished.timestamp(), -float(task_number(task.key)))
    return (float(task.priority), float(task_number(task.key)))


class BoardState:
    """Tasks of one board keyed by task key; cancelled tasks are dropped."""

    def __init__(self, tasks: Iterable[Task] = ()) -> None:
        self.tasks: dict[str, Task] = {}
        self.filter = BoardFilter()
        self._order: dict[str, list[str]] = {}
        self.replace(tasks)

    def replace(self, tasks: Iterable[Task]) -> None:
        """Start over from a full load."""
        self.tasks = {t.key: t for t in tasks if t.status != "cancelled"}
        self._order = {}

    def apply(self, tasks: Iterable[Task]) -> set[str]:
        """Upsert changed tasks (removing cancelled ones); returns the columns that changed."""
        touched: set[str] = set()
        for task in tasks:
            old = self.tasks.get(task.key)
            if old == task:
                continue
            if old is not None:
                touched.add(old.column)
            if task.status == "cancelled":
                self.tasks.pop(task.key, None)
            else:
                self.tasks[task.key] = task
                touched.add(task.column)
        for column in touched:
            self._order.pop(column, None)
        return touched

    def set_filter(self, board_filter: BoardFilter) -> None:
        self.filter = board_filter
        self._order = {}

    def column_keys(self, column: str) -> list[str]:
        """Keys shown in a column, in display order, after the filter."""
        order = self._order.get(column)
        if order is None:
            shown = [
                t for t in self.tasks.values() if t.column == column and self.filter.matches(t)
            ]
            shown.sort(key=lambda t: _sort_key(column, t))
            order = self._order[column] = [t.key for t in shown]
        return order

    def counts(self) -> dict[str, int]:
        """Tasks per column, ignoring the filter."""
        by_column = dict.fromkeys(COLUMNS, 0)
        for task in self.tasks.values():
            by_column[task.column] = by_column.get(task.column, 0) + 1
        return by_column

    def agents(self) -> list[str]:
        return sorted({t.assignee for t in self.tasks.values() if t.assignee})

    def skills(self) -> list[str]:
        return sorted({s for t in self.tasks.values() for s in t.required_skills})
