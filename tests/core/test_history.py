"""A task's git history on real repositories: what changed since it started, and rollback,
which restores a checkpoint's tree by a new commit and never rewrites pushed history.

Commit dates are set explicitly (`GIT_COMMITTER_DATE`), far before or after the test's board
times, so "the newest commit before the task started" is exact without any waiting."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from agentdeck.core import Deck, GitRefusedError, PermissionDeniedError, ValidationError
from tests.core.helpers import Refused, task_in

BEFORE = "2001-01-01T00:00:00Z"  # long before any task of a test exists
AFTER = "2099-01-01T00:00:00Z"  # long after


def git(repo: Path, *args: str, date: str = BEFORE) -> str:
    env = {**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.strip()


def commit(repo: Path, files: dict[str, str | None], message: str, date: str = AFTER) -> str:
    """Write (or, for None, delete) files and commit them; the new sha."""
    for name, body in files.items():
        path = repo / name
        if body is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A work tree whose one commit (`base`) predates every task, pushed to a bare `origin`."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "gen@example.com")
    git(path, "config", "user.name", "gen")
    git(path, "remote", "add", "origin", str(origin))
    commit(path, {"app.py": "v1\n", "README.md": "# app\n"}, "base", date=BEFORE)
    git(path, "push", "-q", "origin", "main")
    return path


def _worked(web: Deck, repo: Path) -> tuple[str, str, str, str]:
    """Task WEB-n held by gen with two checkpoints: (key, base, first, second)."""
    key = task_in(web, "in_progress")
    base = git(repo, "rev-parse", "HEAD")
    first = commit(repo, {"app.py": "v2\n", "login.py": "def login(): ...\n"}, "Add login")
    web.checkpoint(key, actor="gen", repo=repo)
    second = commit(repo, {"README.md": None, "app.py": "v3\n"}, "Drop the readme")
    web.checkpoint(key, actor="gen", repo=repo)
    return key, base, first, second


def test_changes_since_the_first_checkpoints_parent(web: Deck, repo: Path) -> None:
    key, base, first, second = _worked(web, repo)
    later = commit(repo, {"notes.txt": "x\n"}, "Someone else's commit, not checkpointed")
    (repo / "app.py").write_text("uncommitted\n")
    found = web.changes(key, repo=repo)
    assert (found.task, found.base, found.since, found.head) == (
        key,
        base,
        "first checkpoint",
        later,
    )
    assert [(c.sha, c.subject) for c in found.commits] == [
        (later, "Someone else's commit, not checkpointed"),
        (second, "Drop the readme"),
        (first, "Add login"),
    ]
    assert [(f.status, f.path) for f in found.files] == [
        ("D", "README.md"),
        ("M", "app.py"),
        ("A", "login.py"),
        ("A", "notes.txt"),
    ]
    assert found.uncommitted == ("app.py",)
    assert found.more_commits is False


def test_changes_without_a_checkpoint_start_at_the_claim_by_commit_date(
    web: Deck, repo: Path
) -> None:
    unclaimed = task_in(web, "pending")
    key = task_in(web, "in_progress")
    base = git(repo, "rev-parse", "HEAD")
    after = commit(repo, {"app.py": "v2\n"}, "work after the claim")
    found = web.changes(key, repo=repo)
    assert (found.base, found.since) == (base, "claimed")
    assert [c.sha for c in found.commits] == [after]
    assert [(f.status, f.path) for f in found.files] == [("M", "app.py")]
    assert web.changes(unclaimed, repo=repo).since == "created"


def test_changes_of_a_task_older_than_every_commit_cover_all_history(web: Deck, repo: Path) -> None:
    key = task_in(web, "in_progress")
    fresh = repo.parent / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    git(fresh, "config", "user.email", "x@example.com")
    git(fresh, "config", "user.name", "x")
    only = commit(fresh, {"a.txt": "a\n"}, "first ever")
    found = web.changes(key, repo=fresh)
    assert (found.base, found.since, [c.sha for c in found.commits]) == (None, "root", [only])
    assert [(f.status, f.path) for f in found.files] == [("A", "a.txt")]


def test_changes_refusals(web: Deck, repo: Path, tmp_path: Path) -> None:
    key = task_in(web, "in_progress")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ValidationError, match="is not a git repository"):
        web.changes(key, repo=plain)
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(ValidationError, match="no commit yet"):
        web.changes(key, repo=empty)
    web.checkpoint(key, actor="gen", sha="ab" * 20, message="made elsewhere")
    with pytest.raises(GitRefusedError, match="first checkpoint abababababab is not a commit"):
        web.changes(key, repo=repo)


def test_git_missing_is_one_line(
    web: Deck, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = task_in(web, "in_progress")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(ValidationError, match="git is not installed"):
        web.changes(key, repo=repo)


def _tree(repo: Path) -> dict[str, str]:
    return {
        p.relative_to(repo).as_posix(): p.read_text()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def test_rollback_restores_the_first_checkpoint_by_a_new_commit(web: Deck, repo: Path) -> None:
    key, _, first, second = _worked(web, repo)
    git(repo, "push", "-q", "origin", "main")
    pushed = git(repo, "rev-parse", "origin/main")
    (repo / "scratch.txt").write_text("untracked, left alone\n")
    cursor = web.max_event_id()
    done = web.rollback(key, actor="gen", repo=repo)
    assert (done.task, done.to, done.from_head, done.forced) == (key, first, second, False)
    assert done.commit == git(repo, "rev-parse", "HEAD")
    assert git(repo, "rev-parse", "HEAD^") == second  # on top: nothing removed
    assert git(repo, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{first}^{{tree}}")
    assert _tree(repo) == {
        "README.md": "# app\n",
        "app.py": "v2\n",
        "login.py": "def login(): ...\n",
        "scratch.txt": "untracked, left alone\n",
    }
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    # What was pushed is an ancestor of the new HEAD: the next push is a fast-forward.
    git(repo, "merge-base", "--is-ancestor", pushed, "HEAD")
    git(repo, "push", "-q", "origin", "main")
    assert git(repo, "rev-parse", "origin/main") == done.commit
    logged = [e for e in web.events_since(cursor) if e.kind == "rollback"]
    assert [(e.task, e.actor, e.subkind, e.data) for e in logged] == [
        (key, "gen", "", {"to": first, "from": second, "commit": done.commit})
    ]
    assert "rolled back to" in logged[0].text


def test_rollback_to_the_start_or_a_later_checkpoint(web: Deck, repo: Path) -> None:
    key, base, _, second = _worked(web, repo)
    to_start = web.rollback(key, actor="ann", repo=repo, to=base[:10])
    assert to_start.to == base
    assert _tree(repo) == {"README.md": "# app\n", "app.py": "v1\n"}
    again = web.rollback(key, actor="sup", repo=repo, to=second)  # the lead, forward again
    assert _tree(repo) == {"app.py": "v3\n", "login.py": "def login(): ...\n"}
    assert git(repo, "rev-list", "--count", "HEAD") == "5"
    assert again.commit is not None


def test_rollback_to_where_the_tree_already_is_commits_nothing(web: Deck, repo: Path) -> None:
    key, _, _, second = _worked(web, repo)
    cursor = web.max_event_id()
    same = web.rollback(key, actor="gen", repo=repo, to=second)
    assert same.commit is None
    assert git(repo, "rev-parse", "HEAD") == second
    assert web.max_event_id() == cursor


def test_rollback_refuses_a_dirty_tree(web: Deck, repo: Path, refused: Refused) -> None:
    key, _, _, second = _worked(web, repo)
    (repo / "app.py").write_text("half-done edit\n")
    with refused(GitRefusedError, "uncommitted changes", "app.py", "commit or stash"):
        web.rollback(key, actor="gen", repo=repo)
    git(repo, "add", "app.py")  # staged counts too
    with refused(GitRefusedError, "uncommitted changes"):
        web.rollback(key, actor="gen", repo=repo)
    assert git(repo, "rev-parse", "HEAD") == second
    assert (repo / "app.py").read_text() == "half-done edit\n"


def test_rollback_refuses_a_commit_that_is_not_the_tasks_unless_forced(
    web: Deck, repo: Path, refused: Refused
) -> None:
    key, _, first, _ = _worked(web, repo)
    other = commit(repo, {"other.txt": "o\n"}, "not this task's")
    with refused(GitRefusedError, f"{other[:12]} is not {key}'s start or one of its checkpoints"):
        web.rollback(key, actor="gen", repo=repo, to=other)
    with refused(ValidationError, "'nope' is not a commit"):
        web.rollback(key, actor="gen", repo=repo, to="nope", force=True)
    with refused(ValidationError, "is not a commit"):
        web.rollback(key, actor="gen", repo=repo, to="--hard", force=True)
    assert git(repo, "rev-parse", "HEAD") == other
    git(repo, "reset", "-q", "--hard", first)
    forced = web.rollback(key, actor="gen", repo=repo, to=other, force=True)
    assert forced.forced is True
    assert (repo / "other.txt").exists()
    logged = [e for e in web.task_events(key) if e.kind == "rollback"]
    assert [e.subkind for e in logged] == ["forced"]


def test_rollback_without_a_checkpoint_needs_a_commit_and_force(
    web: Deck, repo: Path, refused: Refused
) -> None:
    key = task_in(web, "in_progress")
    with refused(GitRefusedError, f"{key} has no checkpoint to roll back to", "--force"):
        web.rollback(key, actor="gen", repo=repo)
    base = git(repo, "rev-parse", "HEAD")
    with refused(GitRefusedError, "pass --force"):
        web.rollback(key, actor="gen", repo=repo, to=base)


def test_only_the_assignee_the_lead_or_a_human_rolls_back(
    web: Deck, repo: Path, refused: Refused
) -> None:
    key, _, _, second = _worked(web, repo)
    with refused(PermissionDeniedError, f"fe cannot roll back {key}", "assignee"):
        web.rollback(key, actor="fe", repo=repo)
    assert git(repo, "rev-parse", "HEAD") == second


def test_untracked_file_in_the_way_is_refused_by_git(web: Deck, repo: Path) -> None:
    key, base, _, second = _worked(web, repo)
    # README.md was in `base` and is gone by `second`; an untracked one is in its place.
    (repo / "README.md").write_text("my own, untracked\n")
    with pytest.raises(GitRefusedError, match="git merge failed"):
        web.rollback(key, actor="gen", repo=repo, to=base)
    assert (repo / "README.md").read_text() == "my own, untracked\n"
    assert git(repo, "rev-parse", "HEAD") == second
    assert not [e for e in web.task_events(key) if e.kind == "rollback"]
