"""`agentdeck notify --webhook`: one message per Needs-human event, against a local HTTP server.

The server is the standard library's, in a thread, answering with the statuses a test queues
(200 once the queue is empty) and recording every request. The command runs in-process
through the real Typer app (`--once`) and, for following, as a real process on each backend.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.core.alerts import Alert
from agentdeck.tui.cli.notify import per_minute
from agentdeck.tui.cli.webhook import Delivery, WebhookError, post_http, slack_escape
from tests.cli.conftest import AGENTDECK, Ran, sqlite_only

NASTY = "Done <!channel> & <https://evil.example|click> *bold*\nTitle: x\r\nX-Injected: 1"


@dataclass
class Hook:
    """A webhook receiver: every request (path, headers, body), and the statuses to answer."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    answers: deque[int] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[str]:
        with self.lock:
            return [body.decode() for _path, _headers, body in self.requests]

    def texts(self) -> list[str]:
        """Slack messages' text."""
        return [json.loads(body)["text"] for body in self.bodies()]


@pytest.fixture
def hook() -> Iterator[Hook]:
    found = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with found.lock:
                found.requests.append((self.path, dict(self.headers.items()), body))
                status = found.answers.popleft() if found.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/SECRET-PATH"
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def needs_human(deck: Deck, n: int) -> list[str]:
    """Put `n` new tasks in front of a human (review, escalation, failure in turn)."""
    keys = []
    for i in range(n):
        task = deck.add_task(f"Task {i} {NASTY}", actor="planner", priority=0)
        deck.claim("coder", key=task.key)
        if i % 3 == 0:
            deck.submit(task.key, actor="coder", result=NASTY)
        elif i % 3 == 1:
            deck.escalate(task.key, actor="coder", reason=f"Which one? {NASTY}")
        else:
            deck.fail(task.key, actor="coder", reason=NASTY)
        keys.append(task.key)
    return keys


@pytest.mark.parametrize("fmt", ["slack", "ntfy"])
def test_one_message_per_event_and_a_restart_sends_nothing_twice(
    cli: Callable[..., Ran], deck: Deck, hook: Hook, tmp_path: Path, fmt: str
) -> None:
    state = str(tmp_path / "cursor.json")
    run = ("notify", "--webhook", hook.url, "--format", fmt, "--once", "--state", state)
    needs_human(deck, 1)  # before the first run: history, not announced
    assert cli(*run).exit_code == 0
    assert hook.requests == []

    keys = needs_human(deck, 3)
    deck.set_priority(keys[0], 2, actor="ann")  # not a Needs-human event
    first = cli(*run)
    assert first.exit_code == 0, first.stderr
    assert len(hook.requests) == 3
    assert cli(*run).exit_code == 0  # a restart: nothing new, nothing again
    assert len(hook.requests) == 3

    if fmt == "slack":
        texts = hook.texts()
        assert [t.splitlines()[0] for t in texts] == [
            f"agentdeck: {keys[0]} is waiting for review",
            f"agentdeck: {keys[1]} is escalated: its agent asks a human",
            f"agentdeck: {keys[2]} failed",
        ]
        for text in texts:
            assert "<" not in text and ">" not in text  # no <!channel>, no <url|label>
            assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
        assert all(json.loads(body)["mrkdwn"] is False for body in hook.bodies())
    else:
        titles = [headers["Title"] for _p, headers, _b in hook.requests]
        assert titles[0] == f"agentdeck: {keys[0]} is waiting for review"
        assert [headers["Priority"] for _p, headers, _b in hook.requests] == [
            "default",
            "high",
            "high",
        ]
        for _path, headers, body in hook.requests:
            assert "X-Injected" not in headers and "Markdown" not in headers
            assert headers["Content-Type"].startswith("text/plain")
            assert "<!channel>" in body.decode()  # plain text, shown as written


def test_over_the_rate_alerts_are_held_and_the_next_run_sends_them(
    cli: Callable[..., Ran], deck: Deck, hook: Hook, tmp_path: Path
) -> None:
    state = str(tmp_path / "cursor.json")
    run = ("notify", "--webhook", hook.url, "--rate", "2/min", "--once", "--state", state)
    assert cli(*run).exit_code == 0
    keys = needs_human(deck, 5)
    first = cli(*run)
    assert first.exit_code == 0
    assert "3 held back by --rate" in first.stdout
    assert len(hook.requests) == 2
    assert cli(*run).exit_code == 0  # a fresh minute: the held ones, from where it stopped
    sent = [t.splitlines()[0] for t in hook.texts()]
    assert len(sent) == 4
    assert [s.split()[1] for s in sent] == [keys[0], keys[1], keys[2], keys[3]]
    assert cli(*run).exit_code == 0
    assert [t.splitlines()[0].split()[1] for t in hook.texts()][4:] == [keys[4]]


