"""The tools agentdeck's MCP server offers agents: names, short descriptions, argument
schemas, and thin calls into `Deck`.

Nothing here imports `mcp`, so the table is cheap to import and to test; `agentdeck.core.mcp.server`
serves it. Arguments are checked before any `Deck` call, so a wrong type, an unknown key or
an oversized value comes back as one clear line, never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from agentdeck.core.deck import Deck
from agentdeck.core.errors import DeckError
from agentdeck.core.mcp.args import (
    DEFAULT_PAGE,
    MAX_OFFSET,
    MAX_PAGE,
    Arg,
    Call,
    Outcome,
    Tool,
)
from agentdeck.core.models import COLUMN_TITLES, LOG_KINDS, STATUSES

# The longest a claim or inbox call may wait, in seconds: shorter than the CLI's hour, since an
# MCP client gives up on a call that takes too long; an agent simply calls again.
MAX_WAIT = 300

log = logging.getLogger("agentdeck.mcp")


def call(deck: Deck, default_actor: str | None, name: str, arguments: Any) -> Outcome:
    """Run one tool call to an outcome; every failure becomes a one-line error result."""
    tool = BY_NAME.get(name)
    if tool is None:
        return _failure(f"unknown tool {name[:60]!r}", 1)
    try:
        data = tool.run(deck, tool.bind(arguments, default_actor))
    except DeckError as exc:
        return _failure(exc.message, exc.exit_code)
    except Exception as exc:  # a bug in one call must not take the server down
        log.exception("tool %s failed", name)
        detail = " ".join(str(exc).split())[:200]
        return _failure(f"{name}: internal error: {type(exc).__name__}: {detail}", 1)
    text = data[tool.text_field] if tool.text_field else _dumps(data)
    return Outcome(data, text, False)


def _failure(message: str, code: int) -> Outcome:
    return Outcome({"error": message, "code": code}, message, True)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _page(items: Sequence[Any], offset: int, limit: int, name: str) -> dict[str, Any]:
    """One page of `items` (fetched up to offset + limit + 1), with `next_offset` if more."""
    page: dict[str, Any] = {name: [i.to_dict() for i in items[offset : offset + limit]]}
    if len(items) > offset + limit:
        page["next_offset"] = offset + limit
    return page


# -- the tools ----------------------------------------------------------------------------------

BOARD = Arg("board", "name")
KEY = Arg("key", "name", required=True)
LIMIT = Arg("limit", "int", minimum=1, maximum=MAX_PAGE)
OFFSET = Arg("offset", "int", minimum=0, maximum=MAX_OFFSET)
RESULT = Arg("result", "text")
WAIT = Arg(
    "wait",
    "int",
    doc=f"if there is nothing yet, wait up to this many seconds (at most {MAX_WAIT}) for it, "
    "instead of calling again and again",
    minimum=0,
    maximum=MAX_WAIT,
)
VERIFIED_BY = Arg("verified_by", "text", doc="how the result was checked")


def _window(c: Call) -> tuple[int, int]:
    return c.get("offset", 0), c.get("limit", DEFAULT_PAGE)


def _create_task(deck: Deck, c: Call) -> dict[str, Any]:
    extra = c.pick(
        "board",
        "description",
        "criteria",
        "priority",
        "skills",
        "parent",
        "requires_approval",
        "estimate_hours",
        "assignee",
        "blocked_by",
    )
    return deck.add_task(c["title"], actor=c.actor, **extra).to_dict()


def _plan(deck: Deck, c: Call) -> dict[str, Any]:
    specs = c["tasks"]
    tasks = deck.plan(specs, actor=c.actor, board=c.get("board"))
    return {
        "tasks": [
            {
                "ref": spec.get("ref"),
                "key": t.key,
                "title": t.title,
                "column": t.column,
                "assignee": t.assignee,
                "blocked_by": list(t.blocked_by),
            }
            for spec, t in zip(specs, tasks, strict=True)
        ]
    }


def _ready(deck: Deck, c: Call) -> dict[str, Any]:
    offset, limit = _window(c)
    agent = None if c.get("all") else c.actor
    tasks = deck.ready(c.get("board"), agent=agent, limit=offset + limit + 1)
    return _page(tasks, offset, limit, "tasks")


def _claim(deck: Deck, c: Call) -> dict[str, Any]:
    claim = deck.claim(c.actor, **c.pick("board", "key", "wait"))
    if claim is None:
        return {"task": None, "inbox": [], "similar": [], "note": "no ready task for you now"}
    return claim.to_dict()


def _heartbeat(deck: Deck, c: Call) -> dict[str, Any]:
    return {"held": deck.heartbeat(c.actor, board=c.get("board"))}


def _doing(deck: Deck, c: Call) -> dict[str, Any]:
    shown_on = deck.doing(c.actor, c["text"], **c.pick("key", "board"))
    return {"task": shown_on, "doing": " ".join(c["text"].split())[:200]}


def _log(deck: Deck, c: Call) -> dict[str, Any]:
    return deck.log(c["key"], c["text"], actor=c.actor, **c.pick("kind", "data")).to_dict()


def _usage(deck: Deck, c: Call) -> dict[str, Any]:
    amounts = c.pick(
        "board", "tokens_in", "tokens_out", "cost_usd", "cpu_seconds", "gpu_seconds", "model"
    )
    crossed = deck.record_usage(c.get("key"), actor=c.actor, **amounts)
    return {"budgets_crossed": [b.to_dict() for b in crossed]}


def _submit(deck: Deck, c: Call) -> dict[str, Any]:
    return deck.submit(c["key"], actor=c.actor, **c.pick("result", "verified_by")).to_dict()


def _done(deck: Deck, c: Call) -> dict[str, Any]:
    return deck.complete(c["key"], actor=c.actor, **c.pick("result", "verified_by")).to_dict()


def _fail(deck: Deck, c: Call) -> dict[str, Any]:
    return deck.fail(c["key"], actor=c.actor, reason=c["reason"]).to_dict()


def _escalate(deck: Deck, c: Call) -> dict[str, Any]:
    return deck.escalate(c["key"], actor=c.actor, reason=c["reason"]).to_dict()


def _release(deck: Deck, c: Call) -> dict[str, Any]:
    return deck.release(c["key"], actor=c.actor, **c.pick("note")).to_dict()


def _inbox(deck: Deck, c: Call) -> dict[str, Any]:
    messages = deck.inbox(
        c.actor, board=c.get("board"), mark_read=not c.get("peek", False), **c.pick("wait")
    )
    return {"messages": [m.to_dict() for m in messages]}


def _search(deck: Deck, c: Call) -> dict[str, Any]:
    offset, limit = _window(c)
    hits = deck.search(c["query"], board=c.get("board"), limit=offset + limit + 1)
    return _page(hits, offset, limit, "hits")


def _similar(deck: Deck, c: Call) -> dict[str, Any]:
    offset, limit = _window(c)
    return _page(deck.similar(c["key"], limit=offset + limit + 1), offset, limit, "hits")


def _task_show(deck: Deck, c: Call) -> dict[str, Any]:
    detail = deck.task_detail(c["key"]).to_dict()
    want = c.get("log_limit", DEFAULT_PAGE)
    if want == 0:
        return detail
    entries = deck.task_events(c["key"], before_id=c.get("cursor"), limit=want + 1)
    if len(entries) > want:
        entries = entries[1:]
        detail["next_cursor"] = entries[0].id
    detail["log"] = [e.to_dict() for e in entries]
    return detail


def _task_list(deck: Deck, c: Call) -> dict[str, Any]:
    offset, limit = _window(c)
    tasks = deck.list_tasks(
        c.get("board"), **c.pick("status", "column", "assignee"), limit=limit + 1, offset=offset
    )
    page: dict[str, Any] = {"tasks": [t.to_dict() for t in tasks[:limit]]}
    if len(tasks) > limit:
        page["next_offset"] = offset + limit
    return page


def _report(deck: Deck, c: Call) -> dict[str, Any]:
    return {"markdown": deck.report(c.get("board"))}


TOOLS: tuple[Tool, ...] = (
    Tool(
        "create_task",
        "Create a pending task; blocked_by lists task keys it waits on.",
        (
            Arg("title", "text", required=True),
            Arg("description", "text"),
            Arg("criteria", "text", doc="success criteria"),
            Arg("priority", "int", doc="0 most urgent", minimum=0, maximum=4),
            Arg("skills", "names"),
            Arg("parent", "name"),
            Arg("requires_approval", "bool"),
            Arg("estimate_hours", "num"),
            Arg("assignee", "name"),
            Arg("blocked_by", "names"),
            BOARD,
        ),
        _create_task,
    ),
    Tool(
        "plan",
        "Create many tasks in one all-or-nothing step; blocked_by and parent name refs or keys.",
        (
            Arg(
                "tasks",
                "objects",
                required=True,
                doc="each: title, ref, blocked_by, parent, description, criteria, priority, "
                "skills, assignee, requires_approval, estimate_hours",
            ),
            BOARD,
        ),
        _plan,
    ),
    Tool(
        "ready",
        "Ready tasks you may claim, best first (all: every ready task).",
        (Arg("all", "bool"), LIMIT, OFFSET, BOARD),
        _ready,
    ),
    Tool(
        "claim",
        "Take the best ready task for you (or task key), with your inbox and similar past work.",
        (Arg("key", "name"), WAIT, BOARD),
        _claim,
    ),
    Tool(
        "heartbeat",
        "Renew the leases of the tasks you hold; call every few minutes while working.",
        (BOARD,),
        _heartbeat,
    ),
    Tool(
        "doing",
        "Say what you are doing right now; humans see it live.",
        (Arg("text", "text", required=True), Arg("key", "name"), BOARD),
        _doing,
    ),
    Tool(
        "log",
        "Append an entry to a task's log.",
        (
            KEY,
            Arg("text", "text", required=True),
            Arg("kind", "name", choices=LOG_KINDS),
            Arg("data", "object"),
        ),
        _log,
    ),
    Tool(
        "usage",
        "Record tokens, cost and compute you spent on a task you hold (or on the board).",
        (
            Arg("key", "name"),
            Arg("tokens_in", "int", minimum=0),
            Arg("tokens_out", "int", minimum=0),
            Arg("cost_usd", "num"),
            Arg("cpu_seconds", "num"),
            Arg("gpu_seconds", "num"),
            Arg("model", "name"),
            BOARD,
        ),
        _usage,
    ),
    Tool(
        "submit",
        "Hand in a task you hold for human review.",
        (KEY, RESULT, VERIFIED_BY),
        _submit,
    ),
    Tool(
        "done",
        "Complete a task you hold; give verified_by or log a verification first.",
        (KEY, RESULT, VERIFIED_BY),
        _done,
    ),
    Tool(
        "fail",
        "Give up on a task you hold, saying why.",
        (KEY, Arg("reason", "text", required=True)),
        _fail,
    ),
    Tool(
        "escalate",
        "Ask a human for help; the task waits for their answer.",
        (KEY, Arg("reason", "text", required=True)),
        _escalate,
    ),
    Tool(
        "release",
        "Give a task you hold back to the queue.",
        (KEY, Arg("note", "text")),
        _release,
    ),
    Tool(
        "inbox",
        "Your unread messages (assignments, review notes, answers); reading marks them read.",
        (Arg("peek", "bool", doc="do not mark read"), WAIT, BOARD),
        _inbox,
    ),
    Tool(
        "search",
        "Full-text search of finished tasks: past solutions.",
        (Arg("query", "text", required=True), LIMIT, OFFSET, BOARD),
        _search,
    ),
    Tool(
        "similar",
        "Finished tasks most like the task key.",
        (KEY, LIMIT, OFFSET),
        _similar,
    ),
    Tool(
        "task_show",
        "A task with its dependencies, notes, usage and newest log entries.",
        (
            KEY,
            Arg("log_limit", "int", minimum=0, maximum=MAX_PAGE),
            Arg("cursor", "int", doc="next_cursor of the previous page", minimum=0),
        ),
        _task_show,
    ),
    Tool(
        "task_list",
        "Tasks by priority, filtered by status, column or assignee.",
        (
            Arg("status", "name", choices=STATUSES),
            Arg("column", "name", choices=tuple(COLUMN_TITLES)),
            Arg("assignee", "name"),
            LIMIT,
            OFFSET,
            BOARD,
        ),
        _task_list,
    ),
    Tool(
        "report",
        "The board's progress report, as markdown.",
        (BOARD,),
        _report,
        text_field="markdown",
    ),
)
BY_NAME = {t.name: t for t in TOOLS}
