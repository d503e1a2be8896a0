"""OTLP request bodies -> `MeasuredPoint`s: the token, cost and model figures an agent's own
telemetry measured, in the shape `Deck.record_measured` takes.

Bodies are the three OTLP/HTTP export requests (ExportMetricsServiceRequest,
ExportTraceServiceRequest, ExportLogsServiceRequest), as protobuf (`application/x-protobuf`) or
OTLP/JSON (`application/json`), optionally gzip- or deflate-compressed. Both encodings are read
into the same generated protobuf classes of the `opentelemetry-proto` package (OTLP/JSON's hex
trace and span ids are turned into the bytes protobuf's JSON mapping expects, enums may be
numbers or names), and every point is built from those messages by one code path, so the same
data sent either way gives the same points and the same series keys.

What is read (everything else is ignored, not refused):

Metrics
    `claude_code.token.usage` (a Sum; attribute `type` = input, output, cacheRead or
    cacheCreation; `model`): input, cacheRead and cacheCreation are tokens in, output is
    tokens out. `claude_code.cost.usage` (a Sum, USD; `model`): cost. The GenAI semantic
    conventions' `gen_ai.client.token.usage` (a Histogram, or an exponential one; attribute
    `gen_ai.token.type` = input or output; model from `gen_ai.response.model`, else
    `gen_ai.request.model`): the histogram's sum. A point of a cumulative metric carries its
    running total since its start time (`cumulative=True`, `start`); a delta point carries the
    amount of its own window.
Traces
    Spans with `gen_ai.usage.input_tokens` / `gen_ai.usage.output_tokens` (or the older
    `gen_ai.usage.prompt_tokens` / `gen_ai.usage.completion_tokens`), model from
    `gen_ai.response.model`, else `gen_ai.request.model`: one delta point per span, its window
    the span's start to end, its series the trace and span ids. Spans of an agent invocation
    or workflow (`gen_ai.operation.name` invoke_agent, create_agent, invoke_workflow) are
    totals over the model calls inside them, which carry their own figures: they are skipped,
    so the same tokens are not counted twice.
Logs
    Claude Code's `claude_code.api_request` events (the event name in the record's
    `event_name`, its body, or its `event.name` attribute): tokens in = input_tokens +
    cache_read_tokens + cache_creation_tokens, tokens out = output_tokens, cost = cost_usd,
    model; one delta point per event at its `event.timestamp` (else the record's time), its
    series the session, event timestamp and `event.sequence`.

Every point's `series` is a short stable hash of the signal, the metric or event name, the
point's attributes (sorted) and the sender's resource (all of its attributes: the SDK keeps
them fixed for a process), and for a cumulative point its start time too, so two processes of
one agent never share a running total. `session` is `session.id` from the point's or the
resource's attributes, else the resource's `service.instance.id`, else "". `task` is the
resource attribute `agentdeck.task`, when the sender pinned one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdeck.core.errors import ValidationError
from agentdeck.core.models import MeasuredPoint

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
# Content types taken as protobuf: OTLP's, and the IANA registration's newer name.
_PROTOBUF_TYPES = (PROTOBUF, "application/protobuf")

TOKEN_USAGE = "claude_code.token.usage"
COST_USAGE = "claude_code.cost.usage"
GENAI_TOKEN_USAGE = "gen_ai.client.token.usage"
API_REQUEST = "claude_code.api_request"
TASK_ATTRIBUTE = "agentdeck.task"

_TOKEN_IN_TYPES = ("input", "cacheRead", "cacheCreation")
_AGGREGATE_OPERATIONS = ("invoke_agent", "create_agent", "invoke_workflow")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE in the OTLP metrics proto.
_CUMULATIVE = 2
_ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
_HEX = re.compile(r"[0-9a-fA-F]*")


class OtlpRefusal(ValidationError):
    """A request the receiver refuses before anything is written: its HTTP status, and the
    reason counted for the console (`Deck.count_refusal`)."""

    status = 400
    reason = "malformed"


class MalformedPayload(OtlpRefusal):
    """A body that is not the OTLP message its path names (400)."""


class PayloadTooLarge(OtlpRefusal):
    """A body, or its decompressed form, over the receiver's limit (413)."""

    status = 413
    reason = "too large"


class UnsupportedPayload(OtlpRefusal):
    """A content type or content encoding the receiver does not read (415)."""

    status = 415
    reason = "unsupported"


