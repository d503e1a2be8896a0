"""Knowledge search: full-text search over the board's finished tasks; Enter opens a hit."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from agentdeck.core import Deck
from agentdeck.core.models import SearchHit
from agentdeck.tui.console.agent_text import line, styled
from agentdeck.tui.console.screens.base import DeckScreen
from agentdeck.tui.console.widgets.footer import KeyFooter


def hit_prompt(hit: SearchHit) -> Group:
    """Key and title, then the matching passage, then the result the task ended with: the
    key never cut, the title cut with an ellipsis, the passage and result indented under it
    (wrapped lines too) at any width."""
    head = Table.grid()
    head.add_column(no_wrap=True)
    head.add_column(ratio=1)
    title = line(hit.title, "bold", limit=110)
    title.no_wrap, title.overflow = True, "ellipsis"
    head.add_row(styled(f"{hit.key}  ", "bold cyan"), title)
    parts: list[RenderableType] = [head]
    if hit.snippet:
        parts.append(Padding(line(hit.snippet, "dim", limit=150), (0, 0, 0, 4)))
    if hit.result:
        result = styled("✓ ", "green")
        result.append_text(line(hit.result, "green", limit=150))
        parts.append(Padding(result, (0, 0, 0, 4)))
    return Group(*parts)


class SearchScreen(DeckScreen):
    """Type to search finished tasks; the best matches come first."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the board"),
        Binding("down", "focus_hits", "Hits", show=False),
    ]

    @dataclass
    class Results(Message):
        """Hits for one query."""

        query: str
        hits: list[SearchHit]

    def __init__(self, query: str = "") -> None:
        super().__init__(classes="search-screen")
        self.initial_query = query
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(" Knowledge library ", style="bold reverse"), id="search-title")
        yield Input(
            value=self.initial_query,
            placeholder="search finished tasks: titles, results, notes, decisions…",
            id="query",
        )
        yield Static(id="search-status")
        yield OptionList(id="hits")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self._status("Type words to search; every word must match. Enter or ↓ goes to the hits.")
        if self.initial_query:
            self.run_search(self.deck, self.board_key, self.initial_query)

    def _status(self, text: str) -> None:
        self.query_one("#search-status", Static).update(line(text, "dim"))

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if query:
            self.run_search(self.deck, self.board_key, query)
        else:
            self.query_one("#hits", OptionList).clear_options()

    @on(Input.Submitted, "#query")
    def action_focus_hits(self) -> None:
        hits = self.query_one("#hits", OptionList)
        if hits.option_count:
            hits.focus()
            hits.highlighted = hits.highlighted or 0

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, deck: Deck, board: str, query: str) -> None:
        hits = deck.search(query, board=board, limit=30)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Results(query, hits))

    @on(Results)
    def _results(self, message: Results) -> None:
        if message.query != self.query_one("#query", Input).value.strip():
            return  # typed on since: a newer search is coming
        self.hits = message.hits
        options = self.query_one("#hits", OptionList)
        options.clear_options()
        for index, hit in enumerate(message.hits):
            if index:
                options.add_option(None)  # a separator line between hits
            options.add_option(Option(hit_prompt(hit), id=hit.key))
        count = len(message.hits)
        matches = {0: "no finished task matches", 1: "1 finished task matches"}
        self._status(matches.get(count, f"{count:,} finished tasks match"))

    @on(OptionList.OptionSelected, "#hits")
    def _open(self, event: OptionList.OptionSelected) -> None:
        from agentdeck.tui.console.screens.task_detail import TaskDetailScreen

        if event.option.id:
            self.app.push_screen(TaskDetailScreen(event.option.id))
