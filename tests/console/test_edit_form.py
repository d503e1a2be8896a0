"""The console's edit form (`E`), its label filter (`label:bug`, `#bug`) and sending a message
from the task screen (`m`).

The form sends only the fields the human changed, with the version it was opened at: an agent
that claims the task meanwhile makes the save a conflict, shown in the form with the human's
input kept; Reload takes in the new version and keeps what they typed. The core tests cover
the edit rules; here the question is what the human sees and what reaches the database, on
both backends for the two paths that race another process's writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.widgets import Input, Label, Select, TextArea

from agentdeck.core import Deck, ValidationError
from agentdeck.tui.console.app import AgentDeckApp, make_app
from agentdeck.tui.console.board_state import BoardFilter, label_term
from agentdeck.tui.console.screens.edit_task import (
    EditTaskDialog,
    SendDialog,
    changes,
    shown_values,
)
from agentdeck.tui.console.screens.forms import FilterDialog
from agentdeck.tui.console.screens.task_detail import TaskDetailScreen
from agentdeck.tui.console.widgets.task_card import TaskCard
from tests.backends import BACKENDS, database_url
from tests.console.conftest import SIZE, notices, screen_text, settle, type_text, wait_for
from tests.console.test_moves import column, select
from tests.console.test_screens import open_detail

pytestmark = pytest.mark.anyio


# -- a small board on either backend -------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def decks(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Deck, Deck]]:
    """Board ED on SQLite or PostgreSQL: the console's deck (acting as ann, by her token) and
    an agent's (fe-1, by its token), each its own connection pool, as two processes have."""
    url = database_url(request.param, tmp_path)
    with Deck.open(url, create=True) as setup:
        setup.create_board("ED", "Edits", actor="ann", lead="lead-1", agents="token")
        setup.add_agent("fe-1", actor="ann", board="ED", skills=["frontend"])
        setup.add_task("Paginate the blog index", actor="ann", board="ED", skills=["frontend"])
        setup.add_task("Design tokens", actor="ann", board="ED", skills=["frontend"])
        ann, fe = setup.issued_token("ann", "ED"), setup.issued_token("fe-1", "ED")
    assert ann and fe
    with Deck.open(url) as console, Deck.open(url) as agent:
        console.present(ann)
        agent.present(fe)
        yield console, agent


async def open_form(pilot: Any, app: AgentDeckApp, key: str) -> EditTaskDialog:
    """Select `key` on the board and press E; wait for the form to hold the task's values."""
    await settle(pilot)
    await select(pilot, app, key)
    await pilot.press("E")
    await wait_for(pilot, lambda: isinstance(app.screen, EditTaskDialog))
    form = app.screen
    assert isinstance(form, EditTaskDialog)
    await wait_for(pilot, lambda: form.detail is not None)
    await settle(pilot)
    return form


def set_input(form: EditTaskDialog, field: str, value: str) -> None:
    form.query_one(f"#{field}", Input).value = value


def form_error(form: EditTaskDialog) -> str:
    return str(form.query_one("#form-error", Label).content)


async def test_e_saves_only_the_fields_changed(decks: tuple[Deck, Deck]) -> None:
    console, agent = decks
    app = make_app(console, board="ED")
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, app, "ED-1")
        assert form.query_one("#title", Input).value == "Paginate the blog index"
        assert form.query_one("#skills", Input).value == "frontend"
        assert form.version == 1
        await pilot.press("ctrl+a", "ctrl+k")  # clear the focused title, as a user would
        await type_text(pilot, "Paginate the blog index, 12 per page")
        set_input(form, "labels", "Bug  ui")
        set_input(form, "dependencies", "ed-2")
        set_input(form, "skills", " frontend ")  # the same skills, spaced: not a change
        form.query_one("#type", Select).value = "bug"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, EditTaskDialog))
        await settle(pilot)
        task = agent.get_task("ED-1")
        assert task.title == "Paginate the blog index, 12 per page"
        assert task.labels == ("bug", "ui") and task.type == "bug"
        assert task.blocked_by == ("ED-2",)
        edits = [e for e in agent.task_events("ED-1") if e.kind == "edited"]
        assert len(edits) == 1 and edits[0].actor == "ann"
        assert edits[0].data["fields"] == ["title", "dependencies", "labels", "type"]
        assert any("ED-1 edited: title, dependencies, labels, type" in n for n in notices(app))
        # The card follows: it waits on ED-2 now, with its type and labels on its borders.
        card = next(c for c in app.screen.query(TaskCard) if c.key == "ED-1")
        assert "ED-1" in column(app, "blocked").keys
        assert "bug · bug ui" in Content.from_markup(str(card.border_subtitle)).plain


