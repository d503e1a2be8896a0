"""Actor names (agents and humans on a board) as safe identities: the stored form, the key two
names are compared by, and why a new member's name is refused.

A member's name is what the roster, the log and every approval show, so a name that reads like
another member's is an impersonation: `Alice` or a fullwidth `alice` beside `alice`, `alice`
spelt with a Cyrillic `a`, an all-Cyrillic `scope` beside the Latin one, `a1ice` beside `alice`,
or a name with a zero-width or right-to-left control in it. The rules follow Unicode TR39 (Security Mechanisms):

- the stored form is NFKC (`normalise`), the comparison key adds case folding (`fold`);
- invisible characters (Default_Ignorable_Code_Point, format controls) are refused outright;
- a name may not mix scripts beyond TR39's "highly restrictive" level (Latin with Han and
  kana, bopomofo or hangul is one writing system), nor digits of different number systems,
  nor stack combining marks (TR39 section 5);
- a new name whose TR39 skeleton equals an existing member's is refused (`confusable_with`).

Data: NFKC from `unicodedata`; Script_Extensions and Default_Ignorable_Code_Point from the
`regex` module's Unicode tables (the standard library has no script property); skeletons from
Unicode's own confusables.txt, shipped unchanged in `unicode/confusables.txt` (version 17.0.0,
Unicode licence; replace the file to update it). Hand-written rather than a library because
none on PyPI does TR39 well: `confusable-homoglyphs` (3.3.1) keeps confusables.txt as undirected
pairs, so it has no skeleton and cannot say `a1ice` looks like `alice`, and its script check
ignores Script_Extensions (Japanese names read as mixed); `confusables` (1.2.0, Unicode 13 data
from 2020) adds its own pairs (`a`/`@`, accents stripped, so `José` collides with `Jose`) and
matches transitively; PyICU's SpoofChecker is right but needs the ICU C++ library to build.

Pure functions, no storage: `core/boards.py` loads a board's roster and asks `refusal_reason`.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING

from agentdeck.core.errors import ValidationError

if TYPE_CHECKING:
    import regex

MAX_NAME = 64
_PUNCTUATION = frozenset("_.@:+-")
_MARKS = frozenset(("Mn", "Mc"))
# TR39 5.4: "more than 4 nonspacing marks in a row" is past any real orthography.
_MOST_MARKS = 4

# Every script the `regex` tables know (its spelling of Scripts.txt's long names); a character
# belongs to the ones its Script_Extensions list.
_SCRIPTS = (  # noqa: SIM905 (a list literal would take 175 lines)
    "LATIN BOPOMOFO GREEK COPTIC CYRILLIC ARMENIAN HEBREW ARABIC SYRIAC THAANA NKOO SAMARITAN "
    "MANDAIC DEVANAGARI BENGALI GURMUKHI GUJARATI ORIYA TAMIL TELUGU KANNADA MALAYALAM SINHALA "
    "THAI LAOO TIBETAN MYANMAR GEORGIAN HANGUL ETHIOPIC CHEROKEE CANADIANABORIGINAL OGHAM RUNIC "
    "TAGALOG HANUNOO BUHID TAGBANWA KHMER MONGOLIAN LIMBU TAILE NEWTAILUE BUGINESE TAITHAM "
    "BALINESE SUNDANESE BATAK LEPCHA OLCHIKI BRAILLE GLAGOLITIC TIFINAGH HANI HIRAGANA KATAKANA "
    "YIII LISU VAII BAMUM SYLOTINAGRI PHAGSPA SAURASHTRA KAYAHLI REJANG JAVANESE CHAM TAIVIET "
    "MEETEIMAYEK LINEARB LYCIAN CARIAN OLDITALIC GOTHIC OLDPERMIC UGARITIC OLDPERSIAN DESERET "
    "SHAVIAN OSMANYA OSAGE ELBASAN CAUCASIANALBANIAN VITHKUQI TODHRI LINEARA CYPRIOT "
    "IMPERIALARAMAIC PALMYRENE NABATAEAN HATRAN PHOENICIAN LYDIAN SIDETIC MEROITICHIEROGLYPHS "
    "MEROITICCURSIVE KHAROSHTHI OLDSOUTHARABIAN OLDNORTHARABIAN MANICHAEAN AVESTAN "
    "INSCRIPTIONALPARTHIAN INSCRIPTIONALPAHLAVI PSALTERPAHLAVI OLDTURKIC OLDHUNGARIAN "
    "HANIFIROHINGYA GARAY YEZIDI OLDSOGDIAN SOGDIAN OLDUYGHUR CHORASMIAN ELYMAIC BRAHMI KAITHI "
    "SORASOMPENG CHAKMA MAHAJANI SHARADA KHOJKI MULTANI KHUDAWADI GRANTHA TULUTIGALARI NEWA "
    "TIRHUTA SIDDHAM MODI TAKRI AHOM DOGRA WARANGCITI DIVESAKURU NANDINAGARI ZANABAZARSQUARE "
    "SOYOMBO PAUCINHAU SUNUWAR BHAIKSUKI MARCHEN MASARAMGONDI GUNJALAGONDI TOLONGSIKI MAKASAR "
    "KAWI CUNEIFORM PROTOCUNEIFORM CYPROMINOAN EGYPTIANHIEROGLYPHS ANATOLIANHIEROGLYPHS "
    "GURUNGKHEMA MROO TANGSA BASSAVAH PAHAWHHMONG KIRATRAI MEDEFAIDRIN BERIAERFE MIAO TANGUT "
    "NUSHU KHITANSMALLSCRIPT JURCHEN DUPLOYAN SIGNWRITING NYIAKENGPUACHUEHMONG TOTO WANCHO "
    "NAGMUNDARI OLONAL TAIYO MENDEKIKAKUI ADLAM SEAL"
).split()
_SHOWN = {"HANI": "Han", "LAOO": "Lao", "NKOO": "Nko", "YIII": "Yi", "VAII": "Vai"}
# TR39 5.1 augmented script sets: Han, kana, hangul and bopomofo write one language together.
_AUGMENTED = {
    "HANI": {"HANB", "JPAN", "KORE"},
    "HIRAGANA": {"JPAN"},
    "KATAKANA": {"JPAN"},
    "HANGUL": {"KORE"},
    "BOPOMOFO": {"HANB"},
}
# TR39 5.2 "highly restrictive": Latin may also join one of these writing systems.
_LATIN_WITH = (
    frozenset({"LATIN", "HANI", "HIRAGANA", "KATAKANA", "JPAN", "HANB", "KORE"}),
    frozenset({"LATIN", "HANI", "BOPOMOFO", "HANB"}),
    frozenset({"LATIN", "HANI", "HANGUL", "KORE"}),
)


def normalise(value: object, what: str = "agent name") -> str:
    """The stored form of a name: stripped, NFKC, and made only of letters, digits, marks on
    them and `._-@:+`, 1-64 characters. Invisible characters are refused with their own reason:
    a name must read as what it is."""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    for form in () if value.isascii() else (value, unicodedata.normalize("NFKC", value)):
        hidden = _invisible().search(form)
        if hidden:
            raise ValidationError(
                f"{what} {value[:40]!r} contains an invisible character, {_described(hidden[0])}"
            )
    value = unicodedata.normalize("NFKC", value)
    if not 1 <= len(value) <= MAX_NAME or not _allowed_characters(value):
        raise ValidationError(
            f"{what} {value[:40]!r} must be 1-{MAX_NAME} characters of letters, digits and ._-@:+"
        )
    return value


def fold(name: str) -> str:
    """The key two names are compared by: NFKC and case folded, so `Alice`, `ALICE` and
    a fullwidth `alice` are all `alice`. Idempotent: `fold(fold(x)) == fold(x)`."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def skeleton(name: str) -> str:
    """TR39's skeleton: NFD, each character replaced by its confusables.txt prototype, NFD
    again. Two strings with one skeleton look alike (`a1ice` and `alice` are both `alice`)."""
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(c, c) for c in unicodedata.normalize("NFD", name))
    return unicodedata.normalize("NFD", mapped)


