"""The resident writer (group commit, `agentdeck.core.storage.resident_writer`): real writer
processes on a real SQLite file, and its batches driven directly the way an adversary would
fill them: other members' requests in the same transaction, forged verbs, failing verbs."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import pickle
import shutil
import signal
import socket
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core import Deck
from agentdeck.core.errors import (
    LeaseExpiredError,
    PermissionDeniedError,
    StorageError,
    ValidationError,
)
from agentdeck.core.feed import ChangeFeed
from agentdeck.core.storage import resident_writer
from agentdeck.core.storage.resident_writer import socket_for, writer_pid
from agentdeck.core.storage.resident_writer_server import Writer
from tests.concurrency import crash, workers
from tests.concurrency.harness import SPAWN, all_events, join_all, make_board, read_result

BOARD = "GC"
HUMAN = "ann"


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private runtime directory of a short path (a socket's path has a 107-byte limit),
    decks told to use a resident writer; every writer started here is killed at the end."""
    path = Path(tempfile.mkdtemp(prefix="adw-"))
    monkeypatch.setenv(resident_writer.ENV_RUNTIME_DIR, str(path))
    monkeypatch.setenv(resident_writer.ENV_WRITER, "resident")
    monkeypatch.setenv("AGENTDECK_WRITER_IDLE_S", "30")
    yield path
    for life in path.glob("*.life"):
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(life.read_text().strip()), signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


def token_board(db: Path) -> dict[str, str]:
    """A board in token mode with agents a0 and a1 and four ready tasks; everyone's token."""
    with Deck.open(db, create=True, writer=False) as deck:
        deck.create_board(BOARD, "group commit", actor=HUMAN, agents="token")
        for name in ("a0", "a1"):
            deck.add_agent(name, actor=HUMAN)
        deck.plan([{"title": f"task {n}"} for n in range(4)], actor=HUMAN)
        tokens = {n: deck.issued_token(n, BOARD) for n in (HUMAN, "a0", "a1")}
    return {n: t for n, t in tokens.items() if t is not None}


def as_member(db: Path, token: str, *, writer: bool) -> Deck:
    deck = Deck.open(db, writer=writer)
    deck.present(token)
    return deck


def held_task(db: Path, token: str, agent: str) -> str:
    """The key of a task `agent` (presenting `token`) has just claimed, in-process."""
    with as_member(db, token, writer=False) as deck:
        claim = deck.claim(agent)
        assert claim is not None
        return claim.task.key


def log_texts(deck: Deck, key: str) -> list[str]:
    return [e.text for e in deck.task_events(key) if e.kind == "log"]


def test_the_agents_verbs_run_in_the_writer_and_land(runtime: Path, tmp_path: Path) -> None:
    db = tmp_path / "board.db"
    tokens = token_board(db)
    with as_member(db, tokens["a0"], writer=True) as deck:
        claim = deck.claim("a0")
        assert claim is not None
        assert (claim.task.status, claim.task.assignee) == ("in_progress", "a0")
        key = claim.task.key
        assert deck.heartbeat("a0") == [key]
        deck.log(key, "through the writer", actor="a0")
        deck.record_usage(key, actor="a0", tokens_in=10, tokens_out=5, cost_usd=0.01, model="m")
        done = deck.complete(key, actor="a0", result="done", verified_by="test")
        assert (done.task.key, done.task.status, done.nudge) == (key, "done", None)
        assert done.task.tokens == 15 and done.task.result == "done"
        unverified = deck.claim("a0")
        assert unverified is not None
        nudged = deck.complete(unverified.task.key, actor="a0", result="done")
        assert nudged.task.status == "done" and nudged.nudge is not None
        assert deck._writer is not None  # every call went to the writer, none fell back
    pid = writer_pid(db)
    assert pid is not None and Path(f"/proc/{pid}").exists()
    with Deck.open(db, writer=False) as plain:
        assert plain.get_task(key).status == "done"
        assert log_texts(plain, key) == ["through the writer"]
        assert plain.usage_totals(BOARD).tokens_in == 10
        assert {e.auth for e in plain.task_events(key) if e.actor == "a0"} == {"token"}


