"""The markdown progress report: every section with the right tasks, budgets, time per task,
forecast, and agent-written text that renders literally."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta

import pytest
from markdown_it import MarkdownIt

from agentdeck.core import Deck
from agentdeck.core.errors import ValidationError
from tests.conftest import START, FakeClock, make_web_board
from tests.core.helpers import claim_key, task_in

HOUR = 3600
# Markdown, Rich markup, HTML, a table pipe, a heading, ANSI colour and a bell, all in one title.
HOSTILE = (
    "**bold** _it_ [bold red]alarm[/] `rm -rf` <b>x</b> [link](http://e.x) | # ~~s~~ "
    "\x1b[31mred\x1b[0m\x07 \\ end"
)
# What a reader should see: the same characters, minus the control characters.
HOSTILE_SEEN = (
    "**bold** _it_ [bold red]alarm[/] `rm -rf` <b>x</b> [link](http://e.x) | # ~~s~~ "
    "[31mred[0m \\ end"
)
DOING = "Running `make` on *all* [red]targets[/]\x1b[2J"
DOING_SEEN = "Running `make` on *all* [red]targets[/][2J"
REASON = "need creds\n\n## Done (99)\n- **WEB-99** forged <img src=x onerror=alert(1)>"
REASON_SEEN = "need creds ## Done (99) - **WEB-99** forged <img src=x onerror=alert(1)>"


def sections(report: str) -> dict[str, list[str]]:
    """Each `## ` section's title (without its count) and its non-empty lines."""
    out: dict[str, list[str]] = {}
    current = None
    for line in report.splitlines():
        if line.startswith("## "):
            current = re.sub(r" \(\d+\)$", "", line[3:])
            out[current] = []
        elif current is not None and line.strip():
            out[current].append(line)
    return out


def minute(at: datetime) -> str:
    """A time as the report shows it."""
    return at.strftime("%Y-%m-%d %H:%M UTC")


def keys_in(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if (m := re.match(r"- \*\*(WEB-\d+)\*\*", line))]


@pytest.fixture
def board(deck: Deck, clock: FakeClock) -> dict[str, str]:
    """WEB with a task in every column, usage and budgets, over a few hours of fake time."""
    make_web_board(deck, lease_seconds=24 * HOUR, due_at=START + timedelta(days=14))
    k: dict[str, str] = {}
    for name, hours in (("quick", 0.5), ("medium", 1), ("slow", 5)):
        k[name] = deck.add_task(f"Finish {name}", actor="ann").key
        claim_key(deck, k[name], "be")
        clock.advance(hours * HOUR)
        deck.complete(k[name], actor="be", result="shipped", verified_by="pytest")
    k["doing"] = deck.add_task(HOSTILE, actor="ann").key
    claim_key(deck, k["doing"], "fe")
    deck.doing("fe", DOING, key=k["doing"])
    k["ready"] = deck.add_task("Write the footer", actor="ann", priority=1).key
    k["blocked"] = deck.add_task(
        "Launch", actor="ann", blocked_by=[k["doing"], k["ready"]], assignee="gen"
    ).key
    k["escalated"] = deck.add_task("Deploy to staging", actor="ann").key
    claim_key(deck, k["escalated"], "gen")
    deck.escalate(k["escalated"], actor="gen", reason=REASON)
    clock.advance(60)
    k["review"] = task_in(deck, "review", "Check the copy")
    k["failed"] = task_in(deck, "failed", "Call the payments API")
    k["cancelled"] = task_in(deck, "cancelled", "Old idea")
    deck.set_budget("cost_usd", actor="ann", soft=1, hard=2)
    deck.set_budget("tokens", actor="ann", scope="agent", subject="fe", hard=1_000_000)
    deck.record_usage(k["doing"], actor="fe", tokens_in=1000, tokens_out=234, cost_usd=1.25)
    return k


