"""Neutralise agent-written text before it reaches the screen.

Titles, logs and notes come from agents and are untrusted. They are shown literally: never
parsed as Rich markup (widgets get `rich.text.Text` objects, not markup strings) and with
terminal control characters made visible instead of sent to the terminal, so an ANSI or OSC
escape sequence can neither restyle the screen nor smuggle a hyperlink.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text

# C0 controls other than tab and newline, DEL, the C1 block (0x80-0x9f, e.g. CSI 0x9b), and
# lone surrogates (invalid UTF-8 as Python decodes it), which no terminal can be sent.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\ud800-\udfff]")
# Unicode bidirectional overrides and isolates can reorder what a reader sees ("Trojan Source").
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_ELLIPSIS = "…"


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 block: ␀ ␁ … ␛ …
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def clean(value: object, *, single_line: bool = False, limit: int | None = None) -> str:
    """`value` as text with control characters shown as symbols (ESC becomes ␛) and bidi
    overrides removed; `single_line` folds newlines and tabs, `limit` truncates with an ellipsis."""
    text = "" if value is None else str(value)
    if single_line:
        text = " ".join(text.replace("\r\n", "\n").split())
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    text = _BIDI.sub("", _CONTROL.sub(_picture, text))
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
