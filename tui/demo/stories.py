"""The scripted content of each sample board: its team, its plans, and how each skill's work reads.

A `Story` is plain data. The simulated roles (worker, supervisor, reviewer) turn it into real
`Deck` calls, both when `python -m agentdeck.tui.demo.samples` writes the sample boards' history and when
`agentdeck demo` runs a live team on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
class Lines:
    """What the team writes about one task, kept with the task so nothing written about it can
    come from another task: log lines (in the order the work happens), the evidence, the
    result, an escalation with the human's answer, a review's rejection note, a failed check
    and the reason an attempt gives up, and the note that reopens it. Empty fields are
    derived from the task's own title and criteria (`Story.texts`)."""

    doing: tuple[str, ...] = ()  # what the agent is doing now, shown on the roster
    log: tuple[tuple[str, str], ...] = ()  # (kind, text); a tool call is "command\noutput"
    first: tuple[tuple[str, str], ...] = ()  # logged before anything else on the first attempt
    check: str = ""  # the evidence that the criteria are met
    result: str = ""
    ask: str = ""  # an escalation's question (the task escalates on its first attempt)
    reply: str = ""  # the human's answer to `ask`
    always_ask: bool = False  # escalate on every first attempt, not by chance
    before_ask: int = 1  # how many `log` lines come before the question (the rest after the answer)
    redo: str = ""  # a reviewer's note when rejecting it
    miss: str = ""  # a verification that fails
    fail: str = ""  # why a failing attempt gives up
    reopen: str = ""  # the human's note when reopening it
    note: str = ""  # what its holder discovers and adds under the criteria (a criteria note)
    comment: str = ""  # its holder's comment when handing it in for review
    review: str = ""  # the reviewing human's comment on the review, before deciding


@dataclass(frozen=True)
class Texts:
    """Every text the demo may write about one task: its `Lines` with the gaps filled from the
    task's own title and criteria. `generic` texts are the skill's deliberately generic
    ones (tool runs, commit messages) that any task of that skill may share."""

    doing: tuple[str, ...]
    log: tuple[tuple[str, str], ...]
    first: tuple[tuple[str, str], ...]
    check: str
    result: str
    ask: str
    reply: str
    always_ask: bool
    before_ask: int
    redo: str
    miss: str
    fail: str
    reopen: str
    note: str
    comment: str
    review: str
    tool_calls: tuple[tuple[str, str], ...]  # generic: the skill's
    commits: tuple[str, ...]  # generic templates: the skill's, filled with this task
    files: tuple[str, ...]  # generic: the skill's

    def own(self) -> set[str]:
        """The texts that belong to this task alone (not the generic ones)."""
        texts = {*self.doing, self.check, self.result, self.ask, self.reply, self.redo}
        texts |= {self.miss, self.fail, self.reopen, self.note, self.comment, self.review}
        texts |= {text for _, text in (*self.log, *self.first)}
        return texts - {""}


@dataclass(frozen=True)
class Spec:
    """One task as a supervisor plans it; `after` names the refs it waits on, `lines` what the
    team writes about it."""

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
    lines: Lines = field(default_factory=Lines)
    type: str = "task"  # task, bug, feature, epic or chore
    labels: tuple[str, ...] = ()

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
            "type": self.type,
            "labels": list(self.labels),
        }


@dataclass(frozen=True)
class Craft:
    """What any task of one skill may share, deliberately generic (marked so by living here
    rather than with a task): what the agent is doing between steps, the routine tools it
    runs, commit-message templates ({title}, {key}) and the files commits touch. Anything
    about one task lives in that task's `Lines`."""

    doing: tuple[str, ...]
    tool_calls: tuple[tuple[str, str], ...]  # (command, what came back)
    commits: tuple[str, ...]
    files: tuple[str, ...]


