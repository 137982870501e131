"""Small filesystem helpers: atomic writes and the store lock."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, durable: bool = True, staging: Path | None = None,
                 staging_prefix: str = "") -> None:
    """Write, fsync (when a crash would lose data), rename: readers see old or new, never half.
    With `staging` (a directory on the same filesystem) the half-written file lives there,
    named with staging_prefix, and path's directory must exist already."""
    if staging is None:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=staging or path.parent, prefix=staging_prefix or f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: Path, value, durable: bool = True, staging: Path | None = None,
               staging_prefix: str = "") -> None:
    atomic_write(path, json.dumps(value, indent=1, sort_keys=True).encode(), durable, staging, staging_prefix)


def read_json(path: Path, default=None):
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        return default


@contextlib.contextmanager
def locked(lock_path: Path, shared: bool = False):
    """An flock on lock_path: exclusive for writers, shared for readers that need a stable view."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def bytes_under(path) -> int:
    """The bytes of the files below `path`, a file of several hard links once (as dockerd's
    directory.Size counts; links not followed; what vanishes meanwhile, 0)."""
    total, seen = 0, set()
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if info.st_nlink > 1:
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            total += info.st_size
    return total
