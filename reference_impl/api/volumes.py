"""Volumes: list, create, inspect, remove, prune; and a create request's storage fields
(HostConfig.Binds/Mounts/Tmpfs, Config.Volumes) as the engine's Storage."""
from __future__ import annotations

from aiohttp import web

from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.engine.records.storage import Mount, Storage
from reference_impl.engine.records.volumes import VolumeCreateOptions, VolumeListOptions
from reference_impl.engine.volumes import VolumeService, inspect_json


def routes():
    return [
        ("GET", "/volumes", list_volumes),
        ("POST", "/volumes/create", create),
        ("POST", "/volumes/prune", prune),
        ("GET", "/volumes/{name}", inspect),
        ("DELETE", "/volumes/{name}", remove),
    ]


def _service(request: web.Request) -> VolumeService:
    return VolumeService(common.store(request))


async def list_volumes(request: web.Request) -> web.Response:
    options = VolumeListOptions(filters=common.filters(request))
    found = await common.blocking(request, lambda: _service(request).list(options))
    return common.json_response({"Volumes": [inspect_json(v) for v in found], "Warnings": None})


def _strings(value, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError(400, f"json: cannot unmarshal {what} into Go struct field of type map[string]string")
    return value


async def create(request: web.Request) -> web.Response:
    body = await common.json_body(request, {})
    name, driver = body.get("Name") or "", body.get("Driver") or "local"
    if not isinstance(name, str) or not isinstance(driver, str):
        raise ApiError(400, "json: cannot unmarshal a non-string Name or Driver of type string")
    options = VolumeCreateOptions(name=name, driver=driver, labels=_strings(body.get("Labels"), "Labels"),
                                  driver_opts=_strings(body.get("DriverOpts"), "DriverOpts"))
    volume = await common.blocking(request, lambda: _service(request).create(options))
    return common.json_response(inspect_json(volume), status=201)


async def inspect(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    volume = await common.blocking(request, lambda: _service(request).inspect(name))
    return common.json_response(inspect_json(volume))


async def remove(request: web.Request) -> web.Response:
    name, force = request.match_info["name"], common.qbool(request, "force")
    await common.blocking(request, lambda: _service(request).remove(name, force=force))
    return web.Response(status=204)


async def prune(request: web.Request) -> web.Response:
    filters = common.filters(request)
    report = await common.blocking(request, lambda: _service(request).prune(filters))
    return common.json_response({"VolumesDeleted": report.deleted or None, "SpaceReclaimed": report.space_reclaimed})


# --- create's storage fields ---------------------------------------------------------------------

def storage(body: dict) -> Storage | None:
    host = body.get("HostConfig") or {}
    binds, raw_mounts, tmpfs = host.get("Binds") or [], host.get("Mounts") or [], host.get("Tmpfs") or {}
    volumes, volumes_from = body.get("Volumes") or {}, host.get("VolumesFrom") or []
    if not (binds or raw_mounts or tmpfs or volumes or volumes_from):
        return None
    if not isinstance(raw_mounts, list) or not all(isinstance(m, dict) for m in raw_mounts):
        raise ApiError(400, "json: cannot unmarshal into Go struct field HostConfig.Mounts of type []mount.Mount")
    if not isinstance(tmpfs, dict) or not all(isinstance(v, str) for v in tmpfs.values()):
        raise ApiError(400, "json: cannot unmarshal into Go struct field HostConfig.Tmpfs of type "
                            "map[string]string")
    return Storage(binds=list(binds), mounts=[_mount(m) for m in raw_mounts], tmpfs=dict(tmpfs),
                   volumes=sorted(volumes), volumes_from=list(volumes_from))


def _mount(raw: dict) -> Mount:
    """One HostConfig.Mounts entry; what strata does not implement is refused, never ignored."""
    kind = raw.get("Type") or ""
    if kind not in ("bind", "volume", "tmpfs"):
        raise ApiError(400, f'invalid mount config for type "{kind}": mount type unknown')
    if not raw.get("Target"):
        raise ApiError(400, f'invalid mount config for type "{kind}": field Target must not be empty')
    bind, volume, tmpfs = raw.get("BindOptions") or {}, raw.get("VolumeOptions") or {}, raw.get("TmpfsOptions") or {}
    if bind.get("Propagation") not in (None, "", "rprivate") or bind.get("NonRecursive"):
        raise ApiError(400, f'invalid mount config for type "{kind}": bind propagation and non-recursive '
                            "binds are not supported")
    if volume.get("Labels") or volume.get("DriverConfig"):
        raise ApiError(400, f'invalid mount config for type "{kind}": volume labels and driver options are '
                            "not supported")
    for options, allowed in ((bind, "bind"), (volume, "volume"), (tmpfs, "tmpfs")):
        if options and kind != allowed:
            field = {"bind": "BindOptions", "volume": "VolumeOptions", "tmpfs": "TmpfsOptions"}[allowed]
            raise ApiError(400, f'invalid mount config for type "{kind}": field {field} must not be specified')
    try:
        return Mount(type=kind, target=str(raw.get("Target") or ""), source=str(raw.get("Source") or ""),
                     read_only=bool(raw.get("ReadOnly")), no_copy=bool(volume.get("NoCopy")),
                     tmpfs_size=int(tmpfs.get("SizeBytes") or 0), tmpfs_mode=int(tmpfs.get("Mode") or 0))
    except (TypeError, ValueError):
        raise ApiError(400, "json: cannot unmarshal into Go struct field Mount.TmpfsOptions of type int64") from None