# Said about any task, by design: the framework's own lines and the humans' plain approvals.
GENERIC_REOPEN = "Reopening it: try again from the notes above."
BUDGET_ANSWER = "I raised the budget; carry on, and keep the prompts short."
ANY_ANSWER = "Go ahead with your best judgement and note it."  # a question the story never asks


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
    approvals: tuple[str, ...]  # generic: a human's plain approval fits any task
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

    def followup(self, spec: Spec, area: str) -> Spec:
        """A follow-up template made concrete for one area: its ref, title and lines name it."""
        return replace(
            spec,
            ref=f"{spec.ref}@{area}",
            title=fill(spec.title, area=area),
            description=fill(spec.description, area=area),
            criteria=fill(spec.criteria, area=area),
            lines=_fill_lines(spec.lines, area),
        )

    def specs(self) -> list[Spec]:
        """Every task this story can put on its board: the history's plans, the demo's plan
        and each follow-up in each area."""
        out = [spec for phase in self.phases for spec in phase] + list(self.demo_plan)
        out += [self.followup(spec, area) for spec in self.followups for area in self.areas]
        return out

    def spec_for(self, title: str) -> Spec | None:
        """The planned task with this title, if the story has one."""
        return _by_title(self).get(title)

    def texts_for(self, title: str, skills: tuple[str, ...], criteria: str) -> tuple[str, Texts]:
        """A task's ref in the story ("" if the story never planned it) and every text the demo
        may write about it: the story's entry for this title, or one made of the task's own
        fields."""
        spec = self.spec_for(title) or Spec(ref="", title=title, skills=skills, criteria=criteria)
        return spec.ref, self.texts(spec)

    def texts(self, spec: Spec) -> Texts:
        """Everything the demo may write about `spec`: its own lines, gaps filled from its own
        title and criteria, and its skill's generic tool runs and commit templates."""
        craft = self.craft_for(spec.skills)
        own = spec.lines
        wants = criteria_of(spec.criteria) or [spec.title]
        # What the agent itself can get wrong: not a human's sign-off.
        work = [c for c in wants if not c.lower().startswith("approved")] or wants
        log = own.log or tuple(("action", f"Working towards the criterion “{c}”") for c in wants)
        return Texts(
            doing=own.doing or (f"Working on: {spec.title}",),
            log=log,
            first=own.first,
            check=own.check or f"Checked against the criteria: {'; '.join(wants)}",
            result=own.result or f"Done: {'; '.join(wants)}",
            ask=own.ask,
            reply=own.reply,
            always_ask=own.always_ask,
            before_ask=own.before_ask,
            redo=own.redo
            or f"Not yet: the evidence does not show “{work[0]}”; add it and resubmit.",
            miss=own.miss or f"Check failed: “{work[-1]}” is not met yet",
            fail=own.fail or f"Stopping this attempt: “{work[-1]}” needs another approach",
            reopen=own.reopen,
            note=own.note,
            comment=own.comment or f"Ready for review: “{spec.title}”; the evidence is in the log",
            review=own.review or f"Reviewing “{spec.title}” against its criteria now",
            tool_calls=craft.tool_calls,
            commits=tuple(fill(c, title=spec.title) for c in craft.commits),
            files=craft.files,
        )


def criteria_of(criteria: str) -> list[str]:
    """A task's success criteria as a list, without the Markdown bullets."""
    return [
        line.strip().removeprefix("- ").strip() for line in criteria.splitlines() if line.strip()
    ]


def _fill_lines(lines: Lines, area: str) -> Lines:
    """`lines` with `{area}` filled in every text."""

    def f(text: str) -> str:
        return fill(text, area=area)

    return replace(
        lines,
        doing=tuple(f(t) for t in lines.doing),
        log=tuple((k, f(t)) for k, t in lines.log),
        first=tuple((k, f(t)) for k, t in lines.first),
        check=f(lines.check),
        result=f(lines.result),
        ask=f(lines.ask),
        reply=f(lines.reply),
        redo=f(lines.redo),
        miss=f(lines.miss),
        fail=f(lines.fail),
        reopen=f(lines.reopen),
        note=f(lines.note),
        comment=f(lines.comment),
        review=f(lines.review),
    )


_TITLES: dict[str, dict[str, Spec]] = {}


def _by_title(story: Story) -> dict[str, Spec]:
    if story.slug not in _TITLES:
        _TITLES[story.slug] = {spec.title: spec for spec in story.specs()}
    return _TITLES[story.slug]


def with_lines(
    lines: Mapping[str, Lines], *plans: tuple[Spec, ...]
) -> tuple[tuple[Spec, ...], ...]:
    """Each plan with every task's `Lines` from `lines` (by ref). A ref in `lines` that no
    plan holds is a mistake in the story, so it raises."""
    refs = {spec.ref for plan in plans for spec in plan}
    if unknown := set(lines) - refs:
        raise KeyError(f"lines for tasks no plan has: {', '.join(sorted(unknown))}")
    return tuple(
        tuple(replace(s, lines=lines[s.ref]) if s.ref in lines else s for s in plan)
        for plan in plans
    )


def with_tags(
    tags: Mapping[str, tuple[str, tuple[str, ...]]], *plans: tuple[Spec, ...]
) -> tuple[tuple[Spec, ...], ...]:
    """Each plan with every task's type and labels from `tags` (ref -> (type, labels)), the
    way the lead files them; like `with_lines`, a ref no plan holds raises."""
    refs = {spec.ref for plan in plans for spec in plan}
    if unknown := set(tags) - refs:
        raise KeyError(f"tags for tasks no plan has: {', '.join(sorted(unknown))}")
    return tuple(
        tuple(
            replace(s, type=tags[s.ref][0], labels=tags[s.ref][1]) if s.ref in tags else s
            for s in plan
        )
        for plan in plans
    )


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
