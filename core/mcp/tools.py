"""The tools agentdeck's MCP server offers agents: names, short descriptions, argument
schemas, and thin calls into `Deck`.

Nothing here imports `mcp`, so the table is cheap to import and to test; `agentdeck.core.mcp.server`
serves it. Arguments are checked before any `Deck` call, so a wrong type, an unknown key or
an oversized value comes back as one clear line, never a traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from agentdeck.core import safe_text, views
from agentdeck.core.deck import Deck
from agentdeck.core.editing import KEEP
from agentdeck.core.errors import DeckError
from agentdeck.core.feed import ChangeFeed
from agentdeck.core.mcp import shapes, texts
from agentdeck.core.mcp.args import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Arg,
    Call,
    Outcome,
    Tool,
)
from agentdeck.core.models import COLUMN_TITLES, LOG_KINDS, STATUSES, TASK_TYPES
from agentdeck.core.report import SECTIONS

# The longest a claim or inbox call may wait, in seconds: shorter than the CLI's hour, since an
# MCP client gives up on a call that takes too long; an agent simply calls again.
MAX_WAIT = 300

log = logging.getLogger("agentdeck.mcp")

# Set to "json" for a host that shows its model only a result's text content (MCP before
# 2025-06-18): the text then repeats the structured result as JSON, doubling every answer.
TEXT_ENV = "AGENTDECK_MCP_TEXT"


def call(
    deck: Deck,
    default_actor: str | None,
    name: str,
    arguments: Any,
    feed: ChangeFeed | None = None,
) -> Outcome:
    """Run one tool call to an outcome; every failure becomes a one-line error result.

    A result is sent twice over the wire: as structured content (what hosts that know
    output schemas, Claude Code among them, give the model) and as a text block. The text
    is a short rendering (what happened, which keys), not the JSON again, so an answer costs
    its size once; `AGENTDECK_MCP_TEXT=json` makes it the JSON for older hosts. A call that
    waits (`claim`, `inbox`) sleeps on `feed` when given, so its caller can end the wait."""
    tool = BY_NAME.get(name)
    if tool is None:
        return _failure(f"unknown tool {name[:60]!r}", 1)
    try:
        data = tool.run(deck, tool.bind(arguments, default_actor, feed))
    except DeckError as exc:
        return _failure(exc.message, exc.exit_code)
    except Exception as exc:  # a bug in one call must not take the server down
        log.exception("tool %s failed", name)
        detail = " ".join(str(exc).split())[:200]
        return _failure(f"{name}: internal error: {type(exc).__name__}: {detail}", 1)
    if os.environ.get(TEXT_ENV) == "json" or tool.say is None:
        return Outcome(data, safe_text.safe_json(data, compact=True), False)
    return Outcome(data, tool.say(data), False)


def _failure(message: str, code: int) -> Outcome:
    return Outcome({"error": message, "code": code}, message, True)


def _paged(
    name: str,
    items: Sequence[Any],
    start: int,
    limit: int,
    view: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page of `items` (fetched from the start of the list) as compact views, with the
    cursor of the next page, or null on the last."""
    shown, following = views.page(items[start:], start, limit, view)
    return {name: shown, "next_cursor": following}


# -- the tools ----------------------------------------------------------------------------------

BOARD = Arg("board", "name")
KEY = Arg("key", "name", required=True)
LIMIT = Arg("limit", "int", doc=f"page size (default {DEFAULT_PAGE})", minimum=1, maximum=MAX_PAGE)
CURSOR = Arg("cursor", "name", doc="next_cursor of the previous page")
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
LABEL = Arg("label", "name", doc="only tasks with this label")


def _window(c: Call) -> tuple[int, int]:
    """Where the requested page starts and how long it is."""
    return views.start_of(c.get("cursor")), c.get("limit", DEFAULT_PAGE)


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
        "labels",
        "type",
    )
    return views.task_card(deck.add_task(c["title"], actor=c.actor, **extra))


def _task_edit(deck: Deck, c: Call) -> dict[str, Any]:
    given = c.pick(
        "title",
        "description",
        "criteria",
        "criteria_note",
        "skills",
        "priority",
        "add_dependencies",
        "remove_dependencies",
        "add_labels",
        "remove_labels",
        "type",
    )
    parent = c.get("parent")
    edited = deck.edit_task(
        c["key"],
        actor=c.actor,
        expected_version=c["version"],
        estimate_hours=c.get("estimate_hours", KEEP),
        parent=KEEP if parent is None else parent or None,
        **given,
    )
    return views.edit_receipt(edited)


