"""A container's NetworkSettings as `inspect` shows it, and its published ports: what the
shim recorded (`state["Network"]`) while the container runs, empty otherwise.

On the default bridge the top-level address fields and `Networks.bridge` show strata0's
endpoint; on user-defined networks each network has its entry (with Aliases: the
--network-alias names and the short id) and the top-level fields are empty, as dockerd shows
them. A container that does not run shows the networks it asked for, without addresses."""
from __future__ import annotations

from reference_impl.network.ports import PortMap, port_map_from_json


def _endpoint(live: dict, aliases=None, ipam=None) -> dict:
    return {"IPAMConfig": ipam, "Links": None, "Aliases": aliases,
            "MacAddress": live.get("MacAddress", ""), "NetworkID": live.get("NetworkID", ""),
            "EndpointID": live.get("EndpointID", ""), "Gateway": live.get("Gateway", ""),
            "IPAddress": live.get("IPAddress", ""), "IPPrefixLen": live.get("IPPrefixLen", 0), "IPv6Gateway": "",
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DriverOpts": None}


def _networks(container, live: dict) -> dict:
    mode = container.config.get("HostConfig", {}).get("NetworkMode") or "default"
    if mode in ("none", "host"):
        return {mode: _endpoint({})}
    if mode.startswith("container:"):
        return {}
    # the default bridge's endpoint, then the user networks (`network connect` adds them to
    # a container on the default bridge too)
    shown = {"bridge": _endpoint(live)} if mode in ("default", "bridge") and live else {}
    asked = (container.config.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    running = live.get("Endpoints") or {}
    for name, wanted in asked.items():
        endpoint = running.get(name)
        if endpoint is not None:
            shown[name] = _endpoint(endpoint, endpoint.get("Aliases"), wanted.get("IPAMConfig"))
        else:
            shown[name] = _endpoint({"NetworkID": wanted.get("NetworkID", "")}, wanted.get("Aliases") or None,
                                    wanted.get("IPAMConfig"))
    return shown


def network_settings(container, running: bool | None = None) -> dict:
    """NetworkSettings in Docker's JSON form, the same on both faces. `running`: whether the
    container runs, when the caller has just read it (else read here)."""
    running = container.running if running is None else running
    live = container.state.get("Network") if running else None
    live = live or {}
    ip = live.get("IPAddress", "")
    return {"Bridge": "", "SandboxID": live.get("SandboxID", ""), "HairpinMode": False,
            "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": live.get("Ports", {}), "SandboxKey": live.get("SandboxKey", ""),
            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            "EndpointID": live.get("EndpointID", ""), "Gateway": live.get("Gateway", ""),
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": ip,
            "IPPrefixLen": live.get("IPPrefixLen", 0), "IPv6Gateway": "",
            "MacAddress": live.get("MacAddress", ""),
            "Networks": _networks(container, live)}


def published_ports(container, running: bool | None = None) -> PortMap:
    """The ports of a running container and where they are bound on the host."""
    running = container.running if running is None else running
    live = container.state.get("Network") if running else None
    return port_map_from_json((live or {}).get("Ports"))
