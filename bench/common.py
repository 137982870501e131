"""Shared pieces of the benchmarks: engines side by side, a base image in each, timing."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.fixtures import write_busybox_rootfs  # noqa: E402

STRATA = str(Path(sys.executable).with_name("strata"))
ENGINES = {"docker": ["docker"], "strata": [STRATA]}


def sh(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


class BaseImages:
    """A busybox base image, tagged bench-base-<pid>, in every engine; removed on exit."""

    def __init__(self, engines: dict[str, list[str]]):
        self.engines = engines
        self.ref = f"strata-bench-{os.getpid()}:latest"
        self.tmp = Path(tempfile.mkdtemp(prefix="strata-bench-"))

    def __enter__(self):
        tar = self.tmp / "rootfs.tar"
        write_busybox_rootfs(tar)
        for argv in self.engines.values():
            with open(tar, "rb") as f:
                sh([*argv, "import", "--change", 'CMD ["/bin/sh"]', "-", self.ref], stdin=f)
        return self.ref

    def __exit__(self, *exc):
        for argv in self.engines.values():
            subprocess.run([*argv, "rmi", "-f", self.ref], capture_output=True)
        subprocess.run(["rm", "-rf", str(self.tmp)])


def timed(argv: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def load_average() -> str:
    """The host's load (1, 5, 15 min): figures from a shared machine mean little without it."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def summary(samples: list[float]) -> str:
    return (f"median {statistics.median(samples) * 1000:7.1f} ms   mean {statistics.mean(samples) * 1000:7.1f} ms"
            f"   min {min(samples) * 1000:7.1f} ms   n={len(samples)}")
