"""What a demo run did, read back from the board's event stream after it ends.

The summary counts what the simulated team did (claims, logs by kind, usage, checkpoints,
reviews, escalations, failures, budget warnings) per agent; `transitions` is the ordered list of
task moves that the same seed must reproduce.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from agentdeck.core import Deck
from agentdeck.core.models import Event

Transition = tuple[str, str, str, str, str, str]  # task, actor, kind, subkind, from, to


def events_after(deck: Deck, board: str, cursor: int) -> Iterator[Event]:
    """Every event of `board` after `cursor`, oldest first, read in pages."""
    while True:
        page = deck.events_since(cursor, board=board, limit=2000)
        if not page:
            return
        yield from page
        cursor = page[-1].id


def transitions(deck: Deck, board: str, cursor: int) -> list[Transition]:
    """The task moves after `cursor` (creations, claims, status changes, approvals, reopens,
    reassignments, expired leases) in the order they happened."""
    return [
        (
            e.task or "",
            e.actor,
            e.kind,
            e.subkind,
            str(e.data.get("from", "")),
            str(e.data.get("to", "")),
        )
        for e in events_after(deck, board, cursor)
        if "to" in e.data and e.kind != "message"
    ]


@dataclass
class Summary:
    """Counts of what happened during one demo run."""

    board: str
    counts: Counter[str] = field(default_factory=Counter)
    logs: Counter[str] = field(default_factory=Counter)
    per_agent: dict[str, Counter[str]] = field(default_factory=dict)
    tokens: int = 0
    cost_usd: float = 0.0
    errors: list[str] = field(default_factory=list)
    turns: int = 0
    first_change_s: float | None = None
    processes: int = 0
    # How the actors of the run's events proved who they were (`Event.auth`): token,
    # credential file, named.
    proofs: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.errors


def _category(e: Event) -> str | None:
    """The summary line an event counts towards, if any."""
    if e.kind == "status":
        verb = e.data.get("verb", "")
        return {
            "submit": "submitted for review",
            "complete": "completed",
            "fail": "failed",
            "escalate": "escalations",
            "answer": "escalations answered",
            "release": "released",
            "cancel": "cancelled",
        }.get(verb)
    if e.kind == "approval":
        return "approved" if e.subkind == "approved" else "rejected"
    if e.kind == "budget" and e.subkind in ("soft", "hard"):
        return f"budget {e.subkind} limits crossed"
    return {
        "claimed": "claims",
        "log": "logs",
        "usage": "usage records",
        "checkpoint": "checkpoints",
        "reopened": "reopened",
        "plan": "plans posted",
        "created": "tasks created",
        "assigned": "reassignments",
        "priority": "priority changes",
        "lease_expired": "leases expired",
    }.get(e.kind)


def summarise(deck: Deck, board: str, cursor: int) -> Summary:
    """Count the events after `cursor` on `board`."""
    summary = Summary(board)
    for e in events_after(deck, board, cursor):
        if e.auth:
            summary.proofs[e.auth] += 1
        category = _category(e)
        if category is None:
            continue
        summary.counts[category] += 1
        summary.per_agent.setdefault(e.actor, Counter())[category] += 1
        if e.kind == "log":
            summary.logs[e.subkind] += 1
        if e.kind == "usage":
            summary.tokens += int(e.data.get("tokens_in", 0)) + int(e.data.get("tokens_out", 0))
            summary.cost_usd += float(e.data.get("cost_usd", 0.0))
    return summary


_ORDER = (
    "plans posted",
    "tasks created",
    "claims",
    "logs",
    "usage records",
    "checkpoints",
    "completed",
    "submitted for review",
    "approved",
    "rejected",
    "escalations",
    "escalations answered",
    "failed",
    "reopened",
    "released",
    "reassignments",
    "priority changes",
    "leases expired",
    "cancelled",
    "budget soft limits crossed",
    "budget hard limits crossed",
)


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """`n` with its noun, singular or plural: `1 turn`, `2 turns`, `1,200 tokens`. (The CLI's
    `output.plural` is the same; the demo does not import the CLI package.)"""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def render(summary: Summary) -> str:
    """Plain text for the terminal: totals, per-agent counts, and any errors."""
    processes = plural(summary.processes, "agent process", "agent processes")
    lines = [
        f"agentdeck demo on board {summary.board}: {processes}, {plural(summary.turns, 'turn')}"
    ]
    if summary.first_change_s is not None:
        lines.append(f"  first change on the board after {summary.first_change_s:.2f} s")
    for name in _ORDER:
        if summary.counts[name]:
            extra = ""
            if name == "logs":
                extra = " (" + ", ".join(f"{k} {v}" for k, v in sorted(summary.logs.items())) + ")"
            if name == "usage records":
                extra = f" ({plural(summary.tokens, 'token')}, ${summary.cost_usd:.2f})"
            lines.append(f"  {name:<28} {summary.counts[name]}{extra}")
    if summary.proofs:
        proofs = ", ".join(f"{how} {n}" for how, n in sorted(summary.proofs.items()))
        lines.append(f"  {'events proved by':<28} {proofs}")
    lines.append("  per agent:")
    for actor in sorted(summary.per_agent):
        counts = summary.per_agent[actor]
        parts = ", ".join(f"{name} {counts[name]}" for name in _ORDER if counts[name])
        lines.append(f"    {actor:<12} {parts}")
    if summary.errors:
        lines.append(f"  errors ({len(summary.errors)}):")
        lines += [f"    {error}" for error in summary.errors]
    else:
        lines.append("  errors: none")
    return "\n".join(lines)
