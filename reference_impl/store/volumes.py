"""Volumes of the `local` driver under <root>/volumes/<name>/, as dockerd keeps them:

    _data/       what containers see at the mount point
    opts.json    the volume's record (driver, labels, options, created, anonymous),
                 written atomically; a volume without it is half-made and not listed

Callers that create or remove hold the store lock (Store.lock), as for containers.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from reference_impl import humanize
from reference_impl.errors import InvalidArgument, NotFound
from reference_impl.fsutil import read_json, write_json

_VALID_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")


@dataclass(frozen=True)
class StoredVolume:
    name: str
    dir: Path
    record: dict

    @property
    def data(self) -> Path:
        return self.dir / "_data"


def check_name(name: str) -> None:
    """dockerd's local driver's rule, in its words (a `/` or `..` never names a directory)."""
    if _VALID_NAME.fullmatch(name):
        return
    if len(name) < 2 and (not name or name.isalnum()):
        raise InvalidArgument(f"create {name}: volume name is too short, names should be at least two "
                              "alphanumeric characters")
    raise InvalidArgument(f'create {name}: "{name}" includes invalid characters for a local volume name, only '
                          '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, '
                          "use absolute path")


class VolumeStore:
    def __init__(self, root: Path):
        self.dir = root / "volumes"

    def create(self, name: str, labels: dict[str, str] | None = None, options: dict[str, str] | None = None,
               anonymous: bool = False) -> StoredVolume:
        """The volume `name`, made if missing (an existing one is returned as it is)."""
        check_name(name)
        try:
            return self.get(name)
        except NotFound:
            pass
        directory = self.dir / name
        (directory / "_data").mkdir(parents=True, exist_ok=True)
        os.chmod(directory / "_data", 0o755)
        write_json(directory / "opts.json", {
            "Name": name, "Driver": "local", "Labels": labels or None, "Options": options or None,
            "CreatedAt": humanize.now_rfc3339().split(".")[0].rstrip("Z") + "Z",
            "Anonymous": anonymous})
        return self.get(name)

    def get(self, name: str) -> StoredVolume:
        if not _VALID_NAME.fullmatch(name):
            raise NotFound(f"get {name}: no such volume")
        directory = self.dir / name
        record = read_json(directory / "opts.json")
        if record is None:
            raise NotFound(f"get {name}: no such volume")
        return StoredVolume(name, directory, record)

    def all(self) -> list[StoredVolume]:
        try:
            names = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            try:
                found.append(self.get(name))
            except NotFound:  # half-made or half-removed
                continue
        return found

    def problems(self) -> list[str]:
        """Volume directories without their record or their data (not counting ones being removed)."""
        try:
            names = sorted(n for n in os.listdir(self.dir) if not n.startswith("."))
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            if not (self.dir / name / "opts.json").is_file():
                found.append(f"volume {name}: its record (opts.json) is missing")
            elif not (self.dir / name / "_data").is_dir():
                found.append(f"volume {name}: its data directory is missing")
        return found

    def remove(self, volume: StoredVolume) -> None:
        """The record goes first (atomically), then the data."""
        trash = self.dir / f".gone-{volume.name}-{time.monotonic_ns()}"
        try:
            os.rename(volume.dir, trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)
