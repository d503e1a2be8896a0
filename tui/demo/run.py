"""`agentdeck demo`: a sample board, a live team of simulated agents, and the TUI to watch them.

The board is copied from `sample_boards/` into a temporary database (or `--db`) with its
history shifted to end now; then the lead, the specialists and a reviewing teammate start as
separate OS processes that work it through `agentdeck.core.Deck`. With `--headless` there is no TUI: the
run lasts `--duration` seconds (or until Ctrl-C) and ends with a summary. Whatever way the demo
ends, every agent process it started is stopped.

Everyone acts with a credential, as for real: the import mints every member's token; each
simulated agent gets its own as `AGENTDECK_TOKEN`, the reviewing teammate finds theirs in a
credential file in its own config directory (inside the run's temporary directory), and the
console acts as the board's owner with the owner's token given to its deck directly, so the
user's own `~/.config` is never written.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from agentdeck.core import Deck, DeckError, ValidationError, credentials, identity
from agentdeck.tui.demo.conductor import Conductor, Team
from agentdeck.tui.demo.samples import SAMPLE_DIR, generate
from agentdeck.tui.demo.stories import Story, stories, story
from agentdeck.tui.demo.summary import Summary, render, summarise
from agentdeck.tui.demo.team import MAX_WORKERS, Role, demo_team, worker_members
from agentdeck.tui.demo.telemetry import ENV_ENDPOINT

if TYPE_CHECKING:
    from agentdeck.core.otel.receiver import Receiver

# Tokens of headroom under the board's soft limit when the demo starts: a few dozen usage
# records, so the gauge turns amber within the first minute at --speed 1.
DEMO_TOKEN_HEADROOM = 300_000.0
UNWIND_SECONDS = 5.0  # after SIGTERM/SIGHUP, the most the demo spends unwinding before it exits


def load_sample(slug: str) -> dict[str, Any]:
    """The sample board's document; generated on the spot if the file is missing."""
    path = SAMPLE_DIR / f"{slug}.json"
    if path.is_file():
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return doc
    return generate(story(slug))


def _check(board: str, agents: int, speed: float, duration: float | None) -> Story:
    if board not in stories():
        raise ValidationError(f"unknown sample board {board!r}; boards: {', '.join(stories())}")
    if not 1 <= agents <= MAX_WORKERS:
        raise ValidationError(f"--agents must be from 1 to {MAX_WORKERS}, not {agents}")
    if not speed > 0:
        raise ValidationError(f"--speed must be above 0, not {speed}")
    if duration is not None and not duration > 0:
        raise ValidationError(f"--duration must be above 0 seconds, not {duration}")
    return story(board)


def prepare(s: Story, db: str | Path, agents: int) -> tuple[Deck, int]:
    """Import the sample board into `db` (a path or URL; history rebased to now), add any
    extra agents and, as the owner, set the token budget just above what is used; returns the
    deck (which holds every member's new token, `Deck.issued_token`) and the event cursor the
    demo starts from."""
    deck = Deck.open(db, create=True)
    try:
        if s.key in {b.key for b in deck.list_boards()}:
            raise ValidationError(
                f"{deck.path or deck.url} already holds board {s.key}; "
                "pass another --db or remove that file"
            )
        deck.import_board(load_sample(s.slug), actor=s.owner.name, rebase_time=True)
        roster = {a.name for a in deck.list_agents(s.key)}
        for member in worker_members(s, agents):
            if member.name not in roster:
                deck.add_agent(
                    member.name,
                    actor=s.owner.name,
                    board=s.key,
                    skills=member.skills,
                    role=member.role,
                    supervisor=s.lead.name,
                )
        nudge_budget(deck, s, DEMO_TOKEN_HEADROOM)
        return deck, deck.max_event_id()
    except BaseException:
        deck.close()
        raise


def nudge_budget(deck: Deck, s: Story, headroom: float) -> None:
    """As the owner (budgets are a human's), set the board's token soft limit just above what
    is used, so the demo crosses it."""
    current = {b.metric: b for b in deck.budget_status(s.key, scope="board")}.get("tokens")
    if current and current.level == "over":
        return  # the sample ends over a hard limit: leave it for the human at the console
    used = current.used if current else 0.0
    hard = (
        current.hard if current and current.hard and current.hard > used + headroom * 20 else None
    )
    deck.set_budget(
        "tokens",
        actor=s.owner.name,
        board=s.key,
        soft=round(used + headroom),
        hard=hard if hard is not None else round(used + headroom * 40),
    )


