"""VolumeService: what `strata volume …` and /volumes/… do, once."""
from __future__ import annotations

import secrets

from reference_impl import mountpoints
from reference_impl.engine import filters as flt
from reference_impl.engine.records.prune import PruneReport
from reference_impl.engine.records.volumes import Volume, VolumeCreateOptions, VolumeListOptions
from reference_impl.errors import Conflict, InvalidArgument, NotFound
from reference_impl.fsutil import bytes_under
from reference_impl.store import Store
from reference_impl.store.volumes import StoredVolume, VolumeStore

LIST_FILTERS = frozenset({"dangling", "name", "label", "driver"})
PRUNE_FILTERS = frozenset({"label", "label!"})


class VolumeService:
    def __init__(self, store: Store):
        self.store = store
        self.volumes = VolumeStore(store.root)

    def create(self, options: VolumeCreateOptions) -> Volume:
        if options.driver != "local":
            raise NotFound(f"error looking up volume plugin {options.driver}: plugin \"{options.driver}\" "
                           "not found")
        if options.driver_opts:  # the local driver's type/o/device mounts are not implemented
            raise InvalidArgument(f"create {options.name}: local volume driver options are not supported: "
                                  f"{', '.join(sorted(options.driver_opts))}")
        with self.store.lock():
            stored = self.volumes.create(options.name or secrets.token_hex(32), labels=options.labels,
                                         anonymous=not options.name)
        return _record(stored)

    def inspect(self, name: str) -> Volume:
        return _record(self.volumes.get(name))

    def list(self, options: VolumeListOptions) -> list[Volume]:
        filters = options.filters
        flt.check_keys(filters, LIST_FILTERS)
        dangling = flt.boolean(filters, "dangling")
        used = self._users() if dangling is not None else {}
        found = []
        for stored in self.volumes.all():
            volume = _record(stored)
            if dangling is not None and (stored.name not in used) != dangling:
                continue
            if "name" in filters and not any(n in volume.name for n in filters["name"]):
                continue
            if "driver" in filters and volume.driver not in filters["driver"]:
                continue
            if "label" in filters and not flt.labels_match(volume.labels or {}, filters["label"]):
                continue
            found.append(volume)
        return found

    def remove(self, name: str, force: bool = False) -> None:
        """In use: refused, with force too (as dockerd does); missing: NotFound, unless force."""
        with self.store.lock():
            try:
                stored = self.volumes.get(name)
            except NotFound:
                if force:
                    return
                raise
            users = self._users().get(stored.name)
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            self.volumes.remove(stored)

    def prune(self, filters: flt.Filters) -> PruneReport:
        """Every volume no container uses, that matches the label filters."""
        flt.check_keys(filters, PRUNE_FILTERS)
        removed, freed = [], 0
        with self.store.lock():
            used = self._users()
            for stored in self.volumes.all():
                labels = stored.record.get("Labels") or {}
                if stored.name in used:
                    continue
                if "label" in filters and not flt.labels_match(labels, filters["label"]):
                    continue
                if "label!" in filters and not flt.labels_unmatched(labels, filters["label!"]):
                    continue
                freed += _size(stored)
                self.volumes.remove(stored)
                removed.append(stored.name)
        return PruneReport(deleted=removed, space_reclaimed=freed)

    def _users(self) -> dict[str, list[str]]:
        """volume name -> ids of the containers that mount it."""
        used: dict[str, list[str]] = {}
        for container in self.store.containers.all():
            for name in mountpoints.volume_names(container.config):
                used.setdefault(name, []).append(container.id)
        return used


def _record(stored: StoredVolume) -> Volume:
    r = stored.record
    return Volume(name=stored.name, driver=r.get("Driver", "local"), mountpoint=str(stored.data),
                  created_at=r.get("CreatedAt", ""), labels=r.get("Labels"), options=r.get("Options"),
                  anonymous=bool(r.get("Anonymous")))


def _size(stored: StoredVolume) -> int:
    return bytes_under(stored.data)


def inspect_json(volume: Volume) -> dict:
    """Docker's volume document (both faces show it)."""
    return {"CreatedAt": volume.created_at, "Driver": volume.driver, "Labels": volume.labels,
            "Mountpoint": volume.mountpoint, "Name": volume.name, "Options": volume.options,
            "Scope": volume.scope}
