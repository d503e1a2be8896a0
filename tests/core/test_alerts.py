"""Which events raise a Needs-human alert, and what of the agent's text reaches it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agentdeck.core.alerts import alert_for, one_line
from agentdeck.core.models import Event

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def event(kind: str, data: dict[str, Any], text: str = "", auth: str = "token") -> Event:
    return Event(7, "WEB", "WEB-3", "coder", kind, data.get("to", ""), text, data, AT, auth)


def test_moves_into_needs_human_and_failures_alert() -> None:
    cases = {
        "review": event("status", {"from": "in_progress", "to": "review", "verb": "submit"}),
        "escalation": event("status", {"to": "escalated", "verb": "escalate"}),
        "budget": event("status", {"to": "escalated", "reason": "budget", "metric": "tokens"}),
        "failure": event("status", {"to": "failed", "verb": "fail"}),
    }
    for reason, raised in cases.items():
        alert = alert_for(raised)
        assert alert is not None and alert.reason == reason and alert.task == "WEB-3"
    assert alert_for(cases["review"]).urgent is False  # type: ignore[union-attr]
    assert alert_for(cases["budget"]).urgent is True  # type: ignore[union-attr]


def test_other_events_and_imported_history_do_not_alert() -> None:
    assert alert_for(event("status", {"to": "pending", "verb": "answer"})) is None
    assert alert_for(event("status", {"to": "done", "verb": "complete"})) is None
    assert alert_for(event("approval", {"to": "done", "verb": "approve"})) is None
    assert alert_for(event("claimed", {"to": "in_progress"})) is None
    assert alert_for(event("status", {"to": "review"}, auth="imported")) is None


def test_agent_text_reaches_an_alert_as_one_safe_clipped_line() -> None:
    alert = alert_for(event("status", {"to": "review"}, "line one\n\x1b[31mred\x07 \u202eevil"))
    assert alert is not None and alert.text == "line one [31mred evil"
    assert len(one_line("x" * 1000)) == 240 and one_line("x" * 1000).endswith("…")
