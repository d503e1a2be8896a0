"""The decoder (`agentdeck.core.otel.decode`) on payloads the real OpenTelemetry SDK encoded,
protobuf and JSON alike, and on bodies an adversary would send instead."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest

from agentdeck.core.models import MeasuredPoint
from agentdeck.core.otel import decode as otlp
from tests.otel import sdk


def points(signal: str, body: bytes, kind: str) -> list[MeasuredPoint]:
    return otlp.decode(signal, body, kind)


def total(found: list[MeasuredPoint]) -> tuple[int, int, float]:
    return (
        sum(p.tokens_in for p in found),
        sum(p.tokens_out for p in found),
        round(sum(p.cost_usd for p in found), 6),
    )


@pytest.mark.parametrize("delta", [False, True], ids=["cumulative", "delta"])
def test_claude_code_metrics_read_the_same_from_protobuf_and_json(delta: bool) -> None:
    meter = sdk.Metrics(sdk.resource(agentdeck__task="WEB-3"), delta=delta)
    meter.claude(input=1200, output=300, cacheRead=5000, cacheCreation=40, cost=0.25)
    meter.other.add(12, {"type": "added"})  # another of Claude Code's metrics: ignored
    data = meter.reader.get_metrics_data()
    from_proto = points("metrics", sdk.encode_metrics(data, sdk.PROTOBUF), sdk.PROTOBUF)
    from_json = points("metrics", sdk.encode_metrics(data, sdk.JSON), sdk.JSON)
    assert from_proto == from_json
    assert total(from_proto) == (1200 + 5000 + 40, 300, 0.25)
    assert len(from_proto) == 5 and len({p.series for p in from_proto}) == 5
    for p in from_proto:
        assert (p.signal, p.cumulative, p.model, p.session, p.task) == (
            "metrics",
            not delta,
            "claude-sonnet-4",
            "sess-1",
            "WEB-3",
        )
        assert p.start is not None and p.start <= p.end


def test_a_cumulative_series_keeps_its_key_and_grows() -> None:
    meter = sdk.Metrics(sdk.resource())
    meter.claude(output=100)
    first = points("metrics", meter.collect(sdk.PROTOBUF), sdk.PROTOBUF)
    meter.claude(output=50)
    second = points("metrics", meter.collect(sdk.JSON), sdk.JSON)
    assert [p.series for p in first] == [p.series for p in second]
    assert [p.tokens_out for p in (*first, *second)] == [100, 150]
    assert first[0].start == second[0].start and second[0].end > first[0].end


def test_a_delta_series_carries_only_its_window() -> None:
    meter = sdk.Metrics(sdk.resource(), delta=True)
    meter.claude(output=100)
    first = points("metrics", meter.collect(sdk.PROTOBUF), sdk.PROTOBUF)
    meter.claude(output=50)
    second = points("metrics", meter.collect(sdk.PROTOBUF), sdk.PROTOBUF)
    assert [p.tokens_out for p in (*first, *second)] == [100, 50]
    assert first[0].series == second[0].series and first[0].end <= second[0].start  # type: ignore[operator]


def test_two_processes_of_one_agent_never_share_a_running_total() -> None:
    """Same attributes, same resource, but each SDK its own start: two series."""
    one, two = (
        sdk.Metrics(sdk.resource(service__instance__id="x")),
        sdk.Metrics(sdk.resource(service__instance__id="x")),
    )
    one.claude(input=10)
    two.claude(input=10)
    [a] = points("metrics", one.collect(sdk.PROTOBUF), sdk.PROTOBUF)
    [b] = points("metrics", two.collect(sdk.PROTOBUF), sdk.PROTOBUF)
    assert a.series != b.series


def test_genai_token_histogram_counts_its_sum_by_token_type() -> None:
    meter = sdk.Metrics(sdk.resource(service__name="py-agent"))
    for amount in (100, 250):
        meter.genai.record(
            amount,
            {
                "gen_ai.token.type": "input",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
            },
        )
    meter.genai.record(70, {"gen_ai.token.type": "output", "gen_ai.request.model": "gpt-4o"})
    found = points("metrics", meter.collect(sdk.JSON), sdk.JSON)
    assert total(found) == (350, 70, 0)
    assert sorted(p.model for p in found) == ["gpt-4o", "gpt-4o-2024-08-06"]
    assert all(p.session for p in found)  # the SDK's service.instance.id


def test_spans_with_genai_usage_are_one_delta_point_each() -> None:
    calls = [
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 900,
            "gen_ai.usage.output_tokens": 120,
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
        },
        {"gen_ai.usage.prompt_tokens": 40, "gen_ai.usage.completion_tokens": 2},  # older names
        {"http.method": "GET"},  # no usage: not a point
        {  # an agent's invocation: the total of the calls inside it, skipped
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.usage.input_tokens": 940,
            "gen_ai.usage.output_tokens": 122,
        },
    ]
    res = sdk.resource(service__name="py-agent", agentdeck__task="WEB-9", session__id="run-7")
    for kind in sdk.ENCODINGS:
        found = points("traces", sdk.spans(res, calls, kind), kind)
        assert [(p.tokens_in, p.tokens_out, p.model) for p in found] == [
            (900, 120, "gpt-4o-2024-08-06"),
            (40, 2, ""),
        ]
        for p in found:
            assert (p.signal, p.cumulative, p.task, p.session) == (
                "traces",
                False,
                "WEB-9",
                "run-7",
            )
            assert p.start is not None and p.start <= p.end
        assert len({p.series for p in found}) == 2


def test_one_span_has_one_series_whichever_the_encoding() -> None:
    """The JSON hex ids and the protobuf bytes of the same span give the same key."""
    exporter_input = [{"gen_ai.usage.input_tokens": 5}]
    res = sdk.resource()
    body = sdk.spans(res, exporter_input, sdk.JSON)
    doc = json.loads(body)
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["traceId"]) == 32  # hex, as OTLP/JSON has it
    [from_json] = points("traces", body, sdk.JSON)
    request = otlp.parse("traces", body, sdk.JSON)
    assert request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex() == span["traceId"]
    [from_proto] = points("traces", request.SerializeToString(), sdk.PROTOBUF)
    assert from_json == from_proto


def test_claude_code_api_request_events_count_tokens_and_cost() -> None:
    events = [
        {
            "model": "claude-opus-4",
            "input_tokens": 30,
            "output_tokens": 500,
            "cache_read_tokens": 20_000,
            "cache_creation_tokens": 700,
            "cost_usd": 0.42,
        },
        # Claude Code sends some figures as strings
        {"model": "claude-haiku", "input_tokens": "8", "output_tokens": "9", "cost_usd": "0.01"},
        {"name": "tool_result", "tool_name": "Bash", "duration_ms": 30},  # another event
    ]
    res = sdk.resource(agentdeck__task="WEB-2")
    found = {
        kind: points("logs", sdk.api_requests(res, events, kind), kind) for kind in sdk.ENCODINGS
    }
    assert found[sdk.PROTOBUF] == found[sdk.JSON]
    first, second = found[sdk.JSON]
    assert (first.tokens_in, first.tokens_out, first.cost_usd, first.model) == (
        20_730,
        500,
        0.42,
        "claude-opus-4",
    )
    assert (second.tokens_in, second.tokens_out, second.cost_usd) == (8, 9, 0.01)
    assert first.series != second.series and first.session == "sess-1" and first.task == "WEB-2"
    assert first.signal == "logs" and not first.cumulative


def test_an_api_request_named_only_in_the_event_name_field() -> None:
    """Newer SDKs carry the event's name in the LogRecord's own `event_name`."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add()
    record.event_name = "claude_code.api_request"
    record.time_unix_nano = 1_767_600_000_000_000_000
    pair = record.attributes.add()
    pair.key, pair.value.int_value = "output_tokens", 77
    [found] = points("logs", request.SerializeToString(), sdk.PROTOBUF)
    assert found.tokens_out == 77 and found.end.year == 2026


