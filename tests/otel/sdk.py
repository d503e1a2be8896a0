"""Payloads made by the real OpenTelemetry Python SDK, encoded by its own OTLP encoders
(protobuf and JSON), shaped like what Claude Code and GenAI-instrumented agents send."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.exporter.otlp.json.common import _log_encoder as json_logs
from opentelemetry.exporter.otlp.json.common import metrics_encoder as json_metrics
from opentelemetry.exporter.otlp.json.common import trace_encoder as json_traces
from opentelemetry.exporter.otlp.proto.common import _log_encoder as proto_logs
from opentelemetry.exporter.otlp.proto.common import metrics_encoder as proto_metrics
from opentelemetry.exporter.otlp.proto.common import trace_encoder as proto_traces
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
ENCODINGS = (PROTOBUF, JSON)


def resource(**attributes: Any) -> Resource:
    """A resource like Claude Code's (service.name claude-code) unless told otherwise."""
    attributes.setdefault("service.name", "claude-code")
    return Resource.create({k.replace("__", "."): v for k, v in attributes.items()})


class Metrics:
    """A meter provider whose collected data can be encoded either way."""

    def __init__(self, res: Resource, *, delta: bool = False) -> None:
        temporality = AggregationTemporality.DELTA if delta else AggregationTemporality.CUMULATIVE
        self.reader = InMemoryMetricReader(
            preferred_temporality={Counter: temporality, Histogram: temporality}
        )
        self.provider = MeterProvider(resource=res, metric_readers=[self.reader])
        meter = self.provider.get_meter("com.anthropic.claude_code")
        self.tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
        self.cost = meter.create_counter("claude_code.cost.usage", unit="USD")
        self.genai = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
        self.other = meter.create_counter("claude_code.lines_of_code.count")

    def claude(
        self, model: str = "claude-sonnet-4", session: str = "sess-1", **usage: float
    ) -> None:
        """Add Claude Code's figures: input, output, cacheRead, cacheCreation, cost."""
        for kind in ("input", "output", "cacheRead", "cacheCreation"):
            if usage.get(kind):
                self.tokens.add(usage[kind], {"type": kind, "model": model, "session.id": session})
        if usage.get("cost"):
            self.cost.add(usage["cost"], {"model": model, "session.id": session})

    def collect(self, kind: str) -> bytes:
        data = self.reader.get_metrics_data()
        assert data is not None
        return encode_metrics(data, kind)


def encode_metrics(data: Any, kind: str) -> bytes:
    if kind == JSON:
        return json_metrics.encode_metrics(data).to_json().encode()
    return proto_metrics.encode_metrics(data).SerializeToString()


def spans(res: Resource, calls: Iterable[Mapping[str, Any]], kind: str) -> bytes:
    """One span per mapping of attributes (a model call, or an agent invocation), ended."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=res)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("agent")
    for attributes in calls:
        with tracer.start_as_current_span("chat", attributes=dict(attributes)):
            pass
    finished = exporter.get_finished_spans()
    provider.shutdown()
    if kind == JSON:
        return json_traces.encode_spans(finished).to_json().encode()
    return proto_traces.encode_spans(finished).SerializeToString()


def api_requests(res: Resource, events: Iterable[Mapping[str, Any]], kind: str) -> bytes:
    """Claude Code's `claude_code.api_request` events (and whatever else is given), as its
    events logger emits them: body the event name, `event.name` the short name."""
    return encode_logs(log_records(res, events), kind)


def encode_logs(records: Any, kind: str) -> bytes:
    if kind == JSON:
        return json_logs.encode_logs(records).to_json().encode()
    return proto_logs.encode_logs(records).SerializeToString()


def log_records(res: Resource, events: Iterable[Mapping[str, Any]]) -> Any:
    """The SDK's finished log records of `api_requests`."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=res)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events")
    for sequence, attributes in enumerate(events):
        event = dict(attributes)
        name = event.pop("name", "api_request")
        logger.emit(
            body=f"claude_code.{name}",
            attributes={
                "event.name": name,
                "event.timestamp": "2026-01-05T10:00:00.000Z",
                "event.sequence": sequence,
                "session.id": "sess-1",
                **event,
            },
        )
    records = exporter.get_finished_logs()
    provider.shutdown()
    return records
