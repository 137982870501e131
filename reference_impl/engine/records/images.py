"""Records of the ImageService."""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.engine.filters import Filters


@dataclass(frozen=True)
class ImageListOptions:
    """`images` and GET /images/json."""
    all: bool = False
    filters: Filters = field(default_factory=dict)


@dataclass(frozen=True)
class ImageSummary:
    """One image of `images` / GET /images/json."""
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
    """One step of an image's history, newest first."""
    id: str                     # the image made at that step, or "<missing>"
    created_at: str
    created_by: str
    size: int
    comment: str
    tags: list[str]


@dataclass(frozen=True)
class DeleteItem:
    """One line of what rmi or prune did."""
    kind: str                   # "Untagged" or "Deleted"
    value: str


@dataclass(frozen=True)
class ImagePruneOptions:
    """`image prune` and POST /images/prune."""
    all: bool = False           # -a / dangling=false: every image no container uses
    filters: Filters = field(default_factory=dict)


@dataclass(frozen=True)
class ImportOptions:
    """`import` and POST /images/create?fromSrc."""
    reference: str | None = None
    changes: list[str] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class CommitOptions:
    """`commit` and POST /commit."""
    container: str
    reference: str | None = None
    author: str = ""
    message: str = ""
    changes: list[str] = field(default_factory=list)
    pause: bool = True
