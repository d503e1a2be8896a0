"""`agentdeck`'s command line: one command per `Deck` verb, for agents and humans.

It never imports Textual: the console is loaded only when `agentdeck` (no command) or
`agentdeck board` opens it. The console script is `agentdeck.tui.cli.quick:main`, which runs
most commands in the resident server; importing this package loads nothing else (no Typer),
so that front stays on the standard library.
"""


def main() -> None:
    """Run the command line in this process (`agentdeck.tui.cli.app.main`)."""
    from agentdeck.tui.cli.app import main as run

    run()


__all__ = ["main"]
