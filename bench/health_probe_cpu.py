#!/usr/bin/env python3
"""CPU time of one health probe on strata (goal: < 5 ms each, issue 20), and on Docker.

    STRATA_ROOT=... .venv/bin/python bench/health_probe_cpu.py [-n 10] [--interval 1] [--docker | --floor]

strata: runs a container with `--health-cmd true --health-interval 1s` (--interval) and reads,
from /proc, the CPU time (user + system, its own and its reaped children's) of the shim's
health monitor and its living children (the probe launcher, which starts each probe), over n
probes.

--docker: the same container on dockerd; a probe there is dockerd's exec through containerd,
the container's containerd-shim and runc. Their CPU time (dockerd, containerd, the shim and
what the shim reaped) over n probes, less what the same processes spend over as long with
the same container run without a health check, divided by n.
"""
import argparse
import json
import os
import time
from pathlib import Path

from common import STRATA, BaseImages, sh


def _monitor_pid(shim: int) -> int:
    children = Path(f"/proc/{shim}/task/{shim}/children").read_text().split()
    return int(children[-1])  # forked after the container's namespace parent


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its descendants, living ones included (the probe
    launcher lives as long as the monitor)."""
    total = _cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += _tree_cpu(int(child))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return total


def _starts(health_file: Path) -> set[str]:
    """The Start times of the probes the health file keeps."""
    try:
        return {entry["Start"] for entry in json.loads(health_file.read_text())["Log"]}
    except (FileNotFoundError, ValueError):
        return set()


def _probes(name: str) -> int:
    health = json.loads(sh([STRATA, "inspect", "-f", "{{json .State.Health}}", name]).stdout)
    return len(health["Log"])


def _process_cpu(names: tuple[str, ...]) -> dict[int, float]:
    """CPU seconds so far of every process whose command name is one of `names`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in names:
                found[int(entry.name)] = _cpu_seconds(int(entry.name))
        except OSError:
            continue
    return found


_DOCKER_SIDE = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "runc")


def _docker_cpu(ref: str, health: bool, seconds: float, interval: float) -> tuple[float, int]:
    """CPU seconds Docker's processes spent over `seconds` with one container running (a
    health check every `interval` or none), and how many probes started meanwhile (the log
    keeps five: read often enough)."""
    name = f"strata-bench-health-docker-{os.getpid()}"
    flags = ["--health-cmd", "true", "--health-interval", f"{interval}s"] if health else []
    sh(["docker", "run", "-d", "--name", name, *flags, ref, "sleep", "600"])
    try:
        time.sleep(max(interval, 1.0) * 2)  # the start's own work, and the first probes, before measuring
        seen = _docker_starts(name)
        before, started, probes = _process_cpu(_DOCKER_SIDE), time.monotonic(), 0
        while time.monotonic() - started < seconds:
            time.sleep(min(interval / 2, 0.5))
            fresh = _docker_starts(name) - seen
            probes += len(fresh)
            seen |= fresh
        after = _process_cpu(_DOCKER_SIDE)
    finally:
        sh(["docker", "rm", "-f", name])
    # the polling `docker inspect` costs dockerd CPU too: the run without a health check polls alike
    return sum(after[pid] - before[pid] for pid in after if pid in before), probes


def _docker_starts(name: str) -> set[str]:
    health = json.loads(sh(["docker", "inspect", "-f", "{{json .State.Health}}", name]).stdout) or {}
    return {entry["Start"] for entry in health.get("Log") or []}


def docker_main(n: int, interval: float) -> None:
    seconds = n * interval
    with BaseImages({"docker": ["docker"]}) as ref:
        idle, _ = _docker_cpu(ref, False, seconds, interval)
        busy, probes = _docker_cpu(ref, True, seconds, interval)
    print(f"docker: {probes} probes in {seconds:.0f} s: {busy * 1000:.0f} ms CPU, {idle * 1000:.0f} ms without "
          f"probes, {(busy - idle) * 1000 / max(probes, 1):.1f} ms a probe")


_WAKER = """
import os, sys, time
interval, n, spawn = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "spawn"
time.sleep(interval)
before = os.times()
for _ in range(n):
    time.sleep(interval)
    if spawn:
        os.waitpid(os.posix_spawn("/bin/true", ["true"], {}), 0)
after = os.times()
print((after.user + after.system + after.children_user + after.children_system
       - before.user - before.system - before.children_user - before.children_system) / n)
"""


def floor_main(n: int, interval: float) -> None:
    """What this machine charges, at that interval, for waking a process that only sleeps, and
    for that plus starting /bin/true (vfork and exec): a probe costs at least the second."""
    import subprocess
    import sys
    for what, label in (("wake", "wakes"), ("spawn", "wakes and starts /bin/true")):
        per = float(subprocess.run([sys.executable, "-c", _WAKER, str(interval), str(n), what], capture_output=True,
                                   text=True, check=True).stdout)
        print(f"floor: a bare Python that sleeps {interval:g} s and {label}, {n} times: {per * 1000:.1f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10, help="probes to measure (default 10; the log keeps 5)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between probes (default 1; a shorter one measures probes whose pages "
                             "the kernel has not reclaimed since the last)")
    parser.add_argument("--docker", action="store_true", help="measure Docker's probes instead")
    parser.add_argument("--floor", action="store_true",
                        help="measure only what waking a process, and starting /bin/true from it, costs here "
                             "at that interval")
    args = parser.parse_args()
    if args.floor:
        floor_main(args.n, args.interval)
        return
    if args.docker:
        docker_main(args.n, args.interval)
        return
    name = f"strata-bench-health-{os.getpid()}"
    with BaseImages({"strata": [STRATA]}) as ref:
        sh([STRATA, "run", "-d", "--name", name, "--health-cmd", "true", "--health-interval", f"{args.interval}s",
            ref, "sleep", "600"])
        try:
            cid = sh([STRATA, "inspect", "-f", "{{.Id}}", name]).stdout.strip()
            root = Path(os.environ.get("STRATA_ROOT", "/var/lib/strata"))
            shim = json.loads((root / "containers" / cid / "state.json").read_text())["ShimPid"]
            monitor = _monitor_pid(shim)
            while _probes(name) < 1:
                time.sleep(0.1)
            health_file = root / "containers" / cid / "health.json"
            seen, probes = _starts(health_file), 0
            before, started = _tree_cpu(monitor), time.monotonic()
            while probes < args.n:  # the file keeps the last 5 probes: read it often enough
                time.sleep(min(args.interval / 2, 0.1))
                fresh = _starts(health_file) - seen
                probes += len(fresh)
                seen |= fresh
            spent, elapsed = _tree_cpu(monitor) - before, time.monotonic() - started
            print(f"{probes} probes in {elapsed:.1f} s: {spent * 1000:.0f} ms CPU, "
                  f"{spent * 1000 / probes:.1f} ms a probe (goal < 5 ms)")
        finally:
            sh([STRATA, "rm", "-f", name])


if __name__ == "__main__":
    main()
