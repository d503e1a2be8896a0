"""Forms: a new task, and the board filter (text, agent, skill)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from agentdeck.tui.console.board_state import BoardFilter
from agentdeck.tui.console.screens.base import DeckModal


@dataclass(frozen=True)
class NewTask:
    """What the human typed for a new task; `Deck.add_task` validates it."""

    title: str
    description: str = ""
    criteria: str = ""
    priority: int = 2
    skills: tuple[str, ...] = ()
    blocked_by: tuple[str, ...] = field(default_factory=tuple)


def _words(value: str) -> tuple[str, ...]:
    return tuple(w for w in value.replace(",", " ").split() if w)


class NewTaskDialog(DeckModal[NewTask | None]):
    """Ask for a task's title, description, criteria, priority, skills and blockers."""

    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Cancel"),
        Binding("ctrl+s", "create_task", "Create", tooltip="Create the task"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Label("New task", classes="dialog-title")
            yield Input(placeholder="Title (required)", id="title")
            yield Input(placeholder="Description", id="description")
            yield Input(placeholder="Success criteria", id="criteria")
            with Horizontal(classes="form-row"):
                yield Select(
                    [(f"P{p}{'  most urgent' if p == 0 else ''}", p) for p in range(5)],
                    value=2,
                    allow_blank=False,
                    id="priority",
                )
                yield Input(placeholder="Skills, e.g. frontend, sql", id="skills")
            yield Input(placeholder="Blocked by, e.g. WEB-3 WEB-7", id="blocked-by")
            yield Label("", id="form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def action_create_task(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.query_one("#form-error", Label).update("a task needs a title")
            self.query_one("#title", Input).focus()
            return
        priority = self.query_one("#priority", Select).value
        self.dismiss(
            NewTask(
                title=title,
                description=self.query_one("#description", Input).value.strip(),
                criteria=self.query_one("#criteria", Input).value.strip(),
                priority=priority if isinstance(priority, int) else 2,
                skills=_words(self.query_one("#skills", Input).value.lower()),
                blocked_by=_words(self.query_one("#blocked-by", Input).value.upper()),
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


class FilterDialog(DeckModal[BoardFilter | None]):
    """Narrow the board to tasks matching text, an agent and a skill; empty shows all."""

    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel")]

    def __init__(self, current: BoardFilter, agents: list[str], skills: list[str]) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current
        self.agents = agents
        self.skills = skills

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Filter the board", classes="dialog-title")
            yield Input(
                value=self.current.text,
                placeholder="words in key, title, agent, description; label:bug or #bug",
                id="text",
            )
            yield Select(
                [(f"@{a}", a) for a in self.agents],
                value=self.current.agent if self.current.agent in self.agents else Select.NULL,
                prompt="any agent",
                id="agent",
            )
            yield Select(
                [(f"#{s}", s) for s in self.skills],
                value=self.current.skill if self.current.skill in self.skills else Select.NULL,
                prompt="any skill",
                id="skill",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", variant="primary", id="ok")
                yield Button("Clear", id="clear")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def apply(self) -> None:
        agent = self.query_one("#agent", Select).value
        skill = self.query_one("#skill", Select).value
        self.dismiss(
            BoardFilter(
                text=self.query_one("#text", Input).value.strip(),
                agent=agent if isinstance(agent, str) else "",
                skill=skill if isinstance(skill, str) else "",
            )
        )

    @on(Button.Pressed, "#clear")
    def clear(self) -> None:
        self.dismiss(BoardFilter())

    @on(Button.Pressed, "#cancel")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)
