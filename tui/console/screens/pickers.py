"""Pick an agent to reassign a task to (filtered by the task's skills), or a board to show."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from agentdeck.core import Deck
from agentdeck.core.models import Agent, Board, Task
from agentdeck.tui.console.agent_text import line, styled
from agentdeck.tui.console.screens.base import DeckModal
from agentdeck.tui.console.widgets.roster import STATE_STYLES

UNASSIGN = "(unassign)"  # not a valid agent name, so it cannot collide


def fits(agent: Agent, needed: tuple[str, ...]) -> bool:
    """An agent may take a task when it has every skill the task requires."""
    return set(needed) <= set(agent.skills)


def agent_prompt(agent: Agent, needed: tuple[str, ...]) -> Text:
    label, style = STATE_STYLES.get(agent.state, (agent.state, ""))
    text = line(agent.name, "bold", limit=24)
    text.pad_right(max(0, 18 - text.cell_len))
    text.append(f" {label:<10}", style=style)
    for skill in agent.skills[:6]:
        text.append(" #")
        text.append_text(line(skill, "green" if skill in needed else "dim", limit=20))
    if agent.current_task:
        text.append(f"  on {agent.current_task}", style="italic dim")
    return text


class ReassignDialog(DeckModal[str | None]):
    """Choose the agent a task goes to; only agents with the task's skills are offered.

    Dismisses with the agent's name, `UNASSIGN`, or None when cancelled.
    """

    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel")]

    @dataclass
    class Loaded(Message):
        """The board's agents, read in a worker."""

        agents: list[Agent]

    def __init__(self, task: Task) -> None:
        super().__init__(classes="dialog-screen")
        self.target = task

    def compose(self) -> ComposeResult:
        subject = styled(f"{self.target.key} ", "bold")
        subject.append_text(line(self.target.title, limit=70))
        needed = ", ".join(self.target.required_skills)
        with Vertical(classes="dialog -wide"):
            yield Label(f"Reassign {self.target.key}", classes="dialog-title")
            yield Static(subject, classes="dialog-subject")
            yield Static(
                line(f"agents with skills: {needed}" if needed else "any agent can take it", "dim"),
                id="picker-hint",
            )
            yield OptionList(id="agents")

    def on_mount(self) -> None:
        self.load_agents(self.deck, self.board_key)

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def load_agents(self, deck: Deck, board: str) -> None:
        self.post_message(self.Loaded(deck.list_agents(board)))

    @on(Loaded)
    def show_agents(self, message: Loaded) -> None:
        needed = self.target.required_skills
        options = self.query_one("#agents", OptionList)
        eligible = [a for a in message.agents if a.kind == "agent" and fits(a, needed)]
        eligible.sort(key=lambda a: (a.state != "idle", a.name))
        for agent in eligible:
            current = agent.name == self.target.assignee
            prompt = agent_prompt(agent, needed)
            if current:
                prompt.append("  (assigned now)", style="yellow")
            options.add_option(Option(prompt, id=agent.name, disabled=current))
        if self.target.assignee:
            options.add_option(
                Option(Text("— unassign (back to the open queue)", style="italic"), id=UNASSIGN)
            )
        if not eligible:
            self.query_one("#picker-hint", Static).update(
                line(f"no agent on this board has the skills {', '.join(needed)}", "red")
            )
        options.focus()
        if options.option_count:
            options.highlighted = next(
                (
                    i
                    for i in range(options.option_count)
                    if not options.get_option_at_index(i).disabled
                ),
                0,
            )

    @on(OptionList.OptionSelected, "#agents")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


class BoardPicker(DeckModal[str | None]):
    """Choose which board to show; dismisses with its key or None."""

    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel")]

    @dataclass
    class Loaded(Message):
        """Every board in the database, read in a worker."""

        boards: list[Board]

    def __init__(self, current: str) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Switch board", classes="dialog-title")
            yield OptionList(id="boards")

    def on_mount(self) -> None:
        self.load_boards(self.deck)

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def load_boards(self, deck: Deck) -> None:
        self.post_message(self.Loaded(deck.list_boards()))

    @on(Loaded)
    def show_boards(self, message: Loaded) -> None:
        options = self.query_one("#boards", OptionList)
        for board in message.boards:
            prompt = styled(f"{board.key:<8}", "bold")
            prompt.append_text(line(board.name, limit=40))
            if board.key == self.current:
                prompt.append("  (showing)", style="dim")
            options.add_option(Option(prompt, id=board.key))
        options.focus()
        keys = [b.key for b in message.boards]
        if self.current in keys:
            options.highlighted = keys.index(self.current)

    @on(OptionList.OptionSelected, "#boards")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)
