"""`save` and `load` in the docker-archive format, so images move to and from Docker.

    manifest.json            [{"Config": "<hex>.json", "RepoTags": [...], "Layers": [...]}]
    <config hex>.json        the image config, byte for byte (its sha256 is the image id)
    <diff hex>/layer.tar     each layer, uncompressed (its sha256 is the diff id)
    <diff hex>/VERSION, json the legacy v1 files Docker still writes
    repositories             {"repo": {"tag": "<top layer dir>"}}
"""
from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from reference_impl import layers, refs
from reference_impl.ownership import staging_prefix
from reference_impl.errors import EngineError, InvalidInput, NotFound
from reference_impl.store import Store, hex_of


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def save(store: Store, names: list[str], target) -> None:
    manifest, repositories, written = [], {}, set()
    with store.lock(shared=True), tarfile.open(fileobj=target, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        chosen: dict[str, list[str]] = {}
        for name in names:
            image_id = store.images.resolve(name)
            tags = chosen.setdefault(image_id, [])
            if not refs.ID_PREFIX.match(name) or name in store.images.tags():
                ref = str(refs.parse_tagged(name))
                if ref in store.images.tags():
                    tags.append(ref)
        for image_id, tags in chosen.items():
            image = store.images.get(image_id)
            layer_paths = []
            for diff_id in image.diff_ids:
                directory = hex_of(diff_id)
                if directory not in written:
                    info = tar.gettarinfo(str(store.images.layer_tar(diff_id)), arcname=f"{directory}/layer.tar")
                    info.mtime = 0
                    with open(store.images.layer_tar(diff_id), "rb") as data:
                        tar.addfile(info, data)
                    _add_bytes(tar, f"{directory}/VERSION", b"1.0")
                    _add_bytes(tar, f"{directory}/json", json.dumps({"id": directory}).encode())
                    written.add(directory)
                layer_paths.append(f"{directory}/layer.tar")
            _add_bytes(tar, f"{hex_of(image_id)}.json", image.raw)
            manifest.append({"Config": f"{hex_of(image_id)}.json", "RepoTags": tags or None,
                             "Layers": layer_paths})
            for tag in tags:
                repo, _, t = tag.rpartition(":")
                repositories.setdefault(repo, {})[t] = hex_of(image.diff_ids[-1]) if image.diff_ids else ""
        _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        if repositories:
            _add_bytes(tar, "repositories", json.dumps(repositories).encode())


class ArchiveError(EngineError):
    """What `docker load` prints from the daemon's stream, without the daemon prefix."""
    from_daemon = False


def _safe_extract_archive(source, directory: Path) -> None:
    try:
        _extract_archive(source, directory)
    except tarfile.ReadError as exc:
        if "empty" in str(exc):  # dockerd finds no manifest.json, then no legacy repositories
            raise ArchiveError(f"open {directory}/repositories: no such file or directory") from None
        raise ArchiveError(layers.not_a_tar(exc)) from None
    except tarfile.TarError as exc:
        raise ArchiveError(layers.not_a_tar(exc)) from None


def _extract_archive(source, directory: Path) -> None:
    with tarfile.open(fileobj=source, mode="r|*") as tar:
        for member in tar:
            name = member.name.lstrip("./")
            if member.isdir():
                continue
            if not member.isreg() or ".." in Path(name).parts or name.startswith("/"):
                continue  # an archive member we do not need, or one that tries to escape
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as data, open(path, "wb") as out:
                shutil.copyfileobj(data, out, 1 << 20)


def load(store: Store, source) -> list[str]:
    """Load every image of a docker-archive; returns the lines `load` prints."""
    staging = Path(tempfile.mkdtemp(dir=store.images.tmp_dir, prefix=staging_prefix("load-")))
    lines = []
    pending: list[tuple[Path, str]] = []
    try:
        _safe_extract_archive(source, staging)
        try:
            manifest = json.loads((staging / "manifest.json").read_text())
        except FileNotFoundError:
            raise EngineError("open manifest.json: no such file or directory") from None
        for entry in manifest:
            raw = (staging / entry["Config"]).read_bytes()
            config = json.loads(raw)
            diff_ids = config.get("rootfs", {}).get("diff_ids", [])
            if len(diff_ids) != len(entry["Layers"]):
                raise InvalidInput("invalid manifest, layers length mismatch: expected "
                                   f"{len(diff_ids)}, got {len(entry['Layers'])}")
            pending.clear()
            for expected, layer_name in zip(diff_ids, entry["Layers"]):
                with open(staging / layer_name, "rb") as stream:
                    tar_path, diff_id = store.images.spool(stream)
                if diff_id != expected:
                    tar_path.unlink()
                    raise InvalidInput(f"invalid diffID for layer: expected {expected}, got {diff_id}")
                pending.append((tar_path, diff_id))
            with store.lock():  # layers and image together: a concurrent prune never sees them unused
                for tar_path, diff_id in pending:
                    store.images.add_layer(tar_path, diff_id)
                image_id = store.images.put_image(raw)
                for tag in entry.get("RepoTags") or []:
                    ref = refs.parse_tagged(tag)
                    previous = store.images.set_tag(ref, image_id)
                    if previous:
                        lines.append(f"The image {ref} already exists, renaming the old one with ID "
                                     f"{previous} to empty string")
                    lines.append(f"Loaded image: {ref}")
                if not entry.get("RepoTags"):
                    lines.append(f"Loaded image ID: {image_id}")
    except (KeyError, ValueError) as exc:
        raise InvalidInput(f"invalid archive: {exc}") from None
    except NotFound as exc:
        raise InvalidInput(f"invalid archive: {exc.message}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for tar_path, _ in pending:  # spooled, not adopted: a failure (a full disk) came first
            tar_path.unlink(missing_ok=True)
    return lines
