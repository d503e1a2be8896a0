"""Full disk: a writer whose database cannot grow gets one clear error, the file stays intact with
every acknowledged write, and work resumes once there is room again.

A file-size limit (`RLIMIT_FSIZE`, set in a real child process) stands in for a tiny filesystem:
it needs no mount and no root, and SQLite meets it the same way, as a write() that fails half-way.
SQLite reports that as SQLITE_IOERR_WRITE; a filesystem out of space (ENOSPC) gives SQLITE_FULL
instead, whose message is checked on the driver's own exception at the end.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agentdeck.core import Deck, StorageError
from agentdeck.core.storage.engine import translate_busy
from tests.concurrency.crash import check_integrity
from tests.concurrency.harness import all_events
from tests.hardening.full_disk_worker import AGENT, BOARD, TASK, entry_text

ROOT = Path(__file__).resolve().parents[2]
AGENTDECK = Path(sys.executable).parent / "agentdeck"
KIB = 1024
# SQLite checkpoints the WAL into the database file once it holds 1000 pages (4 KiB each).
AUTOCHECKPOINT_BYTES = 1000 * 4 * KIB
WRITE_FAILED = "could not write the database file (SQLITE_IOERR_WRITE)"

pytestmark = pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs setrlimit")


def make_board(db: Path, *, padding_entries: int = 0) -> None:
    """Board WEB with human `ann` and agent `gen` holding WEB-1; `padding_entries` logs of
    60 KB (by ann, on WEB-2) make the file bigger. Closing the deck checkpoints the WAL away."""
    with Deck.open(db, create=True) as deck:
        deck.create_board(BOARD, "Website", actor="ann")
        deck.add_agent(AGENT, actor="ann")
        deck.add_task("Build the API", actor="ann")
        assert deck.claim(AGENT, key=TASK) is not None
        padding = deck.add_task("Keep old logs", actor="ann").key
        for seq in range(padding_entries):
            deck.log(padding, entry_text(seq), actor="ann")
    assert not wal(db).exists()


def wal(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def largest_file(db: Path) -> int:
    """The size of the database or its WAL, whichever is bigger: what a limit must exceed."""
    return max(p.stat().st_size for p in (db, wal(db)) if p.exists())


def run_writer(db: Path, limit: int, *, max_entries: int = 300, resume: bool = False) -> list[Any]:
    """Run the full-disk writer in its own process; its report lines, in order."""
    args = [sys.executable, "-m", "tests.hardening.full_disk_worker", str(db), str(limit)]
    args += [str(max_entries), *(["--resume"] if resume else [])]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def acknowledged(lines: list[dict[str, Any]]) -> dict[int, int]:
    """Event id -> entry number of every log the writer saw succeed."""
    return {line["ack"]: line["seq"] for line in lines if "ack" in line}


def refusal(lines: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [line for line in lines if "error" in line]
    assert len(errors) == 1, lines[-3:]
    return errors[0]


def check_logs(db: Path, acks: dict[int, int], refused_seq: int) -> None:
    """Every acknowledged entry is in the log with its full text; the refused one left nothing."""
    with Deck.open(db) as deck:
        logs = {e.id: e for e in all_events(deck) if e.kind == "log" and e.task == TASK}
    for event_id, seq in acks.items():
        assert logs[event_id].text == entry_text(seq)
    texts = {e.text for e in logs.values()}
    assert entry_text(refused_seq) not in texts
    assert len(logs) == len(acks)


def test_a_writer_at_the_size_limit_gets_one_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    """The WAL, then the closing checkpoint, hit the limit: a one-line StorageError (exit code 5),
    every acknowledged entry intact, and a new process without the limit writes again."""
    db = tmp_path / "board.db"
    make_board(db, padding_entries=8)
    room = 256 * KIB
    lines = run_writer(db, largest_file(db) + room)

    failed = refusal(lines)
    acks = acknowledged(lines)
    assert failed["error"]["type"] == "StorageError"
    assert failed["error"]["exit_code"] == 5
    assert failed["error"]["message"].startswith(WRITE_FAILED)
    assert "\n" not in failed["error"]["message"]
    # The WAL may grow to the size of the (padded) database file plus the room, so more fitted
    # in it than the file itself can grow by: the checkpoint on close, copying them into the
    # file, met the limit too and left the WAL in place.
    assert len(acks) * 60 * KIB > room
    assert wal(db).stat().st_size > 0

    check_integrity(db)
    check_logs(db, acks, failed["seq"])

    after = run_writer(db, 0, max_entries=1)
    assert "error" not in after[0]
    assert not wal(db).exists(), "with room again, the closing checkpoint should finish"
    check_integrity(db)
    check_logs(db, {**acks, after[0]["ack"]: 0}, failed["seq"])


def test_a_long_running_writer_resumes_once_the_limit_is_lifted(tmp_path: Path) -> None:
    """The same deck that was refused writes again as soon as there is room, no restart needed."""
    db = tmp_path / "board.db"
    make_board(db)
    lines = run_writer(db, largest_file(db) + 128 * KIB, resume=True)

    failed = refusal(lines)
    assert failed["error"]["message"].startswith(WRITE_FAILED)
    resumed = lines[-1]["resumed"]
    check_integrity(db)
    with Deck.open(db) as deck:
        assert max(e.id for e in all_events(deck)) == resumed
        assert deck.events_since(resumed - 1)[0].text == "written after the limit was lifted"


def test_a_failed_automatic_checkpoint_keeps_every_acknowledged_commit(tmp_path: Path) -> None:
    """A big database with 1 MiB of room: the WAL passes SQLite's automatic checkpoint, which
    cannot copy it into the file; commits go on into the WAL until it too meets the limit."""
    db = tmp_path / "board.db"
    make_board(db, padding_entries=80)
    limit = largest_file(db) + 1024 * KIB
    assert limit > AUTOCHECKPOINT_BYTES + 512 * KIB
    lines = run_writer(db, limit)

    failed = refusal(lines)
    acks = acknowledged(lines)
    assert failed["error"]["message"].startswith(WRITE_FAILED)
    # Had the automatic checkpoint succeeded, SQLite would have started the WAL over.
    assert wal(db).stat().st_size > AUTOCHECKPOINT_BYTES + 256 * KIB
    check_integrity(db)
    check_logs(db, acks, failed["seq"])


def _limit_in_child(limit: int) -> None:
    """Run in the CLI child before exec: the size limit, and writes past it fail with EFBIG."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def agentdeck_log(db: Path, text: str, *extra: str, limit: int = 0) -> subprocess.CompletedProcess:
    """`agentdeck log WEB-1 TEXT --as gen` as a real process, under a file-size limit if given."""
    return subprocess.run(
        [str(AGENTDECK), "log", TASK, text, "--as", AGENT, *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "AGENTDECK_DB": str(db)},
        preexec_fn=(lambda: _limit_in_child(limit)) if limit else None,
        # SIGXFSZ must stay ignored across exec (Python ignores it at start-up too).
        restore_signals=False,
        timeout=60,
    )


