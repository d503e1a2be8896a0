"""Member names as safe identities (`core/names.py`): names that read like a current member's,
mix scripts or hide invisible characters are refused with a one-line reason; real names in any
script are accepted. Look-alike characters are written as escapes so this file reads honestly."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from agentdeck.core import Deck, ValidationError, names
from tests.core.helpers import Refused

ROSTER = ["alice", "coder", "scope", "ivan", "llya", "kate", "jos\u00e9"]

CYRILLIC_A = "\u0430"
FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        # mixed scripts within one name
        (f"{CYRILLIC_A}lice", "mixes Latin and Cyrillic letters ('\u0430' is Cyrillic)"),
        ("c\u03bfder", "mixes Latin and Greek letters"),  # Greek omicron
        ("\u0441oder", "mixes Latin and Cyrillic letters"),  # Cyrillic es, the rest Latin
        ("bot-\u0414\u043c\u0438\u0442\u0440\u0438\u0439", "mixes Cyrillic and Latin letters"),
        # whole-script look-alikes: every letter from one script, reading as a member's name
        ("\u0455\u0441\u043e\u0440\u0435", "looks like 'scope'"),  # all Cyrillic
        ("\u039a\u0391\u03a4\u0395", "looks like 'kate'"),  # all Greek capitals: KATE
        # digits and letters TR39's confusables.txt maps together (1 -> l, 0 -> O)
        ("a1ice", "looks like 'alice'"),
        ("c0der", "looks like 'coder'"),
        ("Ilya", "looks like 'llya'"),  # capital I reads as l
        ("\u0131van", "looks like 'ivan'"),  # Turkish dotless i
        # invisible and direction controls are refused outright, named by code point
        ("al\u200dice", "invisible character, U+200D ZERO WIDTH JOINER"),
        ("\u200balice", "U+200B ZERO WIDTH SPACE"),
        ("ali\u202eecr", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("alice\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("alice\u3164", "U+3164 HANGUL FILLER"),  # a letter that draws nothing
        ("ali\u034fce", "U+034F COMBINING GRAPHEME JOINER"),
        ("alice\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
        ("\ufeffalice", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        # case and width: the same member
        ("Alice", "as 'alice' (names are compared without case)"),
        ("ALICE", "as 'alice'"),
        (FULLWIDTH_ALICE, "as 'alice' (names are compared in NFKC form and without case)"),
        # a combining accent is the precomposed letter after NFKC
        ("Jose\u0301", "as 'jos\u00e9'"),
        ("jose\u0301", "is already"),
        # number systems and stacked marks (TR39 section 5)
        ("\u0661\u06623", "mixes digits from different number systems"),
        ("zo\u0308\u0308", "stacks combining marks"),
        ("a\u0300\u0301\u0302\u0303\u0304", "stacks combining marks"),
        # the old character rules still hold
        ("has space", "letters, digits and ._-@:+"),
        ("\u0301alone", "letters, digits"),  # a mark with nothing under it
        ("a" * 65, "1-64 characters"),
    ],
)
def test_adversarial_names_refused(name: str, reason: str) -> None:
    refusal = names.refusal_reason(name, ROSTER, board="WEB")
    assert refusal is not None and reason in refusal, refusal
    assert "\n" not in refusal


@pytest.mark.parametrize(
    "name",
    [
        "Jos\u00e9",
        "Zo\u00eb",
        "\u0414\u043c\u0438\u0442\u0440\u0438\u0439",  # Dmitriy, all Cyrillic
        "\u674e\u96f7",  # Li Lei
        "\u5c71\u7530\u305f\u308d\u3046",  # Yamada Tarou: Han and hiragana are one system
        "dev-\u674e",  # Latin with Han: TR39 "highly restrictive" allows it
        "\u0905\u0928\u093f\u0932",  # Anil in Devanagari, with a vowel sign (a mark)
        "\u0395\u03bb\u03ad\u03bd\u03b7",  # Eleni, all Greek
        "\u05d3\u05d5\u05d3",  # David in Hebrew
        "\u0130pek",  # Turkish dotted capital I
        "ren\u00e9e-bot",
        "coder-2",
        "claude-code",
        "bot@host:2",
        "worker_7",
    ],
)
def test_real_names_accepted(name: str) -> None:
    roster = ["alice", "coder", "scope", "ivan", "kate", "ren\u00e9e", "bot", "jose"]
    assert names.refusal_reason(name, roster, board="WEB") is None


def test_normalise_stores_nfkc() -> None:
    assert names.normalise(FULLWIDTH_ALICE) == "alice"
    assert names.normalise("  jose\u0301 ") == "jos\u00e9"
    assert names.normalise("\ufb01sh") == "fish"  # the fi ligature


def test_limits_name_is_the_same_check() -> None:
    from agentdeck.core import limits

    assert limits.name(FULLWIDTH_ALICE) == "alice"
    with pytest.raises(ValidationError, match=r"skill .* invisible character"):
        limits.name("py\u200bthon", "skill")


def test_fold_is_the_comparison_key() -> None:
    assert {names.fold(n) for n in ("Alice", "ALICE", "alice", FULLWIDTH_ALICE)} == {"alice"}
    assert names.fold("Stra\u00dfe") == names.fold("STRASSE")
    assert names.fold(f"{CYRILLIC_A}lice") != "alice"  # folding is not look-alike matching


def test_confusable_with_names_the_member() -> None:
    assert names.confusable_with(f"{CYRILLIC_A}lice", ROSTER) == "alice"
    assert names.confusable_with("al\u200dice", ROSTER) == "alice"
    assert names.confusable_with("rnary", ["mary"]) == "mary"  # rn reads as m
    assert names.confusable_with("alicia", ROSTER) is None
    assert names.confusable_with("alice", []) is None


def test_skeleton_follows_confusables_txt() -> None:
    assert names.skeleton("a1ice") == names.skeleton("alice") == "alice"
    assert names.skeleton("\u0455\u0441\u043e\u0440\u0435") == "scope"


@given(st.text(max_size=30))
def test_fold_is_idempotent(text: str) -> None:
    once = names.fold(text)
    assert names.fold(once) == once


NAME_LETTERS = st.characters(categories=("Lu", "Ll", "Lt", "Lo", "Nd"))


@given(st.text(NAME_LETTERS, min_size=1, max_size=20), st.sampled_from(["upper", "swapcase"]))
def test_names_that_fold_equal_are_always_refused(name: str, change: str) -> None:
    try:
        names.normalise(name)
    except ValidationError:
        assume(False)
    variant = getattr(name, change)()
    assume(names.fold(variant) == names.fold(name))
    assert names.refusal_reason(variant, [name]) is not None
    assert names.refusal_reason(name, [name]) is not None


@given(st.text(NAME_LETTERS, min_size=1, max_size=20))
def test_a_name_never_shadows_itself_through_normalising(name: str) -> None:
    """Whatever normalise stores, comparing it against the roster gives the same verdict as
    the name as typed: storing cannot turn a refused name into an accepted one."""
    try:
        stored = names.normalise(name)
    except ValidationError:
        assume(False)
    roster = ["alice", "coder"]
    assert (names.refusal_reason(name, roster) is None) == (
        names.refusal_reason(stored, roster) is None
    )
    assert unicodedata.is_normalized("NFKC", stored)


# Through the Deck: the board's roster is what a new member is compared with.


def test_deck_refuses_a_cyrillic_alice(web: Deck, refused: Refused) -> None:
    web.add_agent("alice", actor="ann", kind="human")
    with refused(ValidationError, f"'{CYRILLIC_A}lice' mixes Latin and Cyrillic letters"):
        web.add_agent(f"{CYRILLIC_A}lice", actor="ann", kind="human")
    with refused(ValidationError, "'Alice' is already on board WEB as 'alice'"):
        web.add_agent("Alice", actor="ann")
    with refused(ValidationError, "'a1ice' looks like 'alice', already on board WEB"):
        web.add_agent("a1ice", actor="ann")
    with refused(ValidationError, "invisible character"):
        web.add_agent("ali\u202eecr", actor="ann", kind="human")
    assert [a.name for a in web.list_agents() if "lice" in a.name] == ["alice"]


def test_deck_stores_the_nfkc_form(web: Deck) -> None:
    assert web.add_agent("\uff44\uff4f\uff52\uff41", actor="ann").name == "dora"
    assert web.get_agent("dora").name == "dora"


def test_names_are_compared_within_one_board(web: Deck, refused: Refused) -> None:
    web.create_board("API", "API", actor="ann")
    assert web.add_agent("FE", actor="ann", board="API").name == "FE"
    with refused(ValidationError, "'FE' is already on board WEB as 'fe'"):
        web.add_agent("FE", actor="ann", board="WEB")


def test_create_board_refuses_a_lead_that_reads_as_the_creator(deck: Deck) -> None:
    with pytest.raises(ValidationError, match="'Ann' is already on board WEB as 'ann'"):
        deck.create_board("WEB", "Website", actor="ann", lead="Ann")
    with pytest.raises(ValidationError, match="mixes Latin and Cyrillic"):
        deck.create_board("WEB", "Website", actor=f"{CYRILLIC_A}nn")
    assert deck.list_boards() == []
    # the same name as lead and creator stays one member, as before
    deck.create_board("WEB", "Website", actor="ann", lead="\uff41\uff4e\uff4e")
    assert [a.name for a in deck.list_agents("WEB")] == ["ann"]
