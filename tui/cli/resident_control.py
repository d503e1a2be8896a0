"""`agentdeck server status|stop`: ask this installation's running resident server
(`agentdeck.tui.cli.resident`) how it is, or tell it to stop, over the same protocol as a call
(`agentdeck.tui.cli.quick`). These commands run in the caller's process and never start a server.
"""

from __future__ import annotations

import ast
import time
from typing import Annotated, Any

import typer

from agentdeck.tui.cli import quick

server_app = typer.Typer(
    name="server",
    help="The resident server that runs agents' calls without start-up cost: status, stop.",
    no_args_is_help=True,
    epilog="Example: agentdeck server status",
)


@server_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Whether this installation's resident server is running, since when and how many calls
    it ran (it starts on the first agent call and exits after 15 idle minutes).

    Example: agentdeck server status
    """
    _say(ask_server(quick.REQUEST_STATUS), as_json, "running")


@server_app.command("stop")
def stop(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Stop the resident server; calls already running finish, the next call starts a new one.

    Example: agentdeck server stop
    """
    _say(ask_server(quick.REQUEST_STOP), as_json, "stopped")


def _say(answer: dict[str, Any] | None, as_json: bool, verb: str) -> None:
    from agentdeck.tui.cli.output import print_json

    doc: dict[str, Any] = {"running": answer is not None}
    if answer is not None:
        doc.update(answer)
    if as_json:
        print_json(doc)
    elif answer is None:
        why = "" if quick.server_enabled() else f" ({quick.ENV_NO_SERVER} is set or unsupported)"
        print(f"no resident server{why}")
    else:
        up = time.time() - float(answer["started"])
        print(
            f"{verb}: pid {answer['pid']}, up {up / 60:.0f} min, {answer['calls']} calls, "
            f"socket {answer['socket']}"
        )


def ask_server(op: str) -> dict[str, object] | None:
    """Send `status` or `stop` to this installation's running server (never starting one);
    its answer, or None when none is running."""
    if not quick.server_enabled():
        return None
    directory = quick.runtime_dir(create=False)
    if directory is None:
        return None
    conn = quick.connect(quick.socket_path(directory))
    if conn is None:
        return None
    try:
        quick.send_request(conn, {"op": op})
        reader = quick.LineReader(conn)
        line = reader.line()
        if line is None or not line.startswith("pid "):
            return None
        conn.sendall(b"go\n")
        answer = reader.line()
    except OSError:
        return None
    finally:
        conn.close()
    if answer is None or not answer.startswith("answer "):
        return None
    value = ast.literal_eval(answer.removeprefix("answer "))
    return value if isinstance(value, dict) else None