def media_type(content_type: str | None) -> str:
    """`JSON` or `PROTOBUF` for a Content-Type header (parameters such as charset ignored);
    anything else is refused (415)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == JSON:
        return JSON
    if kind in _PROTOBUF_TYPES:
        return PROTOBUF
    raise UnsupportedPayload(
        f"content type {kind or 'none'!r} is not OTLP; send {PROTOBUF} or {JSON}"
    )


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body with its Content-Encoding (gzip, deflate, identity or none) undone, refused
    (413) as soon as it would grow past `limit` bytes, so a small bomb stays small."""
    kind = (encoding or "identity").strip().lower()
    if kind == "identity":
        return body
    if kind not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedPayload(f"content encoding {kind[:40]!r} is not supported; use gzip")
    out = bytearray()
    rest = body
    # gzip allows several members one after another; deflate (zlib or raw) is one stream.
    while rest:
        wbits = 31 if kind != "deflate" else (15 if rest[:1] == b"\x78" else -15)
        unzip = zlib.decompressobj(wbits=wbits)
        try:
            out += unzip.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise MalformedPayload(f"the {kind} body cannot be decompressed: {exc}") from None
        if len(out) > limit:
            raise PayloadTooLarge(f"the decompressed body is over the limit of {limit} bytes")
        if not unzip.eof:
            raise MalformedPayload(f"the {kind} body is cut short")
        rest = unzip.unused_data if kind != "deflate" else b""
    return bytes(out)


def decode(signal: str, body: bytes, kind: str) -> list[MeasuredPoint]:
    """The usage points in one export request of `signal` (metrics, traces or logs), its body
    already decompressed, `kind` being `JSON` or `PROTOBUF`. A body that is not that request
    is refused (`MalformedPayload`); figures it does not know are ignored."""
    request = parse(signal, body, kind)
    if signal == "metrics":
        return list(_metric_points(request))
    if signal == "traces":
        return list(_span_points(request))
    return list(_log_points(request))


def parse(signal: str, body: bytes, kind: str) -> Any:
    """The Export*ServiceRequest message of `signal` read from `body`."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    message = request_class(signal)()
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError) as exc:
            raise MalformedPayload(f"the body is not an OTLP {signal} request: {exc}") from None
        return message
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise MalformedPayload("the JSON body is nested too deeply") from None
    if not isinstance(doc, dict):
        raise MalformedPayload(f"the body is not an OTLP/JSON {signal} request (not an object)")
    try:
        json_format.ParseDict(_ids_as_base64(doc), message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise MalformedPayload(f"the body is not an OTLP/JSON {signal} request: {reason}") from None
    return message


def request_class(signal: str) -> Any:
    """The generated Export*ServiceRequest class of a signal (imported on first use)."""
    if signal == "metrics":
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

        return metrics_service_pb2.ExportMetricsServiceRequest
    if signal == "traces":
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        return trace_service_pb2.ExportTraceServiceRequest
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    return logs_service_pb2.ExportLogsServiceRequest


def response(signal: str, rejected: int, message: str, kind: str) -> bytes:
    """The Export*ServiceResponse for a taken request, in the request's encoding, with
    `partial_success` when some of its points were rejected."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    answer: Any
    if signal == "metrics":
        answer = metrics_service_pb2.ExportMetricsServiceResponse()
        if rejected:
            answer.partial_success.rejected_data_points = rejected
    elif signal == "traces":
        answer = trace_service_pb2.ExportTraceServiceResponse()
        if rejected:
            answer.partial_success.rejected_spans = rejected
    else:
        answer = logs_service_pb2.ExportLogsServiceResponse()
        if rejected:
            answer.partial_success.rejected_log_records = rejected
    if rejected:
        answer.partial_success.error_message = message
    if kind == PROTOBUF:
        return bytes(answer.SerializeToString())
    return json.dumps(json_format.MessageToDict(answer)).encode()


