"""`system df`: what the store's images, containers and volumes take, in the Engine API's
/system/df shape (the docker CLI computes its table from it; strata's CLI does the same,
cli/disk_usage.py).

Images: Size (their layers), SharedSize (those of their layers another image uses too),
Containers (how many containers were made from them). Containers: SizeRw (the bytes of
their own layer, left out when 0 as dockerd does) and SizeRootFs (with the image's).
Volumes: UsageData.Size (the bytes under _data) and RefCount (the containers mounting
them). There is no build cache: the classic builder's cache is its images.
"""
from __future__ import annotations

from collections import Counter

from reference_impl import mountpoints
from reference_impl.engine.images import ImageService, layer_bytes
from reference_impl.engine.records.container_views import ContainerListOptions
from reference_impl.engine.records.images import ImageListOptions
from reference_impl.errors import NotFound
from reference_impl.fsutil import bytes_under
from reference_impl.store import Store


def document(store: Store) -> dict:
    from reference_impl.engine.containers import ContainerService
    from reference_impl.engine.records.volumes import VolumeListOptions
    from reference_impl.engine.volumes import VolumeService, inspect_json
    images = ImageService(store).list(ImageListOptions(all=True))
    layers_of = _present(images, lambda image: store.images.get(image.id).diff_ids)
    images = [image for image in images if image.id in layers_of]
    users = Counter(layer for layers in layers_of.values() for layer in set(layers))
    containers = ContainerService(store).list(ContainerListOptions(all=True))
    records = _present(containers, lambda c: store.containers.get(c.id))
    containers = [c for c in containers if c.id in records]
    made_from = Counter(c.image_id for c in containers)
    mounted = Counter(name for r in records.values() for name in mountpoints.volume_names(r.config))
    image_size = {image.id: image.size for image in images}
    return {
        "LayersSize": layer_bytes(store),
        "Images": [{"Containers": made_from[image.id], "Created": int(image.created), "Id": image.id,
                    "Labels": image.labels or None, "ParentId": image.parent_id,
                    "RepoDigests": image.repo_digests or None, "RepoTags": image.repo_tags or None,
                    "SharedSize": sum(store.images.layer_size(layer) for layer in set(layers_of[image.id])
                                      if users[layer] > 1),
                    "Size": image.size, "VirtualSize": image.size} for image in images],
        "Containers": [_container(c, records[c.id], image_size.get(c.image_id, 0)) for c in containers],
        "Volumes": [{**inspect_json(volume), "UsageData": {"Size": bytes_under(volume.mountpoint),
                                                           "RefCount": mounted[volume.name]}}
                    for volume in VolumeService(store).list(VolumeListOptions())],
        "BuildCache": [],
        "BuilderSize": 0,
    }


def _present(listed, read) -> dict:
    """{id: read(item)} for the listed items still there: the store is shared, and an image or
    a container listed a moment ago may be gone (it is then left out, as if listed later)."""
    found = {}
    for item in listed:
        try:
            found[item.id] = read(item)
        except NotFound:
            continue
    return found


def _container(summary, record, image_size: int) -> dict:
    own = bytes_under(record.upper)
    shown = {"Id": summary.id, "Names": ["/" + n for n in summary.names], "Image": summary.image,
             "ImageID": summary.image_id, "Command": summary.command, "Created": int(summary.created),
             "State": summary.state, "Status": summary.status, "Labels": summary.labels,
             "SizeRootFs": own + image_size,
             "Mounts": mountpoints.shown(record.config)}
    if own:
        shown["SizeRw"] = own
    return shown
