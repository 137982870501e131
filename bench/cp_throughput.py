#!/usr/bin/env python3
"""`cp` of a directory into and out of a stopped container: docker, strata (its CLI) and
strata-api (the docker CLI on strata's Engine API socket), interleaved, best of n.

    STRATA_ROOT=/var/lib/strata-x .venv/bin/python bench/cp_throughput.py [--mib 100] [-n 3]

The directory holds --mib MiB in 1 MiB files of random bytes (as written to the page
cache: both engines read the same warm files). Prints MiB/s per engine and direction,
and strata's throughput as a fraction of Docker's (the goal: at least 0.8).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import STRATA, BaseImages, timed  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conformance import api_service  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("-n", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="strata-bench-cp-"))
    source = scratch / "payload"
    source.mkdir()
    for i in range(args.mib):
        (source / f"f{i:04d}").write_bytes(os.urandom(1 << 20))
    sock = api_service.start((STRATA,), scratch / "api")
    engines = {"docker": ["docker"], "strata": [STRATA]}
    api_env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
    try:
        with BaseImages(engines) as ref:
            clis = {"docker": (["docker"], None), "strata": ([STRATA], None), "strata-api": (["docker"], api_env)}
            containers = {}
            for name, (argv, env) in clis.items():
                made = subprocess.run([*argv, "create", ref, "true"], check=True, capture_output=True, text=True,
                                      env=env)
                containers[name] = made.stdout.strip()
            best: dict[tuple[str, str], float] = {}
            for round_ in range(args.n):
                for name, (argv, env) in clis.items():
                    cid = containers[name]
                    target = f"/in{round_}"
                    seconds = timed([*argv, "cp", str(source), f"{cid}:{target}"], env=env)
                    best[name, "in"] = min(best.get((name, "in"), seconds), seconds)
                    out = scratch / f"out-{name}-{round_}"
                    seconds = timed([*argv, "cp", f"{cid}:{target}", str(out)], env=env)
                    best[name, "out"] = min(best.get((name, "out"), seconds), seconds)
                    shutil.rmtree(out)
            for name, (argv, env) in clis.items():
                subprocess.run([*argv, "rm", "-f", containers[name]], capture_output=True, env=env)
    finally:
        api_service.stop(scratch / "api")
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"cp of a {args.mib} MiB directory ({args.mib} files), best of {args.n}:")
    for direction in ("in", "out"):
        docker_rate = args.mib / best["docker", direction]
        for name in clis:
            rate = args.mib / best[name, direction]
            print(f"  {direction:3} {name:10} {best[name, direction]:6.2f} s  {rate:7.1f} MiB/s"
                  f"  {rate / docker_rate:5.2f}x docker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
