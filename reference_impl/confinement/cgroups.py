"""A cgroup per container, named by its id under `strata/`, with its limits; cgroup v1
(one hierarchy per controller, as here) or v2 (unified), chosen by what /sys/fs/cgroup is.

The container's init joins it (writes "0" to tasks, v2: cgroup.procs) before it enters its root;
the shim reads whether the OOM killer struck and removes it once the container exited;
`usage` reads what `stats` shows (cpuacct and blkio are joined for that alone)."""
from __future__ import annotations

import errno
import functools
import os
import time
from pathlib import Path

from reference_impl.confinement.settings import CPU_PERIOD, Confinement

ROOT = Path("/sys/fs/cgroup")
PARENT = "strata"
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer", "blkio")
V2_CONTROLLERS = ("memory", "cpu", "cpuset", "pids")

# Docker's default device rules (runc's defaults plus /dev/net/tun): mknod of anything,
# read/write only of the harmless character devices. Block devices cannot be opened.
DEVICE_RULES = ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 136:* rwm"]


class CgroupError(OSError):
    pass


def unified() -> bool:
    return _unified_at(ROOT)


@functools.cache
def _unified_at(root: Path) -> bool:
    """A host's cgroup mode does not change while it runs (asked for every container `ps` lists)."""
    return (root / "cgroup.controllers").exists()


def enforces_devices() -> bool:
    """Whether the container's group refuses devices (v1's devices controller; v2 would
    need an eBPF program, which this engine does not load: the shim mounts nodev there)."""
    return not unified() and (ROOT / "devices").is_dir()


def paths(container_id: str) -> list[Path]:
    if unified():
        return [ROOT / PARENT / container_id]
    return [_v1_group(c, container_id) for c in V1_CONTROLLERS if (ROOT / c).is_dir()]


def _v1_group(controller: str, container_id: str) -> Path:
    return ROOT / controller / PARENT / container_id


def _write(path: Path, value) -> None:
    try:
        with open(path, "w") as f:
            f.write(str(value))
    except OSError as exc:
        raise CgroupError(exc.errno, f"failed to write {value!r} to {path}: {exc.strerror}") from None


def _read(path: Path) -> str:
    with open(path) as f:
        return f.read().strip()


def create(container_id: str, settings: Confinement) -> list[Path]:
    """Make the container's cgroup(s) and write its limits; returns their paths."""
    return _create_v2(container_id, settings) if unified() else _create_v1(container_id, settings)


