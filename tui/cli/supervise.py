"""The human's side: approve, reject, reopen, answer, assign, priority, cancel.

Each needs a human's credential (your credential file names you; `--as` must agree). Each accepts
`--expected-version N`: if the task changed since you looked, the edit is refused (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from agentdeck.tui.cli.context import (
    KeyArgument,
    Session,
    VersionOption,
    deck_command,
    one_text,
)
from agentdeck.tui.cli.errors import CliError
from agentdeck.tui.cli.output import safe, say

if TYPE_CHECKING:
    from agentdeck.core.models import Task

NotesArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="NOTES", help="What to fix; it reaches the agent's inbox.", show_default=False
    ),
]
# The options free text had before it became positional: still accepted, no longer shown.
NotesAlias = Annotated[str | None, typer.Option("--notes", hidden=True)]


def _notes(verb: str, notes: str | None, alias: str | None) -> str:
    """The NOTES argument (or --notes) a reject or reopen needs."""
    given = one_text(notes, alias, "--notes", what="notes")
    if given is None:
        raise CliError(f'{verb} needs NOTES saying what to fix: agentdeck {verb} KEY "notes"')
    return given


@deck_command()
def approve(
    s: Session,
    key: KeyArgument,
    note: Annotated[
        str | None,
        typer.Argument(
            metavar="NOTE", help="A comment kept with the approval.", show_default=False
        ),
    ] = None,
    expected_version: VersionOption = None,
    note_alias: Annotated[str | None, typer.Option("--note", hidden=True)] = None,
) -> None:
    """Accept work in review: the task is done. Humans only, never on their own work.

    Example: agentdeck approve WEB-12 "looks good"
    """
    given = one_text(note, note_alias, "--note", what="note") or ""
    _decide(s, "approve", key, expected_version, note=given)


@deck_command()
def reject(
    s: Session,
    key: KeyArgument,
    notes: NotesArgument = None,
    expected_version: VersionOption = None,
    notes_alias: NotesAlias = None,
) -> None:
    """Send work in review back to its agent with notes on what to fix.

    Example: agentdeck reject WEB-12 "the form does not validate e-mail addresses"
    """
    _decide(s, "reject", key, expected_version, notes=_notes("reject", notes, notes_alias))


@deck_command()
def reopen(
    s: Session,
    key: KeyArgument,
    notes: NotesArgument = None,
    expected_version: VersionOption = None,
    notes_alias: NotesAlias = None,
) -> None:
    """Reopen a done or failed task with notes; it returns to its agent's queue.

    Example: agentdeck reopen WEB-12 "breaks on Safari; see issue 41"
    """
    _decide(s, "reopen", key, expected_version, notes=_notes("reopen", notes, notes_alias))


@deck_command()
def answer(
    s: Session,
    key: KeyArgument,
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="Your answer; it reaches the agent's inbox.")
    ],
    expected_version: VersionOption = None,
) -> None:
    """Answer an escalation; the task returns to the queue and the answer to the agent.

    Example: agentdeck answer WEB-12 "use the staging key in 1Password, vault 'web'"
    """
    _decide(s, "answer", key, expected_version, text=text)


@deck_command()
def assign(
    s: Session,
    key: KeyArgument,
    agent: Annotated[str, typer.Argument(metavar="AGENT", help="The new assignee; - for nobody.")],
    expected_version: VersionOption = None,
) -> None:
    """Give a task to an agent (- unassigns); work in progress goes back to pending for them.

    Example: agentdeck assign WEB-12 reviewer
    """
    _decide(s, "assign", key, expected_version, assignee=None if agent == "-" else agent)


@deck_command()
def priority(
    s: Session,
    key: KeyArgument,
    level: Annotated[int, typer.Argument(metavar="N", help="0 most urgent .. 4 least.")],
    expected_version: VersionOption = None,
) -> None:
    """Change a task's priority (0 most urgent, 4 least).

    Example: agentdeck priority WEB-12 0
    """
    _decide(s, "set_priority", key, expected_version, priority=level)


@deck_command()
def cancel(
    s: Session,
    key: KeyArgument,
    reason: Annotated[
        str | None,
        typer.Argument(metavar="REASON", help="Why it is no longer needed.", show_default=False),
    ] = None,
    expected_version: VersionOption = None,
    reason_alias: Annotated[str | None, typer.Option("--reason", hidden=True)] = None,
) -> None:
    """Cancel an open task; tasks waiting on it stop waiting.

    Example: agentdeck cancel WEB-12 "dropped from the launch scope"
    """
    given = one_text(reason, reason_alias, "--reason", what="reason") or ""
    _decide(s, "cancel", key, expected_version, reason=given)


Verb = Literal["approve", "reject", "reopen", "answer", "assign", "set_priority", "cancel"]

# What each verb prints for people, given the task it returns.
_SAID: dict[Verb, Callable[[Task], str]] = {
    "approve": lambda task: f"approved {task.key}; it is done",
    "reject": lambda task: f"rejected {task.key}; back to {_who(task.assignee)}",
    "reopen": lambda task: f"reopened {task.key}; back to {_who(task.assignee)}",
    "answer": lambda task: f"answered {task.key}; it is {task.column}",
    "assign": lambda task: f"{task.key} is assigned to {_who(task.assignee)}",
    "set_priority": lambda task: f"{task.key} is now P{task.priority}",
    "cancel": lambda task: f"cancelled {task.key}",
}


def _decide(s: Session, verb: Verb, key: str, expected_version: int | None, **given: Any) -> None:
    """The one body of every command here: `Deck.<verb>` on `key` as the acting human, with
    the version check, then the task as JSON or the verb's one line."""
    act: Callable[..., Task] = getattr(s.deck(), verb)
    task = act(key, actor=s.human(), expected_version=expected_version, **given)
    s.emit(task.to_dict(), lambda: say(_SAID[verb](task)))


def _who(name: str | None) -> str:
    return safe(name, one_line=True) if name else "nobody"