async def test_an_agent_s_move_meanwhile_is_a_conflict_that_keeps_the_input(
    decks: tuple[Deck, Deck],
) -> None:
    console, agent = decks
    app = make_app(console, board="ED")
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, app, "ED-1")
        set_input(form, "title", "Paginate the blog index, 12 per page")
        set_input(form, "labels", "ui")
        claim = agent.claim("fe-1", board="ED", key="ED-1")  # another process, meanwhile
        assert claim is not None and claim.task.version > form.version  # type: ignore[operator]
        agent.log("ED-1", "started on the paginator", actor="fe-1")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "changed while this form was open" in form_error(form))
        assert app.screen is form  # still open, with what the human typed
        assert form.query_one("#title", Input).value == "Paginate the blog index, 12 per page"
        assert agent.get_task("ED-1").title == "Paginate the blog index"  # nothing written
        assert not [e for e in agent.task_events("ED-1") if e.kind == "edited"]
        # Reload: the new version, with the human's two changes kept.
        await pilot.click("#reload")
        await wait_for(pilot, lambda: form.version == agent.get_task("ED-1").version)
        await settle(pilot)
        assert form.query_one("#title", Input).value == "Paginate the blog index, 12 per page"
        assert form.query_one("#labels", Input).value == "ui"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is not form)
        task = agent.get_task("ED-1")
        assert task.title == "Paginate the blog index, 12 per page" and task.labels == ("ui",)
        assert task.status == "in_progress" and task.assignee == "fe-1"  # the claim stands


async def test_a_refusal_is_shown_in_the_form_with_its_reason(bare_deck: Deck, other: Deck) -> None:
    """A console holding no credential for the board is refused, and says why; so is an edit
    of a finished task's title (its history stays)."""
    app = make_app(bare_deck, actor=None)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, app, "WEB-7")
        set_input(form, "title", "Something else")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: form_error(form).startswith("not saved"))
        assert "you hold no credential for board WEB" in form_error(form)
        assert app.screen is form
    assert other.get_task("WEB-7").title != "Something else"


async def test_a_finished_task_s_title_is_refused_but_its_labels_change(
    app: AgentDeckApp, other: Deck
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, app, "WEB-6")  # done
        assert "only its labels may change" in str(form.query_one("#edit-hint").render())
        set_input(form, "title", "Rewritten history")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "keeps its history" in form_error(form))
        set_input(form, "title", other.get_task("WEB-6").title)
        set_input(form, "labels", "launch")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is not form)
    assert other.get_task("WEB-6").labels == ("launch",)


async def test_nothing_changed_writes_nothing_and_a_bad_value_stays_in_the_form(
    app: AgentDeckApp, other: Deck
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, app, "WEB-7")
        await pilot.press("ctrl+s")
        assert "nothing to save" in form_error(form)
        set_input(form, "estimate", "three")
        await pilot.press("ctrl+s")
        assert "number of hours" in form_error(form)
        set_input(form, "estimate", str(form.base["estimate"]))  # back as it was
        set_input(form, "labels", "two words,[b]x")
        await pilot.press("ctrl+s")
        assert "label" in form_error(form) and app.screen is form
        form.query_one("#description", TextArea).load_text("New text\nover two lines")
        set_input(form, "labels", "")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is not form)
    edits = [e for e in other.task_events("WEB-7") if e.kind == "edited"]
    assert [e.data["fields"] for e in edits] == [["description"]]
    assert other.get_task("WEB-7").description == "New text\nover two lines"


def test_changes_sends_only_what_differs() -> None:
    base = {
        "title": "T",
        "description": "a\r\nb",
        "criteria": "",
        "skills": "sql frontend",
        "estimate": "2",
        "priority": 2,
        "type": "task",
        "labels": "ui",
        "parent": "",
        "dependencies": "WEB-2 WEB-3",
    }
    same = {**base, "description": "a\nb\n", "skills": "Frontend, sql", "estimate": "2.0 h"}
    assert changes(base, same) == {}
    moved = {**base, "labels": "UI bug", "dependencies": "web-3 WEB-9", "parent": "web-1"}
    assert changes(base, moved) == {
        "add_labels": ["bug"],
        "remove_labels": [],
        "add_dependencies": ["WEB-9"],
        "remove_dependencies": ["WEB-2"],
        "parent": "WEB-1",
    }
    assert changes(base, {**base, "estimate": "", "parent": ""}) == {"estimate_hours": None}
    with pytest.raises(ValidationError):
        changes(base, {**base, "title": "  "})


