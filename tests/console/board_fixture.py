"""A small, realistic board for TUI tests and snapshots, built through `Deck` with a clock
that only moves when told, so every timestamp (and every snapshot) is the same each run.

Board WEB has a lead and six workers, two humans, 24 tasks spread over every column, usage,
budgets (one task over its limit), a stale lease, an escalation, two reviews and a long log.
The deck that builds it minted every member's token, so it acts as each of them by token
(`tokens` hands those tokens on to the decks tests open later).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentdeck.core import Deck, identity

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HUMAN = "ann"


class FrozenClock:
    """A clock that stands still until advanced."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


PLAN = [
    # ref, title, skills, priority, blocked_by
    ("repo", "Set up the repository and CI pipeline", ["devops"], 1, []),
    ("schema", "Design the content schema for posts and docs", ["backend"], 1, []),
    ("cms", "Choose a headless CMS and wire the preview mode", ["backend"], 2, ["schema"]),
    ("staging", "Stand up the staging environment", ["devops"], 1, ["repo"]),
    ("tokens", "Turn the style guide into design tokens", ["frontend"], 2, []),
    ("migrate", "Migrate 240 old blog posts with redirects", ["backend"], 3, ["schema"]),
    ("blog", "Build the blog index page with pagination", ["frontend"], 1, ["tokens", "cms"]),
    (
        "signup",
        "Implement the sign-up API with email verification",
        ["backend", "python"],
        0,
        ["schema"],
    ),
    ("cdn", "Configure CDN caching rules for static assets", ["devops"], 2, ["staging"]),
    ("a11y", "Accessibility audit of the header and navigation", ["qa"], 2, ["tokens"]),
    ("newsletter", "Add the newsletter form to the footer", ["frontend"], 2, ["tokens"]),
    ("reset", "Password reset emails", ["backend", "python"], 1, ["schema"]),
    ("dns", "Point the new domain at the load balancer", ["devops"], 0, ["staging"]),
    ("docsearch", "Full-text search for the docs section", ["frontend"], 2, ["cms"]),
    ("pricing", "Pricing page with plan comparison table", ["frontend"], 1, ["tokens"]),
    ("og", "Add OpenGraph and Twitter card tags", ["frontend"], 3, ["blog"]),
    ("loadtest", "Load test the sign-up API at 500 req/s", ["qa"], 2, []),
    ("cookies", "Cookie consent banner that respects Do Not Track", ["frontend"], 2, []),
    ("launch", "Launch checklist and go/no-go review", [], 0, ["dns", "signup", "blog", "pricing"]),
    ("docsver", "Versioned docs with a version switcher", ["frontend"], 3, ["docsearch"]),
    ("analytics", "Sign-up funnel analytics dashboard", ["backend"], 3, ["signup"]),
    ("l10n", "Localize the homepage into German and French", ["frontend"], 4, ["pricing"]),
    ("avif", "Upgrade the image pipeline to AVIF", ["devops"], 3, []),
    ("jquery", "Remove jQuery from the legacy docs theme", ["frontend"], 4, []),
]

AGENTS = [
    ("planner", [], "lead"),
    ("fe-1", ["frontend"], "frontend developer"),
    ("fe-2", ["frontend"], "frontend developer"),
    ("be-1", ["backend", "python"], "backend developer"),
    ("ops-1", ["devops"], "infrastructure"),
    ("qa-1", ["qa"], "quality assurance"),
]

BLOG_LOG = [
    ("decision", "Use cursor-based pagination: the CMS API returns opaque cursors"),
    ("tool_call", "read_file src/pages/blog/index.tsx"),
    ("observation", "The existing list renders all 240 posts at once; first paint 2.8 s"),
    ("action", "Split PostList into PostCard and Paginator components"),
    ("tool_call", "npm run test -- PostList"),
    ("observation", "3 snapshot tests fail: card dates now use the locale formatter"),
    ("action", "Updated the snapshots after checking the dates by hand"),
    ("tool_call", "npm run lint"),
    ("decision", "Prefetch the next page on hover instead of on scroll"),
    ("action", "Added skeleton cards while a page loads"),
    ("tool_call", "npx playwright test blog.spec.ts"),
    ("observation", "Back button restores the page number via the URL query"),
]


