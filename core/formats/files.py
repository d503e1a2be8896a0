"""Reading a file someone else put there: only a regular file, and never more than a limit.

Hand-written because `Path.read_bytes` follows symbolic links, blocks forever on a FIFO and
reads /dev/zero until memory runs out, and a size from `stat` says nothing about what a read
returns. Here the file is opened with O_NONBLOCK (a FIFO opens at once instead of waiting for a
writer) and, for entries of a directory being scanned, O_NOFOLLOW (a symlink out of the
directory is refused, not followed); `fstat` on that descriptor decides whether it is a regular
file, so nothing can be swapped in between the check and the read; and the read stops after
`limit + 1` bytes. A file the user named (`import beads FILE`) may be a link to a regular file:
they chose it, and what it leads to is checked the same way.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from agentdeck.core.errors import ValidationError

MIB = 2**20
_CHUNK = MIB


class NotRegularFile(ValidationError):
    """The path is a symbolic link, a directory, a FIFO, a socket or a device: not read."""


def read_regular_file(
    path: str | Path, limit: int, where: str | None = None, *, follow_links: bool = False
) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; a symbolic link is
    refused unless `follow_links` (then what it points to must be a regular file).

    Refusals are one line starting with `where` (the path by default): NotRegularFile for
    anything but a regular file, ValidationError for a missing or unreadable or too big one.
    """
    where = where if where is not None else str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        # stat first so a device is refused without being opened (opening one can act).
        _require_regular((os.stat if follow_links else os.lstat)(path).st_mode, where)
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ValidationError(f"{where}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink after the lstat
            raise NotRegularFile(f"{where}: a symbolic link, not read") from None
        raise ValidationError(f"{where}: cannot read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        _require_regular(os.fstat(fd).st_mode, where)
        return read_at_most(file, limit, where)


def read_at_most(stream: BinaryIO, limit: int, where: str) -> bytes:
    """Everything in `stream` (a file or standard input), refused once it passes `limit`."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        try:
            chunk = stream.read(min(_CHUNK, limit + 1 - size))
        except OSError as exc:
            raise ValidationError(f"{where}: cannot read ({exc.strerror})") from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise ValidationError(f"{where}: larger than {size_text(limit)}")


def size_text(limit: int) -> str:
    """A limit as people say it: `8 MiB`, or bytes when it is not whole mebibytes."""
    return f"{limit // MIB} MiB" if limit >= MIB and limit % MIB == 0 else f"{limit} bytes"


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def _require_regular(mode: int, where: str) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise NotRegularFile(f"{where}: {kind}, not read")
