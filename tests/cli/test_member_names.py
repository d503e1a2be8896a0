"""`agentdeck agent add` refuses a name that reads as a current member's, with exit code 1 and
one line naming the member it would be taken for; nothing is added."""

from __future__ import annotations

from agentdeck.core import Deck
from tests.cli.test_errors import one_line_error


def test_case_variant_of_a_member_refused(cli, web: str, deck: Deck) -> None:
    ran = cli("agent", "add", "Ann", "--human", "--as", "ann")
    assert ran.exit_code == 1
    assert one_line_error(ran.stderr) == (
        "'Ann' is already on board WEB as 'ann' (names are compared without case)"
    )
    assert "Ann" not in [a.name for a in deck.list_agents("WEB")]


def test_look_alike_and_mixed_script_names_refused(cli, web: str, deck: Deck) -> None:
    before = [a.name for a in deck.list_agents("WEB")]
    for name, says in [
        ("c0der", "'c0der' looks like 'coder', already on board WEB"),
        ("\u0441oder", "mixes Latin and Cyrillic letters"),
        ("an\u200dn", "invisible character, U+200D ZERO WIDTH JOINER"),
    ]:
        ran = cli("agent", "add", name, "--human", "--as", "ann")
        assert ran.exit_code == 1, name
        assert says in one_line_error(ran.stderr)
    assert [a.name for a in deck.list_agents("WEB")] == before


def test_refused_through_the_real_command(agentdeck, web: str) -> None:
    """Through argv and the console script: a right-to-left override arrives intact and is
    refused by name, without printing the control character itself."""
    ran = agentdeck("agent", "add", "bo\u202eb", "--human", "--as", "ann")
    assert ran.returncode == 1
    line = one_line_error(ran.stderr)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in line and "\u202e" not in line


def test_a_new_distinct_name_is_added(cli, web: str, deck: Deck) -> None:
    ran = cli("agent", "add", "\u674e\u96f7", "--as", "ann")
    assert ran.exit_code == 0, ran.stderr
    assert "\u674e\u96f7" in [a.name for a in deck.list_agents("WEB")]
