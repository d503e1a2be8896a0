"""Sending Needs-human alerts to a webhook: Slack-compatible JSON or ntfy, rate-limited, retried.

Standard library only (urllib), so `agentdeck notify` loads nothing but core. One message per
alert (`agentdeck.core.alerts`). Over the rate limit, alerts wait and go out together as one
summary message as soon as the limit allows: coalesced, never dropped. A 5xx answer, a 429 or
a connection error is retried with doubling waits (bounded); any other 4xx is the URL's or the
payload's fault, so it stops with one line. The cursor the caller saves only ever passes alerts
that were delivered: after a restart nothing is sent twice and nothing waiting is lost.

The text is the agent's (untrusted). Slack: `&`, `<` and `>` escaped as Slack asks, so no
`<!channel>`, `<@user>` or `<url|label>` can be smuggled in, and `"mrkdwn": false` so asterisks
and underscores stay characters. ntfy: a plain-text body (no `Markdown` header), and header
values reduced to printable ASCII, so no header can be injected. The webhook URL is a secret
(a Slack URL or an ntfy topic is all it takes to post): messages name only its host.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentdeck.core.alerts import Alert, one_line

FORMATS = ("slack", "ntfy")
RETRIES = 5  # after the first try: waits of 1, 2, 4, 8 and 16 s (a 429's Retry-After, up to 60)
BACKOFF_S = 1.0
TIMEOUT_S = 10.0
SUMMARY_LINES = 50

# (status or None for a connection error, reason); raises nothing for HTTP answers.
Post = Callable[[str, bytes, dict[str, str]], tuple[int | None, str, float | None]]


class WebhookError(Exception):
    """Delivery failed: `refused` (a 4xx: fix the URL) or gave up after the retries."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.message = message
        self.refused = refused


def check_url(url: str) -> str:
    """`url` if it is an http(s) URL with a host, else `WebhookError` (file: and the like are
    never opened)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("the webhook must be an http:// or https:// URL", refused=True)
    return url.strip()


def host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2]


def post_http(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str, float | None]:
    """POST `body`: (HTTP status, reason, Retry-After seconds) or (None, why) when no answer."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            answer.read()
            return answer.status, answer.reason, None
    except urllib.error.HTTPError as exc:
        after = exc.headers.get("Retry-After") if exc.headers else None
        wait = float(after) if after and after.strip().isdigit() else None
        return exc.code, str(exc.reason), wait
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, " ".join(str(reason).split())[:160], None


def slack_escape(text: str) -> str:
    """Text for Slack's `text` field: the three characters Slack's markup uses, escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header_value(text: str) -> str:
    """A header value: printable ASCII only (no CR/LF to inject another header)."""
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)[:200]


@dataclass(frozen=True)
class Message:
    """What one webhook call says: a title and a body, plain text."""

    title: str
    body: str
    urgent: bool
    tags: str

    def encode(self, fmt: str) -> tuple[bytes, dict[str, str]]:
        """The request body and headers for `fmt` ("slack" or "ntfy")."""
        if fmt == "slack":
            text = slack_escape(f"{self.title}\n{self.body}")
            payload = {"text": text, "mrkdwn": False}
            return json.dumps(payload).encode(), {"Content-Type": "application/json"}
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Title": header_value(self.title),
            "Priority": "high" if self.urgent else "default",
            "Tags": self.tags,
        }
        return self.body.encode("utf-8", "replace"), headers


_TAGS = {"review": "eyes", "escalation": "warning", "budget": "moneybag", "failure": "x"}


def alert_message(alert: Alert, title: str) -> Message:
    """One alert as a message: "WEB-3 is waiting for review" and the task's title and text."""
    body = f"{one_line(title, 120)} (by {one_line(alert.actor, 60)}, board {alert.board})"
    if alert.text:
        body += f"\n{alert.text}"
    return Message(f"agentdeck: {alert.headline}", body, alert.urgent, _TAGS[alert.reason])


