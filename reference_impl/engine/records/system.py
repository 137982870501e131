"""Records of the SystemService."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DiskUsage:
    """What the store holds, counted."""
    images: int
    images_size: int
    containers: int
    layers_size: int


@dataclass(frozen=True)
class CheckReport:
    """What `system check` found (and removed, with repair)."""
    removed_leftovers: int
    problems: list[str]
