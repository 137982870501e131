"""Layer tars: digests, safe extraction into an overlay layer directory, and diffs.

In a tar, deletions are OCI whiteouts (``.wh.<name>``, ``.wh..wh..opq`` for an
opaque directory); on disk, in an overlay layer directory, they are what
overlayfs understands (a 0/0 character device, the ``trusted.overlay.opaque``
xattr). Extraction never writes outside the layer directory: names that climb
out with ``..``, writes through a symlink, and link targets that escape are
refused with moby's words.
"""
from __future__ import annotations

import gzip
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from reference_impl.errors import EngineError, InvalidInput
from reference_impl.ownership import staging_prefix
from reference_impl.store.digest import Digest, Hasher

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
CHUNK = 1 << 20


def sha256_file(path: Path) -> Digest:
    return Digest.of_file(path)


def spool_uncompressed(source: BinaryIO, directory: Path) -> tuple[Path, Digest]:
    """Copy a (possibly gzipped) tar stream to a file, uncompressed; return it and its diff id."""
    head = source.read(2)
    rest = _Prefixed(head, source)
    stream = gzip.GzipFile(fileobj=rest) if head == b"\x1f\x8b" else rest
    fd, name = tempfile.mkstemp(dir=directory, prefix=staging_prefix("layer-"), suffix=".tar")
    h = Hasher()
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
    except BaseException:  # a full disk, a broken stream: never leave the partial file
        os.unlink(name)
        raise
    return Path(name), h.digest()


class _Prefixed:
    """A stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = head, rest

    def read(self, n: int = -1) -> bytes:
        if self.head:
            data, self.head = self.head, b""
            if n < 0:
                return data + self.rest.read()
            return data + self.rest.read(max(0, n - len(data)))
        return self.rest.read(n)


# --- extraction ---------------------------------------------------------------------

def _clean_name(name: str) -> str:
    """Docker cleans member names and treats absolute ones as relative to the root."""
    parts = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise InvalidInput(f'Error processing tar file: "{name}" is outside of the layer root: breakout')
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _ensure_parent(root: Path, rel: str) -> Path:
    """Create the parent directories of rel inside root, refusing to pass through a symlink."""
    current = root
    for part in rel.split("/")[:-1]:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            os.mkdir(current, 0o755)
            continue
        if stat.S_ISLNK(st.st_mode):
            raise InvalidInput(f'Error processing tar file: "{rel}" is outside of the layer root: '
                               f"breakout through symlink {current.relative_to(root)}")
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(current)
            os.mkdir(current, 0o755)
    return root / rel


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _escapes(base_rel: str, target: str) -> bool:
    """Whether a relative link target, seen from base_rel's directory, climbs out of the root."""
    depth = len([p for p in base_rel.split("/")[:-1] if p])
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def extract(tar_path: Path, root: Path, apply_whiteouts: bool = False) -> None:
    """Unpack a layer tar into an (empty) overlay layer directory; with apply_whiteouts,
    onto a flat filesystem instead (whiteouts delete what lower layers put there).
    Something that is not a tar is refused in dockerd's words."""
    try:
        _extract(tar_path, root, apply_whiteouts)
    except tarfile.TarError as exc:
        raise EngineError(not_a_tar(exc)) from None


def not_a_tar(exc: tarfile.TarError) -> str:
    """dockerd's words for a stream that is not a tar (Go's archive/tar, read by a helper)."""
    truncated = any(word in str(exc) for word in ("truncated", "unexpected end", "empty"))
    reason = "unexpected EOF" if truncated else "archive/tar: invalid tar header"
    return f"Error processing tar file(exit status 1): {reason}"


def _extract(tar_path: Path, root: Path, apply_whiteouts: bool) -> None:
    dir_times: list[tuple[Path, int]] = []
    with tarfile.open(tar_path, "r:") as tar:
        for member in tar:
            rel = _clean_name(member.name)
            if not rel:
                continue
            base = rel.rsplit("/", 1)[-1]
            path = _ensure_parent(root, rel)
            if base == OPAQUE_MARKER:
                if apply_whiteouts:  # the marker comes right after its directory's own entry
                    for child in path.parent.iterdir():
                        _remove(child)
                else:
                    os.setxattr(path.parent, OPAQUE_XATTR, b"y")
                continue
            if base.startswith(WHITEOUT_PREFIX):
                hidden = path.with_name(base[len(WHITEOUT_PREFIX):])
                _remove(hidden)
                if not apply_whiteouts:
                    os.mknod(hidden, stat.S_IFCHR | 0o000, os.makedev(0, 0))
                continue
            if member.isdir():
                if os.path.lexists(path) and not (path.is_dir() and not path.is_symlink()):
                    _remove(path)
                os.makedirs(path, exist_ok=True)
            else:
                _remove(path)
                if member.isreg():
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                    with os.fdopen(fd, "wb") as out, tar.extractfile(member) as data:
                        shutil.copyfileobj(data, out, CHUNK)
                elif member.issym():
                    if not member.linkname.startswith("/") and _escapes(rel, member.linkname):
                        raise InvalidInput(f'Error processing tar file: invalid symlink "{rel}" -> "{member.linkname}"')
                    os.symlink(member.linkname, path)
                elif member.islnk():
                    target_rel = _clean_name(member.linkname)
                    target = root / target_rel
                    if not target_rel or not os.path.lexists(target):
                        raise InvalidInput(
                            f'Error processing tar file: invalid hardlink "{rel}" -> "{member.linkname}"')
                    _ensure_parent(root, target_rel)
                    os.link(target, path, follow_symlinks=False)
                    continue
                elif member.ischr() or member.isblk():
                    kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
                    os.mknod(path, kind | member.mode, os.makedev(member.devmajor, member.devminor))
                elif member.isfifo():
                    os.mkfifo(path, member.mode)
                else:
                    continue
            os.lchown(path, member.uid, member.gid)
            if not member.issym():
                os.chmod(path, member.mode & 0o7777)
            if member.isdir():
                dir_times.append((path, member.mtime))
            else:
                os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
    for path, mtime in reversed(dir_times):
        os.utime(path, (mtime, mtime), follow_symlinks=False)


