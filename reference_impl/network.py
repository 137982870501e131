"""Port publishing and container networking.

Four parts, in the order a container meets them:

1. **Parsing** (`parse_publish`, `parse_expose`): `-p/--publish` in every form the docker
   CLI takes — `80`, `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`, `[::1]::80`, ranges
   (`8000-8001:8000-8001`, `127.0.0.1::8000-8001`, a host range for one container port
   `8000-8010:80`), `/tcp` `/udp` `/sctp`, and the long form `published=8080,target=80`
   — with the errors docker's go-connections `nat.ParsePortSpec` gives, word for word
   (`invalid containerPort: abc`, `invalid hostPort: 99999`, `invalid proto: xyz` …).
   The result is stored as docker stores it: `Config.ExposedPorts` and
   `HostConfig.PortBindings` (`{"80/tcp": [{"HostIp": "", "HostPort": ""}]}`).

2. **Allocation** (`publish`, run by `strata start` before it forks the shim): every
   binding becomes a listening socket in the host's network namespace, bound under
   `<root>/network/ports.lock`. A random host port is handed out like dockerd's port
   allocator: sequentially from the start of /proc/sys/net/ipv4/ip_local_port_range,
   continuing after the last one handed out (`<root>/network/ports.json` keeps the
   position and which container holds which port), skipping ports that fail the
   bind. Binding *is* the reservation (TCP sockets listen before the lock is
   released; UDP sockets are bound without SO_REUSEADDR), so two `strata` processes —
   or strata and anything else — can never both get one port, and an entry that a
   killed shim left in the table never blocks a free port. A port that another strata
   container holds is refused in dockerd's words (`Bind for 127.0.0.1:8080 failed:
   port is already allocated`); a port held by any other listener fails as dockerd's
   docker-proxy does there (`Error starting userland proxy: listen tcp4
   127.0.0.1:8080: bind: address already in use`, seen with dockerd 20.10). Either
   way `start` fails before the shim exists, so `run` exits 125 and the container
   stays `created`.

   IPv6: for a binding without an address, dockerd 20.10 reports two bindings, on
   `0.0.0.0` and on `::`, and `docker port` prints both (`80/tcp -> 0.0.0.0:32768`,
   `80/tcp -> [::]:32768`). strata does the same: it listens on 0.0.0.0 and on `::`
   (IPV6_V6ONLY) — one host port for both (dockerd 20.10 allocates the two
   separately and may print two different numbers; later dockerd versions use one);
   on a host without IPv6 only the 0.0.0.0 binding exists and is reported.

3. **Forwarding** (`ContainerNetwork.start`, run in the container's shim): one thread
   per listening socket. A TCP thread joins the container's network namespace
   (setns on /proc/<pid>/ns/net of the container's PID 1 — setns of a network
   namespace applies to the calling thread only), accepts on the host socket (bound
   earlier in the host namespace), and for each connection creates a socket *in the
   container's namespace* and connects it to 127.0.0.1:<containerPort>, as
   rootlesskit's port driver does: no traffic goes to the container's private
   address. Two threads then move bytes with splice(2) through a pipe, half-closes
   passed on. UDP: per client address, one socket in the container's namespace
   connected to 127.0.0.1:<containerPort>, replies sent back from the host socket,
   idle flows dropped after 90 s (docker-proxy's UDP timeout). The forwarders are
   threads of the shim, so they stop with the container; `start`/`restart` publish
   afresh (a random host port is then a new one, as with dockerd).

4. **The bridge** (`ContainerNetwork.start` again): the container gets an address on
   `strata0`, a Linux bridge the engine creates on first use with 172.29.0.1/16
   (docker0 is 172.17.0.0/16): a veth pair whose peer is created directly inside the
   container's namespace as `eth0`, an address from `/run/strata/ipam.json` (lowest
   free, from .2, under `/run/strata/ipam.lock`; host-wide, as the bridge is), the
   MAC derived from it as docker does (02:42:ac:1d:…), and a default route via the
   bridge. The address is released when the shim exits (an entry whose shim is gone
   counts as free), and the veth disappears with the namespace. The shim attaches the
   bridge once the container's PID 1 exists, so its command may start a few
   milliseconds before eth0 is up (never after `run -d` returns); published ports do
   not depend on it (the forwarders use the container's loopback, and connections
   that arrive before they run wait in the listen backlog). No NAT or iptables
   rules are installed: containers get no way out of the host, and nothing is ever
   sent to their address by strata's forwarders. If the bridge cannot be set up (no
   `ip`, no permission), the container runs without it and IPAddress is "".
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import ipaddress
import os
import queue
import re
import secrets
import selectors
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from reference_impl import syscalls as sc
from reference_impl.errors import EngineError, InvalidInput
from reference_impl.fsutil import locked, read_json, write_json

PROTOCOLS = ("tcp", "udp", "sctp")
BRIDGE = "strata0"
SUBNET = ipaddress.ip_network("172.29.0.0/16")
GATEWAY = ipaddress.ip_address("172.29.0.1")
IPAM_DIR = Path("/run/strata")
UDP_IDLE = 90.0
_CHUNK = 1 << 20


# --- 1. parsing: go-connections nat.ParsePortSpec, the docker CLI's opts --------------------------

def _parse_uint16(text: str) -> int:
    """strconv.ParseUint(text, 10, 16)."""
    if not re.fullmatch(r"[0-9]+", text):
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 65535:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def parse_port_range(text: str) -> tuple[int, int]:
    """nat.ParsePortRange: `80` or `8000-8010` (parts after a second '-' are ignored, as there)."""
    if not text:
        raise ValueError("Empty string specified for ports.")
    if "-" not in text:
        port = _parse_uint16(text)
        return port, port
    parts = text.split("-")
    start, end = _parse_uint16(parts[0]), _parse_uint16(parts[1])
    if end < start:
        raise ValueError(f"Invalid range specified for the Port: {text}")
    return start, end


def split_proto_port(raw: str) -> tuple[str, str]:
    """nat.SplitProtoPort: `80/udp` -> ("udp", "80"); `80` -> ("tcp", "80")."""
    parts = raw.split("/")
    if not raw or not parts[0]:
        return "", ""
    if len(parts) == 1:
        return "tcp", raw
    if not parts[1]:
        return "tcp", parts[0]
    return parts[1], parts[0]


def _split_parts(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    n = len(parts)
    if n == 1:
        return "", "", parts[0]
    if n == 2:
        return "", parts[0], parts[1]
    if n == 3:
        return parts[0], parts[1], parts[2]
    return ":".join(parts[:n - 2]), parts[n - 2], parts[n - 1]


def _valid_ip(text: str) -> bool:
    if "%" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_port_spec(raw: str) -> list[tuple[str, dict]]:
    """One `-p` value -> [(port key "80/tcp", {"HostIp": …, "HostPort": …})]."""
    ip, host_port, container_port = _split_parts(raw)
    proto, container_port = split_proto_port(container_port)
    if ip.startswith("["):
        if not ip.endswith("]") or "]" in ip[:-1]:
            raise InvalidInput(f"Invalid ip address {ip}: address {ip}:: missing ']' in address")
        ip = ip[1:-1]
    if ip and not _valid_ip(ip):
        raise InvalidInput(f"invalid IP address: {ip}")
    if not container_port:
        raise InvalidInput(f"no port specified: {raw}<empty>")
    try:
        start, end = parse_port_range(container_port)
    except ValueError:
        raise InvalidInput(f"invalid containerPort: {container_port}") from None
    host_start = host_end = 0
    if host_port:
        try:
            host_start, host_end = parse_port_range(host_port)
        except ValueError:
            raise InvalidInput(f"invalid hostPort: {host_port}") from None
    if host_port and (end - start) != (host_end - host_start) and end != start:
        raise InvalidInput(f"invalid ranges specified for container and host Ports: "
                           f"{container_port} and {host_port}")
    if proto.lower() not in PROTOCOLS:
        raise InvalidInput(f"invalid proto: {proto}")
    mappings = []
    for i in range(end - start + 1):
        binding_port = str(host_start + i) if host_port else ""
        if start == end and host_start != host_end:
            binding_port = f"{host_start}-{host_end}"
        mappings.append((f"{start + i}/{proto.lower()}", {"HostIp": ip, "HostPort": binding_port}))
    return mappings


def _standard_notation(spec: str) -> str:
    """The docker CLI's convertToStandardNotation: `published=8080,target=80,protocol=udp`."""
    if "=" not in spec:
        return spec
    params = {"protocol": "tcp"}
    for param in spec.split(","):
        key, eq, value = param.partition("=")
        if not eq:
            raise InvalidInput(f"invalid publish opts format (should be name=value but got '{param}')")
        params[key] = value.split("=")[0]
    return f"{params.get('published', '')}:{params.get('target', '')}/{params['protocol']}"