def alert(n: int, reason: str = "review") -> Alert:
    return Alert(n, "WEB", f"WEB-{n}", reason, "coder", "text", datetime(2025, 3, 3, tzinfo=UTC))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_excess_is_coalesced_into_one_summary_naming_every_alert(hook: Hook) -> None:
    clock = FakeClock()
    delivery = Delivery(hook.url, "slack", 2, clock=clock)
    for n in range(1, 6):
        delivery.offer(alert(n, "failure" if n == 4 else "review"), f"title {n}")
    assert len(hook.requests) == 2 and len(delivery.held) == 3
    delivery.flush()  # still within the minute
    assert len(hook.requests) == 2
    assert delivery.next_free_in() == pytest.approx(60.0)
    clock.now += 60.5
    delivery.flush()
    assert len(hook.requests) == 3 and not delivery.held
    summary = hook.texts()[2]
    assert summary.startswith("agentdeck: 3 tasks need a human (over 2 messages a minute)")
    for n in (3, 4, 5):
        assert f"WEB-{n} " in summary


def test_server_errors_are_retried_with_growing_waits_then_given_up(hook: Hook) -> None:
    pauses: list[float] = []
    delivery = Delivery(hook.url, "ntfy", 10, sleep=pauses.append)
    hook.answers.extend([500, 503])
    delivery.offer(alert(1), "title")
    assert len(hook.requests) == 3 and pauses == [1.0, 2.0]

    hook.answers.extend([500] * 6)
    with pytest.raises(WebhookError) as failed:
        delivery.offer(alert(2), "title")
    assert not failed.value.refused and "after 6 tries: HTTP 500" in failed.value.message
    assert len(hook.requests) == 9 and pauses[2:] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert "SECRET" not in failed.value.message


def test_a_connection_refused_is_retried(hook: Hook) -> None:
    pauses: list[float] = []
    gone = "http://127.0.0.1:9/"  # discard port: nothing listens
    assert post_http(gone, b"", {})[0] is None
    delivery = Delivery(gone, "slack", 10, sleep=pauses.append, retries=2)
    with pytest.raises(WebhookError):
        delivery.offer(alert(1), "title")
    assert pauses == [1.0, 2.0]


def test_a_4xx_stops_with_one_line_and_the_alert_is_sent_next_time(
    cli: Callable[..., Ran], deck: Deck, hook: Hook, tmp_path: Path
) -> None:
    state = str(tmp_path / "cursor.json")
    run = ("notify", "--webhook", hook.url, "--once", "--state", state)
    assert cli(*run).exit_code == 0
    keys = needs_human(deck, 1)
    hook.answers.append(404)
    refused = cli(*run)
    assert refused.exit_code == 2
    line = refused.stderr.strip()
    assert "\n" not in line and "refused the message: HTTP 404" in line
    assert "SECRET-PATH" not in line and "Traceback" not in refused.stderr
    assert cli(*run).exit_code == 0
    assert len(hook.requests) == 2 and keys[0] in hook.texts()[-1]


@sqlite_only
def test_bad_options_are_one_line(cli: Callable[..., Ran]) -> None:
    assert per_minute("6/min") == 6 and per_minute(" 6 ") == 6
    for rate in ("0/min", "6/h", "x"):
        ran = cli("notify", "--webhook", "http://127.0.0.1:9/", "--rate", rate)
        assert ran.exit_code == 1 and "--rate must be" in ran.stderr
    ran = cli("notify", "--webhook", "file:///etc/passwd")
    assert ran.exit_code == 1 and "http:// or https://" in ran.stderr
    assert slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_following_sends_as_events_arrive_until_ctrl_c(
    web: str, deck: Deck, hook: Hook, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [str(AGENTDECK), "notify", "--webhook", hook.url, "--state", str(tmp_path / "c.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AGENTDECK_DB": web},
    )
    try:
        assert process.stdout is not None
        assert "Ctrl-C stops" in process.stdout.readline()
        keys = needs_human(deck, 2)
        deadline = time.monotonic() + 30
        while len(hook.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [t.split()[1] for t in hook.texts()] == keys
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
