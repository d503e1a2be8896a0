"""The demo's closing summary reads as English: counts agree with their nouns."""

from __future__ import annotations

from collections import Counter

from agentdeck.tui.demo.summary import Summary, render


def test_one_of_each_is_singular() -> None:
    summary = Summary("WEB", counts=Counter({"usage records": 1}), tokens=1, turns=1, processes=1)
    text = render(summary)
    assert text.splitlines()[0] == "agentdeck demo on board WEB: 1 agent process, 1 turn"
    assert "(1 token, $0.00)" in text


def test_many_are_plural() -> None:
    summary = Summary(
        "WEB", counts=Counter({"usage records": 2}), tokens=1200, turns=0, processes=6
    )
    text = render(summary)
    assert text.splitlines()[0] == "agentdeck demo on board WEB: 6 agent processes, 0 turns"
    assert "(1,200 tokens, $0.00)" in text


def test_it_says_how_the_actors_proved_who_they_were() -> None:
    summary = Summary("WEB", proofs=Counter({"token": 40, "credential file": 3}))
    line = next(ln for ln in render(summary).splitlines() if "proved by" in ln)
    assert line.split() == ["events", "proved", "by", "credential", "file", "3,", "token", "40"]
    assert "proved by" not in render(Summary("WEB"))