def token_of(deck: Deck, board: str, name: str) -> str:
    """The token `deck` minted for `name` when it imported or added it."""
    token = deck.issued_token(name, board)
    if token is None:
        raise ValidationError(f"the demo holds no credential for {name} on board {board}")
    return token


@contextlib.contextmanager
def _config_home(path: Path) -> Iterator[None]:
    """`XDG_CONFIG_HOME` pointing at `path` for the duration (the demo is single-threaded
    here: no agent and no console has started yet)."""
    before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(path)
    try:
        yield
    finally:
        if before is None:
            del os.environ["XDG_CONFIG_HOME"]
        else:
            os.environ["XDG_CONFIG_HOME"] = before


def credentials_for(
    deck: Deck, s: Story, roles: list[Role], run_dir: Path
) -> dict[str, dict[str, str]]:
    """The environment that gives each role's process its own credential, by role name: an
    agent's token as `AGENTDECK_TOKEN`; for the human teammate a config directory of its own
    under `run_dir` whose credential file holds their token (`identity.save_credential`)."""
    where = identity.database_id(deck.url, deck.path)
    out: dict[str, dict[str, str]] = {}
    for role in roles:
        token = token_of(deck, s.key, role.name)
        if role.kind == "reviewer":  # a human: never a token in the environment
            home = run_dir / f"config-{role.name}"
            home.mkdir(mode=0o700)
            with _config_home(home):
                identity.save_credential(where, s.key, role.name, token)
            out[role.name] = {"XDG_CONFIG_HOME": str(home)}
        else:
            out[role.name] = {identity.ENV_TOKEN: token}
    return out


