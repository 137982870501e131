"""Records of the ContainerService."""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.confinement.settings import Confinement
from reference_impl.engine.filters import Filters
from reference_impl.lifecycle.settings import LifecycleOptions
from reference_impl.engine.records.volumes import Storage
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
class ContainerListOptions:
    """`ps` and GET /containers/json."""
    all: bool = False
    limit: int = -1             # -n / --last; -l is limit 1
    filters: Filters = field(default_factory=dict)
    size: bool = False          # -s / ?size=1: each one's bytes (size_rw, size_root_fs)


@dataclass(frozen=True)
class PortMapping:
    """One port of a container, as ps shows it."""
    private_port: int
    type: str                   # "tcp" / "udp"
    ip: str = ""
    public_port: int = 0        # 0: exposed, not published


@dataclass(frozen=True)
class ContainerSummary:
    """One row of `ps` / GET /containers/json."""
    id: str
    names: list[str]            # without the leading "/"
    image: str                  # as the user named it
    image_id: str
    command: str
    created: float
    created_at: str
    ports: list[PortMapping]
    published: PortMap          # where each port is bound (for Docker's PORTS text)
    labels: dict[str, str]
    state: str
    status: str                 # "Up 3 seconds", "Exited (0) 2 minutes ago", "Created"
    networks: dict
    size_rw: int | None = None          # its own layer's bytes, when asked (ContainerListOptions.size)
    size_root_fs: int | None = None     # with its image's


@dataclass(frozen=True)
class TopResult:
    """The processes of a running container, as `ps` prints them."""
    titles: list[str]
    processes: list[list[str]]


@dataclass(frozen=True)
class Change:
    """One change of a container's filesystem against its image."""
    kind: str                   # "A", "C", "D"
    path: str


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


@dataclass(frozen=True)
class LogOptions:
    """`logs` and GET /containers/{id}/logs: which records (times as Unix nanoseconds)."""
    follow: bool = False
    since: int | None = None
    until: int | None = None
    tail: int | None = None     # None: all


@dataclass(frozen=True)
class LogRecord:
    """One line of a container's log."""
    stream: str                 # "stdout" / "stderr"
    time: str
    text: str
