"""The human's moves on one task, shared by the board, the task detail and the needs-human queue.

Each move is recorded as the human actor, carries the version of the task the human saw (a
stale one is refused as a conflict, shown as a notice), and runs in a thread worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message

from agentdeck.core import ConflictError, Deck, InvalidTransitionError
from agentdeck.core.lifecycle import EDITS, MOVES
from agentdeck.core.models import Task
from agentdeck.tui.console.agent_text import line, styled
from agentdeck.tui.console.feedback import already, moved_on, why_not
from agentdeck.tui.console.screens.base import DeckScreen
from agentdeck.tui.console.screens.dialogs import ConfirmDialog, NotesDialog
from agentdeck.tui.console.screens.pickers import UNASSIGN, ReassignDialog

TASK_BINDINGS = [
    Binding("a", "approve_task", "Approve", tooltip="Accept the work in review: the task is done"),
    Binding("x", "reject_task", "Reject", tooltip="Send the work back to its agent with notes"),
    Binding("o", "reopen_task", "Reopen", tooltip="Reopen a done or failed task with notes"),
    Binding(
        "e", "answer_task", "Answer", tooltip="Answer the escalation; the task returns to the queue"
    ),
    Binding(
        "r", "reassign_task", "Reassign", tooltip="Give the task to another agent with the skills"
    ),
    Binding("p", "raise_priority", "Prio↑", tooltip="Raise the priority (towards P0)"),
    Binding("P", "lower_priority", "Prio↓", tooltip="Lower the priority (towards P4)"),
    Binding("c", "cancel_task", "Cancel", tooltip="Cancel the task (asks first)"),
]
# Pressed when its move does not apply (hidden from the footer), a key says why instead of
# doing nothing: Textual tries a key's bindings in order, so these run only then.
TASK_BINDINGS += [Binding(b.key, f"explain({b.action!r})", show=False) for b in TASK_BINDINGS]

# The statuses each action applies to, straight from the lifecycle rules in core.
APPLIES = {
    "approve_task": MOVES["approve"].sources,
    "reject_task": MOVES["reject"].sources,
    "reopen_task": MOVES["reopen"].sources,
    "answer_task": MOVES["answer"].sources,
    "reassign_task": EDITS["assign"],
    "raise_priority": EDITS["set_priority"],
    "lower_priority": EDITS["set_priority"],
    "cancel_task": MOVES["cancel"].sources,
}


def subject(task: Task) -> Text:
    """`WEB-12 Title` for dialogs, the title shown literally."""
    text = styled(f"{task.key}  ", "bold")
    text.append_text(line(task.title, limit=90))
    return text


def action_applies(action: str, task: Task | None) -> bool | None:
    """None if `action` is not a task action; else whether it applies to `task`."""
    if action not in APPLIES:
        return None
    if task is None or task.status not in APPLIES[action]:
        return False
    if action == "raise_priority":
        return task.priority > 0
    if action == "lower_priority":
        return task.priority < 4
    return True


class TaskActions(DeckScreen):
    """A screen with a current task the human can act on; subclasses say which task it is."""

    @dataclass
    class VerbDone(Message):
        """A human move succeeded; `task` is the task as it is now."""

        summary: str
        task: Task

    def selected_task(self) -> Task | None:
        """The task the keys act on."""
        raise NotImplementedError

    def task_changed(self, task: Task) -> None:
        """Show the task as a move left it (before the next refresh confirms it)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        applies = action_applies(action, self.selected_task())
        return True if applies is None else applies

    def binding_state(self) -> tuple[object, ...]:
        """What the shown keys depend on; subclasses add their own parts."""
        task = self.selected_task()
        return (task.key, task.status, task.priority) if task else ()

    def update_keys(self) -> None:
        """Refresh the footer's keys, but only when what they depend on changed: the footer
        rebuilds itself on every refresh, which a live board would otherwise do ten times a
        second."""
        state = self.binding_state()
        if state != getattr(self, "_shown_binding_state", None):
            self._shown_binding_state = state
            self.refresh_bindings()

    def refusal(self, action: str) -> str | None:
        """Why `action` cannot act right now; screens whose target may vanish add theirs."""
        return why_not(action, self.selected_task())

    def action_explain(self, action: str) -> None:
        """The key of `action` was pressed but its move does not apply: say why."""
        if note := self.refusal(action):
            self.notify(note, title="Not done", severity="warning", markup=False)

    # -- the moves ---------------------------------------------------------------------------

    def action_approve_task(self) -> None:
        if task := self.selected_task():
            self.run_verb("approve", task)

    def action_reject_task(self) -> None:
        if task := self.selected_task():
            self._with_notes(
                task, "reject", f"Reject {task.key}", "What should the agent fix?", "Send back"
            )

    def action_reopen_task(self) -> None:
        if task := self.selected_task():
            self._with_notes(task, "reopen", f"Reopen {task.key}", "What is still wrong?", "Reopen")

    def action_answer_task(self) -> None:
        if task := self.selected_task():
            prompt = styled("The agent asked: ", "dim")
            prompt.append_text(
                line(task.escalation_reason or "(no reason given)", "italic", limit=200)
            )
            self._with_notes(task, "answer", f"Answer {task.key}", "Your answer:", "Answer", prompt)

    def _with_notes(
        self, task: Task, verb: str, title: str, prompt: str, label: str, extra: Text | None = None
    ) -> None:
        shown = subject(task)
        if extra is not None:
            shown.append("\n")
            shown.append_text(extra)

        def send(notes: str | None) -> None:
            if notes:
                key = "text" if verb == "answer" else "notes"
                self.run_verb(verb, task, **{key: notes})

        self.app.push_screen(NotesDialog(title, shown, prompt, label), send)

    def action_reassign_task(self) -> None:
        task = self.selected_task()
        if task is None:
            return

        def chosen(name: str | None) -> None:
            if name is not None:
                self.run_verb("assign", task, assignee=None if name == UNASSIGN else name)

        self.app.push_screen(ReassignDialog(task), chosen)

    def action_raise_priority(self) -> None:
        if task := self.selected_task():
            self.run_verb("set_priority", task, priority=max(0, task.priority - 1))

    def action_lower_priority(self) -> None:
        if task := self.selected_task():
            self.run_verb("set_priority", task, priority=min(4, task.priority + 1))

    def action_cancel_task(self) -> None:
        task = self.selected_task()
        if task is None:
            return

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self.run_verb("cancel", task, reason=reason)

        dialog = ConfirmDialog(f"Cancel {task.key}?", subject(task), "Cancel task", "Why?")
        self.app.push_screen(dialog, confirmed)

    # -- running them ------------------------------------------------------------------------

    def run_verb(self, verb: str, task: Task, **arguments: Any) -> None:
        """Apply one move as the human, with the version they saw, in a worker."""
        self._apply_verb(self.deck, verb, task, arguments)

    @work(thread=True, group="verb", exit_on_error=False)
    def _apply_verb(self, deck: Deck, verb: str, task: Task, arguments: dict[str, Any]) -> None:
        human = self.deck_app.ensure_human(deck)
        try:
            if verb == "assign":
                updated = deck.assign(
                    task.key, arguments["assignee"], actor=human, expected_version=task.version
                )
            else:
                method = getattr(deck, verb)
                updated = method(task.key, actor=human, expected_version=task.version, **arguments)
        except (ConflictError, InvalidTransitionError) as refused:
            # Someone moved the task since the human saw it: say who and what, not versions.
            now = deck.get_task(task.key)
            if now.status == task.status:
                raise
            raise type(refused)(already(task.key, moved_on(deck, task.key))) from refused
        self.post_message(self.VerbDone(summarise(verb, updated, arguments), updated))

    @on(VerbDone)
    def _verb_done(self, message: VerbDone) -> None:
        self.notify(message.summary, markup=False)
        self.task_changed(message.task)
        self.update_keys()

    def worker_failed(self, worker: Any) -> None:
        super().worker_failed(worker)
        if worker.group == "verb":
            # The task probably changed under the human: show them what it is now.
            self.deck_app.request_refresh()


def summarise(verb: str, task: Task, arguments: dict[str, Any]) -> str:
    """The notice shown after a move, e.g. `WEB-12 approved: done`."""
    key = task.key
    match verb:
        case "approve":
            return f"{key} approved: done"
        case "reject":
            return f"{key} sent back to {task.assignee or 'the queue'} with your notes"
        case "reopen":
            return f"{key} reopened with your notes"
        case "answer":
            return f"{key} answered: back in the queue for {task.assignee or 'any agent'}"
        case "assign":
            who = arguments.get("assignee")
            return f"{key} assigned to {who}" if who else f"{key} unassigned"
        case "set_priority":
            return f"{key} is now P{task.priority}"
        case "cancel":
            return f"{key} cancelled"
    return f"{key}: {verb} done"
