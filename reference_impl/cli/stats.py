"""`stats`: the docker CLI's columns, computed as it computes them from the engine's
readings (engine/container_stats.py): CPU % from two readings INTERVAL apart, memory
without the inactive page cache, network and block I/O summed, sizes in go-units' words."""
from __future__ import annotations

import sys
import time

from reference_impl import humanize
from reference_impl.engine import container_stats
from reference_impl.engine.containers import ContainerService
from reference_impl.engine.records.container_views import ContainerListOptions

COLUMNS = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
           "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
           "PIDs": "PIDS"}
DEFAULT = ["ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"]
_CLEAR = "\033[2J\033[H"


def cmd_stats(store, args) -> int:
    service = ContainerService(store)
    if args.containers:
        wanted = [(name, service.get(name).id) for name in args.containers]  # NotFound: exit 1
    else:
        listed = service.list(ContainerListOptions(all=args.all))
        wanted = [(s.id[:12], s.id) for s in listed]

    def readings() -> dict[str, dict]:
        return {cid: service.stats(cid) for _, cid in wanted}
    previous = None
    if args.no_stream:  # as dockerd's stream=false: a second reading, INTERVAL after the first
        previous = readings()
        if any(r["read"] != container_stats.ZERO_TIME for r in previous.values()):
            time.sleep(container_stats.INTERVAL)
    while True:
        current = readings()
        rows = [record(container_stats.paired(current[cid], (previous or {}).get(cid)), shown_as, args.no_trunc)
                for shown_as, cid in wanted]
        if not args.no_stream:
            sys.stdout.write(_CLEAR)
        _print(rows, args.format)
        if args.no_stream:
            return 0
        sys.stdout.flush()
        previous = current
        time.sleep(container_stats.INTERVAL)


def _print(rows: list[dict], fmt: str | None) -> None:
    from reference_impl.cli import output
    if fmt:
        output.formatted(fmt, rows, COLUMNS, go_type="*formatter.statsContext")
    else:
        output.table([COLUMNS[c] for c in DEFAULT], [[r[c] for c in DEFAULT] for r in rows])


def record(doc: dict, shown_as: str, no_trunc: bool) -> dict:
    """The columns of one reading (paired with the one before it)."""
    memory = doc.get("memory_stats") or {}
    usage, limit = _memory_without_cache(memory), memory.get("limit", 0)
    received = sum(n.get("rx_bytes", 0) for n in (doc.get("networks") or {}).values())
    sent = sum(n.get("tx_bytes", 0) for n in (doc.get("networks") or {}).values())
    io = (doc.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    read = sum(e["value"] for e in io if e["op"].lower() == "read")
    written = sum(e["value"] for e in io if e["op"].lower() == "write")
    return {"Container": shown_as, "ID": doc["id"] if no_trunc else doc["id"][:12],
            "Name": doc["name"].removeprefix("/"), "CPUPerc": f"{cpu_percent(doc):.2f}%",
            "MemUsage": f"{humanize.binary_size(usage)} / {humanize.binary_size(limit)}",
            "MemPerc": f"{usage / limit * 100 if limit else 0:.2f}%",
            "NetIO": f"{humanize.size(received)} / {humanize.size(sent)}",
            "BlockIO": f"{humanize.size(read)} / {humanize.size(written)}",
            "PIDs": str((doc.get("pids_stats") or {}).get("current", 0))}


def cpu_percent(doc: dict) -> float:
    now, before = doc["cpu_stats"], doc["precpu_stats"]
    cpu = now["cpu_usage"]["total_usage"] - before["cpu_usage"]["total_usage"]
    system = now.get("system_cpu_usage", 0) - before.get("system_cpu_usage", 0)
    cpus = now.get("online_cpus") or len(now["cpu_usage"].get("percpu_usage") or [])
    return cpu / system * cpus * 100 if cpu > 0 and system > 0 else 0.0


def _memory_without_cache(memory: dict) -> int:
    usage, stats = memory.get("usage", 0), memory.get("stats") or {}
    if "total_inactive_file" in stats and stats["total_inactive_file"] < usage:   # cgroup v1
        return usage - stats["total_inactive_file"]
    if stats.get("inactive_file", 0) < usage:                                      # cgroup v2
        return usage - stats.get("inactive_file", 0)
    return usage
