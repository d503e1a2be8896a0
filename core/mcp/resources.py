"""The resources agentdeck's MCP server offers: a board's summary, a task with its newest log
entries, and the server agent's inbox, each as compact JSON behind an `agentdeck://` URI.

    agentdeck://board/{board}   the board summary (`Deck.report_summary`)
    agentdeck://task/{key}      a task and its newest `LOG_ENTRIES` log entries
    agentdeck://inbox/{board}   the agent's unread messages, peeked (reading marks nothing read)

`agentdeck://board` and `agentdeck://inbox` name the only board, as a tool's missing `board`
does. Nothing here imports `mcp`: the server turns these into protocol objects, and what a
change to the board means for each URI (`Target.affected_by`) is decided here too, so it can
be tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from agentdeck.core import limits, names, safe_text, views
from agentdeck.core.deck import Deck
from agentdeck.core.errors import NotFoundError, ValidationError
from agentdeck.core.events import Changes
from agentdeck.core.storage.transaction import split_key

SCHEME = "agentdeck://"
MIME = "application/json"
LOG_ENTRIES = 20  # newest log entries a task resource carries; `task_show` pages further back
INBOX_MESSAGES = 50  # unread messages an inbox resource carries; `unread` counts them all
LISTED_BOARDS = 50  # boards `resources/list` looks at
LISTED_HELD = 20  # held tasks listed per board
MAX_URI = 300

Kind = Literal["board", "task", "inbox"]


@dataclass(frozen=True, slots=True)
class Template:
    """A URI template as `resources/templates/list` shows it."""

    uri_template: str
    name: str
    title: str
    description: str


TEMPLATES: tuple[Template, ...] = (
    Template(
        f"{SCHEME}task/{{key}}",
        "task",
        "Task",
        f"A task (key like WEB-12) with its newest {LOG_ENTRIES} log entries.",
    ),
    Template(
        f"{SCHEME}board/{{board}}",
        "board",
        "Board summary",
        "A board's counts per column, what needs a human, blocked work, budgets, forecast.",
    ),
    Template(
        f"{SCHEME}inbox/{{board}}",
        "inbox",
        "Inbox",
        "This server agent's unread messages on a board; reading does not mark them read.",
    ),
)


@dataclass(frozen=True, slots=True)
class Target:
    """What a resource URI names. `board` is None for the bare board and inbox URIs (the only
    board) until `resolve` fills it in; a task's board comes from its key."""

    kind: Kind
    board: str | None
    key: str | None = None

    def affected_by(self, board: str, changes: Changes, agent: str) -> bool:
        """Whether `changes` (on `board`, this target's resolved board) change this resource:
        any event changes the summary; an event on the task, or on a task it waits on, changes
        the task; a message to `agent` changes the inbox."""
        if self.board != board:
            return False
        if self.kind == "board":
            return bool(changes.events)
        if self.kind == "task":
            return any(e.task == self.key for e in changes.events) or any(
                t.key == self.key for t in changes.tasks
            )
        return any(
            e.kind == "message" and names.fold(str(e.data.get("to", ""))) == names.fold(agent)
            for e in changes.events
        )


@dataclass(frozen=True, slots=True)
class Listed:
    """A concrete resource as `resources/list` shows it."""

    uri: str
    name: str
    title: str
    description: str


def parse(uri: str) -> Target:
    """The target a URI names, or a one-line `NotFoundError` naming the URIs there are."""
    shown = uri[:80]
    if len(uri) > MAX_URI or not uri.startswith(SCHEME):
        raise NotFoundError(f"unknown resource {shown!r}; {_known()}")
    kind, _, rest = uri[len(SCHEME) :].partition("/")
    if kind in ("board", "inbox") and not rest:
        return Target(kind, None)  # type: ignore[arg-type]
    try:
        if kind in ("board", "inbox") and "/" not in rest:
            return Target(kind, limits.board_key(rest))  # type: ignore[arg-type]
        if kind == "task" and "/" not in rest:
            board, number = split_key(rest)
            return Target("task", board, f"{board}-{number}")
    except ValidationError as exc:
        raise NotFoundError(f"unknown resource {shown!r}: {exc.message}") from None
    raise NotFoundError(f"unknown resource {shown!r}; {_known()}")


def _known() -> str:
    return "resources are " + ", ".join(t.uri_template for t in TEMPLATES)


def resolve(deck: Deck, target: Target) -> Target:
    """`target` with its board filled in (the only board for a bare URI), checked to exist:
    raises `NotFoundError` for an unknown board or task."""
    if target.kind == "task":
        assert target.key is not None
        deck.get_task(target.key)  # or the not-found error
        return target
    return Target(target.kind, deck.get_board(target.board).key)


def read(deck: Deck, agent: str, target: Target) -> dict[str, Any]:
    """The resource's content: compact, JSON-ready."""
    if target.kind == "board":
        return deck.report_summary(target.board)
    if target.kind == "inbox":
        board = deck.get_board(target.board).key
        unread = deck.inbox(agent, board=board, mark_read=False)
        return {
            "agent": agent,
            "board": board,
            "unread": len(unread),
            "messages": [views.message_card(m) for m in unread[:INBOX_MESSAGES]],
        }
    assert target.key is not None
    task = deck.get_task(target.key)
    entries, older = deck.task_log_page(task.key, limit=LOG_ENTRIES)
    out: dict[str, Any] = {"task": _task(task.to_dict())}
    if older is not None:
        out["older_log_cursor"] = older  # task_show's cursor pages further back
    out["log"] = [_entry(views.event_card(e)) for e in entries]
    return out


def _task(task: dict[str, Any]) -> dict[str, Any]:
    """A task without its board (the key says it) and without empty fields (no text, none)."""
    return {k: v for k, v in task.items() if k != "board" and v is not None and v != "" and v != []}


def _entry(card: dict[str, Any]) -> dict[str, Any]:
    card.pop("task", None)  # the resource is the task's
    if not card.get("subkind"):
        card.pop("subkind", None)
    return card


def dumps(data: Any) -> str:
    """Compact JSON whose strings carry agent text literally; characters a terminal or a
    reader would act on travel as `\\uXXXX` escapes, which decode to the same text."""
    return safe_text.safe_json(data, compact=True)


def listing(deck: Deck, agent: str) -> list[Listed]:
    """The concrete resources for `agent`: on each board it is a member of (the first
    `LISTED_BOARDS`), the board summary, its inbox and the tasks it holds there."""
    out: list[Listed] = []
    for board in deck.list_boards()[:LISTED_BOARDS]:
        if not _member(deck.list_agents(board.key), agent):
            continue
        name = views.clip(board.name, 60)
        out.append(
            Listed(
                f"{SCHEME}board/{board.key}",
                f"board-{board.key}",
                f"Board {board.key}: {name}",
                "Counts per column, what needs a human, blocked work, budgets, forecast.",
            )
        )
        out.append(
            Listed(
                f"{SCHEME}inbox/{board.key}",
                f"inbox-{board.key}",
                f"Inbox of {agent} on {board.key}",
                "Unread messages: assignments, review notes, answers. Reading marks none read.",
            )
        )
        held = deck.list_tasks(board.key, status="in_progress", assignee=agent, limit=LISTED_HELD)
        out.extend(
            Listed(
                f"{SCHEME}task/{t.key}",
                f"task-{t.key}",
                f"{t.key}: {views.clip(t.title, 80)}",
                f"A task {agent} holds, with its newest log entries.",
            )
            for t in held
        )
    return out


def _member(roster: Iterable[Any], agent: str) -> bool:
    folded = names.fold(agent)
    return any(names.fold(a.name) == folded for a in roster)
