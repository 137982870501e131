"""A container's endpoints on user-defined networks, and its network mode.

What a container asks for is in its record: `HostConfig.NetworkMode` (`default`/`bridge`,
`none`, `host`, `container:<id>`, or a network's name) and `NetworkingConfig.EndpointsConfig`
(per network: aliases, a fixed address). What it has while it runs is in its state,
`Network.Endpoints` (per network: address, MAC, interface, the veth's host end), written by
its shim when it starts (`join`) and by `connect`/`disconnect` while it runs.

Order of a start: the shim `join`s once PID 1 exists and before it execs the command (so the
command finds its interfaces, /etc/hosts and the DNS server ready): addresses from each
network's IPAM held by the shim, a veth per network (eth0, eth1, … in the order asked), the
default route through the first network's gateway unless it is internal, /etc/hosts and
/etc/resolv.conf, and the embedded DNS server when any network is user-defined.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import threading
from pathlib import Path

from reference_impl.errors import Conflict, EngineError, NotFound
from reference_impl.fsutil import read_json, write_json
from reference_impl.network import etcfiles, ipam, links
from reference_impl.network.networks import NetworkStore
from reference_impl.store.containers import Container, ContainerStore, name_entry

SPECIAL_MODES = ("none", "host")


def mode_of(config: dict) -> str:
    return config.get("HostConfig", {}).get("NetworkMode") or "default"


def is_default(mode: str) -> bool:
    return mode in ("default", "bridge")


def requested(config: dict) -> dict[str, dict]:
    return dict((config.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})


def live_endpoints(state: dict) -> dict[str, dict]:
    return dict((state.get("Network") or {}).get("Endpoints") or {})


# --- in the shim -------------------------------------------------------------------------------

def join(root: Path, container_id: str, config: dict, pid: int, netns_fd: int,
         stopping: threading.Event, on_bridge: str | None = None, link_hosts: list[str] = ()) -> dict:
    """Attach the namespace of `pid` to the container's user-defined networks, with the
    embedded DNS server when there is one; returns the state to record (`Endpoints`).
    `on_bridge`: its address on strata0, as eth0 with the default route (a default-mode
    container connected to user networks later), or None."""
    asked = requested(config)
    nets = NetworkStore(root) if asked else None
    found: dict[str, dict] = {}
    offset = 0 if on_bridge is None else 1
    for index, (name, wanted) in enumerate(asked.items(), start=offset):
        net = nets.resolve(wanted.get("NetworkID") or name)
        found[net.name] = _attach(net, container_id, pid, f"eth{index}", wanted, os.getpid(),
                                  first=index == 0)
    address = on_bridge if on_bridge is not None else \
        next(iter(found.values()))["IPAddress"] if found else ""
    write_etc_files(root, container_id, config, address, embedded=bool(found), link_hosts=link_hosts)
    if found:
        serve_dns(root, container_id, netns_fd, {e["NetworkID"] for e in found.values()}, stopping)
    return {"Endpoints": found}


def serve_dns(root: Path, container_id: str, netns_fd: int, joined: set[str],
              stopping: threading.Event) -> None:
    """The embedded DNS server at 127.0.0.11 in the container's namespace, a thread of its shim."""
    from reference_impl.network import dns  # dnslib: only a container on a user network needs it
    dns.serve(netns_fd, resolver(root, container_id, joined), stopping)


def join_mode(root: Path, container_id: str, config: dict, pid: int, netns_fd: int,
              stopping: threading.Event) -> dict:
    """Every mode but the default bridge: none (only lo), host and container:X (their
    namespace and its files), user-defined networks (`join`)."""
    mode = mode_of(config)
    if mode == "none":
        write_etc_files(root, container_id, config, "", embedded=False)
        return {}
    directory = Path(root) / "containers" / container_id
    if mode == "host":
        for name, source in (("hosts", "/etc/hosts"), ("resolv.conf", "/etc/resolv.conf")):
            etcfiles.write_in_place(directory / name, Path(source).read_text())
        return {}
    if mode.startswith("container:"):
        other = Path(root) / "containers" / mode.partition(":")[2]
        for name in ("hosts", "resolv.conf"):
            etcfiles.write_in_place(directory / name, (other / name).read_text())
        return {}
    return join(root, container_id, config, pid, netns_fd, stopping)


