"""Size limits on agent-written text, and the checks that enforce them.

Agent text is untrusted: oversized fields are refused (titles, keys, names) or truncated
with a visible marker (logs, descriptions), never stored silently cut. Characters no database
can store become U+FFFD: NUL (PostgreSQL text cannot hold it) and lone surrogates, which is what
Python makes of invalid UTF-8 in argv, environment and files read with `surrogateescape`.
Replacing keeps the rest of an agent's record; refusing would lose all of it over one bad byte.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any, NoReturn

from agentdeck.core import names
from agentdeck.core.errors import ValidationError
from agentdeck.core.models import TASK_TYPES

MAX_TITLE = 300
MAX_TEXT = 64 * 1024
# Nesting of JSON data (log data, imported event data): deeper would exhaust Python's recursion
# limit in the code that copies, stores and prints it.
MAX_DEPTH = 100
# The largest limit, offset or id a query binds, and the largest token count one usage record
# holds: PostgreSQL stores them as 32-bit INTEGER, so anything larger fails there.
MAX_ROW = 2**31 - 1
MAX_LEASE_SECONDS = 365 * 24 * 3600  # a year; far longer leases overflow the date arithmetic
TRUNCATION_MARKER = "\n… [truncated by agentdeck: {dropped} more characters]"
ELLIPSIS = "…"
# Text this module already cut: cutting it again (an import re-checked on insert, say) keeps it.
_TRUNCATED = re.compile(r"\n… \[truncated by agentdeck: \d+ more characters\]")
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_KEY_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
MAX_LABEL = 40
MAX_LABELS = 32  # labels on one task
# A label: letters and digits of any script, and . _ - : / + # @ between them; no spaces,
# commas (lists split on them), control, invisible or bidi characters.
_LABEL_RE = re.compile(r"\w[\w.:/+#@-]*")


def board_key(key: str) -> str:
    """A board key like `WEB`: 1-10 upper-case letters and digits, starting with a letter."""
    key = key.strip().upper()
    if not _KEY_RE.match(key):
        raise ValidationError(
            f"board key {key!r} must be 1-10 letters or digits starting with a letter, like WEB"
        )
    return key


def name(value: str, what: str = "agent name") -> str:
    """An agent or human name in its stored form (`names.normalise`): NFKC, letters, digits
    and . _ - @ : + only, at most 64 characters, no invisible characters."""
    return names.normalise(value, what)


def storable(value: str) -> str:
    """`value` with NUL and lone surrogates replaced by U+FFFD, so every backend can store it."""
    return _UNSTORABLE.sub("\ufffd", value)


def title(value: str) -> str:
    """A task title: one line, not empty, at most 300 characters."""
    value = " ".join(storable(value).split())
    if not value:
        raise ValidationError("a task title cannot be empty")
    if len(value) > MAX_TITLE:
        raise ValidationError(f"a task title is at most {MAX_TITLE} characters (got {len(value)})")
    return value


def text(value: str | None, limit: int = MAX_TEXT) -> str:
    """Free text (descriptions, logs, notes): kept as written, truncated past `limit` characters
    (64 Ki by default) with a marker that says how much was dropped."""
    if value is None:
        return ""
    if len(value) > limit and not _TRUNCATED.fullmatch(value, limit):
        dropped = len(value) - limit
        return storable(value[:limit]) + TRUNCATION_MARKER.format(dropped=dropped)
    return storable(value)


def line(value: str | None, limit: int) -> str:
    """A short one-line label (what an agent is doing, a model, a role): whitespace folded,
    cut past `limit` characters with an ellipsis."""
    value = " ".join(storable(value or "").split())
    if len(value) > limit:
        return value[: limit - 1] + ELLIPSIS
    return value


def priority(value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 4:
        raise ValidationError(f"priority must be 0 (most urgent) to 4, not {value!r}")
    return value


def skills(values: list[str] | tuple[str, ...] | None) -> list[str]:
    """Skill tags, lower-cased, unique and sorted so equal sets compare equal."""
    return sorted({name(v, "skill").lower() for v in values or ()})


def label(value: str) -> str:
    """A task label in its stored form: NFKC, case-folded, 1-40 characters of letters, digits
    and . _ - : / + # @ (starting with a letter, digit or _), so `Backend` and `backend`
    are one label and a filter finds both."""
    if not isinstance(value, str):
        raise ValidationError(f"a label is text, not {_shown(value)}")
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value.strip()).casefold())
    if not folded or len(folded) > MAX_LABEL or not _LABEL_RE.fullmatch(folded):
        raise ValidationError(
            f"label {_shown(value)} must be 1-{MAX_LABEL} letters, digits or . _ - : / + # @, "
            "with no spaces or commas, like ui or needs-review"
        )
    return folded


def labels(values: list[str] | tuple[str, ...] | None) -> list[str]:
    """Labels in stored form, unique and sorted; at most `MAX_LABELS` on one task."""
    out = sorted({label(v) for v in values or ()})
    if len(out) > MAX_LABELS:
        raise ValidationError(f"a task has at most {MAX_LABELS} labels (got {len(out)})")
    return out


def task_type(value: str) -> str:
    """A task type: one of task, bug, feature, epic, chore (case-insensitive)."""
    folded = value.strip().lower() if isinstance(value, str) else value
    if folded not in TASK_TYPES:
        raise ValidationError(f"type must be one of {', '.join(TASK_TYPES)}, not {_shown(value)}")
    return str(folded)


def count(value: int, label: str) -> int:
    """A usage count (tokens) in one record: a whole number from 0 to 2^31-1, what the
    INTEGER column holds on PostgreSQL (more was an unexpected DataError there)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ROW:
        raise ValidationError(
            f"{label} must be a whole number from 0 to {MAX_ROW}, not {_shown(value)}"
        )
    return value