def parse_publish(specs: list[str]) -> tuple[list[str], dict[str, list[dict]]]:
    """nat.ParsePortSpecs over every `-p`: (exposed port keys, PortBindings)."""
    exposed: list[str] = []
    bindings: dict[str, list[dict]] = {}
    for spec in specs:
        for port, binding in parse_port_spec(_standard_notation(spec)):
            if port not in exposed:
                exposed.append(port)
            bindings.setdefault(port, []).append(binding)
    return exposed, bindings


def parse_expose(specs: list[str]) -> list[str]:
    """`--expose 80`, `--expose 8000-8010/udp` -> port keys, as the docker CLI expands them."""
    found: list[str] = []
    for spec in specs:
        if ":" in spec:
            raise InvalidInput(f"invalid port format for --expose: {spec}")
        proto, port = split_proto_port(spec)
        try:
            start, end = parse_port_range(port)
        except ValueError as exc:
            raise InvalidInput(f"invalid range format for --expose: {spec}, error: {exc}") from None
        for p in range(start, end + 1):
            key = f"{p}/{proto.lower()}"
            if key not in found:
                found.append(key)
    return found


def port_key(text: str) -> str:
    return text if "/" in text else f"{text}/tcp"


# --- presentation: `port`, the PORTS column, NetworkSettings ------------------------------------