def status_body(code: int, message: str, kind: str) -> bytes:
    """A `google.rpc.Status` (gRPC `code`, `message`) for an error response, as OTLP/HTTP
    asks, in the request's encoding; written by hand since it is two fields and the class
    lives in another package."""
    if kind == JSON:
        return json.dumps({"code": code, "message": message}).encode()
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _ids_as_base64(doc: Any) -> Any:
    """OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping reads bytes as
    base64: turn every hex id into base64 (an id that is not hex is left for the parser)."""
    if isinstance(doc, dict):
        return {
            key: (
                _hex_to_base64(value)
                if key in _ID_KEYS and isinstance(value, str)
                else _ids_as_base64(value)
            )
            for key, value in doc.items()
        }
    if isinstance(doc, list):
        return [_ids_as_base64(item) for item in doc]
    return doc


def _hex_to_base64(value: str) -> str:
    if len(value) % 2 or _HEX.fullmatch(value) is None:
        return value
    return base64.b64encode(bytes.fromhex(value)).decode()


# Attribute values -------------------------------------------------------------------------


def _value(any_value: Any) -> Any:
    """An OTLP AnyValue as plain Python (bytes as hex, so it hashes as text)."""
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(any_value.kvlist_value.values)
    if kind == "bytes_value":
        return bytes(any_value.bytes_value).hex()
    return getattr(any_value, kind)


def _attributes(pairs: Iterable[Any]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any, what: str) -> int | float:
    """A figure from an attribute or point: ints, doubles and numeric strings (Claude Code
    sends some as strings). Missing is 0; anything else is refused."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise MalformedPayload(f"{what} is not a number")
    number: int | float
    if isinstance(value, int | float):
        number = value
    else:
        try:
            number = float(value) if isinstance(value, str) else math.nan
        except ValueError:
            number = math.nan
    if isinstance(number, float) and not math.isfinite(number):
        raise MalformedPayload(f"{what} is not a finite number: {str(value)[:40]!r}")
    return number


def _tokens(value: Any, what: str) -> int:
    number = _number(value, what)
    return number if isinstance(number, int) else round(number)


def _time(nanos: int) -> datetime:
    return _EPOCH + timedelta(microseconds=nanos // 1000)


def _series(*parts: Any) -> str:
    """A short stable key for the parts (JSON with sorted keys, hashed)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class _Sender:
    """What a resource says about the process that sent its points."""

    def __init__(self, resource: Any) -> None:
        self.attributes = _attributes(resource.attributes)
        task = _text(self.attributes.get(TASK_ATTRIBUTE)).strip()
        self.task = task or None

    def session(self, own: Mapping[str, Any]) -> str:
        for value in (
            own.get("session.id"),
            self.attributes.get("session.id"),
            self.attributes.get("service.instance.id"),
        ):
            if isinstance(value, str) and value:
                return value
        return ""