def test_the_cli_says_so_in_one_line_and_exits_5(tmp_path: Path) -> None:
    """`agentdeck log` with no room: one `agentdeck: error:` line, exit 5, the JSON error
    document with --json; with room again the same command succeeds."""
    db = tmp_path / "board.db"
    make_board(db)
    # The WAL starts empty and the database file only grows at a checkpoint, so this is what
    # an entry of 60 KB meets first; SQLite's 32 KiB shared-memory index still fits.
    limit = 48 * KIB

    refused = agentdeck_log(db, entry_text(0), limit=limit)
    assert refused.returncode == 5, refused.stderr
    assert refused.stderr.startswith(f"agentdeck: error: {WRITE_FAILED}")
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert refused.stdout == ""

    as_json = agentdeck_log(db, entry_text(1), "--json", limit=limit)
    assert as_json.returncode == 5
    assert json.loads(as_json.stdout)["error"]["exit_code"] == 5

    check_integrity(db)
    written = agentdeck_log(db, entry_text(2), "--json", "--full")
    assert written.returncode == 0, written.stderr
    assert json.loads(written.stdout)["text"] == entry_text(2)
    with Deck.open(db) as deck:
        logs = [e.text for e in all_events(deck) if e.kind == "log" and e.task == TASK]
    assert logs == [entry_text(2)]


def _driver_error(message: str, code: int, name: str) -> sa.exc.OperationalError:
    """The error SQLAlchemy raises for a SQLite failure with this (extended) result code."""
    orig = sqlite3.OperationalError(message)
    orig.sqlite_errorcode = code  # type: ignore[attr-defined]
    orig.sqlite_errorname = name  # type: ignore[attr-defined]
    return sa.exc.OperationalError("COMMIT", {}, orig)


@pytest.mark.parametrize(
    ("code", "name", "message", "says"),
    [
        (13, "SQLITE_FULL", "database or disk is full", "the disk holding the database is full"),
        (778, "SQLITE_IOERR_WRITE", "disk I/O error", WRITE_FAILED),
        (266, "SQLITE_IOERR_READ", "disk I/O error", "could not read the database file"),
    ],
)
def test_storage_failures_become_one_clear_error(
    code: int, name: str, message: str, says: str
) -> None:
    """A full disk (ENOSPC gives SQLITE_FULL, which a size limit cannot produce) and I/O errors
    become a `StorageError` with exit code 5; other SQLite errors pass through unchanged."""
    with pytest.raises(StorageError) as caught, translate_busy():
        raise _driver_error(message, code, name)
    assert caught.value.message.startswith(says)
    assert caught.value.exit_code == 5

    with pytest.raises(sa.exc.OperationalError), translate_busy():
        raise _driver_error("no such table: task", 1, "SQLITE_ERROR")