def _port_sort_key(key: str) -> tuple[int, str]:
    number, _, proto = key.partition("/")
    return (int(number) if number.isdigit() else 0, proto)


def join_host_port(host: str, port: str | int) -> str:
    """Go's net.JoinHostPort."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def natural_less(a: str, b: str) -> bool:
    """fvbommel/sortorder.NaturalLess, which `docker port` sorts its lines with."""
    i = j = 0
    while i < len(a) and j < len(b):
        c1, c2 = a[i], b[j]
        d1, d2 = c1.isdigit(), c2.isdigit()
        if d1 != d2:
            return d1
        if not d1:
            if c1 != c2:
                return c1 < c2
            i += 1
            j += 1
            continue
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        nz1, nz2 = i, j
        while i < len(a) and a[i].isdigit():
            i += 1
        while j < len(b) and b[j].isdigit():
            j += 1
        if i - nz1 != j - nz2:
            return i - nz1 < j - nz2
        if a[nz1:i] != b[nz2:j]:
            return a[nz1:i] < b[nz2:j]
        if nz1 != nz2:
            return nz1 < nz2
    return len(a) < len(b)


def natural_sorted(lines: list[str]) -> list[str]:
    return sorted(lines, key=functools.cmp_to_key(
        lambda x, y: -1 if natural_less(x, y) else (1 if natural_less(y, x) else 0)))


def port_lines(ports: dict, wanted: str | None, typed_name: str) -> list[str]:
    """What `docker port NAME [PORT]` prints, or InvalidInput with its words."""
    if wanted is not None:
        number, _, proto = wanted.partition("/")
        try:
            _parse_uint16(number)
        except ValueError as exc:
            raise InvalidInput(f"Error: invalid port ({number}): {exc}") from None
        frontends = ports.get(f"{number}/{proto or 'tcp'}") or []
        if not frontends:
            raise InvalidInput(f"Error: No public port '{wanted}' published for {typed_name}")
        out = [join_host_port(f["HostIp"], f["HostPort"]) for f in frontends]
    else:
        out = [f"{key} -> {join_host_port(f['HostIp'], f['HostPort'])}"
               for key, frontends in ports.items() for f in frontends or []]
    return natural_sorted(out)


def displayable_ports(ports: dict) -> str:
    """The docker CLI's DisplayablePorts (formatter/container.go): the PORTS column."""
    entries = []  # (private, ip, public, type)
    for key, frontends in ports.items():
        number, _, proto = key.partition("/")
        private = int(number)
        if not frontends:
            entries.append((private, "", 0, proto))
            continue
        for f in frontends:
            entries.append((private, f["HostIp"], int(f["HostPort"] or 0), proto))
    entries.sort()
    groups: dict[str, list[int]] = {}
    order: list[str] = []
    result: list[str] = []
    host_mappings: list[str] = []

    def form(key: str, first: int, last: int) -> str:
        ip, _, kind = key.rpartition("/")
        group = str(first) if first == last else f"{first}-{last}"
        if ip:
            group = f"{join_host_port(ip, group)}->{group}"
        return f"{group}/{kind}"

    for private, ip, public, proto in entries:
        key = proto
        if ip:
            if public != private:
                host_mappings.append(f"{join_host_port(ip, public)}->{private}/{proto}")
                continue
            key = f"{ip}/{proto}"
        group = groups.get(key)
        if group is None:
            groups[key] = [private, private]
            order.append(key)
            continue
        if private == group[1] + 1:
            group[1] = private
            continue
        result.append(form(key, group[0], group[1]))
        groups[key] = [private, private]
    result += [form(key, *groups[key]) for key in order]
    return ", ".join(result + host_mappings)


