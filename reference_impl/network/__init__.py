"""Container networking: published ports and an address on the bridge.

In the order a container meets them:

1. `allocation` (run by `strata start` before it forks the shim): every published port becomes
   a listening socket in the host's namespace, host ports handed out as dockerd's allocator
   does; later, in the shim, the container's address on the bridge.
2. `forwarding` (threads of the shim): connections to those sockets are carried into the
   container's namespace, to 127.0.0.1:<containerPort>.
3. `bridge`: `strata0` and the container's veth `eth0`.

`ports` holds the typed port bindings the engine keeps (Docker's `nat.PortMap`), `settings`
the NetworkSettings that `inspect` shows. What `-p`/`--expose` mean and how `port` and `ps`
print ports is the CLI's business (`reference_impl/cli/ports.py`); the Engine API takes
bindings as JSON.

`ContainerNetwork` below ties the parts together for one container: `publish` binds its
ports, the shim `reserve`s its address while PID 1 is made, `start`s it once PID 1 exists,
`rejoin`s it when a restart policy runs the process again, and `stop`s it on exit. The shim
attaches the bridge once PID 1 exists, so the command may start a few milliseconds before eth0 is up
(never after `run -d` returns); published ports do not depend on it. If the bridge cannot be
set up (no `ip`, no permission), the container runs without it and IPAddress is "".
"""
from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from reference_impl.network import allocation, bridge, endpoints, forwarding, links
from reference_impl.network.allocation import Listener
from reference_impl.network.ports import PortMap, port_map_to_json


@dataclass
class ContainerNetwork:
    """What `publish` bound for one container; started and stopped by its shim."""
    root: Path
    container_id: str
    container_name: str
    ports: PortMap
    listeners: list[Listener]
    config: dict = field(default_factory=dict)   # the container's record: its network mode
    address: str = ""
    host_end: str = ""                           # the bridge's end of its veth on strata0
    namespace: forwarding.Namespace | None = None
    stopping: threading.Event = field(default_factory=threading.Event)     # the container's end
    run_ended: threading.Event = field(default_factory=threading.Event)    # this run's end (DNS)
    serving_dns: bool = False                                              # this run has a DNS server
    link_hosts: list[str] = field(default_factory=list)                    # /etc/hosts lines of --link

    def close_sockets(self) -> None:
        """In the process that bound them once the shim has its copies."""
        for listener in self.listeners:
            listener.sock.close()

    def start(self, pid: int) -> dict:
        """In the shim, once the container's PID 1 exists: bridge, then forwarders. Returns
        the state to record (`Network`: what NetworkSettings shows while running)."""
        state = self._join(pid)
        if self.namespace is not None:
            forwarding.start_forwarders(self.listeners, self.namespace, self.stopping)
        return state

    def reserve(self) -> None:
        """In the shim while PID 1 is being made (the first run): the bridge and an address,
        which need no pid, so that start() is left the veth. What fails here is tried again
        there, where a failure is reported."""
        if endpoints.is_default(endpoints.mode_of(self.config)):
            with contextlib.suppress(Exception):
                bridge.ensure_bridge()
                self.address = str(allocation.allocate_address(self.container_id))

    def rejoin(self, pid: int) -> dict:
        """In the shim, when a restart policy runs the process again (a new namespace): what
        the last run held is given back, then it joins as at start — an address (perhaps
        another), its networks, its DNS — and the forwarders move to the new namespace."""
        self._leave_run(unplug=True)
        self.run_ended, self.serving_dns = threading.Event(), False
        return self._join(pid)

    def _join(self, pid: int) -> dict:
        state = {"Ports": port_map_to_json(self.ports), "SandboxKey": f"/proc/{pid}/ns/net",
                 "SandboxID": secrets.token_hex(32)}
        try:
            fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # PID 1 has exited already (e.g. a quick RUN step)
            return {"Network": state}
        if self.namespace is None:
            self.namespace = forwarding.Namespace(fd)
        else:
            self.namespace.replace(fd)
        mode = endpoints.mode_of(self.config)
        if endpoints.is_default(mode):
            try:
                state.update(self._attach(pid, fd))
            except Exception as exc:  # the container runs without an address
                print(f"strata shim: no address on {bridge.BRIDGE}: {exc!r} "
                      f"{getattr(exc, 'stderr', '') or ''}", file=sys.stderr)
            # and the user networks `network connect` added to it
            joined = endpoints.join(self.root, self.container_id, self.config, pid, fd, self.run_ended,
                                    on_bridge=self.address, link_hosts=self.link_hosts)
            if joined["Endpoints"]:
                state.update(joined)
                self.serving_dns = True
        else:  # none, host, container:X, user-defined networks
            state.update(endpoints.join_mode(self.root, self.container_id, self.config, pid, fd,
                                             self.run_ended))
            self.serving_dns = bool(state.get("Endpoints"))
        return {"Network": state}

    def serve_dns_now(self) -> None:
        """A connect gave this running container its first user network (endpoints.DNS_SIGNAL
        to the shim): start the embedded DNS server it has none of yet."""
        if self.serving_dns or self.namespace is None or self.stopping.is_set():
            return
        self.serving_dns = True
        endpoints.serve_dns(self.root, self.container_id, self.namespace.fd, set(), self.run_ended)

    def _attach(self, pid: int, netns_fd: int) -> dict:
        if not self.address:  # none reserved (a restart, or reserve() failed)
            bridge.ensure_bridge()
            self.address = str(allocation.allocate_address(self.container_id))
        self.host_end = bridge.host_end_name(self.container_id)
        return bridge.connect(self.container_id, pid, netns_fd, ipaddress.ip_address(self.address), self.host_end)

    def _leave_run(self, unplug: bool = False) -> None:
        """Give back the addresses of the run that ended and stop its DNS server. `unplug`:
        delete its veths first — threads of the shim still in the old namespace keep it (and
        its veths, answering for the addresses) alive until they move or end."""
        self.run_ended.set()
        if unplug and self.host_end:
            links.detach(self.host_end)
        self.host_end = ""
        if self.address:
            with contextlib.suppress(OSError):
                allocation.release_address(self.address)
            self.address = ""
        with contextlib.suppress(OSError):
            endpoints.leave(self.root, self.container_id, unplug=unplug)

    def stop(self) -> None:
        """The container has exited: stop accepting, give the ports and the address back."""
        self.stopping.set()
        for listener in self.listeners:
            with contextlib.suppress(OSError):
                listener.sock.shutdown(socket.SHUT_RDWR)
            forwarding.close_all(listener.sock)
        if self.listeners:
            with contextlib.suppress(OSError):
                allocation.release_ports(self.root, self.container_id)
        self._leave_run()


def publish(root: Path, container) -> ContainerNetwork:
    """Bind every published port of `container`; fails (PortError) before any shim exists."""
    ports, listeners = allocation.bind_ports(root, container)
    return ContainerNetwork(root, container.id, container.name, ports, listeners, container.config)
