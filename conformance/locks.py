"""A shared/exclusive lock on an engine's storage, for engines whose storage races.

Podman 4.3 fails an import, a build or an `images` with "layer not known" / "image not
known" when a concurrent `rmi` removes a layer or image it is looking at. For such an
engine (capability ``serial-import``) every command a check runs holds the lock shared
(commands still run in parallel), and what removes or adds the shared base layer — base
imports and check cleanups' removals — holds it exclusive. flock(2) on a file beside the
session's temporary directory, so xdist workers (processes) and threads both take part;
a thread that holds it exclusive does not wait for itself.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path


class StorageLock:
    def __init__(self, path: Path):
        self.path = path
        self._held = threading.local()  # this thread holds it exclusive

    @contextlib.contextmanager
    def _flock(self, mode: int):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # releases the flock

    @contextlib.contextmanager
    def exclusive(self):
        if getattr(self._held, "exclusive", False):
            yield
            return
        with self._flock(fcntl.LOCK_EX):
            self._held.exclusive = True
            try:
                yield
            finally:
                self._held.exclusive = False

    @contextlib.contextmanager
    def shared(self):
        if getattr(self._held, "exclusive", False):
            yield
            return
        with self._flock(fcntl.LOCK_SH):
            yield


class NoLock:
    """For engines whose storage needs no lock."""

    def shared(self):
        return contextlib.nullcontext()

    exclusive = shared


_locks: dict[Path, StorageLock] = {}
_locks_guard = threading.Lock()


def storage_lock_at(path: Path) -> StorageLock:
    """One lock object per file in a process, so a thread's exclusive hold is seen by all."""
    with _locks_guard:
        return _locks.setdefault(path, StorageLock(path))