def _plan(deck: Deck, c: Call) -> dict[str, Any]:
    specs = c["tasks"]
    tasks = deck.plan(specs, actor=c.actor, board=c.get("board"))
    refs = [ref if isinstance(ref := spec.get("ref"), str) else None for spec in specs]
    return views.plan_receipt(refs, tasks)


def _ready(deck: Deck, c: Call) -> dict[str, Any]:
    start, limit = _window(c)
    agent = None if c.get("all") else c.actor
    tasks = deck.ready(c.get("board"), agent=agent, label=c.get("label"), limit=start + limit + 1)
    return _paged("tasks", tasks, start, limit, views.task_card)


def _claim(deck: Deck, c: Call) -> dict[str, Any]:
    claim = deck.claim(c.actor, **c.pick("board", "key", "wait"), feed=c.feed)
    if claim is None:
        return {"task": None, "inbox": [], "similar": [], "note": "no ready task for you now"}
    return views.claim_view(claim)


def _heartbeat(deck: Deck, c: Call) -> dict[str, Any]:
    return {"held": deck.heartbeat(c.actor, board=c.get("board"))}


def _doing(deck: Deck, c: Call) -> dict[str, Any]:
    shown_on = deck.doing(c.actor, c["text"], **c.pick("key", "board"))
    return {"task": shown_on, "doing": " ".join(c["text"].split())[:200]}


def _log(deck: Deck, c: Call) -> dict[str, Any]:
    entry = deck.log(c["key"], c["text"], actor=c.actor, **c.pick("kind", "data"))
    return views.log_receipt(entry)


def _usage(deck: Deck, c: Call) -> dict[str, Any]:
    amounts = c.pick(
        "board", "tokens_in", "tokens_out", "cost_usd", "cpu_seconds", "gpu_seconds", "model"
    )
    crossed = deck.record_usage(c.get("key"), actor=c.actor, **amounts)
    return views.usage_receipt(c.get("key"), crossed)


def _submit(deck: Deck, c: Call) -> dict[str, Any]:
    return views.receipt(deck.submit(c["key"], actor=c.actor, **c.pick("result", "verified_by")))


def _done(deck: Deck, c: Call) -> dict[str, Any]:
    done = deck.complete(c["key"], actor=c.actor, **c.pick("result", "verified_by"))
    return views.done_receipt(done)


def _fail(deck: Deck, c: Call) -> dict[str, Any]:
    return views.receipt(deck.fail(c["key"], actor=c.actor, reason=c["reason"]))


def _escalate(deck: Deck, c: Call) -> dict[str, Any]:
    return views.receipt(deck.escalate(c["key"], actor=c.actor, reason=c["reason"]))


def _release(deck: Deck, c: Call) -> dict[str, Any]:
    return views.receipt(deck.release(c["key"], actor=c.actor, **c.pick("note")))


def _inbox(deck: Deck, c: Call) -> dict[str, Any]:
    page = deck.inbox_page(
        c.actor,
        board=c.get("board"),
        mark_read=not c.get("peek", False),
        limit=c.get("limit", DEFAULT_PAGE),
        after_id=views.id_after(c.get("cursor")),
        feed=c.feed,
        **c.pick("wait"),
    )
    return {
        "messages": [views.message_card(m) for m in page.messages],
        "next_cursor": page.next_cursor,
    }


def _send(deck: Deck, c: Call) -> dict[str, Any]:
    sent = deck.send(c["to"], c["text"], actor=c.actor, **c.pick("task", "board"))
    return views.sent_receipt(sent)


def _search(deck: Deck, c: Call) -> dict[str, Any]:
    start, limit = _window(c)
    hits = deck.search(c["query"], board=c.get("board"), limit=start + limit + 1)
    return _paged("hits", hits, start, limit, views.hit_card)


def _similar(deck: Deck, c: Call) -> dict[str, Any]:
    start, limit = _window(c)
    hits = deck.similar(c["key"], limit=start + limit + 1)
    return _paged("hits", hits, start, limit, views.hit_card)


def _comment(deck: Deck, c: Call) -> dict[str, Any]:
    return views.comment_receipt(deck.comment(c["key"], c["text"], actor=c.actor))


def _task_show(deck: Deck, c: Call) -> dict[str, Any]:
    detail = views.detail_view(deck.task_detail(c["key"]), whole_comments=bool(c.get("full")))
    entries, following = deck.task_log_page(
        c["key"], limit=c.get("log_limit", DEFAULT_PAGE), before_id=views.id_after(c.get("cursor"))
    )
    entry = views.event_whole if c.get("full") else views.event_card
    return {**detail, "log": [entry(e) for e in entries], "next_cursor": following}


