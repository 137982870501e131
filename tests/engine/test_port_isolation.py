"""A port published on 127.0.0.1 cannot be reached from another network namespace; the
same port published on 0.0.0.0 can (moby's TestAccessPortPublishedOnLoopbackAddress).

The "other host" is a network namespace this test creates, joined to the host by a veth
pair with a /30 out of 10.250.0.0/16 on its two ends only; it is removed in a finalizer.
The client inside it connects to the host end's address on the published port. No
traffic goes anywhere else.
"""
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

STRATA = str(Path(sys.executable).with_name("strata"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, veth, namespaces)")

CLIENT = r"""
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    print("answer:" + data.split(b"\r\n\r\n", 1)[-1].decode().strip())
except ConnectionRefusedError:
    print("refused")
except (TimeoutError, socket.timeout):
    print("timeout")
except OSError as exc:
    print(f"error:{exc}")
"""


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@pytest.fixture
def other_netns(request):
    """A namespace with a veth to the host: returns (namespace name, host end's address)."""
    tag = f"{os.getpid() % 100000}{random.randrange(100):02d}"
    ns, host_end, ns_end = f"strata-iso-{tag}", f"siso{tag}h", f"siso{tag}n"

    def cleanup():
        ip("link", "del", host_end, check=False)
        ip("netns", "del", ns, check=False)

    request.addfinalizer(cleanup)
    ip("netns", "add", ns)
    ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end, "netns", ns)
    used = ip("-4", "addr").stdout
    for _ in range(100):
        block = random.randrange(1 << 14) * 4  # a /30 out of 10.250.0.0/16
        host_addr = f"10.250.{block >> 8}.{(block & 255) + 1}"
        ns_addr = f"10.250.{block >> 8}.{(block & 255) + 2}"
        if f"10.250.{block >> 8}." not in used:
            break
    ip("addr", "add", f"{host_addr}/30", "dev", host_end)
    ip("link", "set", host_end, "up")
    ip("-n", ns, "addr", "add", f"{ns_addr}/30", "dev", ns_end)
    ip("-n", ns, "link", "set", ns_end, "up")
    ip("-n", ns, "link", "set", "lo", "up")
    return ns, host_addr


@pytest.fixture
def engine(tmp_path):
    from conformance.fixtures import write_busybox_rootfs
    env = {**os.environ, "STRATA_ROOT": str(tmp_path / "store")}
    write_busybox_rootfs(tmp_path / "rootfs.tar")
    with open(tmp_path / "rootfs.tar", "rb") as f:
        subprocess.run([STRATA, "import", "-", "isobase:latest"], stdin=f, env=env, check=True,
                       capture_output=True)
    yield env
    ids = subprocess.run([STRATA, "ps", "-aq"], env=env, capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run([STRATA, "rm", "-f", *ids], env=env, capture_output=True)


def run_web(env, name, publish) -> int:
    command = ["sh", "-c", f"mkdir -p /www && echo {name} > /www/index.html && exec httpd -f -p 80 -h /www"]
    subprocess.run([STRATA, "run", "-d", "--name", name, "-p", publish, "isobase:latest", *command],
                   env=env, check=True, capture_output=True)
    out = subprocess.run([STRATA, "port", name, "80"], env=env, check=True, capture_output=True,
                         text=True).stdout
    return int(out.split()[0].rsplit(":", 1)[1])


def from_namespace(ns, address, port) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", CLIENT, address, str(port)],
                          capture_output=True, text=True, check=True).stdout.strip()


def from_host_loopback(port) -> str:
    for _ in range(50):
        answer = subprocess.run([sys.executable, "-c", CLIENT, "127.0.0.1", str(port)],
                                capture_output=True, text=True).stdout.strip()
        if answer.startswith("answer:"):
            return answer
        time.sleep(0.1)
    return answer


def test_port_published_on_loopback_is_not_reachable_from_another_namespace(engine, other_netns):
    ns, host_addr = other_netns
    port = run_web(engine, "iso-loopback", "127.0.0.1::80")
    assert from_host_loopback(port) == "answer:iso-loopback"
    assert from_namespace(ns, host_addr, port) in ("refused", "timeout")


def test_port_published_on_all_addresses_is_reachable_from_another_namespace(engine, other_netns):
    ns, host_addr = other_netns
    port = run_web(engine, "iso-all", "0.0.0.0::80")
    assert from_host_loopback(port) == "answer:iso-all"
    assert from_namespace(ns, host_addr, port) == "answer:iso-all"