def summary_message(batch: Sequence[tuple[Alert, str]], per_minute: int) -> Message:
    """Alerts held back by the rate limit, all named in one message."""
    lines = [f"{a.headline}: {one_line(t, 80)}" for a, t in batch[:SUMMARY_LINES]]
    if len(batch) > SUMMARY_LINES:
        lines.append(f"and {len(batch) - SUMMARY_LINES} more: see `agentdeck task list`")
    title = f"agentdeck: {len(batch)} tasks need a human (over {per_minute} messages a minute)"
    urgent = any(a.urgent for a, _ in batch)
    return Message(title, "\n".join(lines), urgent, "warning" if urgent else "eyes")


@dataclass
class Delivery:
    """Sends alerts to one webhook within a rate limit; holds back (and later summarises) the
    excess. `post`, `sleep` and `clock` are injectable for tests."""

    url: str
    fmt: str = "slack"
    per_minute: int = 10
    post: Post = post_http
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    retries: int = RETRIES
    backoff: float = BACKOFF_S
    note: Callable[[str], None] = lambda _line: None
    sent: deque[float] = field(default_factory=deque)
    held: list[tuple[Alert, str]] = field(default_factory=list)

    def offer(self, alert: Alert, title: str) -> None:
        """Send `alert` now if the limit allows and nothing is held back; else hold it."""
        if self.held or not self._free():
            self.held.append((alert, title))
            return
        self._send(alert_message(alert, title))

    def flush(self) -> None:
        """Send what is held back, as one message, once the limit allows."""
        if not self.held or not self._free():
            return
        batch, self.held = self.held, []
        if len(batch) == 1:
            self._send(alert_message(*batch[0]))
        else:
            self._send(summary_message(batch, self.per_minute))

    def next_free_in(self) -> float | None:
        """Seconds until a message may go, when something is held back; else None."""
        if not self.held:
            return None
        self._forget_old()
        if len(self.sent) < self.per_minute:
            return 0.0
        return max(0.0, self.sent[0] + 60.0 - self.clock())

    def _forget_old(self) -> None:
        now = self.clock()
        while self.sent and self.sent[0] <= now - 60.0:
            self.sent.popleft()

    def _free(self) -> bool:
        self._forget_old()
        return len(self.sent) < self.per_minute

    def _send(self, message: Message) -> None:
        body, headers = message.encode(self.fmt)
        headers = {"User-Agent": "agentdeck-notify", **headers}
        wait = self.backoff
        for attempt in range(self.retries + 1):
            status, reason, retry_after = self.post(self.url, body, headers)
            if status is not None and 200 <= status < 300:
                self.sent.append(self.clock())
                return
            what = f"HTTP {status} {reason}".strip() if status is not None else reason
            if status is not None and 400 <= status < 500 and status not in (408, 429):
                raise WebhookError(
                    f"the webhook at {host_of(self.url)} refused the message: {what} "
                    "(check the URL and --format)",
                    refused=True,
                )
            if attempt == self.retries:
                raise WebhookError(
                    f"could not deliver to the webhook at {host_of(self.url)} after "
                    f"{self.retries + 1} tries: {what}; the alert is kept and sent on the next start",
                    refused=False,
                )
            pause = min(retry_after, 60.0) if retry_after is not None else wait
            self.note(f"webhook at {host_of(self.url)}: {what}; trying again in {pause:g} s")
            self.sleep(pause)
            wait = min(wait * 2, 30.0)


# -- the cursor ------------------------------------------------------------------------------


def state_path(database: str, board: str | None, url: str) -> Path:
    """Where the cursor of one (database, board, webhook) is kept by default: under
    `$XDG_STATE_HOME/agentdeck/` (default ~/.local/state), named by a digest, so the file
    never holds the URL itself."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    digest = hashlib.sha256(f"{database}\n{board or '*'}\n{url}".encode()).hexdigest()[:20]
    return Path(base) / "agentdeck" / f"notify-{digest}.json"


def read_cursor(path: Path) -> int | None:
    """The saved cursor, or None when there is none (or it cannot be read)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("cursor")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and value >= 0 else None


def save_cursor(path: Path, cursor: int) -> None:
    """Save the cursor atomically (a new file renamed over the old)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"cursor": cursor}) + "\n", encoding="utf-8")
    os.replace(temporary, path)
