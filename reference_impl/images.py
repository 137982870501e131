"""Making images: configs as Docker writes them, import, commit, and what inspect/history show."""
from __future__ import annotations

import copy
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from reference_impl import changes as config_changes
from reference_impl import humanize, refs
from reference_impl.ownership import staging_prefix
from reference_impl.store import Image, Store

DOCKER_VERSION = "20.10.24"  # the Docker whose image format we write
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)

EMPTY_CONTAINER_CONFIG = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": None,
}


def new_config(config: dict, diff_ids: list[str], history: list[dict], *, created: str,
               container: str = "", container_config: dict | None = None,
               author: str = "", comment: str = "") -> dict:
    image = {
        "architecture": ARCH,
        "config": config,
        "container": container,
        "container_config": container_config or copy.deepcopy(EMPTY_CONTAINER_CONFIG),
        "created": created,
        "docker_version": DOCKER_VERSION,
        "history": history,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    if author:
        image["author"] = author
    if comment:
        image["comment"] = comment
    return image


def history_entry(created: str, created_by: str, *, empty_layer: bool = False,
                  comment: str = "", author: str = "") -> dict:
    entry = {"created": created, "created_by": created_by}
    if author:
        entry["author"] = author
    if comment:
        entry["comment"] = comment
    if empty_layer:
        entry["empty_layer"] = True
    return entry


def apply_changes(config: dict, lines: list[str]) -> dict:
    config = copy.deepcopy(config)
    for line in lines:
        config_changes.apply(config, line)
    return config


def import_layer(store: Store, stream, ref: refs.Reference | None, change_lines: list[str],
                 message: str = "") -> str:
    """`import`: one layer from a tar stream, config from --change."""
    tar_path, diff_id = store.images.spool(stream)
    created = humanize.now_rfc3339()
    config = apply_changes(copy.deepcopy(EMPTY_CONTAINER_CONFIG), change_lines)
    image = new_config(config, [diff_id],
                       [history_entry(created, "", comment=message or "Imported from -")],
                       created=created)
    try:
        with store.lock():
            store.images.add_layer(tar_path, diff_id)
            image_id = store.images.put_image(image)
            if ref is not None:
                tag(store, image_id, ref)
    finally:
        tar_path.unlink(missing_ok=True)  # adopted (moved) by add_layer, unless it failed
    return image_id


@dataclass
class PendingLayer:
    """A layer tar written but not yet in the store: it goes in together with the image
    that uses it, under one lock, so a concurrent prune never sees it unused."""
    tar_path: Path
    diff_id: str


def layer_from_directory(directory, scratch) -> PendingLayer | None:
    """A layer of a directory's contents (a container's upper layer, a COPY's files); None
    when it is empty: Docker then records an empty_layer history entry instead."""
    if not any(Path(directory).iterdir()):
        return None
    from reference_impl import layers  # tar handling: only where a layer is made
    tar_path = Path(scratch) / f"{staging_prefix('layer-')}{secrets.token_hex(8)}.tar"
    return PendingLayer(tar_path, layers.write_diff_tar(Path(directory), tar_path))


def put_with_layer(store: Store, config: dict, parent: str, layer: PendingLayer | None) -> str:
    """Add the layer (if any) and the image in one locked step."""
    try:
        with store.lock():
            if layer is not None:
                store.images.add_layer(layer.tar_path, layer.diff_id)
            return store.images.put_image(config, parent=parent)
    finally:
        if layer is not None:
            layer.tar_path.unlink(missing_ok=True)


def tag(store: Store, image_id: str, ref: refs.Reference) -> None:
    """Point ref at the image (caller holds the lock); the image it left keeps no name.
    The image is looked up under that lock: a concurrent `rmi -f` may have removed it since
    it was made, and a tag must never point at nothing."""
    store.images.get(image_id)  # NotFound: "No such image"
    store.images.set_tag(ref.with_default_tag(), image_id)


def size_of(store: Store, image: Image) -> int:
    return sum(store.images.layer_size(d) for d in image.diff_ids)


def inspect(store: Store, image: Image) -> dict:
    cfg = image.config
    return {
        "Id": image.id,
        "RepoTags": store.images.refs_of(image.id),
        "RepoDigests": store.images.digests_of(image.id),
        "Parent": image.parent,
        "Comment": cfg.get("comment", ""),
        "Created": cfg.get("created", ""),
        "Container": cfg.get("container", ""),
        "ContainerConfig": cfg.get("container_config") or copy.deepcopy(EMPTY_CONTAINER_CONFIG),
        "DockerVersion": cfg.get("docker_version", ""),
        "Author": cfg.get("author", ""),
        "Config": cfg.get("config"),
        "Architecture": cfg.get("architecture", ""),
        "Os": cfg.get("os", ""),
        "Size": size_of(store, image),
        "VirtualSize": size_of(store, image),
        "GraphDriver": {"Data": {
            "LowerDir": ":".join(str(store.images.layer_diff_dir(d)) for d in reversed(image.diff_ids[:-1])),
            "UpperDir": str(store.images.layer_diff_dir(image.diff_ids[-1])) if image.diff_ids else "",
        }, "Name": "overlay2"},
        "RootFS": {"Type": "layers", "Layers": image.diff_ids},
        "Metadata": {"LastTagTime": image.meta.get("last_tag_time", "0001-01-01T00:00:00Z")},
    }


def history(store: Store, image: Image) -> list[dict]:
    """Newest first, as `history` prints; each row's IMAGE is the image built at that step, if
    it is still in the store (older steps of a pulled or imported image show <missing>)."""
    entries = image.config.get("history") or []
    diff_ids = list(image.diff_ids)
    chain = []  # (image id) walking the parent chain from this image
    current: Image | None = image
    while current is not None:
        chain.append(current.id)
        try:
            current = store.images.get(current.parent) if current.parent else None
        except Exception:
            current = None
    rows = []
    layer_index = len(diff_ids) - 1
    for position, entry in enumerate(reversed(entries)):
        empty = entry.get("empty_layer", False)
        size = 0
        if not empty and layer_index >= 0:
            size = store.images.layer_size(diff_ids[layer_index])
            layer_index -= 1
        image_id = chain[position] if position < len(chain) else "<missing>"
        rows.append({"ID": image_id, "CreatedAt": entry.get("created", ""),
                     "CreatedBy": entry.get("created_by", ""), "Size": size,
                     "Comment": entry.get("comment", ""), "Tags": store.images.refs_of(image_id)
                     if image_id != "<missing>" else []})
    return rows
