"""Burn-down: open tasks and scope from the per-minute rollup, the ideal line, the throughput
forecast with its range, and no forecast until there is history enough to make one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agentdeck.core import Deck
from agentdeck.core.metrics import MAX_POINTS
from agentdeck.core.models import BurnDown
from agentdeck.core.storage import flow
from tests.conftest import START, FakeClock, sqlite_time
from tests.core.helpers import claim_key

DAY = 24 * 3600


def states(burn: BurnDown) -> list[tuple[datetime, int, int]]:
    """(at, open, scope) of each point, repeats of the same state at the same time dropped."""
    out: list[tuple[datetime, int, int]] = []
    for p in burn.points:
        if not out or out[-1] != (p.at, p.open, p.scope):
            out.append((p.at, p.open, p.scope))
    return out


def minute_of(at: datetime) -> datetime:
    """The start of `at`'s minute: the rollup's resolution."""
    return at.replace(second=0, microsecond=0)


def finish(deck: Deck, key: str) -> None:
    claim_key(deck, key)
    deck.complete(key, actor="gen", result="done", verified_by="pytest")


def test_an_empty_board_has_no_series_and_no_forecast(web: Deck) -> None:
    burn = web.burndown()
    assert burn.points == () and burn.ideal == () and burn.forecast == ()
    assert burn.forecast_done_at is None and burn.throughput_per_day == 0.0
    assert burn.to_dict()["points"] == []


@sqlite_time
def test_open_and_scope_follow_creates_completions_reopens_and_cancels(
    web: Deck, clock: FakeClock
) -> None:
    a, b, c, d = (web.add_task(f"Task {n}", actor="ann").key for n in "abcd")
    day = [clock.now]

    def next_day() -> None:
        day.append(clock.advance(DAY))

    next_day()
    finish(web, a)  # done straight away
    next_day()
    claim_key(web, b)
    web.submit(b, actor="gen", result="please look", verified_by="pytest")
    web.approve(b, actor="bob")  # done through review
    next_day()
    web.reopen(a, actor="ann", notes="the form lost its labels")  # back to open
    next_day()
    web.cancel(d, actor="ann", reason="out of scope")  # leaves the scope
    next_day()
    web.add_task("Task e", actor="ann")  # scope grows
    claim_key(web, c)
    web.fail(c, actor="gen", reason="flaky upstream")  # failed is still open work
    clock.advance(DAY / 2)

    burn = web.burndown()
    assert states(burn) == [
        (day[0], 4, 4),
        (day[1], 3, 4),
        (day[2], 2, 4),
        (day[3], 3, 4),
        (day[4], 2, 3),
        (day[5], 3, 4),
        (clock.now, 3, 4),  # the series runs on to now
    ]
    last, counts = burn.points[-1], web.counts()
    assert (last.open, last.scope) == (counts.total - counts.done, counts.total)


def test_tasks_created_together_make_one_point_and_the_ideal_starts_from_all_of_them(
    deck: Deck,
) -> None:
    due = deck.now() + timedelta(days=10)
    deck.create_board("WEB", "Website", actor="ann", due_at=due)
    deck.plan([{"title": f"Step {n}"} for n in range(6)], actor="ann")
    planned = minute_of(deck.get_task("WEB-1").created_at)  # one plan, one transaction
    burn = deck.burndown()
    assert states(burn)[0] == (planned, 6, 6)
    assert {(p.open, p.scope) for p in burn.points} == {(6, 6)}
    assert [(p.at, p.open, p.scope) for p in burn.ideal] == [(planned, 6, 6), (due, 0, 6)]
    assert burn.due_at == due


def test_ideal_line_needs_a_due_date_after_the_start(deck: Deck) -> None:
    deck.create_board("NODUE", "No due date", actor="ann")
    deck.add_task("Something", actor="ann")
    assert deck.burndown().ideal == ()
    deck.create_board("LATE", "Due before it began", actor="ann", due_at=START - timedelta(1))
    deck.add_task("Something", actor="ann", board="LATE")
    assert deck.burndown("LATE").ideal == ()


@sqlite_time
def test_forecast_comes_from_the_last_seven_days_of_throughput(web: Deck, clock: FakeClock) -> None:
    keys = [t.key for t in web.plan([{"title": f"Page {n}"} for n in range(10)], actor="ann")]
    clock.advance(DAY)
    finish(web, keys[0])  # long before the window: does not count
    clock.advance(DAY)
    finish(web, keys[1])
    clock.advance(4 * DAY)  # day 6
    for key in keys[2:8]:  # days 6..11: six finished in the window
        clock.advance(DAY * 5 / 6)
        finish(web, key)
    web.reopen(keys[7], actor="ann", notes="broken link")  # and one reopened: net five
    clock.advance(DAY / 2)
    burn = web.burndown()
    assert burn.throughput_per_day == round(5 / 7, 3)
    last = burn.points[-1]
    assert (last.at, last.open) == (clock.now, 10 - 7)
    expected = clock.now + timedelta(days=3 / (5 / 7))
    assert burn.forecast_done_at is not None
    assert abs((burn.forecast_done_at - expected).total_seconds()) < 1
    assert burn.forecast[0] == last
    assert (burn.forecast[1].open, burn.forecast[1].scope) == (0, 10)


def test_no_forecast_without_recent_throughput(web: Deck, clock: FakeClock) -> None:
    keys = [web.add_task(f"Page {n}", actor="ann").key for n in range(3)]
    finish(web, keys[0])
    clock.advance(8 * DAY)  # that completion is now older than a week
    burn = web.burndown()
    assert burn.throughput_per_day == 0.0
    assert burn.forecast == () and burn.forecast_done_at is None


def test_a_finished_board_is_forecast_done_when_its_last_task_was(
    web: Deck, clock: FakeClock
) -> None:
    key = web.add_task("Only task", actor="ann").key
    clock.advance(3600)
    finish(web, key)
    completed = web.get_task(key).completed_at
    assert completed is not None
    done_at = minute_of(completed)
    clock.advance(DAY)
    burn = web.burndown()
    assert burn.points[-1].open == 0 and burn.forecast == ()
    assert burn.forecast_done_at == done_at


def _long_history(days: int) -> dict[str, Any]:
    """An exported board with a task created and one finished every few hours for `days` days."""
    start = START - timedelta(days=days)
    tasks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n in range(1, days * 4 + 1):
        at = start + timedelta(hours=6 * n)
        key = f"OLD-{n}"
        finished = n % 5 != 0
        tasks.append(
            {
                "key": key,
                "title": f"Chore {n}",
                "status": "done" if finished else "pending",
                "created_at": at.isoformat(),
            }
        )
        events.append(
            {"task": key, "actor": "ann", "kind": "created", "created_at": at.isoformat()}
        )
        if finished:
            events.append(
                {
                    "task": key,
                    "actor": "ann",
                    "kind": "status",
                    "subkind": "done",
                    "data": {"from": "in_progress", "to": "done"},
                    "created_at": (at + timedelta(hours=3)).isoformat(),
                }
            )
    return {
        "format": "agentdeck-board",
        "version": 1,
        "exported_at": START.isoformat(),
        "board": {"key": "OLD", "name": "A long history", "created_at": start.isoformat()},
        "agents": [{"name": "ann", "kind": "human", "created_at": start.isoformat()}],
        "tasks": tasks,
        "events": events,
    }


@sqlite_time  # on PostgreSQL "now" is the server's, years after this history: few buckets hold it
def test_a_long_history_is_downsampled_and_still_ends_at_the_current_counts(deck: Deck) -> None:
    deck.import_board(_long_history(days=90), actor="ann")
    before = deck.now()
    burn = deck.burndown("OLD")
    assert len(burn.points) <= MAX_POINTS
    assert len(burn.points) > MAX_POINTS // 2  # downsampled, not collapsed
    times = [p.at for p in burn.points]
    assert times == sorted(times)
    assert times[0] == START - timedelta(days=90) + timedelta(hours=6)
    counts, last = deck.counts("OLD"), burn.points[-1]
    assert before <= last.at <= deck.now()  # the series runs on to now
    assert (last.open, last.scope) == (counts.total - counts.done, counts.total)
    assert counts.total == 90 * 4 and counts.done == 90 * 4 - 90 * 4 // 5
    assert max(p.scope for p in burn.points) == counts.total


@sqlite_time
def test_two_tasks_finished_in_a_minute_make_no_forecast_and_say_why(
    web: Deck, clock: FakeClock
) -> None:
    keys = [t.key for t in web.plan([{"title": f"Page {n}"} for n in range(6)], actor="ann")]
    clock.advance(20)
    finish(web, keys[0])
    finish(web, keys[1])
    clock.advance(30)
    burn = web.burndown()
    assert burn.forecast == () and burn.forecast_done_at is None
    assert burn.forecast_note == (
        "no forecast yet: 2 tasks finished over 1 minute (it needs 5 over at least 10 minutes)"
    )
    assert [(p.open, p.scope) for p in burn.points] == [(4, 6), (4, 6)]


@sqlite_time
def test_the_forecast_has_a_range_that_narrows_with_history(web: Deck, clock: FakeClock) -> None:
    keys = [t.key for t in web.plan([{"title": f"Page {n}"} for n in range(60)], actor="ann")]

    def finish_some(count: int) -> BurnDown:
        for key in [k for k in keys if web.get_task(k).status == "pending"][:count]:
            clock.advance(3600)
            finish(web, key)
        return web.burndown()

    few = finish_some(6)
    many = finish_some(30)
    for burn in (few, many):
        assert burn.forecast_note == ""
        assert burn.forecast_early is not None and burn.forecast_done_at is not None
        assert burn.forecast_early < burn.forecast_done_at
        assert burn.forecast_late is None or burn.forecast_done_at < burn.forecast_late
    assert few.forecast_late is not None and many.forecast_late is not None
    spread = [
        (b.forecast_late - b.forecast_early) / (b.forecast_done_at - clock.now) for b in (few, many)
    ]  # type: ignore[operator]
    assert spread[1] < spread[0]  # relative to the time left, more history, a narrower range


def test_the_rollup_kept_as_events_are_written_equals_one_rebuilt_from_them(web: Deck) -> None:
    keys = [web.add_task(f"Task {n}", actor="ann").key for n in range(5)]
    finish(web, keys[0])
    web.cancel(keys[1], actor="ann", reason="not needed")
    finish(web, keys[2])
    web.reopen(keys[2], actor="ann", notes="again")
    claim_key(web, keys[3])
    web.submit(keys[3], actor="gen", result="look", verified_by="pytest")
    web.approve(keys[3], actor="bob")
    with web.engine.connect() as conn:
        kept = conn.execute(flow.flow_t.select().order_by("board_id", "minute")).all()
        conn.rollback()
        [board_id] = {row.board_id for row in kept}
        with conn.begin() as rebuilding:
            flow.rebuild(conn, board_id)
            rebuilt = conn.execute(flow.flow_t.select().order_by("board_id", "minute")).all()
            rebuilding.rollback()
    assert kept == rebuilt
    assert (sum(r.scope for r in kept), sum(r.done for r in kept)) == (4, 2)


def _rows(deck: Deck, table: Any, at: str) -> list[Any]:
    with deck.engine.connect() as conn:
        return list(conn.execute(table.select().order_by("board_id", at)).all())


@sqlite_time
def test_the_hour_rollup_is_the_minute_rollup_summed_by_hour_kept_and_rebuilt(
    web: Deck, clock: FakeClock
) -> None:
    """Written as events come (creates, finishes, a reopen, a cancel, minutes and hours
    apart, two in one hour), the hour rows are the minute rows summed per hour, and a rebuild
    from the events gives the same hour rows."""
    keys = [web.add_task(f"Task {n}", actor="ann").key for n in range(6)]
    for n, key in enumerate(keys[:4]):
        clock.advance(1500 if n % 2 else 7300)
        finish(web, key)
    web.reopen(keys[1], actor="ann", notes="again")
    clock.advance(60)
    web.cancel(keys[5], actor="ann", reason="cut")
    minutes = _rows(web, flow.flow_t, "minute")
    summed: dict[tuple[int, int], tuple[int, int]] = {}
    for r in minutes:
        s, d = summed.get((r.board_id, r.minute // 60), (0, 0))
        summed[(r.board_id, r.minute // 60)] = (s + r.scope, d + r.done)
    hours = _rows(web, flow.flow_hour_t, "hour")
    assert {(r.board_id, r.hour): (r.scope, r.done) for r in hours} == summed
    assert len(hours) < len(minutes)  # some hour holds more than one minute
    [board_id] = {r.board_id for r in hours}
    with web.engine.connect() as conn, conn.begin() as rebuilding:
        flow.rebuild(conn, board_id)
        rebuilt = conn.execute(flow.flow_hour_t.select().order_by("board_id", "hour")).all()
        rebuilding.rollback()
    assert list(rebuilt) == hours


@sqlite_time
def test_a_long_history_is_read_by_the_hour_and_matches_the_minutes(deck: Deck) -> None:
    """A 90-day board's series comes from hour buckets: each point's open and scope are the
    minute rows summed up to the end of that point's hour, and no point is stamped more than
    an hour after the change it shows."""
    deck.import_board(_long_history(days=90), actor="ann")
    burn = deck.burndown("OLD")
    minutes = [r for r in _rows(deck, flow.flow_t, "minute")]
    for point in burn.points[1:-1]:
        upto = [r for r in minutes if r.minute <= int(point.at.timestamp() // 60)]
        scope = sum(r.scope for r in upto)
        assert (point.open, point.scope) == (scope - sum(r.done for r in upto), scope)
        last_change = max(r.minute for r in upto)
        assert 0 <= int(point.at.timestamp() // 60) - last_change < 60


def test_every_point_has_open_work_within_the_scope(web: Deck, clock: FakeClock) -> None:
    """Whatever mix of creates, completions, reopens and cancels (seeded), no point of the
    series has open work below nothing or above the scope: scope changes show as scope."""
    import random

    rng = random.Random(18)
    open_keys: list[str] = []
    done_keys: list[str] = []
    for _ in range(24):
        move = rng.choice(["add", "add", "finish", "finish", "reopen", "cancel"])
        if move == "add" or not open_keys:
            open_keys.append(web.add_task(f"Task {len(open_keys)}", actor="ann").key)
        elif move == "finish":
            key = open_keys.pop(rng.randrange(len(open_keys)))
            finish(web, key)
            done_keys.append(key)
        elif move == "reopen" and done_keys:
            key = done_keys.pop(rng.randrange(len(done_keys)))
            web.reopen(key, actor="ann", notes="again")
            open_keys.append(key)
        elif move == "cancel":
            web.cancel(open_keys.pop(rng.randrange(len(open_keys))), actor="ann", reason="cut")
        clock.advance(rng.choice([30, 90, 3600]))
    burn = web.burndown()
    assert burn.points
    for point in burn.points:
        assert 0 <= point.open <= point.scope, point
    counts = web.counts()
    assert (burn.points[-1].open, burn.points[-1].scope) == (
        counts.total - counts.done,
        counts.total,
    )
