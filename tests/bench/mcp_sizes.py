"""MCP answer sizes: `python -m tests.bench.mcp_sizes [--tasks N]`.

What each agent tool's default answer costs on the generated board of tests/mcp/big_board.py
(500 tasks by default), in tokens (characters / 4 of what a client receives: the text
content plus the structured content as compact JSON), against the same-run baseline of
what the tool answered before compact views: the items' full `to_dict()` (the markdown
report for `report`), sent twice (as the text and as the structured content). Also the
tool list's size (before: names, descriptions and input schemas only) and one whole
claim → log → usage → done cycle.

Calls go through `agentdeck.core.mcp.tools.call`, the function the stdio server runs per
call, so the sizes are the server's answers without a subprocess; tests/mcp/
test_response_budget.py asserts the budgets through the real SDK client. A script that
prints figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentdeck.core import Deck
from agentdeck.core.mcp.tools import TOOLS, call
from tests.mcp import big_board
from tests.mcp.big_board import AGENT, BOARD, HUMAN


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def after(deck: Deck, tool: str, **arguments: Any) -> float:
    """Tokens of the answer the server gives now: its text plus its structured JSON."""
    outcome = call(deck, AGENT, tool, arguments)
    assert not outcome.error, outcome.text
    return (len(outcome.text) + len(_json(outcome.data))) / 4


def before(data: Any) -> float:
    """Tokens of the answer the old code gave: the JSON as text and again as structure."""
    return 2 * len(_json(data)) / 4


def held(deck: Deck) -> str:
    """A ready task with a long description, claimed by the agent."""
    ready = deck.ready(BOARD, agent=AGENT, limit=200)
    key = max(ready, key=lambda t: len(t.description)).key
    deck.claim(AGENT, key=key)
    return key


def measure(deck: Deck) -> list[tuple[str, float, float]]:
    """(tool, before, after) for every tool's default call, old and new on the same items."""
    rows: list[tuple[str, float, float]] = []
    plan = [
        {"ref": f"p{i}", "title": f"Step {i}", "description": "Roll out. " * 150} for i in range(20)
    ]

    def move(tool: str, verb: Callable[[str], Any], **arguments: Any) -> None:
        key = held(deck)
        new = after(deck, tool, key=key, **arguments)
        rows.append((tool, before(verb(key)), new))

    unread = deck.inbox(AGENT, board=BOARD, mark_read=False)
    rows.append(
        ("inbox", before({"messages": [m.to_dict() for m in unread]}), after(deck, "inbox"))
    )
    ready = deck.ready(BOARD, agent=AGENT, limit=21)
    rows.append(
        (
            "ready",
            before({"tasks": [t.to_dict() for t in ready[:20]], "next_offset": 20}),
            after(deck, "ready"),
        )
    )
    listed = deck.list_tasks(BOARD, limit=21)
    rows.append(
        (
            "task_list",
            before({"tasks": [t.to_dict() for t in listed[:20]], "next_offset": 20}),
            after(deck, "task_list"),
        )
    )
    hits = deck.search("migration", board=BOARD, limit=20)
    rows.append(
        (
            "search",
            before({"hits": [h.to_dict() for h in hits[:20]]}),
            after(deck, "search", query="migration"),
        )
    )
    key = held(deck)
    similar = deck.similar(key, limit=21)
    rows.append(
        (
            "similar",
            before({"hits": [h.to_dict() for h in similar[:20]]}),
            after(deck, "similar", key=key),
        )
    )
    shown = [
        t.key for c in ("in_progress", "needs_human") for t in deck.list_tasks(BOARD, column=c)
    ]
    biggest = max(shown, key=lambda k: len(_json(deck.task_detail(k).to_dict())))
    old_show = {
        **deck.task_detail(biggest).to_dict(),
        "log": [e.to_dict() for e in deck.task_events(biggest, limit=20)],
    }
    rows.append(("task_show", before(old_show), after(deck, "task_show", key=biggest)))
    markdown = deck.report(BOARD)
    rows.append(
        ("report", (len(markdown) + len(_json({"markdown": markdown}))) / 4, after(deck, "report"))
    )
    deck.inbox(AGENT, board=BOARD)
    first = deck.ready(BOARD, agent=AGENT, limit=1)[0]
    new_claim = after(deck, "claim")
    old_claim = {
        "task": deck.get_task(first.key).to_dict(),
        "inbox": [],
        "similar": [h.to_dict() for h in deck.similar(first.key, limit=3)],
    }
    rows.append(("claim", before(old_claim), new_claim))
    rows.append(
        (
            "heartbeat",
            before({"held": deck.heartbeat(AGENT, board=BOARD)}),
            after(deck, "heartbeat"),
        )
    )
    key = held(deck)
    rows.append(
        (
            "doing",
            before({"task": key, "doing": "Reading"}),
            after(deck, "doing", key=key, text="Reading"),
        )
    )
    key = held(deck)
    new_log = after(deck, "log", key=key, text="ran pytest: 3 failed")
    rows.append(("log", before(deck.task_events(key, limit=1)[0].to_dict()), new_log))
    key = held(deck)
    rows.append(
        (
            "usage",
            before({"budgets_crossed": []}),
            after(deck, "usage", key=key, tokens_in=5000, model="m1"),
        )
    )
    move("submit", lambda k: deck.get_task(k).to_dict(), verified_by="pytest")
    move(
        "done", lambda k: {"task": deck.get_task(k).to_dict(), "nudge": None}, verified_by="pytest"
    )
    move("fail", lambda k: deck.get_task(k).to_dict(), reason="the API is gone")
    move("escalate", lambda k: deck.get_task(k).to_dict(), reason="need access")
    move("release", lambda k: deck.get_task(k).to_dict())
    new_task = after(deck, "create_task", title="Write the post", description="Draft. " * 500)
    newest = max(deck.list_tasks(BOARD, status="pending"), key=lambda t: t.created_at)
    rows.append(("create_task", before(newest.to_dict()), new_task))
    new_plan = after(deck, "plan", tasks=plan)
    old_plan: dict[str, Any] = {
        "tasks": [
            {
                "ref": s["ref"],
                "key": f"{BOARD}-0000",
                "title": s["title"],
                "column": "ready",
                "assignee": None,
                "blocked_by": [],
            }
            for s in plan
        ]
    }
    rows.append(("plan", before(old_plan), new_plan))
    return rows