def test_every_section_lists_the_right_tasks(deck: Deck, board: dict[str, str]) -> None:
    report = deck.report()
    assert report.startswith("# Website — progress report\n")
    assert "**Goal:** Ship it" in report
    assert "**Overall:** 3 of 9 tasks done (33%)" in report  # the cancelled task is not counted
    assert "**Due:** 2025-03-17 09:00 UTC" in report
    s = sections(report)
    assert list(s) == [
        "Done",
        "In progress",
        "Remaining (ready)",
        "Blocked",
        "Waiting on humans",
        "Failed",
        "Comments on open tasks",
        "Budget use",
        "Time per task",
        "Forecast",
    ]
    assert keys_in(s["Done"]) == [board["slow"], board["medium"], board["quick"]]  # newest first
    finished = deck.get_task(board["slow"]).completed_at  # 15:30 where time stands still
    assert finished is not None and s["Done"][0].endswith(f"— be ({minute(finished)})")
    assert keys_in(s["In progress"]) == [board["doing"]]
    assert " — fe — doing: " in s["In progress"][0]
    assert keys_in(s["Remaining (ready)"]) == [board["ready"]]
    assert s["Remaining (ready)"][0].endswith("Write the footer — P1")
    assert s["Blocked"] == [
        f"- **{board['blocked']}** Launch — gen — waiting on {board['doing']}, {board['ready']}"
    ]
    waiting = s["Waiting on humans"]
    assert keys_in(waiting) == [board["escalated"], board["review"]]  # longest waiting first
    assert " — gen — escalated: need creds" in waiting[0]
    assert waiting[1].endswith("Check the copy — gen — review")
    assert s["Failed"] == [f"- **{board['failed']}** Call the payments API — gen — the API is down"]
    assert board["cancelled"] not in report


def test_budget_table_and_totals(deck: Deck, board: dict[str, str]) -> None:
    s = sections(deck.report())
    assert s["Budget use"] == [
        "| scope | metric | used | limit | level |",
        "|---|---|---|---|---|",
        "| agent fe | tokens | 1,234 | hard 1,000,000 | ok |",
        "| board | cost_usd | 1.25 | soft 1 / hard 2 | warn |",
        "Total cost so far: $1.25 over 1,234 tokens",
    ]


def test_time_per_task_and_forecast(deck: Deck, board: dict[str, str]) -> None:
    before = deck.now()
    s = sections(deck.report())
    after = deck.now()  # the same time where it stands still (SQLite)
    # Finished in 30 min, 1 h and 5 h.
    assert s["Time per task"] == ["Median 1.0 h, mean 2.2 h over 3 finished tasks"]
    burn = deck.burndown()
    # Three finished over the board's few hours of life: too little history for a forecast,
    # and the report says so rather than project one.
    assert burn.forecast_done_at is None and burn.forecast == ()
    assert burn.forecast_note.startswith("no forecast yet: 3 tasks finished over ")
    forecast, updated = s["Forecast"]
    assert forecast == f"N{burn.forecast_note[1:]}."
    assert forecast.endswith("(it needs 5 over at least 10 minutes).")
    assert updated in {f"_Last updated {minute(t)}_" for t in (before, after)}


def test_hostile_agent_text_reads_literally_when_rendered(
    deck: Deck, board: dict[str, str]
) -> None:
    report = deck.report()
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", report), "a control character leaked"
    assert "[bold red]" not in report and "[red]" not in report  # Rich markup is escaped too
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert len(headings) == 1 + 10, headings  # nothing forged a heading
    rendered = MarkdownIt("commonmark").enable("table").render(report)
    items = {}
    for item in re.findall(r"<li>(.*?)</li>", rendered, re.S):
        if found := re.match(r"<strong>(WEB-\d+)</strong>", item):
            items[found.group(1)] = item
    doing, escalated = items[board["doing"]], items[board["escalated"]]
    for item in (doing, escalated):
        assert re.findall(r"<[^>]+>", item) == ["<strong>", "</strong>"]  # only the key is bold
    assert html.unescape(doing) == (
        f"<strong>{board['doing']}</strong> {HOSTILE_SEEN} — fe — doing: {DOING_SEEN}"
    )
    assert html.unescape(escalated) == (
        f"<strong>{board['escalated']}</strong> Deploy to staging — gen — escalated: {REASON_SEEN}"
    )
    assert "<table>" in rendered and rendered.count("<tr>") == 3  # header and two budgets
    assert "<img" not in rendered and "<a " not in rendered and "<code>" not in rendered


