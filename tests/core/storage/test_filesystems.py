"""Network filesystems: the mount table parser, and the warning a deck carries when its SQLite
file sits where WAL is unsafe (nfs, cifs, 9p, FUSE, ...)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentdeck.core import Deck
from agentdeck.core.storage import filesystems
from agentdeck.core.storage.filesystems import filesystem_warning, mount_of, parse_mounts

# A desktop's /proc/mounts, trimmed: local disks, pseudo filesystems, and shares of every kind.
MOUNTS = """\
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
/dev/nvme0n1p3 /home ext4 rw,relatime 0 0
nas:/export/home /home/ann nfs4 rw,relatime,vers=4.2 0 0
/dev/sdb1 /home/ann/scratch xfs rw,relatime 0 0
ann@build:/srv /mnt/build fuse.sshfs rw,nosuid,nodev,user_id=1000 0 0
//fileserver/team\\040share /mnt/team\\040share cifs rw,vers=3.1.1 0 0
drvfs /mnt/c 9p rw,noatime,trans=fd 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw,lowerdir=/l,upperdir=/u 0 0
fuse-overlayfs /run/user/1000/containers/storage/merged fuse.fuse-overlayfs rw 0 0
myfs /srv/vm virtiofs rw 0 0
"""


def where(path: str) -> tuple[str, str] | None:
    return mount_of(path, MOUNTS)


def test_the_longest_mount_point_holds_a_path() -> None:
    assert where("/home/bob/proj/.agentdeck") == ("/home", "ext4")
    assert where("/home/ann/proj/.agentdeck") == ("/home/ann", "nfs4")
    assert where("/home/ann/scratch/.agentdeck") == ("/home/ann/scratch", "xfs")
    assert where("/home/ann") == ("/home/ann", "nfs4")
    # A mount point is a whole path component: /home/anna is not under /home/ann.
    assert where("/home/anna/.agentdeck") == ("/home", "ext4")
    assert where("/opt/board") == ("/", "ext4")


def test_escaped_spaces_in_mount_points_are_decoded() -> None:
    assert ("/mnt/team share", "cifs") in parse_mounts(MOUNTS)
    assert where("/mnt/team share/deck") == ("/mnt/team share", "cifs")
    assert where("/mnt/team/deck") == ("/", "ext4")


def test_a_later_mount_at_the_same_point_hides_the_earlier() -> None:
    mounts = "/dev/sda1 / ext4 rw 0 0\nnas:/x /data nfs rw 0 0\n/dev/sdb1 /data ext4 rw 0 0\n"
    assert mount_of("/data/deck", mounts) == ("/data", "ext4")


@pytest.mark.parametrize(
    ("folder", "fstype"),
    [
        ("/home/ann/proj/.agentdeck", "nfs4"),
        ("/mnt/build/.agentdeck", "fuse.sshfs"),
        ("/mnt/team share/.agentdeck", "cifs"),
        ("/mnt/c/Users/ann/.agentdeck", "9p"),
        ("/srv/vm/.agentdeck", "virtiofs"),
    ],
)
def test_a_database_on_a_network_filesystem_gets_a_warning(folder: str, fstype: str) -> None:
    warning = filesystem_warning(f"{folder}/board.db", MOUNTS)
    assert warning is not None and "\n" not in warning
    assert f"{folder}/board.db is on a {fstype} filesystem" in warning
    assert "WAL" in warning and "local disk" in warning


@pytest.mark.parametrize(
    "folder",
    [
        "/home/bob/.agentdeck",  # ext4
        "/home/ann/scratch/.agentdeck",  # xfs under an nfs mount
        "/tmp/run",  # tmpfs
        "/var/lib/docker/overlay2/abc/merged/app/.agentdeck",  # a container's overlay root
        "/run/user/1000/containers/storage/merged/.agentdeck",  # rootless podman
        "/opt/.agentdeck",
    ],
)
def test_a_database_on_a_local_filesystem_gets_none(folder: str) -> None:
    assert filesystem_warning(f"{folder}/board.db", MOUNTS) is None


def test_without_a_mount_table_there_is_no_warning() -> None:
    """macOS and Windows have no /proc/mounts: nothing to go on, so nothing is said."""
    assert filesystem_warning("/Volumes/share/board.db", None) is None
    assert filesystem_warning("/Volumes/share/board.db", "") is None
    assert filesystems.read_mounts(Path("/nonexistent/mounts")) is None


def test_the_mount_of_the_real_folder_counts(tmp_path: Path) -> None:
    """A symlinked `.agentdeck` that leads onto a share is on the share."""
    real = tmp_path / "share"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    mounts = f"/dev/sda1 / ext4 rw 0 0\nnas:/x {os.path.realpath(real)} nfs rw 0 0\n"
    assert filesystem_warning(tmp_path / "link" / "board.db", mounts) is not None
    assert filesystem_warning(tmp_path / "board.db", mounts) is None


def fake_mounts(tmp_path: Path, folder: Path, fstype: str) -> Path:
    """A mount table with `folder` mounted as `fstype` on an ext4 root."""
    table = tmp_path / "mounts"
    point = os.path.realpath(folder).replace(" ", "\\040")
    table.write_text(f"/dev/sda1 / ext4 rw 0 0\nserver:/x {point} {fstype} rw 0 0\n")
    return table


def test_a_deck_opened_on_a_share_carries_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = tmp_path / "on share"
    share.mkdir()
    monkeypatch.setattr(filesystems, "MOUNTS_FILE", fake_mounts(tmp_path, share, "nfs4"))
    with Deck.open(share / "board.db", create=True) as deck:
        assert len(deck.warnings) == 1
        assert "is on a nfs4 filesystem" in deck.warnings[0]
    with Deck.open(tmp_path / "board.db", create=True) as deck:
        assert deck.warnings == ()


def test_a_server_database_has_no_filesystem_warning() -> None:
    assert filesystems.database_warnings(None) == ()
