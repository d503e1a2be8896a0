"""Numbers through the CLI: what an agent types to slip NaN, an infinity or a negative past
the checks. Each is exit 1, one line on stderr, nothing written; with `--json`, one strict
JSON `{"error": ...}` document."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentdeck.core import Deck


def strict(text: str) -> Any:
    """Parse `text` as strict JSON: NaN or Infinity anywhere fails the test."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output: {text!r}")

    return json.loads(text, parse_constant=refuse)


def assert_refused(cli, args: list[str], *fragments: str) -> None:
    """`args` exits 1 with one line on stderr (and one strict JSON error with --json)."""
    ran = cli(*args)
    assert ran.exit_code == 1, (ran.stdout, ran.stderr)
    [line] = ran.stderr.splitlines()
    assert line.startswith("agentdeck: error: ")
    for fragment in fragments:
        assert fragment in line, line
    ran = cli(*args, "--json")
    assert ran.exit_code == 1, (ran.stdout, ran.stderr)
    [doc] = [strict(line) for line in ran.stdout.splitlines()]
    assert doc["error"]["exit_code"] == 1
    for fragment in fragments:
        assert fragment in doc["error"]["message"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("nan", "not nan"), ("NaN", "not nan"), ("1e400", "not inf"), ("-inf", "not -inf"),
     ("-5", "not -5.0"), ("-0.01", "not -0.01")],
)  # fmt: skip
@pytest.mark.parametrize("field", ["soft", "hard"])
def test_budget_set_refuses_a_limit_that_is_not_a_finite_number_from_zero(
    cli, web: str, deck: Deck, unchanged, field: str, value: str, shown: str
) -> None:
    check = unchanged()
    assert_refused(
        cli,
        ["budget", "set", "tokens", f"--{field}", value, "--as", "ann"],
        f"{field} limit must be a finite number >= 0, {shown}",
    )
    check()
    assert deck.budget_status() == []
    ran = cli("budget", "set", "tokens", f"--{field}", "0", "--as", "ann", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert strict(ran.stdout)[field] == 0


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": {"b": [1, -Infinity]}}', "-Infinity"),
        ('{"a": 1e999}', "inf"),
        ('{"a": [[[{"b": -1e400}]]]}', "-inf"),
    ],
)
def test_log_data_refuses_nan_and_infinity_anywhere(
    cli, web: str, deck: Deck, unchanged, data: str, shown: str
) -> None:
    deck.claim("coder")
    check = unchanged()
    assert_refused(
        cli,
        ["log", "WEB-1", "ran tests", "--data", data, "--as", "coder"],
        f"JSON numbers must be finite, not {shown}",
    )
    check()
    ran = cli("export", "--json")
    assert ran.exit_code == 0, ran.stderr
    strict(ran.stdout)


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        ([], ("nothing to record: give at least one of",)),
        (["--model", "m1", "--tokens-in", "0"], ("nothing to record",)),
        (["--cost", "nan"], ("cost_usd must be a finite number from 0 to 1e9", "nan")),
        (["--cost", "1e400"], ("cost_usd must be a finite number", "not inf")),
        (["--gpu-seconds", "-1"], ("gpu_seconds must be a finite number", "not -1.0")),
        (["--tokens-in", "-5"], ("tokens_in must be a whole number", "not -5")),
    ],
    ids=["nothing", "zero and a model", "nan cost", "1e400 cost", "negative gpu", "negative in"],
)
def test_usage_refuses_nothing_and_numbers_that_are_not_finite_from_zero(
    cli, web: str, deck: Deck, unchanged, options: list[str], fragments: tuple[str, ...]
) -> None:
    deck.claim("coder")
    check = unchanged()
    assert_refused(cli, ["usage", "WEB-1", *options, "--as", "coder"], *fragments)
    check()
    assert deck.usage_totals("WEB").tokens == 0


def test_doing_names_the_task_it_set(cli, web: str, deck: Deck) -> None:
    deck.claim("coder")
    ran = cli("doing", "Writing the migration", "--as", "coder", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert strict(ran.stdout) == {
        "agent": "coder",
        "task": "WEB-1",
        "doing": "Writing the migration",
    }
    assert deck.get_task("WEB-1").active_form == "Writing the migration"
    ran = cli("doing", "Running tests", "--as", "coder")
    assert ran.stdout == "coder is doing: Running tests (on WEB-1)\n"
    ran = cli("doing", "Reading the docs", "--as", "designer", "--json")
    assert strict(ran.stdout)["task"] is None  # designer holds nothing


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e400"])
def test_task_add_refuses_an_estimate_that_is_not_a_finite_number_from_zero(
    cli, web: str, unchanged, value: str
) -> None:
    check = unchanged()
    assert_refused(
        cli,
        ["task", "add", "Estimate me", "--estimate", value, "--as", "planner"],
        "estimate_hours must be a finite number >= 0",
    )
    check()


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [("plan.json", '[{"title": "x", "estimate_hours": NaN}]', "JSON numbers must be finite"),
     ("plan.json", '[{"title": "x", "estimate_hours": 1e999}]', "estimate_hours must be a finite"),
     ("plan.yaml", "- title: x\n  estimate_hours: .nan\n", "estimate_hours must be a finite"),
     ("plan.yaml", "- title: x\n  estimate_hours: -.inf\n", "estimate_hours must be a finite")],
)  # fmt: skip
def test_a_plan_file_cannot_carry_a_non_finite_estimate(
    cli, web: str, tmp_path, unchanged, name: str, text: str, says: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    check = unchanged()
    assert_refused(cli, ["plan", str(path), "--as", "planner"], name, says)
    check()


def test_an_import_file_with_nan_is_refused_naming_it(cli, web: str, tmp_path, unchanged) -> None:
    path = tmp_path / "board.json"
    path.write_text('{"format": "agentdeck-board", "version": 1, "boards": [], "x": NaN}')
    check = unchanged()
    assert_refused(
        cli, ["import", str(path), "--as", "ann"], "board.json", "JSON numbers must be finite"
    )
    check()
