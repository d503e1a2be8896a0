"""The scripted content of each sample board: its team, its plans, and how each skill's work reads.

A `Story` is plain data. The simulated roles (worker, supervisor, reviewer) turn it into real
`Deck` calls, both when `python -m agentdeck.tui.demo.samples` writes the sample boards' history and when
`agentdeck demo` runs a live team on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Price per million tokens (input, output) in USD, for the usage the simulated agents record.
PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-haiku-3.5": (0.8, 4.0),
    "gpt-4.1": (2.0, 8.0),
    "o3": (2.0, 8.0),
}


@dataclass(frozen=True)
class Member:
    """One member of a board's team: a human, the lead, or a specialised agent."""

    name: str
    role: str
    skills: tuple[str, ...] = ()
    model: str = "claude-sonnet-4"


@dataclass(frozen=True)
class Spec:
    """One task as a supervisor plans it; `after` names the refs it waits on."""

    ref: str
    title: str
    skills: tuple[str, ...]
    description: str = ""
    criteria: str = ""
    priority: int = 2
    approval: bool = False
    after: tuple[str, ...] = ()
    estimate: float | None = None
    assignee: str | None = None  # the lead hands it to this agent when planning

    def to_plan(self, keys: Mapping[str, str]) -> dict[str, Any]:
        """The `Deck.plan` entry; refs already on the board are replaced by their keys."""
        return {
            "ref": self.ref,
            "title": self.title,
            "description": self.description,
            "criteria": self.criteria,
            "priority": self.priority,
            "skills": list(self.skills),
            "requires_approval": self.approval,
            "estimate_hours": self.estimate,
            "blocked_by": [keys.get(ref, ref) for ref in self.after],
            "assignee": self.assignee,
        }


@dataclass(frozen=True)
class Craft:
    """How one skill's work reads in a task log: what it is doing, the tools it runs, what it
    decides and notices, how it verifies, and which files its commits touch."""

    doing: tuple[str, ...]
    tool_calls: tuple[tuple[str, str], ...]  # (command, what came back)
    actions: tuple[str, ...]
    decisions: tuple[str, ...]
    observations: tuple[str, ...]
    verifications: tuple[str, ...]
    failed_checks: tuple[str, ...]
    commits: tuple[str, ...]
    files: tuple[str, ...]


@dataclass(frozen=True)
class Story:
    """A board's whole script: team, the plans of its history, the demo's plan, and flavour."""

    slug: str
    key: str
    name: str
    goal: str
    humans: tuple[Member, Member]  # the owner (the user in the demo), then a reviewing teammate
    lead: Member
    members: tuple[Member, ...]
    phases: tuple[tuple[Spec, ...], ...]  # plans posted during the sample's history
    demo_plan: tuple[Spec, ...]  # the plan the supervisor posts when the demo starts
    followups: tuple[Spec, ...]  # templates with {area}, posted when the backlog runs low
    areas: tuple[str, ...]
    crafts: Mapping[str, Craft]
    escalations: Mapping[str, str]  # reason -> the human's answer
    rejections: tuple[str, ...]
    approvals: tuple[str, ...]
    failures: tuple[str, ...]
    reopen_notes: tuple[str, ...]
    scripted: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    scripted_escalation: Mapping[str, str] = field(default_factory=dict)  # ref -> reason
    failing_refs: tuple[str, ...] = ()  # tasks whose first attempt fails verification
    crash_ref: str = ""  # the task whose first holder stops answering (its lease expires)
    cancel_ref: str = ""  # the task the owner cancels as out of scope
    cancel_reason: str = "Out of scope for this release."
    budgets: tuple[tuple[str, str, str, float | None, float | None], ...] = ()
    start: datetime = datetime(2025, 5, 5, 9, 0, tzinfo=UTC)
    days: float = 19.0
    due_days: float = 28.0
    lease_seconds: int = 14400

    @property
    def owner(self) -> Member:
        return self.humans[0]

    @property
    def reviewer(self) -> Member:
        return self.humans[1]

    def ref_keys(self) -> dict[str, str]:
        """The key each history task gets: plans number tasks in the order they list them."""
        specs = [spec for phase in self.phases for spec in phase]
        return {spec.ref: f"{self.key}-{i}" for i, spec in enumerate(specs, start=1)}

    def craft_for(self, skills: tuple[str, ...] | list[str]) -> Craft:
        """The craft of a task's first required skill that has one (a generalist's otherwise)."""
        for skill in skills:
            if skill in self.crafts:
                return self.crafts[skill]
        return next(iter(self.crafts.values()))

    def escalation_answer(self, reason: str) -> str:
        if reason.startswith("budget:"):
            return "I raised the budget; carry on, and keep the prompts short."
        return self.escalations.get(reason, "Go ahead with your best judgement and note it.")


_FIELD = re.compile(r"\{(\w+)\}")


def fill(template: str, **values: str) -> str:
    """Substitute `{name}` placeholders that have a value; other braces stay as written."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def stories() -> dict[str, Story]:
    """Every sample board's story by slug: website, database, research."""
    from agentdeck.tui.demo import story_database, story_research, story_website

    return {s.slug: s for s in (story_website.STORY, story_database.STORY, story_research.STORY)}


def story(slug: str) -> Story:
    from agentdeck.core.errors import ValidationError

    found = stories()
    if slug not in found:
        raise ValidationError(f"unknown sample board {slug!r}; boards: {', '.join(found)}")
    return found[slug]
