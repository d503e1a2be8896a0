"""Git plumbing: the one place agentdeck runs `git`, for checkpoints, changes and rollback.

Every call is a `git -C REPO ...` subprocess with a timeout, the C locale and no prompts.
Failures come back as one line: `ValidationError` when git is missing or REPO is not a work
tree with a commit, `GitRefusedError` when git itself refuses (its first line of stderr).
Nothing here touches the database; `agentdeck.core.changes` composes it with `Deck`'s data.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

from agentdeck.core.errors import GitRefusedError, ValidationError

TIMEOUT = 60  # seconds one git command may take
MAX_COMMITS = 1000  # commits `commits` lists; past that, it says more were left out

# Git writes its messages in English and never asks on a terminal for anything.
_ENV = {"LC_ALL": "C", "LANG": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


def run(repo: str | Path, *args: str, stdin: str | None = None) -> str:
    """`git -C repo args...`'s standard output, or a one-line error."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            input=stdin,
            timeout=TIMEOUT,
            env={**os.environ, **_ENV},
            check=False,
        )
    except FileNotFoundError:
        raise ValidationError("git is not installed (no `git` on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitRefusedError(f"git {args[0]} in {repo} took longer than {TIMEOUT} s") from None
    if out.returncode != 0:
        said = " ".join((out.stderr.strip().splitlines() or ["(no message)"])[0].split())[:200]
        if "not a git repository" in said or "cannot change to" in said:
            raise ValidationError(f"{repo} is not a git repository (nor inside one)")
        if "does not have any commits" in said or "ambiguous argument 'HEAD'" in said:
            raise ValidationError(f"{repo} is a git work tree with no commit yet")
        raise GitRefusedError(f"git {args[0]} failed in {repo}: {said}")
    return out.stdout


def require_work_tree(repo: str | Path) -> str:
    """The top directory of the work tree `repo` is in, and HEAD's sha (so it has a commit)."""
    top = run(repo, "rev-parse", "--show-toplevel").strip()
    head(repo)
    return top


def head(repo: str | Path) -> str:
    """HEAD's full sha."""
    try:
        return run(repo, "rev-parse", "--verify", "HEAD^{commit}").strip()
    except GitRefusedError:  # an unborn HEAD: "Needed a single revision"
        raise ValidationError(f"{repo} is a git work tree with no commit yet") from None


def head_commit(repo: str | Path) -> tuple[str, str, list[str]]:
    """(sha, subject, files it changed) of HEAD."""
    sha, _, subject = run(repo, "log", "-1", "--format=%H%n%s").partition("\n")
    files = [f for f in run(repo, "show", "--name-only", "--format=", "HEAD").splitlines() if f]
    return sha.strip(), subject.strip(), files


def resolve(repo: str | Path, rev: str) -> str | None:
    """The full sha of commit `rev` (a sha, a prefix, a ref), or None if the repo has none."""
    if not rev or rev.startswith("-") or any(c.isspace() for c in rev):
        return None
    try:
        return run(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip() or None
    except GitRefusedError:
        return None


def parent(repo: str | Path, sha: str) -> str | None:
    """The first parent of commit `sha`, or None for a root commit."""
    return resolve(repo, f"{sha}^")


def last_before(repo: str | Path, when: datetime) -> str | None:
    """The newest commit reachable from HEAD committed before `when`, or None."""
    stamp = str(int(when.timestamp()))
    return run(repo, "rev-list", "-1", f"--before={stamp}", "HEAD").strip() or None


def is_ancestor(repo: str | Path, older: str, newer: str) -> bool:
    """Whether commit `older` is `newer` or one of its ancestors."""
    try:
        run(repo, "merge-base", "--is-ancestor", older, newer)
    except GitRefusedError:
        return False
    return True


def commits(repo: str | Path, base: str | None) -> tuple[list[tuple[str, str]], bool]:
    """(sha, subject) of the commits after `base` up to HEAD (all of HEAD's history when
    `base` is None), newest first, at most `MAX_COMMITS`; and whether more were left out."""
    span = f"{base}..HEAD" if base else "HEAD"
    out = run(repo, "log", f"--max-count={MAX_COMMITS + 1}", "--format=%H%x1f%s", span, "--")
    rows = [line.split("\x1f", 1) for line in out.splitlines() if line]
    found = [(sha, subject) for sha, subject in rows]
    return found[:MAX_COMMITS], len(found) > MAX_COMMITS


def empty_tree(repo: str | Path) -> str:
    """The id of the empty tree in this repository's hash (what a root commit changed from)."""
    return run(repo, "hash-object", "-t", "tree", "--stdin", stdin="").strip()


def changed_files(repo: str | Path, base: str | None) -> list[tuple[str, str]]:
    """(status letter, path) of every file that differs between `base` (None: nothing) and
    HEAD: A added, M modified, D deleted, T type changed."""
    out = run(repo, "diff", "--no-renames", "--name-status", "-z", base or empty_tree(repo), "HEAD")
    parts = out.split("\0")
    return [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]


def uncommitted(repo: str | Path) -> list[str]:
    """Tracked files with changes not committed (staged or not), as `git status` lists them;
    untracked files are not counted."""
    out = run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=no")
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3]


def restore(repo: str | Path, target: str, message: str) -> str | None:
    """Make a new commit on top of HEAD whose tree is commit `target`'s, and move HEAD (and
    the work tree) to it by a fast-forward; its sha, or None when HEAD's tree already is
    `target`'s. No commit is removed or rewritten: what was pushed stays as it was."""
    tree = run(repo, "rev-parse", "--verify", f"{target}^{{tree}}").strip()
    if run(repo, "rev-parse", "--verify", "HEAD^{tree}").strip() == tree:
        return None
    current = head(repo)
    made = run(repo, "commit-tree", tree, "-p", current, "-F", "-", stdin=message).strip()
    run(repo, "merge", "--ff-only", "--quiet", made)
    return made
