"""`stats`: readings of a container's resource usage in the Engine API's JSON shape (the
docker CLI computes its columns from them, and so does strata's CLI: cli/stats.py).

A reading is taken from the container's cgroups (confinement/cgroups.usage), its network
namespace's counters (/proc/<pid>/net/dev) and the host's CPU time (/proc/stat). CPU % needs
two readings: as dockerd does, a reading is paired with the one taken INTERVAL earlier
(`paired`); `stream=false` waits for the second, `one-shot` does not. A container that does
not run gives dockerd's empty reading.
"""
from __future__ import annotations

import os

from reference_impl import humanize
from reference_impl.confinement import cgroups
from reference_impl.store.containers import Container

INTERVAL = 1.0          # seconds between two readings, as dockerd's collector
ZERO_TIME = "0001-01-01T00:00:00Z"
_BLKIO_KEYS = ("io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
               "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
               "io_time_recursive", "sectors_recursive")
_NET_KEYS = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "tx_bytes", "tx_packets", "tx_errors",
             "tx_dropped")


def reading(container: Container) -> dict:
    """One reading now, its precpu_stats empty."""
    if not container.running:
        return _empty(container)
    counted = cgroups.usage(container.id)
    usage = {"total_usage": counted["cpu_ns"],
             **({"percpu_usage": counted["percpu_ns"]} if counted["percpu_ns"] else {}),
             "usage_in_kernelmode": counted["system_ns"], "usage_in_usermode": counted["user_ns"]}
    cpu = {"cpu_usage": usage, "system_cpu_usage": _host_cpu_ns(), "online_cpus": os.cpu_count() or 1,
           "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
    return {"read": humanize.now_rfc3339(), "preread": ZERO_TIME,
            "pids_stats": {"current": counted["pids"] - len(_outside_the_pid_namespace(container))},
            "blkio_stats": {key: [] for key in _BLKIO_KEYS} | {"io_service_bytes_recursive": [
                {"major": 0, "minor": 0, "op": op.capitalize(), "value": value} for op, value in counted["io"]]},
            "num_procs": 0, "storage_stats": {}, "cpu_stats": cpu, "precpu_stats": _no_cpu(),
            "memory_stats": {"usage": counted["memory"], "max_usage": counted["max_memory"],
                             "stats": counted["memory_stat"],
                             "limit": min(counted["memory_limit"] or _host_memory(), _host_memory())},
            "name": "/" + container.name, "id": container.id,
            "networks": _networks(container.state.get("Pid", 0))}


def _outside_the_pid_namespace(container: Container) -> list[int]:
    """Processes the container's groups count that are none of its own: the health probe
    launcher (lifecycle/probe_launcher) joins the groups, so that its probes are born in
    them, but not the PID namespace. dockerd's probes come and go; this one stays."""
    try:
        own = os.readlink(f"/proc/{container.state.get('Pid', 0)}/ns/pid")
    except OSError:
        return []
    outside = []
    for pid in cgroups.members(container.id):
        try:
            if os.readlink(f"/proc/{pid}/ns/pid") != own:
                outside.append(pid)
        except OSError:  # gone meanwhile
            continue
    return outside


def paired(current: dict, previous: dict | None) -> dict:
    """`current` with the CPU counters of the reading before it (what CPU % is taken from)."""
    if previous is None or previous["read"] == ZERO_TIME:
        return current
    return {**current, "preread": previous["read"], "precpu_stats": previous["cpu_stats"]}


def _empty(container: Container) -> dict:
    return {"read": ZERO_TIME, "preread": ZERO_TIME, "pids_stats": {},
            "blkio_stats": {key: None for key in _BLKIO_KEYS}, "num_procs": 0, "storage_stats": {},
            "cpu_stats": _no_cpu(), "precpu_stats": _no_cpu(), "memory_stats": {},
            "name": "/" + container.name, "id": container.id}


def _no_cpu() -> dict:
    return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def _host_cpu_ns() -> int:
    """The host's CPU time (every state but guest) since boot, in ns, as dockerd sums it."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:8]
    return sum(int(v) for v in fields) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _host_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _networks(pid: int) -> dict:
    """Per interface of the container's namespace (lo left out, as dockerd does)."""
    found = {}
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.read().splitlines()[2:]
    except OSError:
        return found
    for line in lines:
        name, _, counters = line.partition(":")
        name, values = name.strip(), [int(v) for v in counters.split()]
        if name == "lo" or len(values) < 16:
            continue
        received, sent = values[0:4], values[8:12]
        found[name] = dict(zip(_NET_KEYS, received + sent))
    return found
