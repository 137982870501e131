"""Typed port bindings, as the engine keeps them: go-connections' `nat.Port` ("80/tcp"),
`nat.PortBinding` and `nat.PortMap`.

The container record stores them in Docker's JSON form (`HostConfig.PortBindings`,
`NetworkSettings.Ports`: `{"80/tcp": [{"HostIp": "", "HostPort": ""}]}`); the engine reads
and writes that form only through `from_json` / `to_json` here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True)
class PortBinding:
    """One host side of a container port: an address ("" = every address) and a port,
    a range ("8000-8010") or "" / "0" for one the engine picks."""
    host_ip: str = ""
    host_port: str = ""

    @classmethod
    def from_json(cls, raw: dict | None) -> "PortBinding":
        raw = raw or {}
        return cls(raw.get("HostIp") or "", str(raw.get("HostPort") or ""))

    def to_json(self) -> dict:
        return {"HostIp": self.host_ip, "HostPort": self.host_port}


# "80/tcp" -> its bindings; None for a port that is exposed and not published
PortMap = dict[str, "list[PortBinding] | None"]


def port_map_from_json(raw: dict | None) -> PortMap:
    return {key: None if frontends is None else [PortBinding.from_json(f) for f in frontends]
            for key, frontends in (raw or {}).items()}


def port_map_to_json(ports: PortMap) -> dict:
    return {key: None if frontends is None else [b.to_json() for b in frontends]
            for key, frontends in ports.items()}


def port_key(text: str) -> str:
    """nat.Port: "80" means "80/tcp"."""
    return text if "/" in text else f"{text}/tcp"


def split_port_key(key: str) -> tuple[int, str]:
    """"80/tcp" -> (80, "tcp")."""
    number, _, proto = key.partition("/")
    return int(number), proto


def port_sort_key(key: str) -> tuple[int, str]:
    number, _, proto = key.partition("/")
    return (int(number) if number.isdigit() else 0, proto)


def parse_uint16(text: str) -> int:
    """strconv.ParseUint(text, 10, 16), with its error words."""
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
        port = parse_uint16(text)
        return port, port
    parts = text.split("-")
    start, end = parse_uint16(parts[0]), parse_uint16(parts[1])
    if end < start:
        raise ValueError(f"Invalid range specified for the Port: {text}")
    return start, end


def join_host_port(host: str, port: str | int) -> str:
    """Go's net.JoinHostPort."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
