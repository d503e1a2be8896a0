"""`agentdeck hook ...`: what Claude Code runs as hooks. Fed payloads in Claude Code's
documented hook input format (tests/cli/fixtures/claude_hooks), messy parts included, through
the real `agentdeck` program; a hook never fails the session."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck
from tests.cli.conftest import AGENTDECK, sqlite_only

FIXTURES = Path(__file__).parent / "fixtures" / "claude_hooks"
SESSION = "4f6c9a2e-7b1d-4c3e-9f0a-1d2e3f4a5b6c"
Hook = Callable[..., subprocess.CompletedProcess[str]]


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    found = tmp_path / "claude-config"
    found.mkdir()
    return found


@pytest.fixture
def hook(web: str, tokens: dict[str, str], claude_dir: Path) -> Hook:
    """`agentdeck hook NAME` as Claude Code runs it for agent coder: its environment from
    settings.local.json, the payload on stdin."""

    def call(name: str, payload: Any, *, env: dict[str, str] | None = None):
        data = payload if isinstance(payload, str) else json.dumps(payload)
        base = {
            **os.environ,
            "AGENTDECK_DB": web,
            "AGENTDECK_BOARD": "WEB",
            "AGENTDECK_TOKEN": tokens["coder"],
            "CLAUDE_CONFIG_DIR": str(claude_dir),
        }
        return subprocess.run(
            [str(AGENTDECK), "hook", name],
            input=data,
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            timeout=60,
        )

    return call


def task_file(claude_dir: Path, session: str, task_id: str, **fields: Any) -> None:
    folder = claude_dir / "tasks" / session
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"id": task_id, "subject": "", "description": "", "status": "pending", **fields}
    doc.setdefault("blocks", [])
    doc.setdefault("blockedBy", [])
    (folder / f"{task_id}.json").write_text(json.dumps(doc))


def mirrored(deck: Deck) -> dict[str, tuple[str, str | None]]:
    """Tasks made by the hook: title -> (status, assignee)."""
    return {
        t.title: (t.status, t.assignee)
        for t in deck.list_tasks("WEB", include_cancelled=True)
        if t.key not in ("WEB-1", "WEB-2")
    }


@sqlite_only
def test_session_start_shows_the_unread_inbox_without_marking_it_read(
    hook: Hook, deck: Deck
) -> None:
    deck.claim("coder")
    deck.submit("WEB-1", actor="coder")
    deck.reject("WEB-1", actor="ann", notes="add tests for the 404 path")
    done = hook("session-start", fixture("session_start"))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "SessionStart"
    assert "agent coder on board WEB" in out["additionalContext"]
    assert "add tests for the 404 path" in out["additionalContext"]
    assert "WEB-1" in out["additionalContext"]
    assert len(deck.inbox("coder", board="WEB", mark_read=False)) == 1  # still unread


@sqlite_only
def test_session_start_with_an_empty_inbox_says_so(hook: Hook) -> None:
    done = hook("session-start", fixture("session_start"))
    assert "inbox is empty" in json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]


@sqlite_only
@pytest.mark.parametrize(
    "env",
    [
        {"AGENTDECK_TOKEN": ""},  # a human's own session: nothing to show
        {"AGENTDECK_TOKEN": "adk_" + "x" * 43},  # revoked or from elsewhere
        {"AGENTDECK_TOKEN": "not a token"},
        {"AGENTDECK_DB": "/nonexistent/dir/board.db"},
        {"AGENTDECK_BOARD": "NOPE"},
    ],
)
@pytest.mark.parametrize("name", ["session-start", "claude-code-task"])
def test_a_hook_never_fails_the_session(
    hook: Hook, env: dict[str, str], name: str, unchanged
) -> None:
    check = unchanged()
    payload = fixture("session_start" if name == "session-start" else "post_tool_use_task_create")
    done = hook(name, payload, env=env)
    assert done.returncode == 0 and done.stdout == ""
    assert "Traceback" not in done.stderr and done.stderr.count("\n") <= 1
    check()


@sqlite_only
@pytest.mark.parametrize("garbage", ["", "not json", "[1, 2]", '{"tool_name": 7}', "\x00\xff"])
@pytest.mark.parametrize("name", ["session-start", "claude-code-task"])
def test_garbage_on_stdin_is_harmless(hook: Hook, garbage: str, name: str, unchanged) -> None:
    check = unchanged()
    done = hook(name, garbage)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    if name == "claude-code-task":
        assert done.stdout == ""
    check()


@sqlite_only
def test_task_tools_mirror_the_sessions_list_as_the_agents_own(
    hook: Hook, deck: Deck, claude_dir: Path
) -> None:
    task_file(claude_dir, SESSION, "1", subject="Add a regression test", description="Cover it")
    created = hook("claude-code-task", fixture("post_tool_use_task_create"))
    assert created.returncode == 0, created.stderr
    assert created.stdout == ""
    assert mirrored(deck) == {"Add a regression test": ("pending", "coder")}

    task_file(claude_dir, SESSION, "1", subject="Add a regression test", status="in_progress")
    assert hook("claude-code-task", fixture("post_tool_use_task_update")).returncode == 0
    assert mirrored(deck) == {"Add a regression test": ("in_progress", "coder")}

    task_file(claude_dir, SESSION, "1", subject="Add a regression test", status="completed")
    update = fixture("post_tool_use_task_update")
    update["tool_input"] = {"taskId": "1", "status": "completed"}
    del update["tool_response"]  # a payload without a response still mirrors
    assert hook("claude-code-task", update).returncode == 0
    assert mirrored(deck) == {"Add a regression test": ("done", "coder")}
    events = deck.task_events(
        next(t.key for t in deck.list_tasks("WEB") if t.title.startswith("Add"))
    )
    assert {e.actor for e in events} == {"coder"}


@sqlite_only
def test_two_sessions_task_one_stay_two_tasks(hook: Hook, deck: Deck, claude_dir: Path) -> None:
    for session, title in (("session-a", "First session's"), ("session-b", "Second session's")):
        task_file(claude_dir, session, "1", subject=title)
        payload = {**fixture("post_tool_use_task_create"), "session_id": session}
        assert hook("claude-code-task", payload).returncode == 0
    assert set(mirrored(deck)) == {"First session's", "Second session's"}
    task_file(claude_dir, "session-a", "1", subject="First session's")
    assert (
        hook(
            "claude-code-task", {**fixture("post_tool_use_task_create"), "session_id": "session-a"}
        ).returncode
        == 0
    )
    assert len(mirrored(deck)) == 2  # again: updated, not duplicated


@sqlite_only
def test_a_shared_task_list_id_wins_over_the_session(
    hook: Hook, deck: Deck, claude_dir: Path
) -> None:
    task_file(claude_dir, "team-list", "1", subject="Shared work")
    done = hook(
        "claude-code-task",
        fixture("post_tool_use_task_create"),
        env={"CLAUDE_CODE_TASK_LIST_ID": "team-list"},
    )
    assert done.returncode == 0, done.stderr
    assert mirrored(deck) == {"Shared work": ("pending", "coder")}


@sqlite_only
@pytest.mark.parametrize(
    "change",
    [
        {"tool_name": "Bash", "tool_input": {"command": "ls"}},
        {"tool_name": "TaskList", "tool_input": {}},
        {"tool_response": {"success": False, "error": "Task not found"}},
        {"tool_response": "Error: bad input"},
        {"session_id": "../../etc"},
        {"session_id": None},
    ],
)
def test_other_tools_failed_calls_and_odd_sessions_change_nothing(
    hook: Hook, claude_dir: Path, change: dict[str, Any], unchanged
) -> None:
    task_file(claude_dir, SESSION, "1", subject="Should not appear")
    check = unchanged()
    done = hook("claude-code-task", {**fixture("post_tool_use_task_create"), **change})
    assert done.returncode == 0 and done.stdout == ""
    check()


@sqlite_only
def test_a_missing_task_directory_changes_nothing(hook: Hook, unchanged) -> None:
    check = unchanged()
    assert hook("claude-code-task", fixture("post_tool_use_task_create")).returncode == 0
    check()


@sqlite_only
def test_todo_write_mirrors_the_whole_list(hook: Hook, deck: Deck) -> None:
    payload = fixture("post_tool_use_todo_write")
    done = hook("claude-code-task", payload)
    assert done.returncode == 0, done.stderr
    # Done needs a claim first: an agent's new task arrives pending, so only the one it
    # has in progress is claimed; the completed one waits for the next call.
    assert mirrored(deck) == {
        "Reproduce the failure": ("pending", "coder"),
        "Fix the race in LoginViewModel": ("in_progress", "coder"),
        "Run the full test suite": ("pending", "coder"),
    }
    todos = payload["tool_input"]["todos"]
    todos[1]["status"] = "completed"
    todos.append(dict(todos[2]))  # a repeated todo is read once
    assert hook("claude-code-task", payload).returncode == 0
    found = mirrored(deck)
    assert found["Fix the race in LoginViewModel"] == ("done", "coder")
    assert len(found) == 3
