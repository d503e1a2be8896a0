"""A task's git history: what changed since it started, and rolling its work back.

Verbs here: changes, rollback. Both read the task's checkpoints (`agentdeck checkpoint`) from
the database, then run git (`agentdeck.core.git`) outside any transaction; rollback then
records what it did on the task in a transaction of its own.

Where a task starts: the parent of its first checkpoint, the commit its work was built on.
A task with no checkpoint has no exact start; `changes` then takes the newest commit made
before the task was first claimed (or created, if never claimed), by commit date, and says so.
Rollback never rewrites history: it makes one new commit on top of HEAD whose tree is the
target's, so commits already pushed stay as they are and the next push is a fast-forward.
"""

from __future__ import annotations

from pathlib import Path

from agentdeck.core import git, limits, permissions
from agentdeck.core.errors import GitRefusedError, ValidationError
from agentdeck.core.inbox import checkpoint_models
from agentdeck.core.models import Checkpoint, FileChange, GitCommit, Rollback, TaskChanges
from agentdeck.core.storage.database import Database
from agentdeck.core.storage.transaction import task_key

MAX_FILES = 5000  # files `changes` lists


def _first_checkpoint(repo: str | Path, key: str, points: list[Checkpoint]) -> str:
    """The full sha of the task's first checkpoint in `repo`, or a clear refusal."""
    found = git.resolve(repo, points[0].sha)
    if found is None:
        raise GitRefusedError(
            f"{key}'s first checkpoint {points[0].sha[:12]} is not a commit in {repo}; "
            "fetch it, or pass --repo for the work tree it was made in"
        )
    return found


def changes(db: Database, key: str, *, repo: str | Path = ".") -> TaskChanges:
    """The commits and files changed in `repo` since task `key` started (see the module's
    docstring for where that is), up to HEAD, and the tracked files changed but not committed."""
    with db.read() as tx:
        task, b = tx.task(key)
        upper = task_key(b["key"], task["number"])
        points = checkpoint_models(tx, task["id"], upper)
        started, created = task["started_at"], task["created_at"]
    git.require_work_tree(repo)
    base: str | None
    if points:
        base, since = git.parent(repo, _first_checkpoint(repo, upper, points)), "first checkpoint"
    else:
        since = "claimed" if started is not None else "created"
        base = git.last_before(repo, started or created)
        if base is None:
            since = "root"
    found, more = git.commits(repo, base)
    files = git.changed_files(repo, base)
    return TaskChanges(
        task=upper,
        base=base,
        since=since,
        head=git.head(repo),
        commits=tuple(GitCommit(sha, limits.line(subject, 200)) for sha, subject in found),
        more_commits=more,
        files=tuple(FileChange(status, path) for status, path in files[:MAX_FILES]),
        uncommitted=tuple(git.uncommitted(repo)[:MAX_FILES]),
    )


def rollback(
    db: Database,
    key: str,
    *,
    actor: str,
    repo: str | Path = ".",
    to: str | None = None,
    force: bool = False,
) -> Rollback:
    """Restore `repo`'s tracked files to commit `to` (default: the task's first checkpoint)
    by a new commit on top of HEAD, and log it on the task.

    Refused when tracked files have uncommitted changes (untracked files are left alone, and
    git refuses rather than overwrite one), when `to` is neither one of the task's
    checkpoints nor its start (the parent of its first checkpoint) unless `force`, and
    unless `actor` is the task's assignee, the board's lead or a human. No commit is removed:
    history already pushed is never rewritten.
    """
    with db.read() as tx:
        task, b = tx.task(key)
        upper = task_key(b["key"], task["number"])
        permissions.require_assignee_lead_or_human(tx, b, task, actor, f"roll back {upper}")
        points = checkpoint_models(tx, task["id"], upper)
    git.require_work_tree(repo)
    dirty = git.uncommitted(repo)
    if dirty:
        shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
        raise GitRefusedError(
            f"cannot roll back {upper}: {len(dirty)} tracked file(s) in {repo} have uncommitted "
            f"changes ({limits.line(shown, 200)}); commit or stash them first"
        )
    allowed: list[str] = []
    first = ""
    if points:
        first = _first_checkpoint(repo, upper, points)
        start = git.parent(repo, first)
        allowed = [p for p in (start, *(git.resolve(repo, c.sha) for c in points)) if p]
    if to is None:
        if not points:
            raise GitRefusedError(
                f"{upper} has no checkpoint to roll back to; name a commit with --to SHA --force"
            )
        target = first
    else:
        found = git.resolve(repo, to.strip())
        if found is None:
            raise ValidationError(f"{limits.line(to, 70)!r} is not a commit in {repo}")
        target = found
        if target not in allowed and not force:
            named = ", ".join(sha[:12] for sha in dict.fromkeys(allowed)) or "none"
            raise GitRefusedError(
                f"{target[:12]} is not {upper}'s start or one of its checkpoints ({named}); "
                "pass --force to roll back to it anyway"
            )
    from_head = git.head(repo)
    made = git.restore(
        repo,
        target,
        f"Roll back {upper} to {target[:12]}\n\n"
        f"agentdeck rollback: restores the tree of commit {target}, asked by {actor}.\n",
    )
    if made is not None:
        with db.write() as tx:
            task, b = tx.task(upper)
            tx.actor(b, actor)
            tx.event(
                b["id"],
                task["id"],
                actor,
                "rollback",
                "forced" if force and target not in allowed else "",
                f"rolled back to {target[:12]} with new commit {made[:12]} (was {from_head[:12]})",
                {"to": target, "from": from_head, "commit": made},
            )
    return Rollback(
        task=upper,
        to=target,
        from_head=from_head,
        commit=made,
        forced=force and target not in allowed,
    )