def test_a_claim_through_the_writer_comes_with_its_similar_tasks(
    runtime: Path, tmp_path: Path
) -> None:
    """The writer takes the claim; the caller ranks the similar finished tasks after the
    commit, as an in-process claim does."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    with as_member(db, tokens[HUMAN], writer=False) as human:
        human.plan([{"title": "Login form: fix the password field"}], actor=HUMAN)
    with as_member(db, tokens["a0"], writer=False) as a0:
        for _ in range(4):  # finish the four plain tasks, then the login task
            claim = a0.claim("a0")
            assert claim is not None
            a0.complete(claim.task.key, actor="a0", result="done", verified_by="test")
        finished = a0.claim("a0")
        assert finished is not None and finished.task.title.startswith("Login form")
        a0.complete(finished.task.key, actor="a0", result="done", verified_by="test")
    with as_member(db, tokens[HUMAN], writer=False) as human:
        human.plan([{"title": "Login form: fix the email field"}], actor=HUMAN)
    with as_member(db, tokens["a1"], writer=True) as a1:
        claim = a1.claim("a1")
        assert a1._writer is not None  # it went through the writer
    assert claim is not None and claim.task.title == "Login form: fix the email field"
    assert [hit.key for hit in claim.similar][:1] == [finished.task.key]
    assert claim.task.key not in {hit.key for hit in claim.similar}


class Batch:
    """A `Writer` over its own deck, fed requests directly; answers read from socket pairs."""

    def __init__(self, db: Path):
        self.deck = Deck.open(db, writer=False)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.writer = Writer(self.deck, listener, db.with_suffix(".sock"), db.with_suffix(".lk"))
        self.pending: list[tuple[socket.socket, bytes]] = []
        self.ours: list[socket.socket] = []

    def add(
        self, verb: str, args: tuple[Any, ...], kwargs: dict[str, Any], creds: list[Any]
    ) -> None:
        self.raw(pickle.dumps((verb, args, kwargs, creds)))

    def raw(self, body: bytes) -> None:
        theirs, ours = socket.socketpair()
        self.pending.append((theirs, body))
        self.ours.append(ours)

    def run(self) -> list[tuple[str, Any]]:
        """Run every request in one batch; each request's (status, value)."""
        self.writer._run(self.pending)
        assert self.writer.batches == 1
        return [resident_writer.recv_frame(sock) for sock in self.ours]


def test_a_batch_keeps_each_requests_own_credentials(tmp_path: Path) -> None:
    """In one transaction, right after a0's own request: a1's token, and no token at all, each
    trying to write as a0. Neither borrows a0's credential from the batch."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    key = held_task(db, tokens["a0"], "a0")
    batch = Batch(db)
    a0_creds = [(tokens["a0"], "token")]
    batch.add("log", (key, "a0 itself"), {"actor": "a0"}, a0_creds)
    batch.add("log", (key, "a1 as a0"), {"actor": "a0"}, [(tokens["a1"], "token")])
    batch.add("log", (key, "nobody as a0"), {"actor": "a0"}, [])
    batch.add("complete", (key,), {"actor": "a0", "result": "x", "verified_by": "y"}, [])
    batch.add("claim", ("a1",), {}, [(tokens["a1"], "token")])
    answers = batch.run()
    assert [status for status, _ in answers] == ["ok", "error", "error", "error", "ok"]
    for _, error in answers[1:4]:
        assert isinstance(error, PermissionDeniedError)
    with Deck.open(db, writer=False) as plain:
        assert log_texts(plain, key) == ["a0 itself"]
        assert plain.get_task(key).status == "in_progress"
        assert answers[4][1].task.assignee == "a1"
    batch.deck.close()


def test_a_request_for_anything_but_an_agent_verb_runs_nothing(tmp_path: Path) -> None:
    """A forged verb name (a human move, a private attribute), a frame that is not a request:
    refused, and the good request in the same batch still lands."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    human = [(tokens[HUMAN], "credential file")]
    key = held_task(db, tokens["a0"], "a0")
    with as_member(db, tokens["a0"], writer=False) as a0:
        a0.submit(key, actor="a0", result="for review")
    batch = Batch(db)
    batch.add("approve", (key,), {"actor": HUMAN}, human)
    batch.add("_db", (), {}, human)
    batch.add("__class__", (), {}, human)
    batch.raw(b"not a pickle")
    batch.raw(pickle.dumps(("log",)))
    batch.add("claim", ("a1",), {}, [(tokens["a1"], "token")])
    answers = batch.run()
    assert [status for status, _ in answers] == ["error"] * 5 + ["ok"]
    for _, error in answers[:5]:
        assert isinstance(error, StorageError)
        assert "does not serve" in str(error)
    with Deck.open(db, writer=False) as plain:
        assert plain.get_task(key).status == "review"  # not approved
    batch.deck.close()


