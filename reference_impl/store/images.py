"""Layers, image configs and tags under one root.

    <root>/layers/<diff hex>/diff/        the layer, extracted for overlayfs
    <root>/layers/<diff hex>/layer.tar    the layer tar itself (save, push)
    <root>/images/<id hex>/config.json    the image config; id = sha256 of these bytes
    <root>/images/<id hex>/meta.json      what Docker keeps beside it: parent, digests
    <root>/repositories.json              {"name:tag": "sha256:<id>"}

Writers hold the store lock; every file is written atomically; a layer becomes
visible by a rename of its complete directory, so a reader never sees half of it.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from reference_impl import refs
from reference_impl.errors import Conflict, InvalidInput, NotFound
from reference_impl.fsutil import atomic_write, locked, read_json, write_json
from reference_impl.store import staging
from reference_impl.store.digest import SHA256, Digest, InvalidDigest


class Lease:
    """A file naming the layers a live process needs; the garbage collector keeps them."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{os.getpid()}.{os.urandom(4).hex()}"
        write_json(self.path, [], durable=False)

    def hold(self, diff_ids: list[str]) -> None:
        write_json(self.path, sorted(set(diff_ids)), durable=False)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def hex_of(text: str) -> str:
    """The hex of an image id as a user may type it: full or short, with or without "sha256:"."""
    return text.removeprefix(SHA256 + ":")


def _named(directory: Path) -> Digest | None:
    """The digest a store directory is named by (its hex), or None for a stray name."""
    try:
        return Digest.from_hex(directory.name)
    except InvalidDigest:
        return None


@dataclass
class Image:
    id: Digest      # the digest of `raw`, the config's bytes
    config: dict
    raw: bytes
    meta: dict

    @property
    def short_id(self) -> str:
        return self.id.short

    @property
    def diff_ids(self) -> list[Digest]:
        return [Digest(d) for d in self.config.get("rootfs", {}).get("diff_ids", [])]

    @property
    def parent(self) -> str:
        return self.meta.get("parent", "")

    @property
    def labels(self) -> dict:
        return (self.config.get("config") or {}).get("Labels") or {}


@dataclass
class _Tags:
    tags: dict[str, str]
    by_image: dict[str, list[str]]


class TagIndex:
    """repositories.json, read again only when it was replaced (every write is a rename, so
    a new inode), with its reverse: the refs of each image."""

    def __init__(self, path: Path):
        self.path = path
        self._seen: tuple | None = None
        self._value = _Tags({}, {})

    def current(self) -> _Tags:
        try:
            st = os.stat(self.path)
            signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            signature = None
        if signature != self._seen:
            tags = read_json(self.path, {}) if signature else {}
            by_image: dict[str, list[str]] = {}
            for key, image_id in tags.items():
                by_image.setdefault(image_id, []).append(key)
            self._value, self._seen = _Tags(tags, by_image), signature
        return self._value


class ImageIndex:
    """Every image's config and meta in one snapshot file plus a journal of the images
    changed since, so that listing the images or looking for a build cache hit reads two
    files and a few images, never one file per image.

    Writers (under the store lock) append the id of each image they add, change or remove
    to the journal, before and after the change; every COMPACT_AFTER changes one of them
    writes a new snapshot, then
    starts an empty journal (a rename: readers holding the old one still see it). Readers
    read the journal before the snapshot and re-read each image it names from its own
    files, so a snapshot newer than the journal only means a few images read twice."""

    COMPACT_AFTER = 64

    def __init__(self, directory: Path, store: "ImageStore"):
        self.directory = directory
        self.store = store
        self.snapshot_path = directory / "snapshot.pickle"
        self.journal_path = directory / "journal"
        self._memo: tuple[tuple, dict[str, Image]] | None = None

    @contextlib.contextmanager
    def changing(self, image_id: str):
        """(Under the store lock.) Around a change to image_id's files: its id goes in the
        journal before the change — a writer killed halfway leaves it named, so readers
        look at its files, never trusting an older snapshot about it — and again after,
        so that a reader that remembers the index sees that something changed."""
        self.directory.mkdir(exist_ok=True)
        if not self.snapshot_path.exists():
            yield
            self._write_snapshot(self._from_files())
            return
        self._append(image_id)
        yield
        if self._append(image_id) >= self.COMPACT_AFTER * 2 * 65:
            self._write_snapshot(self._current())
            atomic_write(self.journal_path, b"", durable=False, staging=self.store.tmp_dir,
                         staging_prefix=staging.prefix("write-"))

    def _append(self, image_id: str) -> int:
        with open(self.journal_path, "a") as journal:
            journal.write(hex_of(image_id) + "\n")
            return journal.tell()

    def images(self) -> list[Image]:
        return list(self._current().values())

    def _current(self) -> dict[str, Image]:
        signature = (_signature(self.journal_path), _signature(self.snapshot_path))
        if self._memo and self._memo[0] == signature:
            return dict(self._memo[1])
        journal = self._journal()
        snapshot = self._snapshot()
        if snapshot is None:  # a store older than its index: its first writer makes one
            found = self._from_files()
        else:
            found = snapshot
            for hex_id in journal:
                try:
                    image = self.store.get(hex_id)
                    found[image.id] = image
                except NotFound:  # removed since the snapshot; a torn entry names nothing
                    with contextlib.suppress(InvalidDigest):
                        found.pop(Digest.from_hex(hex_id), None)
        self._memo = (signature, found)
        return dict(found)

    def _from_files(self) -> dict[str, Image]:
        return {image.id: image for image in self.store.read_all()}

    def _journal(self) -> list[str]:
        try:
            return list(dict.fromkeys(self.journal_path.read_text().split()))
        except FileNotFoundError:
            return []

    def _snapshot(self) -> dict[str, Image] | None:
        import pickle
        try:
            with open(self.snapshot_path, "rb") as f:
                entries = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError):
            return None
        return {Digest(image_id): Image(Digest(image_id), config, raw, meta)
                for image_id, config, raw, meta in entries}

    def _write_snapshot(self, found: dict[str, Image]) -> None:
        import pickle
        entries = [(str(image.id), image.config, image.raw, image.meta) for image in found.values()]
        atomic_write(self.snapshot_path, pickle.dumps(entries), durable=False,
                     staging=self.store.tmp_dir, staging_prefix=staging.prefix("write-"))


