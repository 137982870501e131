"""Scratch space of the store, named after the process that owns it, reclaimed when that
process is gone.

A process killed in the middle of an operation cannot clean up after itself. So every
staging entry under <root>/tmp starts with its owner's token, ``<pid>-<start time>.``
(the start time tells a reused pid apart), and every intermediate container of a build
is announced in <root>/building/ under its builder's token. The next process that takes
the store lock removes what dead owners left (`reclaim`); `system check` reports it.

Entries of containers/ and names/ whose name starts with a dot (a container being made,
one being removed, a name being claimed) only exist while their maker holds the store
lock: under that lock, any that is there was left by a killed process.
"""
from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from reference_impl.fsutil import read_json
from reference_impl.store.containers import name_entry
from reference_impl.ownership import owner_alive, owner_of, owner_token, staging_prefix


prefix = staging_prefix


def new_file(directory: Path, kind: str, suffix: str = "") -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix(kind), suffix=suffix)
    return fd, Path(name)


def new_dir(directory: Path, kind: str) -> Path:
    return Path(tempfile.mkdtemp(dir=directory, prefix=prefix(kind)))


# --- intermediate containers of a build ---------------------------------------------------

def _building_dir(root: Path) -> Path:
    return root / "building"


def announce_intermediate(root: Path, container_id: str) -> None:
    directory = _building_dir(root)
    directory.mkdir(exist_ok=True)
    (directory / f"{owner_token()}.{container_id}").touch()


def settle_intermediate(root: Path, container_id: str) -> None:
    """The build is done with this container (removed it, or keeps it on purpose)."""
    (_building_dir(root) / f"{owner_token()}.{container_id}").unlink(missing_ok=True)


# --- leftovers ----------------------------------------------------------------------------

@dataclass
class Leftover:
    path: Path
    size: int
    container_id: str = ""  # an intermediate container of a killed build

    def describe(self) -> str:
        what = f"container {self.container_id[:12]} of a killed build" if self.container_id else str(self.path)
        return f"{what} ({self.size} bytes)"


def _size(path: Path) -> int:
    total = 0
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0
    if not stat.S_ISDIR(st.st_mode):
        return st.st_blocks * 512
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


def leftovers(root: Path) -> list[Leftover]:
    """What killed operations left behind (the caller holds the store lock for a stable view)."""
    found = []
    tmp = root / "tmp"
    for entry in _entries(tmp):
        if not owner_alive(owner_of(entry.name)):
            found.append(Leftover(entry, _size(entry)))
    for entry in _entries(root / "containers"):
        if entry.name.startswith(".") or not (entry / "config.json").exists():
            found.append(Leftover(entry, _size(entry)))
    for entry in _entries(root / "names"):
        if entry.name.startswith("."):
            found.append(Leftover(entry, 0))
    for entry in _entries(_building_dir(root)):
        token, _, container_id = entry.name.partition(".")
        if not owner_alive(token):
            container = root / "containers" / container_id
            found.append(Leftover(entry, _size(container), container_id))
    return found


def _entries(directory: Path) -> list[Path]:
    try:
        return list(directory.iterdir())
    except FileNotFoundError:
        return []


def reclaim(root: Path) -> list[Leftover]:
    """Remove every leftover (the caller holds the store lock); returns what went."""
    gone = leftovers(root)
    for leftover in gone:
        if leftover.container_id:
            _remove_container(root, leftover.container_id)
        _remove(leftover.path)
    return gone


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _remove_container(root: Path, container_id: str) -> None:
    """A killed build's container: its process (a RUN still going) killed, its shim given a
    moment to record that and end (it writes into the directory), then its record gone."""
    directory = root / "containers" / container_id
    config = read_json(directory / "config.json") or {}
    state = read_json(directory / "state.json") or {}
    pid, shim = state.get("Pid", 0), state.get("ShimPid", 0)
    if pid and state.get("Status") == "running":
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + SHIM_GRACE
    while shim and _running(shim) and time.monotonic() < deadline:
        time.sleep(0.02)
    name = config.get("Name")
    link = root / "names" / name_entry(name) if name else None
    if link is not None and os.path.islink(link) and os.readlink(link) == container_id:
        link.unlink()
    trash = root / "containers" / f".gone-{container_id}-reclaimed"
    try:
        os.rename(directory, trash)
    except FileNotFoundError:
        return
    _remove(trash)


SHIM_GRACE = 2.0  # seconds a killed build's shim gets to finish writing its container's state


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
