"""What the CLI prints for people reads as English: board columns and statuses in words,
help paragraphs that flow instead of breaking where the source was wrapped."""

from __future__ import annotations

import json
import re

from agentdeck.core import Deck
from agentdeck.tui.cli.help_display import flowing
from tests.cli.conftest import sqlite_only


def test_task_list_names_columns_in_words(cli, web: str, deck: Deck) -> None:
    """`needs human` and `in progress`, not `needs_human`; --json keeps the stable values."""
    deck.claim("coder", board="WEB")
    deck.add_task("Review me", actor="planner")
    claimed = deck.claim("designer", board="WEB")
    assert claimed is not None
    deck.submit(claimed.task.key, actor="designer", result="done")
    text = cli("task", "list").stdout
    assert "in progress" in text and "needs human" in text
    assert "in_progress" not in text and "needs_human" not in text
    statuses = {t["status"] for t in json.loads(cli("task", "list", "--json").stdout)["tasks"]}
    assert {"in_progress", "review"} <= statuses  # --json keeps the stable values


def test_a_refusal_names_the_status_in_words(cli, web: str, deck: Deck) -> None:
    claimed = deck.claim("coder", board="WEB")
    assert claimed is not None
    deck.submit(claimed.task.key, actor="coder", result="done")
    ran = cli("submit", claimed.task.key, "--result", "again", "--as", "coder")
    assert ran.exit_code != 0
    assert "it is in review;" in ran.stderr and "it is review" not in ran.stderr


def test_flowing_joins_wrapped_lines_and_keeps_lists() -> None:
    text = (
        "First paragraph.\n\nA sentence wrapped in the source\nat a hundred columns.\n"
        "- a list item\n- another\n    indented code\n\n\bkept\nas is"
    )
    assert flowing(text) == (
        "First paragraph.\n\nA sentence wrapped in the source at a hundred columns.\n"
        "- a list item\n- another\n    indented code\n\n\bkept\nas is"
    )


@sqlite_only  # help never opens the database
def test_help_paragraphs_flow(cli, db: str) -> None:
    """At 200 columns no sentence of the root help breaks where the docstring was wrapped."""
    ran = cli("--help", env={"COLUMNS": "200"})
    assert ran.exit_code == 0
    assert re.search(r"--as NAME alone will do\) and add --json", ran.stdout), ran.stdout
    connect = next(line for line in ran.stdout.splitlines() if "connect" in line)
    assert "(or give it a working token), write its MCP" in connect
