"""Benchmark: docker push and pull of a ~100 MiB single-layer image, side by side in
one run: the strata registry and Debian's docker-registry (default), or with --auth
the strata registry with basic auth and with token auth (docker logged in to both).

    cd /work/main && .venv/bin/python tests/registry/bench_push_pull.py [--mib 100] [--rounds 2] [--auth]

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
from conftest import PASSWORD, USER, start_docker_registry, start_strata, write_htpasswd  # noqa: E402

DOCKER_ENV = dict(os.environ)


def docker(*args, check=True, input=None):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=1800,
                          env=DOCKER_ENV, input=input)
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
    parser.add_argument("--auth", action="store_true",
                        help="compare strata with basic auth and with token auth")
    args = parser.parse_args(argv)
    name = f"strata-regtest-bench-{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        DOCKER_ENV["DOCKER_CONFIG"] = os.path.join(tmp, "docker-config")
        htpasswd = write_htpasswd(os.path.join(tmp, "htpasswd"))
        if args.auth:
            labels = ("strata-token", "strata-basic")
            start = {"strata-basic": lambda d: start_strata(d, tmp, htpasswd=htpasswd, auth="basic"),
                     "strata-token": lambda d: start_strata(d, tmp, htpasswd=htpasswd, auth="token")}
        else:
            labels = ("strata", "docker-registry")
            start = {"strata": lambda d: start_strata(d, tmp),
                     "docker-registry": start_docker_registry}
        tar = os.path.join(tmp, "rootfs.tar")
        data_dir = os.path.join(tmp, "rootfs")
        os.makedirs(data_dir)
        with open(os.path.join(data_dir, "random.bin"), "wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(1 << 20))
        subprocess.run(["tar", "-C", data_dir, "-cf", tar, "random.bin"], check=True)
        refs = []
        results = {k: {"push": [], "pull": []} for k in labels}
        local = f"{name}:src"
        refs.append(local)
        docker("import", tar, local)
        try:
            for rnd in range(args.rounds):       # fresh registries each round: nothing is cached
                servers = {label: start[label](os.path.join(tmp, f"{label}{rnd}")) for label in labels}
                try:
                    if args.auth:
                        for server in servers.values():
                            docker("login", "-u", USER, "--password-stdin", server.address,
                                   input=PASSWORD + "\n")
                    order = labels if rnd % 2 == 0 else labels[::-1]   # no side always goes first
                    for label in order:
                        server = servers[label]
                        ref = f"{server.address}/{name}/img:1"
                        refs.append(ref)
                        docker("tag", local, ref)
                        results[label]["push"].append(timed("push", ref))
                    for label in order:
                        for ref in refs:
                            docker("rmi", ref, check=False)
                        results[label]["pull"].append(timed("pull", f"{servers[label].address}/{name}/img:1"))
                    docker("tag", f"{servers[order[-1]].address}/{name}/img:1", local)
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
    (a, s), (b, d) = ((label, results[label]) for label in labels)
    print(f"{a} / {b} throughput: push {min(d['push']) / min(s['push']):.2f}x, "
          f"pull {min(d['pull']) / min(s['pull']):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