def confusable_with(name: str, existing: Iterable[str]) -> str | None:
    """The first of `existing` that `name` would be taken for, or None: the same after case
    and width folding, or the same TR39 skeleton either side of folding (`Ilya` reads as
    `llya`; an all-Greek `KATE` as `kate`, since names are compared without case). Invisible
    characters are ignored here (`normalise` refuses them)."""
    seen = _visible(name)
    folded, looks = fold(seen), _looks(seen)
    for other in existing:
        other_seen = _visible(other)
        if fold(other_seen) == folded or looks & _looks(other_seen):
            return other
    return None


def refusal_reason(name: str, existing: Iterable[str], *, board: str = "") -> str | None:
    """Why `name` may not join a board whose members are `existing`, in one line, or None when
    it may: malformed or invisible characters, mixed scripts or number systems, stacked marks,
    or a name that folds to or looks like an existing member's."""
    try:
        stored = normalise(name)
    except ValidationError as exc:
        return exc.message
    problem = _mixed_scripts(stored) or _mixed_digits(stored) or _stacked_marks(stored)
    if problem:
        return f"{name[:40]!r} {problem}"
    other = confusable_with(stored, existing)
    if other is None:
        return None
    where = f" on board {board}" if board else ""
    if other == name.strip():
        return f"{name} is already{where}"
    if fold(other) == fold(stored):
        how = "without case" if stored == name.strip() else "in NFKC form and without case"
        return f"{name[:40]!r} is already{where} as {other!r} (names are compared {how})"
    return f"{name[:40]!r} looks like {other!r}, already{where}"