# --- diffs of a container's upper directory ---------------------------------------------

def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, lstat) for every entry below root, parents before children, sorted."""
    stack = [""]
    while stack:
        rel = stack.pop()
        entries = sorted(os.scandir(root / rel if rel else root), key=lambda e: e.name, reverse=True)
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            yield child, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(child)


def _lower_children(lowers: list[Path], rel: str) -> set[str]:
    """Names a directory has in the merged lower layers (top layer first in lowers)."""
    names: set[str] = set()
    hidden: set[str] = set()
    for lower in lowers:
        directory = lower / rel
        if not directory.is_dir() or directory.is_symlink():
            continue
        for entry in os.scandir(directory):
            st = entry.stat(follow_symlinks=False)
            if _is_whiteout(st):
                hidden.add(entry.name)
            elif entry.name not in hidden:
                names.add(entry.name)
        if is_opaque(directory):
            break
    return names


def changes(upper: Path, lowers: list[Path]) -> list[tuple[str, str]]:
    """Docker's `diff`: (kind, /path) with kind A, C or D, sorted by path. lowers: top first.
    An opaque directory (removed and made again) lists what it hid below as deleted."""
    result = []
    for rel, st in walk(upper):
        in_lower = any(os.path.lexists(lower / rel) for lower in lowers)
        if _is_whiteout(st):
            result.append(("D", "/" + rel))
            continue
        result.append(("C" if in_lower else "A", "/" + rel))
        if stat.S_ISDIR(st.st_mode) and is_opaque(upper / rel):
            present = set(os.listdir(upper / rel))
            for name in _lower_children(lowers, rel) - present:
                result.append(("D", f"/{rel}/{name}"))
    return sorted(result, key=lambda kv: kv[1])


def write_diff_tar(upper: Path, out_path: Path) -> Digest:
    """Tar an upper directory as a layer (OCI whiteouts); returns the diff id."""
    try:
        return _write_diff_tar(upper, out_path)
    except BaseException:  # a full disk: never leave the partial file
        out_path.unlink(missing_ok=True)
        raise


def _write_diff_tar(upper: Path, out_path: Path) -> Digest:
    entries = sorted(walk(upper), key=lambda e: e[0])
    hardlinks: dict[tuple[int, int], str] = {}
    with open(out_path, "wb") as raw:
        hashing = _HashingWriter(raw)
        with tarfile.open(fileobj=hashing, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for rel, st in entries:
                path = upper / rel
                if _is_whiteout(st):
                    parent, _, base = rel.rpartition("/")
                    ti = tarfile.TarInfo(f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base)
                    ti.mtime, ti.mode = int(st.st_mtime), 0o644
                    tar.addfile(ti)
                    continue
                ti = tar.gettarinfo(str(path), arcname=rel)
                ti.uname = ti.gname = ""
                if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                    key = (st.st_dev, st.st_ino)
                    if key in hardlinks:
                        ti.type, ti.linkname, ti.size = tarfile.LNKTYPE, hardlinks[key], 0
                        tar.addfile(ti)
                        continue
                    hardlinks[key] = rel
                if ti.isreg():
                    with open(path, "rb") as data:
                        tar.addfile(ti, data)
                else:
                    tar.addfile(ti)
                if ti.isdir() and is_opaque(path):
                    marker = tarfile.TarInfo(f"{rel}/{OPAQUE_MARKER}")
                    marker.mtime, marker.mode = int(st.st_mtime), 0o644
                    tar.addfile(marker)
    return hashing.hasher.digest()


class _HashingWriter:
    def __init__(self, raw):
        self.raw, self.hasher = raw, Hasher()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self.raw.write(data)

    def tell(self) -> int:
        return self.raw.tell()


def tree_size(root: Path) -> int:
    return sum(st.st_size for _, st in walk(root) if stat.S_ISREG(st.st_mode))
