"""A container's mount points, decided at create as dockerd decides them.

From HostConfig.VolumesFrom (`--volumes-from c[:ro|rw]`: the volumes and binds of c),
HostConfig.Binds (`-v src:dst[:mode]`), HostConfig.Mounts (`--mount`), HostConfig.Tmpfs
(`--tmpfs`) and Config.Volumes (the image's VOLUMEs and `-v /path`) comes one list of
mount points, kept in the container's record ("MountPoints"):

    {"Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation"}
    as inspect's .Mounts shows them, plus "CopyData" (fill an empty volume from the
    image at the first start) and "Data"/"Flags" for a tmpfs.

Named volumes are made if missing, anonymous ones get a random 64-hex name; a `-v`
bind source that does not exist is made, a `--mount` one is refused. The mounting
itself happens in the container's mount namespace (mounting.py).
"""
from __future__ import annotations

import os
import posixpath
import secrets

from reference_impl import syscalls as sc
from reference_impl.errors import InvalidArgument, NotFound
from reference_impl.store.volumes import StoredVolume, VolumeStore

# z/Z (SELinux labels) and the consistency modes change nothing on this host, as on dockerd's;
# propagation other than (r)private is not implemented, so refused
_MODES = {"ro", "rw", "z", "Z", "nocopy", "private", "rprivate", "consistent", "cached", "delegated"}
_TMPFS_FLAGS = {"ro": sc.MS_RDONLY, "nosuid": sc.MS_NOSUID, "nodev": sc.MS_NODEV, "noexec": sc.MS_NOEXEC}


def add_to(store_root, record: dict, storage, find_container=None) -> None:
    """Decide the mount points of a new container record (its config and HostConfig filled
    in); the caller holds the store lock. `storage`: engine.records.volumes.Storage or None;
    `find_container(name)`: a container's record (NotFound), for --volumes-from."""
    volumes = VolumeStore(store_root)
    config, host = record["Config"], record["HostConfig"]
    points: dict[str, dict] = {}
    inherited: dict[str, dict] = {}   # a bind, mount or volume of this container's own replaces one

    def claim(point: dict) -> None:
        if point["Destination"] in points:
            raise InvalidArgument(f"Duplicate mount point: {point['Destination']}")
        inherited.pop(point["Destination"], None)
        points[point["Destination"]] = point

    if storage is not None and storage.volumes_from:
        for spec in storage.volumes_from:
            for point in _from_container(spec, find_container):
                inherited[point["Destination"]] = point
        host["VolumesFrom"] = list(storage.volumes_from)
    if storage is not None:
        for spec in storage.binds:
            claim(_from_bind(volumes, spec))
        for mount in storage.mounts:
            claim(_from_mount(volumes, mount))
        for path, options in storage.tmpfs.items():
            claim(_tmpfs(_absolute(path, path, "tmpfs"), options, shown=False))
        if storage.volumes:
            config["Volumes"] = {**(config.get("Volumes") or {}), **{v: {} for v in storage.volumes}}
        host["Binds"] = list(storage.binds) or None
        if storage.mounts:
            host["Mounts"] = [m.to_json() for m in storage.mounts]
        if storage.tmpfs:
            host["Tmpfs"] = dict(storage.tmpfs)
    for path in sorted(config.get("Volumes") or {}):
        destination = _absolute(path, path, "volume")
        if destination not in points and destination not in inherited:
            claim(_volume_point(volumes.create(secrets.token_hex(32), anonymous=True), destination, "", True))
    record["MountPoints"] = sorted([*points.values(), *inherited.values()], key=lambda p: p["Destination"])


def shown(record: dict) -> list[dict]:
    """inspect's .Mounts (a --tmpfs is not among them, as in dockerd)."""
    keys = ("Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation")
    return [{k: p[k] for k in keys if k in p} for p in record.get("MountPoints", []) if p.get("Shown", True)]


def host_config(record: dict) -> dict:
    """HostConfig's storage fields for inspect."""
    host = record["HostConfig"]
    fields = {"Binds": host.get("Binds"), "VolumesFrom": host.get("VolumesFrom")}
    if "Mounts" in host:  # in the Go struct's field order (the record's JSON sorts keys)
        order = ("Type", "Source", "Target", "ReadOnly", "VolumeOptions", "TmpfsOptions")
        fields["Mounts"] = [{k: m[k] for k in order if k in m} for m in host["Mounts"]]
    if "Tmpfs" in host:
        fields["Tmpfs"] = host["Tmpfs"]
    return fields


def volume_names(record: dict) -> list[str]:
    return [p["Name"] for p in record.get("MountPoints", []) if p["Type"] == "volume"]


def anonymous_volumes(store_root, record: dict) -> list[StoredVolume]:
    volumes = VolumeStore(store_root)
    found = []
    for name in volume_names(record):
        try:
            volume = volumes.get(name)
        except NotFound:  # gone already
            continue
        if volume.record.get("Anonymous"):
            found.append(volume)
    return found


# --- the sources ----------------------------------------------------------------------------------

