"""Records of the VolumeService (the storage a container asks for at create: storage.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.engine.filters import Filters


@dataclass(frozen=True)
class Volume:
    """One volume, as `volume inspect` and GET /volumes/{name} show it."""
    name: str
    driver: str
    mountpoint: str
    created_at: str
    labels: dict[str, str] | None
    options: dict[str, str] | None
    scope: str = "local"
    anonymous: bool = False


@dataclass(frozen=True)
class VolumeCreateOptions:
    """`volume create` and POST /volumes/create; no name: an anonymous volume."""
    name: str = ""
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    driver_opts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeListOptions:
    """`volume ls` and GET /volumes."""
    filters: Filters = field(default_factory=dict)
