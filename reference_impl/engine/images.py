"""ImageService: what `strata image …` and /images/… do, once."""
from __future__ import annotations

import tarfile

from reference_impl import archive, humanize, refs
from reference_impl import images as model
from reference_impl.engine import filters as flt
from reference_impl.engine.records.prune import PruneReport
from reference_impl.engine.records.images import (CommitOptions, DeleteItem, HistoryItem, ImageListOptions,
                                                  ImagePruneOptions, ImageSummary, ImportOptions)
from reference_impl.errors import EngineError, NotFound
from reference_impl.store import Image, Store
from reference_impl.store.digest import Digest, InvalidDigest

LIST_FILTERS = frozenset({"dangling", "label", "before", "since", "reference"})
PRUNE_FILTERS = frozenset({"dangling", "label", "label!", "until"})


class ImageService:
    def __init__(self, store: Store):
        self.store = store

    # --- list ---------------------------------------------------------------------------

    def list(self, options: ImageListOptions) -> list[ImageSummary]:
        """Newest first; intermediate images (untagged parents) only with `all`."""
        f = options.filters
        flt.check_keys(f, LIST_FILTERS)
        dangling = flt.boolean(f, "dangling")
        before = self._created_of(f["before"][-1]) if f.get("before") else None
        since = self._created_of(f["since"][-1]) if f.get("since") else None
        all_images = self.store.images.all()
        parents = {img.parent for img in all_images if img.parent}
        found = []
        for image in sorted(all_images, key=lambda i: i.config.get("created", ""), reverse=True):
            tags = self.store.images.refs_of(image.id)
            digests = self.store.images.digests_of(image.id)
            if image.id in parents and not options.all and not tags and not digests:
                continue
            if dangling is not None and (not tags) != dangling:
                continue
            if "label" in f and not flt.labels_match(image.labels, f["label"]):
                continue
            created = humanize.parse_rfc3339(image.config.get("created", ""))
            if (before is not None and created >= before) or (since is not None and created <= since):
                continue
            if "reference" in f:
                tags = [t for t in tags
                        if any(flt.reference_matches(*t.rsplit(":", 1), p) for p in f["reference"])]
                if not tags:
                    continue
            found.append(ImageSummary(id=image.id, parent_id=image.parent, repo_tags=tags,
                                      repo_digests=digests, created=created,
                                      created_at=image.config.get("created", ""),
                                      size=model.size_of(self.store, image), labels=image.labels or {}))
        return found

    def _created_of(self, name: str) -> float:
        return humanize.parse_rfc3339(self.get(name).config.get("created", ""))

    # --- one image ----------------------------------------------------------------------

    def get(self, name: str) -> Image:
        return self.store.images.get(self.store.images.resolve(name))

    def inspect(self, name: str) -> dict:
        """Docker's image inspect document."""
        return model.inspect(self.store, self.get(name))

    def history(self, name: str) -> list[HistoryItem]:
        return [HistoryItem(id=row["ID"], created_at=row["CreatedAt"], created_by=row["CreatedBy"],
                            size=row["Size"], comment=row["Comment"], tags=row["Tags"])
                for row in model.history(self.store, self.get(name))]

    def tag(self, source: str, target: str) -> None:
        ref = refs.parse_tagged(target)
        with self.store.lock():
            image_id = self.store.images.resolve(source)
            model.tag(self.store, image_id, ref)
            self.store.images.set_meta(image_id, last_tag_time=humanize.now_rfc3339())

    def remove(self, name: str, force: bool = False, prune: bool = True) -> list[DeleteItem]:
        """Docker's rmi: untag, then delete what no tag, child or container holds."""
        from reference_impl.removal import Deleter
        removed: list[DeleteItem] = []
        deleter = Deleter(self.store, lambda kind, value: removed.append(DeleteItem(kind, value)))
        with self.store.lock():
            deleter.remove(name, force, prune)
            self.store.images.collect_layers(self.store.containers.layers_in_use())
        return removed

    def prune(self, options: ImagePruneOptions) -> PruneReport:
        from reference_impl.removal import prune_images
        f = options.filters
        flt.check_keys(f, PRUNE_FILTERS)
        everything = options.all or flt.boolean(f, "dangling") is False
        cutoff = flt.until(f["until"][-1]) if f.get("until") else None

        def keep(image) -> bool:
            if "label" in f and not flt.labels_match(image.labels, f["label"]):
                return True
            if "label!" in f and not flt.labels_unmatched(image.labels, f["label!"]):
                return True
            return cutoff is not None and humanize.parse_rfc3339(image.config.get("created", "")) >= cutoff
        removed: list[DeleteItem] = []
        before = self._layer_bytes()
        with self.store.lock():
            prune_images(self.store, everything, lambda kind, value: removed.append(DeleteItem(kind, value)),
                         keep=keep)
            self.store.images.collect_layers(self.store.containers.layers_in_use())
        return PruneReport(deleted=removed, space_reclaimed=max(0, before - self._layer_bytes()))

    def _layer_bytes(self) -> int:
        return layer_bytes(self.store)

    # --- archives -----------------------------------------------------------------------

    def import_(self, source, options: ImportOptions) -> str:
        """An image of one layer from a tar stream; returns its id."""
        ref = refs.parse_tagged(options.reference) if options.reference else None
        return model.import_layer(self.store, source, ref, options.changes, options.message)

    def save(self, names: list[str], target) -> None:
        archive.save(self.store, names, target)

    def load(self, source) -> list[str]:
        """The lines `load` prints. A stream that is no tar is refused in dockerd's words."""
        try:
            return archive.load(self.store, source)
        except tarfile.ReadError as exc:
            detail = "unexpected EOF" if "truncated" in str(exc) or "empty" in str(exc) \
                else "archive/tar: invalid tar header"
            raise EngineError(f"Error processing tar file(exit status 1): {detail}") from None

    # --- commit -------------------------------------------------------------------------

    def commit(self, options: CommitOptions) -> str:
        """An image of a container's changes (tagged, if a reference is given); returns its id."""
        store = self.store
        container = store.containers.resolve(options.container)
        ref = refs.parse_tagged(options.reference) if options.reference else None
        try:
            base_config = store.images.get(container.config["Image"]).config
        except NotFound:
            base_config = {"rootfs": {"diff_ids": container.config["Layers"]}, "history": []}
        layer = model.layer_from_directory(container.upper, store.images.tmp_dir)
        diff_id = layer.diff_id if layer else None
        created = humanize.now_rfc3339()
        config = model.apply_changes(container.config["Config"], options.changes)
        history = list(base_config.get("history") or []) + [model.history_entry(
            created, " ".join(container.config["Config"].get("Cmd") or []),
            comment=options.message, author=options.author, empty_layer=diff_id is None)]
        diff_ids = [*container.config["Layers"], *([diff_id] if diff_id else [])]
        new = model.new_config(config, diff_ids, history, created=created,
                               container=container.id, container_config=container.config["Config"],
                               author=options.author, comment=options.message)
        image_id = model.put_with_layer(store, new, container.config["Image"], layer)
        if ref is not None:
            with store.lock():
                model.tag(store, image_id, ref)
        return image_id


def layer_bytes(store: Store) -> int:
    """The bytes of every layer in the store (an entry without a digest's name is staging)."""
    total = 0
    for entry in store.images.layers_dir.iterdir():
        try:
            total += store.images.layer_size(Digest.from_hex(entry.name))
        except InvalidDigest:
            continue
    return total
