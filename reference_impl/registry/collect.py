"""Garbage collection: mark every blob that a manifest of any repository refers to
(the manifest itself, its config and layers), sweep the other blobs.

Safe beside a running registry:
- the mark and the sweep hold gc.lock exclusively, and a manifest PUT holds it
  shared while it checks its blobs and links itself, so a manifest is either seen
  by the mark or written after the sweep (then a swept blob fails its PUT with
  MANIFEST_BLOB_UNKNOWN, never leaving a manifest without its blobs);
- a blob written, linked, mounted or read (HEAD/GET) within the grace period is
  kept: a push in progress has uploaded or checked its blobs but not yet put the
  manifest that will refer to them.
Consistent after SIGKILL at any point: a blob file is removed (one unlink) before
the links to it, and a link without its blob is a blob the repository does not
have; the next run removes such links.
"""
import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass, field

from . import names
from .storage import Storage

LOCK_FILE = "gc.lock"
DEFAULT_GRACE_SECONDS = 3600


@contextlib.contextmanager
def gc_lock(root: str, exclusive: bool):
    """gc.lock in the root: exclusive for a collection, shared for a manifest PUT."""
    fd = os.open(os.path.join(root, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


@dataclass
class Report:
    marked: set = field(default_factory=set)
    eligible: list = field(default_factory=list)     # unreferenced and older than the grace
    spared: list = field(default_factory=list)       # unreferenced but recent
    deleted: list = field(default_factory=list)
    dangling_links: int = 0


def _blobs(storage: Storage):
    """(digest, path) of every blob file."""
    base = os.path.join(storage.root, "blobs")
    for alg in sorted(_ls(base)):
        for prefix in sorted(_ls(os.path.join(base, alg))):
            for hexpart in sorted(_ls(os.path.join(base, alg, prefix))):
                digest = f"{alg}:{hexpart}"
                if names.valid_digest(digest):
                    yield digest, os.path.join(base, alg, prefix, hexpart)


def _links(storage: Storage, name: str, kind: str):
    """(digest, path) of a repository's _layers or _manifests links."""
    base = os.path.join(storage.repo_dir(name), kind)
    for alg in sorted(_ls(base)):
        for hexpart in sorted(_ls(os.path.join(base, alg))):
            yield f"{alg}:{hexpart}", os.path.join(base, alg, hexpart)


def _ls(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0


def mark(storage: Storage) -> set[str]:
    """Every digest a manifest of any repository refers to, manifests included."""
    marked = set()
    for name in storage.repositories():
        for digest, _ in _links(storage, name, "_manifests"):
            data = storage.read_blob(digest)
            if data is None:
                continue        # a link without its blob: nothing to keep
            marked.add(digest)
            doc = json.loads(data)
            for desc in [doc.get("config") or {}, *(doc.get("layers") or []),
                         *(doc.get("manifests") or [])]:
                if isinstance(desc, dict) and isinstance(desc.get("digest"), str):
                    marked.add(desc["digest"])
    return marked


def collect(root: str, dry_run: bool = False, grace_seconds: float = DEFAULT_GRACE_SECONDS,
            out=print) -> Report:
    storage = Storage(root)
    storage.prepare()
    report = Report()
    with gc_lock(storage.root, exclusive=True):
        report.marked = mark(storage)
        layer_links: dict[str, list[str]] = {}
        for name in storage.repositories():
            for digest, path in _links(storage, name, "_layers"):
                layer_links.setdefault(digest, []).append(path)
        cutoff = time.time() - grace_seconds
        for digest, path in _blobs(storage):
            if digest in report.marked:
                continue
            touched = max([_mtime(path)] + [_mtime(p) for p in layer_links.get(digest, [])])
            if touched > cutoff:
                report.spared.append(digest)
                continue
            report.eligible.append(digest)
            out(f"blob eligible for deletion: {digest}")
            if dry_run:
                continue
            os.unlink(path)
            report.deleted.append(digest)
        if not dry_run:
            for digest, paths in layer_links.items():
                if not storage.has_blob(digest):
                    for p in paths:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(p)
                        report.dangling_links += 1
    out(f"{len(report.marked)} blobs marked, {len(report.eligible)} blobs eligible for deletion, "
        f"{len(report.spared)} unreferenced blobs younger than {grace_seconds:g}s kept"
        + (" (dry run: nothing deleted)" if dry_run else f", {len(report.deleted)} blobs deleted"))
    return report
