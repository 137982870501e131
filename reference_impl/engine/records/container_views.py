"""Records of the ContainerService's other calls: what ps, top, diff and logs take and give
(apart from those of run and exec, which `run` loads alone: containers.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.engine.filters import Filters
from reference_impl.network.ports import PortMap


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
