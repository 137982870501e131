"""Host ports and container addresses, handed out host-wide under a lock.

**Host ports** (`bind_ports`, run by `strata start` before it forks the shim): every binding
becomes a listening socket in the host's network namespace, bound under
`<root>/network/ports.lock`. A random host port is handed out like dockerd's port allocator:
sequentially from the start of /proc/sys/net/ipv4/ip_local_port_range, continuing after the
last one handed out (`<root>/network/ports.json` keeps the position and which container holds
which port), skipping ports that fail the bind. Binding *is* the reservation (TCP sockets
listen before the lock is released; UDP sockets are bound without SO_REUSEADDR), so two
`strata` processes — or strata and anything else — can never both get one port, and an entry
that a killed shim left in the table never blocks a free port. A port that another strata
container holds is refused in dockerd's words (`Bind for 127.0.0.1:8080 failed: port is
already allocated`); a port held by any other listener fails as dockerd's docker-proxy does
there (`Error starting userland proxy: listen tcp4 127.0.0.1:8080: bind: address already in
use`, seen with dockerd 20.10). Either way `start` fails before the shim exists, so `run`
exits 125 and the container stays `created`.

IPv6: for a binding without an address, dockerd 20.10 reports two bindings, on `0.0.0.0` and
on `::`, and `docker port` prints both (`80/tcp -> 0.0.0.0:32768`, `80/tcp -> [::]:32768`).
strata does the same: it listens on 0.0.0.0 and on `::` (IPV6_V6ONLY) — one host port for
both (dockerd 20.10 allocates the two separately and may print two different numbers; later
dockerd versions use one); on a host without IPv6 only the 0.0.0.0 binding exists.

**Container addresses** (`allocate_address`, run by the shim): the lowest free address of
the bridge's subnet from .2, kept in `/run/strata/ipam.json` under `/run/strata/ipam.lock`
(host-wide, as the bridge is). An entry whose shim is gone counts as free.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

from reference_impl.errors import EngineError
from reference_impl.fsutil import locked, read_json, write_json
from reference_impl.ownership import holder_alive, process_start_time
from reference_impl.network.bridge import BRIDGE, GATEWAY, RUN_DIR, SUBNET
from reference_impl.network.ports import (PortBinding, PortMap, join_host_port, parse_port_range,
                                          port_map_from_json, port_sort_key)

IPAM_DIR = RUN_DIR


class PortError(EngineError):
    """A host port cannot be bound: `start` fails before the shim exists."""


@dataclass
class Listener:
    """A host socket bound for one container port; the shim forwards what it receives."""
    port: str            # container port key, "80/tcp"
    host_ip: str         # "0.0.0.0", "::", "127.0.0.1"
    host_port: int
    sock: socket.socket

    @property
    def proto(self) -> str:
        return self.port.split("/")[1]

    @property
    def container_port(self) -> int:
        return int(self.port.split("/")[0])


# --- host ports ---------------------------------------------------------------------------------

def ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _bind(ip: str, port: int, proto: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(socket.SOMAXCONN)
    except BaseException:
        sock.close()
        raise
    return sock


def _ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@dataclass
class _Table:
    """<root>/network/ports.json: which container holds which host port, where the
    sequential allocator stands."""
    path: Path
    held: dict = field(default_factory=dict)   # "tcp/127.0.0.1/32768" -> container id
    last: dict = field(default_factory=dict)   # "tcp" -> last port handed out

    @classmethod
    def load(cls, path: Path, containers_dir: Path) -> "_Table":
        data = read_json(path, {}) or {}
        held = {k: v for k, v in (data.get("held") or {}).items() if (containers_dir / v).is_dir()}
        return cls(path, held, data.get("last") or {})

    def save(self) -> None:
        write_json(self.path, {"held": self.held, "last": self.last}, durable=False)

    def holder(self, proto: str, ip: str, port: int, me: str) -> str | None:
        for key, owner in self.held.items():
            p, held_ip, held_port = key.split("/")
            # per address, as dockerd's port allocator keeps them: 0.0.0.0:P against a
            # held 127.0.0.1:P fails in the bind instead ("userland proxy")
            if owner != me and p == proto and int(held_port) == port and ip == held_ip:
                return owner
        return None


def _requests(config: dict) -> list[tuple[str, PortBinding]]:
    """(port key, wanted binding) for every binding the container asks for."""
    host = config["HostConfig"]
    bindings = port_map_from_json(host.get("PortBindings"))
    exposed = list((config["Config"].get("ExposedPorts") or {}).keys())
    found = []
    for port in sorted(set(exposed) | set(bindings), key=port_sort_key):
        wanted = bindings.get(port) or ([PortBinding()] if host.get("PublishAllPorts") else [])
        found += [(port, b) for b in wanted]
    return found


def bind_ports(root: Path, container) -> tuple[PortMap, list[Listener]]:
    """Bind every published port of `container` (under the store's port lock): the ports as
    NetworkSettings shows them, and the listening sockets."""
    config = container.config
    exposed = list((config["Config"].get("ExposedPorts") or {}).keys()) + \
        list((config["HostConfig"].get("PortBindings") or {}).keys())
    ports: PortMap = {p: None for p in sorted(set(exposed), key=str)}
    requests = _requests(config)
    listeners: list[Listener] = []
    if not requests:
        return ports, listeners
    net_dir = root / "network"
    try:
        with locked(net_dir / "ports.lock"):
            table = _Table.load(net_dir / "ports.json", root / "containers")
            table.held = {k: v for k, v in table.held.items() if v != container.id}
            v6 = None
            for port, wanted in requests:
                proto = port.split("/")[1]
                if proto == "sctp":
                    raise PortError(f"driver failed programming external connectivity on endpoint "
                                    f"{container.name}: sctp ports are not supported by strata")
                if not wanted.host_ip:
                    if v6 is None:
                        v6 = _ipv6_available()
                    ips = ["0.0.0.0", "::"] if v6 else ["0.0.0.0"]
                else:
                    ips = [wanted.host_ip]
                for ip, number, sock in _allocate(table, container, proto, ips, wanted.host_port):
                    listeners.append(Listener(port, ip, number, sock))
                    table.held[f"{proto}/{ip}/{number}"] = container.id
                    ports[port] = (ports.get(port) or []) + [PortBinding(ip, str(number))]
            table.save()
    except BaseException:
        for listener in listeners:
            listener.sock.close()
        raise
    return ports, listeners


def _allocate(table: _Table, container, proto: str, ips: list[str], spec: str):
    """Bind `ips` on one host port: the fixed one, the first free of a range, or the next
    free of the ephemeral range after the last one handed out. The bind decides; the
    table only chooses dockerd's words when it fails (a port another strata container
    holds is "already allocated"; one held by anything else fails as docker-proxy's
    listen does), so an entry a crashed shim left behind never blocks a free port."""
    if spec and spec != "0":
        low, high = parse_port_range(spec)
        fixed = low == high
        candidates = list(range(low, high + 1))
    else:
        low, high = ephemeral_range()
        fixed = False
        last = int(table.last.get(proto, low - 1))
        first = last + 1 if low <= last + 1 <= high else low
        candidates = list(range(first, high + 1)) + list(range(low, first))
    failure: PortError | None = None
    for number in candidates:
        socks = []
        try:
            for ip in ips:
                socks.append(_bind(ip, number, proto))
        except OSError as exc:
            for s in socks:
                s.close()
            ip = ips[len(socks)]
            if exc.errno == errno.EADDRINUSE and table.holder(proto, ip, number, container.id):
                detail = f"Bind for {join_host_port(ip, number)} failed: port is already allocated"
            else:
                detail = (f"Error starting userland proxy: listen {proto}{'6' if ':' in ip else '4'} "
                          f"{join_host_port(ip, number)}: bind: {(exc.strerror or str(exc)).lower()}")
            failure = _error(container, detail)
            if fixed or exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise failure from None
            continue
        if not (spec and spec != "0"):
            table.last[proto] = number
        return [(ip, number, s) for ip, s in zip(ips, socks)]
    raise failure or _error(container, "Bind for 0.0.0.0:0 failed: no available ports")


def _error(container, detail: str) -> PortError:
    return PortError(f"driver failed programming external connectivity on endpoint "
                     f"{container.name} ({secrets.token_hex(32)}): {detail}")


def release_ports(root: Path, container_id: str) -> None:
    net_dir = root / "network"
    if not (net_dir / "ports.json").exists():
        return
    with locked(net_dir / "ports.lock"):
        table = _Table.load(net_dir / "ports.json", root / "containers")
        held = {k: v for k, v in table.held.items() if v != container_id}
        if held != table.held:
            table.held = held
            table.save()


# --- container addresses ------------------------------------------------------------------------

def allocate_address(container_id: str) -> ipaddress.IPv4Address:
    """The lowest free address on the bridge, held by this process (the shim)."""
    with locked(IPAM_DIR / "ipam.lock"):
        table = read_json(IPAM_DIR / "ipam.json", {}) or {}
        live = {ip: e for ip, e in table.items() if holder_alive(e["pid"], e["start"])}
        me = os.getpid()
        for address in SUBNET.hosts():
            if address != GATEWAY and str(address) not in live:
                live[str(address)] = {"id": container_id, "pid": me, "start": process_start_time(me)}
                write_json(IPAM_DIR / "ipam.json", live, durable=False)
                return address
    raise EngineError(f"no available IPv4 addresses on {BRIDGE}")


def release_address(address: str) -> None:
    with locked(IPAM_DIR / "ipam.lock"):
        table = read_json(IPAM_DIR / "ipam.json", {}) or {}
        if table.pop(address, None) is not None:
            write_json(IPAM_DIR / "ipam.json", table, durable=False)
