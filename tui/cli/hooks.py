"""`agentdeck hook ...`: commands Claude Code runs as hooks (`agentdeck connect claude-code`
installs them in `.claude/settings.local.json`).

A hook reads Claude Code's JSON on stdin and must never break the agent's session: with no
board, no token or anything unexpected it exits 0 having printed nothing on stdout (one line
on stderr says why, which Claude Code shows only in its debug output).

session-start
    The agent's unread inbox, peeked (not marked read), as SessionStart's
    `hookSpecificOutput.additionalContext`, which Claude Code adds to the session's context.
claude-code-task
    After Claude Code's own task tools (PostToolUse, matcher TaskCreate|TaskUpdate|TodoWrite):
    mirror the session's task list into the board as this agent (`Deck.import_claude_session`
    on `~/.claude/tasks/<list id>`, or `Deck.import_claude_todos` for TodoWrite's list).
    Any other tool, and a call the tool reports as failed, is ignored.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentdeck.core import identity
from agentdeck.tui.cli.context import Session
from agentdeck.tui.cli.errors import describe
from agentdeck.tui.cli.output import print_json

if TYPE_CHECKING:
    from agentdeck.core import Deck
    from agentdeck.core.models import Credential, Message

TASK_TOOLS = ("TaskCreate", "TaskUpdate", "TodoWrite")
MAX_INPUT = 8 * 1024 * 1024
MAX_MESSAGES = 20
MAX_MESSAGE_CHARS = 500
_LIST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

hook_app = typer.Typer(
    name="hook",
    no_args_is_help=True,
    help="Commands Claude Code runs as hooks (installed by `agentdeck connect claude-code`); "
    "they read the hook's JSON on stdin and never fail the session.",
    epilog="Example: agentdeck hook session-start",
)


@hook_app.command("session-start")
def session_start() -> None:
    """SessionStart hook: print the agent's unread inbox (without marking it read) as
    context for the new session. Prints nothing without an agent's AGENTDECK_TOKEN.

    Example: agentdeck hook session-start
    """
    _never_fail(_session_start)


@hook_app.command("claude-code-task")
def claude_code_task() -> None:
    """PostToolUse hook for TaskCreate, TaskUpdate and TodoWrite: mirror Claude Code's task
    list for this session into the board as the agent (tasks it owns; its in-progress and
    completed marks become its claims and completions). Other tools are ignored.

    Example: agentdeck hook claude-code-task
    """
    _never_fail(_claude_code_task)


def _never_fail(run: Callable[[], None]) -> None:
    """Run a hook; whatever goes wrong becomes one line on stderr and exit 0."""
    try:
        run()
    except BaseException as exc:  # a hook must never break the agent's session
        if isinstance(exc, SystemExit) and not exc.code:
            return
        message, _ = describe(exc) if isinstance(exc, Exception) else (type(exc).__name__, 0)
        sys.stderr.write(f"agentdeck hook: {message}\n")


def _payload() -> dict[str, Any]:
    """The hook's JSON input ({} when there is none, as when run by hand in a terminal)."""
    if sys.stdin is None or sys.stdin.isatty():
        return {}
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise ValueError("hook input is larger than 8 MiB; ignored")
    if not data.strip():
        return {}
    found = json.loads(data.decode("utf-8"))
    return found if isinstance(found, dict) else {}


def _agent() -> tuple[Session, Deck, Credential] | None:
    """The board and the agent this process's AGENTDECK_TOKEN names, or None."""
    if not identity.from_environment(identity.ENV_TOKEN):
        return None
    s = Session(None, None, None, False)
    deck = s.deck()
    held = deck.whoami(s.board)
    if held is None or held.kind != "agent":
        s.close()
        return None
    return s, deck, held


def _session_start() -> None:
    _payload()  # read (and check) it, though nothing in it changes what is shown
    found = _agent()
    if found is None:
        return
    s, deck, held = found
    try:
        messages = deck.inbox(held.name, board=held.board, mark_read=False)
    finally:
        s.close()
    print_json(
        {
            "hookSpecificOutput": {
                "hookEventName": "SessionStart",
                "additionalContext": inbox_context(held.name, held.board, messages),
            }
        }
    )


def inbox_context(agent: str, board: str, messages: list[Message]) -> str:
    """What a new session is told: who it is on which board, and its unread messages."""
    lines = [
        f"agentdeck: you are agent {agent} on board {board} (your credential is in "
        "AGENTDECK_TOKEN; never print it)."
    ]
    if not messages:
        lines.append("Your agentdeck inbox is empty.")
    else:
        lines.append(
            f"Your agentdeck inbox has {len(messages)} unread message"
            f"{'' if len(messages) == 1 else 's'} (oldest first; `agentdeck inbox --json` "
            "reads them and marks them read):"
        )
        for message in messages[:MAX_MESSAGES]:
            text = " ".join(message.text.split())
            if len(text) > MAX_MESSAGE_CHARS:
                text = text[:MAX_MESSAGE_CHARS] + "…"
            about = f" on {message.task}" if message.task else ""
            lines.append(f"- {message.kind} from {message.sender}{about}: {text}")
        if len(messages) > MAX_MESSAGES:
            lines.append(f"- and {len(messages) - MAX_MESSAGES} more")
    lines.append("Take your next task with `agentdeck claim --json`.")
    return "\n".join(lines)


def _failed(response: Any) -> bool:
    """Whether the tool's response says the call failed (then there is nothing to mirror)."""
    if isinstance(response, dict):
        return response.get("success") is False or bool(response.get("error"))
    return isinstance(response, str) and response.lstrip().lower().startswith("error")


def claude_home() -> Path:
    """Claude Code's configuration directory: `CLAUDE_CONFIG_DIR`, else ~/.claude."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".claude"


def _claude_code_task() -> None:
    payload = _payload()
    tool = payload.get("tool_name")
    if tool not in TASK_TOOLS or _failed(payload.get("tool_response")):
        return
    list_id = os.environ.get("CLAUDE_CODE_TASK_LIST_ID") or payload.get("session_id")
    if not isinstance(list_id, str) or not _LIST_ID.fullmatch(list_id):
        raise ValueError("the hook input names no usable session_id; nothing mirrored")
    found = _agent()
    if found is None:
        return
    s, deck, held = found
    try:
        if tool == "TodoWrite":
            tool_input = payload.get("tool_input")
            todos = tool_input.get("todos") if isinstance(tool_input, dict) else None
            deck.import_claude_todos(todos, actor=held.name, board=held.board, session=list_id)
            return
        directory = claude_home() / "tasks" / list_id
        if directory.is_dir():
            deck.import_claude_session(
                directory, actor=held.name, board=held.board, session=list_id
            )
    finally:
        s.close()
