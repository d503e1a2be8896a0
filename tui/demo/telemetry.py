"""The demo agents' own telemetry: usage sent as Claude Code sends it, over OTLP/HTTP JSON.

With `agentdeck demo --otel PORT` the demo runs the OTLP receiver beside the console and each
simulated agent exports what it spent as `claude_code.token.usage` and
`claude_code.cost.usage` delta points, with its own token in the Authorization header, the
way a Claude Code session pointed at agentdeck does (`agentdeck connect claude-code`). The
agent then also reports usage itself, but less than it spent, as agents do: the report and the
task screen show measured and reported side by side, with the gap.

Standard library only: the demo's agents are separate processes and stay light.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from agentdeck.core.identity import ENV_TOKEN

ENV_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"


@dataclass(frozen=True)
class Telemetry:
    """Where one agent exports to, and as whom."""

    endpoint: str
    token: str
    session: str

    @classmethod
    def from_environment(cls, session: str) -> Telemetry | None:
        """The exporter the parent configured for this agent's process, or None (no --otel)."""
        endpoint, token = os.environ.get(ENV_ENDPOINT), os.environ.get(ENV_TOKEN)
        if not endpoint or not token:
            return None
        return cls(endpoint.rstrip("/"), token, session)

    def export(self, model: str, tokens_in: int, tokens_out: int, cost_usd: float) -> None:
        """Send one export of what the agent just spent; raises on anything but 200."""
        end = time.time_ns()
        start = end - 1_000_000_000

        def point(value: float, **attributes: str) -> dict[str, Any]:
            return {
                "attributes": [
                    {"key": k, "value": {"stringValue": v}}
                    for k, v in {**attributes, "model": model}.items()
                ],
                "startTimeUnixNano": str(start),
                "timeUnixNano": str(end),
                "asDouble": value,
            }

        def delta_sum(name: str, unit: str, points: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                "name": name,
                "unit": unit,
                "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": points},
            }

        resource = [
            {"key": "service.name", "value": {"stringValue": "claude-code"}},
            {"key": "session.id", "value": {"stringValue": self.session}},
        ]
        metrics = [
            delta_sum(
                "claude_code.token.usage",
                "tokens",
                [point(tokens_in, type="input"), point(tokens_out, type="output")],
            ),
            delta_sum("claude_code.cost.usage", "USD", [point(cost_usd)]),
        ]
        body = {
            "resourceMetrics": [
                {
                    "resource": {"attributes": resource},
                    "scopeMetrics": [
                        {"scope": {"name": "com.anthropic.claude_code"}, "metrics": metrics}
                    ],
                }
            ]
        }
        request = urllib.request.Request(
            f"{self.endpoint}/v1/metrics",
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"the OTLP receiver answered {exc.code}") from None