def _looks(name: str) -> set[str]:
    """What `name` looks like, case aside: the skeleton of its folded form and the folded
    skeleton (folding first catches a Cyrillic capital that folds to a look-alike; the
    skeleton first catches capitals that look like other letters, `I` and `l`)."""
    return {skeleton(fold(name)), fold(skeleton(name))}


def _visible(name: str) -> str:
    """`name` in NFKC without its invisible characters (ASCII has none: `regex` not needed)."""
    name = unicodedata.normalize("NFKC", name)
    return name if name.isascii() else _invisible().sub("", name)


def _allowed_characters(value: str) -> bool:
    """Letters, digits, `._-@:+`, and combining marks after a letter, digit or mark (vowel
    signs in Devanagari or Thai names, accents with no precomposed form)."""
    previous = ""
    for c in value:
        if unicodedata.category(c) in _MARKS:
            if not (previous.isalnum() or unicodedata.category(previous or " ") in _MARKS):
                return False
        elif not (c.isalnum() or c in _PUNCTUATION):
            return False
        previous = c
    return True


def _mixed_scripts(name: str) -> str | None:
    """Why `name` mixes scripts past TR39's highly restrictive level, naming the scripts."""
    if name.isascii():
        return None  # TR39's "ASCII-only" level
    sets = [s for s in (_scripts(c) for c in name) if s is not None]
    if not sets or set.intersection(*sets) or any(_covers(w, sets) for w in _LATIN_WITH):
        return None
    counts = Counter(_label(s) for s in sets)
    (main, _), (odd, _) = counts.most_common(2)  # ties go to the first seen
    stray = next(c for c in name if (own := _scripts(c)) is not None and _label(own) == odd)
    return f"mixes {_shown(main)} and {_shown(odd)} letters ({stray!r} is {_shown(odd)})"


def _covers(allowed: frozenset[str], sets: list[set[str]]) -> bool:
    return all(s & allowed for s in sets)


def _label(scripts: set[str]) -> str:
    """One script to name for a character: the first of its own in `_SCRIPTS` order."""
    return next(s for s in _SCRIPTS if s in scripts)


def _shown(script: str) -> str:
    return _SHOWN.get(script, script.title())


def _mixed_digits(name: str) -> str | None:
    """TR39 5.3: digits from two number systems (`3` and Arabic-Indic `٣`) read alike."""
    zeros = {ord(c) - unicodedata.digit(c) for c in name if unicodedata.category(c) == "Nd"}
    return "mixes digits from different number systems" if len(zeros) > 1 else None


def _stacked_marks(name: str) -> str | None:
    """TR39 5.4: the same nonspacing mark twice in a row, or more than four in a row, draws
    one mark over another and hides what is written."""
    run: list[str] = []
    for c in unicodedata.normalize("NFD", name):
        if unicodedata.category(c) != "Mn":
            run = []
            continue
        if (run and run[-1] == c) or len(run) == _MOST_MARKS:
            return "stacks combining marks"
        run.append(c)
    return None


@functools.cache
def _scripts(c: str) -> set[str] | None:
    """The augmented Script_Extensions of `c`, or None for Common and Inherited characters
    (digits, `_`, most marks), which go with any script."""
    own = {s for s in _SCRIPTS if (p := _script_pattern(s)) is not None and p.match(c)}
    if not own:
        return None
    return own.union(*(_AUGMENTED.get(s, set()) for s in own))


@functools.cache
def _invisible() -> regex.Pattern[str]:
    """Default_Ignorable_Code_Point and format controls (zero-width, bidi); `regex` is imported
    on first use so the command line does not pay for it on start-up."""
    import regex

    return regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]")


@functools.cache
def _script_pattern(script: str) -> regex.Pattern[str] | None:
    """`\\p{scx=script}`, or None when the installed `regex` predates that script."""
    import regex

    try:
        return regex.compile(rf"\p{{scx={script}}}")
    except regex.error:
        return None


@functools.cache
def _prototypes() -> dict[str, str]:
    """confusables.txt as {character: prototype}; read on first use, not at import."""
    text = (resources.files("agentdeck.core") / "unicode" / "confusables.txt").read_text(
        encoding="utf-8-sig"
    )
    table: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) >= 2:
            table[chr(int(fields[0], 16))] = "".join(chr(int(p, 16)) for p in fields[1].split())
    return table


def _described(c: str) -> str:
    return f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}"
