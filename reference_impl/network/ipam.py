"""Addresses of a user-defined network, handed out host-wide under a lock.

The table is /run/strata/ipam-<network id>.json (host-wide, as the network's bridge is): each
address held names its container and the process that holds it for the container (its shim),
with that process's start time, so an address whose holder died — a shim killed with -9 —
counts as free again. The lowest free address is handed out, from the network's --ip-range
when it has one, never its gateway; a fixed address (`--ip`) must be in the subnet and free.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

from reference_impl.errors import Conflict, EngineError, InvalidArgument
from reference_impl.fsutil import locked, read_json, write_json
from reference_impl.network.bridge import RUN_DIR
from reference_impl.ownership import holder_alive, process_start_time


def _paths(network_id: str) -> tuple[Path, Path]:
    return RUN_DIR / f"ipam-{network_id[:32]}.json", RUN_DIR / f"ipam-{network_id[:32]}.lock"


def _live(table: dict) -> dict:
    """The entries whose holder lives: a zombie holds nothing (its parent may reap it late)."""
    return {ip: e for ip, e in table.items()
            if holder_alive(e["pid"], e["start"])}


def check_fixed(net, address: str) -> None:
    """`--ip` for `net`: in one of its subnets, else refused in dockerd's words."""
    try:
        wanted = ipaddress.ip_address(address)
    except ValueError:
        raise InvalidArgument(f"invalid IPv4 address: {address}") from None
    if not net.subnet or wanted not in ipaddress.ip_network(net.subnet):
        raise InvalidArgument(f"Invalid address {address}: It does not belong to any of this network's subnets")


def allocate(net, container_id: str, owner_pid: int, fixed: str = "") -> ipaddress.IPv4Address:
    """An address of `net` held by `owner_pid` for `container_id`."""
    table_path, lock_path = _paths(net.id)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    subnet = ipaddress.ip_network(net.subnet)
    pool = ipaddress.ip_network(net.ip_range) if net.ip_range else subnet
    gateway = ipaddress.ip_address(net.gateway)
    with locked(lock_path):
        live = _live(read_json(table_path, {}) or {})
        entry = {"id": container_id, "pid": owner_pid, "start": process_start_time(owner_pid)}
        if fixed:
            check_fixed(net, fixed)
            if fixed in live and live[fixed]["id"] != container_id:
                raise Conflict("Address already in use")
            candidates = [ipaddress.ip_address(fixed)]
        else:
            # a range's own first address is handed out too: only the subnet's are reserved
            usable = pool if net.ip_range else pool.hosts()
            reserved = {subnet.network_address, subnet.broadcast_address, gateway}
            candidates = (a for a in usable if a not in reserved and str(a) not in live)
        for address in candidates:
            live[str(address)] = entry
            write_json(table_path, live, durable=False)
            return address
    raise EngineError(f"no available IPv4 addresses on network {net.name}")


def release(net_id: str, address: str) -> None:
    table_path, lock_path = _paths(net_id)
    if not table_path.exists():
        return
    with locked(lock_path):
        table = read_json(table_path, {}) or {}
        if table.pop(address, None) is not None:
            write_json(table_path, table, durable=False)


def forget(net_id: str) -> None:
    """The network is gone: its table too."""
    for path in _paths(net_id):
        path.unlink(missing_ok=True)
