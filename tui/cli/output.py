"""How the CLI writes: one JSON document for machines, plain or rich text for people.

Agent-written text is untrusted. Control characters (terminal escapes, C1 codes, bidi
overrides) are shown as visible `\\x1b`-style escapes, and rich output never parses markup,
so a title like `[bold]` or an ANSI colour sequence appears literally. Rich is imported only
when a table or panel is printed; one-line confirmations are plain text to keep start-up cheap.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

# C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides/isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str | None, *, one_line: bool = False) -> str:
    """Agent text made harmless for a terminal; `one_line` also shows tabs and newlines escaped."""
    if not text:
        return ""
    return (_UNSAFE_IN_LINE if one_line else _UNSAFE).sub(_visible, text)


def amount(value: float | None) -> str:
    """A budget number for people: `-` for none, `1,000,000` for whole numbers, else 4 digits."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def to_json(doc: Any) -> str:
    """One line of JSON; characters a terminal could act on stay escaped even in strings."""
    return _UNSAFE.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(doc, ensure_ascii=False, default=str)
    )


def print_json(doc: Any) -> None:
    sys.stdout.write(to_json(doc) + "\n")
    sys.stdout.flush()


def say(*parts: str) -> None:
    """Print one plain line (no rich); callers pass agent text through `safe` first."""
    sys.stdout.write(" ".join(parts) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """A notice for a person on stderr, one line (e.g. the unverified-completion nudge)."""
    sys.stderr.write(f"agentdeck: note: {safe(message, one_line=True)}\n")
    sys.stderr.flush()


def console() -> Console:
    """A rich console on stdout with markup, emoji and highlighting off (agent text stays
    literal); made per call so it follows the current stdout and environment."""
    from rich.console import Console

    return Console(markup=False, emoji=False, highlight=False)


def show(*renderables: RenderableType) -> None:
    """Print rich renderables (built from `rich.text.Text`, never markup strings)."""
    out = console()
    for renderable in renderables:
        out.print(renderable)
