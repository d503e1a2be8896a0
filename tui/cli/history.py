"""A task's git history: `agentdeck changes` and `agentdeck rollback` (`agentdeck.core.history`)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentdeck.tui.cli.context import KeyArgument, Session, deck_command
from agentdeck.tui.cli.output import plural, safe, say

RepoOption = Annotated[
    str, typer.Option("--repo", metavar="PATH", help="The git work tree (default: here).")
]


@deck_command()
def changes(s: Session, key: KeyArgument, repo: RepoOption = ".") -> None:
    """The commits and files changed in the git work tree since a task started, up to HEAD, and tracked files changed but not committed. Reads only: changes nothing.

    The task starts at the parent of its first checkpoint (`agentdeck checkpoint`). A task with no checkpoint starts at the newest commit made before it was first claimed (or created), by commit date; the answer's `since` says which ("first checkpoint", "claimed", "created", or "root" when no commit is older).

    Example: agentdeck changes WEB-12 --json
    """
    found = s.deck().changes(key, repo=repo)

    def render() -> None:
        base = found.base[:12] if found.base else "the first commit"
        say(
            f"{found.task}: {plural(len(found.commits), 'commit')} and "
            f"{plural(len(found.files), 'file')} changed since {base} ({found.since})"
        )
        for c in found.commits:
            say(f"  {c.sha[:12]} {safe(c.subject, one_line=True)}")
        if found.more_commits:
            say("  ... and older commits")
        for f in found.files:
            say(f"  {f.status} {safe(f.path, one_line=True)}")
        if found.uncommitted:
            say(f"uncommitted: {safe(', '.join(found.uncommitted), one_line=True)}")

    s.emit(found.to_dict(), render)


@deck_command()
def rollback(
    s: Session,
    key: KeyArgument,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="SHA",
            help="The commit whose files to restore (default: the task's first checkpoint).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Allow a commit that is not the task's start or one of its checkpoints."
        ),
    ] = False,
    repo: RepoOption = ".",
) -> None:
    """Put the work tree's tracked files back as they were at one of a task's checkpoints, by a new commit: history is never rewritten.

    What it does to the work tree: it makes one new commit on top of HEAD whose files are exactly those of SHA (files added since are deleted, changed ones restored, deleted ones brought back), and moves HEAD and the work tree to it, as a fast-forward. No commit is removed, so what was pushed stays pushed and the next push is a fast-forward. Untracked files are left alone (git refuses if one is in the way). It refuses, changing nothing, while tracked files have uncommitted changes (staged or not): commit or stash them first.

    SHA must be the task's start (the parent of its first checkpoint) or one of its checkpoints, unless --force. The task's assignee, the board's lead or a human may roll back; the rollback is logged on the task. Nothing is committed when the files already match.

    Example: agentdeck rollback WEB-12 --to 3f2a9c1
    """
    done = s.deck().rollback(key, actor=s.member(), repo=repo, to=to, force=force)

    def render() -> None:
        if done.commit is None:
            say(f"{done.task}: the files already match {done.to[:12]}; nothing committed")
        else:
            say(
                f"{done.task}: rolled back to {done.to[:12]} with new commit {done.commit[:12]} "
                f"(was {done.from_head[:12]})"
            )

    s.emit(done.to_dict(), render)
