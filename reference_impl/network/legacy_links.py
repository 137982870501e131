"""`--link NAME[:ALIAS]` on the default bridge: Docker's legacy links.

At create, each link is recorded as HostConfig.Links holds it, `/NAME:/CONTAINER/ALIAS`
(NAME must name an existing container: dockerd's 400 otherwise). At start every linked
container must run, and the container gets, per link, what dockerd gives it:

- environment variables, ALIAS upper-cased with `-` as `_`: `ALIAS_NAME=/CONTAINER/ALIAS`;
  for each port the linked container exposes, `ALIAS_PORT_<n>_<PROTO>[_ADDR|_PORT|_PROTO]`;
  `ALIAS_PORT` for the first of them (by number, tcp first); `_START`/`_END` variables for
  each range of ports (below); `ALIAS_ENV_<K>` for the linked container's
  own variables (but HOME and PATH). The container's own variables win over them.
  The ranges are dockerd's, quirks included (observed: 53/udp 80/tcp 81/tcp makes none,
  80/tcp 81/udp 82/udp makes ALIAS_PORT_80_TCP_START … ALIAS_PORT_80_UDP_END).
- an /etc/hosts line `IP ALIAS ID NAME` (duplicates dropped) before its own address.

On a user-defined network dockerd makes a link a name for the DNS server only; strata does
not build that and refuses the link there, as it refuses other things it does not do.
"""
from __future__ import annotations

from dataclasses import dataclass

from reference_impl.errors import ContainerStartError, InvalidArgument, NotFound


@dataclass(frozen=True)
class Link:
    child: str       # the linked container's name ("/" + name in HostConfig.Links)
    parent: str      # this container's name
    alias: str

    @classmethod
    def parse(cls, recorded: str) -> "Link":
        child, _, path = recorded.partition(":")
        parent, _, alias = path.strip("/").rpartition("/")
        return cls(child.lstrip("/"), parent, alias)

    def recorded(self) -> str:
        return f"/{self.child}:/{self.parent}/{self.alias}"


def record(specs: list[str], container_name: str, mode: str, resolve) -> list[str] | None:
    """`--link` values as HostConfig.Links keeps them; `resolve(name)`: a container (NotFound)."""
    if not specs:
        return None
    if mode not in ("default", "bridge"):
        raise InvalidArgument("strata implements --link on the default bridge only, not on user-defined "
                              "networks (there, use the container's name or a --network-alias)")
    found = []
    for spec in specs:
        name, _, alias = spec.lstrip("/").partition(":")
        try:
            child = resolve(name)
        except NotFound as exc:
            raise InvalidArgument(f"could not get container for {name}: {exc}") from None
        found.append(Link(child.name, container_name, alias or child.name).recorded())
    return found


def at_start(config: dict, resolve) -> tuple[list[str], list[str]]:
    """(environment variables, /etc/hosts lines) of the container's links; every linked
    container must run (dockerd's words otherwise)."""
    env, hosts = [], []
    for recorded in config["HostConfig"].get("Links") or []:
        link = Link.parse(recorded)
        try:
            child = resolve(link.child)
        except NotFound:
            child = None
        address = (child.state.get("Network") or {}).get("IPAddress", "") if child is not None else ""
        if child is None or not child.running or not address:
            raise ContainerStartError(f"Cannot link to a non running container: /{link.child} AS "
                                      f"/{link.parent}/{link.alias}")
        env += environment(link, address, child.config["Config"])
        names = dict.fromkeys([link.alias, child.id[:12], child.name])
        hosts.append(f"{address}\t{' '.join(names)}\n")
    return env, hosts


def environment(link: Link, address: str, child_config: dict) -> list[str]:
    prefix = link.alias.upper().replace("-", "_")
    env = [f"{prefix}_NAME=/{link.parent}/{link.alias}"]
    ports = sorted(_ports(child_config), key=lambda p: (p[0], p[1] != "tcp"))
    if ports:
        env.append(f"{prefix}_PORT={ports[0][1]}://{address}:{ports[0][0]}")
    for number, proto in ports:
        name = f"{prefix}_PORT_{number}_{proto.upper()}"
        env += [f"{name}={proto}://{address}:{number}", f"{name}_ADDR={address}", f"{name}_PORT={number}",
                f"{name}_PROTO={proto}"]
    for first, last in _runs(ports):
        start, end = f"{prefix}_PORT_{first[0]}_{first[1].upper()}", f"{prefix}_PORT_{first[0]}_{last[1].upper()}"
        env += [f"{start}_START={first[1]}://{address}:{first[0]}", f"{start}_PORT_START={first[0]}",
                f"{end}_END={last[1]}://{address}:{last[0]}", f"{end}_PORT_END={last[0]}"]
    for entry in child_config.get("Env") or []:
        key, equals, value = entry.partition("=")
        if equals and key not in ("HOME", "PATH"):
            env.append(f"{prefix}_ENV_{key}={value}")
    return env


def _ports(config: dict) -> list[tuple[int, str]]:
    found = []
    for key in config.get("ExposedPorts") or {}:
        number, _, proto = key.partition("/")
        found.append((int(number), proto or "tcp"))
    return found


def _runs(ports: list[tuple[int, str]]) -> list[tuple[tuple[int, str], tuple[int, str]]]:
    """dockerd's port ranges, as it finds them in the sorted list (whatever the protocols):
    from a port, the entries that follow while each number is at most one more than the
    count of steps taken allows; a range is three entries or more (80/tcp 81/tcp is none)."""
    runs, i = [], 0
    while i < len(ports):
        j, limit = i, ports[i][0]
        while j + 1 < len(ports) and ports[j + 1][0] <= limit + 1:
            j, limit = j + 1, limit + 1
        if j > i + 1:
            runs.append((ports[i], ports[j]))
            i = j + 1
        else:
            i += 1
    return runs
