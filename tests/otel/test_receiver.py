"""The OTLP receiver over real HTTP, on a real deck (both backends): what it takes lands on
the sender's task; every refusal gets its status, is counted, and changes nothing else."""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from agentdeck.core import Deck
from agentdeck.core.otel.receiver import Receiver
from tests.conftest import _dump, make_web_board
from tests.core.helpers import task_in
from tests.otel import sdk

LIMIT = 64 * 1024


@pytest.fixture
def live(db_url: str) -> Iterator[tuple[Deck, Receiver]]:
    """The WEB board on the machine's (or server's) real clock, and a receiver on a free port:
    the SDK stamps points with real time, which a test clock would call the future."""
    with Deck.open(db_url, create=True) as deck:
        make_web_board(deck)
        receiver = Receiver(deck, port=0, max_body=LIMIT).start()
        try:
            yield deck, receiver
        finally:
            receiver.stop()


def token(deck: Deck, name: str = "gen") -> str:
    minted = deck.issued_token(name, "WEB")
    assert minted is not None
    return minted


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.type = response.getheader("Content-Type")
        self.closes = (response.getheader("Connection") or "").lower() == "close"
        self.body = response.read()


def send(
    receiver: Receiver,
    path: str,
    body: bytes,
    headers: dict[str, str],
    *,
    method: str = "POST",
    conn: http.client.HTTPConnection | None = None,
    chunked: bool = False,
) -> Answer:
    conn = conn or http.client.HTTPConnection(receiver.host, receiver.port, timeout=30)
    if chunked:
        conn.request(
            method,
            path,
            body=iter([body[: len(body) // 2], body[len(body) // 2 :]]),
            headers=headers,
            encode_chunked=True,
        )
    else:
        conn.request(method, path, body=body, headers=headers)
    return Answer(conn.getresponse())


def bearer(deck: Deck, kind: str = sdk.PROTOBUF, name: str = "gen") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(deck, name)}", "Content-Type": kind}


def claude_metrics(kind: str, **res: Any) -> bytes:
    meter = sdk.Metrics(sdk.resource(**res), delta=True)
    meter.claude(input=1000, output=200, cacheRead=3000, cost=0.5)
    return meter.collect(kind)


@pytest.mark.parametrize("kind", sdk.ENCODINGS)
def test_a_batch_lands_on_the_held_task_and_is_answered_in_its_encoding(
    live: tuple[Deck, Receiver], kind: str
) -> None:
    deck, receiver = live
    key = task_in(deck, "in_progress")
    answer = send(receiver, "/v1/metrics", claude_metrics(kind), bearer(deck, kind))
    assert (answer.status, answer.type) == (200, kind)
    if kind == sdk.JSON:
        assert json.loads(answer.body) == {}
    else:
        assert answer.body == b""  # an empty ExportMetricsServiceResponse
    totals = deck.usage_by_source(task=key)["measured"]
    assert (totals.tokens_in, totals.tokens_out, totals.cost_usd) == (4000, 200, pytest.approx(0.5))
    assert receiver.points == 4


def test_a_replayed_request_adds_nothing(live: tuple[Deck, Receiver]) -> None:
    deck, receiver = live
    key = task_in(deck, "in_progress")
    body = sdk.api_requests(
        sdk.resource(), [{"input_tokens": 10, "output_tokens": 5}], sdk.PROTOBUF
    )
    for _ in range(3):
        assert send(receiver, "/v1/logs", body, bearer(deck)).status == 200
    assert deck.usage_totals(task=key).tokens == 15


def test_gzip_and_chunked_as_node_exporters_send_them(live: tuple[Deck, Receiver]) -> None:
    deck, receiver = live
    key = task_in(deck, "in_progress")
    body = gzip.compress(sdk.spans(sdk.resource(), [{"gen_ai.usage.input_tokens": 33}], sdk.JSON))
    headers = {**bearer(deck, sdk.JSON), "Content-Encoding": "gzip"}
    assert send(receiver, "/v1/traces", body, headers, chunked=True).status == 200
    assert deck.usage_totals(task=key).tokens_in == 33


def test_a_pinned_task_the_sender_does_not_hold_is_a_partial_success(
    live: tuple[Deck, Receiver],
) -> None:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceResponse,
    )

    deck, receiver = live
    other = deck.add_task("Someone else's", actor="ann").key
    answer = send(
        receiver, "/v1/metrics", claude_metrics(sdk.PROTOBUF, agentdeck__task=other), bearer(deck)
    )
    assert answer.status == 200
    partial = ExportMetricsServiceResponse.FromString(answer.body).partial_success
    assert partial.rejected_data_points == 4 and other in partial.error_message
    assert deck.usage_totals(board="WEB").tokens == 0


def _refusal_cases() -> list[Any]:
    body = claude_metrics(sdk.PROTOBUF)
    unknown = "adk_" + "Q" * 43
    bomb = gzip.compress(b"\0" * (LIMIT * 50))
    return [
        pytest.param("/v1/metric", body, {}, 404, "unsupported", id="wrong-path"),
        pytest.param(
            "/v1/metrics", body, {"Authorization": None}, 401, "credential", id="no-credential"
        ),
        pytest.param(
            "/v1/metrics",
            body,
            {"Authorization": "Basic Z2VuOmdlbg=="},
            401,
            "credential",
            id="basic",
        ),
        pytest.param(
            "/v1/metrics",
            body,
            {"Authorization": f"Bearer {unknown}"},
            401,
            "credential",
            id="unknown-token",
        ),
        pytest.param(
            "/v1/metrics",
            body,
            {"Authorization": "Bearer hunter2"},
            401,
            "credential",
            id="not-a-token",
        ),
        pytest.param(
            "/v1/metrics", body, {"Content-Type": "text/plain"}, 415, "unsupported", id="text"
        ),
        pytest.param(
            "/v1/metrics", body, {"Content-Encoding": "br"}, 415, "unsupported", id="brotli"
        ),
        pytest.param("/v1/metrics", b"\xff" * 64, {}, 400, "malformed", id="garbage"),
        pytest.param(  # an unknown sender is refused as such, whatever it sent
            "/v1/metrics",
            b"\xff" * 64,
            {"Authorization": f"Bearer {unknown}"},
            401,
            "credential",
            id="garbage-from-an-unknown-sender",
        ),
        pytest.param(
            "/v1/traces",
            b'{"resourceSpans": 7}',
            {"Content-Type": sdk.JSON},
            400,
            "malformed",
            id="bad-json",
        ),
        pytest.param("/v1/metrics", b"\0" * (LIMIT + 1), {}, 413, "too large", id="over-limit"),
        pytest.param(
            "/v1/metrics", bomb, {"Content-Encoding": "gzip"}, 413, "too large", id="gzip-bomb"
        ),
    ]


@pytest.mark.parametrize(("path", "body", "headers", "status", "reason"), _refusal_cases())
def test_a_refused_request_changes_nothing_but_its_count(
    live: tuple[Deck, Receiver],
    path: str,
    body: bytes,
    headers: dict[str, str | None],
    status: int,
    reason: str,
) -> None:
    deck, receiver = live
    task_in(deck, "in_progress")
    before, cursor = _without_refusals(deck), deck.max_event_id()
    sent = {**bearer(deck), **headers}
    conn = http.client.HTTPConnection(receiver.host, receiver.port, timeout=30)
    answer = send(receiver, path, body, {k: v for k, v in sent.items() if v is not None}, conn=conn)
    assert answer.status == status
    assert deck.refusals() == {reason: 1}
    assert deck.max_event_id() == cursor and _without_refusals(deck) == before
    # the answer is a google.rpc.Status saying why
    assert answer.body and b"\n" not in answer.body
    if not answer.closes:  # the refused body was read to its end: the connection goes on
        again = send(receiver, "/v1/metrics", claude_metrics(sdk.PROTOBUF), bearer(deck), conn=conn)
        assert again.status == 200


def test_a_chunked_body_over_the_limit_is_refused(live: tuple[Deck, Receiver]) -> None:
    deck, receiver = live
    answer = send(receiver, "/v1/logs", b"\0" * (2 * LIMIT), bearer(deck), chunked=True)
    assert (answer.status, answer.closes) == (413, True)
    assert deck.refusals() == {"too large": 1}


def test_a_revoked_credential_is_refused(live: tuple[Deck, Receiver]) -> None:
    deck, receiver = live
    headers = bearer(deck, name="fe")
    deck.revoke_credential("fe", actor="ann", board="WEB")
    assert send(receiver, "/v1/metrics", claude_metrics(sdk.PROTOBUF), headers).status == 401
    assert deck.refusals() == {"credential": 1}


def test_get_is_not_allowed(live: tuple[Deck, Receiver]) -> None:
    deck, receiver = live
    answer = send(receiver, "/v1/metrics", b"", {}, method="GET")
    assert answer.status == 405
    assert deck.usage_totals(board="WEB").tokens == 0


def _without_refusals(deck: Deck) -> list[Any]:
    return [(name, rows) for name, rows in _dump(deck) if name != "refusal"]
