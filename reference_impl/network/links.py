"""The kernel side of user-defined networks: a bridge per network, a veth per endpoint, and the
iptables rules that keep networks apart — through iproute2's `ip` and `iptables`, as
bridge.py already does for strata0 (no new dependency; both are on every host dockerd runs on);
the veth itself by one rtnetlink request (rtnetlink.py), as for strata0.

Isolation as dockerd does it, in a chain of strata's own jumped to first from FORWARD: traffic
between two ports of one bridge is accepted, anything else entering or leaving a network's
bridge is dropped (strata gives containers no NAT, so no network has a way out; `--internal`
states it). Traffic to the host's own addresses (the gateway) is INPUT, not FORWARD.
"""
from __future__ import annotations

import ipaddress
import subprocess

from reference_impl.network import rtnetlink

CHAIN = "STRATA-NETWORKS"


class LinkError(Exception):
    pass


def _run(*argv: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, input=input)
    if check and result.returncode != 0:
        raise LinkError(f"{' '.join(argv)}: {result.stderr.strip()}")
    return result


def _ip(*batch: str) -> None:
    _run("ip", "-batch", "-", input="\n".join(batch) + "\n")


def _iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run("iptables", "-w", *args, check=check)


def _isolation_rules(bridge_name: str) -> list[list[str]]:
    return [["-i", bridge_name, "-o", bridge_name, "-j", "ACCEPT"],
            ["-i", bridge_name, "-j", "DROP"],
            ["-o", bridge_name, "-j", "DROP"]]


def _ensure_chain() -> None:
    if _iptables("-n", "-L", CHAIN, check=False).returncode != 0:
        _iptables("-N", CHAIN, check=False)
    if _iptables("-C", "FORWARD", "-j", CHAIN, check=False).returncode != 0:
        _iptables("-I", "FORWARD", "1", "-j", CHAIN)


def create_bridge(bridge_name: str, gateway: str, prefixlen: int, internal: bool) -> None:
    """The network's bridge with its gateway address, and its isolation rules."""
    _run("ip", "link", "del", bridge_name, check=False)  # a leftover of a killed create
    _ip(f"link add {bridge_name} type bridge", f"addr add {gateway}/{prefixlen} dev {bridge_name}",
        f"link set {bridge_name} up")
    try:
        _ensure_chain()
        for rule in _isolation_rules(bridge_name):
            _iptables("-A", CHAIN, *rule)
    except LinkError:
        delete_bridge(bridge_name)
        raise


def delete_bridge(bridge_name: str) -> None:
    for rule in _isolation_rules(bridge_name):
        while _iptables("-D", CHAIN, *rule, check=False).returncode == 0:
            pass
    _run("ip", "link", "del", bridge_name, check=False)


def mac_address(address: ipaddress.IPv4Address) -> str:
    return "02:42:" + ":".join(f"{b:02x}" for b in address.packed)


def attach(bridge_name: str, host_end: str, pid: int, interface: str, address: ipaddress.IPv4Address,
           prefixlen: int, gateway: str | None, mac: str) -> None:
    """A veth from the bridge into the network namespace of `pid`, named `interface` there,
    with `address`; a default route through `gateway` when given (the first network)."""
    try:
        rtnetlink.add_veth(host_end, bridge_name, interface, mac, pid)
    except OSError as exc:
        raise LinkError(f"veth {host_end} on {bridge_name}: {exc.strerror}") from None
    inside = [f"addr add {address}/{prefixlen} dev {interface}", f"link set {interface} up"]
    if gateway:
        inside.append(f"route add default via {gateway} dev {interface}")
    try:
        _run("nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-batch", "-", input="\n".join(inside) + "\n")
    except LinkError:
        detach(host_end)
        raise


def detach(host_end: str) -> None:
    """Delete the veth pair (both ends go)."""
    _run("ip", "link", "del", host_end, check=False)