def test_a_failing_verb_rolls_back_alone(tmp_path: Path) -> None:
    """A verb that fails mid-batch leaves nothing of its own, and its neighbours' writes stand."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    key = held_task(db, tokens["a0"], "a0")
    with Deck.open(db, writer=False) as plain:
        other = plain.get_task("GC-4").status
    creds = [(tokens["a0"], "token")]
    batch = Batch(db)
    batch.add("log", (key, "before"), {"actor": "a0"}, creds)
    batch.add("log", (key, ""), {"actor": "a0"}, creds)  # empty text: refused
    batch.add("complete", ("GC-4",), {"actor": "a0", "result": "r", "verified_by": "v"}, creds)
    batch.add("log", (key, "after"), {"actor": "a0"}, creds)
    answers = batch.run()
    assert [status for status, _ in answers] == ["ok", "error", "error", "ok"]
    assert batch.writer.redone == 1  # complete failed inside its transaction
    with Deck.open(db, writer=False) as plain:
        assert log_texts(plain, key) == ["before", "after"]
        assert plain.get_task("GC-4").status == other
    batch.deck.close()


def test_a_clean_batch_runs_once_without_savepoints(tmp_path: Path) -> None:
    db = tmp_path / "board.db"
    tokens = token_board(db)
    key = held_task(db, tokens["a0"], "a0")
    creds = [(tokens["a0"], "token")]
    batch = Batch(db)
    for text in ("one", "two", "three"):
        batch.add("log", (key, text), {"actor": "a0"}, creds)
    assert [status for status, _ in batch.run()] == ["ok"] * 3
    assert batch.writer.redone == 0
    with Deck.open(db, writer=False) as plain:
        assert log_texts(plain, key) == ["one", "two", "three"]
    batch.deck.close()


def _wrote_then_failed(deck: Deck, text: str, *, swallow: bool) -> str:
    """A verb that writes a log entry in a transaction that then fails; with `swallow`, it
    catches the failure and answers as if all were well (its transaction still rolled back)."""
    with contextlib.suppress(ValidationError if swallow else ()), deck._db.write() as tx:
        tx.event(1, None, HUMAN, "log", "action", text)
        tx.flush_events()
        raise ValidationError("failed after writing")
    return "carried on"


@pytest.mark.parametrize("swallow", [False, True])
def test_a_write_that_fails_after_writing_leaves_nothing(tmp_path: Path, swallow: bool) -> None:
    """The first attempt runs without savepoints, so a failing write's own changes are still
    in the transaction: the whole batch must be rolled back and run again with savepoints,
    also when the verb catches the failure and answers normally."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    key = held_task(db, tokens["a0"], "a0")
    creds = [(tokens["a0"], "token")]
    batch = Batch(db)
    batch.writer.verbs["wrote_then_failed"] = functools.partial(
        _wrote_then_failed, batch.deck, swallow=swallow
    )
    batch.add("log", (key, "before"), {"actor": "a0"}, creds)
    batch.add("wrote_then_failed", ("must not stay",), {}, creds)
    batch.add("log", (key, "after"), {"actor": "a0"}, creds)
    answers = batch.run()
    assert [status for status, _ in answers] == ["ok", "ok" if swallow else "error", "ok"]
    assert batch.writer.redone == 1
    with Deck.open(db, writer=False) as plain:
        assert log_texts(plain, key) == ["before", "after"]
        texts = [e.text for e in all_events(plain)]
        assert "must not stay" not in texts
    batch.deck.close()


