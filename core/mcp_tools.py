"""The tools agentdeck's MCP server offers agents: names, short descriptions, argument
schemas, and thin calls into `Deck`.

Nothing here imports `mcp`, so the table is cheap to import and to test; `core.mcp_server`
serves it. Arguments are checked before any `Deck` call, so a wrong type, an unknown key or
an oversized value comes back as one clear line, never a traceback.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import DeckError, ValidationError
from core.models import COLUMN_TITLES, LOG_KINDS, STATUSES
from core.store import Deck

log = logging.getLogger("agentdeck.mcp")

MAX_ARGUMENTS = 4 * 1024 * 1024  # JSON characters in one call's arguments
MAX_TEXT = 1024 * 1024  # longer text is refused; core truncates past 64 KiB with a marker
MAX_SHORT = 200  # keys, names, kinds, models
MAX_ITEMS = 2000  # entries in a list argument (a plan's tasks, skills, blockers)
MAX_PAGE = 200
MAX_OFFSET = 100_000
DEFAULT_PAGE = 20

_SCHEMA: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "name": {"type": "string"},
    "int": {"type": "integer"},
    "num": {"type": "number"},
    "bool": {"type": "boolean"},
    "names": {"type": "array", "items": {"type": "string"}},
    "object": {"type": "object"},
    "objects": {"type": "array", "items": {"type": "object"}},
}
_EXPECTED = {
    "text": "a string",
    "name": "a string",
    "int": "an integer",
    "num": "a number",
    "bool": "true or false",
    "names": "an array of strings",
    "object": "an object",
    "objects": "an array of objects",
}


def _json_type(value: Any) -> str:
    """How a JSON value's type reads in an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class Arg:
    """One tool argument: its JSON kind, and the bounds checked before the deck sees it."""

    name: str
    kind: str
    required: bool = False
    doc: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(_SCHEMA[self.kind])
        if self.choices:
            out["enum"] = list(self.choices)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.doc:
            out["description"] = self.doc
        return out

    def check(self, tool: str, value: Any) -> Any:
        """The value if it fits this argument, else a `ValidationError` naming tool and argument."""
        where = f"{tool}: {self.name}"
        wrong = ValidationError(f"{where} must be {_EXPECTED[self.kind]}, not {_json_type(value)}")
        match self.kind:
            case "text" | "name":
                if not isinstance(value, str):
                    raise wrong
                longest = MAX_TEXT if self.kind == "text" else MAX_SHORT
                if len(value) > longest:
                    raise ValidationError(
                        f"{where} is too long: {len(value)} characters (at most {longest})"
                    )
                if self.choices and value not in self.choices:
                    raise ValidationError(
                        f"{where} must be one of {', '.join(self.choices)}, not {value[:40]!r}"
                    )
            case "int":
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise wrong
                low = self.minimum if self.minimum is not None else -(2**63)
                high = self.maximum if self.maximum is not None else 2**63 - 1
                if not low <= value <= high:
                    raise ValidationError(f"{where} must be from {low} to {high}, not {value}")
            case "num":
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise wrong
                if not math.isfinite(value):
                    raise ValidationError(f"{where} must be a finite number")
            case "bool":
                if not isinstance(value, bool):
                    raise wrong
            case "object":
                if not isinstance(value, dict):
                    raise wrong
            case "names" | "objects":
                item = str if self.kind == "names" else dict
                if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
                    raise wrong
                if len(value) > MAX_ITEMS:
                    raise ValidationError(f"{where} has {len(value)} entries (at most {MAX_ITEMS})")
                if item is str and any(len(v) > MAX_SHORT for v in value):
                    raise ValidationError(f"{where}: an entry is over {MAX_SHORT} characters")
        return value


@dataclass(frozen=True, slots=True)
class Call:
    """A tool call's checked arguments and the agent it acts for."""

    tool: str
    args: dict[str, Any]
    default_actor: str | None

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    def pick(self, *names: str) -> dict[str, Any]:
        """The given optional arguments, as keyword arguments for a `Deck` verb."""
        return {n: self.args[n] for n in names if n in self.args}

    @property
    def actor(self) -> str:
        """The `actor` argument, else the server's `--as` agent."""
        actor = self.args.get("actor") or self.default_actor
        if not actor:
            raise ValidationError(
                f"{self.tool}: no acting agent; pass actor, or start the server with --as NAME"
            )
        return str(actor)