def test_hand_written_otlp_json_with_enum_names_numbers_and_hex_ids() -> None:
    """What a collector or another SDK may send: enum names or numbers, ints as strings."""

    def body(temporality: Any) -> bytes:
        point = {
            "attributes": [
                {"key": "type", "value": {"stringValue": "output"}},
                {"key": "model", "value": {"stringValue": "m"}},
            ],
            "startTimeUnixNano": "1767600000000000000",
            "timeUnixNano": "1767600060000000000",
            "asInt": "42",
            "exemplars": [
                {
                    "traceId": "0af7651916cd43dd8448eb211c80319c",
                    "spanId": "b7ad6b7169203331",
                    "asInt": "1",
                    "timeUnixNano": "1",
                }
            ],
        }
        metric = {
            "name": "claude_code.token.usage",
            "sum": {
                "dataPoints": [point],
                "aggregationTemporality": temporality,
                "isMonotonic": True,
            },
            "unknownField": {"ignored": True},
        }
        return json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}).encode()

    by_name = points("metrics", body("AGGREGATION_TEMPORALITY_CUMULATIVE"), sdk.JSON)
    by_number = points("metrics", body(2), sdk.JSON)
    assert by_name == by_number
    assert [(p.tokens_out, p.cumulative, p.session) for p in by_name] == [(42, True, "")]
    delta = points("metrics", body(1), sdk.JSON)
    assert [(p.tokens_out, p.cumulative) for p in delta] == [(42, False)]
    request = otlp.parse("metrics", body(1), sdk.JSON)
    exemplar = (
        request.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0].exemplars[0]
    )
    assert exemplar.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"\xff\xff\xff\xff", sdk.PROTOBUF),
        (b"\x0a\x05\x0a\x03", sdk.PROTOBUF),  # a field longer than the body
        (b"not json", sdk.JSON),
        (b"[1, 2]", sdk.JSON),
        (b'{"resourceMetrics": "nope"}', sdk.JSON),
        (
            b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"sum": {"dataPoints": [{"asInt": "x"}]}}]}]}]}',
            sdk.JSON,
        ),
        (b"[" * 100_000, sdk.JSON),
        (
            b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "claude_code.token.usage", "sum": {"dataPoints": [{"asDouble": "NaN", "attributes": [{"key": "type", "value": {"stringValue": "input"}}]}]}}]}]}]}',
            sdk.JSON,
        ),
    ],
    ids=[
        "garbage",
        "cut-short",
        "not-json",
        "not-object",
        "wrong-type",
        "bad-int",
        "deep",
        "nan-tokens",
    ],
)
def test_a_body_that_is_not_the_request_is_malformed(body: bytes, kind: str) -> None:
    with pytest.raises(otlp.MalformedPayload) as info:
        otlp.decode("metrics", body, kind)
    assert info.value.status == 400 and "\n" not in info.value.message