def finite_from_zero(value: object, most: float = math.inf) -> bool:
    """Whether `value` is a number (not a bool) from 0 to `most`, finite: NaN compares false
    and an int past the float range overflows, so both fail."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return 0 <= float(value) <= most and float(value) < math.inf
    except OverflowError:
        return False


def amount(value: float, label: str) -> float:
    """A usage amount (dollars, seconds): a finite number from 0 to 1e9."""
    if not finite_from_zero(value, 1e9):
        raise ValidationError(f"{label} must be a finite number from 0 to 1e9, not {_shown(value)}")
    return float(value)


def budget_limit(value: float | None, label: str) -> float | None:
    """A budget's soft or hard limit: absent, or a finite number from 0 up. NaN would compare
    false against every total (the limit silently off) and infinity is not JSON."""
    if value is None or finite_from_zero(value):
        return value  # as given: a whole number stays whole in events and exports
    raise ValidationError(f"{label} limit must be a finite number >= 0, not {_shown(value)}")


def _shown(value: Any) -> str:
    """A refused value for an error message, cut short (an int can have thousands of digits)."""
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:39] + ELLIPSIS


def json_constant(name: str) -> NoReturn:
    """For `json.loads(..., parse_constant=json_constant)`: refuse `NaN`, `Infinity` and
    `-Infinity`, which Python's parser accepts but JSON does not have."""
    raise ValidationError(f"JSON numbers must be finite, not {name}")


def log_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """A log entry's JSON data: an object that serialises to at most 64 KiB."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationError("log data must be a JSON object")
    data = storable_json(data)
    try:
        encoded = json.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"log data is not JSON: {exc}") from exc
    if len(encoded) > MAX_TEXT:
        raise ValidationError(f"log data is over {MAX_TEXT // 1024} KiB")
    return data


def row_window(value: int) -> int:
    """A limit, offset or event id for a query, clamped into 0..2^31-1: asking for more rows
    than exist, or for events after the last, is an empty answer, not an error."""
    return min(max(value, 0), MAX_ROW)


def lease_seconds(value: int) -> int:
    """A board's lease length: from 5 seconds to a year."""
    if not 5 <= value <= MAX_LEASE_SECONDS:
        raise ValidationError(
            f"lease_seconds must be from 5 to {MAX_LEASE_SECONDS} (a year), not {value}"
        )
    return value


def storable_json(value: Any, depth: int = 0) -> Any:
    """JSON data with every string (keys too) made storable: PostgreSQL's JSONB refuses NUL and
    lone surrogates even as escapes. NaN and infinities are refused wherever they sit: they are
    not JSON, and stored they would make every later `--json` answer and export invalid. Other
    values are left for `json.dumps` to judge; data nested more than `MAX_DEPTH` levels deep is
    refused. This is the one check every piece of agent JSON data passes before it is stored."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, float) and not math.isfinite(value):
        json_constant(repr(value))
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        raise ValidationError(f"JSON data is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        return {
            storable(k) if isinstance(k, str) else k: storable_json(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [storable_json(v, depth + 1) for v in value]
    return value
