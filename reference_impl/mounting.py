"""Mounting a container's mount points (mountpoints.py) under its root, in its own mount
namespace, before pivot_root: nothing of it is seen or left on the host.

A destination is resolved inside the container's root the way a chroot would resolve
it (`..` stops at the root, an absolute symlink starts again from the root), so an
image's symlink cannot point a mount at a host path. An empty volume is first filled
with what the image has at its destination (Docker's copy-up, with owners and modes).
"""
from __future__ import annotations

import errno
import os
import subprocess

from reference_impl import syscalls as sc

_MAX_LINKS = 40


def apply(root: str, points: list[dict]) -> None:
    """Mount every point under `root` (parents before children)."""
    for point in sorted(points, key=lambda p: p["Destination"]):
        if point["Type"] == "tmpfs":
            target = resolve_in_root(root, point["Destination"], make=True)
            sc.mount("tmpfs", target, "tmpfs", point.get("Flags", 0), point.get("Data") or None)
            continue
        source = point["Source"]
        leaf_is_file = not os.path.isdir(source)
        target = resolve_in_root(root, point["Destination"], make=True, leaf_file=leaf_is_file)
        if point.get("CopyData") and not leaf_is_file:
            copy_up(target, source)
        sc.mount(source, target, None, sc.MS_BIND | sc.MS_REC)
        if not point.get("RW", True):
            sc.mount("none", target, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC)


def copy_up(image_dir: str, volume_dir: str) -> None:
    """Fill an empty volume with the image's directory (owners, modes, times kept)."""
    if os.listdir(volume_dir) or not os.path.isdir(image_dir):
        return
    done = subprocess.run(["cp", "-a", "--", f"{image_dir}/.", f"{volume_dir}/"], capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(errno.EIO, f"copying the image's content into the volume: {done.stderr.strip()}")


def resolve_in_root(root: str, path: str, make: bool = False, leaf_file: bool = False) -> str:
    """`path` as the container sees it, as a path under `root` that never leaves it;
    with `make`, missing directories (and a missing leaf file) are created."""
    pending = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            resolved = resolved[:-1]
            continue
        here = os.path.join(root, *resolved, part)
        if os.path.islink(here):
            links += 1
            if links > _MAX_LINKS:
                raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
            target = os.readlink(here)
            if target.startswith("/"):
                resolved = []
            pending = [p for p in target.split("/") if p not in ("", ".")] + pending
            continue
        if make and not os.path.lexists(here):
            if leaf_file and not pending:
                os.close(os.open(here, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o755))
            else:
                os.mkdir(here, 0o755)
        resolved.append(part)
    return os.path.join(root, *resolved)