def network_settings(container) -> dict:
    """NetworkSettings as `inspect` shows it: filled in while the container runs."""
    live = container.state.get("Network") if container.running else None
    live = live or {}
    ip = live.get("IPAddress", "")
    endpoint = {"IPAMConfig": None, "Links": None, "Aliases": None,
                "MacAddress": live.get("MacAddress", ""), "NetworkID": live.get("NetworkID", ""),
                "EndpointID": live.get("EndpointID", ""), "Gateway": live.get("Gateway", ""),
                "IPAddress": ip, "IPPrefixLen": live.get("IPPrefixLen", 0), "IPv6Gateway": "",
                "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DriverOpts": None}
    return {"Bridge": "", "SandboxID": live.get("SandboxID", ""), "HairpinMode": False,
            "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": live.get("Ports", {}), "SandboxKey": live.get("SandboxKey", ""),
            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            "EndpointID": live.get("EndpointID", ""), "Gateway": live.get("Gateway", ""),
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": ip,
            "IPPrefixLen": live.get("IPPrefixLen", 0), "IPv6Gateway": "",
            "MacAddress": live.get("MacAddress", ""),
            "Networks": {"bridge": endpoint} if live else {}}


def published_ports(container) -> dict:
    return network_settings(container)["Ports"]


# --- 2. allocation ---------------------------------------------------------------------------

@dataclass
class Listener:
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


def ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _family(ip: str) -> int:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def _bind(ip: str, port: int, proto: str) -> socket.socket:
    family = _family(ip)
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


class PortError(EngineError):
    """A host port cannot be bound: `start` fails before the shim exists."""


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


def _requests(config: dict) -> list[tuple[str, str, str]]:
    """(port key, host ip, host port spec) for every binding the container asks for."""
    host = config["HostConfig"]
    bindings = host.get("PortBindings") or {}
    exposed = list((config["Config"].get("ExposedPorts") or {}).keys())
    found = []
    for port in sorted(set(exposed) | set(bindings), key=_port_sort_key):
        wanted = bindings.get(port) or ([{"HostIp": "", "HostPort": ""}] if host.get("PublishAllPorts") else [])
        for b in wanted:
            found.append((port, b.get("HostIp", ""), b.get("HostPort", "")))
    return found


