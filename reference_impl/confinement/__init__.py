"""What confines a container's processes, as Docker confines them: capabilities, the
seccomp profile, masked and read-only paths, ulimits, a cgroup with its limits.

`Confinement` (settings.py) is the typed form of the HostConfig fields; the shim calls
`prepare` before it enters the container's root, `confine_filesystem` once that root is
mounted and `lock_down` last before exec."""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

from reference_impl import syscalls as sc
from reference_impl.confinement import capabilities, paths, seccomp
from reference_impl.confinement.settings import MASKED_PATHS, READONLY_PATHS, Confinement, SettingsError

__all__ = ["Confinement", "SettingsError", "confine_filesystem", "prepare", "lock_down"]

_PR_SET_NO_NEW_PRIVS = 38


class CapsError(RuntimeError):
    pass


def confine_filesystem(settings: Confinement) -> None:
    """In the container's root: masked and read-only /proc and /sys paths, --read-only."""
    if not settings.privileged:
        paths.mask(MASKED_PATHS)
        paths.make_readonly(READONLY_PATHS)
    if settings.readonly_rootfs:
        paths.readonly_root()


@dataclass
class Prepared:
    """What lock_down needs, made while the host's files (the store's compiled filters,
    libseccomp) are still in reach."""
    capabilities: int
    seccomp_program: bytes | None
    no_new_privileges: bool
    rlimits: list[tuple[int, int, int]]


def prepare(settings: Confinement, cache_dir: Path) -> Prepared:
    """`cache_dir`: where compiled seccomp filters are kept (the store's)."""
    names = settings.capabilities()
    profile = settings.seccomp_profile()
    program = seccomp.compiled(profile, names, cache_dir) if profile is not None else None
    return Prepared(capabilities=capabilities.mask(names), seccomp_program=program,
                    no_new_privileges=settings.no_new_privileges(), rlimits=settings.rlimits())


def lock_down(prepared: Prepared, uid: int, gid: int, groups: list[int]) -> None:
    """Switch to the container's user with its ulimits, capabilities and seccomp filter.
    The filter is loaded while CAP_SYS_ADMIN is still held (no_new_privs stays off unless
    asked for); capabilities are set last, so setuid and setgroups can still run."""
    for limit, soft, hard in prepared.rlimits:
        resource.setrlimit(limit, (soft, hard))
    keep = prepared.capabilities
    try:
        capabilities.drop_bounding(keep)
    except OSError as exc:
        raise CapsError(f"unable to apply caps: {os.strerror(exc.errno).lower()}") from None
    if prepared.no_new_privileges:
        sc.prctl(_PR_SET_NO_NEW_PRIVS, 1)
    if prepared.seccomp_program is not None:
        seccomp.load(prepared.seccomp_program)
    capabilities.keep_across_setuid()
    os.setgroups(groups)
    os.setgid(gid)
    os.setuid(uid)
    try:
        capabilities.set_process_caps(keep)
    except OSError as exc:
        raise CapsError(f"unable to apply caps: {os.strerror(exc.errno).lower()}") from None