def _signature(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class ImageStore:
    def __init__(self, root: Path):
        self.root = root
        self.layers_dir = root / "layers"
        self.images_dir = root / "images"
        self.tmp_dir = root / "tmp"
        self.tags_file = root / "repositories.json"
        for d in (self.layers_dir, self.images_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.index = ImageIndex(root / "image-index", self)
        self._tags = TagIndex(self.tags_file)
        self._layer_sizes: dict[str, int] = {}

    @contextlib.contextmanager
    def lock(self, shared: bool = False):
        """The store lock; whoever takes it to write first removes what killed operations left
        (the lock's value: what it removed)."""
        with locked(self.root / "store.lock", shared):
            yield [] if shared else staging.reclaim(self.root)

    def _write(self, path: Path, value, durable: bool = True) -> None:
        """write_json with the half-written file in tmp/, where reclaim finds it if we die."""
        write_json(path, value, durable, staging=self.tmp_dir, staging_prefix=staging.prefix("write-"))

    # --- layers ------------------------------------------------------------------
    def layer_path(self, diff_id: str) -> Path:
        return self.layers_dir / Digest(diff_id).hex

    def has_layer(self, diff_id: str) -> bool:
        return Digest.valid(diff_id) and (self.layer_path(diff_id) / "diff").is_dir()

    def layer_diff_dir(self, diff_id: str) -> Path:
        return self.layer_path(diff_id) / "diff"

    def layer_tar(self, diff_id: str) -> Path:
        return self.layer_path(diff_id) / "layer.tar"

    def add_layer(self, tar_path: Path, diff_id: str) -> None:
        """Adopt an uncompressed layer tar (moved, not copied); idempotent."""
        if self.has_layer(diff_id):
            tar_path.unlink()
            return
        from reference_impl import layers  # tar handling: only where layers come in
        work = staging.new_dir(self.tmp_dir, "layer-")
        try:
            (work / "diff").mkdir()
            layers.extract(tar_path, work / "diff")
            os.replace(tar_path, work / "layer.tar")
            atomic_write(work / "size", str(layers.tree_size(work / "diff")).encode(), durable=False)
            os.sync()
            try:
                os.rename(work, self.layer_path(diff_id))
            except OSError:  # another process adopted the same layer first
                shutil.rmtree(work, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            if tar_path.exists():
                tar_path.unlink()
            raise

    def layer_size(self, diff_id: str) -> int:
        if diff_id not in self._layer_sizes:  # a layer never changes
            try:
                self._layer_sizes[diff_id] = int((self.layer_path(diff_id) / "size").read_text())
            except (FileNotFoundError, ValueError):
                return 0
        return self._layer_sizes[diff_id]

    def spool(self, stream) -> tuple[Path, Digest]:
        from reference_impl import layers
        return layers.spool_uncompressed(stream, self.tmp_dir)

    # --- images ------------------------------------------------------------------
    def put_image(self, config: dict | bytes, parent: str = "") -> Digest:
        raw = config if isinstance(config, bytes) else json.dumps(config, separators=(",", ":")).encode()
        image_id = Digest.of(raw)
        cfg = json.loads(raw)
        for diff_id in cfg.get("rootfs", {}).get("diff_ids", []):
            if not self.has_layer(diff_id):
                raise InvalidInput(f"layer {diff_id} is not in the store")
        directory = self.images_dir / image_id.hex
        with self.index.changing(image_id):
            directory.mkdir(exist_ok=True)
            if not (directory / "config.json").exists():
                atomic_write(directory / "config.json", raw, staging=self.tmp_dir,
                             staging_prefix=staging.prefix("write-"))
            meta = read_json(directory / "meta.json", {})
            if parent and not meta.get("parent"):
                meta["parent"] = parent
            meta.setdefault("added", time.time())
            self._write(directory / "meta.json", meta)
        return image_id

    def get(self, image_id: str) -> Image:
        directory = self.images_dir / hex_of(image_id)
        try:
            raw = (directory / "config.json").read_bytes()
        except FileNotFoundError:
            raise NotFound(f"No such image: {image_id}") from None
        return Image(Digest.from_hex(directory.name), json.loads(raw), raw,
                     read_json(directory / "meta.json", {}))

    def set_meta(self, image_id: str, **values) -> None:
        path = self.images_dir / hex_of(image_id) / "meta.json"
        meta = read_json(path, {})
        meta.update(values)
        with self.index.changing(image_id):
            self._write(path, meta)

    def ids(self) -> list[Digest]:
        return [image_id for d in self.images_dir.iterdir()
                if (image_id := _named(d)) is not None and (d / "config.json").exists()]

    def all(self) -> list[Image]:
        return self.index.images()

    def read_all(self) -> list[Image]:
        """Every image, read from its own files (what the index is made of)."""
        images = []
        for image_id in self.ids():
            try:
                images.append(self.get(image_id))
            except NotFound:
                continue
        return images

    def children(self, image_id: str) -> list[str]:
        return [img.id for img in self.all() if img.parent == image_id]

    def delete_image(self, image_id: str) -> None:
        with self.index.changing(image_id):
            shutil.rmtree(self.images_dir / hex_of(image_id), ignore_errors=True)

    # --- tags ----------------------------------------------------------------------
    def tags(self) -> dict[str, str]:
        return dict(self._tags.current().tags)

    def set_tag(self, ref: refs.Reference, image_id: str) -> str | None:
        """Point ref at image_id; returns the image it pointed at before, if another."""
        tags = self.tags()
        key = str(ref)
        previous = tags.get(key)
        tags[key] = image_id
        self._write(self.tags_file, tags)
        return previous if previous != image_id else None

    def remove_tag(self, key: str) -> None:
        tags = self.tags()
        if tags.pop(key, None) is not None:
            self._write(self.tags_file, tags)

    def refs_of(self, image_id: str) -> list[str]:
        return sorted(k for k in self._tags.current().by_image.get(image_id, ()) if "@" not in k)

    def digests_of(self, image_id: str) -> list[str]:
        return sorted(k for k in self._tags.current().by_image.get(image_id, ()) if "@" in k)

    def resolve(self, text: str) -> Digest:
        """A tag, digest reference, full or short id -> image id (Docker's order)."""
        tags = self.tags()
        if refs.ID_PREFIX.match(text) and len(hex_of(text)) == 64:
            image_id = Digest.from_hex(hex_of(text))
            if (self.images_dir / image_id.hex / "config.json").exists():
                return image_id
            raise NotFound(f"No such image: {text}")
        try:
            ref = refs.parse_tagged(text)
        except InvalidInput:
            ref = None
        if ref is not None and str(ref) in tags:
            return Digest(tags[str(ref)])
        if ref is not None and ref.digest and ref.tag:
            digest_only = str(refs.Reference(ref.name, None, ref.digest))
            if digest_only in tags:
                return Digest(tags[digest_only])
        if refs.ID_PREFIX.match(text):
            prefix = hex_of(text)
            matches = [d.name for d in self.images_dir.iterdir()
                       if d.name.startswith(prefix) and (d / "config.json").exists()]
            if len(matches) == 1:
                return Digest.from_hex(matches[0])
            if len(matches) > 1:
                raise Conflict(f"ambiguous image id prefix {text}")
        if ref is None:
            raise InvalidInput("invalid reference format")
        raise NotFound(f"No such image: {ref}")

    # --- leases: layers a running operation (a build) needs, whatever happens to images ---
    def lease(self) -> "Lease":
        return Lease(self.root / "leases")

    def leased_layers(self) -> set[str]:
        held: set[str] = set()
        directory = self.root / "leases"
        if not directory.is_dir():
            return held
        for path in directory.iterdir():
            pid = path.name.split(".", 1)[0]
            if not pid.isdigit() or not os.path.exists(f"/proc/{pid}"):
                path.unlink(missing_ok=True)  # its process is gone: so is the lease
                continue
            held.update(read_json(path, []) or [])
        return held

    # --- garbage -------------------------------------------------------------------
    def collect_layers(self, in_use_by_containers: set[str]) -> list[Digest]:
        """Remove layers no image, container or lease uses; returns their diff ids."""
        used = set(in_use_by_containers) | self.leased_layers()
        for image in self.all():
            used.update(image.diff_ids)
        removed = []
        for d in self.layers_dir.iterdir():
            diff_id = _named(d)
            if diff_id is not None and diff_id not in used:
                trash = self.tmp_dir / f"{staging.prefix('gone-')}{d.name}"
                try:
                    os.rename(d, trash)
                except OSError:
                    continue
                shutil.rmtree(trash, ignore_errors=True)
                removed.append(diff_id)
        return removed
