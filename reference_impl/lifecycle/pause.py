"""pause/unpause through the freezer of the container's own cgroup (v1: freezer.state,
v2: cgroup.freeze): every process of the container, execs included, stops where it is.
Whether a container is paused is read from the kernel, not from a record."""
from __future__ import annotations

import time
from pathlib import Path

from reference_impl.confinement import cgroups


def _v1_group(container_id: str) -> Path:
    return cgroups.ROOT / "freezer" / cgroups.PARENT / container_id


def _v2_group(container_id: str) -> Path:
    return cgroups.ROOT / cgroups.PARENT / container_id


def is_paused(container_id: str) -> bool:
    try:
        if cgroups.unified():
            return "frozen 1" in (_v2_group(container_id) / "cgroup.events").read_text().splitlines()
        return (_v1_group(container_id) / "freezer.state").read_text().strip() in ("FROZEN", "FREEZING")
    except OSError:
        return False


def freeze(container_id: str, timeout: float = 5) -> None:
    _set(container_id, True)
    deadline = time.monotonic() + timeout
    while not _settled(container_id, True):
        if time.monotonic() > deadline:
            _set(container_id, False)
            raise OSError("the container's processes could not be frozen")
        time.sleep(0.005)


def thaw(container_id: str) -> None:
    _set(container_id, False)


def _set(container_id: str, frozen: bool) -> None:
    if cgroups.unified():
        (_v2_group(container_id) / "cgroup.freeze").write_text("1" if frozen else "0")
    else:
        (_v1_group(container_id) / "freezer.state").write_text("FROZEN" if frozen else "THAWED")


def _settled(container_id: str, frozen: bool) -> bool:
    if cgroups.unified():
        return ("frozen 1" in (_v2_group(container_id) / "cgroup.events").read_text().splitlines()) == frozen
    return (_v1_group(container_id) / "freezer.state").read_text().strip() == ("FROZEN" if frozen else "THAWED")
