"""Credentials: how a member of a board proves who it is.

Every member (agent or human) gets a random token when it is created, shown once and stored
only as its SHA-256 (a token carries 256 random bits, so a fast hash is enough: nothing can be
guessed from it). A `Deck` acts with the tokens it holds in its `Keyring`: the ones it was
given (an agent's `AGENTDECK_TOKEN`, a human's credential file) and the ones it minted itself.

How each actor was authenticated is decided once per transaction by
`permissions.authenticate` and written on every event the actor causes:

- `token`: the actor's own token is in the keyring (an agent's environment, or minted here);
- `credential file`: a human's token, read from their own config directory;
- `named`: its name alone, which only an *agent* on a board in `named` mode may use.

Human-only moves check `kind == "human"` on a row `authenticate` accepted, and a human is never
accepted by name alone, so they always need a human credential.

Pure (no database): the verbs that mint, rotate and revoke are in `agentdeck.core.boards`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from agentdeck.core.errors import ValidationError

TOKEN_PREFIX = "adk_"
MODES = ("token", "named")
# How an actor was authenticated, as written on its events.
BY_TOKEN, BY_FILE, BY_NAME = "token", "credential file", "named"
# How a deck came to hold a token it made itself (recorded on events as "token").
MINTED = "minted"


def agents_mode(value: str) -> str:
    """A board's agents mode, checked: "token" or "named"."""
    if value not in MODES:
        raise ValidationError(f"agents mode must be token or named, not {value[:40]!r}")
    return value


def new_token() -> str:
    """A fresh credential: `adk_` and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.strip().encode("utf-8", "surrogateescape")).hexdigest()


def check_token(token: str, where: str) -> str:
    """`token` stripped, or `ValidationError` naming `where` it came from if it is not one."""
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX) or not 20 <= len(token) <= 200 or not token.isascii():
        raise ValidationError(f"{where} is not an agentdeck credential (they start with adk_)")
    return token


@dataclass
class Keyring:
    """The credentials one `Deck` presents: each token's digest and how it was given."""

    sources: dict[str, str] = field(default_factory=dict)
    # Tokens this deck minted, by (board key, member name): shown once to whoever asked.
    minted: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, token: str, source: str = BY_TOKEN) -> None:
        self.sources[digest(token)] = source

    def source(self, token_hash: str | None) -> str | None:
        """How the token with this digest was given, or None if this deck does not hold it."""
        return self.sources.get(token_hash) if token_hash else None

    def digests(self, source: str | None = None) -> list[str]:
        return [d for d, s in self.sources.items() if source is None or s == source]