def test_a_spans_request_sent_to_logs_gives_no_usage_and_no_crash() -> None:
    """Protobuf cannot tell messages apart; the wrong one decodes to no usage points."""
    body = sdk.spans(sdk.resource(), [{"gen_ai.usage.input_tokens": 5}], sdk.PROTOBUF)
    try:
        found = otlp.decode("logs", body, sdk.PROTOBUF)
    except otlp.MalformedPayload:
        return
    assert found == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/x-protobuf", otlp.PROTOBUF),
        ("application/protobuf", otlp.PROTOBUF),
        ("application/json; charset=utf-8", otlp.JSON),
        ("Application/JSON", otlp.JSON),
    ],
)
def test_content_types_taken(header: str, expected: str) -> None:
    assert otlp.media_type(header) == expected


@pytest.mark.parametrize(
    "header", [None, "", "text/plain", "application/grpc", "multipart/form-data"]
)
def test_other_content_types_are_unsupported(header: str | None) -> None:
    with pytest.raises(otlp.UnsupportedPayload) as info:
        otlp.media_type(header)
    assert info.value.status == 415


def test_compressed_bodies_are_undone_within_the_limit() -> None:
    body = b"x" * 10_000
    assert otlp.decompress(gzip.compress(body), "gzip", 10_000) == body
    assert (
        otlp.decompress(gzip.compress(body[:10]) + gzip.compress(body[10:]), "gzip", 10_000) == body
    )
    assert otlp.decompress(zlib.compress(body), "deflate", 10_000) == body
    assert otlp.decompress(body, None, 1) == body  # the raw limit is the receiver's to check


def test_a_compression_bomb_is_refused_before_it_grows() -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(otlp.PayloadTooLarge) as info:
        otlp.decompress(bomb, "gzip", 4 * 1024 * 1024)
    assert info.value.status == 413


@pytest.mark.parametrize(
    ("body", "encoding", "error"),
    [
        # mtime fixed: every xdist worker must collect the same test ids
        (gzip.compress(bytes(range(256)) * 8, mtime=0)[:-30], "gzip", otlp.MalformedPayload),
        (b"not gzip at all", "gzip", otlp.MalformedPayload),
        (b"x", "br", otlp.UnsupportedPayload),
    ],
    ids=["truncated-gzip", "not-gzip", "brotli"],
)
def test_bad_compression_is_refused(body: bytes, encoding: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        otlp.decompress(body, encoding, 1 << 20)


def test_error_and_success_answers_are_otlp_messages() -> None:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceResponse,
    )

    answer = ExportMetricsServiceResponse.FromString(
        otlp.response("metrics", 2, "WEB-1 is not held", otlp.PROTOBUF)
    )
    assert answer.partial_success.rejected_data_points == 2
    assert answer.partial_success.error_message == "WEB-1 is not held"
    assert json.loads(otlp.response("logs", 0, "", otlp.JSON)) == {}
    assert json.loads(otlp.response("traces", 1, "no", otlp.JSON)) == {
        "partialSuccess": {"rejectedSpans": "1", "errorMessage": "no"}
    }
    status = otlp.status_body(16, "é" * 100, otlp.PROTOBUF)  # a message over 127 bytes
    assert status[:2] == b"\x08\x10" and status[2:5] == b"\x12\xc8\x01"
    assert status[5:].decode() == "é" * 100