@contextlib.contextmanager
def stops_on_exit(team: Team) -> Iterator[None]:
    """Stop the team however we leave: normally, by exception or Ctrl-C, by SIGTERM/SIGHUP
    (which then exit with 128 + the signal number), or at interpreter exit."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        team.stop(grace=0.5)  # first, so no agent outlives us even if unwinding goes wrong
        if signum == signal.SIGHUP:  # the terminal is gone: nothing to restore, nobody to tell
            os._exit(128 + signum)
        # Unwinding restores the terminal; if it hangs (a hung-up terminal, a thread that
        # never ends), the demo still exits within seconds rather than lingering unseen.
        guard = threading.Timer(UNWIND_SECONDS, os._exit, args=(128 + signum,))
        guard.daemon = True
        guard.start()
        raise SystemExit(128 + signum)

    atexit.register(team.stop, 0.5)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, on_signal)
        # Ctrl-C ends the demo (a KeyboardInterrupt) even when it was started with SIGINT
        # ignored, as a shell's background job is: an explicit `kill -INT` still stops it.
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        team.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
        atexit.unregister(team.stop)


def _run_tui(url: str, actor: str, board: str, token: str) -> None:
    """The console on the demo's database, acting as `actor` with `token` handed to its deck
    as a human's credential (never saved in the user's credential file)."""
    try:
        from agentdeck.tui.console.app import run_app
    except ImportError as exc:
        raise ValidationError(
            f"the TUI is not available ({exc}); run the demo with --headless"
        ) from exc
    with Deck.open(url) as deck:
        deck.present(token, credentials.BY_FILE)
        run_app(db=url, actor=actor, board=board, deck=deck)


def demo_command(
    board: str = "website",
    agents: int = 4,
    speed: float = 1.0,
    seed: int = 0,
    db: str | Path | None = None,
    headless: bool = False,
    duration: float | None = None,
    *,
    turns: int | None = None,
    out: Callable[[str], None] = print,
    on_start: Callable[[Team], None] | None = None,
    otel_port: int | None = None,
) -> int:
    """Run the demo; returns the exit code (0 unless an agent process failed).

    `turns` ends the run after that many agent turns: the same seed and turns give exactly
    the same board. `on_start` is called with the running team (tests watch its processes).
    `otel_port` runs the OTLP receiver on 127.0.0.1 beside it (0: any free port), and the
    agents export their usage to it as Claude Code does (`telemetry`), reporting less
    themselves, so measured and reported usage show side by side.
    """
    s = _check(board, agents, speed, duration)
    run_dir = Path(tempfile.mkdtemp(prefix="agentdeck-demo-"))
    target: str | Path = run_dir / "demo.db"
    if db is not None:  # a URL (PostgreSQL) is passed on as written: it may carry a password
        target = str(db) if "://" in str(db) else Path(db).expanduser().resolve()
    started = time.monotonic()
    try:
        deck, cursor = prepare(s, target, agents)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    roles = demo_team(s, agents, interactive=not headless)
    try:
        environments = credentials_for(deck, s, roles, run_dir)
        owner_token = token_of(deck, s.key, s.owner.name)
    except BaseException:
        deck.close()
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    receiver, receiving = None, None
    if otel_port is not None:
        try:
            receiver, receiving = _start_receiver(target, otel_port)
        except BaseException:
            deck.close()
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        for role in roles:
            if identity.ENV_TOKEN in environments[role.name]:  # the agents, not the human
                environments[role.name][ENV_ENDPOINT] = receiver.endpoint
        if headless:
            out(f"agentdeck demo: receiving the agents' OpenTelemetry on {receiver.endpoint}")
    team = Team(roles, {"story": s.slug, "seed": seed}, run_dir, db=str(target), env=environments)
    conductor = Conductor(team, speed, turns)
    summary = Summary(s.key)
    try:
        with stops_on_exit(team):
            team.start()
            conductor.start()
            try:
                if on_start is not None:
                    on_start(team)
                if headless:
                    _wait(conductor, duration)
                else:
                    _run_tui(str(target), s.owner.name, s.key, owner_token)
            except KeyboardInterrupt:
                pass  # Ctrl-C ends the run; the summary still follows
            finally:
                conductor.stop()
                conductor.join(timeout=5)  # let a turn in flight finish
        conductor.join(timeout=5)  # the agents are gone, so no turn can still be waiting
        summary = summarise(deck, s.key, cursor)
        summary.errors = list(conductor.errors)
        summary.turns, summary.processes = conductor.turns, len(team.agents)
        if conductor.first_turn_at is not None:
            summary.first_change_s = conductor.first_turn_at - started
        if headless:
            out(render(summary))
        elif summary.errors:
            out("agentdeck demo: " + "; ".join(summary.errors))
    finally:
        if receiver is not None and receiving is not None:
            receiver.stop()
            receiving.close()
        deck.close()
        if summary.ok:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            out(f"agentdeck demo: agent logs kept in {run_dir}")
    return 0 if summary.ok else 1


def _start_receiver(target: str | Path, port: int) -> tuple[Receiver, Deck]:
    """The OTLP receiver (`agentdeck otel`) on 127.0.0.1:`port`, and the deck of its own it
    writes through."""
    from agentdeck.core.otel.receiver import Receiver

    own = Deck.open(target)
    try:
        return Receiver(own, "127.0.0.1", port).start(), own
    except OSError as exc:
        own.close()
        raise ValidationError(
            f"cannot receive OpenTelemetry on port {port}: {exc.strerror}"
        ) from None
    except BaseException:
        own.close()
        raise


def _wait(conductor: Conductor, duration: float | None) -> None:
    """Let the team work for `duration` seconds (forever if None), or until the turns stop."""
    deadline = None if duration is None else time.monotonic() + duration
    while conductor.is_alive():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        conductor.join(timeout=0.5 if left is None else min(0.5, left))


def main(argv: list[str] | None = None) -> int:
    """`python -m agentdeck.tui.demo.run`: the same options as `agentdeck demo`."""
    parser = argparse.ArgumentParser(prog="python -m agentdeck.tui.demo.run", description=__doc__)
    parser.add_argument("--board", default="website", choices=sorted(stories()))
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", default=None)
    parser.add_argument("--headless", action="store_true")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--turns", type=int, default=None, help="stop after this many turns")
    args = parser.parse_args(argv)
    try:
        return demo_command(
            args.board,
            args.agents,
            args.speed,
            args.seed,
            args.db,
            args.headless,
            args.duration,
            turns=args.turns,
        )
    except DeckError as exc:
        print(f"agentdeck demo: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