def write_etc_files(root: Path, container_id: str, config: dict, address: str, embedded: bool,
                    link_hosts: list[str] = ()) -> None:
    directory = Path(root) / "containers" / container_id
    host = config.get("HostConfig", {})
    settings = config.get("Config", {})
    etcfiles.write_in_place(directory / "hosts", etcfiles.hosts_text(
        host.get("ExtraHosts") or [], address, settings.get("Hostname", ""), settings.get("Domainname", ""),
        link_hosts))
    etcfiles.write_in_place(directory / "resolv.conf", etcfiles.resolv_text(host, embedded))


def leave(root: Path, container_id: str, unplug: bool = False) -> None:
    """The container has exited: give back every address it held (its veths go with its
    namespace; `unplug` deletes them first, for a namespace something still holds)."""
    state = read_json(Path(root) / "containers" / container_id / "state.json", {}) or {}
    for endpoint in live_endpoints(state).values():
        if unplug and endpoint.get("HostEnd"):
            links.detach(endpoint["HostEnd"])
        ipam.release(endpoint["NetworkID"], endpoint["IPAddress"])


def _attach(net, container_id: str, pid: int, interface: str, wanted: dict, owner: int,
            first: bool) -> dict:
    fixed = ((wanted.get("IPAMConfig") or {}).get("IPv4Address") or "")
    address = ipam.allocate(net, container_id, owner, fixed)
    subnet = ipaddress.ip_network(net.subnet)
    mac = links.mac_address(address)
    host_end = f"ve{container_id[:7]}{secrets.token_hex(2)}"
    try:
        links.attach(net.bridge_name, host_end, pid, interface, address, subnet.prefixlen,
                     net.gateway if first and not net.internal else None, mac)
    except links.LinkError as exc:
        ipam.release(net.id, str(address))
        raise EngineError(f"failed to attach to network {net.name}: {exc}") from None
    aliases = [a for a in wanted.get("Aliases") or [] if a != container_id[:12]] + [container_id[:12]]
    return {"NetworkID": net.id, "EndpointID": secrets.token_hex(32), "IPAddress": str(address),
            "IPPrefixLen": subnet.prefixlen, "Gateway": net.gateway, "MacAddress": mac,
            "Aliases": aliases, "IPAMConfig": wanted.get("IPAMConfig") or None,
            "Interface": interface, "HostEnd": host_end}


# --- names -------------------------------------------------------------------------------------

def resolver(root: Path, container_id: str, joined: set[str]):
    """lookup(name) -> addresses, for the embedded DNS server of one container. Its own
    networks: those its state records (connect/disconnect change them), or those it `joined`
    until the shim has recorded them (the command may ask before that). A container name is
    found through names/, a short id through the containers' directories; only an alias
    needs every container's state read."""
    containers = ContainerStore(Path(root))

    def addresses_of(cid: str, name: str, mine: set[str], by_alias: bool) -> list[str]:
        # the state alone (a query must be cheap): running, and its process still there
        state = read_json(containers.dir / cid / "state.json", {}) or {}
        if state.get("Status") != "running" or not os.path.exists(f"/proc/{state.get('Pid', 0)}"):
            return []
        return [e["IPAddress"] for e in live_endpoints(state).values() if e["NetworkID"] in mine
                and (not by_alias or name in {a.lower() for a in e.get("Aliases") or []})]

    def lookup(name: str) -> list[str]:
        me = (read_json(containers.dir / container_id / "state.json", {}) or {}).get("Network") or {}
        mine = {e["NetworkID"] for e in me["Endpoints"].values()} if "Endpoints" in me else joined
        link = containers.names / name_entry(name)
        if "/" not in name and not name.startswith(".") and os.path.islink(link):
            found = addresses_of(os.readlink(link), name, mine, by_alias=False)
            if found:
                return found
        if len(name) == 12 and all(c in "0123456789abcdef" for c in name):
            for entry in containers.dir.glob(f"{name}*"):
                found = addresses_of(entry.name, name, mine, by_alias=False)
                if found:
                    return found
        found = []
        for entry in os.scandir(containers.dir):
            state = read_json(Path(entry.path) / "state.json", {}) or {}
            if any(name in {a.lower() for a in e.get("Aliases") or []} and e.get("NetworkID") in mine
                   for e in live_endpoints(state).values()):
                found += addresses_of(entry.name, name, mine, by_alias=True)
        return found

    return lookup


