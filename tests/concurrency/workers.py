"""What each child process does: drain the queue, append logs, or work until it is killed.

Each function runs in its own spawned interpreter, opens its own `Deck`, and reports by
writing files: a JSON summary at the end, or (for the crash writer) an acknowledgement line
after every verb that returned, fsync-ed so a later SIGKILL cannot take it back.
"""

from __future__ import annotations

import json
import os
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from agentdeck.core import Deck, DeckError, LeaseExpiredError, OverBudgetError

MAX_ERRORS = 20


def _report(out: Path, result: dict[str, Any]) -> None:
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(out)


def drain(db: str, agent: str, out: str) -> None:
    """Claim and complete ready tasks until none is left; report the keys this agent claimed."""
    claimed: list[str] = []
    errors: list[str] = []
    with Deck.open(db) as deck:
        while len(errors) < MAX_ERRORS:
            try:
                claim = deck.claim(agent)
                if claim is None:
                    break
                claimed.append(claim.task.key)
                deck.complete(claim.task.key, actor=agent, result="drained", verified_by="test")
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    _report(Path(out), {"agent": agent, "claimed": claimed, "errors": errors})


def append_logs(db: str, agent: str, key: str, count: int, out: str) -> None:
    """Claim task `key`, then append `count` log entries to it; report the event ids returned."""
    ids: list[int] = []
    errors: list[str] = []
    with Deck.open(db) as deck:
        try:
            deck.claim(agent, key=key)
        except Exception as exc:
            errors.append(f"claim: {type(exc).__name__}: {exc}")
        for seq in range(count):
            if len(errors) >= MAX_ERRORS:
                break
            try:
                ids.append(deck.log(key, f"{agent} entry {seq}", actor=agent).id)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    _report(Path(out), {"agent": agent, "key": key, "ids": ids, "errors": errors})


def spend_until_stopped(
    db: str, agent: str, key: str, tokens: int, calls: int, gate: Any, out: str, obey: bool
) -> None:
    """Hold task `key` and loop the way a working agent does, log then usage then heartbeat,
    until a work verb exits 4 (a spent hard budget) or `calls` rounds are done; report every
    usage call that returned.

    The start `gate` (a barrier) makes all agents spend at once. With `obey=False` the loop has
    no work verb (log and usage only): what the workforce spent when nothing but claims was
    stopped, the benchmark's baseline.
    """
    recorded: list[int] = []
    stop: dict[str, Any] | None = None
    errors: list[str] = []
    with Deck.open(db) as deck:
        try:
            deck.claim(agent, key=key)
        except DeckError as exc:
            errors.append(f"claim: {type(exc).__name__}: {exc}")
        gate.wait()
        for turn in range(calls):
            if errors:
                break
            try:
                deck.log(key, f"{agent} turn {turn}: ran the tool", actor=agent, kind="tool_call")
                deck.record_usage(key, actor=agent, tokens_in=tokens, model="m")
                recorded.append(tokens)
                if obey:
                    deck.heartbeat(agent)
            except OverBudgetError as exc:
                stop = {"turn": turn, "exit_code": exc.exit_code, "message": str(exc)}
                break
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    _report(Path(out), {"agent": agent, "recorded": recorded, "stop": stop, "errors": errors})


class Acks:
    """An append-only file of writes this process saw committed, each line fsync-ed."""

    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, **fields: Any) -> None:
        os.write(self._fd, (json.dumps(fields) + "\n").encode())
        os.fsync(self._fd)


def crash_writer(db: str, agent: str, acks_path: str, up: Connection, logs_per_task: int) -> None:
    """Work tasks for ever (claim, logs, usage, complete), acknowledging each verb that returned.

    Sends one message on `up` after its first completed task so the parent knows this
    incarnation is past start-up and worth killing. Never returns on its own: the parent kills it.
    """
    acks = Acks(Path(acks_path))
    tag = Path(acks_path).stem
    seq = 0
    errors = 0
    with Deck.open(db) as deck:
        while True:
            try:
                claim = deck.claim(agent)
                if claim is None:
                    continue  # the parent tops the queue up
                key = claim.task.key
                acks.write(op="claim", key=key, agent=agent)
                for _ in range(logs_per_task):
                    seq += 1
                    text = f"{tag}:{seq}"
                    event = deck.log(key, text, actor=agent)
                    acks.write(op="log", key=key, id=event.id, text=text)
                seq += 1
                nonce = f"{tag}:{seq}"
                deck.record_usage(key, actor=agent, tokens_in=seq, tokens_out=1, model=nonce)
                acks.write(op="usage", key=key, nonce=nonce)
                deck.complete(key, actor=agent, result=tag, verified_by="crash test")
                acks.write(op="complete", key=key, agent=agent)
                if up is not None:
                    up.send("up")
                    up.close()
                    up = None  # type: ignore[assignment]
            except LeaseExpiredError as exc:
                # A lease that lapsed under load is refused by design; take the next task.
                acks.write(op="refused", error=str(exc))
            except Exception as exc:
                errors += 1
                acks.write(op="error", error=f"{type(exc).__name__}: {exc}")
                if errors >= MAX_ERRORS:
                    raise


def send_measured(db: str, token: str, points: str, times: int, out: str) -> None:
    """Send the same batch of measured points (JSON: a list of MeasuredPoint fields, times
    as ISO strings) `times` times, as the telemetry receiver would for a sender that retries;
    report what each call counted."""
    from datetime import datetime

    from agentdeck.core.models import MeasuredPoint

    batch = [
        MeasuredPoint(**{**p, "end": datetime.fromisoformat(p["end"])}) for p in json.loads(points)
    ]
    counted: list[int] = []
    errors: list[str] = []
    with Deck.open(db) as deck:
        for _ in range(times):
            try:
                counted.append(deck.record_measured(token, batch).counted)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    _report(Path(out), {"counted": counted, "errors": errors})


def report_usage(db: str, token: str, agent: str, key: str, times: int, out: str) -> None:
    """Report 100 input tokens on `key`, `times` times, as `agent` (its token presented)."""
    done = 0
    errors: list[str] = []
    with Deck.open(db) as deck:
        deck.present(token)
        for _ in range(times):
            try:
                deck.record_usage(key, actor=agent, tokens_in=100)
                done += 1
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    _report(Path(out), {"done": done, "errors": errors})
