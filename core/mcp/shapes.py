"""JSON Schemas of the MCP tools' structured results: the compact views of
`agentdeck.core.views` and the whole models they are cut from.

Each tool declares one (`Tool.output`) as its `outputSchema`, and clients check results
against it. The tests check every result against a `strict` copy (no property a schema
does not list), so a field added to a view without its schema fails the tests.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any

from agentdeck.core import views
from agentdeck.core.models import BudgetStatus, Checkpoint, Task, UsageTotals
from agentdeck.core.report import SECTIONS

STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
NUM: dict[str, Any] = {"type": "number"}
BOOL: dict[str, Any] = {"type": "boolean"}
STRS: dict[str, Any] = {"type": "array", "items": STR}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (of one simple type) or JSON null."""
    if set(schema) == {"type"} and isinstance(schema["type"], str):
        return {"type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object with these properties, the first ones required. Declared open (no
    `additionalProperties: false`: every tool list carries these schemas, so they stay
    short); the tests check results against `strict` copies."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


def strict(schema: Any) -> Any:
    """A copy of `schema` in which no object admits a property it does not list."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _of_type(hint: Any) -> dict[str, Any]:
    """The schema of a model field's type, as `to_dict` renders it."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        kinds = [a for a in args if a is not type(None)]
        assert len(kinds) == 1, hint
        return nullable(_of_type(kinds[0]))
    if typing.get_origin(hint) is tuple:
        return array(_of_type(args[0]))
    simple = {str: STR, int: INT, float: NUM, bool: BOOL, datetime: STR}
    return simple[hint]


def schema_of(model: type, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The schema of a model's `to_dict()`, without the fields in `leave_out`."""
    hints = typing.get_type_hints(model)
    return obj(
        {
            f.name: _of_type(hints[f.name])
            for f in dataclasses.fields(model)
            if f.name not in leave_out
        }
    )


def paged(name: str, item: dict[str, Any]) -> dict[str, Any]:
    """A page of `item`s under `name`, with the cursor of the next page (null on the last)."""
    return obj(
        {
            name: array(item),
            "next_cursor": nullable(STR),
        }
    )


TASK_CARD = obj(
    {
        "key": STR,
        "title": STR,
        "type": STR,
        "status": STR,
        "priority": INT,
        "labels": STRS,
        "assignee": nullable(STR),
        "skills": STRS,
        "blocked_by": STRS,
        "doing": STR,
    },
    {"more_blockers": INT, "more_labels": INT, "subtasks": STR},
)
MESSAGE_CARD = obj(
    {"id": INT, "from": STR, "task": nullable(STR), "kind": STR, "text": STR, "at": STR}
)
EVENT_CARD = obj(
    {
        "id": INT,
        "task": nullable(STR),
        "actor": STR,
        "kind": STR,
        "subkind": STR,
        "text": STR,
        "at": STR,
    }
)
COMMENT_CARD = obj({"id": INT, "task": nullable(STR), "actor": STR, "text": STR, "at": STR})
HIT_CARD = obj({"key": STR, "title": STR, "result": STR, "snippet": STR, "score": NUM})
TASK = schema_of(Task)
TASK_WHOLE = schema_of(Task, views.NOISE)
BUDGET = schema_of(BudgetStatus)
RECEIPT = obj(
    {"key": STR, "status": STR, "column": STR, "assignee": nullable(STR)},
)
DONE_RECEIPT = obj({**RECEIPT["properties"], "nudge": nullable(STR)})
SENT_RECEIPT = obj({"id": INT, "to": STR, "task": nullable(STR)})
EDIT_RECEIPT = obj({"key": STR, "version": INT, "changed": STRS})
LOG_RECEIPT = obj({"id": INT, "task": nullable(STR), "kind": STR})
COMMENT_RECEIPT = obj({"id": INT, "task": nullable(STR)})
USAGE_RECEIPT = obj({"task": nullable(STR), "recorded": BOOL, "budgets_crossed": array(BUDGET)})
PLAN_RECEIPT = obj(
    {
        "created": INT,
        "tasks": array(obj({"ref": nullable(STR), "key": STR, "column": STR})),
    }
)
CLAIM = obj(
    {
        "task": nullable(TASK_WHOLE),
        "inbox": array(MESSAGE_CARD),
        "similar": array(HIT_CARD),
    },
    {"note": STR},
)
DETAIL = obj(
    {
        "task": TASK,
        "blocks": STRS,
        "blocked_by_all": array(obj({"key": STR, "status": STR})),
        "subtasks": STRS,
        "assignee_history": array(obj({"agent": STR, "by": STR, "at": STR})),
        "notes": array(EVENT_CARD),
        "checkpoints": array(schema_of(Checkpoint)),
        "usage": schema_of(UsageTotals),
        "events": INT,
        "comments": array(COMMENT_CARD),
        "comments_total": INT,
    },
)
TASK_SHOW = obj(
    {
        **DETAIL["properties"],
        "log": array({"anyOf": [EVENT_CARD, obj({**EVENT_CARD["properties"], "data": {}})]}),
        "next_cursor": paged("log", {})["properties"]["next_cursor"],
    }
)
# Finished work in numbers (`report.finished_summary` less the counts "columns" has): the
# full list is task_list, paged.
FINISHED = obj(
    {
        "recent": array(obj({"key": STR, "title": STR})),
        **{
            f"by_{of}": {"type": "object", "additionalProperties": INT} for of in ("agent", "label")
        },
        "agents_more": INT,
        "labels_more": INT,
    }
)
SUMMARY = obj(
    {
        "board": STR,
        "name": STR,
        "goal": STR,
        "due_at": nullable(STR),
        "total": INT,
        "done": INT,
        "percent_done": INT,
        "columns": {"type": "object", "additionalProperties": INT},
        **{part: array(TASK_CARD) for part in ("needs_human", "blocked", "in_progress")},
        **{f"{part}_more": INT for part in ("needs_human", "blocked", "in_progress")},
        "finished": FINISHED,
        "budgets": array(BUDGET),
        "budgets_more": INT,
        "spent": obj({"cost_usd": NUM, "tokens": INT}),
        "forecast": obj(
            {
                "throughput_per_day": NUM,
                "done_at": nullable(STR),
                "early": nullable(STR),
                "late": nullable(STR),
                "note": STR,
            }
        ),
        "updated_at": STR,
    },
    {"label": STR},
)
REPORT = {
    "anyOf": [
        SUMMARY,
        obj({"sections": array({"enum": list(SECTIONS)}), "markdown": STR}),
    ]
}