def _model(attributes: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        found = _text(attributes.get(key))
        if found:
            return found
    return ""


# Metrics ----------------------------------------------------------------------------------


def _metric_points(request: Any) -> Iterator[MeasuredPoint]:
    for resource_metrics in request.resource_metrics:
        sender = _Sender(resource_metrics.resource)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                yield from _points_of_metric(metric, sender)


def _points_of_metric(metric: Any, sender: _Sender) -> Iterator[MeasuredPoint]:
    name = metric.name
    data = metric.WhichOneof("data")
    if name in (TOKEN_USAGE, COST_USAGE) and data == "sum":
        for point in metric.sum.data_points:
            attributes = _attributes(point.attributes)
            value = getattr(point, point.WhichOneof("value") or "as_int")
            figures: dict[str, Any]
            if name == COST_USAGE:
                figures = {"cost_usd": float(_number(value, f"{name} value"))}
            else:
                kind = _text(attributes.get("type"))
                if kind in _TOKEN_IN_TYPES:
                    figures = {"tokens_in": _tokens(value, f"{name} value")}
                elif kind == "output":
                    figures = {"tokens_out": _tokens(value, f"{name} value")}
                else:
                    continue
            model = _model(attributes, "model")
            yield _metric_point(
                name, metric.sum.aggregation_temporality, point, attributes, sender, model, figures
            )
    elif name == GENAI_TOKEN_USAGE and data in ("histogram", "exponential_histogram"):
        histogram = getattr(metric, data)
        for point in histogram.data_points:
            attributes = _attributes(point.attributes)
            kind = _text(attributes.get("gen_ai.token.type"))
            amount = _tokens(point.sum, f"{name} sum")
            if kind in ("input", "prompt"):
                figures = {"tokens_in": amount}
            elif kind in ("output", "completion"):
                figures = {"tokens_out": amount}
            else:
                continue
            model = _model(attributes, "gen_ai.response.model", "gen_ai.request.model")
            yield _metric_point(
                name, histogram.aggregation_temporality, point, attributes, sender, model, figures
            )


def _metric_point(
    name: str,
    temporality: int,
    point: Any,
    attributes: dict[str, Any],
    sender: _Sender,
    model: str,
    figures: dict[str, Any],
) -> MeasuredPoint:
    cumulative = temporality == _CUMULATIVE
    start = _time(point.start_time_unix_nano) if point.start_time_unix_nano else None
    series = _series(
        "metrics",
        name,
        attributes,
        sender.attributes,
        point.start_time_unix_nano if cumulative else None,
    )
    return MeasuredPoint(
        signal="metrics",
        series=series,
        end=_time(point.time_unix_nano),
        start=start,
        cumulative=cumulative,
        model=model,
        session=sender.session(attributes),
        task=sender.task,
        **figures,
    )


# Traces -----------------------------------------------------------------------------------


def _span_points(request: Any) -> Iterator[MeasuredPoint]:
    for resource_spans in request.resource_spans:
        sender = _Sender(resource_spans.resource)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                attributes = _attributes(span.attributes)
                if _text(attributes.get("gen_ai.operation.name")) in _AGGREGATE_OPERATIONS:
                    continue
                given_in = _first(
                    attributes, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"
                )
                given_out = _first(
                    attributes, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"
                )
                if given_in is None and given_out is None:
                    continue
                trace_id, span_id = bytes(span.trace_id).hex(), bytes(span.span_id).hex()
                yield MeasuredPoint(
                    signal="traces",
                    series=_series("traces", trace_id, span_id),
                    end=_time(span.end_time_unix_nano),
                    start=_time(span.start_time_unix_nano),
                    tokens_in=_tokens(given_in, "gen_ai.usage.input_tokens"),
                    tokens_out=_tokens(given_out, "gen_ai.usage.output_tokens"),
                    model=_model(attributes, "gen_ai.response.model", "gen_ai.request.model"),
                    session=sender.session(attributes),
                    task=sender.task,
                )


def _first(attributes: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if attributes.get(key) is not None:
            return attributes[key]
    return None


# Logs -------------------------------------------------------------------------------------


def _log_points(request: Any) -> Iterator[MeasuredPoint]:
    for resource_logs in request.resource_logs:
        sender = _Sender(resource_logs.resource)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attributes = _attributes(record.attributes)
                if not _is_api_request(record, attributes, sender):
                    continue
                stamp = attributes.get("event.timestamp")
                sequence = attributes.get("event.sequence")
                nanos = record.time_unix_nano or record.observed_time_unix_nano
                when = _iso(stamp) if stamp else _time(nanos)
                session = sender.session(attributes)
                # The event's own stamp and sequence name it; a record without them is named
                # by the time the SDK gave it (which a retry resends unchanged).
                named_by = (stamp, sequence) if stamp or sequence is not None else (nanos,)
                series = _series("logs", API_REQUEST, session, named_by, sender.attributes)
                yield MeasuredPoint(
                    signal="logs",
                    series=series,
                    end=when,
                    start=when,
                    tokens_in=sum(
                        _tokens(attributes.get(key), key)
                        for key in ("input_tokens", "cache_read_tokens", "cache_creation_tokens")
                    ),
                    tokens_out=_tokens(attributes.get("output_tokens"), "output_tokens"),
                    cost_usd=float(_number(attributes.get("cost_usd"), "cost_usd")),
                    model=_model(attributes, "model"),
                    session=session,
                    task=sender.task,
                )


def _is_api_request(record: Any, attributes: Mapping[str, Any], sender: _Sender) -> bool:
    body = _value(record.body) if record.HasField("body") else None
    names = {record.event_name, _text(body), _text(attributes.get("event.name"))}
    if API_REQUEST in names:
        return True
    # Claude Code names the event `api_request` in `event.name`; its service says whose.
    return "api_request" in names and sender.attributes.get("service.name") == "claude-code"


def _iso(value: Any) -> datetime:
    """An `event.timestamp` attribute (ISO 8601), or the epoch when it is not one."""
    try:
        found = datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
    except ValueError:
        return _EPOCH
    return found if found.tzinfo else found.replace(tzinfo=UTC)
