"""`agentdeck comment KEY TEXT`: a member's comment on a task, apart from its work log."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agentdeck.core import limits
from agentdeck.tui.cli.context import KeyArgument, Session, deck_command
from agentdeck.tui.cli.output import say


@deck_command()
def comment(
    s: Session,
    key: KeyArgument,
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="What you have to say; - reads it from stdin.")
    ],
) -> None:
    """Comment on a task: a question, a pointer, a heads-up; humans and agents alike.

    Any member of the board may comment on any of its tasks, in any status. Comments are kept apart from the holder's work log: `task show` lists the newest with their count, the MCP task_show answer carries them, and the report lists the newest on open tasks. Text is stored as written (cut past 64 KiB, as a log entry) and shown literally.

    With --json: {"id": N, "task": KEY, "actor": NAME, "text": ..., "at": TIME}.

    Example: agentdeck comment WEB-12 "the staging DB is back up; retry the migration" --as ann
    """
    if text == "-":
        text = sys.stdin.read(limits.MAX_TEXT + 1)
    said = s.deck().comment(key, text, actor=s.human())
    from agentdeck.core import views

    s.emit(
        views.comment_card(said, None),
        lambda: say(f"commented on {said.task} (#{said.id})"),
    )
