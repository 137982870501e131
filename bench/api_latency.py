#!/usr/bin/env python3
"""`docker ps` and `docker images` against strata's Engine API socket and against dockerd,
side by side in one run (interleaved), plus the bare HTTP request each command makes.

    .venv/bin/python bench/api_latency.py [-n 30] [--socket PATH]

Starts `strata system service` on a scratch store (or uses --socket), imports one
busybox image into it and runs one container, so both engines list something; on
dockerd only read-only listings are made. Prints the median and p90 per engine:
- the whole CLI command (process start, HEAD /_ping, the listing);
- the request alone (GET /v1.41/containers/json, /v1.41/images/json on a fresh connection).
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conformance import api_service  # noqa: E402
from conformance.fixtures import write_busybox_rootfs  # noqa: E402

STRATA = str(Path(sys.executable).with_name("strata"))
DOCKERD = "/var/run/docker.sock"


def request(sock: str, path: str) -> float:
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: api\r\n\r\n".encode())
        while s.recv(65536):
            pass
    return time.perf_counter() - start


def command(sock: str, *args: str) -> float:
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
    start = time.perf_counter()
    subprocess.run(["docker", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def summary(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    return f"median {statistics.median(values) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--socket")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="api-latency-"))
    sock = args.socket
    try:
        if sock is None:
            env = {"STRATA_ROOT": str(scratch / "store")}
            sock = str(api_service.start((STRATA,), scratch / "api", env))
            rootfs = scratch / "rootfs.tar"
            write_busybox_rootfs(rootfs)
            run_env = {**os.environ, **env}
            subprocess.run([STRATA, "import", str(rootfs), "bench:latest"], env=run_env, check=True,
                           capture_output=True)
            subprocess.run([STRATA, "run", "-d", "--name", "bench", "bench", "sleep", "600"], env=run_env,
                           check=True, capture_output=True)
        engines = {"strata": sock, "dockerd": DOCKERD}
        cases = [("docker ps", lambda s: command(s, "ps")),
                 ("docker images", lambda s: command(s, "images")),
                 ("GET /containers/json", lambda s: request(s, "/v1.41/containers/json")),
                 ("GET /images/json", lambda s: request(s, "/v1.41/images/json"))]
        results = {(case, e): [] for case, _ in cases for e in engines}
        load_before = os.getloadavg()[0]
        for case, fn in cases:
            for e, s in engines.items():
                fn(s)  # warm up
            for _ in range(args.n):
                for e, s in engines.items():
                    results[(case, e)].append(fn(s))
        load_after = os.getloadavg()[0]
        print(f"{args.n} rounds, engines interleaved; load average {load_before:.2f} at the start, "
              f"{load_after:.2f} at the end")
        for case, _ in cases:
            for e in engines:
                print(f"{case:22s} {e:8s} {summary(results[(case, e)])}")
    finally:
        if args.socket is None:
            subprocess.run([STRATA, "rm", "-f", "bench"], env={**os.environ, "STRATA_ROOT": str(scratch / "store")},
                           capture_output=True)
            api_service.stop(scratch / "api")
            subprocess.run(["umount", "-R", "-l", str(scratch)], capture_output=True)
        import shutil
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