Run = Callable[[Deck, Call], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    """An MCP tool: what an agent sees (name, description, schema) and the deck call behind it."""

    name: str
    description: str
    args: tuple[Arg, ...]
    run: Run
    text_field: str | None = None  # answer this field as plain text instead of the JSON
    input_schema: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {a.name: a.schema() for a in self.args},
            "additionalProperties": False,
        }
        required = [a.name for a in self.args if a.required]
        if required:
            schema["required"] = required
        object.__setattr__(self, "input_schema", schema)

    def bind(self, arguments: Any, default_actor: str | None) -> Call:
        """Check raw arguments against this tool's schema; a JSON null counts as absent."""
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, Mapping):
            raise ValidationError(f"{self.name}: arguments must be an object")
        size = len(json.dumps(arguments, default=str))
        if size > MAX_ARGUMENTS:
            raise ValidationError(
                f"{self.name}: arguments are too large ({size} characters, at most {MAX_ARGUMENTS})"
            )
        known = [a.name for a in self.args]
        unknown = sorted(str(k) for k in arguments if k not in known)
        if unknown:
            accepted = ", ".join(known) or "none"
            raise ValidationError(
                f"{self.name}: unknown argument {unknown[0][:40]!r}; arguments: {accepted}"
            )
        values: dict[str, Any] = {}
        for arg in self.args:
            value = arguments.get(arg.name)
            if value is None:
                if arg.required:
                    raise ValidationError(
                        f"{self.name}: missing argument {arg.name!r} ({_EXPECTED[arg.kind]})"
                    )
                continue
            values[arg.name] = arg.check(self.name, value)
        return Call(self.name, values, default_actor)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished tool call: JSON data, the text an agent reads, and whether it failed."""

    data: dict[str, Any]
    text: str
    error: bool


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

ACTOR = Arg("actor", "name")
BOARD = Arg("board", "name")
KEY = Arg("key", "name", required=True)
LIMIT = Arg("limit", "int", minimum=1, maximum=MAX_PAGE)
OFFSET = Arg("offset", "int", minimum=0, maximum=MAX_OFFSET)
RESULT = Arg("result", "text")
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
    claim = deck.claim(c.actor, **c.pick("board", "key"))
    if claim is None:
        return {"task": None, "inbox": [], "similar": [], "note": "no ready task for you now"}
    return claim.to_dict()


def _heartbeat(deck: Deck, c: Call) -> dict[str, Any]:
    return {"held": deck.heartbeat(c.actor, board=c.get("board"))}


def _doing(deck: Deck, c: Call) -> dict[str, Any]:
    deck.doing(c.actor, c["text"], **c.pick("key", "board"))
    return {"doing": " ".join(c["text"].split())[:200]}


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
    messages = deck.inbox(c.actor, board=c.get("board"), mark_read=not c.get("peek", False))
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
            ACTOR,
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
            ACTOR,
        ),
        _plan,
    ),
    Tool(
        "ready",
        "Ready tasks you may claim, best first (all: every ready task).",
        (Arg("all", "bool"), LIMIT, OFFSET, BOARD, ACTOR),
        _ready,
    ),
    Tool(
        "claim",
        "Take the best ready task for you (or task key), with your inbox and similar past work.",
        (Arg("key", "name"), BOARD, ACTOR),
        _claim,
    ),
    Tool(
        "heartbeat",
        "Renew the leases of the tasks you hold; call every few minutes while working.",
        (BOARD, ACTOR),
        _heartbeat,
    ),
    Tool(
        "doing",
        "Say what you are doing right now; humans see it live.",
        (Arg("text", "text", required=True), Arg("key", "name"), BOARD, ACTOR),
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
            ACTOR,
        ),
        _log,
    ),
    Tool(
        "usage",
        "Record tokens, cost and compute spent on a task (or on the board).",
        (
            Arg("key", "name"),
            Arg("tokens_in", "int", minimum=0),
            Arg("tokens_out", "int", minimum=0),
            Arg("cost_usd", "num"),
            Arg("cpu_seconds", "num"),
            Arg("gpu_seconds", "num"),
            Arg("model", "name"),
            BOARD,
            ACTOR,
        ),
        _usage,
    ),
    Tool(
        "submit",
        "Hand in a task you hold for human review.",
        (KEY, RESULT, VERIFIED_BY, ACTOR),
        _submit,
    ),
    Tool(
        "done",
        "Complete a task you hold; give verified_by or log a verification first.",
        (KEY, RESULT, VERIFIED_BY, ACTOR),
        _done,
    ),
    Tool(
        "fail",
        "Give up on a task you hold, saying why.",
        (KEY, Arg("reason", "text", required=True), ACTOR),
        _fail,
    ),
    Tool(
        "escalate",
        "Ask a human for help; the task waits for their answer.",
        (KEY, Arg("reason", "text", required=True), ACTOR),
        _escalate,
    ),
    Tool(
        "release",
        "Give a task you hold back to the queue.",
        (KEY, Arg("note", "text"), ACTOR),
        _release,
    ),
    Tool(
        "inbox",
        "Your unread messages (assignments, review notes, answers); reading marks them read.",
        (Arg("peek", "bool", doc="do not mark read"), BOARD, ACTOR),
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