def test_the_form_shows_every_dependency_not_only_open_ones(other: Deck) -> None:
    detail = other.task_detail("WEB-7")
    shown = shown_values(detail)["dependencies"].split()
    assert shown == [key for key, _ in detail.blocked_by_all] and len(shown) >= 2


# -- the label filter ---------------------------------------------------------------------------


def test_label_terms_in_the_filter_text() -> None:
    assert label_term("label:Bug") == "bug" and label_term("#bug") == "bug"
    assert label_term("bug") is None and label_term("#") is None and label_term("label:") is None
    f = BoardFilter(text="#bug index label:ui")
    assert f.labels == ("bug", "ui") and f.words == ("index",)
    assert f.describe() == '"index" label:bug label:ui'


async def test_slash_label_filters_the_board_with_free_text(
    app: AgentDeckApp, other: Deck, keys: dict[str, str]
) -> None:
    blog, pricing, cookies = keys["blog"], keys["pricing"], keys["cookies"]
    for key, labels in ((blog, ["bug", "ui"]), (pricing, ["bug"]), (cookies, ["ui"])):
        version = other.get_task(key).version
        other.edit_task(key, actor="ann", expected_version=version, add_labels=labels)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.screen, FilterDialog)
        await type_text(pilot, "label:bug")
        await pilot.press("enter")
        await settle(pilot)
        shown = {k for c in app.screen.columns for k in c.keys}  # type: ignore[attr-defined]
        assert shown == {blog, pricing}
        assert "label:bug" in screen_text(app)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "#UI blog")  # a label and a word: both must match
        await pilot.press("enter")
        await settle(pilot)
        shown = {k for c in app.screen.columns for k in c.keys}  # type: ignore[attr-defined]
        assert shown == {blog}
        await pilot.press("escape")
        await settle(pilot)
        assert len({k for c in app.screen.columns for k in c.keys}) > 3  # type: ignore[attr-defined]


async def test_a_card_shows_its_type_and_labels_literally(app: AgentDeckApp, other: Deck) -> None:
    version = other.get_task("WEB-7").version
    other.edit_task(
        "WEB-7", actor="ann", expected_version=version, type="feature", add_labels=["ui#2@v1"]
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = next(c for c in app.screen.query(TaskCard) if c.key == "WEB-7")
        assert "feature" in str(card.border_subtitle or "")
        assert "ui#2@v1" in str(card.border_subtitle or "")  # the label as typed
        assert "ui#2@v1" in screen_text(app)
        plain = next(c for c in app.screen.query(TaskCard) if c.key == "WEB-1")
        assert "task" not in str(plain.border_subtitle or "")  # the default type takes no room


# -- sending from the task screen -----------------------------------------------------------------


async def test_m_in_the_task_screen_sends_a_message_that_shows_in_its_log(
    app: AgentDeckApp, other: Deck
) -> None:
    holder = other.get_task("WEB-7").assignee
    assert holder
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, app, "WEB-7")
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, SendDialog))
        dialog = app.screen
        await wait_for(pilot, lambda: dialog.query_one("#to", Select).value == holder)
        await pilot.press("enter")  # empty text is refused in the dialog
        assert app.screen is dialog
        await type_text(pilot, "Use the [b]cursor[/b] API, not offsets")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        inbox = other.inbox(holder, board="WEB", mark_read=False)
        sent = [m for m in inbox if m.sender == "ann" and m.task == "WEB-7"]
        assert [m.text for m in sent] == ["Use the [b]cursor[/b] API, not offsets"]
        assert any("sent to" in n and "WEB-7's log" in n for n in notices(app))
        await wait_for(pilot, lambda: "Use the [b]cursor[/b] API" in screen_text(app))
        assert isinstance(app.screen, TaskDetailScreen)
        # E works here too, and the screen shows what it changed.
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, EditTaskDialog))
        form = app.screen
        await wait_for(pilot, lambda: form.detail is not None)
        set_input(form, "labels", "pagination")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: "pagination" in screen_text(app))
        assert other.get_task("WEB-7").labels == ("pagination",)
        # To the lead, whoever it is: `lead` is in the list, and the message reaches them.
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, SendDialog))
        dialog = app.screen
        to = dialog.query_one("#to", Select)
        await wait_for(pilot, lambda: to.value == holder)
        to.value = "lead"
        await type_text(pilot, "Is this still needed?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
    lead = other.get_board("WEB").lead
    assert lead
    inbox = other.inbox(lead, board="WEB", mark_read=False)
    assert [(m.sender, m.task) for m in inbox if m.text == "Is this still needed?"] == [
        ("ann", "WEB-7")
    ]
