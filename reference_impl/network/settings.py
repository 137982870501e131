"""A container's NetworkSettings as `inspect` shows it, and its published ports: what the
shim recorded (`state["Network"]`) while the container runs, empty otherwise."""
from __future__ import annotations

from reference_impl.network.ports import PortMap, port_map_from_json


def network_settings(container) -> dict:
    """NetworkSettings in Docker's JSON form, the same on both faces."""
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


def published_ports(container) -> PortMap:
    """The ports of a running container and where they are bound on the host."""
    live = container.state.get("Network") if container.running else None
    return port_map_from_json((live or {}).get("Ports"))