def _from_container(spec: str, find_container) -> list[dict]:
    """`container[:mode]`: the volumes and binds of that container at the same destinations,
    read-only if it has them so or the mode says ro (rw cannot make a read-only one writable);
    never filled from this container's image (dockerd's CopyData false)."""
    name, _, mode = spec.partition(":")
    modes = mode.split(",") if mode else []
    if not name or any(m not in _MODES for m in modes) or ("ro" in modes and "rw" in modes):
        raise InvalidArgument(f"invalid mode: {mode}")
    try:
        source = find_container(name)
    except NotFound as exc:  # a bad parameter of this create (dockerd: 400), not a missing image
        raise InvalidArgument(str(exc)) from None
    points = []
    for point in source.config.get("MountPoints", []):
        if point["Type"] not in ("volume", "bind"):
            continue
        copied = {k: point[k] for k in ("Type", "Name", "Source", "Destination", "Driver", "Propagation")
                  if k in point}
        points.append({**copied, "Mode": "", "RW": point["RW"] and "ro" not in modes, "CopyData": False,
                       "From": source.id})
    return points


def _from_bind(volumes: VolumeStore, spec: str) -> dict:
    """`src:dst[:mode]`, as dockerd's linux parser reads it; a lone absolute path is an
    anonymous volume there (the docker CLI sends `-v /path` as Config.Volumes, the SDK as a
    bind)."""
    parts = spec.split(":")
    if len(parts) == 1 and spec.startswith("/"):
        destination = _absolute(spec, spec, "volume")
        return _volume_point(volumes.create(secrets.token_hex(32), anonymous=True), destination, "z", True)
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    modes = mode.split(",") if mode else []
    if any(m not in _MODES for m in modes) or (("ro" in modes) and ("rw" in modes)):
        raise InvalidArgument(f"invalid mode: {mode}")
    kind = "bind" if source.startswith("/") else "volume"
    destination = _absolute(target, spec, kind)
    read_only = "ro" in modes
    if kind == "volume":
        volume = volumes.create(source)
        return _volume_point(volume, destination, mode or "z", "nocopy" not in modes, read_only)
    source = posixpath.normpath(source)
    if not os.path.exists(source):
        os.makedirs(source, 0o755, exist_ok=True)   # -v makes a missing host path (dockerd does)
    return {"Type": "bind", "Source": source, "Destination": destination, "Mode": mode, "RW": not read_only,
            "Propagation": "rprivate"}


def _from_mount(volumes: VolumeStore, mount) -> dict:
    destination = _absolute(mount.target, mount.target, mount.type)
    if mount.type == "bind":
        source = posixpath.normpath(mount.source) if mount.source else ""
        if not source.startswith("/"):
            raise InvalidArgument(f'invalid mount config for type "bind": invalid mount path: '
                                  f"'{mount.source}' mount path must be absolute")
        if not os.path.exists(source):
            raise InvalidArgument(f'invalid mount config for type "bind": bind source path does not exist: '
                                  f"{source}")
        return {"Type": "bind", "Source": source, "Destination": destination, "Mode": "",
                "RW": not mount.read_only, "Propagation": "rprivate"}
    if mount.type == "volume":
        volume = volumes.create(mount.source) if mount.source else \
            volumes.create(secrets.token_hex(32), anonymous=True)
        return _volume_point(volume, destination, "z", not mount.no_copy, mount.read_only)
    if mount.type == "tmpfs":
        options = [f"size={mount.tmpfs_size}"] if mount.tmpfs_size else []
        options += [f"mode={mount.tmpfs_mode:o}"] if mount.tmpfs_mode else []
        if mount.read_only:
            options.append("ro")
        return _tmpfs(destination, ",".join(options), shown=True)
    raise InvalidArgument(f"mount type unknown: {mount.type}")


def _volume_point(volume: StoredVolume, destination: str, mode: str, copy: bool, read_only: bool = False) -> dict:
    return {"Type": "volume", "Name": volume.name, "Source": str(volume.data), "Destination": destination,
            "Driver": "local", "Mode": mode, "RW": not read_only, "Propagation": "", "CopyData": copy}


def _tmpfs(destination: str, options: str, shown: bool) -> dict:
    flags, data = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC, []
    for option in filter(None, options.split(",")):
        if option in _TMPFS_FLAGS:
            flags |= _TMPFS_FLAGS[option]
        elif option == "exec":
            flags &= ~sc.MS_NOEXEC
        elif option in ("suid", "dev", "rw"):
            flags &= ~{"suid": sc.MS_NOSUID, "dev": sc.MS_NODEV, "rw": sc.MS_RDONLY}[option]
        elif option.split("=", 1)[0] in ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"):
            data.append(option)
        else:
            raise InvalidArgument(f"invalid tmpfs option [\"{option}\"]")
    return {"Type": "tmpfs", "Source": "", "Destination": destination, "Mode": "",
            "RW": not flags & sc.MS_RDONLY, "Propagation": "", "Flags": flags, "Data": ",".join(data),
            "Shown": shown}


def _absolute(target: str, spec: str, kind: str) -> str:
    if not target.startswith("/"):
        raise InvalidArgument(f"invalid volume specification: '{spec}': invalid mount config for type "
                              f"\"{kind}\": invalid mount path: '{target}' mount path must be absolute")
    cleaned = posixpath.normpath(target)
    if cleaned == "/":
        raise InvalidArgument(f"invalid specification: destination can't be '/' in '{spec}'")
    return cleaned


def remove_anonymous(store_root, record: dict, others) -> None:
    """`rm -v` and `--rm`: the container's anonymous volumes go with it, but not one that
    another container mounts (its own, or one shared through --volumes-from). `others`: the
    records of the containers that remain (called lazily: only when there is one to remove)."""
    volumes = VolumeStore(store_root)
    mine = anonymous_volumes(store_root, record)
    if not mine:
        return
    in_use = {name for other in others() for name in volume_names(other)}
    for volume in mine:
        if volume.name not in in_use:
            volumes.remove(volume)

