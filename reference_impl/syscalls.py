"""Linux system calls Python 3.11 lacks (unshare, setns, mount, pivot_root, prctl, capset), via libc."""
from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct

# the C library Python itself is linked with (find_library would run ldconfig: ~15 ms a command)
_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
SYS_pivot_root = 155  # x86_64


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def umount2(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(target.encode(), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.syscall(SYS_pivot_root, new_root.encode(), put_old.encode()), "pivot_root")


def sethostname(name: str) -> None:
    data = name.encode()
    _check(_libc.sethostname(data, len(data)), "sethostname")


def setdomainname(name: str) -> None:
    data = name.encode()
    _check(_libc.setdomainname(data, len(data)), "setdomainname")


def loopback_up() -> None:
    """ip link set lo up, without running ip."""
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0))
        flags = struct.unpack("16sH14x", ifreq)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    result = _libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(arg4),
                         ctypes.c_ulong(arg5))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl {option}: {os.strerror(err)}")
    return result


SYS_capset = 126  # x86_64


def capset(header, data) -> None:
    _check(_libc.syscall(SYS_capset, header, data), "capset")


_CLOSE_RANGE_CLOEXEC = 4


def close_on_exec_from(low: int) -> None:
    """Every descriptor from `low` up closes at the next exec (close_range's CLOEXEC flag, or
    each open one marked): what a container's process gets is 0, 1 and 2, as runc leaves it."""
    close_range = getattr(_libc, "close_range", None)
    if close_range is not None and close_range(low, 0xFFFFFFFF, _CLOSE_RANGE_CLOEXEC) == 0:
        return
    for fd in _open_descriptors():
        if fd >= low:
            try:
                os.set_inheritable(fd, False)
            except OSError:  # the listing's own descriptor, closed by now
                pass


def close_inherited_from(low: int) -> None:
    """Close every inheritable descriptor from `low` up: they came from whoever started this
    process (Python opens its own non-inheritable)."""
    for fd in _open_descriptors():
        try:
            if fd >= low and os.get_inheritable(fd):
                os.close(fd)
        except OSError:  # the listing's own descriptor, closed by now
            pass


def close_all_but(keep: set[int]) -> None:
    for fd in _open_descriptors():
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:  # the listing's own descriptor, closed by now
                pass


def _open_descriptors() -> list[int]:
    return [int(name) for name in os.listdir("/proc/self/fd")]
