"""Inside the container's mount namespace, after pivot_root: the /proc and /sys paths
Docker masks or makes read-only, and a read-only root for --read-only."""
from __future__ import annotations

import os

from reference_impl import syscalls as sc

_PROC_FLAGS = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC


def mask(paths: list[str]) -> None:
    """A file reads as /dev/null, a directory as an empty read-only tmpfs."""
    for path in paths:
        if os.path.isdir(path):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
        elif os.path.exists(path):
            sc.mount("/dev/null", path, None, sc.MS_BIND)


def make_readonly(paths: list[str]) -> None:
    for path in paths:
        try:
            sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        except FileNotFoundError:  # /proc/sysrq-trigger without CONFIG_MAGIC_SYSRQ
            continue
        sc.mount(path, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | _PROC_FLAGS)


def readonly_root() -> None:
    """The root and the files the engine binds into it (/etc/hosts …), as Docker does."""
    sc.mount("/", "/", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
    for name in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf"):
        sc.mount(name, name, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
