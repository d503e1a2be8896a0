"""How failures reach the user: one line on stderr and a documented exit code, never a traceback.

Exit codes: 0 ok; 1 usage error or not found; 2 refused transition, permission or conflict;
3 nothing ready to claim; 4 over budget; 5 database busy or unusable; 130 interrupted.
Click's own usage errors would exit 2, which here means "refused", so they are mapped to 1.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from agentdeck.tui.cli.help_display import PlainFlags

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_REFUSED = 2
EXIT_NOTHING_READY = 3
EXIT_OVER_BUDGET = 4
EXIT_BUSY = 5
EXIT_INTERRUPTED = 130
ENV_DEBUG = "AGENTDECK_DEBUG"


class CliError(Exception):
    """A problem the CLI itself finds (missing --as, unreadable plan file), with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit code for any failure."""
    # A DeckError can only exist if core was imported, so this check never imports core.
    errors = sys.modules.get("agentdeck.core.errors")
    if errors is not None and isinstance(exc, errors.DeckError):
        return exc.message, exc.exit_code
    if isinstance(exc, CliError):
        return exc.message, exc.exit_code
    if isinstance(exc, typer.TyperException):  # Click's usage errors derive from it
        message = exc.format_message()
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            message = f"{message} (see `{ctx.command_path} --help`)"
        return " ".join(message.split()), EXIT_USAGE
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}", EXIT_USAGE
    text = " ".join(str(exc).split())[:300]
    return (
        f"unexpected {type(exc).__name__}: {text} (set {ENV_DEBUG}=1 to see the traceback)",
        EXIT_USAGE,
    )


def report(exc: BaseException) -> int:
    """Print the failure as one line on stderr and return its exit code."""
    from agentdeck.tui.cli.output import safe

    message, code = describe(exc)
    if os.environ.get(ENV_DEBUG, "") not in ("", "0"):
        traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.write(f"agentdeck: error: {safe(message, one_line=True)}\n")
    sys.stderr.flush()
    return code


def warn(message: str) -> None:
    """Print a warning as one line on stderr; stdout (and its JSON) stays untouched."""
    from agentdeck.tui.cli.output import safe

    sys.stderr.write(f"agentdeck: warning: {safe(message, one_line=True)}\n")
    sys.stderr.flush()


class DeckGroup(PlainFlags, TyperGroup):
    """The root command group: runs Click without its own error printing, then reports; its
    flags show plainly in help, like every command's (`help_display`)."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            _require_utf8(sys.argv[1:] if args is None else args)
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else EXIT_OK
        except typer.Abort:
            sys.stderr.write("agentdeck: aborted\n")
            code = EXIT_USAGE
        except KeyboardInterrupt:
            code = EXIT_INTERRUPTED
        except Exception as exc:
            code = report(exc)
        if standalone_mode:
            sys.exit(code)
        return code


def _require_utf8(args: Any) -> None:
    """Refuse an argument whose bytes are not UTF-8 (Python hands them over as lone
    surrogates) before it reaches a query or the database, which cannot store it."""
    for arg in args:
        try:
            str(arg).encode("utf-8")
        except UnicodeEncodeError:
            raise CliError(f"argument {arg!r} is not UTF-8 text") from None