def publish(root: Path, container) -> "ContainerNetwork":
    """Bind every published port of `container` (under the store's port lock)."""
    config = container.config
    exposed = list((config["Config"].get("ExposedPorts") or {}).keys()) + \
        list((config["HostConfig"].get("PortBindings") or {}).keys())
    ports: dict[str, list | None] = {p: None for p in sorted(set(exposed), key=str)}
    requests = _requests(config)
    listeners: list[Listener] = []
    if not requests:
        return ContainerNetwork(root, container.id, container.name, ports, listeners)
    net_dir = root / "network"
    try:
        with locked(net_dir / "ports.lock"):
            table = _Table.load(net_dir / "ports.json", root / "containers")
            table.held = {k: v for k, v in table.held.items() if v != container.id}
            v6 = None
            for port, host_ip, spec in requests:
                proto = port.split("/")[1]
                if proto == "sctp":
                    raise PortError(f"driver failed programming external connectivity on endpoint "
                                    f"{container.name}: sctp ports are not supported by strata")
                if host_ip in ("", None):
                    if v6 is None:
                        v6 = _ipv6_available()
                    ips = ["0.0.0.0", "::"] if v6 else ["0.0.0.0"]
                else:
                    ips = [host_ip]
                bound = _allocate(table, container, proto, ips, spec)
                for ip, number, sock in bound:
                    listeners.append(Listener(port, ip, number, sock))
                    table.held[f"{proto}/{ip}/{number}"] = container.id
                    entry = {"HostIp": ip, "HostPort": str(number)}
                    ports[port] = (ports.get(port) or []) + [entry]
            table.save()
    except BaseException:
        for listener in listeners:
            listener.sock.close()
        raise
    return ContainerNetwork(root, container.id, container.name, ports, listeners)


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


# --- 3. forwarding (in the shim) -----------------------------------------------------------

def _enter_netns(netns_fd: int) -> None:
    sc.setns(netns_fd, sc.CLONE_NEWNET)


def _close(*socks) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()


def _pump(src: socket.socket, dst: socket.socket, done: threading.Event) -> None:
    """Copy src -> dst with splice(2) through a pipe until EOF, then half-close dst."""
    r, w = os.pipe()
    try:
        with contextlib.suppress(OSError):
            fcntl.fcntl(w, 1031, _CHUNK)  # F_SETPIPE_SZ
        sfd, dfd = src.fileno(), dst.fileno()
        while True:
            n = os.splice(sfd, w, _CHUNK, flags=os.SPLICE_F_MOVE)
            if n == 0:
                break
            while n:
                n -= os.splice(r, dfd, n, flags=os.SPLICE_F_MOVE)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (src, dst):  # a reset: tear both directions down
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
    finally:
        os.close(r)
        os.close(w)
        if done.is_set():
            _close(src, dst)
        else:
            done.set()


class _Workers:
    """Threads that outlive one connection: a new connection reuses an idle one (starting a
    thread costs more than a whole loopback round trip)."""

    def __init__(self, idle_timeout: float = 30.0):
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.idle = 0
        self.lock = threading.Lock()
        self.idle_timeout = idle_timeout

    def submit(self, fn, *args) -> None:
        with self.lock:
            reuse = self.idle > 0
            if reuse:
                self.idle -= 1
        self.tasks.put((fn, args))
        if not reuse:
            threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                fn, args = self.tasks.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self.lock:
                    if self.idle > 0 and self.tasks.empty():
                        self.idle -= 1
                        return
                continue
            try:
                fn(*args)
            except Exception:
                pass
            with self.lock:
                self.idle += 1


_workers = _Workers()


