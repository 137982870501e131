"""What every service's prune gives back."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed and the bytes it freed."""
    deleted: list               # DeleteItem for images, container ids for containers
    space_reclaimed: int
