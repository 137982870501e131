"""Networks as store objects: <root>/networks/<id>.json, one record a network.

The three default networks (`bridge`, `host`, `none`) are not stored: they always exist, with
ids derived from the store's root, as dockerd's do per daemon. `bridge` is strata0
(reference_impl/network/bridge.py). A user-defined network is a bridge of its own,
`sbr-<11 hex of its id>`, created by `create` and deleted by `remove`.

Subnets are host-wide (a bridge is), so they are chosen under a host-wide lock
(/run/strata/networks.lock) and refused when they overlap another network of this store or a
route the host already has — another store's bridge, docker0, a VM network — in dockerd's words.
Without --subnet, the first free /16 of 172.18.0.0 … 172.31.0.0, then the first free /24 of
192.168.0.0/16, as dockerd's default pools hand them out.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

from reference_impl import humanize
from reference_impl.errors import Conflict, EngineError, InvalidArgument, InvalidInput, NotFound
from reference_impl.fsutil import locked, read_json, write_json
from reference_impl.network import bridge, links

DEFAULT_NAMES = ("bridge", "host", "none")
DRIVERS = {"bridge": "bridge", "host": "host", "none": "null"}
BRIDGE_PREFIX = "sbr-"


@dataclass
class Network:
    """One network as the engine keeps it."""
    id: str
    name: str
    driver: str = "bridge"
    created: str = ""
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    gateway_given: bool = False   # dockerd shows a Gateway in IPAM.Config only when asked or chosen
    options: dict[str, str] = field(default_factory=dict)
    builtin: bool = False

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def bridge_name(self) -> str:
        return bridge.BRIDGE if self.name == "bridge" and self.builtin else BRIDGE_PREFIX + self.id[:11]

    @property
    def user_defined(self) -> bool:
        return not self.builtin

    @property
    def has_addresses(self) -> bool:
        return self.driver == "bridge"

    def ipam_config(self) -> list[dict]:
        if not self.subnet:
            return []
        entry = {"Subnet": self.subnet}
        if self.ip_range:
            entry["IPRange"] = self.ip_range
        if self.gateway_given:
            entry["Gateway"] = self.gateway
        return [entry]

    def to_json(self) -> dict:
        return {"Id": self.id, "Name": self.name, "Driver": self.driver, "Created": self.created,
                "Internal": self.internal, "Labels": self.labels, "Subnet": self.subnet,
                "Gateway": self.gateway, "IPRange": self.ip_range, "GatewayGiven": self.gateway_given,
                "Options": self.options}

    @classmethod
    def from_json(cls, data: dict) -> "Network":
        return cls(id=data["Id"], name=data["Name"], driver=data.get("Driver", "bridge"),
                   created=data.get("Created", ""), internal=bool(data.get("Internal")),
                   labels=data.get("Labels") or {}, subnet=data.get("Subnet", ""),
                   gateway=data.get("Gateway", ""), ip_range=data.get("IPRange", ""),
                   gateway_given=bool(data.get("GatewayGiven")), options=data.get("Options") or {})


class NetworkStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.dir = self.root / "networks"

    # --- reading ------------------------------------------------------------------------------

    def defaults(self) -> list[Network]:
        made = humanize.now_rfc3339()
        stamp = self.dir / ".created"
        if stamp.exists():
            made = stamp.read_text().strip() or made
        found = []
        for name in DEFAULT_NAMES:
            net_id = hashlib.sha256(f"strata default network {name} {self.root}".encode()).hexdigest()
            extra = {}
            if name == "bridge":
                extra = {"subnet": str(bridge.SUBNET), "gateway": str(bridge.GATEWAY), "gateway_given": True,
                         "options": {"com.docker.network.bridge.name": bridge.BRIDGE,
                                     "com.docker.network.bridge.default_bridge": "true"}}
            found.append(Network(id=net_id, name=name, driver=DRIVERS[name], created=made, builtin=True,
                                 **extra))
        return found

    def user_networks(self) -> list[Network]:
        if not self.dir.is_dir():
            return []
        found = []
        for path in sorted(self.dir.glob("*.json")):
            data = read_json(path, None)
            if data:
                found.append(Network.from_json(data))
        return found

    def all(self) -> list[Network]:
        return self.defaults() + self.user_networks()

    def resolve(self, text: str) -> Network:
        """By full id, name, or unique id prefix (dockerd's order)."""
        everything = self.all()
        for net in everything:
            if net.id == text:
                return net
        for net in everything:
            if net.name == text:
                return net
        matches = [net for net in everything if text and net.id.startswith(text)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NotFound(f"network {text} is ambiguous ({len(matches)} matches found based on ID prefix)")
        raise NotFound(f"network {text} not found")

    # --- creating and removing ---------------------------------------------------------------

    def create(self, name: str, *, subnet: str = "", gateway: str = "", ip_range: str = "",
               internal: bool = False, labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None) -> Network:
        net = Network(id=secrets.token_hex(32), name=name, created=humanize.now_rfc3339(), internal=internal,
                      labels=dict(labels or {}), options=dict(options or {}))
        chosen = _parse_subnet(subnet) if subnet else None
        range_net = _parse_range(ip_range, chosen) if ip_range else None
        gw = _parse_gateway(gateway, chosen) if gateway else None
        self.dir.mkdir(parents=True, exist_ok=True)
        stamp = self.dir / ".created"
        if not stamp.exists():
            stamp.write_text(humanize.now_rfc3339())
        with locked(bridge.RUN_DIR / "networks.lock"):
            if any(n.name == name for n in self.all()):
                raise Conflict(f"network with name {name} already exists")
            taken = [ipaddress.ip_network(n.subnet) for n in self.all() if n.subnet] + host_routes()
            if chosen is None:
                chosen = _first_free(taken)
                net.gateway_given = True
            elif any(chosen.overlaps(t) for t in taken):
                raise Conflict("Pool overlaps with other one on this address space")
            net.subnet, net.ip_range = str(chosen), str(range_net) if range_net else ""
            net.gateway = str(gw or next(chosen.hosts()))
            net.gateway_given = net.gateway_given or gw is not None
            links.create_bridge(net.bridge_name, net.gateway, chosen.prefixlen, internal)
            write_json(self.dir / f"{net.id}.json", net.to_json())
        return net

    def remove(self, net: Network) -> None:
        with locked(bridge.RUN_DIR / "networks.lock"):
            (self.dir / f"{net.id}.json").unlink(missing_ok=True)
            links.delete_bridge(net.bridge_name)


# --- subnets --------------------------------------------------------------------------------------

def _parse_subnet(text: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidArgument(f"Invalid subnet {text} : invalid CIDR address: {text}") from None
    if net.version != 4:
        raise InvalidArgument(f"strata supports IPv4 subnets only: {text}")
    return net


def _parse_range(text: str, subnet) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidInput(f"Invalid subnet {text} : invalid CIDR address: {text}") from None
    if subnet is None or not net.subnet_of(subnet):
        raise InvalidInput(f"no matching subnet for range {text}")
    return net


def _parse_gateway(text: str, subnet) -> ipaddress.IPv4Address:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidInput(f"invalid gateway address {text}") from None
    if subnet is None or address not in subnet:
        raise InvalidInput(f"no matching subnet for gateway {text}")
    return address


def _first_free(taken: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    pools = [ipaddress.ip_network(f"172.{n}.0.0/16") for n in range(18, 32)]
    pools += list(ipaddress.ip_network("192.168.0.0/16").subnets(new_prefix=24))
    for pool in pools:
        if not any(pool.overlaps(t) for t in taken):
            return pool
    raise EngineError("could not find an available, non-overlapping IPv4 address pool among the "
                      "defaults to assign to the network")


def host_routes() -> list[ipaddress.IPv4Network]:
    """The IPv4 routes of the host's namespace other than the default route (/proc/net/route)."""
    found = []
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        dest = socket.inet_ntoa(struct.pack("<L", int(fields[1], 16)))
        mask = socket.inet_ntoa(struct.pack("<L", int(fields[7], 16)))
        if mask != "0.0.0.0":
            found.append(ipaddress.ip_network(f"{dest}/{mask}", strict=False))
    return found


def store_for(root: Path | str) -> NetworkStore:
    return NetworkStore(Path(root))


def exists_on_host(bridge_name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{bridge_name}")


def problems(root: Path, containers) -> list[str]:
    """For `system check`: every user-defined network has its bridge; every endpoint of a
    running container is on a network that exists, through a veth that exists."""
    store = NetworkStore(root)
    found = [f"network {net.name}: its bridge {net.bridge_name} is missing"
             for net in store.user_networks() if not exists_on_host(net.bridge_name)]
    known = {net.id for net in store.all()}
    for container in containers:
        if not container.running:
            continue
        for name, endpoint in ((container.state.get("Network") or {}).get("Endpoints") or {}).items():
            if endpoint.get("NetworkID") not in known:
                found.append(f"container {container.short_id}: endpoint on network {name}, which is gone")
            elif not exists_on_host(endpoint.get("HostEnd", "")):
                found.append(f"container {container.short_id}: its veth on network {name} is missing")
    return found
