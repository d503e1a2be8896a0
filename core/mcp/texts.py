"""The short text a tool result carries beside its structured JSON: what happened, and which
keys, in a line.

A result goes over the wire twice, as structured content and as a text block. Hosts that
know output schemas give their model the structured result, so repeating the JSON in the
text would double what every answer costs; the text is this rendering instead (see
`agentdeck.core.mcp.tools.call`, and `AGENTDECK_MCP_TEXT=json` for hosts that read only text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agentdeck.core import views
from agentdeck.core.words import plural

MAX_KEYS = 20  # keys a text rendering lists


def _keys(items: Sequence[dict[str, Any]], field: str = "key") -> str:
    keys = [str(i[field]) for i in items[:MAX_KEYS]]
    more = f" and {len(items) - MAX_KEYS} more" if len(items) > MAX_KEYS else ""
    return ", ".join(keys) + more


def _more(data: dict[str, Any]) -> str:
    cursor = data.get("next_cursor")
    return f"; more with cursor {cursor!r}" if cursor is not None else ""


def say_list(name: str, noun: str, field: str = "key") -> Callable[[dict[str, Any]], str]:
    def say(data: dict[str, Any]) -> str:
        items = data[name]
        if not items:
            return f"no {noun}"
        return f"{len(items)} {noun}: {_keys(items, field)}{_more(data)}"

    return say


def say_move(data: dict[str, Any]) -> str:
    return f"{data['key']} is {data['status']}" + (
        f" ({data['nudge']})" if data.get("nudge") else ""
    )


def say_edit(data: dict[str, Any]) -> str:
    changed = ", ".join(data["changed"])
    if not changed:
        return f"{data['key']} unchanged (version {data['version']})"
    return f"edited {data['key']}: {changed}; now version {data['version']}"


def say_claim(data: dict[str, Any]) -> str:
    task = data["task"]
    if task is None:
        return data.get("note", "no ready task for you now")
    return (
        f"claimed {task['key']}: {views.clip(task['title'], 80)}; "
        f"{plural(len(data['inbox']), 'message')}, "
        f"{plural(len(data['similar']), 'similar past task')}"
    )


def say_usage(data: dict[str, Any]) -> str:
    crossed = "; ".join(
        f"{b['scope']} {b['subject']} {b['metric']} is {b['level']}"
        for b in data["budgets_crossed"]
    )
    return f"recorded on {data['task'] or 'the board'}" + (f"; {crossed}" if crossed else "")


def say_show(data: dict[str, Any]) -> str:
    t = data["task"]
    return (
        f"{t['key']} {views.clip(t['title'], 80)}: {t['status']}; "
        f"{len(data['log'])} of {data['events']} log entries, "
        f"{len(data['comments'])} of {data['comments_total']} comments{_more(data)}"
    )


def say_report(data: dict[str, Any]) -> str:
    if "markdown" in data:
        return f"report sections {', '.join(data['sections'])}: {len(data['markdown'])} characters"
    return (
        f"{data['name']}: {data['done']} of {data['total']} done ({data['percent_done']}%); "
        f"{len(data['needs_human']) + data['needs_human_more']} need a human, "
        f"{len(data['blocked']) + data['blocked_more']} blocked, "
        f"{len(data['in_progress']) + data['in_progress_more']} in progress"
    )
