"""Images: list, inspect, history, tag, delete (Docker's rmi semantics), save, load."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aiohttp import web

from reference_impl import archive, humanize, images, refs
from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.ownership import staging_prefix
from reference_impl.cli.images import _label_matches, _matches_reference
from reference_impl.removal import Deleter, prune_images


def routes():
    return [
        ("GET", "/images/json", list_images),
        ("POST", "/images/prune", prune),
        ("GET", "/images/get", save),
        ("POST", "/images/load", load),
        ("GET", "/images/{name:.+}/get", save_one),
        ("GET", "/images/{name:.+}/json", inspect),
        ("GET", "/images/{name:.+}/history", history),
        ("POST", "/images/{name:.+}/tag", tag),
        ("DELETE", "/images/{name:.+}", delete),
    ]


def _name(request: web.Request) -> str:
    return common.familiar(request.match_info["name"])


# --- list ------------------------------------------------------------------------------------

def _list(store, show_all: bool, flt: dict[str, list[str]]) -> list[dict]:
    unknown = set(flt) - {"dangling", "label", "reference", "before", "since"}
    if unknown:
        raise ApiError(400, f"invalid filter '{sorted(unknown)[0]}'")
    all_images = store.images.all()
    parents = {img.parent for img in all_images if img.parent}
    bounds = {}
    for key in ("before", "since"):
        if key in flt:
            bounds[key] = humanize.parse_rfc3339(
                store.images.get(store.images.resolve(flt[key][0])).config.get("created", ""))
    found = []
    for image in sorted(all_images, key=lambda i: i.config.get("created", ""), reverse=True):
        tags = store.images.refs_of(image.id)
        digests = store.images.digests_of(image.id)
        if image.id in parents and not show_all and not tags and not digests:
            continue  # an intermediate image: only all=1 lists it
        if "dangling" in flt and (not tags) != (flt["dangling"][0].lower() in ("true", "1")):
            continue
        if "label" in flt and not all(_label_matches(image.labels, f) for f in flt["label"]):
            continue
        created = humanize.parse_rfc3339(image.config.get("created", ""))
        if "before" in bounds and created >= bounds["before"]:
            continue
        if "since" in bounds and created <= bounds["since"]:
            continue
        if "reference" in flt:
            tags = [t for t in tags if any(_matches_reference(*t.rsplit(":", 1), p) for p in flt["reference"])]
            if not tags:
                continue
        if not tags and not digests:
            tags, digests = ["<none>:<none>"], ["<none>@<none>"]
        size = images.size_of(store, image)
        found.append({"Containers": -1, "Created": int(created), "Id": image.id,
                      "Labels": image.labels or None, "ParentId": image.parent, "RepoDigests": digests,
                      "RepoTags": tags, "SharedSize": -1, "Size": size, "VirtualSize": size})
    return found


async def list_images(request: web.Request) -> web.Response:
    records = await common.blocking(request, _list, common.store(request), common.qbool(request, "all"),
                                    common.filters(request))
    return common.json_response(records)


# --- inspect / history -------------------------------------------------------------------------

def _inspect(store, name: str) -> dict:
    return images.inspect(store, store.images.get(store.images.resolve(name)))


async def inspect(request: web.Request) -> web.Response:
    return common.json_response(await common.blocking(request, _inspect, common.store(request), _name(request)))


def _history(store, name: str) -> list[dict]:
    image = store.images.get(store.images.resolve(name))
    return [{"Id": row["ID"], "Created": common.unix_time(row["CreatedAt"]), "CreatedBy": row["CreatedBy"],
             "Tags": row["Tags"] or None, "Size": row["Size"], "Comment": row["Comment"]}
            for row in images.history(store, image)]


async def history(request: web.Request) -> web.Response:
    return common.json_response(await common.blocking(request, _history, common.store(request), _name(request)))


# --- tag / delete ----------------------------------------------------------------------------------

def _tag(store, source: str, repo: str, tag: str) -> None:
    target = refs.parse_tagged(f"{repo}:{tag}" if tag else repo)
    with store.lock():
        image_id = store.images.resolve(source)
        images.tag(store, image_id, target)
        store.images.set_meta(image_id, last_tag_time=humanize.now_rfc3339())


async def tag(request: web.Request) -> web.Response:
    repo = common.familiar(request.query.get("repo", ""))
    if not repo:
        raise ApiError(400, "repository name must have at least one component")
    await common.blocking(request, _tag, common.store(request), _name(request), repo,
                          request.query.get("tag", ""))
    return web.Response(status=201)


def _delete(store, name: str, force: bool, prune: bool) -> list[dict]:
    removed: list[dict] = []
    deleter = Deleter(store, lambda kind, value: removed.append({kind: value}))
    with store.lock():
        deleter.remove(name, force, prune)
        store.images.collect_layers(store.containers.layers_in_use())
    return removed


async def delete(request: web.Request) -> web.Response:
    removed = await common.blocking(request, _delete, common.store(request), _name(request),
                                    common.qbool(request, "force"), not common.qbool(request, "noprune"))
    return common.json_response(removed)


# --- save / load -----------------------------------------------------------------------------------

def _save(store, names: list[str]) -> Path:
    fd, path = tempfile.mkstemp(dir=store.images.tmp_dir, prefix=staging_prefix("save-"), suffix=".tar")
    try:
        with os.fdopen(fd, "wb") as target:
            archive.save(store, names, target)
    except BaseException:
        os.unlink(path)
        raise
    return Path(path)


async def _send_file(request: web.Request, path: Path) -> web.StreamResponse:
    response = web.StreamResponse(status=200)
    response.content_type = "application/x-tar"
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                await response.write(chunk)
        await response.write_eof()
    finally:
        path.unlink(missing_ok=True)
    return response


async def save(request: web.Request) -> web.StreamResponse:
    names = [common.familiar(n) for n in request.query.getall("names", [])]
    if not names:
        raise ApiError(400, "no images given")
    path = await common.blocking(request, _save, common.store(request), names)
    return await _send_file(request, path)


async def save_one(request: web.Request) -> web.StreamResponse:
    path = await common.blocking(request, _save, common.store(request), [_name(request)])
    return await _send_file(request, path)


async def spool_body(request: web.Request, directory: Path, prefix: str) -> Path:
    """The request body (chunked or not) in a file of its own."""
    fd, path = tempfile.mkstemp(dir=directory, prefix=staging_prefix(prefix.lstrip(".")))
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.content.iter_chunked(1 << 16):
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return Path(path)


def _load(store, path: Path) -> list[str]:
    with open(path, "rb") as source:
        return archive.load(store, source)


async def load(request: web.Request) -> web.StreamResponse:
    store = common.store(request)
    path = await spool_body(request, store.images.tmp_dir, ".load-")
    stream = common.JsonStream(request)
    try:
        lines = await common.blocking(request, _load, store, path)
    except archive.ArchiveError as exc:  # as dockerd: 200, the error in the stream
        await stream.error(exc.message)
        return await stream.finish()
    finally:
        path.unlink(missing_ok=True)
    for line in lines:
        await stream.send({"stream": line + "\n"})
    return await stream.finish()


# --- prune ---------------------------------------------------------------------------------------

def _layer_bytes(store) -> int:
    return sum(store.images.layer_size("sha256:" + d.name) for d in store.images.layers_dir.iterdir())


def _prune(store, everything: bool) -> dict:
    records: list[dict] = []
    before = _layer_bytes(store)
    with store.lock():
        prune_images(store, everything, lambda kind, value: records.append({kind: value}))
        store.images.collect_layers(store.containers.layers_in_use())
    return {"ImagesDeleted": records or None, "SpaceReclaimed": max(0, before - _layer_bytes(store))}


async def prune(request: web.Request) -> web.Response:
    """`image prune`: dangling images; with filters dangling=false (-a) every unused image."""
    flt = common.filters(request)
    everything = any(v.lower() in ("false", "0") for v in flt.get("dangling", []))
    return common.json_response(await common.blocking(request, _prune, common.store(request), everything))
