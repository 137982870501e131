"""Image removal with Docker's semantics (moby daemon/images/image_delete.go).

By name: untag; if that was the image's last name, delete it too unless something
stops that (then it stays, quietly). By id: delete, untagging everything first.
Conflicts are *hard* (a running container, dependent child images: -f does not
help) or *soft* (a stopped container, several repositories: -f overrides). After
a delete, untagged parents that nothing else uses go too (unless --no-prune).
Every removal is printed as Docker prints it: `Untagged: ref`, `Deleted: id`, and
`Deleted: <chain id>` for each layer no other image or container still uses.
"""
from __future__ import annotations

from reference_impl import refs
from reference_impl.errors import Conflict
from reference_impl.store import Store, hex_of
from reference_impl.store.digest import Digest

HARD_CHILD, HARD_RUNNING, SOFT_STOPPED = 1, 2, 4


def chain_ids(diff_ids: list[str]) -> list[str]:
    chains = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            chains.append(Digest.of(f"{chains[-1]} {diff_id}".encode()))
    return chains


def _short(image_id: str) -> str:
    return hex_of(image_id)[:12]


def _is_id_reference(text: str, image_id: str) -> bool:
    return hex_of(image_id).startswith(hex_of(text)) and refs.ID_PREFIX.match(text) is not None


def _single_repository(tag_refs: list[str]) -> bool:
    return len(tag_refs) == 1


class Deleter:
    """Removes images; reports each removal through out(kind, value), kind Untagged or Deleted."""

    def __init__(self, store: Store, out):
        self.store, self.out = store, out

    def _containers_using(self, image_id: str):
        return [c for c in self.store.containers.all() if c.config.get("Image") == image_id]

    def _conflict(self, image_id: str, mask: int) -> Conflict | None:
        short = _short(image_id)
        if mask & HARD_CHILD and self.store.images.children(image_id):
            return Conflict(f"conflict: unable to delete {short} (cannot be forced) - "
                            "image has dependent child images")
        using = self._containers_using(image_id)
        if mask & HARD_RUNNING:
            for c in using:
                if c.running:
                    return Conflict(f"conflict: unable to delete {short} (cannot be forced) - "
                                    f"image is being used by running container {c.short_id}")
        if mask & SOFT_STOPPED:
            for c in using:
                if not c.running:
                    return Conflict(f"conflict: unable to delete {short} (must be forced) - "
                                    f"image is being used by stopped container {c.short_id}")
        return None

    def remove(self, text: str, force: bool, prune: bool) -> None:
        """One `rmi` argument (the caller holds the store lock)."""
        image_id = self.store.images.resolve(text)
        tag_refs = self.store.images.refs_of(image_id)
        quiet = False
        if not _is_id_reference(text, image_id):
            ref = str(refs.parse_tagged(text))
            if ref not in self.store.images.tags():  # resolved by a digest reference
                ref = str(refs.parse(text))
            if not force and len(tag_refs) <= 1:
                using = self._containers_using(image_id)
                if using:
                    raise Conflict(f'conflict: unable to remove repository reference "{text}" (must force) - '
                                   f"container {using[0].short_id} is using its referenced image {_short(image_id)}")
            self.store.images.remove_tag(ref)
            self.out("Untagged", ref)
            name = refs.parse(ref).name
            if not any(refs.parse(t).name == name for t in self.store.images.refs_of(image_id)):
                # no tag of this repository is left: its digest references go too (moby)
                for digest_ref in self.store.images.digests_of(image_id):
                    if refs.parse(digest_ref).name == name:
                        self.store.images.remove_tag(digest_ref)
                        self.out("Untagged", digest_ref)
            if self.store.images.refs_of(image_id) + self.store.images.digests_of(image_id):
                return
            quiet = True
        else:
            if len(tag_refs) > 1 and not force:
                raise Conflict(f"conflict: unable to delete {_short(image_id)} (must be forced) - "
                               "image is referenced in multiple repositories")
            mask = HARD_CHILD | HARD_RUNNING | (0 if force else SOFT_STOPPED)
            conflict = self._conflict(image_id, mask)
            if conflict:
                raise conflict
        self._delete(image_id, force, prune, quiet)

    def _delete(self, image_id: str, force: bool, prune: bool, quiet: bool) -> None:
        mask = HARD_CHILD | HARD_RUNNING | (0 if force else SOFT_STOPPED)
        conflict = self._conflict(image_id, mask)
        if conflict:
            if quiet:
                return
            raise conflict
        image = self.store.images.get(image_id)
        for ref in self.store.images.refs_of(image_id) + self.store.images.digests_of(image_id):
            self.store.images.remove_tag(ref)
            self.out("Untagged", ref)
        self.store.images.delete_image(image_id)
        self.out("Deleted", image_id)
        for chain in self._released_chains(image.diff_ids):
            self.out("Deleted", chain)
        if prune and image.parent:
            try:
                parent = self.store.images.get(image.parent)
            except Exception:
                return
            if not self.store.images.refs_of(parent.id) and not self.store.images.digests_of(parent.id):
                self._delete(parent.id, False, True, True)

    def _released_chains(self, diff_ids: list[str]) -> list[str]:
        """Chain ids of this image's layers that no remaining image or container holds."""
        held: set[str] = set()
        for other in self.store.images.all():
            held.update(chain_ids(other.diff_ids))
        for container in self.store.containers.all():
            held.update(chain_ids(container.config.get("Layers", [])))
        return [c for c in reversed(chain_ids(diff_ids)) if c not in held]


def prune_images(store: Store, everything: bool, out, keep=lambda image: False) -> None:
    """`image prune`: dangling images nothing uses (-a: every image no container uses),
    as moby's ImagesPrune does it — untag, then delete quietly where nothing holds it.
    keep(image): an image the prune's filters leave alone."""
    deleter = Deleter(store, out)
    used = {c.config.get("Image") for c in store.containers.all()}
    all_images = store.images.all()
    parents = {img.parent for img in all_images if img.parent}
    for image in all_images:
        if image.id in used or keep(image):
            continue
        names = store.images.refs_of(image.id) + store.images.digests_of(image.id)
        if not everything and (names or image.id in parents):
            continue
        try:
            if names:
                for name in names:
                    deleter.remove(name, force=False, prune=True)
            elif (store.images.images_dir / hex_of(image.id) / "config.json").exists():
                deleter._delete(image.id, force=False, prune=True, quiet=True)
        except Conflict:
            continue
