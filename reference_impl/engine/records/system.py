"""Records of the SystemService."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckReport:
    """What `system check` found (and removed, with repair)."""
    removed_leftovers: int
    problems: list[str]
