"""Agent-written text as Rich `Text` for the console's widgets.

Titles, logs and notes come from agents and are untrusted. They are shown literally: never
parsed as Rich markup (widgets get `rich.text.Text` objects, not markup strings), with the
characters of `agentdeck.core.safe_text.UNSAFE` shown as pictures (ESC as ␛) instead of sent
to the terminal, so an ANSI or OSC escape sequence can neither restyle the screen nor smuggle
a hyperlink.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from agentdeck.core.safe_text import pictures

_ELLIPSIS = "…"


def clean(value: object, *, single_line: bool = False, limit: int | None = None) -> str:
    """`value` as text with control characters shown as symbols (ESC becomes ␛) and bidi
    overrides removed; `single_line` folds newlines and tabs, `limit` truncates with an ellipsis."""
    text = "" if value is None else str(value)
    if single_line:
        text = " ".join(text.replace("\r\n", "\n").split())
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    text = pictures(text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + _ELLIPSIS
    return text


def safe(
    value: object,
    style: str | Style = "",
    *,
    single_line: bool = False,
    limit: int | None = None,
) -> Text:
    """A `Text` holding `value` literally: markup such as `[bold]` stays visible as typed."""
    return Text(clean(value, single_line=single_line, limit=limit), style=style)


def line(value: object, style: str | Style = "", limit: int | None = None) -> Text:
    """One line of untrusted text (newlines folded) for cards, lists and log rows."""
    return safe(value, style, single_line=True, limit=limit)


def styled(value: str, style: str | Style = "") -> Text:
    """Our own text with a style on its span only, so text appended later keeps its own look
    (`Text(value, style=...)` would make the style the base of everything appended)."""
    text = Text()
    text.append(value, style=style)
    return text
