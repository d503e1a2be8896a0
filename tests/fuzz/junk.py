"""Hypothesis strategies for hostile values: odd text, odd numbers, option look-alikes.

Text never holds NUL or `/` when it may reach a file name: a real argv cannot carry NUL, and
without `/` a fuzzed path stays inside the sandbox (the tests may run as root). Lone
surrogates U+DC80-U+DCFF are how Python hands a program argv bytes that are not UTF-8.
"""

from __future__ import annotations

from hypothesis import strategies as st

# Characters a terminal or a parser may act on, and a few that only look harmless.
NASTY_CHARS = "\x01\x07\x08\t\n\r\x1b\x7f\x85\x9b\u00a0\u200b\u202e\u2028\ufeff\ufffd"
NASTY_PIECES = (
    "[bold red]alarm[/]",
    "\x1b[2J\x1b[31mred",
    "\x1b]8;;http://evil\x07click\x1b]8;;\x07",
    "\x1b]52;c;cHduZWQ=\x07",
    "'; DROP TABLE task; --",
    "%s%n{0}",
    "${HOME}",
    "null",
    "[]",
    "{}",
)
OPTION_LOOKALIKES = (
    "-",
    "--",
    "---",
    "-p",
    "-o",
    "-d",
    "-x",
    "--json",
    "--as",
    "--board",
    "--db",
    "--help",
    "--no-such-option",
    "--as=",
    "--limit=-1",
    "-1",
    "-0.5",
)
NUMBERS = (
    "0",
    "-0",
    "-1",
    "4",
    "5",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 40,
    "1e3",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1_000",
    "1.5",
    " 7 ",
    "\u0661\u0662",  # Arabic-Indic digits
    "\uff17",  # a full-width 7
    "",
)

ARGV_SURROGATES = st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF)
# A JSON string may carry any lone surrogate as a \u escape.
ANY_SURROGATE = st.characters(categories=("Cs",))
HUGE_INTS = (2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30))


def characters(
    forbid: str = "\x00/", surrogates: st.SearchStrategy[str] | None = ARGV_SURROGATES
) -> st.SearchStrategy[str]:
    """Any character but `forbid`: mostly ordinary unicode, then control characters, and now
    and then a lone surrogate (one in a string is enough to test that path)."""
    ordinary = st.characters(exclude_categories=("Cs",), exclude_characters=forbid)
    parts = [
        ordinary,
        ordinary,
        ordinary,
        st.sampled_from([c for c in NASTY_CHARS if c not in forbid]),
    ]
    return st.one_of(*parts, *([surrogates] if surrogates is not None else []))


def texts(
    forbid: str = "\x00/",
    surrogates: st.SearchStrategy[str] | None = ARGV_SURROGATES,
    long_sizes: tuple[int, ...] = (301, 70_000),
) -> st.SearchStrategy[str]:
    """Short hostile text, markup and escapes, option look-alikes, numbers as text, and now and
    then a long run of characters (by default one past the 64 KiB text limit)."""
    # Joined by hand: `st.text` would quietly drop the surrogates from the alphabet.
    short = st.lists(characters(forbid, surrogates), max_size=30).map("".join)
    long = st.builds(
        lambda c, n: c * n, st.sampled_from("x\u20ac\x1b"), st.sampled_from(long_sizes)
    )
    return st.one_of(
        short,
        short,
        st.sampled_from(NASTY_PIECES),
        st.sampled_from(OPTION_LOOKALIKES),
        st.sampled_from(NUMBERS),
        long,
    )


def number_texts() -> st.SearchStrategy[str]:
    """Numbers as a command line carries them: valid, huge, negative, non-finite, malformed."""
    return st.one_of(
        st.sampled_from(NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-3, max_value=6).map(str),
    )


def numbers() -> st.SearchStrategy[int | float]:
    """JSON numbers: small, huge, fractional, NaN and infinities."""
    return st.one_of(
        st.integers(min_value=-3, max_value=250),
        st.sampled_from(HUGE_INTS),
        st.integers(),
        st.floats(),
    )


def json_values(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[object]:
    """Any JSON value, nested a little: the wrong type for nearly every argument."""
    text = text if text is not None else texts(forbid="", surrogates=ANY_SURROGATE)
    scalars = st.one_of(st.none(), st.booleans(), numbers(), text)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=6,
    )


def nested(depth: int) -> object:
    """A JSON value `depth` objects deep, for parsers and serialisers that recurse."""
    value: object = "bottom"
    for _ in range(depth):
        value = {"a": value}
    return value
