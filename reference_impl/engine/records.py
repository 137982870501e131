"""What the services take (options) and give (records): plain dataclasses, no wire format.

Times are Unix seconds (float) or RFC 3339 text where Docker keeps the text; ids are full
(`sha256:…` for images, 64 hex for containers); the faces shorten and format them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.engine.filters import Filters


# --- images ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageListOptions:
    all: bool = False
    filters: Filters = field(default_factory=dict)


@dataclass(frozen=True)
class ImageSummary:
    id: str
    parent_id: str
    repo_tags: list[str]        # after the reference filter; [] for a dangling image
    repo_digests: list[str]
    created: float
    created_at: str             # RFC 3339, as the config says
    size: int
    labels: dict[str, str]


@dataclass(frozen=True)
class HistoryItem:
    id: str                     # the image made at that step, or "<missing>"
    created_at: str
    created_by: str
    size: int
    comment: str
    tags: list[str]


@dataclass(frozen=True)
class DeleteItem:
    kind: str                   # "Untagged" or "Deleted"
    value: str


@dataclass(frozen=True)
class ImagePruneOptions:
    all: bool = False           # -a / dangling=false: every image no container uses
    filters: Filters = field(default_factory=dict)


@dataclass(frozen=True)
class PruneReport:
    deleted: list               # DeleteItem for images, container ids for containers
    space_reclaimed: int


@dataclass(frozen=True)
class ImportOptions:
    reference: str | None = None
    changes: list[str] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class CommitOptions:
    container: str
    reference: str | None = None
    author: str = ""
    message: str = ""
    changes: list[str] = field(default_factory=list)
    pause: bool = True


# --- containers -----------------------------------------------------------------------------

@dataclass(frozen=True)
class HostConfig:
    """The host side of a container (dockerd's HostConfig): what the engine, not the image,
    decides. Confinement settings (capabilities, limits …) join here as fields."""
    auto_remove: bool = False
    port_bindings: dict[str, list[dict]] = field(default_factory=dict)
    publish_all: bool = False
    confinement: object | None = None   # the confinement settings record, when given


@dataclass(frozen=True)
class CreateOptions:
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
    starting: bool = False      # started right away (run): prune leaves it alone meanwhile
    pull_missing: bool = False  # pull an image the store lacks (the CLI's run/create)


@dataclass(frozen=True)
class ContainerListOptions:
    all: bool = False
    limit: int = -1             # -n / --last; -l is limit 1
    filters: Filters = field(default_factory=dict)


@dataclass(frozen=True)
class PortMapping:
    private_port: int
    type: str                   # "tcp" / "udp"
    ip: str = ""
    public_port: int = 0        # 0: exposed, not published


@dataclass(frozen=True)
class ContainerSummary:
    id: str
    names: list[str]            # without the leading "/"
    image: str                  # as the user named it
    image_id: str
    command: str
    created: float
    created_at: str
    ports: list[PortMapping]
    published: dict             # the NetworkSettings.Ports document (for Docker's port text)
    labels: dict[str, str]
    state: str
    status: str                 # "Up 3 seconds", "Exited (0) 2 minutes ago", "Created"
    networks: dict


@dataclass(frozen=True)
class TopResult:
    titles: list[str]
    processes: list[list[str]]


@dataclass(frozen=True)
class Change:
    kind: str                   # "A", "C", "D"
    path: str


@dataclass(frozen=True)
class ExecOptions:
    container: str
    argv: list[str]
    env: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    tty: bool = False
    detach: bool = False


@dataclass(frozen=True)
class LogRecord:
    stream: str                 # "stdout" / "stderr"
    time: str
    text: str


# --- system ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiskUsage:
    images: int
    images_size: int
    containers: int
    layers_size: int


@dataclass(frozen=True)
class CheckReport:
    removed_leftovers: int
    problems: list[str]
