"""An agent process exporting its usage with the real OpenTelemetry SDK and its OTLP/HTTP
exporters, configured only by the environment the README gives (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>, OTEL_RESOURCE_ATTRIBUTES).

    python -m tests.otel.agent_client SIGNALS ROUNDS PROTOCOL TEMPORALITY [--replay]

SIGNALS is a comma list of metrics, traces, logs. Each round adds 100 input tokens, 10 output
tokens and $0.01 per signal, and exports them. Exit status 0 if every export succeeded, 3 if
one failed (printed), so the test can tell a refusal from a crash.
"""

from __future__ import annotations

import sys
from typing import Any


def exporters(protocol: str) -> tuple[Any, Any, Any]:
    if protocol == "json":
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return OTLPMetricExporter, OTLPSpanExporter, OTLPLogExporter


def main(argv: list[str]) -> int:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    signals, rounds, protocol, temporality = argv[0].split(","), int(argv[1]), argv[2], argv[3]
    replay = "--replay" in argv
    metric_exporter, span_exporter, log_exporter = exporters(protocol)
    resource = Resource.create({"service.name": "test-agent"})  # + OTEL_RESOURCE_ATTRIBUTES
    failures: list[str] = []

    kind = (
        AggregationTemporality.DELTA
        if temporality == "delta"
        else AggregationTemporality.CUMULATIVE
    )
    reader = InMemoryMetricReader(preferred_temporality={Counter: kind, Histogram: kind})
    meters = MeterProvider(resource=resource, metric_readers=[reader])
    meter = meters.get_meter("agent")
    tokens = meter.create_counter("claude_code.token.usage")
    cost = meter.create_counter("claude_code.cost.usage")
    metrics_out = metric_exporter()

    # Spans and log records are gathered in memory and handed to the OTLP exporters here, so
    # each export's result (and a replay of the same batch) is in the test's hands.
    spans_out, finished_spans = span_exporter(), InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(finished_spans))
    tracer = tracer_provider.get_tracer("agent")

    logs_out, finished_logs = log_exporter(), InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(finished_logs))
    logger = logger_provider.get_logger("com.anthropic.claude_code.events")

    def check(result: Any, what: str) -> None:
        if getattr(result, "name", str(result)) != "SUCCESS":
            failures.append(f"{what}: {result}")

    for n in range(rounds):
        # One session per signal: a runtime's session counts from one signal only.
        if "metrics" in signals:
            tokens.add(100, {"type": "input", "model": "m", "session.id": "metrics"})
            tokens.add(10, {"type": "output", "model": "m", "session.id": "metrics"})
            cost.add(0.01, {"model": "m", "session.id": "metrics"})
            data = reader.get_metrics_data()
            check(metrics_out.export(data), "metrics")
            if replay:
                check(metrics_out.export(data), "metrics again")
        if "traces" in signals:
            attributes = {
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": 10,
                "gen_ai.request.model": "m",
                "session.id": "traces",
            }
            with tracer.start_as_current_span("chat", attributes=attributes):
                pass
            batch = finished_spans.get_finished_spans()
            finished_spans.clear()
            for what in ("traces", "traces again")[: 1 + replay]:
                check(spans_out.export(batch), what)
        if "logs" in signals:
            logger.emit(
                body="claude_code.api_request",
                attributes={
                    "event.name": "api_request",
                    "event.timestamp": f"2026-01-05T10:00:{n % 60:02d}.{n // 60:03d}Z",
                    "event.sequence": n,
                    "session.id": "logs",
                    "input_tokens": 100,
                    "output_tokens": 10,
                    "cost_usd": 0.01,
                    "model": "m",
                },
            )
            records = finished_logs.get_finished_logs()
            finished_logs.clear()
            for what in ("logs", "logs again")[: 1 + replay]:
                check(logs_out.export(records), what)
    meters.shutdown()
    for line in failures:
        print(line)
    return 3 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
