"""Size and shape limits on agent-written input: refused when it is a name, truncated with a
visible marker when it is free text, never stored silently cut."""

from __future__ import annotations

import pytest

from agentdeck.core import Deck, NotFoundError, ValidationError
from agentdeck.core.limits import MAX_DEPTH, MAX_TEXT, MAX_TITLE
from tests.core.helpers import Refused, task_in

MARKER = "[truncated by agentdeck:"


def test_oversized_description_is_truncated_with_a_marker(web: Deck) -> None:
    task = web.add_task("Big", actor="ann", description="x" * (MAX_TEXT + 500))
    assert task.description.startswith("x" * MAX_TEXT)
    assert task.description.endswith(f"{MARKER} 500 more characters]")
    assert len(task.description) < MAX_TEXT + 100


def test_text_at_the_limit_is_kept_whole(web: Deck) -> None:
    task = web.add_task("Exact", actor="ann", criteria="y" * MAX_TEXT)
    assert task.criteria == "y" * MAX_TEXT


def test_oversized_log_result_and_notes_are_truncated(web: Deck) -> None:
    key = task_in(web, "in_progress")
    entry = web.log(key, "z" * (MAX_TEXT + 1), actor="gen")
    assert entry.text.endswith(f"{MARKER} 1 more characters]")
    assert web.task_events(key, limit=1)[0].text == entry.text
    task = web.submit(key, actor="gen", result="r" * (MAX_TEXT * 2))
    assert MARKER in task.result
    task = web.reject(key, actor="ann", notes="n" * (MAX_TEXT + 10))
    assert MARKER in web.inbox("gen")[0].text


def test_nul_bytes_are_replaced(web: Deck) -> None:
    task = web.add_task("Nul", actor="ann", description="a\x00b")
    assert task.description == "a\ufffdb"


def test_title_is_one_line_and_bounded(web: Deck, refused: Refused) -> None:
    assert web.add_task("  Fix \n the\tform  ", actor="ann").title == "Fix the form"
    assert web.add_task("t" * MAX_TITLE, actor="ann").title == "t" * MAX_TITLE
    with refused(ValidationError, f"at most {MAX_TITLE} characters", f"got {MAX_TITLE + 1}"):
        web.add_task("t" * (MAX_TITLE + 1), actor="ann")
    with refused(ValidationError, "title cannot be empty"):
        web.add_task(" \n ", actor="ann")


def test_agent_text_is_stored_literally(web: Deck) -> None:
    hostile = "[bold red]pwned[/] \x1b[31mred\x1b[0m $(rm -rf /)"
    task = web.add_task("Markup [b]x[/b]", actor="ann", description=hostile)
    assert task.description == hostile and task.title == "Markup [b]x[/b]"


@pytest.mark.parametrize("key", ["", "1WEB", "WE B", "TOOLONGKEY1", "WEB!", "Ωmega"])
def test_bad_board_keys_refused(deck: Deck, key: str) -> None:
    with pytest.raises(ValidationError, match="board key"):
        deck.create_board(key, "Bad", actor="ann")
    assert deck.list_boards() == []


def test_board_key_is_upper_cased(deck: Deck) -> None:
    assert deck.create_board("web2", "Web", actor="ann").key == "WEB2"


@pytest.mark.parametrize("name", ["", "has space", "a" * 65, "semi;colon", "new\nline", "quote'"])
def test_bad_agent_names_refused(web: Deck, refused: Refused, name: str) -> None:
    with refused(ValidationError, "agent name", "letters, digits"):
        web.add_agent(name, actor="ann")


def test_good_agent_names(web: Deck) -> None:
    for name in ("claude-code", "codex.1", "worker_7", "bot@host:2", "a+b", "a" * 64):
        assert web.add_agent(name, actor="ann").name == name


@pytest.mark.parametrize("key", ["WEB", "WEB-", "-3", "WEB-x", "WEB-²", "WEB-1234567890", "web 3"])
def test_malformed_task_keys_refused(web: Deck, key: str) -> None:
    web.add_task("Only task", actor="ann")
    with pytest.raises(ValidationError, match=r"not a task key|board key"):
        web.get_task(key)


def test_unknown_task_key_is_not_found(web: Deck) -> None:
    with pytest.raises(NotFoundError, match="no task WEB-999999999"):
        web.get_task("WEB-999999999")


def test_oversized_log_data_refused(web: Deck, refused: Refused) -> None:
    key = task_in(web, "in_progress")
    with refused(ValidationError, "log data is over"):
        web.log(key, "tool output", actor="gen", kind="tool_call", data={"out": "x" * MAX_TEXT})
    with refused(ValidationError, "JSON object"):
        web.log(key, "tool output", actor="gen", data=["not", "an", "object"])  # type: ignore[arg-type]


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"tests": 42}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_log_data_nested_too_deep_is_refused(web: Deck, refused: Refused) -> None:
    """Found by tests/fuzz: 500 levels ran out of Python's recursion ("unexpected
    RecursionError") while the data was copied for storage."""
    key = task_in(web, "in_progress")
    web.log(key, "deep but fine", actor="gen", data=nested(MAX_DEPTH))
    with refused(ValidationError, f"nested more than {MAX_DEPTH} levels deep"):
        web.log(key, "too deep", actor="gen", data=nested(MAX_DEPTH + 1))
    with refused(ValidationError, "nested more than"):
        web.log(key, "far too deep", actor="gen", data=nested(5000))


def test_query_windows_past_sql_integers_are_empty_not_errors(web: Deck) -> None:
    """Found by tests/fuzz: `task list --limit 9223372036854775808` and its kin were an
    "unexpected OverflowError" (SQL cannot bind the number); negatives failed on PostgreSQL."""
    key = task_in(web, "in_progress")
    huge = 2**63
    assert [t.key for t in web.list_tasks("WEB", limit=huge)] == [key]
    assert web.list_tasks("WEB", offset=huge) == [] == web.list_tasks("WEB", limit=-1)
    assert [t.key for t in web.ready("WEB", limit=huge)] == []
    assert web.events_since(huge) == []
    assert len(web.events_since(-huge, limit=huge)) == web.max_event_id()
    assert web.task_events(key, limit=huge) == web.task_events(key, before_id=huge)
    assert web.task_events(key, after_id=huge) == []


def test_doing_text_is_one_short_line(web: Deck) -> None:
    task_in(web, "in_progress")
    web.doing("gen", "step\n" * 100)
    form = web.get_agent("gen").active_form
    assert "\n" not in form and len(form) <= 200


def test_error_messages_are_one_line(web: Deck) -> None:
    with pytest.raises(ValidationError) as info:
        web.add_agent("two\nlines", actor="ann")
    assert "\n" not in str(info.value)
