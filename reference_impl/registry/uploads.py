"""Blob upload sessions: start, append (streamed), status, commit, cancel.

An upload is uploads/<uuid>/data plus uploads/<uuid>/repo (the repository it was
started for). Its bytes are hashed as they arrive; the running sha256 is kept in
memory per process and rebuilt from the file when another process (or a cut
request) changed it. A request that fails midway truncates the file back to
where it started, so the upload's offset is always that of complete requests.
Nothing becomes visible before commit() has verified the digest.
"""
import asyncio
import fcntl
import os
import re
import shutil
import time
import uuid

from reference_impl.store.digest import SHA256, Digest, Hasher

from .errors import RegistryError
from .storage import Storage

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FLUSH_BYTES = 1 << 20


def _write_all(fd: int, hasher: Hasher, data) -> None:
    hasher.update(data)
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _hash_file(path: str, algorithm: str, size: int | None = None) -> Hasher:
    hasher = Hasher(algorithm)
    remaining = size
    with open(path, "rb") as f:
        while remaining is None or remaining > 0:
            block = f.read(FLUSH_BYTES if remaining is None else min(FLUSH_BYTES, remaining))
            if not block:
                break
            hasher.update(block)
            if remaining is not None:
                remaining -= len(block)
    return hasher


class Uploads:
    def __init__(self, storage: Storage):
        self.storage = storage
        self._hashers: dict[str, tuple[int, Hasher]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # uid -> its size before the request now appending: what status reports until
        # that request completes (a cut request may not have been truncated back yet)
        self._appending: dict[str, int] = {}

    # -- paths ----------------------------------------------------------------
    def _dir(self, name: str, uid: str) -> str:
        """The upload's directory; BLOB_UPLOAD_UNKNOWN unless it exists for `name`."""
        if not UUID_RE.fullmatch(uid):
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"uuid": uid[:64]})
        d = os.path.join(self.storage.uploads, uid)
        try:
            with open(os.path.join(d, "repo"), encoding="utf-8") as f:
                owner = f.read()
        except FileNotFoundError:
            owner = None
        if owner != name or not os.path.isfile(os.path.join(d, "data")):
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"uuid": uid})
        return d

    def start(self, name: str) -> str:
        uid = str(uuid.uuid4())
        d = os.path.join(self.storage.uploads, uid)
        os.makedirs(d)
        open(os.path.join(d, "data"), "wb").close()
        with open(os.path.join(d, "repo"), "w", encoding="utf-8") as f:
            f.write(name)
        return uid

    def size(self, name: str, uid: str) -> int:
        """The upload's offset: the bytes of its complete requests."""
        data = os.path.join(self._dir(name, uid), "data")
        if uid in self._appending:
            return self._appending[uid]
        return os.stat(data).st_size

    def cancel(self, name: str, uid: str) -> None:
        d = self._dir(name, uid)
        self._forget(uid)
        shutil.rmtree(d, ignore_errors=True)

    def _forget(self, uid: str) -> None:
        self._hashers.pop(uid, None)
        self._locks.pop(uid, None)

    def _lock(self, uid: str) -> asyncio.Lock:
        return self._locks.setdefault(uid, asyncio.Lock())

    # -- data -----------------------------------------------------------------
    async def append(self, name: str, uid: str, body, *, start: int | None = None,
                     length: int | None = None) -> int:
        """Stream `body` (an aiohttp StreamReader) onto the upload; return the new size."""
        async with self._lock(uid):
            data = os.path.join(self._dir(name, uid), "data")
            fd = os.open(data, os.O_WRONLY)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise RegistryError("BLOB_UPLOAD_INVALID", "upload is busy") from None
                size = os.fstat(fd).st_size
                if start is not None and start != size:
                    raise RegistryError("RANGE_INVALID", status=416, headers={
                        "Range": f"0-{size - 1}" if size else "0-0", "Docker-Upload-UUID": uid})
                cached = self._hashers.get(uid)
                if cached and cached[0] == size:
                    hasher = cached[1]
                else:
                    hasher = await asyncio.to_thread(_hash_file, data, SHA256, size)
                self._hashers.pop(uid, None)
                os.lseek(fd, size, os.SEEK_SET)
                self._appending[uid] = size
                try:
                    written = await self._copy(body, fd, hasher)
                    if length is not None and written != length:
                        raise RegistryError("SIZE_INVALID", {"expected": length, "received": written})
                except BaseException:
                    os.ftruncate(fd, size)
                    raise
                finally:
                    self._appending.pop(uid, None)
                self._hashers[uid] = (size + written, hasher)
                return size + written
            finally:
                os.close(fd)

    @staticmethod
    async def _copy(body, fd: int, hasher: Hasher) -> int:
        written = 0
        buf = bytearray()
        async for chunk in body.iter_any():
            buf += chunk
            if len(buf) >= FLUSH_BYTES:
                out, buf = buf, bytearray()
                await asyncio.to_thread(_write_all, fd, hasher, out)
                written += len(out)
        if buf:
            await asyncio.to_thread(_write_all, fd, hasher, buf)
            written += len(buf)
        return written

    async def commit(self, name: str, uid: str, digest: Digest) -> int:
        """Verify the upload against `digest`, then store and link the blob.
        On a mismatch the upload is cancelled (DIGEST_INVALID)."""
        async with self._lock(uid):
            d = self._dir(name, uid)
            data = os.path.join(d, "data")
            size = os.stat(data).st_size
            cached = self._hashers.get(uid)
            if digest.algorithm == SHA256 and cached and cached[0] == size:
                hasher = cached[1]
            else:
                hasher = await asyncio.to_thread(_hash_file, data, digest.algorithm)
            if hasher.digest() != digest:
                self._forget(uid)
                shutil.rmtree(d, ignore_errors=True)
                raise RegistryError("DIGEST_INVALID", {"digest": digest})
            self.storage.put_blob_file(data, digest)
            self.storage.link_layer(name, digest)
            self._forget(uid)
            shutil.rmtree(d, ignore_errors=True)
            return size

    def purge_stale(self, max_age_seconds: float) -> int:
        """Remove uploads (and tmp files) untouched for longer than max_age_seconds."""
        removed = 0
        now = time.time()
        for parent in (self.storage.uploads, self.storage.tmp):
            for entry in os.scandir(parent):
                try:
                    probe = os.path.join(entry.path, "data") if entry.is_dir() else entry.path
                    mtime = os.stat(probe).st_mtime if os.path.exists(probe) else entry.stat().st_mtime
                    if now - mtime > max_age_seconds:
                        if entry.is_dir():
                            shutil.rmtree(entry.path, ignore_errors=True)
                        else:
                            os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed
