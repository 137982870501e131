"""Records of the ContainerService: what creating a container and an exec take (the others: container_views.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.confinement.settings import Confinement
from reference_impl.lifecycle.settings import LifecycleOptions
from reference_impl.engine.records.storage import Storage
from reference_impl.network.ports import PortMap


@dataclass(frozen=True)
class HostConfig:
    """The host side of a container (dockerd's HostConfig): what the engine, not the image,
    decides. Confinement settings (capabilities, limits …) join here as fields."""
    auto_remove: bool = False
    port_bindings: PortMap = field(default_factory=dict)
    publish_all: bool = False
    confinement: Confinement | None = None   # capabilities, seccomp, limits …; None: Docker's defaults
    storage: Storage | None = None           # binds, mounts, tmpfs, anonymous volumes; None: none


@dataclass(frozen=True)
class NetworkingOptions:
    """How a container is networked (--network, --network-alias, --ip, --hostname, --domainname,
    --add-host, --dns, --dns-search, --dns-option, --link; the API's NetworkingConfig and HostConfig)."""
    mode: str = "default"        # default/bridge, none, host, container:X, a network's name or id
    aliases: list[str] = field(default_factory=list)
    ip: str = ""
    hostname: str = ""
    domainname: str = ""
    extra_hosts: list[str] = field(default_factory=list)   # "name:ip"
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)         # --link "name[:alias]"


@dataclass(frozen=True)
class CreateOptions:
    """What `run`/`create` and POST /containers/create ask for."""
    image: str
    name: str | None = None
    cmd: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None     # [] clears the image's
    env: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    tty: bool = False
    stdin_open: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    exposed: list[str] = field(default_factory=list)   # "80/tcp"
    host: HostConfig = field(default_factory=HostConfig)
    networking: NetworkingOptions = field(default_factory=NetworkingOptions)
    starting: bool = False      # started right away (run): prune leaves it alone meanwhile
    pull_missing: bool = False  # pull an image the store lacks (the CLI's run/create)
    # restart policy, init, added groups, stop signal and timeout, healthcheck (issue 20)
    lifecycle: LifecycleOptions = field(default_factory=LifecycleOptions)


@dataclass(frozen=True)
class ExecOptions:
    """`exec` and POST /containers/{id}/exec."""
    container: str
    argv: list[str]
    env: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    tty: bool = False
    detach: bool = False
    interactive: bool = False  # stdin reaches the command (-i, AttachStdin)
    detach_keys: bytes = b""   # under tty and interactive: the keys that leave it running
    resizes: int | None = None  # under tty: a pipe of "ROWS COLUMNS" lines (POST /exec/{id}/resize)
