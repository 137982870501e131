#!/usr/bin/env python3
"""Container to container on a user-defined network, strata against docker, side by side.

    .venv/bin/python bench/network_throughput.py [--mb 300] [--lookups 100] [--rounds 3]

Each engine gets a network of its own (a random 10.x /24, drawn again on overlap), a server
container (`nc -l -e dd`, in a loop) and a client container (`sleep`), both on it.
Timed inside the client with busybox `time` around `exec`'s script (no exec overhead in the
figures; 10 ms resolution, so the transfers and loops are long), engines interleaved round by
round:

- throughput: --mb MB of zeros from the server (`nc -l -e dd`) to the client, which connects
  by name and counts them: veth + bridge on both engines (docker: its bridge driver; strata:
  a bridge per network);
- name lookup: --lookups `nslookup srv` in one shell loop, per lookup: busybox's resolver
  asking the embedded DNS at 127.0.0.11 (docker: dockerd's resolver through iptables NAT;
  strata: a dnslib server thread in the container's shim reading the store).

Prints each figure per engine and the strata/docker ratio (goal: >= 0.8x, for latency the
inverse ratio docker/strata). Traffic stays inside the run's own namespaces.
"""
import argparse
import random
import re
import statistics
import subprocess
import time

from common import ENGINES, BaseImages, sh


def _seconds(time_output: str) -> float:
    found = re.search(r"real\s+(?:(\d+)m\s*)?([\d.]+)s", time_output)
    assert found, time_output
    return int(found.group(1) or 0) * 60 + float(found.group(2))


def timed_exec(argv: list[str], container: str, script: str) -> float:
    """Seconds `script` took inside the container (busybox `time`: no exec overhead)."""
    return _seconds(sh([*argv, "exec", container, "time", "sh", "-c", script]).stderr)


class Pair:
    """A network, a server and a client on one engine."""

    def __init__(self, engine: str, argv: list[str], image: str, mb: int):
        self.engine, self.argv, self.image, self.mb = engine, argv, image, mb
        tag = f"strata-bench-net-{random.randrange(1 << 32):08x}"
        self.net, self.server, self.client = tag, f"{tag}-srv", f"{tag}-cli"

    def __enter__(self):
        for _ in range(30):
            subnet = f"10.{random.randint(64, 127)}.{random.randint(0, 255)}.0/24"
            made = subprocess.run([*self.argv, "network", "create", "--subnet", subnet, self.net],
                                  capture_output=True, text=True)
            if made.returncode == 0:
                break
            if "overlaps" not in made.stderr:
                raise RuntimeError(made.stderr)
        sh([*self.argv, "run", "-d", "--name", self.server, "--network", self.net, self.image,
            "sh", "-c", f"while true; do nc -l -p 5001 -e dd if=/dev/zero bs=1M count={self.mb}; done"])
        sh([*self.argv, "run", "-d", "--name", self.client, "--network", self.net, self.image, "sleep", "3600"])
        return self

    def __exit__(self, *exc):
        subprocess.run([*self.argv, "rm", "-f", self.server, self.client], capture_output=True)
        subprocess.run([*self.argv, "network", "rm", self.net], capture_output=True)

    def throughput(self) -> float:
        """The server sends --mb MB on each connection; the client counts them (busybox nc
        ends a connection when its own stdin ends, so the data flows server to client)."""
        result = sh([*self.argv, "exec", self.client, "time", "sh", "-c",
                     f"nc {self.server} 5001 -e sh -c 'wc -c >&2'"])
        assert f"{self.mb << 20}" in result.stderr, result.stderr
        return self.mb / _seconds(result.stderr)

    def lookup(self, count: int) -> float:
        took = timed_exec(self.argv, self.client,
                          f"for i in $(seq {count}); do nslookup {self.server} >/dev/null || exit 1; done")
        return took / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--lookups", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {engine: {"MB/s": [], "lookup ms": []} for engine in ENGINES}
    with BaseImages(ENGINES) as image:
        pairs = [Pair(engine, argv, image, args.mb) for engine, argv in ENGINES.items()]
        for pair in pairs:
            pair.__enter__()
        try:
            time.sleep(1)
            for _ in range(args.rounds):
                for pair in pairs:
                    results[pair.engine]["MB/s"].append(pair.throughput())
                    results[pair.engine]["lookup ms"].append(pair.lookup(args.lookups) * 1000)
        finally:
            for pair in pairs:
                pair.__exit__()
    for engine, figures in results.items():
        print(f"{engine:7s} throughput median {statistics.median(figures['MB/s']):8.1f} MB/s   "
              f"name lookup median {statistics.median(figures['lookup ms']):6.2f} ms   "
              f"(rounds: {[round(x, 1) for x in figures['MB/s']]} MB/s, "
              f"{[round(x, 2) for x in figures['lookup ms']]} ms)")
    ratio = statistics.median(results["strata"]["MB/s"]) / statistics.median(results["docker"]["MB/s"])
    lookup = statistics.median(results["docker"]["lookup ms"]) / statistics.median(results["strata"]["lookup ms"])
    print(f"strata/docker throughput {ratio:.2f}x   docker/strata lookup time {lookup:.2f}x   (goal >= 0.8x)")


if __name__ == "__main__":
    main()
