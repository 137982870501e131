"""COPY and ADD: which files, their cache key, and the layer that holds them.

The cache key is a content hash of the sources — name, mode, owner, size and
content, never the mtime — so touching a file keeps the cache, changing a byte
misses it (Docker's `file:<hash>` / `dir:<hash>` / `multi:<hash>`).

The layer is built as the container's upper directory would be: the copied files,
and each parent directory on the way, with the metadata it has in the image.
"""
from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

from reference_impl import layers
from reference_impl.errors import EngineError
from reference_impl.store import Store


class CopyError(EngineError):
    from_daemon = False


@dataclass
class Plan:
    sources: list[Path]  # symlinks among them resolved inside the context
    names: list[str]     # each source's own name (what it is called under a directory dest)
    dest: str            # absolute path in the image
    dest_is_dir: bool
    digest: str
    add: bool


def _hash_tree(path: Path, h, rel: str) -> None:
    st = os.lstat(path)
    h.update(f"{rel}\0{stat.S_IMODE(st.st_mode):o}\0{stat.S_IFMT(st.st_mode)}\0{st.st_size}\0".encode())
    if stat.S_ISLNK(st.st_mode):
        h.update(os.readlink(path).encode())
    elif stat.S_ISREG(st.st_mode):
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    elif stat.S_ISDIR(st.st_mode):
        for child in sorted(os.listdir(path)):
            _hash_tree(path / child, h, f"{rel}/{child}")


def _expand(root: Path, pattern: str, keyword: str) -> list[Path]:
    clean = os.path.normpath(pattern).lstrip("/")
    if clean.startswith(".."):
        raise CopyError(f"{keyword} failed: forbidden path outside the build context: {pattern} ()")
    if clean == ".":
        return [root]
    if any(c in clean for c in "*?["):
        matches = []
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                if fnmatch.fnmatchcase(rel, clean):
                    matches.append(root / rel)
        if not matches:
            raise CopyError(f"{keyword} failed: no source files were specified")
        return sorted(matches)
    path = resolve_in(root, clean)
    if path is None:
        raise CopyError(f"{keyword} failed: file not found in build context or excluded by "
                        f".dockerignore: stat {clean}: file does not exist")
    return [path]


def resolve_in(root: Path, rel: str, hops: int = 255) -> Path | None:
    """rel inside root with every symlink on the way followed as if root were `/` (an
    absolute target starts at root, `..` stops at it), as Docker follows a COPY source;
    None if it leads nowhere. A link can never take the copy out of the context."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    done: list[str] = []
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        current = root.joinpath(*done, part)
        if not os.path.lexists(current):
            return None
        if current.is_symlink():
            hops -= 1
            if hops < 0:
                return None
            target = os.readlink(current)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        done.append(part)
    return root.joinpath(*done)


def plan(root: Path, patterns: list[str], dest: str, workdir: str, add: bool, keyword: str) -> Plan:
    sources: list[Path] = []
    names: list[str] = []
    for pattern in patterns:
        if pattern.startswith(("http://", "https://")):
            if not add:
                raise CopyError("source can't be a URL for COPY")
            raise CopyError(f"{keyword} failed: failed to fetch {pattern}: remote URLs cannot be "
                            "fetched here (no network)")
        found = _expand(root, pattern, keyword)
        sources.extend(found)
        literal = os.path.normpath(pattern).lstrip("/")
        if any(c in literal for c in "*?[") or literal == ".":
            names.extend(path.name for path in found)
        else:  # a followed symlink keeps its own name
            names.append(Path(literal).name)
    dest_is_dir = dest.endswith("/") or len(sources) > 1 or dest in (".", "")
    absolute = dest if dest.startswith("/") else os.path.join(workdir, dest)
    absolute = os.path.normpath(absolute) + ("/" if dest_is_dir and absolute != "/" else "")
    h = hashlib.sha256()
    for source, name in zip(sources, names):
        _hash_tree(source, h, name)
    if len(sources) > 1:
        kind = "multi"
    else:
        kind = "dir" if sources[0].is_dir() and not sources[0].is_symlink() else "file"
    return Plan(sources, names, absolute, dest_is_dir, f"{kind}:{h.hexdigest()}", add)


# --- the image's filesystem, seen through its layers ------------------------------------

def lookup(store: Store, diff_ids: list[str], rel: str) -> os.stat_result | None:
    """lstat of a path in the image (top layer wins, whiteouts and opaque dirs hide)."""
    parts = [p for p in rel.strip("/").split("/") if p]
    for diff_id in reversed(diff_ids):
        root = store.images.layer_diff_dir(diff_id)
        current = root
        for i, part in enumerate(parts):
            current = current / part
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                break
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                return None
            if i == len(parts) - 1:
                return st
            if layers.is_opaque(current):
                rest = root.joinpath(*parts)
                return os.lstat(rest) if os.path.lexists(rest) else None
    return None if parts else os.stat("/")


def _mkdirs(store: Store, diff_ids: list[str], staging: Path, path: str) -> None:
    """Create path's directories in staging, each with its metadata from the image, if any."""
    parts = [p for p in path.strip("/").split("/") if p]
    for i in range(1, len(parts) + 1):
        rel = "/".join(parts[:i])
        target = staging / rel
        if target.exists():
            continue
        existing = lookup(store, diff_ids, rel)
        if existing is not None and not stat.S_ISDIR(existing.st_mode):
            raise CopyError(f"mkdir {'/' + rel}: not a directory")
        target.mkdir()
        if existing is not None:
            os.chmod(target, stat.S_IMODE(existing.st_mode))
            os.lchown(target, existing.st_uid, existing.st_gid)
            os.utime(target, ns=(existing.st_atime_ns, existing.st_mtime_ns))
        else:
            os.chmod(target, 0o755)