def test_a_late_log_through_the_writer_sweeps_the_lease_as_in_process(tmp_path: Path) -> None:
    """A log entry after the lease lapsed is refused and the lapsed lease swept, in a second
    transaction of the same verb: the sweep stays although the verb failed, as in-process."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    key = held_task(db, tokens["a0"], "a0")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE task SET lease_expires_at = '2000-01-01 00:00:00.000000'")
    batch = Batch(db)
    batch.add("log", (key, "too late"), {"actor": "a0"}, [(tokens["a0"], "token")])
    batch.add("claim", ("a1",), {}, [(tokens["a1"], "token")])
    answers = batch.run()
    assert answers[0][0] == "error" and isinstance(answers[0][1], LeaseExpiredError)
    assert answers[1][0] == "ok"
    with Deck.open(db, writer=False) as plain:
        assert log_texts(plain, key) == []
        kinds = [e.kind for e in plain.task_events(key)]
        assert "lease_expired" in kinds
    batch.deck.close()


def test_processes_through_the_writer_claim_each_task_once(runtime: Path, tmp_path: Path) -> None:
    db = tmp_path / "drain.db"
    make_board(db, agents=6, tasks=120)
    outs = [tmp_path / f"w{i}.json" for i in range(6)]
    procs = [
        SPAWN.Process(target=workers.drain, args=(str(db), f"w{i}", str(out)))
        for i, out in enumerate(outs)
    ]
    for proc in procs:
        proc.start()
    join_all(procs, timeout=180)
    results = [read_result(out) for out in outs]
    claimed = [key for r in results for key in r["claimed"]]
    assert [e for r in results for e in r["errors"]] == []
    assert len(claimed) == 120 and len(set(claimed)) == 120
    assert writer_pid(db) is not None  # they went through a writer


def test_a_killed_writer_loses_no_acknowledged_write(runtime: Path, tmp_path: Path) -> None:
    """SIGKILL the writer while four processes append log entries through it: every entry a
    process was answered for is in the file, which passes its integrity check; the processes
    go on through a new writer (or in-process), told only that the one call in flight may or
    may not have landed."""
    db = tmp_path / "crash.db"
    make_board(db, agents=4, tasks=4)
    outs = [tmp_path / f"w{i}.json" for i in range(4)]
    procs = [
        SPAWN.Process(
            target=workers.append_logs,
            args=(str(db), f"w{i}", f"RUN-{i + 1}", 400, str(out)),
        )
        for i, out in enumerate(outs)
    ]
    for proc in procs:
        proc.start()
    with Deck.open(db, writer=False) as watcher:
        start = watcher.max_event_id()
        with ChangeFeed(watcher) as feed:  # woken by commits, not polling
            newest = start
            while newest < start + 200:
                newer = feed.wait(newest, timeout=60)
                assert newer > newest, "no progress"
                newest = newer
        pid = writer_pid(db)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
    join_all(procs, timeout=240)
    results = [read_result(out) for out in outs]
    errors = [e for r in results for e in r["errors"]]
    assert all("may or may not" in e for e in errors), errors
    assert all(len(r["errors"]) <= 1 for r in results)  # at most the call in flight
    with Deck.open(db, writer=False) as plain:
        stored = {e.id: e.text for e in all_events(plain)}
        for r in results:
            assert r["ids"], r
            for event_id in r["ids"]:
                assert stored.get(event_id, "").startswith(f"{r['agent']} entry ")
        with plain.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_without_a_private_runtime_directory_verbs_run_in_process(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # open to everyone: no socket goes there
    monkeypatch.setenv(resident_writer.ENV_RUNTIME_DIR, str(shared))
    db = tmp_path / "board.db"
    tokens = token_board(db)
    with as_member(db, tokens["a0"], writer=True) as deck:
        claim = deck.claim("a0")
        assert claim is not None
        deck.log(claim.task.key, "in-process", actor="a0")
        assert deck._writer is None  # fell back, and stays in-process
    assert list(shared.iterdir()) == []


def test_an_idle_writer_exits_and_removes_its_socket(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTDECK_WRITER_IDLE_S", "0.2")
    db = tmp_path / "board.db"
    tokens = token_board(db)
    with as_member(db, tokens["a0"], writer=True) as deck:
        assert deck.claim("a0") is not None
    sock = socket_for(db, runtime)
    wait_for_exit(sock)
    assert not sock.exists()


def wait_for_exit(sock: Path) -> None:
    """Return once the writer of `sock` has exited: it holds a lock on its `.life` file for
    its life, so taking that lock means it is gone."""
    life = os.open(f"{sock}.life", os.O_RDWR)
    taker = threading.Thread(target=fcntl.flock, args=(life, fcntl.LOCK_EX), daemon=True)
    taker.start()
    taker.join(30)
    os.close(life)
    assert not taker.is_alive(), "the writer did not exit"


def test_a_stopped_writer_is_replaced_for_a_connected_deck(runtime: Path, tmp_path: Path) -> None:
    """SIGTERM ends a writer between batches and removes its socket; a deck still connected
    to it sends its next call through a new one, nothing lost or doubled."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    with as_member(db, tokens["a0"], writer=True) as deck:
        claim = deck.claim("a0")
        assert claim is not None
        deck.log(claim.task.key, "first", actor="a0")
        first = writer_pid(db)
        assert first is not None
        os.kill(first, signal.SIGTERM)
        wait_for_exit(socket_for(db, runtime))
        deck.log(claim.task.key, "second", actor="a0")
        assert deck._writer is not None and writer_pid(db) not in (None, first)
    with Deck.open(db, writer=False) as plain:
        assert log_texts(plain, claim.task.key) == ["first", "second"]


