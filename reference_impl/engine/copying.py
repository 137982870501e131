"""ArchiveService: a container's files as tar streams, what `cp` and /containers/{id}/archive
do once. The work runs chrooted in the container's root (container_fs.py); the tar is
written to, or read from, a file descriptor the caller gives.

A path names a resource; its tar is rooted at the path's last element, as dockerd's is:
`/src` gives `src/…`, `/src/.` gives `./…` (the content), a symlink is not followed
unless the path ends in `/` or `/.`.
"""
from __future__ import annotations

import fcntl
import io
import os
import posixpath
import stat
import tarfile
from datetime import datetime, timezone

from reference_impl import container_fs
from reference_impl.engine.records.copying import PathStat
from reference_impl.errors import EngineError, InvalidArgument, NotFound
from reference_impl.store import Store

# Go's os.FileMode type bits
_GO_TYPE = ((stat.S_ISDIR, 1 << 31), (stat.S_ISLNK, 1 << 27), (stat.S_ISFIFO, 1 << 25),
            (stat.S_ISSOCK, 1 << 24), (stat.S_ISBLK, 1 << 26), (stat.S_ISCHR, (1 << 26) | (1 << 21)))


_BUFFER = 1 << 20   # tarfile's stream default (10 KiB reads, 16 KiB copies) costs a third of the speed


def open_stream(fileobj, mode: str, **kwargs) -> tarfile.TarFile:
    """A tar stream ("r|*", "w|") read or written in large blocks."""
    tar = tarfile.open(fileobj=fileobj, mode=mode, bufsize=_BUFFER, **kwargs)
    tar.copybufsize = _BUFFER
    return tar


def open_writer(fileobj, **kwargs) -> tarfile.TarFile:
    """A tar to write: into a regular file directly (a third of the CPU of tarfile's stream
    mode, which gathers every block in a growing buffer), into a pipe as a stream."""
    if stat.S_ISREG(os.fstat(fileobj.fileno()).st_mode):
        tar = tarfile.open(fileobj=fileobj, mode="w", **kwargs)
        tar.copybufsize = _BUFFER
        return tar
    return open_stream(fileobj, "w|", **kwargs)


def open_reader(fileobj) -> tarfile.TarFile:
    """A tar (compressed or not) to read: from a regular file by seeking to each member's data
    (a quarter of the CPU of reading it as a stream, which copies every block through a
    buffer twice), from a pipe as a stream."""
    if stat.S_ISREG(os.fstat(fileobj.fileno()).st_mode):
        tar = tarfile.open(fileobj=fileobj, mode="r:*")
        tar.copybufsize = _BUFFER
        return tar
    return open_stream(fileobj, "r|*")


class Growth:
    """A tar being written into a regular file while an extraction reads it (extract's
    `growth`): the writer says on a pipe that it appended (a byte), that it is done (it
    closes the pipe) or that it gave up (b"!"); the reader waits at the file's end for the
    next word. Receiving and unpacking then overlap, and the reader keeps the file's cheap
    seek-to-each-member reads (open_reader)."""

    _GAVE_UP = b"!"

    def __init__(self):
        self.read_end, self.write_end = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self.write_end, False)
        self._writer = self.write_end
        self._identity = _identity(self.write_end)

    def forget_writer(self) -> None:
        """In the reader (a forked child): close the write end it inherited, else the writer's
        close would never read as the end. Whether it did inherit it depends on when the
        writer closed it, so the fd is closed only if it is still this pipe's write end."""
        try:
            if _identity(self._writer) == self._identity:
                os.close(self._writer)
        except OSError:
            pass

    def appended(self) -> None:
        try:
            os.write(self.write_end, b".")
        except BlockingIOError:  # a full pipe wakes the reader already
            pass

    def done(self) -> None:
        if self.write_end >= 0:
            os.close(self.write_end)
            self.write_end = -1

    def gave_up(self) -> None:
        if self.write_end >= 0:
            os.set_blocking(self.write_end, True)  # the reader drains the pipe as it waits
            try:
                os.write(self.write_end, self._GAVE_UP)
            except BrokenPipeError:  # the reader has ended already
                pass
        self.done()

    def close(self) -> None:
        self.done()
        os.close(self.read_end)


def _identity(fd: int) -> tuple[int, int, int]:
    """A pipe end: the pipe (both ends share the inode) and which end."""
    info = os.fstat(fd)
    return info.st_dev, info.st_ino, fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE


