"""The one table of unsafe characters, checked against every code point and every output."""

from __future__ import annotations

import json

import pytest

from agentdeck.core import safe_text
from agentdeck.core.safe_text import UNSAFE

IN_TABLE = [chr(c) for first, last, _ in UNSAFE for c in range(first, last + 1)]
OUTPUTS = {
    "pictures": safe_text.pictures,
    "escapes": safe_text.escapes,
    "escapes one line": lambda text: safe_text.escapes(text, one_line=True),
    "dropped": safe_text.dropped,
}


def test_the_table_names_what_the_design_promises() -> None:
    """ESC, the C1 CSI, DEL, every bidi control (U+061C too) and lone surrogates are in it;
    tab and newline (layout) and ordinary letters are not."""
    for char in "\x1b\x9b\x7f\x00\u061c\u200e\u200f\u202e\u2066\u2069\ud800\udfff":
        assert safe_text.is_unsafe(char), hex(ord(char))
    for char in "\t\na é\u00a0\u200b漢😀":
        assert not safe_text.is_unsafe(char), hex(ord(char))


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_no_unsafe_character_survives_any_output(output: str) -> None:
    """Every character of the table, alone and inside text, leaves no unsafe character."""
    render = OUTPUTS[output]
    for char in IN_TABLE:
        shown = render(f"a{char}b")
        assert not any(safe_text.is_unsafe(c) for c in shown), (output, hex(ord(char)))
        assert shown.startswith("a") and shown.endswith("b")


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_every_other_code_point_is_left_alone(output: str) -> None:
    """Outside the table (and tab/newline for one-line escapes), text passes unchanged."""
    unsafe = set(IN_TABLE) | ({"\t", "\n"} if output == "escapes one line" else set())
    rest = "".join(chr(c) for c in range(0x110000) if chr(c) not in unsafe)
    assert OUTPUTS[output](rest) == rest


def test_each_output_shows_its_own_way() -> None:
    text = "\x1b[31mred\x7f\u202e\x9b\ud800"
    assert safe_text.pictures(text) == "\u241b[31mred\u2421\ufffd\ufffd"
    assert safe_text.escapes(text) == "\\x1b[31mred\\x7f\\u202e\\x9b\\ud800"
    assert safe_text.escapes("a\tb\nc", one_line=True) == "a\\x09b\\x0ac"
    assert safe_text.dropped(text) == "[31mred"


def test_json_escapes_read_back_as_the_same_text() -> None:
    text = "tab\there \x1b]8;;http://x\x07 \u202e \ud800"
    doc = safe_text.json_escapes(json.dumps({"t": text}, ensure_ascii=False))
    assert not any(safe_text.is_unsafe(c) for c in doc)
    assert json.loads(doc) == {"t": text}
