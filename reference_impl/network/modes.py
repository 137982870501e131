"""What `run --network/--network-alias/--ip/--hostname/--add-host/--dns…` ask for, checked and
written into a new container's record (under the store lock, at create), in dockerd's words
where it refuses.

Modes: `default` (= `bridge`, strata0), `none` (loopback only), `host` (the host's network
namespace), `container:<name|id>` (another container's namespace, recorded by full id), or a
user-defined network by name or id (recorded by name, with its id in EndpointsConfig).
"""
from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from reference_impl.errors import InvalidArgument, InvalidInput, NotFound
from reference_impl.network import bridge, ipam, legacy_links
from reference_impl.network.networks import NetworkStore
from reference_impl.store.containers import ContainerStore


def _check_extra_host(entry: str) -> str:
    name, sep, ip = entry.partition(":")
    if ip == "host-gateway":
        ip = str(bridge.GATEWAY)  # the host's address as the default bridge sees it
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidInput(f"invalid IP address in add-host: \"{ip}\"") from None
    if not sep or not name:
        raise InvalidInput(f"bad format for add-host: \"{entry}\"")
    return f"{name}:{ip}"


def _check_dns(server: str) -> str:
    try:
        return str(ipaddress.ip_address(server))
    except ValueError:
        raise InvalidInput(f"{server} is not an ip address") from None


def apply(root: Path, record: dict, options) -> None:
    """Fill the record's network fields from `options` (engine.records NetworkingOptions)."""
    host, config = record["HostConfig"], record["Config"]
    mode = options.mode or "default"
    wanted = {}
    if mode.startswith("container:"):
        other = ContainerStore(Path(root)).resolve(mode.partition(":")[2])
        mode = f"container:{other.id}"
    elif mode not in ("default", "bridge", "none", "host"):
        # as dockerd: a missing network or a bad --ip fails the start, not the create
        try:
            net_id = NetworkStore(Path(root)).resolve(mode).id
        except NotFound:
            net_id = ""
        wanted[mode] = {"Aliases": list(options.aliases),
                        "IPAMConfig": {"IPv4Address": options.ip} if options.ip else None,
                        "NetworkID": net_id}
    if mode in ("default", "bridge", "none", "host") or mode.startswith("container:"):
        if options.aliases:
            raise InvalidArgument("network-scoped aliases are only supported for user-defined networks")
        if options.ip:
            raise InvalidArgument("user specified IP address is supported on user defined networks only")
    if mode.startswith("container:") and options.hostname:
        raise InvalidArgument("conflicting options: hostname and the network mode")
    if options.hostname:
        config["Hostname"] = options.hostname
    elif mode == "host":
        config["Hostname"] = socket.gethostname()
    if options.domainname:
        config["Domainname"] = options.domainname
    host["NetworkMode"] = mode
    host["ExtraHosts"] = [_check_extra_host(e) for e in options.extra_hosts] or None
    host["Dns"] = [_check_dns(s) for s in options.dns]
    host["DnsSearch"] = list(options.dns_search)
    host["DnsOptions"] = list(options.dns_options)
    host["Links"] = legacy_links.record(options.links, record["Name"], mode, ContainerStore(Path(root)).resolve)
    record["NetworkingConfig"] = {"EndpointsConfig": wanted}


def namespace_of(root: Path, config: dict) -> str | None:
    """Before a start: the networks asked for exist and take the fixed addresses asked for.
    Which network namespace the container's processes join: None for a new one, "host",
    or /proc/<pid>/ns/net of the container whose namespace it shares (which must run)."""
    mode = config.get("HostConfig", {}).get("NetworkMode") or "default"
    networks = NetworkStore(Path(root))
    for name, wanted in ((config.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}).items():
        net = networks.resolve(wanted.get("NetworkID") or name)
        fixed = (wanted.get("IPAMConfig") or {}).get("IPv4Address")
        if fixed:
            ipam.check_fixed(net, fixed)
    if mode == "host":
        return "host"
    if mode.startswith("container:"):
        other_id = mode.partition(":")[2]
        try:
            other = ContainerStore(Path(root)).get(other_id)
        except NotFound:
            raise NotFound(f"No such container: {other_id}") from None
        if not other.running:
            raise InvalidArgument(f"cannot join network of a non running container: {other_id}")
        return f"/proc/{other.state['Pid']}/ns/net"
    return None


def shared_files_of(root: Path, config: dict) -> Path | None:
    """The container directory whose hosts/resolv.conf a container:X container shows."""
    mode = config.get("HostConfig", {}).get("NetworkMode") or "default"
    if mode.startswith("container:"):
        return Path(root) / "containers" / mode.partition(":")[2]
    return None
