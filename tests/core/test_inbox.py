"""Inboxes (assignments, notes and answers reach the agent) and git checkpoints linked to tasks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agentdeck.core import Deck, NotFoundError, ValidationError
from agentdeck.core.claims import CLAIM_INBOX
from tests.conftest import FakeClock
from tests.core.helpers import Refused, events_after, task_in


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git work tree with two commits; HEAD changed `src/login.py` and `README.md`."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.email", "gen@example.com")
    git(path, "config", "user.name", "gen")
    (path / "setup.cfg").write_text("[metadata]\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "Initial commit")
    (path / "src").mkdir()
    (path / "src" / "login.py").write_text("def login(): ...\n")
    (path / "README.md").write_text("# login\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "Add the login form")
    return path


def test_inbox_collects_messages_in_order_and_marks_them_read(web: Deck, clock: FakeClock) -> None:
    first = web.add_task("First", actor="ann", assignee="gen").key
    clock.advance(5)
    second = web.add_task("Second", actor="bob", assignee="gen").key
    web.add_task("Third", actor="ann", assignee="fe")
    peek = web.inbox("gen", mark_read=False)
    assert [(m.task, m.sender, m.kind, m.read, m.to) for m in peek] == [
        (first, "ann", "assignment", False, "gen"),
        (second, "bob", "assignment", False, "gen"),
    ]
    assert peek[1].created_at > peek[0].created_at
    assert web.inbox("gen") == peek
    assert web.inbox("gen") == []
    assert [m.task for m in web.inbox("fe")] == ["WEB-3"]


def test_notes_reach_the_assignee_inbox(web: Deck) -> None:
    review = task_in(web, "review", "Reviewed")
    done = task_in(web, "done", "Finished")
    escalated = task_in(web, "escalated", "Stuck")
    web.inbox("gen")  # clear
    web.reject(review, actor="ann", notes="Needs tests")
    web.reopen(done, actor="bob", notes="Broken on Safari")
    web.answer(escalated, actor="ann", text="Token is in the vault")
    assert [(m.kind, m.task, m.sender, m.text) for m in web.inbox("gen")] == [
        ("rejection", review, "ann", f"{review}: Needs tests"),
        ("reopen", done, "bob", f"{done}: Broken on Safari"),
        ("answer", escalated, "ann", f"{escalated}: Token is in the vault"),
    ]


def test_note_on_unassigned_task_reaches_nobody(web: Deck) -> None:
    key = task_in(web, "in_progress")
    web.release(key, actor="gen")
    web.cancel(key, actor="ann")
    assert web.inbox("gen") == []


def test_inbox_of_unknown_agent(web: Deck) -> None:
    with pytest.raises(NotFoundError, match="ghost"):
        web.inbox("ghost")


def test_checkpoint_records_git_head(web: Deck, repo: Path) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    before = web.now()
    checkpoint = web.checkpoint(key, actor="gen", repo=repo)
    head = git(repo, "rev-parse", "HEAD")
    assert (checkpoint.task, checkpoint.actor, checkpoint.sha) == (key, "gen", head)
    assert checkpoint.message == "Add the login form"
    assert sorted(checkpoint.files) == ["README.md", "src/login.py"]
    assert before <= checkpoint.created_at <= web.now()
    [event] = events_after(web, cursor)
    assert (event.kind, event.actor, event.task, event.text) == (
        "checkpoint",
        "gen",
        key,
        "Add the login form",
    )
    assert event.data == {"sha": head, "files": 2}
    assert web.checkpoints(key) == [checkpoint]
    assert web.task_detail(key).checkpoints == (checkpoint,)


def test_checkpoint_with_explicit_sha(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cp = web.checkpoint(
        key, actor="gen", repo=None, sha="ABCDEF1234", message="wip", files=["a.py"]
    )
    assert (cp.sha, cp.message, cp.files) == ("abcdef1234", "wip", ("a.py",))
    web.checkpoint(key, actor="gen", sha="0123456", message="more")
    assert [c.sha for c in web.checkpoints(key)] == ["abcdef1234", "0123456"]


def test_checkpoint_refusals(web: Deck, refused: Refused, tmp_path: Path) -> None:
    key = task_in(web, "in_progress")
    empty = tmp_path / "not-a-repo"
    empty.mkdir()
    with refused(ValidationError, "not a git repository"):
        web.checkpoint(key, actor="gen", repo=empty)
    with refused(ValidationError, "is not a git commit sha"):
        web.checkpoint(key, actor="gen", sha="not-a-sha")
    with refused(ValidationError, "is not a git commit sha"):
        web.checkpoint(key, actor="gen", sha="")
    with refused(NotFoundError, "WEB-9"):
        web.checkpoint("WEB-9", actor="gen", sha="abc123")
    with refused(NotFoundError, "ghost"):
        web.checkpoint(key, actor="ghost", sha="abc123")


def test_an_inbox_page_marks_read_only_the_messages_it_returns(web: Deck) -> None:
    keys = [web.add_task(f"Task {i}", actor="ann", assignee="gen").key for i in range(5)]
    first = web.inbox("gen", limit=2)
    assert [m.task for m in first] == keys[:2]
    assert [m.task for m in web.inbox("gen", mark_read=False)] == keys[2:]
    after = web.inbox("gen", mark_read=False, limit=2, after_id=first[-1].id)
    assert [m.task for m in after] == keys[2:4]
    assert [m.task for m in web.inbox("gen", after_id=after[-1].id)] == keys[4:]
    assert [m.task for m in web.inbox("gen")] == keys[2:4]
    assert web.inbox("gen", limit=0) == [] and web.inbox("gen") == []


def test_a_claim_delivers_at_most_claim_inbox_messages_and_leaves_the_rest_unread(
    web: Deck,
) -> None:
    keys = [
        web.add_task(f"Task {i}", actor="ann", assignee="gen").key for i in range(CLAIM_INBOX + 3)
    ]
    claim = web.claim("gen")
    assert claim is not None
    assert [m.task for m in claim.inbox] == keys[:CLAIM_INBOX]
    assert [m.task for m in web.inbox("gen")] == keys[CLAIM_INBOX:]


def test_an_inbox_page_says_whether_more_follow_from_the_same_read(web: Deck) -> None:
    for i in range(4):
        web.add_task(f"Task {i}", actor="ann", assignee="gen")
    first = web.inbox_page("gen", mark_read=False, limit=2)
    assert len(first.messages) == 2 and first.next_cursor == str(first.messages[-1].id)
    last = web.inbox_page("gen", mark_read=False, limit=2, after_id=int(first.next_cursor))
    assert len(last.messages) == 2 and last.next_cursor is None  # a full page, and the last
    assert web.inbox_page("gen", limit=10).next_cursor is None
    empty = web.inbox_page("gen", limit=10)
    assert not empty and empty.messages == () and empty.next_cursor is None
