"""The human's moves from the keyboard: each lands in the database as the human, with the
version the human saw, and the board shows the result."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.console.screens.board import BoardScreen
from agentdeck.tui.console.screens.dialogs import ConfirmDialog, NotesDialog
from agentdeck.tui.console.screens.pickers import ReassignDialog
from agentdeck.tui.console.widgets.column import TaskColumn
from tests.console.conftest import SIZE, notices, screen_text, settle, type_text, wait_for

pytestmark = pytest.mark.anyio


def column(app: AgentDeckApp, name: str) -> TaskColumn:
    return app.screen.query_one(f"#col-{name}", TaskColumn)


async def select(pilot, app: AgentDeckApp, key: str) -> None:
    """Move the cursor to a task's card with the arrow keys, as a user would."""
    screen = app.screen
    assert isinstance(screen, BoardScreen)
    target = next(c for c in screen.columns if key in c.keys)
    while screen.active_column is not target:
        await pilot.press("right" if screen.columns.index(target) > screen.column_index else "left")
    while screen.selected_task().key != key:
        await pilot.press("down" if target.keys.index(key) > target.selected_index else "up")


def last_event(deck: Deck, key: str):
    return deck.task_events(key, limit=20)


async def test_a_approves_work_in_review(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-11")
        await pilot.press("a")
        await settle(pilot)
        task = other.get_task("WEB-11")
        assert task.status == "done"
        approval = [e for e in other.task_events("WEB-11") if e.kind == "approval"]
        assert approval and approval[-1].actor == "ann"
        assert "WEB-11" in column(app, "done").keys
        assert "WEB-11" not in column(app, "needs_human").keys
        assert any("WEB-11 approved" in n for n in notices(app))


async def test_x_rejects_with_notes_that_reach_the_agent(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-11")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, NotesDialog)
        await pilot.press("enter")  # empty notes are refused in the dialog
        assert isinstance(app.screen, NotesDialog)
        await type_text(pilot, "the error state has no focus ring")
        await pilot.press("enter")
        await settle(pilot)
        assert other.get_task("WEB-11").status == "pending"
        inbox = other.inbox("fe-2", board="WEB", mark_read=False)
        assert any("the error state has no focus ring" in m.text for m in inbox)
        assert "WEB-11" in column(app, "ready").keys


async def test_o_reopens_a_done_task_with_notes(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-6")
        await pilot.press("o")
        await settle(pilot)
        await type_text(pilot, "two redirects loop")
        await pilot.press("enter")
        await settle(pilot)
        task = other.get_task("WEB-6")
        assert task.status == "pending"
        reopened = [e for e in other.task_events("WEB-6") if e.kind == "reopened"]
        assert reopened[-1].actor == "ann" and reopened[-1].text == "two redirects loop"
        assert "WEB-6" not in column(app, "done").keys


async def test_e_answers_an_escalation(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-13")
        await pilot.press("e")
        await settle(pilot)
        assert "registrar credentials" in screen_text(app)  # the agent's question is shown
        await type_text(pilot, "they are in the vault under dns")
        await pilot.press("enter")
        await settle(pilot)
        assert other.get_task("WEB-13").status == "pending"
        inbox = other.inbox("ops-1", board="WEB", mark_read=False)
        assert any("vault under dns" in m.text for m in inbox)


async def test_r_reassigns_to_an_agent_with_the_skills(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-15")  # needs #frontend
        await pilot.press("r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReassignDialog)
        offered = [
            dialog.query_one("#agents").get_option_at_index(i).id
            for i in range(dialog.query_one("#agents").option_count)
        ]
        assert set(offered) == {"fe-1", "fe-2"}  # be-1, ops-1, qa-1 lack the skill
        while dialog.query_one("#agents").highlighted_option.id != "fe-2":
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert other.get_task("WEB-15").assignee == "fe-2"
        assert any("WEB-15" in m.text for m in other.inbox("fe-2", board="WEB", mark_read=False))
        assert "@fe-2" in column(app, "ready").card("WEB-15").render().plain


async def test_p_and_P_raise_and_lower_priority(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-14")  # P2
        await pilot.press("p")
        await settle(pilot)
        assert other.get_task("WEB-14").priority == 1
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        assert other.get_task("WEB-14").priority == 3
        assert "P3" in column(app, "ready").card("WEB-14").border_title
        # Ready is sorted by priority: WEB-14 is now last.
        assert column(app, "ready").keys[-1] == "WEB-14"
        assert app.screen.selected_task().key == "WEB-14"  # the cursor followed the task


async def test_c_cancels_after_confirmation(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-18")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")  # keep it
        await settle(pilot)
        assert other.get_task("WEB-18").status == "pending"
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, "out of scope")
        await pilot.press("enter")
        await settle(pilot)
        assert other.get_task("WEB-18").status == "cancelled"
        assert "WEB-18" not in column(app, "ready").keys


async def test_n_creates_a_task(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "Add a sitemap")
        await pilot.press("tab")
        await type_text(pilot, "sitemap.xml for all pages")
        await pilot.press("enter")
        await settle(pilot)
        created = [t for t in other.list_tasks("WEB") if t.title == "Add a sitemap"]
        assert len(created) == 1 and created[0].description == "sitemap.xml for all pages"
        events = other.task_events(created[0].key)
        assert events[0].kind == "created" and events[0].actor == "ann"
        assert created[0].key in column(app, "ready").keys


async def test_moves_that_do_not_apply_are_hidden_and_do_nothing(
    app: AgentDeckApp, other: Deck
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-15")  # ready: nothing to approve, reopen or answer
        active = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "approve_task" not in active and "reopen_task" not in active
        assert {"reassign_task", "raise_priority", "cancel_task"} <= active
        before = other.max_event_id()
        await pilot.press("a", "o", "e")
        await settle(pilot)
        assert other.max_event_id() == before
        await select(pilot, app, "WEB-11")
        active = {b.binding.action for b in app.screen.active_bindings.values()}
        assert {"approve_task", "reject_task"} <= active


async def test_a_stale_version_is_a_conflict_notice_not_an_overwrite(
    app: AgentDeckApp, other: Deck
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-14")
        other.set_priority("WEB-14", 4, actor="bob")  # meanwhile (the watcher is off here)
        await pilot.press("p")
        await settle(pilot)
        assert other.get_task("WEB-14").priority == 4  # bob's change stands
        assert any("changed since you saw it" in n for n in notices(app))
        # The refresh that follows a refused move shows the human the task as it is now.
        await wait_for(pilot, lambda: app.screen.state.tasks["WEB-14"].priority == 4)


@pytest.mark.parametrize("name", ["carol", None, "ann", "fe-2"])
async def test_without_a_credential_the_console_adds_nobody_and_moves_nothing(
    bare_deck: Deck, other: Deck, name: str | None
) -> None:
    """Opening the console proves nothing: no credential, no member added, and a move (whatever
    name it claims: a stranger, the login name, a real human, an agent of this named board) is
    one error line that writes nothing."""
    members = {a.name for a in other.list_agents("WEB")}
    events = len(other.task_events("WEB-11", limit=1000))
    app = make_app(bare_deck, actor=name)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-11")
        await pilot.press("a")
        await wait_for(pilot, lambda: bool(notices(app)))
        await settle(pilot)
        refused = [n for n in notices(app) if "approved" not in n]
        assert len(refused) == 1, notices(app)
        assert "\n" not in refused[0] and "Traceback" not in refused[0]
        assert "credential" in refused[0] or "human" in refused[0], refused[0]
        assert app.is_running
    assert {a.name for a in other.list_agents("WEB")} == members
    assert other.get_task("WEB-11").status == "review"
    assert len(other.task_events("WEB-11", limit=1000)) == events


async def test_every_move_is_in_the_command_palette(app: AgentDeckApp, other: Deck) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "WEB-14")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for wanted in ("Raise the priority (towards P0)", "Cancel the task (asks first)", "Filter"):
            assert any(wanted in t for t in titles), wanted
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "Raise the priority")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert other.get_task("WEB-14").priority == 1
