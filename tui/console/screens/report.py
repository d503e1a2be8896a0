"""The markdown progress report, rendered; `w` saves it to a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Markdown, Static

from agentdeck.core import Deck
from agentdeck.tui.console.agent_text import clean
from agentdeck.tui.console.screens.base import DeckScreen
from agentdeck.tui.console.screens.dialogs import SavePathDialog
from agentdeck.tui.console.widgets.footer import KeyFooter


def _literal_parser() -> MarkdownIt:
    """GitHub-like markdown without turning bare domain names in agent text into links."""
    return MarkdownIt("gfm-like", {"linkify": False})


class ReportScreen(DeckScreen):
    """The board's progress report as core writes it."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the board"),
        Binding("w", "save_report", "Save", tooltip="Write the report to a markdown file"),
        Binding("r", "reload_report", "Reload", tooltip="Regenerate the report now"),
    ]

    @dataclass
    class Loaded(Message):
        """The report text."""

        markdown: str

    @dataclass
    class Saved(Message):
        """The report was written to `path`."""

        path: str

    def __init__(self) -> None:
        super().__init__(classes="report-screen")
        self.markdown = ""

    def compose(self) -> ComposeResult:
        yield Static(Text(" Progress report ", style="bold reverse"), id="report-title")
        with VerticalScroll(id="report-scroll"):
            yield Markdown(
                "*loading…*", id="report", open_links=False, parser_factory=_literal_parser
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#report-scroll").focus()
        self.action_reload_report()

    def action_reload_report(self) -> None:
        self.load_report(self.deck, self.board_key)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def load_report(self, deck: Deck, board: str) -> None:
        self.post_message(self.Loaded(deck.report(board)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        # core escapes agent text for markdown; control characters are made visible here.
        self.markdown = clean(message.markdown)
        self.query_one("#report", Markdown).update(self.markdown)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save_report":
            return bool(self.markdown)
        return True

    def action_save_report(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.save_report(self.markdown, path)

        default = f"{self.board_key.lower()}-report.md"
        self.app.push_screen(SavePathDialog("Save the report as", default), chosen)

    @work(thread=True, group="report-save", exit_on_error=False)
    def save_report(self, markdown: str, path: str) -> None:
        target = Path(path).expanduser()
        target.write_text(markdown, encoding="utf-8")
        self.post_message(self.Saved(str(target)))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.notify(f"report saved to {message.path}", markup=False)
