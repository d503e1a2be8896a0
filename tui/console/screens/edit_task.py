"""The edit form (`E` on a card or in the task screen) and the send form (`m` in the task screen).

The edit form loads the task as it is when the form opens and remembers that version; Save
sends only the fields the human changed, through `Deck.edit_task` with that version, so an
agent's move or another edit in between is a conflict, never a silent overwrite. A conflict
or a refusal is shown in the form, one line, and the human's input stays: Reload takes in the
task's current values for the fields they did not touch, keeps the ones they did, and Save
tries again against the new version.

The send form asks whom to send a message to (the lead, an agent or a human of the board) and
what; `Deck.send` delivers it to their inbox, tied to the task, so it shows in the task's log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message as TextualMessage
from textual.widgets import Button, Input, Label, Select, Static, TextArea
from textual.worker import Worker

from agentdeck.core import ConflictError, Deck, ValidationError, limits
from agentdeck.core.models import FINISHED_STATUSES, TASK_TYPES, Edited, Message, TaskDetail
from agentdeck.tui.console.agent_text import clean, line, styled
from agentdeck.tui.console.screens.base import DeckModal, error_line

# The form's fields, in the order shown: (widget id, label).
FIELDS = (
    ("title", "Title"),
    ("description", "Description"),
    ("criteria", "Criteria"),
    ("skills", "Skills"),
    ("estimate", "Estimate (h)"),
    ("priority", "Priority"),
    ("type", "Type"),
    ("labels", "Labels"),
    ("parent", "Parent"),
    ("dependencies", "Depends on"),
)
_TEXT_AREAS = ("description", "criteria")
_SELECTS = ("priority", "type")


def _words(value: str) -> list[str]:
    return [w for w in value.replace(",", " ").split() if w]


def shown_values(detail: TaskDetail) -> dict[str, Any]:
    """What each field shows for a task: text for inputs, the value for the selects."""
    task = detail.task
    return {
        "title": task.title,
        "description": task.description,
        "criteria": task.criteria,
        "skills": " ".join(task.required_skills),
        "estimate": "" if task.estimate_hours is None else f"{task.estimate_hours:g}",
        "priority": task.priority,
        "type": task.type,
        "labels": " ".join(task.labels),
        "parent": task.parent or "",
        "dependencies": " ".join(key for key, _ in detail.blocked_by_all),
    }


def meaning(field: str, value: Any) -> Any:
    """What a field's shown value means, so that spacing, case and order the human did not
    really change do not count as a change. Raises `ValidationError` for a value that cannot
    be one (an estimate that is not a number, a label with a space in it)."""
    match field:
        case "title":
            return str(value).strip()
        case "description" | "criteria":
            return "\n".join(str(value).splitlines()).strip()
        case "skills":
            return tuple(sorted({w.lower() for w in _words(value)}))
        case "estimate":
            text = str(value).strip().removesuffix("h").strip()
            if not text:
                return None
            try:
                return float(text)
            except ValueError:
                raise ValidationError(
                    f"the estimate is a number of hours, like 3 or 0.5, not {clean(text, single_line=True, limit=20)!r}"
                ) from None
        case "labels":
            return tuple(sorted({limits.label(w) for w in _words(value)}))
        case "parent":
            return str(value).strip().upper() or None
        case "dependencies":
            return tuple(sorted({w.upper() for w in _words(value)}))
    return value


def changes(base: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """The `Deck.edit_task` arguments for the fields whose meaning differs between the values
    the form opened with (`base`) and what it holds now; only those fields are sent."""
    out: dict[str, Any] = {}
    for field, _ in FIELDS:
        before, after = meaning(field, base[field]), meaning(field, now[field])
        if before == after:
            continue
        match field:
            case "title":
                if not after:
                    raise ValidationError("a task needs a title")
                out["title"] = after
            case "description" | "criteria":
                out[field] = str(now[field]).rstrip()
            case "skills":
                out["skills"] = list(after)
            case "estimate":
                out["estimate_hours"] = after
            case "priority" | "type":
                out[field] = after
            case "labels":
                out["add_labels"] = sorted(set(after) - set(before))
                out["remove_labels"] = sorted(set(before) - set(after))
            case "parent":
                out["parent"] = after
            case "dependencies":
                out["add_dependencies"] = sorted(set(after) - set(before))
                out["remove_dependencies"] = sorted(set(before) - set(after))
    return out


def touched(base: dict[str, Any], now: dict[str, Any]) -> set[str]:
    """The fields the human changed (a value that cannot be parsed counts as changed)."""
    out = set()
    for field, _ in FIELDS:
        try:
            if meaning(field, base[field]) != meaning(field, now[field]):
                out.add(field)
        except ValidationError:
            out.add(field)
    return out


class EditTaskDialog(DeckModal[Edited | None]):
    """Edit one task's fields; dismissed with what the edit changed, or None if cancelled."""

    # Compact rows, one line a field (three for the texts), so the whole form fits an
    # 80x24 terminal with its buttons; the fields scroll when the window is shorter still.
    CSS = """
    EditTaskDialog .edit-fields {
        height: auto;
        max-height: 50vh;
    }
    EditTaskDialog .edit-row {
        height: auto;
    }
    EditTaskDialog .edit-label {
        width: 14;
        color: $text-muted;
    }
    EditTaskDialog .edit-row Input {
        width: 1fr;
        margin-bottom: 0;
    }
    EditTaskDialog .edit-row TextArea {
        width: 1fr;
        height: 3;
        background: $boost;
    }
    EditTaskDialog .edit-row Select {
        width: 16;
        margin-bottom: 0;
        margin-right: 2;
    }
    EditTaskDialog .dialog-title {
        margin-bottom: 0;
    }
    EditTaskDialog #edit-hint {
        color: $text-muted;
    }
    EditTaskDialog .dialog-buttons {
        margin-top: 0;
    }
    EditTaskDialog #reload {
        display: none;
    }
    EditTaskDialog.-conflict #reload {
        display: block;
    }
    """

    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Cancel", tooltip="Close without saving"),
        Binding("ctrl+s", "save", "Save", tooltip="Save the fields you changed"),
    ]

    @dataclass
    class Loaded(TextualMessage):
        """The task as it is now (the form's values and version come from it)."""

        detail: TaskDetail
        rebase: bool  # True: a reload after a conflict, keeping what the human changed

    @dataclass
    class Saved(TextualMessage):
        edited: Edited

    def __init__(self, key: str) -> None:
        super().__init__(classes="dialog-screen")
        self.key = key
        self.detail: TaskDetail | None = None
        self.base: dict[str, Any] = {}  # what the fields showed at `version`
        self.saving = False

    @property
    def version(self) -> int | None:
        """The version of the task the form's values were read at: what Save carries."""
        return self.detail.task.version if self.detail else None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Label(f"Edit {self.key}", id="edit-title", classes="dialog-title")
            with VerticalScroll(classes="edit-fields"):
                for field, label in FIELDS:
                    if field == "type":
                        continue  # beside the priority
                    with Horizontal(classes="edit-row"):
                        yield Label(label, classes="edit-label")
                        if field in _TEXT_AREAS:
                            yield TextArea(
                                id=field, compact=True, soft_wrap=True, tab_behavior="focus"
                            )
                        elif field == "priority":
                            yield Select(
                                [(f"P{p}", p) for p in range(5)],
                                allow_blank=False,
                                value=2,
                                id="priority",
                                compact=True,
                            )
                            yield Label("Type", classes="edit-label")
                            yield Select(
                                [(t, t) for t in TASK_TYPES],
                                allow_blank=False,
                                value=TASK_TYPES[0],
                                id="type",
                                compact=True,
                            )
                        else:
                            yield Input(id=field, compact=True, placeholder=_PLACEHOLDERS[field])
            yield Static("loading…", id="edit-hint")
            yield Label("", id="form-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reload", id="reload", compact=True)
                yield Button("Save", variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).disabled = True
        self.load(self.deck, self.key, rebase=False)

    # -- loading -----------------------------------------------------------------------------

    @work(thread=True, group="edit-load", exclusive=True, exit_on_error=False)
    def load(self, deck: Deck, key: str, *, rebase: bool) -> None:
        self.post_message(self.Loaded(deck.task_detail(key), rebase))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        fresh = shown_values(message.detail)
        keep = touched(self.base, self.values()) if message.rebase and self.base else set()
        for field, _ in FIELDS:
            if field not in keep:
                self._set(field, fresh[field])
        self.detail, self.base = message.detail, fresh
        task = message.detail.task
        hint = styled(f"version {task.version} · {task.status.replace('_', ' ')}", "dim")
        if task.status in FINISHED_STATUSES:
            hint.append("  · a finished task keeps its history: only its labels may change")
        if message.rebase:
            kept = ", ".join(label for field, label in FIELDS if field in keep) or "nothing"
            hint.append(f"  · reloaded; kept your changes to: {kept.lower()}")
        self.query_one("#edit-hint", Static).update(hint)
        self.query_one("#form-error", Label).update("")
        self.set_class(False, "-conflict")
        self.query_one("#ok", Button).disabled = False
        if not message.rebase:
            self.query_one("#title", Input).focus()

    def _set(self, field: str, value: Any) -> None:
        if field in _TEXT_AREAS:
            self.query_one(f"#{field}", TextArea).load_text(str(value))
        elif field in _SELECTS:
            self.query_one(f"#{field}", Select).value = value
        else:
            widget = self.query_one(f"#{field}", Input)
            widget.value = str(value)
            widget.cursor_position = 0

    def values(self) -> dict[str, Any]:
        """What each field holds now."""
        out: dict[str, Any] = {}
        for field, _ in FIELDS:
            if field in _TEXT_AREAS:
                out[field] = self.query_one(f"#{field}", TextArea).text
            elif field in _SELECTS:
                out[field] = self.query_one(f"#{field}", Select).value
            else:
                out[field] = self.query_one(f"#{field}", Input).value
        return out

    # -- saving ------------------------------------------------------------------------------

    def _error(self, text: str) -> None:
        self.query_one("#form-error", Label).update(Text(text))

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def action_save(self) -> None:
        if self.detail is None or self.saving:
            return
        try:
            asked = changes(self.base, self.values())
        except ValidationError as exc:
            self._error(clean(exc.message, single_line=True, limit=200))
            return
        if not asked:
            self._error("nothing to save: no field changed (Escape closes)")
            return
        self.saving = True
        self.query_one("#ok", Button).disabled = True
        self._error("saving…")
        self.save(self.deck, self.key, self.detail.task.version, asked)

    @work(thread=True, group="edit-save", exit_on_error=False)
    def save(self, deck: Deck, key: str, version: int, asked: dict[str, Any]) -> None:
        human = self.deck_app.ensure_human(deck)
        self.post_message(
            self.Saved(deck.edit_task(key, actor=human, expected_version=version, **asked))
        )

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.dismiss(message.edited)

    def worker_failed(self, worker: Worker[Any]) -> None:
        if worker.group != "edit-save":
            super().worker_failed(worker)
            return
        self.saving = False
        self.query_one("#ok", Button).disabled = False
        error = worker.error
        if isinstance(error, ConflictError):
            self.set_class(True, "-conflict")
            self._error(
                f"{self.key} changed while this form was open (someone moved or edited it); "
                "nothing was saved and your input is kept. Reload takes in its current values "
                "for the fields you did not change; then Save again."
            )
            self.query_one("#reload", Button).focus()
        else:
            self._error(f"not saved: {error_line(error)}")

    @on(Button.Pressed, "#reload")
    def reload(self) -> None:
        self.query_one("#ok", Button).disabled = True
        self.load(self.deck, self.key, rebase=True)

    @on(Button.Pressed, "#cancel")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


