"""An OTLP/HTTP receiver: POST /v1/metrics, /v1/traces and /v1/logs, into `Deck.record_measured`.

The sender is known only by its agentdeck credential, `Authorization: Bearer <token>` (set with
`OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20adk_...`); the usage it measured lands on the
task it holds, through `Deck` like every other writer. Every refusal happens before anything is
written, and is counted (`Deck.count_refusal`) so the console can show it:

    404 a path other than the three (reason "unsupported"; 405 for another method)
    401 no credential, or one no member holds ("credential")
    415 a content type other than protobuf or JSON, or an unknown encoding ("unsupported")
    413 a body over the limit, by its Content-Length, as it streams in (chunked) or once
        decompressed ("too large")
    400 a body that is not the request its path names ("malformed")
    503 the database stayed busy (with Retry-After: OTLP exporters retry it)

A taken request is answered 200 with the Export*ServiceResponse in the request's encoding,
carrying `partial_success` (how many points were rejected, and why) when some were. Error
bodies are `google.rpc.Status` messages, as OTLP/HTTP asks.

It is the standard library's `ThreadingHTTPServer`: no new dependency, a thread per connection
is plenty for agents that export every few seconds, and the writes serialise in the database
anyway. One `Deck` serves every thread: its engine pools connections, and SQLite's connection
shelf and writer lock are guarded by locks of their own. It listens on 127.0.0.1 unless told
otherwise: tokens travel in clear over plain HTTP.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from agentdeck.core.errors import DatabaseBusyError, DeckError, NotAuthenticatedError
from agentdeck.core.models import Measured, MeasuredPoint
from agentdeck.core.otel import decode as otlp

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318  # OTLP/HTTP's registered port
DEFAULT_MAX_BODY = 4 * 1024 * 1024
PATHS = {"/v1/metrics": "metrics", "/v1/traces": "traces", "/v1/logs": "logs"}
# A refused body up to this size is read to its end before answering, so the client (which
# sends it whole before it reads) sees the answer instead of a reset connection.
_DRAIN_CAP = 64 * 1024 * 1024
# gRPC status codes for the google.rpc.Status of an error answer.
_GRPC_CODES = {400: 3, 401: 16, 404: 12, 405: 12, 413: 8, 415: 3, 500: 13, 503: 14}


class Ingest(Protocol):
    """What the receiver needs of a `Deck`."""

    def sender(self, token: str) -> str: ...

    def record_measured(self, token: str, points: Sequence[MeasuredPoint]) -> Measured: ...

    def count_refusal(self, reason: str) -> None: ...


class Refused(Exception):
    """An answer other than 200, with the reason counted for it (None: not counted)."""

    def __init__(self, status: int, message: str, reason: str | None) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class Receiver:
    """An OTLP/HTTP server writing into `deck`. `port` 0 picks a free one (see `port`)."""

    def __init__(
        self,
        deck: Ingest,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.deck = deck
        self.max_body = max_body
        self.log = log
        self.points = 0  # points taken since start, for whoever shows progress
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._busy = 0  # requests under way
        self._thread: threading.Thread | None = None
        self.server = _Server((host, port), _Handler)
        self.server.receiver = self

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def endpoint(self) -> str:
        """The base URL senders set as OTEL_EXPORTER_OTLP_ENDPOINT."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Answer requests until `stop` is called (from another thread)."""
        self.server.serve_forever(poll_interval=0.25)

    def start(self) -> Receiver:
        """Serve from a background thread (the console's way); `stop` ends it."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="agentdeck-otel", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, grace: float = 10.0) -> None:
        """Stop answering, let the requests under way finish (at most `grace` seconds), and
        close the socket: after it, nothing more is written through the deck."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=grace)

    def begin(self) -> None:
        with self._idle:
            self._busy += 1

    def end(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def took(self, count: int) -> None:
        with self._lock:
            self.points += count

    def refused(self, refusal: Refused, client: str) -> None:
        """Count a refusal in the database and say it on the log, one line."""
        if refusal.reason is not None:
            with contextlib.suppress(DeckError):
                self.deck.count_refusal(refusal.reason)
        if self.log is not None:
            self.log(f"refused {refusal.status} from {client}: {refusal.message}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver

    def server_bind(self) -> None:
        # An IPv6 address given as --host needs an IPv6 socket.
        if ":" in str(self.server_address[0]):
            self.socket.close()
            self.socket = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        super().server_bind()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, which every OTLP exporter uses
    server_version = "agentdeck-otel"
    timeout = 30  # seconds a silent client keeps its thread
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: refusals are said once each by `Receiver.refused`."""

    def do_POST(self) -> None:
        self.server.receiver.begin()
        try:
            self._post()
        finally:
            self.server.receiver.end()

    def _post(self) -> None:
        receiver = self.server.receiver
        kind = otlp.PROTOBUF
        self._unread: int | None = self._declared_length()
        try:
            signal = PATHS.get(urlsplit(self.path).path.rstrip("/") or "/")
            if signal is None:
                raise Refused(404, f"no OTLP endpoint at {self.path[:80]!r}", "unsupported")
            token = self._token()
            try:  # who is sending, before reading what: an unknown sender is 401 whatever it sent
                receiver.deck.sender(token)
            except NotAuthenticatedError as exc:
                raise Refused(401, exc.message, "credential") from None
            kind = otlp.media_type(self.headers.get("Content-Type"))
            body = self._body(receiver.max_body)
            body = otlp.decompress(body, self.headers.get("Content-Encoding"), receiver.max_body)
            points = otlp.decode(signal, body, kind)
            try:
                measured = receiver.deck.record_measured(token, points)
            except NotAuthenticatedError as exc:
                raise Refused(401, exc.message, "credential") from None
            except DatabaseBusyError as exc:
                raise Refused(503, exc.message, None) from None
            except DeckError as exc:
                raise Refused(400, exc.message, "malformed") from None
        except otlp.OtlpRefusal as exc:
            self._refuse(Refused(exc.status, exc.message, exc.reason), kind)
            return
        except Refused as refusal:
            self._refuse(refusal, kind)
            return
        except Exception as exc:  # answered, not raised: the server keeps serving
            self._refuse(Refused(500, f"{type(exc).__name__}: {exc}", None), kind)
            return
        receiver.took(measured.counted)
        message = "; ".join(measured.errors)[:1000]
        self._answer(200, otlp.response(signal, measured.rejected, message, kind), kind)

    def do_GET(self) -> None:
        self._unread = self._declared_length()
        refusal = Refused(405, "OTLP/HTTP takes POST only", "unsupported")
        if urlsplit(self.path).path.rstrip("/") not in PATHS:
            refusal = Refused(404, f"no OTLP endpoint at {self.path[:80]!r}", "unsupported")
        self._refuse(refusal, otlp.JSON)

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _token(self) -> str:
        from agentdeck.core import credentials

        scheme, _, token = (self.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(
                401,
                "no credential: send Authorization: Bearer <the agent's token> "
                "(OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20adk_...)",
                "credential",
            )
        try:
            return credentials.check_token(token.strip(), "the bearer token")
        except DeckError as exc:
            raise Refused(401, exc.message, "credential") from None

    def _declared_length(self) -> int | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return None
        try:
            return max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            self.close_connection = True
            return 0

    def _body(self, limit: int) -> bytes:
        """The request's body, at most `limit` bytes (by Content-Length or chunk by chunk)."""
        if self._unread is None:
            keep, self.close_connection = self.close_connection, True
            body = _read_chunked(self.rfile, limit)  # a refusal leaves the rest unread
            self.close_connection = keep
            return body
        if self._unread > limit:
            raise otlp.PayloadTooLarge(
                f"the body is {self._unread} bytes, over the limit of {limit}"
            )
        body = self.rfile.read(self._unread)
        if len(body) < self._unread:
            self.close_connection = True
            raise otlp.MalformedPayload("the body is shorter than its Content-Length")
        self._unread = 0
        return body

    def _refuse(self, refusal: Refused, kind: str) -> None:
        self._drain()
        self.server.receiver.refused(refusal, self.client_address[0])
        body = otlp.status_body(_GRPC_CODES.get(refusal.status, 2), refusal.message, kind)
        headers = {"Retry-After": "1"} if refusal.status == 503 else {}
        if refusal.status == 405:
            headers["Allow"] = "POST"
        self._answer(refusal.status, body, kind, headers)

    def _drain(self) -> None:
        """Read a refused body to its end, so the connection can carry the answer (and
        stay open); one too big for that, or chunked, closes the connection instead."""
        left = self._unread
        if left is None or left > _DRAIN_CAP:
            self.close_connection = True
            return
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                self.close_connection = True
                return
            left -= len(chunk)
        self._unread = 0

    def _answer(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _read_chunked(stream: Any, limit: int) -> bytes:
    """A `Transfer-Encoding: chunked` body (Node's exporters send one when they compress),
    refused as soon as it grows past `limit`."""
    body = bytearray()
    while True:
        line = stream.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise otlp.MalformedPayload("a chunked body with a bad chunk size") from None
        if size < 0:
            raise otlp.MalformedPayload("a chunked body with a bad chunk size")
        if size == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers, ignored
            return bytes(body)
        if len(body) + size > limit:
            raise otlp.PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunk = stream.read(size)
        if len(chunk) < size:
            raise otlp.MalformedPayload("a chunked body cut short")
        body += chunk
        stream.readline(1024)  # the CRLF after the chunk