def make_dirs_in_layer(store: Store, diff_ids: list[str], staging: Path, path: str) -> None:
    existing = lookup(store, diff_ids, path)
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        return
    _mkdirs(store, diff_ids, staging, path)


def _owner(spec: str | None) -> tuple[int, int]:
    if not spec:
        return 0, 0
    user, _, group = spec.partition(":")
    uid = int(user) if user.isdigit() else 0
    return uid, int(group) if group.isdigit() else uid


def _copy_entry(source: Path, target: Path, owner: tuple[int, int]) -> None:
    st = os.lstat(source)
    if stat.S_ISDIR(st.st_mode):
        target.mkdir(exist_ok=True)
        for child in sorted(os.listdir(source)):
            _copy_entry(source / child, target / child, owner)
        os.chmod(target, stat.S_IMODE(st.st_mode))
    elif stat.S_ISLNK(st.st_mode):
        if os.path.lexists(target):
            os.unlink(target)
        os.symlink(os.readlink(source), target)
    else:
        shutil.copy2(source, target, follow_symlinks=False)
    os.lchown(target, *owner)
    if not stat.S_ISLNK(st.st_mode):
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def _is_archive(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        return tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError):
        return False


def apply(store: Store, diff_ids: list[str], plan: Plan, staging: Path, chown: str | None) -> None:
    owner = _owner(chown)
    dest = plan.dest.rstrip("/") or "/"
    existing = lookup(store, diff_ids, dest)
    into_dir = plan.dest_is_dir or (existing is not None and stat.S_ISDIR(existing.st_mode))
    for source, name in zip(plan.sources, plan.names):
        if plan.add and _is_archive(source):
            _mkdirs(store, diff_ids, staging, dest)
            unpacked = staging / dest.lstrip("/")
            spooled = staging.parent / f"{staging.name}.archive.tar"
            with open(source, "rb") as stream:
                tar_path, _ = layers.spool_uncompressed(stream, staging.parent)
            try:
                layers.extract(tar_path, unpacked, apply_whiteouts=True)
            finally:
                tar_path.unlink(missing_ok=True)
                spooled.unlink(missing_ok=True)
            continue
        if source.is_dir() and not source.is_symlink():
            _mkdirs(store, diff_ids, staging, dest)
            for child in sorted(os.listdir(source)):
                _copy_entry(source / child, staging / dest.lstrip("/") / child, owner)
            continue
        if into_dir:
            _mkdirs(store, diff_ids, staging, dest)
            target = staging / dest.lstrip("/") / name
        else:
            parent = os.path.dirname(dest)
            _mkdirs(store, diff_ids, staging, parent)
            target = staging / dest.lstrip("/")
        _copy_entry(source, target, owner)


def flatten(store: Store, diff_ids: list[str], out_dir: Path) -> Path:
    """The image's whole filesystem in one directory (for COPY --from)."""
    out_dir.mkdir(parents=True)
    for diff_id in diff_ids:
        layers.extract(store.images.layer_tar(diff_id), out_dir, apply_whiteouts=True)
    return out_dir