_PLACEHOLDERS = {
    "title": "one line",
    "skills": "e.g. frontend sql",
    "estimate": "hours, e.g. 3 (empty: none)",
    "labels": "e.g. bug ui",
    "parent": "an epic's key, e.g. WEB-3 (empty: none)",
    "dependencies": "keys it waits on, e.g. WEB-2 WEB-5",
}


def edited_line(edited: Edited) -> str:
    """The notice after an edit, e.g. `WEB-7 edited: title, labels`."""
    if not edited.changed:
        return f"{edited.task.key}: nothing changed"
    return f"{edited.task.key} edited: {', '.join(f.replace('_', ' ') for f in edited.changed)}"


# -- sending a message ------------------------------------------------------------------------

LEAD = "lead"


@dataclass(frozen=True)
class Recipient:
    """Someone a message can go to: `lead`, or a member's name, with how the form shows it."""

    name: str
    shown: str


class SendDialog(DeckModal[Message | None]):
    """Send a message about one task to the lead, an agent or a human of the board."""

    BINDINGS = [Binding("escape", "dismiss_dialog", "Cancel", tooltip="Close without sending")]

    @dataclass
    class Members(TextualMessage):
        recipients: list[Recipient]

    @dataclass
    class Sent(TextualMessage):
        message: Message

    def __init__(self, key: str, subject: Text, holder: str | None) -> None:
        super().__init__(classes="dialog-screen")
        self.key = key
        self.subject = subject
        self.holder = holder
        self.sending = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Send a message about {self.key}", classes="dialog-title")
            yield Static(self.subject, classes="dialog-subject")
            yield Label("Send to:", classes="dialog-prompt")
            yield Select[str]([], prompt="loading the board's members…", id="to")
            yield Label(
                "Text (it goes to their inbox and this task's log):", classes="dialog-prompt"
            )
            yield Input(placeholder="type, then press Enter", id="text")
            yield Label("", id="send-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()
        self.load_members(self.deck, self.board_key)

    @work(thread=True, group="send-members", exit_on_error=False)
    def load_members(self, deck: Deck, board: str) -> None:
        lead = deck.get_board(board).lead
        me = deck.whoami(board)
        recipients = [Recipient(LEAD, f"lead ({lead})" if lead else "lead")]
        for agent in deck.list_agents(board):
            if me is not None and agent.name == me.name:
                continue
            kind = "human" if agent.kind == "human" else (agent.role or "agent")
            recipients.append(Recipient(agent.name, f"{agent.name} · {kind}"))
        self.post_message(self.Members(recipients))

    @on(Members)
    def _members(self, message: Members) -> None:
        select: Select[str] = self.query_one("#to", Select)
        select.set_options([(line(r.shown, limit=60), r.name) for r in message.recipients])
        names = [r.name for r in message.recipients]
        select.value = self.holder if self.holder in names else LEAD

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        if self.sending:
            return
        to = self.query_one("#to", Select).value
        text = self.query_one("#text", Input).value.strip()
        if not isinstance(to, str):
            self._error("choose whom to send it to")
            return
        if not text:
            self._error("a message needs text")
            self.query_one("#text", Input).focus()
            return
        self.sending = True
        self._error("sending…")
        self.send(self.deck, to, text)

    def _error(self, text: str) -> None:
        self.query_one("#send-error", Label).update(Text(text))

    @work(thread=True, group="send", exit_on_error=False)
    def send(self, deck: Deck, to: str, text: str) -> None:
        human = self.deck_app.ensure_human(deck)
        sent = deck.send(to, text, actor=human, board=self.board_key, task=self.key)
        self.post_message(self.Sent(sent))

    @on(Sent)
    def _sent(self, message: Sent) -> None:
        self.dismiss(message.message)

    def worker_failed(self, worker: Worker[Any]) -> None:
        if worker.group != "send":
            super().worker_failed(worker)
            return
        self.sending = False
        self._error(f"not sent: {error_line(worker.error)}")

    @on(Button.Pressed, "#cancel")
    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)


def sent_line(message: Message) -> str:
    """The notice after a send, e.g. `sent to lead-1; it is in WEB-7's log`."""
    where = f"; it is in {message.task}'s log" if message.task else ""
    return clean(f"sent to {message.to}{where}", single_line=True, limit=120)


def open_edit_form(screen: Any, key: str, done: Callable[[Edited], None]) -> None:
    """Push the edit form for `key` over `screen`; `done` gets what a save changed."""

    def closed(edited: Edited | None) -> None:
        if edited is not None:
            done(edited)

    screen.app.push_screen(EditTaskDialog(key), closed)
