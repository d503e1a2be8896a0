"""`agentdeck`'s command line: one command per `Deck` verb, for agents and humans.

It never imports Textual: the console is loaded only when `agentdeck` (no command) or
`agentdeck board` opens it. `main` is the console script.
"""

from agentdeck.tui.cli.app import main

__all__ = ["main"]
