"""Starting this installation's resident server (`agentdeck.tui.cli.resident`) for the front
(`agentdeck.tui.cli.quick`) when no server answers on its socket: a detached process in its
own session, with none of the caller's credentials, that says `ready` once it listens.

Standard library only, like the front, which imports this module only when it must start a
server: a call to a running server never loads it.
"""

from __future__ import annotations

import os
import sys

from agentdeck.tui.cli.quick import ENV_IDLE, ENV_TIMEOUT, server_key, timeout_s

START_TIMEOUT_S = 15.0


def start_server(directory: str, *, wait: bool) -> bool:
    """Start a detached server for this installation in `directory`; with `wait`, return
    whether it is listening within `START_TIMEOUT_S`."""
    import select
    import subprocess

    read_end, write_end = os.pipe()
    log = os.path.join(directory, f"server-{server_key()}.log")
    # The server needs no credential or board of this caller (each call brings its own):
    # only its own settings among agentdeck's variables.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AGENTDECK_") or k in (ENV_IDLE, ENV_TIMEOUT)
    }
    try:
        with open(log, "ab") as out:
            if out.tell() > 1_000_000:
                out.truncate(0)
            subprocess.Popen(
                [
                    sys.executable,
                    "-P",
                    "-c",
                    "from agentdeck.tui.cli.resident import run; run()",
                    directory,
                    str(write_end),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                cwd="/",
                env=env,
                pass_fds=(write_end,),
                start_new_session=True,
            )
    except OSError:
        os.close(read_end)
        return False
    finally:
        os.close(write_end)
    try:
        if not wait:
            return True
        ready, _, _ = select.select([read_end], [], [], max(START_TIMEOUT_S, timeout_s()))
        return bool(ready) and os.read(read_end, 64).startswith(b"ready")
    finally:
        os.close(read_end)