def _usage(
    deck: Deck, key: str, agent: str, tokens: int, cost: float, cpu: float = 0.0, gpu: float = 0.0
) -> None:
    deck.record_usage(
        key,
        actor=agent,
        tokens_in=tokens * 3 // 4,
        tokens_out=tokens // 4,
        cost_usd=cost,
        cpu_seconds=cpu,
        gpu_seconds=gpu,
        model="claude-sonnet",
    )


def _finish(
    deck: Deck, clock: FrozenClock, key: str, agent: str, result: str, *, verified: bool = True
) -> None:
    deck.claim(agent, key=key)
    clock.advance(minutes=10)
    deck.doing(agent, "Working through the success criteria", key=key)
    deck.log(key, "Read the task and the related finished work", actor=agent)
    _usage(deck, key, agent, 42_000, 0.84, cpu=900)
    deck.heartbeat(agent)
    clock.advance(minutes=12)
    if verified:
        deck.log(
            key, "ran the checks named in the criteria: all green", actor=agent, kind="verification"
        )
    deck.complete(key, actor=agent, result=result)


def build_board(deck: Deck, clock: FrozenClock) -> dict[str, str]:
    """Fill `deck` with board WEB; returns the task keys by plan ref."""
    deck.create_board(
        "WEB",
        "Website relaunch",
        actor=HUMAN,
        goal="Ship the new marketing site with blog, docs and sign-up by 17 March",
        due_at=START + timedelta(days=14),
        lead="planner",
        lease_seconds=900,
    )
    deck.add_agent("bob", actor=HUMAN, kind="human")
    for name, skills, role in AGENTS[1:]:
        deck.add_agent(name, actor=HUMAN, skills=skills, role=role, supervisor="planner")
    tasks = deck.plan(
        [
            {
                "ref": ref,
                "title": title,
                "skills": skills,
                "priority": priority,
                "blocked_by": blocked,
                "description": f"{title}. Keep the change small and reviewable; link the pull request.",
                "criteria": "Works on staging; tests cover the happy path and one failure; no console errors.",
                "requires_approval": ref in ("newsletter", "reset"),
                "estimate_hours": 2.0 + priority,
            }
            for ref, title, skills, priority, blocked in PLAN
        ],
        actor="planner",
    )
    keys = {ref: task.key for (ref, *_), task in zip(PLAN, tasks, strict=True)}
    deck.set_budget("cost_usd", actor=HUMAN, soft=25.0, hard=40.0)
    deck.set_budget("tokens", actor=HUMAN, soft=1_500_000, hard=2_000_000)
    deck.set_budget("cpu_hours", actor=HUMAN, hard=20.0)
    deck.set_budget("gpu_hours", actor=HUMAN, soft=4.0, hard=6.0)
    deck.set_budget("cost_usd", actor=HUMAN, scope="agent", subject="be-1", soft=6.0, hard=8.0)

    # Day 1 and 2: the groundwork gets done.
    clock.advance(hours=1)
    _finish(
        deck, clock, keys["repo"], "ops-1", "GitHub Actions runs lint, tests and preview deploys"
    )
    _finish(
        deck, clock, keys["schema"], "be-1", "Post, Doc and Author types with slugs and locales"
    )
    _finish(deck, clock, keys["tokens"], "fe-1", "tokens.json with colour, spacing and type scales")
    clock.advance(hours=20)
    _finish(deck, clock, keys["staging"], "ops-1", "staging.example.dev behind basic auth")
    _finish(deck, clock, keys["cms"], "be-1", "Sanity with draft preview wired to /api/preview")
    _finish(
        deck,
        clock,
        keys["migrate"],
        "be-1",
        "238 posts moved, 2 dropped as duplicates",
        verified=False,
    )
    clock.advance(hours=18)
    _finish(deck, clock, keys["loadtest"], "qa-1", "p99 180 ms at 500 req/s; no errors")

    # Failures.
    for ref, agent, reason in (
        ("avif", "ops-1", "libavif segfaults on the ARM runners; needs a newer base image"),
        ("jquery", "fe-2", "the docs search widget still depends on jQuery UI autocomplete"),
    ):
        deck.claim(agent, key=keys[ref])
        clock.advance(minutes=12)
        deck.log(keys[ref], reason, actor=agent, kind="observation")
        _usage(deck, keys[ref], agent, 30_000, 0.55)
        deck.fail(keys[ref], actor=agent, reason=reason)

    # Waiting on a human: two reviews and an escalation.
    clock.advance(hours=3)
    for ref, agent, result in (
        (
            "newsletter",
            "fe-2",
            "Form posts to the ESP with double opt-in; success and error states styled",
        ),
        ("reset", "be-1", "Signed, single-use reset links that expire after 30 minutes"),
    ):
        deck.claim(agent, key=keys[ref])
        clock.advance(minutes=14)
        deck.log(keys[ref], "ran the unit tests: 31 passed", actor=agent, kind="verification")
        _usage(deck, keys[ref], agent, 90_000, 1.40 if ref == "reset" else 1.10, cpu=1200)
        deck.submit(keys[ref], actor=agent, result=result)
    deck.set_budget("cost_usd", actor=HUMAN, scope="task", subject=keys["reset"], hard=1.0)

    # In progress: work started today.
    clock.advance(hours=2)
    for ref, agent, doing in (
        ("dns", "ops-1", "Checking the registrar API"),
        ("blog", "fe-1", "Writing the pagination component"),
        ("signup", "be-1", "Running the integration tests against staging"),
        ("a11y", "qa-1", "Tabbing through the mega menu with a screen reader"),
        ("cdn", "fe-2", "Reading the CDN cache-control docs"),
    ):
        if ref == "cdn":
            deck.add_agent("ops-2", actor=HUMAN, skills=["devops"], role="infrastructure")
            agent = "ops-2"
        deck.claim(agent, key=keys[ref])
        clock.advance(minutes=2)
        deck.doing(agent, doing, key=keys[ref])
    deck.escalate(
        keys["dns"],
        actor="ops-1",
        reason="I need the registrar credentials for example.com to change the A record",
    )
    for kind, text in BLOG_LOG:
        clock.advance(seconds=47)
        for agent in ("fe-1", "be-1", "qa-1"):
            deck.heartbeat(agent)
        deck.log(keys["blog"], text, actor="fe-1", kind=kind)
    _usage(deck, keys["blog"], "fe-1", 220_000, 4.20, cpu=5400, gpu=1800)
    _usage(deck, keys["a11y"], "qa-1", 35_000, 0.62)
    _usage(deck, keys["cdn"], "ops-2", 12_000, 0.21)
    # Everyone but ops-2 keeps heartbeating: its lease goes stale.
    for _ in range(2):
        clock.advance(minutes=9)
        for agent in ("fe-1", "be-1", "qa-1", "ops-1"):
            deck.heartbeat(agent)
    clock.advance(minutes=1)
    return keys


def tokens(deck: Deck) -> dict[str, str]:
    """Every member's token, as minted by `deck` when it built board WEB."""
    names = [HUMAN, "bob", "ops-2", *(name for name, _, _ in AGENTS)]
    minted = {name: deck.issued_token(name, "WEB") for name in names}
    missing = [name for name, token in minted.items() if token is None]
    assert not missing, f"this deck did not mint a token for {missing}"
    return {name: token for name, token in minted.items() if token is not None}


def save_human_credential(path: Path, token: str, name: str = HUMAN) -> None:
    """File `name`'s token for board WEB of the SQLite file at `path` in the human's credential
    file (the test's own `XDG_CONFIG_HOME`), the way `agentdeck board create` or `login` does:
    a console opened on that file then acts as `name`."""
    identity.save_credential(identity.database_id("", path), "WEB", name, token)


def build_board_file(path: Path) -> dict[str, str]:
    """Build the board in a new SQLite file at `path` (for scripts and manual runs), and save
    the human's credential for it, so `agentdeck console --db PATH` acts as `ann`."""
    clock = FrozenClock()
    with Deck.open(path, create=True, clock=clock) as deck:
        keys = build_board(deck, clock)
        save_human_credential(path, tokens(deck)[HUMAN])
    return keys
