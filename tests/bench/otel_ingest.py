"""OTLP ingest: `python -m tests.bench.otel_ingest [--batches 60] [--points 50] [--senders 4]
[--backend sqlite|postgres|both] [--pg-url URL]`.

`agentdeck otel` runs in its own process; `--senders` threads of this process each hold a task
as their own agent and POST `--batches` protobuf ExportMetricsServiceRequests of `--points`
fresh delta points each (pre-encoded, so the figure is the receiver's, not the SDK's). Prints,
per backend:
  (a) data points per second ingested over HTTP (decode, authenticate, dedupe, commit);
  (b) the same-run baseline: the same decoded batches through `Deck.record_measured`
      in-process, and the ratio (a)/(b), the cost of HTTP and decoding;
  (c) for scale, `Deck.record_usage` once per batch (an agent reporting each step itself);
  (d) the delay from the start of an export to the figure being readable the way the console
      reads it (`Deck.usage_totals` of the task, from another connection), median and p95
      over `--probes` single-point exports;
  (e) the delay from the start of an export to the console's board gauge showing it (the real
      console, headless, watching the database), over `--screen-probes` exports.
A script that prints figures, not a test (tests/otel asserts the behaviour).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from agentdeck.core import Deck
from agentdeck.core.otel import decode as otlp
from tests.bench.store import PG_ENV, postgres_schemas

AGENTDECK = Path(sys.executable).parent / "agentdeck"
BOARD = "OTEL"
NANOS = 1_000_000_000


def body(batch: int, points: int, sender: int) -> bytes:
    """One delta metrics request of `points` fresh points (a window of its own each)."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    attribute = resource.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.instance.id", f"bench-{sender}"
    metric = resource.scope_metrics.add().metrics.add()
    metric.name = otlp.TOKEN_USAGE
    metric.sum.aggregation_temporality = 1  # delta
    now = time.time_ns() - 600 * NANOS
    for n in range(points):
        point = metric.sum.data_points.add()
        point.start_time_unix_nano = now + (batch * points + n) * 1000
        point.time_unix_nano = point.start_time_unix_nano + 1000
        point.as_int = 10
        for key, value in (("type", "input"), ("model", f"m{n % 5}"), ("session.id", "s")):
            pair = point.attributes.add()
            pair.key, pair.value.string_value = key, value
    return bytes(request.SerializeToString())


def prepare(target: str, senders: int) -> tuple[list[str], list[str]]:
    """The board, one agent per sender holding a task of its own; (tokens, task keys)."""
    tokens, keys = [], []
    with Deck.open(target, create=True) as deck:
        deck.create_board(BOARD, "Ingest", actor="boss")
        for n in range(senders + 2):
            name = f"agent{n}"
            deck.add_agent(name, actor="boss")
            key = deck.add_task(f"Task {n}", actor="boss").key
            deck.claim(name, board=BOARD, key=key)
            tokens.append(deck.issued_token(name, BOARD) or "")
            keys.append(key)
    return tokens, keys