def _serve_tcp(listener: Listener, netns_fd: int, stopping: threading.Event) -> None:
    _enter_netns(netns_fd)
    target = ("127.0.0.1", listener.container_port)
    while not stopping.is_set():
        try:
            client, _ = listener.sock.accept()
        except OSError as exc:
            if exc.errno in (errno.EINTR, errno.ECONNABORTED, errno.EMFILE, errno.ENFILE):
                time.sleep(0.01 if exc.errno in (errno.EMFILE, errno.ENFILE) else 0)
                continue
            return
        inner = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # in the container's netns
        try:
            inner.connect(target)
        except OSError:
            _close(inner)
            with contextlib.suppress(OSError):  # as docker-proxy: accept, then drop
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            _close(client)
            continue
        for s in (client, inner):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = threading.Event()
        _workers.submit(_pump, client, inner, done)
        _workers.submit(_pump, inner, client, done)


def _serve_udp(listener: Listener, netns_fd: int, stopping: threading.Event) -> None:
    _enter_netns(netns_fd)
    target = ("127.0.0.1", listener.container_port)
    selector = selectors.DefaultSelector()
    selector.register(listener.sock, selectors.EVENT_READ, None)
    flows: dict[tuple, list] = {}  # client address -> [inner socket, last use]
    while not stopping.is_set():
        try:
            events = selector.select(timeout=1.0)
        except OSError:
            return
        now = time.monotonic()
        for key, _ in events:
            if key.data is None:
                try:
                    data, client = listener.sock.recvfrom(65535)
                except OSError:
                    if stopping.is_set():
                        return
                    continue
                flow = flows.get(client)
                if flow is None:
                    inner = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    inner.connect(target)
                    flow = flows[client] = [inner, now]
                    selector.register(inner, selectors.EVENT_READ, client)
                flow[1] = now
                with contextlib.suppress(OSError):
                    flow[0].send(data)
            else:
                client = key.data
                inner, _ = flows[client]
                try:
                    data = inner.recv(65535)
                except OSError:  # e.g. ECONNREFUSED: nothing listens yet
                    continue
                flows[client][1] = now
                with contextlib.suppress(OSError):
                    listener.sock.sendto(data, client)
        for client, (inner, used) in list(flows.items()):
            if now - used > UDP_IDLE:
                selector.unregister(inner)
                _close(inner)
                del flows[client]


# --- 4. the bridge ---------------------------------------------------------------------------

def _ip(*batch: str) -> None:
    subprocess.run(["ip", "-batch", "-"], input="\n".join(batch) + "\n", check=True,
                   capture_output=True, text=True)


def _ensure_bridge() -> None:
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        return
    try:
        _ip(f"link add {BRIDGE} type bridge", f"addr add {GATEWAY}/{SUBNET.prefixlen} dev {BRIDGE}",
            f"link set {BRIDGE} up")
    except subprocess.CalledProcessError:
        if not Path(f"/sys/class/net/{BRIDGE}").exists():
            raise


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _allocate_ip(container_id: str) -> ipaddress.IPv4Address:
    with locked(IPAM_DIR / "ipam.lock"):
        table = read_json(IPAM_DIR / "ipam.json", {}) or {}
        live = {ip: e for ip, e in table.items() if _start_time(e["pid"]) == e["start"]}
        me = os.getpid()
        for address in SUBNET.hosts():
            if address != GATEWAY and str(address) not in live:
                live[str(address)] = {"id": container_id, "pid": me, "start": _start_time(me)}
                write_json(IPAM_DIR / "ipam.json", live, durable=False)
                return address
    raise EngineError(f"no available IPv4 addresses on {BRIDGE}")


def _release_ip(address: str) -> None:
    with locked(IPAM_DIR / "ipam.lock"):
        table = read_json(IPAM_DIR / "ipam.json", {}) or {}
        if table.pop(address, None) is not None:
            write_json(IPAM_DIR / "ipam.json", table, durable=False)