def test_a_writer_running_other_code_is_not_used(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade, a writer started by the old code greets with another fingerprint:
    a deck of the new code writes in-process instead of through it."""
    db = tmp_path / "board.db"
    tokens = token_board(db)
    with as_member(db, tokens["a0"], writer=True) as old:
        assert old.claim("a0") is not None
        assert old._writer is not None
    monkeypatch.setattr(resident_writer, "fingerprint", lambda: "upgraded")
    with as_member(db, tokens["a1"], writer=True) as new:
        claim = new.claim("a1")
        assert claim is not None
        new.log(claim.task.key, "in-process", actor="a1")
        assert new._writer is None
    with Deck.open(db, writer=False) as plain:
        assert log_texts(plain, claim.task.key) == ["in-process"]


def test_the_kill_nine_loop_through_the_writer_loses_no_acknowledged_write(
    runtime: Path, tmp_path: Path
) -> None:
    """The crash suite's loop with every agent process going through the resident writer:
    agents SIGKILLed at random moments (mid-request, their batch in flight) and restarted;
    every acknowledged write is present, no task was held twice, killed leases come back,
    and the file passes its integrity and foreign-key checks."""
    db = tmp_path / "crash.db"
    kills = crash.kills_from_env(default=20)
    work = tmp_path / "acks"
    work.mkdir()
    report = crash.run_crash_loop(db, work, kills=kills, writers=8, budget_s=240)
    assert report.kills >= kills
    assert report.acks["complete"] > 0 and report.acks["log"] > 0
    assert report.recovered
    assert writer_pid(db) is not None  # the agents went through a writer
