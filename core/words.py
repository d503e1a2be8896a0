"""Counts and numbers in the sentences agentdeck writes for people: `1 task`, `2 tasks`,
`17,165 tokens`; never `1 tasks` or `7.397e+06`."""

from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """`n` with its noun, singular or plural: `1 task`, `0 tasks`, `3,000 tokens`."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"