def _configure_inside(netns_fd: int, address, mac: str) -> None:
    """In the container's namespace: eth0 address, up, default route (ioctls, no `ip`)."""
    SIOCSIFADDR, SIOCSIFNETMASK, SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCADDRT = \
        0x8916, 0x891c, 0x8913, 0x8914, 0x890B
    IFF_UP, RTF_UP, RTF_GATEWAY = 0x1, 0x1, 0x2
    import struct

    def sockaddr(ip) -> bytes:
        return struct.pack("HH4s8x", socket.AF_INET, 0, ipaddress.ip_address(ip).packed)

    failure: list[BaseException] = []

    def work():
        try:
            _enter_netns(netns_fd)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                name = b"eth0".ljust(16, b"\0")
                fcntl.ioctl(s, SIOCSIFADDR, name + sockaddr(address))
                fcntl.ioctl(s, SIOCSIFNETMASK, name + sockaddr(SUBNET.netmask))
                flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, name + bytes(16)))[1]
                fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", name, flags | IFF_UP))
                # struct rtentry (x86_64): pad, dst, gateway, genmask, flags, …
                rt = struct.pack("L16s16s16sHHxxxxLP", 0, sockaddr("0.0.0.0"), sockaddr(GATEWAY),
                                 sockaddr("0.0.0.0"), RTF_UP | RTF_GATEWAY, 0, 0, 0)
                rt = rt.ljust(120, b"\0")
                fcntl.ioctl(s, SIOCADDRT, rt)
        except BaseException as exc:
            failure.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if failure:
        raise failure[0]


# --- the container's network, owned by its shim ----------------------------------------------

@dataclass
class ContainerNetwork:
    """What `publish` bound for one container; started and stopped by its shim."""
    root: Path
    container_id: str
    container_name: str
    ports: dict
    listeners: list[Listener]
    address: str = ""
    netns_fd: int | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def close_sockets(self) -> None:
        """In the process that bound them once the shim has its copies."""
        for listener in self.listeners:
            listener.sock.close()

    def start(self, pid: int) -> dict:
        """In the shim, once the container's PID 1 exists: bridge, then forwarders. Returns
        the state to record (`Network`: what NetworkSettings shows while running)."""
        state = {"Ports": self.ports, "SandboxKey": f"/proc/{pid}/ns/net",
                 "SandboxID": secrets.token_hex(32)}
        try:
            self.netns_fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # PID 1 has exited already (e.g. a quick RUN step)
            return {"Network": state}
        try:
            state.update(self._attach(pid))
        except Exception as exc:  # the container runs without an address
            print(f"strata shim: no address on {BRIDGE}: {exc!r} "
                  f"{getattr(exc, 'stderr', '') or ''}", file=sys.stderr)
        threading.stack_size(512 * 1024)
        for listener in self.listeners:
            serve = _serve_tcp if listener.proto == "tcp" else _serve_udp
            threading.Thread(target=serve, args=(listener, self.netns_fd, self.stopping),
                             daemon=True).start()
        return {"Network": state}

    def _attach(self, pid: int) -> dict:
        with locked(IPAM_DIR / "bridge.lock"):
            _ensure_bridge()
        address = _allocate_ip(self.container_id)
        self.address = str(address)
        mac = "02:42:" + ":".join(f"{b:02x}" for b in address.packed)
        host_end = f"vs{self.container_id[:7]}{secrets.token_hex(2)}"
        _ip(f"link add {host_end} type veth peer name eth0 address {mac} netns {pid}",
            f"link set {host_end} master {BRIDGE} up")
        _configure_inside(self.netns_fd, address, mac)
        return {"IPAddress": str(address), "IPPrefixLen": SUBNET.prefixlen, "Gateway": str(GATEWAY),
                "MacAddress": mac, "EndpointID": secrets.token_hex(32),
                "NetworkID": hashlib.sha256(f"{BRIDGE} {SUBNET}".encode()).hexdigest()}

    def stop(self) -> None:
        """The container has exited: stop accepting, give the ports and the address back."""
        self.stopping.set()
        for listener in self.listeners:
            with contextlib.suppress(OSError):
                listener.sock.shutdown(socket.SHUT_RDWR)
            _close(listener.sock)
        if self.listeners:
            with contextlib.suppress(OSError):
                release_ports(self.root, self.container_id)
        if self.address:
            with contextlib.suppress(OSError):
                _release_ip(self.address)
            self.address = ""

