"""Linux capabilities: Docker's names and defaults, the set a container gets
(`--privileged`, `--cap-add`, `--cap-drop`), and dropping to it before exec."""
from __future__ import annotations

import ctypes

from reference_impl import syscalls as sc

# Kernel numbering (linux/capability.h), index = bit.
NAMES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]
BIT = {name: i for i, name in enumerate(NAMES)}

# Docker's default set (moby oci/caps/defaults.go): 14 capabilities, mask 0xa80425fb.
DEFAULT = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
           "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
           "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
ALL = "ALL"


class UnknownCapability(ValueError):
    pass


def normalize(names: list[str] | None) -> list[str]:
    """"chown", "cap_chown" -> "CAP_CHOWN"; "all" -> "ALL"; unknown names refused as Docker words it."""
    found = []
    for name in names or []:
        upper = name.upper()
        if upper == ALL:
            found.append(ALL)
            continue
        if not upper.startswith("CAP_"):
            upper = "CAP_" + upper
        if upper not in BIT:
            raise UnknownCapability(f'unknown capability: "{upper}"')
        found.append(upper)
    return found


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def all_caps() -> list[str]:
    """Every capability this kernel knows, as `--privileged` and `--cap-add ALL` ask for."""
    return NAMES[:min(last_cap(), len(NAMES) - 1) + 1]


def effective_set(privileged: bool, cap_add: list[str] | None, cap_drop: list[str] | None) -> list[str]:
    """The container's capabilities, as dockerd tweaks its defaults."""
    if privileged:
        return all_caps()
    adds, drops = normalize(cap_add), normalize(cap_drop)
    if ALL in adds:
        return [c for c in all_caps() if c not in drops]
    if ALL in drops:
        return [c for c in adds if c != ALL]
    return [c for c in DEFAULT if c not in drops] + [c for c in adds if c not in DEFAULT]


def mask(names: list[str]) -> int:
    value = 0
    for name in names:
        value |= 1 << BIT[name]
    return value


# --- applying (in the container's init, before exec) --------------------------------------------

_PR_CAPBSET_DROP = 24
_PR_SET_KEEPCAPS = 8
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_bounding(keep: int) -> None:
    """Remove from the bounding set every capability not in `keep` (needs CAP_SETPCAP)."""
    for bit in range(last_cap() + 1):
        if not keep & (1 << bit):
            sc.prctl(_PR_CAPBSET_DROP, bit)


def keep_across_setuid() -> None:
    sc.prctl(_PR_SET_KEEPCAPS, 1)


def set_process_caps(keep: int) -> None:
    """Permitted = effective = `keep`, inheritable = ambient = 0, as runc leaves a container's
    process: root keeps them across exec, any other user loses them there."""
    header = _Header(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)()
    for i in range(2):
        word = (keep >> (32 * i)) & 0xFFFFFFFF
        data[i].effective = data[i].permitted = word
        data[i].inheritable = 0
    sc.capset(ctypes.byref(header), data)
    sc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
