"""The telemetry receiver and the agent's own `usage` calls, racing on one agent and task.

Real processes (spawned interpreters), each with its own `Deck`, on a real SQLite file and a
real PostgreSQL schema (`db_url` runs both). Two processes resend the same measured batch over
and over (a sender retrying through a flaky network) while two report usage by hand. Whatever
the interleaving, the batch counts once, and the counted usage (what the budget holds) is the
larger of reported and measured per figure: the budget's running total never drifts from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from agentdeck.core import Deck
from tests.concurrency import harness, workers

TIMES = 15


def test_resent_batches_and_reports_racing_count_once_and_the_larger(
    db_url: str, tmp_path: Path
) -> None:
    with Deck.open(db_url, create=True) as deck:
        deck.create_board("RUN", "race", actor="boss", agents="token")
        deck.add_agent("w0", actor="boss")
        key = deck.add_task("the work", actor="boss").key
        deck.claim("w0", key=key)
        deck.set_budget("tokens", actor="boss", scope="task", subject=key, soft=10**9)
        token = deck.issued_token("w0", "RUN")
        assert token is not None
        now = deck.now()
    batch = json.dumps(
        [
            {"signal": "metrics", "series": f"s{i}", "end": now.isoformat(), "tokens_in": 700}
            for i in range(3)
        ]
        + [{"signal": "metrics", "series": "out", "end": now.isoformat(), "tokens_out": 40}]
    )
    procs = [
        harness.SPAWN.Process(
            target=workers.send_measured,
            args=(db_url, token, batch, TIMES, str(tmp_path / f"m{i}.json")),
        )
        for i in range(2)
    ] + [
        harness.SPAWN.Process(
            target=workers.report_usage,
            args=(db_url, token, "w0", key, TIMES, str(tmp_path / f"r{i}.json")),
        )
        for i in range(2)
    ]
    for proc in procs:
        proc.start()
    harness.join_all(procs, timeout=240)
    sent = [json.loads((tmp_path / f"m{i}.json").read_text()) for i in range(2)]
    said = [json.loads((tmp_path / f"r{i}.json").read_text()) for i in range(2)]
    assert [r["errors"] for r in sent + said] == [[]] * 4
    assert sum(sum(r["counted"]) for r in sent) == 4  # each point once, by whichever came first
    with Deck.open(db_url) as deck:
        by_source = deck.usage_by_source(task=key)
        counted = deck.usage_totals(task=key)
        [budget] = deck.budget_status("RUN", scope="task")
    assert by_source["measured"].tokens_in == 2100 and by_source["measured"].tokens_out == 40
    assert by_source["reported"].tokens_in == 100 * TIMES * 2 == 3000
    assert (counted.tokens_in, counted.tokens_out) == (3000, 40)  # the larger of each
    assert budget.used == counted.tokens == 3040
