"""The bridge `strata0` and a container's link to it.

The engine creates `strata0` on first use with 172.29.0.1/16 (docker0 is 172.17.0.0/16). A
container gets a veth pair (one rtnetlink request: rtnetlink.py) whose peer is created
directly inside its network namespace as `eth0`, the address the allocator gave it, the MAC
derived from that address as docker does (02:42:ac:1d:…), and a default route via the
bridge. The veth disappears with the namespace.
No NAT or iptables rules are installed: containers get no way out of the host.
"""
from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import secrets
import socket
import struct
import subprocess
import threading
from pathlib import Path

from reference_impl import syscalls as sc
from reference_impl.network import rtnetlink
from reference_impl.fsutil import locked

BRIDGE = "strata0"
SUBNET = ipaddress.ip_network("172.29.0.0/16")
GATEWAY = ipaddress.ip_address("172.29.0.1")
RUN_DIR = Path("/run/strata")  # host-wide, as the bridge is

# ioctls of <linux/sockios.h>, and the flags they take
SIOCSIFADDR, SIOCSIFNETMASK, SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCADDRT = 0x8916, 0x891c, 0x8913, 0x8914, 0x890B
IFF_UP, RTF_UP, RTF_GATEWAY = 0x1, 0x1, 0x2


def _ip(*batch: str) -> None:
    subprocess.run(["ip", "-batch", "-"], input="\n".join(batch) + "\n", check=True,
                   capture_output=True, text=True)


def ensure_bridge() -> None:
    """Create strata0 unless it exists (another engine process may be creating it too)."""
    with locked(RUN_DIR / "bridge.lock"):
        if Path(f"/sys/class/net/{BRIDGE}").exists():
            return
        try:
            _ip(f"link add {BRIDGE} type bridge", f"addr add {GATEWAY}/{SUBNET.prefixlen} dev {BRIDGE}",
                f"link set {BRIDGE} up")
        except subprocess.CalledProcessError:
            if not Path(f"/sys/class/net/{BRIDGE}").exists():
                raise


def mac_address(address: ipaddress.IPv4Address) -> str:
    return "02:42:" + ":".join(f"{b:02x}" for b in address.packed)


def host_end_name(container_id: str) -> str:
    """A new name for the bridge's end of a container's veth pair."""
    return f"vs{container_id[:7]}{secrets.token_hex(2)}"


def connect(container_id: str, pid: int, netns_fd: int, address: ipaddress.IPv4Address, host_end: str) -> dict:
    """Give the namespace of `pid` an eth0 on the bridge with `address`, the pair's other end
    `host_end` on the bridge. Returns what NetworkSettings shows of it."""
    mac = mac_address(address)
    rtnetlink.add_veth(host_end, BRIDGE, "eth0", mac, pid)
    _configure_inside(netns_fd, address)
    return {"IPAddress": str(address), "IPPrefixLen": SUBNET.prefixlen, "Gateway": str(GATEWAY),
            "MacAddress": mac, "EndpointID": secrets.token_hex(32),
            "NetworkID": hashlib.sha256(f"{BRIDGE} {SUBNET}".encode()).hexdigest()}


def _sockaddr(ip) -> bytes:
    return struct.pack("HH4s8x", socket.AF_INET, 0, ipaddress.ip_address(ip).packed)


def _configure_inside(netns_fd: int, address) -> None:
    """In the container's namespace: eth0 address, up, default route (ioctls, no `ip`).
    In a thread of its own: setns of a network namespace applies to the calling thread."""
    failure: list[BaseException] = []

    def work():
        try:
            sc.setns(netns_fd, sc.CLONE_NEWNET)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                name = b"eth0".ljust(16, b"\0")
                fcntl.ioctl(s, SIOCSIFADDR, name + _sockaddr(address))
                fcntl.ioctl(s, SIOCSIFNETMASK, name + _sockaddr(SUBNET.netmask))
                flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, name + bytes(16)))[1]
                fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", name, flags | IFF_UP))
                # struct rtentry (x86_64): pad, dst, gateway, genmask, flags, …
                rt = struct.pack("L16s16s16sHHxxxxLP", 0, _sockaddr("0.0.0.0"), _sockaddr(GATEWAY),
                                 _sockaddr("0.0.0.0"), RTF_UP | RTF_GATEWAY, 0, 0, 0)
                rt = rt.ljust(120, b"\0")
                fcntl.ioctl(s, SIOCADDRT, rt)
        except BaseException as exc:
            failure.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if failure:
        raise failure[0]