def members(root: Path, network_id: str) -> list[tuple[Container, dict]]:
    """The running containers with an endpoint on a network, and that endpoint."""
    found = []
    for container in ContainerStore(Path(root)).all():
        if container.running:
            for endpoint in live_endpoints(container.state).values():
                if endpoint["NetworkID"] == network_id:
                    found.append((container, endpoint))
    return found


# --- connect and disconnect (from any engine process) -------------------------------------------

def connect(root: Path, containers: ContainerStore, container: Container, net, aliases: list[str],
            ip: str) -> None:
    mode = mode_of(container.config)
    if mode in SPECIAL_MODES or mode.startswith("container:"):
        raise EngineError("container sharing network namespace with another container or host cannot be "
                          "connected to any other network")
    wanted = requested(container.config)
    if net.name in wanted or any(w.get("NetworkID") == net.id for w in wanted.values()):
        raise Conflict(f"endpoint with name {container.name} already exists in network {net.name}")
    if not net.user_defined:
        raise EngineError(f"strata connects containers to user-defined networks only, not to {net.name}")
    if ip:
        ipam.check_fixed(net, ip)
    entry = {"Aliases": list(aliases), "IPAMConfig": {"IPv4Address": ip} if ip else None, "NetworkID": net.id}
    if container.running:
        live = live_endpoints(container.state)
        used = {e.get("Interface") for e in live.values()} | ({"eth0"} if is_default(mode) else set())
        interface = next(f"eth{n}" for n in range(64) if f"eth{n}" not in used)
        endpoint = _attach(net, container.id, container.state["Pid"], interface, entry,
                           container.state.get("ShimPid") or os.getpid(), first=False)
        network_state = dict(container.state.get("Network") or {})
        network_state["Endpoints"] = {**live, net.name: endpoint}
        containers.set_state(container, Network=network_state)
        if not live:  # its first user network: names resolve through the embedded DNS from now on
            write_etc_files(root, container.id, container.config, network_state.get("IPAddress") or
                            endpoint["IPAddress"], embedded=True)
            _ask_shim_for_dns(container.state.get("ShimPid", 0))
    _save_requested(container, {**wanted, net.name: entry})


DNS_SIGNAL = signal.SIGUSR2   # to a shim: serve the embedded DNS now (a connect gave it a user network)


def _ask_shim_for_dns(shim_pid: int) -> None:
    if shim_pid:
        try:
            os.kill(shim_pid, DNS_SIGNAL)
        except ProcessLookupError:  # it ended meanwhile: the next start joins with DNS
            pass


def disconnect(root: Path, containers: ContainerStore, container: Container, net) -> None:
    wanted = requested(container.config)
    live = live_endpoints(container.state) if container.running else {}
    key = next((k for k, w in wanted.items() if k == net.name or w.get("NetworkID") == net.id), None)
    if key is None and net.name not in live:
        raise NotFound(f"container {container.id} is not connected to network {net.name}")
    if net.name in live:
        endpoint = live.pop(net.name)
        links.detach(endpoint["HostEnd"])
        ipam.release(net.id, endpoint["IPAddress"])
        network_state = dict(container.state.get("Network") or {})
        network_state["Endpoints"] = live
        containers.set_state(container, Network=network_state)
    wanted.pop(key, None)
    _save_requested(container, wanted)


def _save_requested(container: Container, wanted: dict) -> None:
    config = dict(container.config)
    config["NetworkingConfig"] = {"EndpointsConfig": wanted}
    write_json(container.dir / "config.json", config)
    container.config = config
