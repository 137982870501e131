#!/usr/bin/env python3
"""CPU time of one health probe on strata (goal: < 5 ms each, issue 20).

    STRATA_ROOT=... .venv/bin/python bench/health_probe_cpu.py [-n 10]

Runs a container with `--health-cmd true --health-interval 1s` (--interval) and reads, from /proc, the
CPU time (user + system, its own and its reaped children's) of the shim's health monitor,
which forks each probe, over n probes.
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


def _starts(health_file: Path) -> set[str]:
    """The Start times of the probes the health file keeps."""
    try:
        return {entry["Start"] for entry in json.loads(health_file.read_text())["Log"]}
    except (FileNotFoundError, ValueError):
        return set()


def _probes(name: str) -> int:
    health = json.loads(sh([STRATA, "inspect", "-f", "{{json .State.Health}}", name]).stdout)
    return len(health["Log"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10, help="probes to measure (default 10; the log keeps 5)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between probes (default 1; a shorter one measures probes whose pages "
                             "the kernel has not reclaimed since the last)")
    args = parser.parse_args()
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
            before, started = _cpu_seconds(monitor), time.monotonic()
            while probes < args.n:  # the file keeps the last 5 probes: read it often enough
                time.sleep(min(args.interval / 2, 0.1))
                fresh = _starts(health_file) - seen
                probes += len(fresh)
                seen |= fresh
            spent, elapsed = _cpu_seconds(monitor) - before, time.monotonic() - started
            print(f"{probes} probes in {elapsed:.1f} s: {spent * 1000:.0f} ms CPU, "
                  f"{spent * 1000 / probes:.1f} ms a probe (goal < 5 ms)")
        finally:
            sh([STRATA, "rm", "-f", name])


if __name__ == "__main__":
    main()
