"""A realistic 500-task board for measuring MCP answer sizes (the budget test and
tests/bench/mcp_sizes.py build the same one).

Titles of a few words, multi-paragraph descriptions of 1,000 to 3,000 characters, criteria,
skills, dependencies, tasks in every column (done with results, in progress with logs and
a doing line, in review, escalated, failed, ready, blocked, cancelled), budgets on the
board, the agents and some tasks, usage, and messages in the agents' inboxes. Built with
one `Deck.plan` and the ordinary verbs, seeded, so every run builds the same board.
"""

from __future__ import annotations

import random

from agentdeck.core import Deck

BOARD = "BIG"
TASKS = 500
HUMAN, LEAD, AGENT = "ann", "sup", "gen"
WORKERS = ("be", "fe", "ops", "qa")
SKILLS = ("backend", "frontend", "python", "ops", "docs", "testing")

_VOCABULARY = (
    "migration schema endpoint cache invalidation retry queue worker token session login "
    "payment invoice export import parser renderer layout accessibility latency timeout "
    "index query transaction lock replica backup restore metrics dashboard alert webhook "
    "upload storage bucket thumbnail search ranking snippet pagination cursor feature flag "
    "rollout canary config secret rotation audit log tracing span deploy pipeline build "
    "artifact release changelog documentation tutorial onboarding email template locale"
)
_WORDS = tuple(_VOCABULARY.split())


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _paragraphs(rng: random.Random, low: int, high: int) -> str:
    """Paragraphs of sentences until the text is between `low` and `high` characters."""
    target = rng.randint(low, high)
    paragraphs: list[str] = []
    size = 0
    while size < target:
        paragraph = " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:high]


def _title(rng: random.Random, i: int) -> str:
    verb = rng.choice(("Add", "Fix", "Refactor", "Document", "Speed up", "Test", "Migrate"))
    return f"{verb} the {rng.choice(_WORDS)} {rng.choice(_WORDS)} ({i})"


def build(deck: Deck, tasks: int = TASKS, seed: int = 14) -> str:
    """Create the board `BIG` on `deck` and fill it; returns its key."""
    rng = random.Random(seed)
    deck.create_board(
        BOARD, "Big product launch", actor=HUMAN, lead=LEAD, goal=_paragraphs(rng, 200, 400)
    )
    deck.add_agent(AGENT, actor=HUMAN, board=BOARD, skills=list(SKILLS))
    for worker in WORKERS:
        deck.add_agent(worker, actor=HUMAN, board=BOARD, skills=rng.sample(SKILLS, 3))
    specs = []
    for i in range(tasks):
        spec: dict[str, object] = {
            "ref": f"t{i}",
            "title": _title(rng, i),
            "description": _paragraphs(rng, 1000, 3000),
            "criteria": _paragraphs(rng, 150, 500),
            "priority": rng.randint(0, 4),
            "skills": rng.sample(SKILLS, rng.randint(0, 2)),
            "estimate_hours": rng.choice((1, 2, 4, 8)),
        }
        if i >= 300 and rng.random() < 0.6:  # the later tasks wait on earlier ones
            spec["blocked_by"] = [f"t{j}" for j in rng.sample(range(300), rng.randint(1, 3))]
        specs.append(spec)
    made = deck.plan(specs, actor=LEAD, board=BOARD)
    ready = [t.key for t in made if not t.blocked_by]
    rng.shuffle(ready)
    team = (AGENT, *WORKERS)

    def take(count: int) -> list[tuple[str, str]]:
        """`count` ready tasks, each claimed by a worker (round robin)."""
        taken = []
        for n in range(count):
            key, who = ready.pop(), team[n % len(team)]
            deck.claim(who, key=key)
            deck.doing(who, f"working on {_sentence(rng)}", key=key)
            for _ in range(rng.randint(2, 6)):
                kind = rng.choice(("action", "tool_call", "decision", "observation"))
                deck.log(key, _sentence(rng), actor=who, kind=kind, data={"step": n})
            deck.record_usage(
                key, actor=who, tokens_in=rng.randint(1000, 90000), tokens_out=2000, model="m1"
            )
            taken.append((key, who))
        return taken

    for key, who in take(150):
        deck.log(key, "pytest: all passed", actor=who, kind="verification")
        deck.complete(key, actor=who, result=_sentence(rng) + " " + _sentence(rng))
    for key, who in take(20):
        deck.submit(key, actor=who, result=_sentence(rng), verified_by="pytest")
    for n, (key, _who) in enumerate(take(10)):  # rejected: notes in the agent's inbox
        deck.submit(key, actor=_who, result=_sentence(rng), verified_by="pytest")
        deck.reject(key, actor=HUMAN, notes=_paragraphs(rng, 100, 400) + f" ({n})")
    for key, who in take(10):
        deck.escalate(key, actor=who, reason=_sentence(rng))
    for key, who in take(10):
        deck.fail(key, actor=who, reason=_sentence(rng))
    take(40)  # in progress
    for key in ready[:5]:
        deck.cancel(key, actor=HUMAN, reason="out of scope")
    for key in ready[5:25]:  # assigned: a message in the assignee's inbox
        deck.assign(key, AGENT if rng.random() < 0.5 else rng.choice(WORKERS), actor=HUMAN)
    deck.set_budget("tokens", actor=HUMAN, board=BOARD, soft=50_000_000, hard=90_000_000)
    deck.set_budget("cost_usd", actor=HUMAN, board=BOARD, soft=500, hard=1000)
    for who in team:
        deck.set_budget("tokens", actor=HUMAN, board=BOARD, scope="agent", subject=who, soft=9e6)
    for key in ready[25:40]:
        deck.set_budget("tokens", actor=HUMAN, board=BOARD, scope="task", subject=key, hard=5e5)
    return BOARD