def _task_list(deck: Deck, c: Call) -> dict[str, Any]:
    start, limit = _window(c)
    tasks = deck.list_tasks(
        c.get("board"),
        **c.pick("status", "column", "assignee", "label"),
        limit=limit + 1,
        offset=start,
    )
    shown, following = views.page(tasks, start, limit, views.task_card)
    return {"tasks": shown, "next_cursor": following}


def _report(deck: Deck, c: Call) -> dict[str, Any]:
    sections, label = c.get("sections"), c.get("label")
    if not sections:
        return deck.report_summary(c.get("board"), label=label)
    markdown = deck.report(c.get("board"), sections=sections, label=label)
    return {"sections": sections, "markdown": markdown}


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
            Arg("labels", "names"),
            Arg("type", "name", choices=TASK_TYPES),
            BOARD,
        ),
        _create_task,
        title="Create a task",
        output=shapes.TASK_CARD,
        say=lambda d: f"created {d['key']}: {d['title']}",
    ),
    Tool(
        "task_edit",
        "Change a task as of the version you saw; its holder may only add dependencies and "
        "criteria notes.",
        (
            KEY,
            Arg("version", "int", required=True),
            Arg("title", "text"),
            Arg("description", "text"),
            Arg("criteria", "text"),
            Arg("criteria_note", "text", doc="appended to the criteria"),
            Arg("skills", "names"),
            Arg("estimate_hours", "num"),
            Arg("priority", "int", minimum=0, maximum=4),
            Arg("parent", "name", doc='"" for none'),
            Arg("add_dependencies", "names"),
            Arg("remove_dependencies", "names"),
            Arg("add_labels", "names"),
            Arg("remove_labels", "names"),
            Arg("type", "name", choices=TASK_TYPES),
        ),
        _task_edit,
        title="Edit a task",
        output=shapes.EDIT_RECEIPT,
        say=texts.say_edit,
        idempotent=True,
    ),
    Tool(
        "plan",
        "Create many tasks in one all-or-nothing step; blocked_by and parent name refs or keys.",
        (
            Arg(
                "tasks",
                "objects",
                required=True,
                doc="each: title, ref, blocked_by, parent, description, criteria (text or a "
                "list of items), priority, skills, labels, type, assignee, requires_approval, "
                "estimate_hours",
            ),
            BOARD,
        ),
        _plan,
        title="Plan tasks",
        output=shapes.PLAN_RECEIPT,
        say=texts.say_list("tasks", "tasks created"),
    ),
    Tool(
        "ready",
        "Ready tasks you may claim, best first, as compact cards (all: every ready task).",
        (Arg("all", "bool"), LABEL, LIMIT, CURSOR, BOARD),
        _ready,
        title="Ready tasks",
        output=shapes.paged("tasks", shapes.TASK_CARD),
        say=texts.say_list("tasks", "ready tasks"),
        read_only=True,
        idempotent=True,
    ),
    Tool(
        "claim",
        "Take the best ready task for you (or task key): the task, your messages, similar past work.",
        (Arg("key", "name"), WAIT, BOARD),
        _claim,
        title="Claim a task",
        output=shapes.CLAIM,
        say=texts.say_claim,
    ),
    Tool(
        "heartbeat",
        "Renew the leases of the tasks you hold; call every few minutes while working.",
        (BOARD,),
        _heartbeat,
        title="Heartbeat",
        output=shapes.obj({"held": shapes.STRS}),
        say=lambda d: f"holding {', '.join(d['held']) or 'nothing'}",
        idempotent=True,
    ),
    Tool(
        "doing",
        "Say what you are doing right now; humans see it live.",
        (Arg("text", "text", required=True), Arg("key", "name"), BOARD),
        _doing,
        title="Say what you are doing",
        output=shapes.obj({"task": shapes.nullable(shapes.STR), "doing": shapes.STR}),
        say=lambda d: f"doing, shown on {d['task'] or 'no task'}",
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
        title="Log a step",
        output=shapes.LOG_RECEIPT,
        say=lambda d: f"logged #{d['id']} on {d['task']}",
    ),
    Tool(
        "comment",
        "Comment on any task of the board (a question, a pointer); kept apart from its work log.",
        (KEY, Arg("text", "text", required=True)),
        _comment,
        title="Comment on a task",
        output=shapes.COMMENT_RECEIPT,
        say=lambda d: f"commented #{d['id']} on {d['task']}",
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
        title="Record usage",
        output=shapes.USAGE_RECEIPT,
        say=texts.say_usage,
    ),
    Tool(
        "submit",
        "Hand in a task you hold for human review.",
        (KEY, RESULT, VERIFIED_BY),
        _submit,
        title="Submit for review",
        output=shapes.RECEIPT,
        say=texts.say_move,
        idempotent=True,
    ),
    Tool(
        "done",
        "Complete a task you hold; give verified_by or log a verification first.",
        (KEY, RESULT, VERIFIED_BY),
        _done,
        title="Complete a task",
        output=shapes.DONE_RECEIPT,
        say=texts.say_move,
        idempotent=True,
    ),
    Tool(
        "fail",
        "Give up on a task you hold, saying why.",
        (KEY, Arg("reason", "text", required=True)),
        _fail,
        title="Fail a task",
        output=shapes.RECEIPT,
        say=texts.say_move,
        destructive=True,
        idempotent=True,
    ),
    Tool(
        "escalate",
        "Ask a human for help; the task waits for their answer.",
        (KEY, Arg("reason", "text", required=True)),
        _escalate,
        title="Escalate to a human",
        output=shapes.RECEIPT,
        say=texts.say_move,
        idempotent=True,
    ),
    Tool(
        "release",
        "Give a task you hold back to the queue.",
        (KEY, Arg("note", "text")),
        _release,
        title="Release a task",
        output=shapes.RECEIPT,
        say=texts.say_move,
        destructive=True,
        idempotent=True,
    ),
    Tool(
        "inbox",
        "Your unread messages (assignments, reviews, answers, members' messages); shown "
        "ones are marked read.",
        (Arg("peek", "bool", doc="do not mark read"), WAIT, LIMIT, CURSOR, BOARD),
        _inbox,
        title="Inbox",
        output=shapes.paged("messages", shapes.MESSAGE_CARD),
        say=texts.say_list("messages", "messages", "id"),
        idempotent=True,
    ),
    Tool(
        "send",
        "Message a member (an agent, a human, or to: lead) in their inbox; with task, also "
        "in its log.",
        (
            Arg("to", "name", required=True, doc="a member's name, or lead"),
            Arg("text", "text", required=True),
            Arg("task", "name", doc="the task key it is about"),
            BOARD,
        ),
        _send,
        title="Send a message",
        output=shapes.SENT_RECEIPT,
        say=lambda d: (
            f"sent #{d['id']} to {d['to']}" + (f" about {d['task']}" if d["task"] else "")
        ),
    ),
    Tool(
        "search",
        "Full-text search of finished tasks: past solutions.",
        (Arg("query", "text", required=True), LIMIT, CURSOR, BOARD),
        _search,
        title="Search past work",
        output=shapes.paged("hits", shapes.HIT_CARD),
        say=texts.say_list("hits", "hits"),
        read_only=True,
        idempotent=True,
    ),
    Tool(
        "similar",
        "Finished tasks most like the task key.",
        (KEY, LIMIT, CURSOR),
        _similar,
        title="Similar past work",
        output=shapes.paged("hits", shapes.HIT_CARD),
        say=texts.say_list("hits", "similar tasks"),
        read_only=True,
        idempotent=True,
    ),
    Tool(
        "task_show",
        "A task whole: dependencies, subtasks, notes, usage, newest comments, its newest log entries.",
        (
            KEY,
            Arg(
                "log_limit",
                "int",
                doc="log entries per page (0: none)",
                minimum=0,
                maximum=MAX_PAGE,
            ),
            Arg("cursor", "name", doc="next_cursor of the previous page: older entries"),
            Arg("full", "bool", doc="log entries with whole text and data, comments whole"),
        ),
        _task_show,
        title="Show a task",
        output=shapes.TASK_SHOW,
        say=texts.say_show,
        read_only=True,
        idempotent=True,
    ),
    Tool(
        "task_list",
        "Tasks by priority as compact cards, filtered by status, column, assignee or label.",
        (
            Arg("status", "name", choices=STATUSES),
            Arg("column", "name", choices=tuple(COLUMN_TITLES)),
            Arg("assignee", "name"),
            LABEL,
            LIMIT,
            CURSOR,
            BOARD,
        ),
        _task_list,
        title="List tasks",
        output=shapes.paged("tasks", shapes.TASK_CARD),
        say=texts.say_list("tasks", "tasks"),
        read_only=True,
        idempotent=True,
    ),
    Tool(
        "report",
        "Where the board stands, finished work in numbers; sections: parts of the markdown report.",
        (
            Arg("sections", "names", doc="parts of the markdown report", choices=SECTIONS),
            LABEL,
            BOARD,
        ),
        _report,
        title="Progress report",
        output=shapes.REPORT,
        say=texts.say_report,
        read_only=True,
        idempotent=True,
    ),
)
BY_NAME = {t.name: t for t in TOOLS}
