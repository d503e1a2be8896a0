"""Numbers agents send: NaN, infinities and negatives never reach the database.

NaN compares false against everything, so a NaN budget limit was silently off; an infinity
made every later `--json` answer and export invalid JSON; PostgreSQL refused both with an
unexpected DataError. Each is now a one-line ValidationError, nothing written, on both backends.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentdeck.core import Deck, ValidationError
from tests.core.helpers import Refused, events_after, task_in

NAN, INF = float("nan"), float("inf")
NOT_FINITE = [NAN, INF, -INF]
NEGATIVE = [-1, -0.001, -INF]


def strict(doc: Any) -> Any:
    """`doc` through strict JSON both ways: fails on NaN or an infinity anywhere."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(json.dumps(doc, allow_nan=False, default=str), parse_constant=refuse)


@pytest.mark.parametrize("field", ["soft", "hard"])
@pytest.mark.parametrize("value", [*NOT_FINITE, *NEGATIVE, 10**400], ids=repr)
def test_a_budget_limit_must_be_a_finite_number_not_below_zero(
    web: Deck, refused: Refused, field: str, value: float
) -> None:
    shown = repr(value)[:10]
    with refused(ValidationError, f"{field} limit must be a finite number >= 0, not {shown}"):
        web.set_budget("tokens", actor="ann", **{field: value})
    assert web.budget_status() == []


def test_a_nan_limit_beside_a_good_one_is_still_refused(web: Deck, refused: Refused) -> None:
    with refused(ValidationError, "soft limit", "not nan"):
        web.set_budget("cost_usd", actor="ann", soft=NAN, hard=10)


def test_zero_fractional_and_big_whole_limits_still_work(web: Deck) -> None:
    assert web.set_budget("cost_usd", actor="ann", soft=0.5, hard=2.25).hard == 2.25
    assert web.set_budget("tokens", actor="ann", soft=0, hard=10**12).hard == 10**12
    [cost, tokens] = web.budget_status()
    assert cost.metric == "cost_usd"
    assert (tokens.soft, tokens.level) == (0, "warn")  # 0 used reaches a soft limit of 0
    strict(web.export_board())


@pytest.mark.parametrize("field", ["cost_usd", "cpu_seconds", "gpu_seconds"])
@pytest.mark.parametrize("value", [*NOT_FINITE, *NEGATIVE], ids=repr)
def test_a_usage_amount_must_be_a_finite_number_not_below_zero(
    web: Deck, refused: Refused, field: str, value: float
) -> None:
    key = task_in(web, "in_progress")
    with refused(ValidationError, f"{field} must be a finite number from 0 to 1e9", repr(value)):
        web.record_usage(key, actor="gen", tokens_in=10, **{field: value})


@pytest.mark.parametrize("field", ["tokens_in", "tokens_out"])
@pytest.mark.parametrize("value", [NAN, INF, -1, 1.5, 2**31, 10**12], ids=repr)
def test_a_token_count_must_be_a_whole_number_not_below_zero(
    web: Deck, refused: Refused, field: str, value: float
) -> None:
    with refused(ValidationError, f"{field} must be a whole number from 0 to 2147483647"):
        web.record_usage(None, actor="gen", cost_usd=0.1, **{field: value})


@pytest.mark.parametrize(
    "amounts",
    [
        {},
        {"model": "claude"},
        {"tokens_in": None},
        dict.fromkeys(("tokens_in", "tokens_out", "cost_usd", "cpu_seconds", "gpu_seconds")),
        {"tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0, "cpu_seconds": 0, "gpu_seconds": 0.0},
    ],
    ids=["nothing", "a model only", "tokens_in null", "all null", "all zero"],
)
def test_usage_with_nothing_to_record_is_refused(
    web: Deck, refused: Refused, amounts: dict[str, Any]
) -> None:
    key = task_in(web, "in_progress")
    with refused(ValidationError, "nothing to record: give at least one of", "tokens_in"):
        web.record_usage(key, actor="gen", **amounts)


def test_usage_with_one_real_amount_records_and_the_rest_count_as_zero(web: Deck) -> None:
    key = task_in(web, "in_progress")
    cursor = web.max_event_id()
    web.record_usage(key, actor="gen", tokens_in=None, gpu_seconds=0.25)
    web.record_usage(None, actor="gen", tokens_out=2**31 - 1)
    web.record_usage(None, actor="gen", cost_usd=1e9)
    totals = web.usage_totals("WEB")
    assert (totals.tokens_in, totals.tokens_out, totals.gpu_seconds) == (0, 2**31 - 1, 0.25)
    assert totals.cost_usd == 1e9
    first = next(e for e in events_after(web, cursor) if e.kind == "usage")
    assert first.data == {"gpu_seconds": 0.25}


def _deep(value: Any, levels: int) -> Any:
    for _ in range(levels):
        value = {"next": [value]}
    return value


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"a": NAN}, "nan"),
        ({"a": INF}, "inf"),
        ({"ok": 1, "list": [0.5, {"b": -INF}]}, "-inf"),
        ({"deep": _deep(NAN, 40)}, "nan"),
        ({"tuple": (1.0, INF)}, "inf"),
    ],
    ids=["nan", "inf", "-inf in a list", "nan 80 levels down", "inf in a tuple"],
)
def test_log_data_never_holds_nan_or_infinity(
    web: Deck, refused: Refused, data: dict[str, Any], shown: str
) -> None:
    key = task_in(web, "in_progress")
    with refused(ValidationError, f"JSON numbers must be finite, not {shown}"):
        web.log(key, "ran the tests", actor="gen", data=data)


def test_log_data_with_ordinary_numbers_is_kept_as_given(web: Deck) -> None:
    key = task_in(web, "in_progress")
    data = {"zero": 0, "half": 0.5, "negative": -3.25, "big": 10**18, "tiny": 5e-324}
    assert web.log(key, "numbers", actor="gen", data=data).data == data
    assert web.task_events(key)[-1].data == data
    strict(web.export_board())


def test_doing_answers_the_task_it_shows_on(web: Deck) -> None:
    key = task_in(web, "in_progress")
    assert web.doing("gen", "Writing the migration") == key
    assert web.get_task(key).active_form == "Writing the migration"
    assert web.doing("gen", "Running tests", key=key.lower()) == key
    assert web.doing("fe", "Reading the docs") is None  # fe holds nothing


def test_a_nan_value_never_leaves_the_export_invalid(web: Deck) -> None:
    """The whole set of refusals, end to end: after every attempt, the board exports as
    strict JSON with no non-finite number in it."""
    key = task_in(web, "in_progress")
    for attempt in (
        lambda: web.set_budget("tokens", actor="ann", hard=NAN),
        lambda: web.set_budget("tokens", actor="ann", hard=10**400),
        lambda: web.record_usage(key, actor="gen", cost_usd=INF),
        lambda: web.log(key, "x", actor="gen", data={"a": NAN}),
    ):
        with pytest.raises(ValidationError):
            attempt()
    assert web.budget_status() == []
    assert web.usage_totals("WEB").cost_usd == 0
    strict(web.export_board())