def test_long_agent_text_is_cut_with_a_marker(deck: Deck, board: dict[str, str]) -> None:
    claim_key(deck, board["ready"], "be")
    deck.fail(board["ready"], actor="be", reason="x" * 5000)
    line = next(
        line
        for line in sections(deck.report())["Failed"]
        if line.startswith(f"- **{board['ready']}")
    )
    assert line.endswith("x…") and len(line) < 200


def test_an_empty_board_reports_nothing_to_do(web: Deck) -> None:
    report = web.report()
    assert "**Overall:** 0 of 0 tasks done (0%)" in report
    s = sections(report)
    for title in ("Done", "In progress", "Remaining (ready)", "Blocked", "Waiting on humans"):
        assert s[title] == ["_none_"], title
    assert s["Budget use"][0] == "_no budgets set_"
    assert s["Time per task"] == ["_no finished tasks yet_"]
    assert s["Forecast"][0] == "No forecast: no tasks yet."


def test_a_finished_board_says_so_and_reports_on_the_board_asked_for(web: Deck) -> None:
    task_in(web, "done", "Only task")
    web.create_board("API", "Payments *API*", actor="ann")
    api = web.report("API")
    assert api.startswith("# Payments \\*API\\* — progress report")
    assert "**Overall:** 0 of 0 tasks done" in api
    report = web.report("WEB")
    assert "**Overall:** 1 of 1 task done (100%)" in report
    assert sections(report)["Forecast"][0] == "Everything is done."


def test_sections_keep_only_the_parts_asked_for(deck: Deck, board: dict[str, str]) -> None:
    whole = deck.report()
    some = deck.report(sections=["needs_human", "forecast"])
    assert list(sections(some)) == ["Waiting on humans", "Forecast"]
    assert sections(some)["Waiting on humans"] == sections(whole)["Waiting on humans"]
    assert some.startswith("# Website — progress report\n") and "_Last updated " in some
    assert len(some) < len(whole) / 2


def test_an_unknown_section_is_refused(deck: Deck, board: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="unknown report section 'gossip'; sections: done"):
        deck.report(sections=["done", "gossip"])


def test_the_summary_counts_and_names_what_matters(deck: Deck, board: dict[str, str]) -> None:
    s = deck.report_summary()
    assert (s["board"], s["total"], s["done"], s["percent_done"]) == ("WEB", 9, 3, 33)
    assert s["columns"] == {
        "done": 3,
        "in_progress": 1,
        "ready": 1,
        "blocked": 1,
        "needs_human": 2,
        "failed": 1,
        "cancelled": 1,  # shown, though not in the total
    }
    assert {t["key"] for t in s["needs_human"]} == {board["escalated"], board["review"]}
    assert [t["key"] for t in s["blocked"]] == [board["blocked"]]
    assert s["blocked"][0]["blocked_by"] == [board["doing"], board["ready"]]
    assert s["in_progress"][0]["doing"] == " ".join(DOING.split())  # literal, one line
    assert s["in_progress"][0]["title"] == HOSTILE  # JSON carries agent text literally
    assert (s["needs_human_more"], s["blocked_more"], s["in_progress_more"]) == (0, 0, 0)
    assert next(b["level"] for b in s["budgets"]) == "warn"  # the worst budget first
    assert s["spent"] == {"cost_usd": 1.25, "tokens": 1234}
    assert s["due_at"].startswith("2025-03-17T09:00")


def test_the_summary_stays_small_on_a_big_board(deck: Deck) -> None:
    make_web_board(deck)
    keys = [
        t.key
        for t in deck.plan([{"title": f"Task {i} " + "x" * 150} for i in range(60)], actor="ann")
    ]
    for key in keys[:25]:
        claim_key(deck, key, "gen")
        deck.escalate(key, actor="gen", reason="need a decision " * 40)
    s = deck.report_summary()
    assert len(s["needs_human"]) == 10 and s["needs_human_more"] == 15
    assert all(len(t["title"]) <= 120 for t in s["needs_human"])
    assert len(json.dumps(s)) / 4 < 1500  # tokens, at four characters each
