"""Size limits on agent-written text, and the checks that enforce them.

Agent text is untrusted: oversized fields are refused (titles, keys, names) or truncated
with a visible marker (logs, descriptions), never stored silently cut.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.errors import ValidationError

MAX_NAME = 64
MAX_TITLE = 300
MAX_TEXT = 64 * 1024
TRUNCATION_MARKER = "\n… [truncated by agentdeck: {dropped} more characters]"
_KEY_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
_NAME_RE = re.compile(r"^[\w.@:+-]{1,64}$")


def board_key(key: str) -> str:
    """A board key like `WEB`: 1-10 upper-case letters and digits, starting with a letter."""
    key = key.strip().upper()
    if not _KEY_RE.match(key):
        raise ValidationError(
            f"board key {key!r} must be 1-10 letters or digits starting with a letter, like WEB"
        )
    return key


def name(value: str, what: str = "agent name") -> str:
    """An agent or human name: letters, digits and . _ - @ : + only, at most 64 characters."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    if not _NAME_RE.match(value):
        raise ValidationError(
            f"{what} {value[:40]!r} must be 1-{MAX_NAME} characters of letters, digits and ._-@:+"
        )
    return value


def title(value: str) -> str:
    """A task title: one line, not empty, at most 300 characters."""
    value = " ".join(value.split())
    if not value:
        raise ValidationError("a task title cannot be empty")
    if len(value) > MAX_TITLE:
        raise ValidationError(f"a task title is at most {MAX_TITLE} characters (got {len(value)})")
    return value


def text(value: str | None) -> str:
    """Free text (descriptions, logs, notes): kept as written, truncated past 64 KiB with a marker."""
    if value is None:
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if len(value) > MAX_TEXT:
        dropped = len(value) - MAX_TEXT
        return value[:MAX_TEXT] + TRUNCATION_MARKER.format(dropped=dropped)
    return value


def priority(value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 4:
        raise ValidationError(f"priority must be 0 (most urgent) to 4, not {value!r}")
    return value


def skills(values: list[str] | tuple[str, ...] | None) -> list[str]:
    """Skill tags, lower-cased, unique and sorted so equal sets compare equal."""
    return sorted({name(v, "skill").lower() for v in values or ()})


def count(value: int, label: str) -> int:
    """A usage count (tokens): a whole number from 0 to 10^12."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 10**12:
        raise ValidationError(f"{label} must be a whole number from 0 to 10^12, not {value!r}")
    return value


def amount(value: float, label: str) -> float:
    """A usage amount (dollars, seconds): a number from 0 to 1e9."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1e9:
        raise ValidationError(f"{label} must be a number from 0 to 1e9, not {value!r}")
    return float(value)


def log_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """A log entry's JSON data: an object that serialises to at most 64 KiB."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError("log data must be a JSON object")
    try:
        encoded = json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"log data is not JSON: {exc}") from exc
    if len(encoded) > MAX_TEXT:
        raise ValidationError(f"log data is over {MAX_TEXT // 1024} KiB")
    return data
