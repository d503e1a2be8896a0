"""The sample boards: realistic, genuine lifecycle histories that import cleanly, show every
board column, and are exactly what `python -m agentdeck.tui.demo.samples` writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck
from agentdeck.core.models import COLUMNS, LOG_KINDS
from agentdeck.tui.demo.samples import SAMPLE_DIR, generate
from agentdeck.tui.demo.stories import story

BOARDS = ("website", "database", "research")
ROOT = Path(__file__).resolve().parents[2]


def sample(slug: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLE_DIR / f"{slug}.json").read_text(encoding="utf-8"))
    return doc


@pytest.mark.parametrize("slug", BOARDS)
def test_sample_imports_with_every_column_and_a_warm_gauge(tmp_path: Path, slug: str) -> None:
    """Imported (with time rebased to now), the board has tasks in all six columns, a team
    with skills, and one budget gauge past its soft limit."""
    assert (SAMPLE_DIR / f"{slug}.json").stat().st_size < 1_500_000
    doc = sample(slug)
    with Deck.open(tmp_path / "board.db", create=True) as deck:
        board = deck.import_board(doc, actor="someone", rebase_time=True)
        counts = deck.counts(board.key)
        assert all(counts.by_column.get(c, 0) > 0 for c in COLUMNS), counts.by_column
        assert 25 <= counts.total <= 40
        team = deck.list_agents(board.key)
        agents = [a for a in team if a.kind == "agent" and a.name != board.lead]
        assert 4 <= len(agents) <= 6 and all(a.skills for a in agents)
        assert any(a.kind == "human" for a in team) and board.lead
        levels = {(b.metric, b.level) for b in deck.budget_status(board.key)}
        assert any(level == "warn" for _, level in levels), levels
        newest = max(e.created_at for e in deck.events_since(0, board=board.key, limit=100_000))
        assert abs((deck.now() - newest).total_seconds()) < 3600  # history ends about now


@pytest.mark.parametrize("slug", BOARDS)
def test_sample_history_has_every_lifecycle_event(slug: str) -> None:
    """Weeks of genuine events: every log kind, every move of the lifecycle, usage per model,
    checkpoints with shas, notes on reviews, answered escalations, a reopened failure, an
    expired lease and a soft budget warning."""
    doc = sample(slug)
    events = doc["events"]
    kinds = {e["kind"] for e in events}
    assert kinds >= {
        "created", "plan", "claimed", "status", "approval", "reopened", "assigned",
        "lease_expired", "log", "usage", "checkpoint", "budget", "message", "priority",
    }  # fmt: skip
    assert {e["subkind"] for e in events if e["kind"] == "log"} == set(LOG_KINDS)
    verbs = {e["data"].get("verb") for e in events if e["kind"] == "status"}
    assert verbs >= {"complete", "submit", "fail", "escalate", "answer", "cancel"}
    approvals = [e for e in events if e["kind"] == "approval"]
    assert {e["subkind"] for e in approvals} == {"approved", "rejected"}
    assert all(e["text"] for e in approvals if e["subkind"] == "rejected")
    assert any(e["kind"] == "budget" and e["subkind"] == "soft" for e in events)
    assert len({u["model"] for u in doc["usage"]}) >= 3
    assert all(len(c["sha"]) == 40 and c["files"] for c in doc["checkpoints"])
    days = (events[-1]["created_at"][:10], events[0]["created_at"][:10])
    assert days[0] > days[1]
    tool_calls = [e for e in events if e["subkind"] == "tool_call"]
    assert all(e["data"].get("command") for e in tool_calls)


def test_website_sample_carries_hostile_text() -> None:
    """Literal Rich markup in a title and an ANSI escape in a log, for the safety screenshots."""
    doc = sample("website")
    assert any("[bold]" in t["title"] for t in doc["tasks"])
    assert any("\x1b[" in e["text"] for e in doc["events"] if e["kind"] == "log")


def test_sample_is_what_the_generator_writes() -> None:
    """`python -m agentdeck.tui.demo.samples` is reproducible: regenerating gives the committed file
    (if this fails after a change to core or the stories, regenerate and commit the boards)."""
    assert generate(story("research")) == sample("research")


def test_demo_modules_import_no_terminal_library() -> None:
    """The agent processes load core and the demo roles only: no textual, rich or plotext."""
    code = (
        "import sys, agentdeck.tui.demo.agent, agentdeck.tui.demo.run, agentdeck.tui.demo.samples, agentdeck.tui.demo.team\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'plotext', 'textual_plotext'))\n"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
