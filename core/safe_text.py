"""The one table of characters agent text may not carry to a reader, and how each output
neutralises them.

Titles, logs and notes come from agents and are untrusted. A terminal acts on control
characters (ESC starts ANSI and OSC sequences that restyle the screen or smuggle hyperlinks),
bidi controls reorder what a reader sees ("Trojan Source"), and a lone surrogate (invalid
UTF-8 as Python decodes it) cannot be written at all. Every output uses `UNSAFE` below; only
the way a character is made harmless differs with where the text goes:

- `pictures`: the console shows a control as its Unicode picture (ESC as ␛), drops bidi controls;
- `escapes`: the command line shows it as a visible escape (`\\x1b`, `\\u202e`);
- `dropped`: the markdown report removes it.
"""

from __future__ import annotations

import json
import re
from typing import Any

# (first, last, what it is): every code point from first to last is unsafe. Tab and newline
# are layout, not control: each output decides how to show them.
UNSAFE: tuple[tuple[int, int, str], ...] = (
    (0x00, 0x08, "C0 controls before tab"),
    (0x0B, 0x1F, "C0 controls after newline (ESC 0x1b starts ANSI and OSC sequences)"),
    (0x7F, 0x7F, "DEL"),
    (0x80, 0x9F, "C1 controls (CSI 0x9b, OSC 0x9d)"),
    (0x061C, 0x061C, "ARABIC LETTER MARK (bidi)"),
    (0x200E, 0x200F, "LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK (bidi)"),
    (0x202A, 0x202E, "bidi embeddings and overrides"),
    (0x2066, 0x2069, "bidi isolates"),
    (0xD800, 0xDFFF, "lone surrogates (invalid UTF-8 decoded with surrogateescape)"),
)
_BIDI = frozenset(
    code for first, last, what in UNSAFE if "bidi" in what for code in range(first, last + 1)
)


def _class(*extra: str) -> re.Pattern[str]:
    ranges = "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last, _ in UNSAFE)
    return re.compile(f"[{ranges}{''.join(extra)}]")


_UNSAFE = _class()
_UNSAFE_OR_LAYOUT = _class("\\t", "\\n")


def is_unsafe(char: str) -> bool:
    """Whether one character is in `UNSAFE`."""
    return _UNSAFE.fullmatch(char) is not None


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _BIDI:
        return ""
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␀ ␁ … ␛ …
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def pictures(text: str) -> str:
    """Text for the console: controls as their pictures, C1 and surrogates as U+FFFD, bidi
    controls dropped."""
    return _UNSAFE.sub(_picture, text)


def escapes(text: str, *, one_line: bool = False) -> str:
    """Text for a terminal line: each unsafe character as a visible `\\x1b` or `\\u202e`
    escape; `one_line` escapes tabs and newlines too."""
    return (_UNSAFE_OR_LAYOUT if one_line else _UNSAFE).sub(_escape, text)


def json_escapes(text: str) -> str:
    """JSON text (already serialised) with each unsafe character as a `\\uXXXX` escape, which
    JSON decoders read back as the same character."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def safe_json(value: Any, *, compact: bool = False) -> str:
    """`value` as JSON that carries agent text literally (not ASCII-escaped), except that each
    unsafe character is a `\\uXXXX` escape (`json_escapes`); objects JSON lacks (datetimes)
    as their `str`. The one serialiser of every JSON answer: the CLI's and the MCP server's."""
    separators = (",", ":") if compact else None
    return json_escapes(json.dumps(value, ensure_ascii=False, separators=separators, default=str))


def dropped(text: str) -> str:
    """Text with every unsafe character removed (the markdown report)."""
    return _UNSAFE.sub("", text)
