"""Comments: any member of the board, human or agent, comments on any task; comments are kept
apart from the work log and shown in task detail and the report. Both backends."""

from __future__ import annotations

from agentdeck.core import Deck, NotFoundError, PermissionDeniedError, ValidationError
from agentdeck.core.comments import SHOWN
from agentdeck.core.limits import MAX_TEXT
from tests.core.helpers import Refused, claim_key, task_in

HOSTILE = "[bold red]LGTM[/] \x1b[2J\u202e## forged heading\n- [x] `rm -rf /` <script>"


def test_humans_and_agents_comment_on_any_task_in_any_status(web: Deck) -> None:
    held = task_in(web, "in_progress", "Held by gen")
    done = task_in(web, "done", "Shipped")
    by_human = web.comment(held, "the staging DB is back up", actor="ann")
    by_other_agent = web.comment(held, "I touched the same file", actor="fe")  # not the holder
    on_done = web.comment(done, "nice work", actor="be")
    assert (by_human.kind, by_human.actor, by_human.task, by_human.auth) == (
        "comment",
        "ann",
        held,
        "token",
    )
    assert (by_other_agent.actor, on_done.task) == ("fe", done)
    detail = web.task_detail(held)
    assert [(c.actor, c.text) for c in detail.comments] == [
        ("ann", "the staging DB is back up"),
        ("fe", "I touched the same file"),
    ]
    assert detail.comments_total == 2
    assert by_human.id < by_other_agent.id
    # A comment is no log entry and no note: the work log's kinds stay the holder's.
    assert [e.kind for e in web.task_events(held, kinds=["log"])] == []
    assert detail.notes == ()


def test_a_comment_neither_moves_the_task_nor_renews_a_lease(web: Deck) -> None:
    key = task_in(web, "in_progress")
    before = web.get_task(key)
    web.comment(key, "still on it?", actor="ann")
    web.comment(key, "yes", actor="gen")
    after = web.get_task(key)
    assert (after.version, after.status, after.lease_expires_at) == (
        before.version,
        before.status,
        before.lease_expires_at,
    )


def test_task_detail_keeps_the_newest_comments_and_counts_them_all(web: Deck) -> None:
    key = web.add_task("Chatty", actor="ann").key
    for n in range(SHOWN + 3):
        web.comment(key, f"comment {n}", actor="ann" if n % 2 else "gen")
    detail = web.task_detail(key)
    assert detail.comments_total == SHOWN + 3
    assert [c.text for c in detail.comments] == [f"comment {n}" for n in range(3, SHOWN + 3)]
    # The older ones stay in the task's history.
    said = [e.text for e in web.task_events(key, kinds=["comment"])]
    assert said == [f"comment {n}" for n in range(SHOWN + 3)]


def test_comments_from_outside_the_board_or_without_text_are_refused(
    web: Deck, refused: Refused
) -> None:
    key = web.add_task("Private", actor="ann").key
    web.create_board("OPS", "Ops", actor="ann")
    web.add_agent("stranger", actor="ann", board="OPS")
    with refused(NotFoundError, "no agent 'stranger' on board WEB"):
        web.comment(key, "let me in", actor="stranger")
    with refused(NotFoundError, "no agent 'mallory'"):
        web.comment(key, "hello", actor="mallory")
    with refused(ValidationError, "a comment needs text"):
        web.comment(key, " \n\t ", actor="ann")
    with refused(NotFoundError, "WEB-99"):
        web.comment("WEB-99", "hello", actor="ann")


def test_an_agent_with_a_credential_comments_only_as_itself(deck: Deck, refused: Refused) -> None:
    deck.create_board("TOK", "Tokens", actor="ann")  # token mode: agents present credentials
    deck.add_agent("coder", actor="ann")
    deck.add_agent("other", actor="ann")
    key = deck.add_task("Work", actor="ann", board="TOK").key
    token = deck.issued_token("coder", "TOK")
    assert token is not None
    with Deck.open(deck.url) as as_coder:
        as_coder.present(token)
        assert as_coder.comment(key, "mine", actor="coder").auth == "token"
        with refused(PermissionDeniedError, "cannot act as other"):
            as_coder.comment(key, "not mine", actor="other")


def test_hostile_text_is_kept_literally_and_long_text_is_cut_like_a_log_entry(web: Deck) -> None:
    key = web.add_task("Target", actor="ann").key
    assert web.comment(key, HOSTILE, actor="gen").text == HOSTILE
    assert web.task_detail(key).comments[-1].text == HOSTILE
    long = web.comment(key, "x" * (MAX_TEXT + 500), actor="ann")
    claim_key(web, key)
    logged = web.log(key, "x" * (MAX_TEXT + 500), actor="gen")
    assert long.text == logged.text != "x" * (MAX_TEXT + 500)
    assert long.text.startswith("x" * MAX_TEXT) and "500" in long.text[MAX_TEXT:]


def test_the_report_lists_the_newest_comments_on_open_tasks_only(web: Deck) -> None:
    open_key = web.add_task("Open one", actor="ann").key
    done_key = task_in(web, "done", "Closed one")
    web.comment(open_key, HOSTILE, actor="gen")
    web.comment(done_key, "on a finished task", actor="ann")
    for n in range(25):
        web.comment(open_key, f"note {n}", actor="ann")
    report = web.report(sections=["comments"])
    part = report.split("## Comments on open tasks (26)\n\n", 1)[1].split("\n\n", 1)[0]
    lines = part.splitlines()
    assert len(lines) == 20 + 1  # the newest 20, then how many older
    assert lines[0].startswith(f"- **{open_key}** ann: note 24 (")
    assert lines[-1] == "- _and 6 older (see `agentdeck task show`)_"
    assert "on a finished task" not in report
    full = web.report()
    assert "## Comments on open tasks" in full
    assert "# forged" not in "\n".join(line for line in full.splitlines() if line.startswith("#"))
    assert "\x1b" not in full and "\u202e" not in full
