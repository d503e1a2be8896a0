"""Small dialogs: notes for the agent, a confirmation, a file name, one event in full."""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from agentdeck.core.models import Event
from agentdeck.tui.console.agent_text import safe, styled
from agentdeck.tui.console.screens.base import DeckModal
from agentdeck.tui.console.widgets.log_view import AUTH_WORDS, actor_text, describe, kind_label


class NotesDialog(DeckModal[str | None]):
    """Ask for notes an agent can act on (reject, reopen, answer); returns them or None."""

    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel", tooltip="Close without sending")]

    def __init__(self, title: str, subject: Text, prompt: str, action_label: str) -> None:
        super().__init__(classes="dialog-screen")
        self.heading = title
        self.subject = subject
        self.prompt = prompt
        self.action_label = action_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title")
            yield Static(self.subject, classes="dialog-subject")
            yield Label(self.prompt, classes="dialog-prompt")
            yield Input(placeholder="type, then press Enter", id="notes")
            yield Label("", id="notes-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.action_label, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        notes = self.query_one("#notes", Input).value.strip()
        if not notes:
            self.query_one("#notes-error", Label).update("the agent needs notes it can act on")
            self.query_one("#notes", Input).focus()
            return
        self.dismiss(notes)

    @on(Button.Pressed, "#cancel")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


class ConfirmDialog(DeckModal[str | None]):
    """Ask before a destructive move, with an optional reason; returns the reason or None."""

    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Keep", tooltip="Close without doing anything"),
    ]

    def __init__(
        self, title: str, subject: Text, confirm_label: str, reason_prompt: str = ""
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.heading = title
        self.subject = subject
        self.confirm_label = confirm_label
        self.reason_prompt = reason_prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -danger"):
            yield Label(self.heading, classes="dialog-title")
            yield Static(self.subject, classes="dialog-subject")
            if self.reason_prompt:
                yield Label(self.reason_prompt, classes="dialog-prompt")
                yield Input(placeholder="optional; Enter confirms", id="reason")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, variant="error", id="ok")
                yield Button("Keep", id="cancel")

    def on_mount(self) -> None:
        if not self.reason_prompt:
            self.query_one("#cancel", Button).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def confirm(self) -> None:
        reason = self.query("#reason")
        self.dismiss(reason.first(Input).value.strip() if reason else "")

    @on(Button.Pressed, "#cancel")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


class SavePathDialog(DeckModal[str | None]):
    """Ask where to save a file; returns the path typed or None."""

    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel")]

    def __init__(self, title: str, default: str) -> None:
        super().__init__(classes="dialog-screen")
        self.heading = title
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title")
            yield Input(value=self.default, id="path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        self.dismiss(path or None)

    @on(Button.Pressed, "#cancel")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


class EventDialog(DeckModal[None]):
    """One log event in full: every line of its text and its data."""

    BINDINGS = [Binding("escape,enter,q", "dismiss_dialog", "Close")]

    def __init__(self, event: Event) -> None:
        super().__init__(classes="dialog-screen")
        self.event = event

    def compose(self) -> ComposeResult:
        event = self.event
        heading = styled(f"#{event.id}  {event.created_at:%Y-%m-%d %H:%M:%S} UTC  ", "bold")
        heading.append_text(actor_text(event, limit=60))
        heading.append(f"  {kind_label(event)}", style="italic")
        with Vertical(classes="dialog -wide"):
            yield Static(heading, classes="dialog-title")
            if event.auth:
                how = AUTH_WORDS.get(event.auth, event.auth)
                yield Static(safe(how, single_line=True, limit=100), classes="event-auth")
            with VerticalScroll(classes="event-body"):
                yield Static(safe(describe(event)))
                if event.data:
                    yield Static(Text("data", style="bold dim"))
                    yield Static(
                        safe(json.dumps(event.data, indent=2, sort_keys=True)[:20_000], "dim")
                    )

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)
