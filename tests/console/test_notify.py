"""Told when needed: the console rings once per task entering Needs human, never at start-up."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp
from agentdeck.tui.console.notify import desktop_protocol, osc
from agentdeck.tui.console.screens.board import BoardScreen
from tests.console.conftest import SIZE, notices, settle, wait_for

pytestmark = pytest.mark.anyio


def capturing(
    app: AgentDeckApp, protocol: str | None = "osc9"
) -> tuple[list[str], list[list[str]]]:
    """Capture what the notifier would write to the terminal and run, instead of doing it."""
    written: list[str] = []
    ran: list[list[str]] = []
    app.notifier.write = written.append
    app.notifier.run = lambda argv: ran.append(list(argv))
    app.notifier.protocol = protocol
    return written, ran


def in_progress(deck: Deck) -> list[tuple[str, str]]:
    return [
        (t.key, t.assignee or "")
        for t in deck.list_tasks("WEB", status="in_progress")
        if t.assignee and not t.lease_stale and (t.lease_expires_at or deck.now()) >= deck.now()
    ]


async def test_a_task_moved_to_review_elsewhere_rings_once(deck: Deck, other: Deck) -> None:
    waiting_already = other.list_tasks("WEB", column="needs_human")
    assert waiting_already, "the fixture board must start with tasks in Needs human"
    app = AgentDeckApp(deck=deck, actor="ann", watch=True)
    written, _ran = capturing(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        await wait_for(pilot, lambda: app.notifier.cursor > 0)
        assert written == [], "tasks already waiting when the console opened must not ring"

        key, agent = in_progress(other)[0]
        other.submit(key, actor=agent, result="Done <@here> \x1b]9;pwned\x07 see *this*")
        await wait_for(pilot, lambda: bool(written))
        # Another, unrelated write: the notifier looks again and must not ring a second time.
        other.set_priority(key, 1, actor="ann")
        await wait_for(pilot, lambda: app.notifier.cursor >= other.max_event_id())
        await settle(pilot)

        assert written.count("\a") == 1
        escapes = [w for w in written if w.startswith("\x1b]9;")]
        assert len(escapes) == 1
        # Agent text cannot end the OSC string early and start another.
        assert escapes[0].count("\x1b") == 1 and escapes[0].count("\x07") == 1
        assert key in escapes[0] and "review" in escapes[0]
        toasts = [n for n in app._notifications if n.title == f"{key} is waiting for review"]
        assert len(toasts) == 1
        assert "\x1b" not in toasts[0].message


async def test_escalation_and_failure_ring_and_can_be_turned_off(deck: Deck, other: Deck) -> None:
    app = AgentDeckApp(deck=deck, actor="ann", watch=True)
    written, ran = capturing(app, protocol=None)
    app.notifier.notify_send = "/usr/bin/notify-send"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.notifier.cursor > 0)
        working = in_progress(other)
        assert len(working) >= 2
        (first, first_agent), (second, second_agent) = working[:2]
        other.escalate(first, actor=first_agent, reason="Which payment provider?")
        other.fail(second, actor=second_agent, reason="tests broke")
        await wait_for(pilot, lambda: app.notifier.cursor >= other.max_event_id())
        await wait_for(pilot, lambda: len(ran) >= 1 or written.count("\a") >= 2)
        await settle(pilot)
        titles = {n.title for n in app._notifications}
        assert f"{first} is escalated: its agent asks a human" in titles
        assert f"{second} failed" in titles
        # No OSC for an unknown terminal: notify-send instead, once per batch, text after `--`.
        assert not [w for w in written if w.startswith("\x1b]")]
        assert 1 <= written.count("\a") == len(ran) <= 2
        assert all(
            argv[:3] == ["/usr/bin/notify-send", "--app-name=agentdeck", "--"] for argv in ran
        )

        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Notifications: turn off" in titles  # the palette holds the switch
        app.toggle_notifications()
        assert not app.notifier.enabled
        before = (list(written), len(ran), len(notices(app)))
        rest = in_progress(other)
        assert rest
        key, agent = rest[0]
        other.submit(key, actor=agent, result="quietly")
        await wait_for(pilot, lambda: app.notifier.cursor >= other.max_event_id())
        await settle(pilot)
        assert (written, len(ran)) == (before[0], before[1])
        assert not [n for n in app._notifications if n.title == f"{key} is waiting for review"]


def test_desktop_protocol_follows_the_terminal() -> None:
    assert desktop_protocol({"TERM_PROGRAM": "iTerm.app"}) == "osc9"
    assert desktop_protocol({"WT_SESSION": "x", "TERM": "xterm-256color"}) == "osc9"
    assert desktop_protocol({"TERM": "foot"}) == "osc777"
    assert desktop_protocol({"VTE_VERSION": "7600", "TERM": "xterm-256color"}) == "osc777"
    assert desktop_protocol({"TERM": "xterm-256color"}) is None
    assert desktop_protocol({"TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/t,1,0"}) is None


def test_osc_strings_carry_no_controls() -> None:
    nasty = "a\x1b]52;c;Zm9v\x07b\x9c\x9d;c\u202e"
    for protocol in ("osc9", "osc777"):
        text = osc(protocol, f"t;{nasty}", nasty)
        assert text.count("\x1b") == 1 and text.count("\x07") == 1
        assert "\x9c" not in text and "\x9d" not in text and "\u202e" not in text
    assert osc("osc777", "a;b", "c;d") == "\x1b]777;notify;a,b;c;d\x07"
