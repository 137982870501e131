"""CPU time of one health probe (issue 20: < 5 ms each): runs a container with a 1 s
health check on a store of its own and reads the CPU time of its shim's children (the
monitor and the probes it forks) over N probes.

    STRATA_ROOT=/var/lib/strata-x .venv/bin/python bench/health_probe_cpu.py [N]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

STRATA = str(Path(sys.executable).with_name("strata"))


def _strata(*args: str) -> str:
    return subprocess.run([STRATA, *args], capture_output=True, text=True, check=True).stdout


def _cpu_of_tree(pid: int) -> float:
    """user+system seconds of pid's live children and what they reaped (cutime/cstime)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = sum(int(x) for x in fields[11:13])
    reaped = sum(int(x) for x in fields[13:15])
    return (own + reaped) / ticks


def main(probes: int = 10) -> None:
    base = os.environ.get("BENCH_IMAGE", "base:latest")
    name = f"health-bench-{os.getpid()}"
    _strata("run", "-d", "--name", name, "--health-cmd", "true", "--health-interval", "1s", base, "sleep", "600")
    try:
        cid = _strata("inspect", "-f", "{{.Id}}", name).strip()
        root = Path(os.environ.get("STRATA_ROOT", "/var/lib/strata"))
        shim = json.loads((root / "containers" / cid / "state.json").read_text())["ShimPid"]
        monitor = int(Path(f"/proc/{shim}/task/{shim}/children").read_text().split()[-1])
        time.sleep(1.5)
        before, count_before = _cpu_of_tree(monitor), len(json.loads(_strata("inspect", "-f", "{{json .State.Health.Log}}", name)))
        time.sleep(probes + 0.5)
        log = json.loads(_strata("inspect", "-f", "{{json .State.Health}}", name))
        spent = _cpu_of_tree(monitor) - before
        ran = min(probes, len(log["Log"]))
        print(f"{ran} probes, {spent * 1000:.1f} ms CPU, {spent * 1000 / max(ran, 1):.2f} ms each "
              f"(status {log['Status']}, probe log before: {count_before})")
    finally:
        _strata("rm", "-f", name)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
