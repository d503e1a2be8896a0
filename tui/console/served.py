"""The console as `agentdeck serve` runs it for each browser session.

textual-serve starts this module with Textual's web driver chosen in the environment
(`TEXTUAL_DRIVER`), and `AGENTDECK_DB` / `AGENTDECK_BOARD` naming what `serve` opened. Unlike
`agentdeck` with no command, it does not ask for a terminal: its standard streams are textual-
serve's pipes. The human is whoever holds the credential file of the user running `serve`.
"""

from __future__ import annotations

import os

from agentdeck.tui.console.app import run_app


def main() -> None:
    run_app(
        db=os.environ.get("AGENTDECK_DB") or None,
        actor=None,
        board=os.environ.get("AGENTDECK_BOARD") or None,
    )


if __name__ == "__main__":
    main()
