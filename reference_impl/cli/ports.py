"""`-p/--publish` and `--expose` as the docker CLI reads them, and ports as it prints them
(`docker port`, the PORTS column of `ps`).

Parsing takes every form the docker CLI takes — `80`, `8080:80`, `127.0.0.1:8080:80`,
`127.0.0.1::80`, `[::1]::80`, ranges (`8000-8001:8000-8001`, `127.0.0.1::8000-8001`, a host
range for one container port `8000-8010:80`), `/tcp` `/udp` `/sctp`, and the long form
`published=8080,target=80` — with the errors docker's go-connections `nat.ParsePortSpec`
gives, word for word (`invalid containerPort: abc`, `invalid hostPort: 99999`, `invalid
proto: xyz` …). The result is the engine's typed `PortMap`.
"""
from __future__ import annotations

import functools
import ipaddress

from reference_impl.errors import InvalidInput
from reference_impl.network.ports import (PROTOCOLS, PortBinding, PortMap, join_host_port,
                                          parse_port_range, parse_uint16, split_port_key)


# --- parsing: go-connections nat.ParsePortSpec, the docker CLI's opts ---------------------------

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


def parse_port_spec(raw: str) -> list[tuple[str, PortBinding]]:
    """One `-p` value -> [(port key "80/tcp", its binding)]."""
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
        mappings.append((f"{start + i}/{proto.lower()}", PortBinding(ip, binding_port)))
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


def parse_publish(specs: list[str]) -> tuple[list[str], PortMap]:
    """nat.ParsePortSpecs over every `-p`: (exposed port keys, port bindings)."""
    exposed: list[str] = []
    bindings: PortMap = {}
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


# --- display: `docker port`, the PORTS column ----------------------------------------------------

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


def port_lines(ports: PortMap, wanted: str | None, typed_name: str) -> list[str]:
    """What `docker port NAME [PORT]` prints, or InvalidInput with its words."""
    if wanted is not None:
        number, _, proto = wanted.partition("/")
        try:
            parse_uint16(number)
        except ValueError as exc:
            raise InvalidInput(f"Error: invalid port ({number}): {exc}") from None
        frontends = ports.get(f"{number}/{proto or 'tcp'}") or []
        if not frontends:
            raise InvalidInput(f"Error: No public port '{wanted}' published for {typed_name}")
        out = [join_host_port(b.host_ip, b.host_port) for b in frontends]
    else:
        out = [f"{key} -> {join_host_port(b.host_ip, b.host_port)}"
               for key, frontends in ports.items() for b in frontends or []]
    return natural_sorted(out)


def displayable_ports(ports: PortMap) -> str:
    """The docker CLI's DisplayablePorts (formatter/container.go): the PORTS column."""
    entries = []  # (private, ip, public, type)
    for key, frontends in ports.items():
        private, proto = split_port_key(key)
        if not frontends:
            entries.append((private, "", 0, proto))
            continue
        for b in frontends:
            entries.append((private, b.host_ip, int(b.host_port or 0), proto))
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
