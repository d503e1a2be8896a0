"""How the CLI writes: one JSON document for machines, plain or rich text for people.

Agent-written text is untrusted. Every character in the one table of `agentdeck.core.safe_text`
(terminal escapes, C1 codes, bidi controls, lone surrogates) is shown as a visible `\\x1b`-style
escape, and rich output never parses markup, so a title like `[bold]` or an ANSI colour
sequence appears literally. Rich is imported only when a table or panel is printed; one-line
confirmations are plain text to keep start-up cheap.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from agentdeck.core import safe_text

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def safe(text: str | None, *, one_line: bool = False) -> str:
    """Agent text made harmless for a terminal; `one_line` also shows tabs and newlines escaped."""
    return safe_text.escapes(text, one_line=one_line) if text else ""


def amount(value: float | None) -> str:
    """A budget number for people: `-` for none, `1,000,000` for whole numbers, else 4 digits."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """`n` with its noun, singular or plural: `1 turn`, `2 turns`, `0 tasks`, `3,000 tokens`."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def relevance(score: float, best: float) -> str:
    """A search hit's score as a share of the best hit's, for people: `100%`, `62%`, `<1%`.
    Raw scores (bm25, ts_rank) are tiny floats that mean nothing on their own."""
    if best <= 0 or score >= best:
        return "100%"
    share = round(100 * max(score, 0.0) / best)
    return f"{share}%" if share >= 1 else "<1%"


def to_json(doc: Any) -> str:
    """One line of JSON; characters a terminal could act on stay escaped even in strings."""
    return safe_text.safe_json(doc)


def print_json(doc: Any) -> None:
    """Write `doc` as one line of JSON on stdout."""
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
