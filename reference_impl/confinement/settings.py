"""One container's security and resource settings, typed, read from and written to the
HostConfig of its record under Docker's field names, and checked as dockerd checks them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from reference_impl.confinement import capabilities, seccomp

MIN_MEMORY = 6 * 1024 * 1024
CPU_PERIOD = 100_000  # µs; --cpus is a quota of this period, as dockerd writes it

# Docker's lists (moby oci/defaults.go); a path the kernel lacks is skipped.
MASKED_PATHS = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

# --ulimit names (go-units) -> Linux RLIMIT_* numbers (Python's resource module lacks some)
ULIMITS = {"cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7,
           "memlock": 8, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13, "rtprio": 14,
           "rttime": 15}

# HostConfig fields of the same family this engine does not implement: a value other than
# the zero one is refused, never accepted and ignored.
NOT_IMPLEMENTED = ["CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetMems",
                   "CpuCount", "CpuPercent", "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps",
                   "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps",
                   "IOMaximumIOps", "IOMaximumBandwidth", "MemoryReservation", "MemorySwappiness",
                   "KernelMemory", "KernelMemoryTCP", "OomKillDisable", "OomScoreAdj", "Devices",
                   "DeviceCgroupRules", "DeviceRequests", "CgroupParent", "Sysctls",
                   "UsernsMode", "CgroupnsMode"]
_ZERO_OK = {"CgroupnsMode": ("", "host"), "UsernsMode": ("", "host"), "MemorySwappiness": (-1,)}


class SettingsError(ValueError):
    """Refused as dockerd refuses it (400 through the API, 125 from `run`)."""


@dataclass
class Confinement:
    privileged: bool = False
    cap_add: list[str] | None = None
    cap_drop: list[str] | None = None
    security_opt: list[str] | None = None
    readonly_rootfs: bool = False
    memory: int = 0
    memory_swap: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    pids_limit: int | None = None
    ulimits: list[dict] | None = None
    warnings: list[str] = field(default_factory=list, compare=False)

    # --- reading and writing HostConfig -----------------------------------------------------

    @classmethod
    def from_host_config(cls, host: dict) -> "Confinement":
        """Read a HostConfig (an API request's or a stored record's), validate and normalize it."""
        for name in NOT_IMPLEMENTED:
            value = host.get(name)
            if value not in (None, 0, "", [], {}, False) and value not in _ZERO_OK.get(name, ()):
                raise SettingsError(f"invalid HostConfig: {name} is not supported by this engine")
        pids = host.get("PidsLimit")
        settings = cls(privileged=bool(host.get("Privileged")), cap_add=_list(host.get("CapAdd")),
                       cap_drop=_list(host.get("CapDrop")), security_opt=_list(host.get("SecurityOpt")),
                       readonly_rootfs=bool(host.get("ReadonlyRootfs")),
                       memory=_int(host, "Memory"), memory_swap=_int(host, "MemorySwap"),
                       nano_cpus=_int(host, "NanoCpus"), cpu_shares=_int(host, "CpuShares"),
                       cpuset_cpus=host.get("CpusetCpus") or "",
                       pids_limit=int(pids) if pids else None,
                       ulimits=list(host["Ulimits"]) if isinstance(host.get("Ulimits"), list) else None)
        settings._validate()
        return settings

    def host_config(self) -> dict:
        """The HostConfig fields as `inspect` shows them."""
        return {"Privileged": self.privileged, "CapAdd": self.cap_add, "CapDrop": self.cap_drop,
                "SecurityOpt": self.security_opt, "ReadonlyRootfs": self.readonly_rootfs,
                "Memory": self.memory, "MemorySwap": self.memory_swap, "NanoCpus": self.nano_cpus,
                "CpuShares": self.cpu_shares, "CpusetCpus": self.cpuset_cpus, "PidsLimit": self.pids_limit,
                "Ulimits": self.ulimits,
                "MaskedPaths": None if self.privileged else list(MASKED_PATHS),
                "ReadonlyPaths": None if self.privileged else list(READONLY_PATHS)}

    # --- what the container gets ------------------------------------------------------------

    def capabilities(self) -> list[str]:
        return capabilities.effective_set(self.privileged, self.cap_add, self.cap_drop)

    def seccomp_profile(self) -> seccomp.Profile | None:
        """The profile to load, or None (unconfined, privileged)."""
        value = self._security_value("seccomp")
        if self.privileged or value == seccomp.UNCONFINED:
            return None
        return seccomp.Profile(value) if value else seccomp.Profile.default()

    def custom_seccomp(self) -> bool:
        """A profile of the user's is loaded (neither Docker's default nor none)."""
        value = self._security_value("seccomp")
        return not self.privileged and bool(value) and value != seccomp.UNCONFINED

    def no_new_privileges(self) -> bool:
        value = self._security_value("no-new-privileges")
        return value is not None and value.lower() in ("", "1", "t", "true")

    def rlimits(self) -> list[tuple[int, int, int]]:
        return [(ULIMITS[u["Name"]], int(u["Soft"]), int(u["Hard"])) for u in self.ulimits or []]

    # --- checks ------------------------------------------------------------------------------

    def _security_value(self, key: str) -> str | None:
        for opt in self.security_opt or []:
            name, value = _split_opt(opt)
            if name == key:
                return value
        return None

    def _validate(self) -> None:
        for what, names in (("CapAdd", self.cap_add), ("CapDrop", self.cap_drop)):
            try:
                capabilities.normalize(names)
            except capabilities.UnknownCapability as exc:
                raise SettingsError(f"invalid {what}: {exc}") from None
        self._validate_security_opt()
        if self.memory and self.memory < MIN_MEMORY:
            raise SettingsError("Minimum memory limit allowed is 6MB")
        if self.memory_swap > 0 and not self.memory:
            raise SettingsError("You should always set the Memory limit when using Memoryswap limit, see usage")
        if self.memory_swap > 0 and self.memory_swap < self.memory:
            raise SettingsError("Minimum memoryswap limit should be larger than memory limit, see usage")
        if self.memory and self.memory_swap != -1 and not _swap_limit_supported():
            self.warnings.append("Your kernel does not support swap limit capabilities or the cgroup is "
                                 "not mounted. Memory limited without swap.")
            self.memory_swap = -1
        if self.memory and not self.memory_swap:
            self.memory_swap = 2 * self.memory  # dockerd's default: as much swap as memory
        if self.nano_cpus:
            count = os.cpu_count() or 1
            if not 10_000_000 <= self.nano_cpus <= count * 1_000_000_000:
                raise SettingsError(f"Range of CPUs is from 0.01 to {count}.00, as there are only "
                                    f"{count} CPUs available")
        if self.cpuset_cpus:
            _check_cpuset(self.cpuset_cpus)
        if self.pids_limit is not None and self.pids_limit <= 0:
            self.pids_limit = None  # 0 and -1: unlimited, shown as null
        for u in self.ulimits or []:
            if u.get("Name") not in ULIMITS:
                raise SettingsError(f"invalid ulimit type: {u.get('Name')}")
            if int(u.get("Soft", 0)) > int(u.get("Hard", 0)):
                raise SettingsError(f"ulimit soft limit must be less than or equal to hard limit: "
                                    f"{u['Soft']} > {u['Hard']}")
        if self.privileged and "label=disable" not in (self.security_opt or []):
            self.security_opt = [*(self.security_opt or []), "label=disable"]

    def _validate_security_opt(self) -> None:
        for opt in self.security_opt or []:
            name, value = _split_opt(opt)
            if name is None:
                raise SettingsError(f"invalid --security-opt 1: {opt!r}".replace("'", '"'))
            if name == "seccomp":
                if value != seccomp.UNCONFINED:
                    try:
                        seccomp.parse(value)
                    except seccomp.ProfileError as exc:
                        raise SettingsError(str(exc)) from None
            elif name == "no-new-privileges":
                if value.lower() not in ("", "1", "0", "t", "f", "true", "false"):
                    raise SettingsError(f'invalid --security-opt 2: "{opt}"')
            elif (name, value) in (("apparmor", "unconfined"), ("label", "disable")):
                continue  # nothing to lift: this engine confines with neither
            elif name in ("apparmor", "label"):
                raise SettingsError(f'invalid --security-opt 2: "{opt}": this engine does not confine '
                                    f"with AppArmor or SELinux")
            else:
                raise SettingsError(f'invalid --security-opt 2: "{opt}"')


def _swap_limit_supported() -> bool:
    """cgroup v1 with swap accounting (memory.memsw.*), or v2 (memory.swap.max)."""
    root = "/sys/fs/cgroup"
    return os.path.exists(f"{root}/cgroup.controllers") or os.path.exists(f"{root}/memory/memory.memsw.limit_in_bytes")


def _split_opt(opt: str) -> tuple[str | None, str]:
    """dockerd's reading: "no-new-privileges" alone, "key=value", or the older "key:value"."""
    if opt in ("no-new-privileges", "disable"):
        return ("no-new-privileges", "") if opt == "no-new-privileges" else ("label", "disable")
    for sep in ("=", ":"):
        if sep in opt:
            name, _, value = opt.partition(sep)
            return name, value
    return None, ""


