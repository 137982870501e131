"""`strata system check`: is the store consistent? (What a crash must never break.)

Every image config hashes to its id; every layer an image or container names is
present, complete, and its tar hashes to its diff id; every tag points at an
image; every container's image layers are there; and nothing is left of an
interrupted operation (staging files, half-made containers, a killed build's
containers: never visible, but they hold disk). `--repair` removes those.
"""
from __future__ import annotations

from reference_impl import humanize
from reference_impl.layers import sha256_file
from reference_impl.network import networks
from reference_impl.store import Store, hex_of, staging
from reference_impl.store.digest import Digest


def problems(store: Store, deep: bool = True) -> list[str]:
    found = []
    images = store.images
    for image_id in images.ids():
        directory = images.images_dir / hex_of(image_id)
        raw = (directory / "config.json").read_bytes()
        if Digest.of(raw) != image_id:
            found.append(f"image {image_id}: config does not hash to its id")
            continue
        image = images.get(image_id)
        for diff_id in image.diff_ids:
            if not images.has_layer(diff_id) or not images.layer_tar(diff_id).exists():
                found.append(f"image {image_id}: layer {diff_id} is missing")
        if image.parent and not (images.images_dir / hex_of(image.parent) / "config.json").exists():
            pass  # Docker too keeps a child whose parent was force-removed
    if deep:
        for layer_dir in images.layers_dir.iterdir():
            tar = layer_dir / "layer.tar"
            if not tar.exists() or not (layer_dir / "diff").is_dir():
                found.append(f"layer {layer_dir.name}: incomplete")
            elif sha256_file(tar).hex != layer_dir.name:
                found.append(f"layer {layer_dir.name}: tar does not hash to its diff id")
    for ref, image_id in images.tags().items():
        if not (images.images_dir / hex_of(image_id) / "config.json").exists():
            found.append(f"tag {ref}: points at missing image {image_id}")
    for container in store.containers.all():
        for diff_id in container.config.get("Layers", []):
            if not images.has_layer(diff_id):
                found.append(f"container {container.short_id}: layer {diff_id} is missing")
        if not container.upper.is_dir():
            found.append(f"container {container.short_id}: its layer is missing")
    found += volume_problems(store)
    found += networks.problems(store.root, store.containers.all())
    return found + leftover_problems(store)


def volume_problems(store: Store) -> list[str]:
    """Volumes without their record or data, and containers that mount a missing volume."""
    from reference_impl import mountpoints
    from reference_impl.store.volumes import VolumeStore
    volumes = VolumeStore(store.root)
    found = volumes.problems()
    known = {v.name for v in volumes.all()}
    for container in store.containers.all():
        for name in mountpoints.volume_names(container.config):
            if name not in known:
                found.append(f"container {container.short_id}: volume {name} is missing")
    return found


def leftover_problems(store: Store) -> list[str]:
    """What killed operations left (staging files, half-made containers, a killed build's
    containers): one line each and a total. Never visible to readers, but disk they hold."""
    with store.lock(shared=True):
        found = staging.leftovers(store.root)
    if not found:
        return []
    total = sum(leftover.size for leftover in found)
    return [f"leftover of an interrupted operation: {leftover.describe()}" for leftover in found] + [
        f"{len(found)} leftovers of interrupted operations hold {humanize.size(total)} ({total} bytes); "
        "`strata system check --repair` removes them, as does the next command that writes to the store"]


def repair_staging(store: Store) -> int:
    """Remove the leftovers of interrupted operations; returns how many there were."""
    with store.lock() as reclaimed:
        return len(reclaimed)
