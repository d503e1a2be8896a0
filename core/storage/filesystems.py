"""Which filesystem a SQLite database lives on, and a warning when that is a network one.

SQLite's WAL mode keeps its index in a memory-mapped `-shm` file and coordinates writers with
file locks. Both only work between processes of one kernel on a local filesystem: over NFS,
SMB, 9p, a FUSE mount (sshfs, s3fs, rclone...) or a cluster filesystem, locks may be ignored
and each machine sees its own copy of the shared memory, so two writers can corrupt the file.
SQLite's own docs say so (https://www.sqlite.org/wal.html, "WAL does not work over a network
filesystem"). agentdeck cannot fix that, so it says so once, at open, and carries on.

virtiofs is on the list too: it shares a host directory with a VM or container (Docker Desktop
bind mounts), and a process on the host does not share the `-shm` mapping with one in the guest.
fuse-overlayfs is not: it is a local overlay (rootless containers' own root filesystem).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MOUNTS_FILE = Path("/proc/self/mounts")

# Filesystem types where WAL's shared memory and locks are not reliable.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "virtiofs",
        "ceph",
        "glusterfs",
        "lustre",
        "afs",
        "ocfs2",
        "gfs2",
        "beegfs",
        "gpfs",
        "davfs",
        "fuse",
    }
)
# FUSE filesystems (reported as `fuse.NAME`) that are local to this machine.
LOCAL_FUSE = frozenset({"fuse.fuse-overlayfs", "fuse.lxcfs"})

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def unescape_mount_field(field: str) -> str:
    """A path as the kernel writes it in /proc/mounts, with `\\040` for a space, back to text."""
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(mounts_text: str) -> list[tuple[str, str]]:
    """(mount point, filesystem type) of each line of /proc/mounts, in mount order."""
    mounts = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append((unescape_mount_field(fields[1]), fields[2]))
    return mounts


def mount_of(path: str, mounts_text: str) -> tuple[str, str] | None:
    """The (mount point, type) holding `path` (absolute): the longest mount point that is
    `path` or one of its parents; of several at one point, the last, which hides the others."""
    best: tuple[str, str] | None = None
    for point, fstype in parse_mounts(mounts_text):
        inside = point == "/" or path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fstype)
    return best


def is_network_filesystem(fstype: str) -> bool:
    if fstype in LOCAL_FUSE:
        return False
    return fstype in NETWORK_FILESYSTEMS or fstype.startswith("fuse.")


def filesystem_warning(path: str | os.PathLike[str], mounts_text: str | None) -> str | None:
    """A one-line warning if the database at `path` sits on a network or FUSE filesystem
    according to `mounts_text` (the text of /proc/mounts); None when it is local, or when there
    is no mount table to read (macOS, Windows)."""
    if not mounts_text:
        return None
    folder = os.path.realpath(Path(path).parent)
    found = mount_of(folder, mounts_text)
    if found is None or not is_network_filesystem(found[1]):
        return None
    point, fstype = found
    return (
        f"the database {path} is on a {fstype} filesystem (mounted at {point}); SQLite's WAL "
        "mode needs locks and shared memory such filesystems do not provide reliably, so "
        "concurrent writers can corrupt it: keep it on a local disk (--db, AGENTDECK_DB) "
        "or use PostgreSQL"
    )


def read_mounts(mounts_file: Path | None = None) -> str | None:
    """The mount table of this process, or None where there is none to read."""
    try:
        return (mounts_file or MOUNTS_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def database_warnings(path: Path | None) -> tuple[str, ...]:
    """The warnings to show when opening the SQLite database at `path` (none for a server)."""
    if path is None or str(path) == ":memory:":
        return ()
    warning = filesystem_warning(path, read_mounts())
    return (warning,) if warning else ()