def start_server(target: str) -> tuple[subprocess.Popen[str], str, int]:
    process = subprocess.Popen(
        [str(AGENTDECK), "otel", "--port", "0", "--db", target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    found = re.search(r"http://(127\.0\.0\.1):(\d+)", process.stdout.readline())
    assert found, process.stderr.read() if process.poll() is not None else "no endpoint"
    return process, found.group(1), int(found.group(2))


def post(conn: http.client.HTTPConnection, token: str, data: bytes) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": otlp.PROTOBUF}
    conn.request("POST", "/v1/metrics", body=data, headers=headers)
    answer = conn.getresponse()
    answer.read()
    assert answer.status == 200, answer.status


def over_http(host: str, port: int, tokens: list[str], bodies: list[list[bytes]]) -> float:
    """Seconds for every sender to POST all its bodies, each on its own connection."""
    start = threading.Barrier(len(bodies) + 1)

    def send(n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        start.wait()
        for data in bodies[n]:
            post(conn, tokens[n], data)
        conn.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(bodies))]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - began


def in_process(target: str, tokens: list[str], bodies: list[list[bytes]]) -> float:
    """The same batches, decoded beforehand, through `Deck.record_measured` in this process."""
    decoded = [[otlp.decode("metrics", b, otlp.PROTOBUF) for b in mine] for mine in bodies]
    with Deck.open(target) as deck:
        start = threading.Barrier(len(bodies) + 1)

        def record(n: int) -> None:
            start.wait()
            for points in decoded[n]:
                assert deck.record_measured(tokens[n], points).counted == len(points)

        threads = [threading.Thread(target=record, args=(n,)) for n in range(len(bodies))]
        for t in threads:
            t.start()
        start.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        return time.perf_counter() - began


def reported(target: str, token: str, key: str, batches: int) -> float:
    """`Deck.record_usage` once per batch, by the task's holder, for scale."""
    with Deck.open(target) as deck:
        deck.present(token)
        began = time.perf_counter()
        for _ in range(batches):
            deck.record_usage(key, actor="agent0", tokens_in=10, model="m")
        return time.perf_counter() - began


def delay(host: str, port: int, target: str, token: str, key: str, probes: int) -> list[float]:
    """Seconds from an export's start to its figure being readable by another reader."""
    seen: list[float] = []
    conn = http.client.HTTPConnection(host, port, timeout=60)
    with Deck.open(target) as reader:
        for n in range(probes):
            before = reader.usage_totals(task=key).tokens_in
            data = body(10_000 + n, 1, 99)
            stamp: list[float] = []

            def watch(before: int = before, stamp: list[float] = stamp) -> None:
                while reader.usage_totals(task=key).tokens_in == before:
                    pass
                stamp.append(time.perf_counter())

            watcher = threading.Thread(target=watch)
            began = time.perf_counter()
            watcher.start()
            post(conn, token, data)
            watcher.join(30)
            seen.append(stamp[0] - began)
    conn.close()
    return seen


def on_screen(host: str, port: int, target: str, token: str, probes: int) -> list[float]:
    """Seconds from an export's start to the console's board gauges showing it: the real
    console (headless, its file watcher on) over the same database, charts panel open.

    Exports are spaced past the panel's reload interval (`PANELS_INTERVAL_S`): a change after
    a quiet spell reloads the panel at once, changes within it wait for the interval."""
    import asyncio

    from agentdeck.tui.console.app import AgentDeckApp
    from agentdeck.tui.console.screens import board_charts
    from agentdeck.tui.console.widgets.budget_gauges import BudgetGauges

    async def measure() -> list[float]:
        app = AgentDeckApp(db=target, board=BOARD)
        seen: list[float] = []
        conn = http.client.HTTPConnection(host, port, timeout=60)
        async with app.run_test(size=(140, 42)) as pilot:
            while not app.screen.query(BudgetGauges):
                await pilot.pause(0.05)
            await pilot.press("b")
            gauges = app.screen.query_one(BudgetGauges)

            def shown() -> int:
                return gauges.view.measured.tokens if gauges.view.measured else 0

            for n in range(probes):
                await asyncio.sleep(board_charts.PANELS_INTERVAL_S + 0.2)  # a quiet spell
                before = shown()
                began = time.perf_counter()
                await asyncio.to_thread(post, conn, token, body(20_000 + n, 1, 98))
                while shown() == before:
                    await asyncio.sleep(0.001)
                seen.append(time.perf_counter() - began)
        conn.close()
        return seen

    return asyncio.run(measure())


def run(label: str, fresh: Callable[[str], str], args: argparse.Namespace) -> None:
    bodies = [[body(b, args.points, s) for b in range(args.batches)] for s in range(args.senders)]
    total = args.senders * args.batches * args.points
    # (a) over HTTP
    target = fresh("http")
    tokens, keys = prepare(target, args.senders)
    process, host, port = start_server(target)
    try:
        http_seconds = over_http(host, port, tokens, bodies)
        probes = delay(host, port, target, tokens[-1], keys[-1], args.probes)
        screen = on_screen(host, port, target, tokens[-2], args.screen_probes)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    # (b) and (c) in process, each on a database of its own
    target = fresh("direct")
    tokens, keys = prepare(target, args.senders)
    direct_seconds = in_process(target, tokens, bodies)
    report_seconds = reported(target, tokens[0], keys[0], args.batches)
    over, base = total / http_seconds, total / direct_seconds
    print(f"{label}: {args.senders} senders x {args.batches} batches x {args.points} points")
    print(f"  (a) over HTTP (agentdeck otel):        {over:10.0f} points/s")
    print(
        f"  (b) record_measured in-process:        {base:10.0f} points/s  (a)/(b) = {over / base:.2f}"
    )
    print(f"  (c) record_usage, one call per batch:  {args.batches / report_seconds:10.0f} calls/s")
    probes.sort()
    p95 = probes[max(0, round(0.95 * len(probes)) - 1)]
    print(
        f"  (d) export -> readable by the console: median {statistics.median(probes) * 1000:.1f} ms,"
        f" p95 {p95 * 1000:.1f} ms over {len(probes)} exports"
    )
    screen.sort()
    print(
        f"  (e) export -> the console's gauge on screen: median "
        f"{statistics.median(screen) * 1000:.1f} ms, worst {screen[-1] * 1000:.1f} ms "
        f"over {len(screen)} exports after a quiet spell"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--screen-probes", type=int, default=8)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get(PG_ENV))
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run("SQLite", lambda name: str(Path(folder) / f"{name}.db"), args)
    if args.backend in ("postgres", "both") and args.pg_url:
        with postgres_schemas(args.pg_url) as fresh:
            run("PostgreSQL", fresh, args)


if __name__ == "__main__":
    main()