def _check_cpuset(text: str) -> None:
    count = os.cpu_count() or 1
    try:
        wanted = set()
        for part in text.split(","):
            low, _, high = part.partition("-")
            wanted.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise SettingsError(f"Invalid value {text} for cpuset cpus") from None
    if max(wanted) >= count:
        available = "0" if count == 1 else f"0-{count - 1}"
        raise SettingsError(f"Requested CPUs are not available - requested {text}, available: {available}")


def _list(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value) or None


def _int(host: dict, name: str) -> int:
    value = host.get(name) or 0
    if not isinstance(value, int):
        raise SettingsError(f"invalid HostConfig: {name} must be an integer")
    return value


# --- update -----------------------------------------------------------------------------------

UPDATABLE = ("Memory", "MemorySwap", "NanoCpus", "CpuShares", "CpusetCpus", "PidsLimit")


def updated_host_config(host: dict, given: dict, container_id: str) -> tuple[dict, "Confinement"]:
    """The HostConfig after `update` of the resource fields in `given` (zero: unchanged, as
    the docker CLI sends unset flags; PidsLimit -1: unlimited), checked as dockerd checks it,
    and the settings it makes."""
    changed = {k: v for k, v in given.items() if k in UPDATABLE and v not in (None, 0, "")}
    memory, swap = changed.get("Memory"), changed.get("MemorySwap")
    current_swap = host.get("MemorySwap") or 0
    if memory and swap is None and current_swap != -1 and memory > current_swap:
        raise SettingsError(f"Cannot update container {container_id}: Memory limit should be smaller than "
                            "already set memoryswap limit, update the memoryswap at the same time")
    if changed.get("PidsLimit") == -1:
        changed["PidsLimit"] = None
    new = {**host, **changed}
    return new, Confinement.from_host_config(new)   # dockerd's checks (minimum memory, CPUs…)
