#!/usr/bin/env python3
"""Traffic through a published port (`-p 127.0.0.1::80`) on strata and on docker, side by side.

    .venv/bin/python bench/port_throughput.py [--mb 200] [--rounds 5] [-n 300]

Each engine runs one container of the same busybox image that writes a file of --mb MB
of zeros into /www and serves /www with `httpd -f -p 80`. Measured from the host, on
127.0.0.1 only, the engines interleaved round by round:

- download: `GET /big` (HTTP/1.0), read to EOF into a 1 MiB buffer; MB/s of the body.
  This is the direction a published web port carries, and busybox httpd sends the file
  with sendfile(2), so the container side costs little and the forwarder shows:
  docker's docker-proxy (Go, splice) + veth + bridge against strata's shim
  (Python threads, splice) + the container's loopback;
- upload: --mb MB written to `nc -l -p 81 > /dev/null` in a second container, then a
  half-close, timed until the container side closes (nc exits at EOF);
- connection setup: connect, `GET /index.html`, first byte of the answer — the median
  of -n round trips (each a new TCP connection, a new forwarder connection inside the
  container's namespace, and a fork of httpd).

Prints each figure per engine and the strata/docker ratios (goal: throughput >= 0.8x).
"""
import argparse
import os
import socket
import statistics
import subprocess
import time

from common import ENGINES, BaseImages, sh

MB = 1 << 20


def serve_command(mb: int) -> list[str]:
    return ["sh", "-c", f"mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count={mb} 2>/dev/null && "
                        "echo hi > /www/index.html && exec httpd -f -p 80 -h /www"]


class Published:
    """A container with a published port, removed on exit."""

    def __init__(self, argv, ref, name, port, command):
        self.argv, self.name, self.port = argv, name, port
        sh([*argv, "run", "-d", "--name", name, "-p", f"127.0.0.1::{port}", ref, *command])
        out = sh([*argv, "port", name, str(port)]).stdout.split()[0]
        self.host_port = int(out.rsplit(":", 1)[1])

    def close(self):
        subprocess.run([*self.argv, "rm", "-f", self.name], capture_output=True)


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if first_byte_rtt(port, "/big", probe=True):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing serves /big on 127.0.0.1:{port}")


def first_byte_rtt(port: int, path: str = "/index.html", probe: bool = False):
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        head = s.recv(64 if probe else 1)
        if not head:
            raise OSError("closed")
        if probe:
            return b" 200 " in head
        return time.perf_counter() - start


def download(port: int) -> tuple[int, float]:
    buf = bytearray(MB)
    view = memoryview(buf)
    total = 0
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET /big HTTP/1.0\r\n\r\n")
        while n := s.recv_into(view):
            total += n
    return total, time.perf_counter() - start


def upload(port: int, mb: int) -> float:
    chunk = bytes(MB)
    for _ in range(100):  # nc starts listening after `run` returns
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            break
        except OSError:
            time.sleep(0.05)
    start = time.perf_counter()
    with s:
        for _ in range(mb):
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # EOF once nc has read everything and exited
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="MB per transfer (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="transfers per engine and direction (default 5)")
    parser.add_argument("-n", type=int, default=300, help="connection round trips per engine (default 300)")
    args = parser.parse_args()
    tag = os.getpid()
    down = {name: [] for name in ENGINES}
    up = {name: [] for name in ENGINES}
    rtt = {name: [] for name in ENGINES}
    with BaseImages(ENGINES) as ref:
        web = {}
        try:
            for name, argv in ENGINES.items():
                web[name] = Published(argv, ref, f"bench-port-{name}-{tag}", 80, serve_command(args.mb))
            for w in web.values():
                wait_ready(w.host_port)
            for name, w in web.items():  # warm-up
                download(w.host_port)
            for _ in range(args.rounds):
                for name, w in web.items():
                    size, seconds = download(w.host_port)
                    assert size > args.mb * MB, (name, size)
                    down[name].append(args.mb / seconds)
            for _ in range(args.rounds):
                for name, argv in ENGINES.items():
                    sink = Published(argv, ref, f"bench-sink-{name}-{tag}", 81,
                                     ["sh", "-c", "exec nc -l -p 81 > /dev/null"])
                    try:
                        up[name].append(args.mb / upload(sink.host_port, args.mb))
                    finally:
                        sink.close()
            for name, w in web.items():
                first_byte_rtt(w.host_port)
            for _ in range(args.n):
                for name, w in web.items():
                    rtt[name].append(first_byte_rtt(w.host_port))
        finally:
            for w in web.values():
                w.close()
    for name in ENGINES:
        print(f"{name:7s} download {statistics.median(down[name]):8.1f} MB/s   "
              f"upload {statistics.median(up[name]):8.1f} MB/s   "
              f"connect+first byte median {statistics.median(rtt[name]) * 1000:6.2f} ms "
              f"(p90 {sorted(rtt[name])[int(len(rtt[name]) * 0.9)] * 1000:6.2f} ms)   "
              f"[{args.rounds} x {args.mb} MB, n={args.n}]")
    print(f"strata/docker download throughput: {statistics.median(down['strata']) / statistics.median(down['docker']):.2f}")
    print(f"strata/docker upload throughput:   {statistics.median(up['strata']) / statistics.median(up['docker']):.2f}")
    print(f"strata/docker connect latency:     {statistics.median(rtt['strata']) / statistics.median(rtt['docker']):.2f}")


if __name__ == "__main__":
    main()