class _GrowingFile(io.RawIOBase):
    """The reader's side of a Growth: a read past the file's current end waits for more,
    and returns nothing only once the writer is done."""

    def __init__(self, fd: int, words: int):
        self.fd, self.words, self.position, self.complete = fd, words, 0, False

    def fileno(self) -> int:
        return self.fd

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_END:
            while not self.complete:
                self._wait()
            offset += os.fstat(self.fd).st_size
        elif whence == os.SEEK_CUR:
            offset += self.position
        self.position = offset
        return offset

    def readinto(self, buffer) -> int:
        while True:
            count = os.preadv(self.fd, [buffer], self.position)
            if count or self.complete:
                self.position += count
                return count
            self._wait()

    def _wait(self) -> None:
        words = os.read(self.words, 65536)
        if not words:
            self.complete = True
        elif Growth._GAVE_UP in words:
            raise EngineError("the copy was interrupted: its tar stream ended early")


class ArchiveService:
    def __init__(self, store: Store):
        self.store = store

    def stat(self, name: str, path: str) -> PathStat:
        container = self.store.containers.resolve(name)
        return PathStat(**container_fs.run_in(self.store, container, _stat, path, name))

    def export(self, name: str, path: str, out_fd: int) -> PathStat:
        """Write the tar of `path` to out_fd; returns the path's stat."""
        container = self.store.containers.resolve(name)
        return PathStat(**container_fs.run_in(self.store, container, _export, path, name, out_fd))

    def extract(self, name: str, path: str, in_fd: int, copy_uid_gid: bool = False,
                no_overwrite_dir_non_dir: bool = False, growth: Growth | None = None) -> None:
        """Unpack the tar read from in_fd into the directory `path`. Without copy_uid_gid the
        files belong to the container's root (0:0), as dockerd makes them. With a growth,
        in_fd is a regular file still being written (read with pread: its offset is the
        writer's)."""
        container = self.store.containers.resolve(name)
        container_fs.run_in(self.store, container, _extract, path, name, in_fd, copy_uid_gid,
                            no_overwrite_dir_non_dir, growth)


# --- inside the container's root (chrooted child) ---------------------------------------------

def _follows(path: str) -> bool:
    return path.endswith("/") or path.endswith("/.")


def _stat(path: str, container_name: str) -> dict:
    try:
        info = os.stat(path) if _follows(path) else os.lstat(path)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container {container_name}") from None
    mode = stat.S_IMODE(info.st_mode)
    for test, bit in _GO_TYPE:
        if test(info.st_mode):
            mode |= bit
            break
    link = os.path.realpath(path) if stat.S_ISLNK(info.st_mode) else ""
    mtime = datetime.fromtimestamp(info.st_mtime_ns // 1_000_000_000, timezone.utc)
    stamp = mtime.strftime("%Y-%m-%dT%H:%M:%S") + (f".{info.st_mtime_ns % 1_000_000_000:09d}".rstrip("0")
                                                   .rstrip(".")) + "Z"
    name = posixpath.basename(path.rstrip("/")) or "/" if not path.endswith("/.") else "."
    return {"name": name, "size": info.st_size, "mode": mode, "mtime": stamp, "link_target": link}


def _no_name_lookups() -> None:
    """No user or group names inside the container's root: looking one up would load the
    container's own NSS libraries into this (root, host) process (CVE-2019-14271)."""
    tarfile.pwd = tarfile.grp = None


def _export(path: str, container_name: str, out_fd: int) -> dict:
    _no_name_lookups()
    found = _stat(path, container_name)
    source = path.rstrip("/") or "/"
    arcname = found["name"] if found["name"] != "/" else "."
    with os.fdopen(out_fd, "wb", closefd=True) as out, \
            open_writer(out, format=tarfile.PAX_FORMAT) as tar:
        tar.add(source, arcname=arcname, recursive=True)
    return found


def _extract(path: str, container_name: str, in_fd: int, copy_uid_gid: bool, no_overwrite: bool,
             growth: Growth | None) -> None:
    _no_name_lookups()
    if growth is not None:
        growth.forget_writer()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container {container_name}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise InvalidArgument("extraction point is not a directory")

    def member_filter(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
        member = tarfile.tar_filter(member, destination)  # no absolute or escaping names
        if not copy_uid_gid:
            member = member.replace(uid=0, gid=0, uname="", gname="", deep=False)
        if no_overwrite:
            existing = os.path.join(destination, member.name)
            if os.path.lexists(existing) and os.path.isdir(existing) != member.isdir():
                raise InvalidArgument(f"cannot overwrite {'directory' if member.isfile() else 'non-directory'}"
                                      f" \"{existing}\" with "
                                      f"{'non-directory' if member.isfile() else 'directory'} \"{member.name}\"")
        return member

    if growth is not None:
        source = io.BufferedReader(_GrowingFile(in_fd, growth.read_end), _BUFFER)
    else:
        source = os.fdopen(in_fd, "rb", closefd=True)
    with source, open_reader(source) as tar:
        try:
            tar.extractall(path, numeric_owner=True, filter=member_filter)
        except tarfile.FilterError as exc:
            raise InvalidArgument(f"Error processing tar file: {exc}") from None
