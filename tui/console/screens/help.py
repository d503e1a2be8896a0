"""Help: the keys of the screen underneath, with what each does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static

from agentdeck.tui.console.agent_text import styled
from agentdeck.tui.console.screens.base import DeckModal
from agentdeck.tui.console.widgets.log_view import NAMED_MARK

NAVIGATION = (
    ("← → / h l", "move between columns"),
    ("↑ ↓ / k j", "move between cards"),
    ("PgUp PgDn", "page through a long column"),
    ("ctrl+p", "command palette: every action by name"),
)
FILTER_TERMS = (
    ("label:bug  #bug", "only tasks with that label (each one given)"),
    ("words", "in the key, title, assignee or description; with labels, both must match"),
)
EDITING = (
    ("E", "edit: only the fields you change are saved; if the task moved meanwhile, the"),
    ("", "form says so, keeps your input, and Reload takes in the rest before you save"),
    ("m", "in a task: message the lead, an agent or a human; it shows in the task's log"),
)


def _pairs(rows: tuple[tuple[str, str], ...]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, what in rows:
        table.add_row(key, what)
    return table


def marker_legend() -> Table:
    """Who proved what: the `·named` marker in logs, and the header's `as NAME`."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    marker = styled("coder", "bold")
    marker.append(NAMED_MARK, style="dim italic")
    table.add_row(marker, "in a log: an agent that acted by its name alone, with no token")
    table.add_row(
        styled("as ann", "bold"), "this console acts with ann's saved credential (read-only: none)"
    )
    table.add_row("", "Every other entry was backed by a token: humans never act by name.")
    return table


def keys_table(screen: Screen[object]) -> Table:
    """Every key the screen and the app define; those that do not apply right now are dimmed."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column()
    seen: set[str] = set()
    for binding in [*screen.BINDINGS, *screen.app.BINDINGS]:
        if not isinstance(binding, Binding) or not binding.tooltip or binding.action in seen:
            continue
        seen.add(binding.action)
        applies = screen.check_action(binding.action, ()) is True
        key = binding.key_display or screen.app.get_key_display(binding)
        table.add_row(
            styled(key, "bold cyan" if applies else "grey42"),
            styled(binding.description, "bold" if applies else "grey42"),
            styled(binding.tooltip, "" if applies else "grey35"),
        )
    return table


class HelpScreen(DeckModal[None]):
    """What each key does on the screen the human came from."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss_help", "Close")]
    # The keys scroll inside the dialog, never past it: a share of the terminal's height that
    # leaves room for the dialog's title, border and padding at 24 rows and at 42.
    CSS = """
    HelpScreen .dialog.-help VerticalScroll {
        max-height: 65vh;
    }
    """

    def __init__(self, underneath: Screen[object]) -> None:
        super().__init__(classes="dialog-screen")
        self.underneath = underneath

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide -help"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll():
                yield Static(keys_table(self.underneath))
                if self.underneath.__class__.__name__ == "BoardScreen":
                    yield Static(Text("\nMoving around", style="bold underline"))
                    yield Static(_pairs(NAVIGATION))
                    yield Static(Text("\nFiltering (/)", style="bold underline"))
                    yield Static(_pairs(FILTER_TERMS))
                if self.underneath.__class__.__name__ in ("BoardScreen", "TaskDetailScreen"):
                    yield Static(Text("\nEditing and messages", style="bold underline"))
                    yield Static(_pairs(EDITING))
                yield Static(
                    styled("\nGreyed keys do not apply to the selected task right now.", "dim")
                )
                yield Static(Text(""))
                yield Static(marker_legend())

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
