"""Records of the ArchiveService."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PathStat:
    """A container path's stat, as dockerd sends it in X-Docker-Container-Path-Stat."""
    name: str
    size: int
    mode: int                   # Go's os.FileMode: permission bits and type bits (1<<31 a directory)
    mtime: str                  # RFC 3339
    link_target: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & (1 << 31))

    def to_json(self) -> dict:
        return {"name": self.name, "size": self.size, "mode": self.mode, "mtime": self.mtime,
                "linkTarget": self.link_target}
