"""Who is on a demo team and how each member is built: one role per OS process.

A `Role` is plain JSON-ready data so the orchestrator can hand it to a child process; `build`
turns it into the member's generator of turns, with an RNG seeded by (seed, index).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from agentdeck.core import Deck
from agentdeck.tui.demo.reviewer import Reviewer, ReviewerHabits
from agentdeck.tui.demo.stories import Member, Story
from agentdeck.tui.demo.supervisor import Supervisor, SupervisorHabits
from agentdeck.tui.demo.worker import Worker, WorkerHabits

MAX_WORKERS = 12


@dataclass(frozen=True)
class Role:
    """One simulated team member: `kind` is supervisor, worker or reviewer."""

    kind: str
    name: str
    index: int
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Role:
        return cls(raw["kind"], raw["name"], int(raw["index"]), dict(raw.get("options", {})))


def rng_for(seed: int, index: int) -> random.Random:
    """The RNG of team member `index`: the same seed always replays the same choices."""
    return random.Random(seed * 1_000_003 + index)


def worker_members(story: Story, count: int) -> list[Member]:
    """The first `count` specialists; past the roster, numbered copies (`iris-2`) join."""
    members = list(story.members)
    out = []
    for i in range(count):
        base = members[i % len(members)]
        round_ = i // len(members)
        out.append(base if round_ == 0 else replace(base, name=f"{base.name}-{round_ + 1}"))
    return out


def demo_team(story: Story, workers: int, *, interactive: bool) -> list[Role]:
    """The demo's processes: the lead, `workers` specialists, and a reviewing teammate."""
    members = worker_members(story, workers)
    incidents = {1: "escalate", 2: "fail"}
    roles = [
        Role(
            "supervisor",
            story.lead.name,
            0,
            {
                "team": [m.name for m in members],
                "team_skills": [list(m.skills) for m in members],
            },
        )
    ]
    roles += [
        Role("worker", m.name, i + 1, {"first_incident": incidents.get(i, "")})
        for i, m in enumerate(members)
    ]
    roles.append(
        Role("reviewer", story.reviewer.name, workers + 1, {"patience": 8 if interactive else 2})
    )
    return roles


def member_named(story: Story, name: str) -> Member:
    for member in worker_members(story, MAX_WORKERS):
        if member.name == name:
            return member
    raise KeyError(name)


def build(role: Role, deck: Deck, story: Story, seed: int) -> Iterator[float]:
    """The demo behaviour of `role` as a generator of turns (each yields its pause)."""
    rng = rng_for(seed, role.index)
    opts = role.options
    if role.kind == "supervisor":
        habits = SupervisorHabits(
            batches=[story.demo_plan],
            followups=True,
            team=list(opts.get("team", ())),
            team_skills=list(opts.get("team_skills", ())),
        )
        return Supervisor(deck, story, rng, habits).run()
    if role.kind == "worker":
        member = member_named(story, role.name)
        worker_habits = WorkerHabits(
            fail_rate=0.08,
            escalate_rate=0.35,
            review_rate=0.35,
            first_incident=opts.get("first_incident", ""),
            gpu="benchmarking" in member.skills,
        )
        return Worker(deck, story, member, rng, worker_habits).run()
    if role.kind == "reviewer":
        reviewer_habits = ReviewerHabits(humans=[role.name], patience=int(opts.get("patience", 2)))
        return Reviewer(deck, story, rng, reviewer_habits).run()
    raise ValueError(f"unknown role kind {role.kind!r}")
