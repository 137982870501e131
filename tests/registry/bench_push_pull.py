"""Benchmark: docker push and pull of a ~100 MiB single-layer image, to the strata
registry and to Debian's docker-registry, side by side in one run.

    cd /work/main && .venv/bin/python tests/registry/bench_push_pull.py [--mib 100] [--rounds 2]

The image is `docker import` of a tar of random bytes (incompressible), named
strata-regtest-bench-<random>; every tag made here is removed at the end. Between
pulls the image is removed from the daemon so that each pull downloads the layer.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from conftest import start_docker_registry, start_strata  # noqa: E402


def docker(*args, check=True):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=1800)
    if check and proc.returncode:
        raise RuntimeError(f"docker {' '.join(args)}: {proc.stderr}")
    return proc


def timed(*args) -> float:
    start = time.monotonic()
    docker(*args)
    return time.monotonic() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    name = f"strata-regtest-bench-{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        tar = os.path.join(tmp, "rootfs.tar")
        data_dir = os.path.join(tmp, "rootfs")
        os.makedirs(data_dir)
        with open(os.path.join(data_dir, "random.bin"), "wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(1 << 20))
        subprocess.run(["tar", "-C", data_dir, "-cf", tar, "random.bin"], check=True)
        refs = []
        results = {k: {"push": [], "pull": []} for k in ("strata", "docker-registry")}
        local = f"{name}:src"
        refs.append(local)
        docker("import", tar, local)
        try:
            for rnd in range(args.rounds):       # fresh registries each round: nothing is cached
                servers = {"strata": start_strata(os.path.join(tmp, f"strata{rnd}"), tmp),
                           "docker-registry": start_docker_registry(os.path.join(tmp, f"dr{rnd}"))}
                try:
                    for label, server in servers.items():
                        ref = f"{server.address}/{name}/img:1"
                        refs.append(ref)
                        docker("tag", local, ref)
                        results[label]["push"].append(timed("push", ref))
                    for label, server in servers.items():
                        for ref in refs:
                            docker("rmi", ref, check=False)
                        results[label]["pull"].append(timed("pull", f"{server.address}/{name}/img:1"))
                    docker("tag", f"{servers['docker-registry'].address}/{name}/img:1", local)
                finally:
                    for server in servers.values():
                        server.stop()
        finally:
            for ref in refs:
                docker("rmi", ref, check=False)
    print(f"image: {args.mib} MiB random layer, {args.rounds} rounds, docker as the client")
    print(f"{'registry':<16}{'push s (best)':>14}{'MiB/s':>8}{'pull s (best)':>15}{'MiB/s':>8}")
    for label, r in results.items():
        push, pull = min(r["push"]), min(r["pull"])
        print(f"{label:<16}{push:>14.2f}{args.mib / push:>8.1f}{pull:>15.2f}{args.mib / pull:>8.1f}")
    for label, r in results.items():
        print(f"{label}: push {[round(x, 2) for x in r['push']]} pull {[round(x, 2) for x in r['pull']]}")
    s, d = results["strata"], results["docker-registry"]
    print(f"strata / docker-registry throughput: push {min(d['push']) / min(s['push']):.2f}x, "
          f"pull {min(d['pull']) / min(s['pull']):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