def _create_v1(container_id: str, s: Confinement) -> list[Path]:
    made = []
    try:
        for controller in V1_CONTROLLERS:
            base = ROOT / controller
            if not base.is_dir():
                continue
            parent = base / PARENT
            parent.mkdir(exist_ok=True)
            group = parent / container_id
            group.mkdir(exist_ok=True)
            made.append(group)
            if controller == "cpuset":
                for name in ("cpuset.cpus", "cpuset.mems"):  # empty in a new group: copy the parent's
                    if not _read(parent / name):
                        _write(parent / name, _read(base / name))
                _write(group / "cpuset.cpus", s.cpuset_cpus or _read(parent / "cpuset.cpus"))
                _write(group / "cpuset.mems", _read(parent / "cpuset.mems"))
            elif controller == "memory" and s.memory:
                _write(group / "memory.limit_in_bytes", s.memory)
                if (group / "memory.memsw.limit_in_bytes").exists():
                    _write(group / "memory.memsw.limit_in_bytes", s.memory_swap)
            elif controller == "cpu":
                if s.cpu_shares:
                    _write(group / "cpu.shares", s.cpu_shares)
                if s.nano_cpus:
                    _write(group / "cpu.cfs_period_us", CPU_PERIOD)
                    _write(group / "cpu.cfs_quota_us", s.nano_cpus * CPU_PERIOD // 1_000_000_000)
            elif controller == "pids":
                _write(group / "pids.max", s.pids_limit if s.pids_limit else "max")
            elif controller == "devices":
                if s.privileged:
                    _write(group / "devices.allow", "a")
                else:
                    _write(group / "devices.deny", "a")
                    for rule in DEVICE_RULES:
                        _write(group / "devices.allow", rule)
    except BaseException:
        remove(container_id)
        raise
    return made


def _create_v2(container_id: str, s: Confinement) -> list[Path]:
    parent = ROOT / PARENT
    parent.mkdir(exist_ok=True)
    available = set(_read(ROOT / "cgroup.controllers").split())
    wanted = [c for c in V2_CONTROLLERS if c in available]
    for level in (ROOT, parent):
        _write(level / "cgroup.subtree_control", " ".join("+" + c for c in wanted))
    group = parent / container_id
    group.mkdir(exist_ok=True)
    try:
        if s.memory:
            _write(group / "memory.max", s.memory)
            if (group / "memory.swap.max").exists():
                _write(group / "memory.swap.max", "max" if s.memory_swap < 0 else s.memory_swap - s.memory)
        if s.cpu_shares:  # runc's conversion of shares [2, 262144] to weight [1, 10000]
            _write(group / "cpu.weight", 1 + ((s.cpu_shares - 2) * 9999) // 262142)
        if s.nano_cpus:
            _write(group / "cpu.max", f"{s.nano_cpus * CPU_PERIOD // 1_000_000_000} {CPU_PERIOD}")
        if s.cpuset_cpus:
            _write(group / "cpuset.cpus", s.cpuset_cpus)
        if s.pids_limit:
            _write(group / "pids.max", s.pids_limit)
        # The device rules of cgroup v2 are an eBPF program (BPF_CGROUP_DEVICE); not done here.
    except BaseException:
        remove(container_id)
        raise
    return [group]


def update(container_id: str, s: Confinement) -> None:
    """Write new limits to the groups of a running container (`update`)."""
    if unified():
        group = ROOT / PARENT / container_id
        writes = [("memory.max", s.memory or "max"), ("cpu.max", f"{s.nano_cpus * CPU_PERIOD // 1_000_000_000 or 'max'} "
                                                               f"{CPU_PERIOD}"),
                  ("pids.max", s.pids_limit or "max")]
        if s.memory and (group / "memory.swap.max").exists():
            writes.append(("memory.swap.max", "max" if s.memory_swap < 0 else s.memory_swap - s.memory))
        if s.cpu_shares:
            writes.append(("cpu.weight", 1 + ((s.cpu_shares - 2) * 9999) // 262142))
        if s.cpuset_cpus:
            writes.append(("cpuset.cpus", s.cpuset_cpus))
        for name, value in writes:
            _write(group / name, value)
        return

    def v1(controller: str) -> Path:
        return _v1_group(controller, container_id)
    if s.memory:
        limits = [("memory.limit_in_bytes", s.memory)]
        if (v1("memory") / "memory.memsw.limit_in_bytes").exists():
            limits.append(("memory.memsw.limit_in_bytes", s.memory_swap))
        try:
            for name, value in limits:
                _write(v1("memory") / name, value)
        except CgroupError:  # the kernel keeps memory <= memory+swap: the other order
            for name, value in reversed(limits):
                _write(v1("memory") / name, value)
    _write(v1("cpu") / "cpu.cfs_period_us", CPU_PERIOD)
    _write(v1("cpu") / "cpu.cfs_quota_us", s.nano_cpus * CPU_PERIOD // 1_000_000_000 if s.nano_cpus else -1)
    if s.cpu_shares:
        _write(v1("cpu") / "cpu.shares", s.cpu_shares)
    if s.cpuset_cpus:
        _write(v1("cpuset") / "cpuset.cpus", s.cpuset_cpus)
    _write(v1("pids") / "pids.max", s.pids_limit or "max")


def join(groups: list[Path]) -> None:
    """Move the calling process, which has one thread (it was just forked), into the groups.
    On v1 "0" goes to `tasks`: that moves the writing thread only, and the kernel then skips
    the global lock that moving a thread group (cgroup.procs) takes, each taking of which
    first waits out an RCU grace period: 8-20 ms of every start on this host."""
    name = "cgroup.procs" if unified() else "tasks"
    for group in groups:
        _write(group / name, 0)


def mount_view(root: str, groups: list[Path]) -> None:
    """The container's own groups at its /sys/fs/cgroup, read-only, as Docker shows them
    (a tmpfs with one directory per v1 controller, or the v2 group itself)."""
    from reference_impl import syscalls as sc
    target = f"{root}/sys/fs/cgroup"
    flags = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
    if unified():
        for group in groups:
            sc.mount(str(group), target, None, sc.MS_BIND)
            sc.mount(str(group), target, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | flags)
        return
    sc.mount("tmpfs", target, "tmpfs", flags, "mode=755")
    for group in groups:
        controller = group.parent.parent.name
        os.mkdir(f"{target}/{controller}")
        sc.mount(str(group), f"{target}/{controller}", None, sc.MS_BIND)
        sc.mount(str(group), f"{target}/{controller}", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | flags)
    sc.mount("tmpfs", target, None, sc.MS_REMOUNT | sc.MS_RDONLY | flags, "mode=755")


def oom_killed(container_id: str) -> bool:
    """Whether the kernel's OOM killer killed a process of the container."""
    groups = paths(container_id) if unified() else [_v1_group("memory", container_id)]  # v1: its memory group's
    for group in groups:
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = _read(group / name)
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
    return False


def remove(container_id: str) -> None:
    """Remove the container's groups (once its processes are gone; a few tries while they exit)."""
    for group in paths(container_id):
        for attempt in range(50):
            try:
                group.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY or attempt == 49:
                    break
                time.sleep(0.01)


def members(container_id: str) -> list[int]:
    """Pids of the processes in the container's groups (its pids group's, on cgroup v1)."""
    group = ROOT / PARENT / container_id if unified() else _v1_group("pids", container_id)
    try:
        return [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def usage(container_id: str) -> dict:
    """What the container's groups have counted: {"cpu_ns", "percpu_ns", "user_ns",
    "system_ns", "memory", "max_memory", "memory_limit", "memory_stat" (memory.stat's
    counters), "pids", "io" [(op, bytes)]}; zeros for what this host does not count."""
    found = {"cpu_ns": 0, "percpu_ns": [], "user_ns": 0, "system_ns": 0, "memory": 0, "max_memory": 0,
             "memory_limit": 0, "memory_stat": {}, "pids": 0, "io": []}
    if unified():
        group = ROOT / PARENT / container_id
        cpu = _counters(group / "cpu.stat")
        found.update(cpu_ns=cpu.get("usage_usec", 0) * 1000, user_ns=cpu.get("user_usec", 0) * 1000,
                     system_ns=cpu.get("system_usec", 0) * 1000, memory=_number(group / "memory.current"),
                     max_memory=_number(group / "memory.peak"), memory_limit=_number(group / "memory.max"),
                     memory_stat=_counters(group / "memory.stat"), pids=_number(group / "pids.current"))
        for line in _text(group / "io.stat").splitlines():
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            found["io"] += [("read", int(fields.get("rbytes", 0))), ("write", int(fields.get("wbytes", 0)))]
        return found

    def v1(controller: str, name: str) -> Path:
        return _v1_group(controller, container_id) / name
    ticks = os.sysconf("SC_CLK_TCK")
    times = _counters(v1("cpuacct", "cpuacct.stat"))
    found.update(cpu_ns=_number(v1("cpuacct", "cpuacct.usage")),
                 percpu_ns=[int(n) for n in _text(v1("cpuacct", "cpuacct.usage_percpu")).split()],
                 user_ns=times.get("user", 0) * 1_000_000_000 // ticks,
                 system_ns=times.get("system", 0) * 1_000_000_000 // ticks,
                 memory=_number(v1("memory", "memory.usage_in_bytes")),
                 max_memory=_number(v1("memory", "memory.max_usage_in_bytes")),
                 memory_limit=_number(v1("memory", "memory.limit_in_bytes")),
                 memory_stat=_counters(v1("memory", "memory.stat")), pids=_number(v1("pids", "pids.current")))
    for line in _text(v1("blkio", "blkio.throttle.io_service_bytes_recursive")).splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2].isdigit():
            found["io"].append((fields[1].lower(), int(fields[2])))
    return found


def _text(path: Path) -> str:
    try:
        return _read(path)
    except OSError:  # not counted here (a controller this host lacks), or the group is gone
        return ""


def _number(path: Path) -> int:
    text = _text(path)
    return int(text) if text.isdigit() else 0


def _counters(path: Path) -> dict[str, int]:
    """`key value` lines (memory.stat, cpu.stat, cpuacct.stat)."""
    found = {}
    for line in _text(path).splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            found[key] = int(value)
    return found