def cycle(deck: Deck) -> tuple[float, float]:
    """Tokens of claim → log → usage → done on the ready task with the longest description,
    newly assigned to the agent (its one unread message): (before, after)."""
    deck.inbox(AGENT, board=BOARD)
    longest = max(deck.ready(BOARD, limit=500), key=lambda t: len(t.description))
    deck.assign(longest.key, AGENT, actor=HUMAN)
    key = longest.key
    new = after(deck, "claim", key=key)
    claimed = deck.get_task(key)
    old = before(
        {
            "task": claimed.to_dict(),
            "inbox": [
                {
                    "id": 1,
                    "to": AGENT,
                    "sender": HUMAN,
                    "task": key,
                    "kind": "assignment",
                    "text": f"{key}: assigned",
                    "created_at": claimed.created_at.isoformat(),
                    "read": False,
                }
            ],
            "similar": [h.to_dict() for h in deck.similar(key, limit=3)],
        }
    )
    new += after(deck, "log", key=key, text="pytest: 41 passed", kind="verification")
    old += before(deck.task_events(key, limit=1)[0].to_dict())
    new += after(deck, "usage", key=key, tokens_in=48_000, tokens_out=3_100, model="m1")
    old += before({"budgets_crossed": []})
    new += after(deck, "done", key=key, result="shipped behind the flag")
    old += before({"task": deck.get_task(key).to_dict(), "nudge": None})
    return old, new


def tool_list() -> tuple[float, float, float]:
    """Tokens of the tool list: (before: name, description, input schema; after: with
    title, annotations and output schema; what a model reads of it: hosts such as Claude
    Code give the model name, description and input schema, and keep the output schema to
    check results)."""
    old = [
        {"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in TOOLS
    ]
    new = [
        {**o, "title": t.title, "outputSchema": t.output_schema, "annotations": t.annotations}
        for o, t in zip(old, TOOLS, strict=True)
    ]
    read = [{**o, "title": t.title} for o, t in zip(old, TOOLS, strict=True)]
    return len(_json(old)) / 4, len(_json(new)) / 4, len(_json(read)) / 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=big_board.TASKS)
    args = parser.parse_args(argv)
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp())
    with (
        tempfile.TemporaryDirectory() as home,
        Deck.open(Path(home) / "board.db", create=True) as deck,
    ):
        big_board.build(deck, tasks=args.tasks)
        print(
            f"board {BOARD}: {args.tasks} tasks; tokens = characters / 4 of text + structured JSON"
        )
        old, new, read = tool_list()
        print(f"{'tool list':<12} before {old:>8.0f}  after {new:>8.0f}  ratio {new / old:5.2f}")
        print(f"{'  of which':<12} {read:>15.0f}  a model reads (name, title, description, input)")
        for tool, old, new in measure(deck):
            print(f"{tool:<12} before {old:>8.0f}  after {new:>8.0f}  ratio {new / old:5.2f}")
        old, new = cycle(deck)
        print(
            f"{'cycle':<12} before {old:>8.0f}  after {new:>8.0f}  ratio {new / old:5.2f}"
            "  (claim, log, usage, done)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
