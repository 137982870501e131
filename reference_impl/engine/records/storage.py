"""The storage a container asks for at create: its binds, mounts, tmpfs and volumes."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mount:
    """One `--mount` / HostConfig.Mounts entry, as the docker CLI sends it."""
    type: str                          # "bind", "volume", "tmpfs"
    target: str
    source: str = ""
    read_only: bool = False
    no_copy: bool = False              # volume-nocopy
    tmpfs_size: int = 0                # bytes; 0: the kernel's default
    tmpfs_mode: int = 0                # 0: the kernel's default (1777)

    def to_json(self) -> dict:
        """HostConfig.Mounts as dockerd keeps it (omitempty fields)."""
        shown = {"Type": self.type}
        if self.source:
            shown["Source"] = self.source
        shown["Target"] = self.target
        if self.read_only:
            shown["ReadOnly"] = True
        if self.no_copy:
            shown["VolumeOptions"] = {"NoCopy": True}
        if self.tmpfs_size or self.tmpfs_mode:
            shown["TmpfsOptions"] = {k: v for k, v in (("SizeBytes", self.tmpfs_size),
                                                       ("Mode", self.tmpfs_mode)) if v}
        return shown


@dataclass(frozen=True)
class Storage:
    """What a container mounts besides its root: HostConfig.Binds ("src:dst[:opts]", as -v
    sends them), HostConfig.Mounts, HostConfig.Tmpfs ({path: options}), Config.Volumes
    (anonymous volumes: -v /path) and HostConfig.VolumesFrom ("container[:ro|rw]": every
    volume and bind of that container, at the same places)."""
    binds: list[str] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    tmpfs: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)
