"""The machinery behind the MCP tools: size limits, typed argument specs, and checking a
call's arguments before any `Deck` call, so a wrong type, an unknown key or an oversized
value comes back as one clear line. The tools themselves are in `agentdeck.core.mcp.tools`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdeck.core import limits
from agentdeck.core.deck import Deck
from agentdeck.core.errors import ValidationError
from agentdeck.core.feed import ChangeFeed

MAX_ARGUMENTS = 4 * 1024 * 1024  # JSON characters in one call's arguments
MAX_TEXT = 1024 * 1024  # longer text is refused; core truncates past 64 KiB with a marker
MAX_SHORT = 200  # keys, names, kinds, models
MAX_ITEMS = 2000  # entries in a list argument (a plan's tasks, skills, blockers)
MAX_PAGE = 200
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
        if self.choices and self.kind == "names":
            out["items"] = {"type": "string", "enum": list(self.choices)}
        elif self.choices:
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
                _finite(where, value)
            case "names" | "objects":
                item = str if self.kind == "names" else dict
                if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
                    raise wrong
                if len(value) > MAX_ITEMS:
                    raise ValidationError(f"{where} has {len(value)} entries (at most {MAX_ITEMS})")
                if item is str and any(len(v) > MAX_SHORT for v in value):
                    raise ValidationError(f"{where}: an entry is over {MAX_SHORT} characters")
                wrong_choice = [v for v in value if self.choices and v not in self.choices]
                if wrong_choice:
                    raise ValidationError(
                        f"{where}: {wrong_choice[0][:40]!r} is not one of {', '.join(self.choices)}"
                    )
                if item is dict:
                    _finite(where, value)
        return value


def _finite(where: str, value: Any) -> None:
    """Refuse NaN or an infinity anywhere inside an object argument (a client's JSON parser
    may accept them), by core's one check on agent JSON data."""
    try:
        limits.storable_json(value)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Call:
    """A tool call's checked arguments and the agent it acts for."""

    tool: str
    args: dict[str, Any]
    default_actor: str | None
    # The change feed a waiting call sleeps on; the server closes it when the client cancels
    # the call, which ends the wait (see `agentdeck.core.mcp.server`).
    feed: ChangeFeed | None = None

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)

    def pick(self, *names: str) -> dict[str, Any]:
        """The given optional arguments, as keyword arguments for a `Deck` verb."""
        return {n: self.args[n] for n in names if n in self.args}

    @property
    def actor(self) -> str:
        """The server's own agent: the holder of its credential (or, on a board in named
        mode, the `--as` name it was started with). No call can name another."""
        if not self.default_actor:
            raise ValidationError(
                f"{self.tool}: this server acts for nobody; start it with AGENTDECK_TOKEN set"
            )
        return self.default_actor


Run = Callable[[Deck, Call], dict[str, Any]]
Say = Callable[[dict[str, Any]], str]

# What every failed call's structured result is (with isError set): the one-line message
# and the CLI's exit code for the error.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "code": {"type": "integer"}},
    "required": ["error", "code"],
}


@dataclass(frozen=True, slots=True)
class Tool:
    """An MCP tool: what an agent sees (name, title, description, input and output schemas,
    behaviour hints) and the deck call behind it.

    `output` is the JSON Schema of a successful call's structured result; `output_schema`,
    what the tool declares, also admits the error result (`ERROR_SCHEMA`). `say` renders a
    successful result as the short text of its content block (see `tools.call`)."""

    name: str
    description: str
    args: tuple[Arg, ...]
    run: Run
    title: str = ""
    output: dict[str, Any] = field(default_factory=dict)
    say: Say | None = None
    read_only: bool = False  # changes nothing (the event log included)
    destructive: bool = False  # gives up work the agent cannot take back itself
    idempotent: bool = False  # a second identical call changes nothing more
    input_schema: dict[str, Any] = field(init=False)
    output_schema: dict[str, Any] = field(init=False)

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
        result = {"type": "object", "anyOf": [self.output, ERROR_SCHEMA]}
        object.__setattr__(self, "output_schema", result)

    @property
    def annotations(self) -> dict[str, Any]:
        """The MCP behaviour hints, by their protocol names. Every tool acts only on this
        board, so none is open-world."""
        return {
            "title": self.title,
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": False,
        }

    def bind(
        self, arguments: Any, default_actor: str | None, feed: ChangeFeed | None = None
    ) -> Call:
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
        if "actor" in arguments:
            raise ValidationError(
                f"{self.name}: there is no actor argument; this server acts only as the "
                "holder of its credential"
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
        return Call(self.name, values, default_actor, feed)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished tool call: JSON data, the text an agent reads, and whether it failed."""

    data: dict[str, Any]
    text: str
    error: bool
