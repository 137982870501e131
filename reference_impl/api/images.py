"""Images: list, inspect, history, tag, delete (Docker's rmi semantics), save, load."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aiohttp import web

from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.engine.images import ImageService
from reference_impl.engine.records.images import ImageListOptions, ImagePruneOptions, ImageSummary
from reference_impl.ownership import staging_prefix


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


def _service(request: web.Request) -> ImageService:
    return ImageService(common.store(request))


def _name(request: web.Request) -> str:
    return common.familiar(request.match_info["name"])


# --- list ------------------------------------------------------------------------------------

def summary_json(image: ImageSummary) -> dict:
    tags, digests = image.repo_tags, image.repo_digests
    if not tags and not digests:  # dockerd 20.10 names an untagged image so
        tags, digests = ["<none>:<none>"], ["<none>@<none>"]
    return {"Containers": -1, "Created": int(image.created), "Id": image.id, "Labels": image.labels or None,
            "ParentId": image.parent_id, "RepoDigests": digests, "RepoTags": tags, "SharedSize": -1,
            "Size": image.size, "VirtualSize": image.size}


async def list_images(request: web.Request) -> web.Response:
    options = ImageListOptions(all=common.qbool(request, "all"), filters=common.filters(request))
    found = await common.blocking(request, lambda: _service(request).list(options))
    return common.json_response([summary_json(i) for i in found])


# --- inspect / history -------------------------------------------------------------------------

async def inspect(request: web.Request) -> web.Response:
    name = _name(request)
    return common.json_response(await common.blocking(request, lambda: _service(request).inspect(name)))


async def history(request: web.Request) -> web.Response:
    name = _name(request)
    items = await common.blocking(request, lambda: _service(request).history(name))
    return common.json_response([{"Id": i.id, "Created": common.unix_time(i.created_at), "CreatedBy": i.created_by,
                                  "Tags": i.tags or None, "Size": i.size, "Comment": i.comment} for i in items])


# --- tag / delete ----------------------------------------------------------------------------------

async def tag(request: web.Request) -> web.Response:
    repo = common.familiar(request.query.get("repo", ""))
    if not repo:
        raise ApiError(400, "repository name must have at least one component")
    tag_ = request.query.get("tag", "")
    name = _name(request)
    await common.blocking(request, lambda: _service(request).tag(name, f"{repo}:{tag_}" if tag_ else repo))
    return web.Response(status=201)


async def delete(request: web.Request) -> web.Response:
    name, force, prune_ = _name(request), common.qbool(request, "force"), not common.qbool(request, "noprune")
    removed = await common.blocking(request, lambda: _service(request).remove(name, force, prune_))
    return common.json_response([{item.kind: item.value} for item in removed])


# --- save / load -----------------------------------------------------------------------------------

def _save(store, names: list[str]) -> Path:
    fd, path = tempfile.mkstemp(dir=store.images.tmp_dir, prefix=staging_prefix("save-"), suffix=".tar")
    try:
        with os.fdopen(fd, "wb") as target:
            ImageService(store).save(names, target)
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
        return ImageService(store).load(source)


async def load(request: web.Request) -> web.StreamResponse:
    """200 and a JSON stream; an archive that cannot be loaded is an error message in the
    stream, as dockerd sends it."""
    store = common.store(request)
    path = await spool_body(request, store.images.tmp_dir, ".load-")
    stream = common.JsonStream(request)
    try:
        lines = await common.blocking(request, _load, store, path)
    except common.EngineError as exc:
        await stream.error(exc.message, code=0)
        return await stream.finish()
    finally:
        path.unlink(missing_ok=True)
    for line in lines:
        await stream.send({"stream": line + "\n"})
    return await stream.finish()


# --- prune ---------------------------------------------------------------------------------------

async def prune(request: web.Request) -> web.Response:
    """`image prune`: dangling images; with filters dangling=false (-a) every unused image."""
    options = ImagePruneOptions(filters=common.filters(request))
    report = await common.blocking(request, lambda: _service(request).prune(options))
    return common.json_response({"ImagesDeleted": [{i.kind: i.value} for i in report.deleted] or None,
                                 "SpaceReclaimed": report.space_reclaimed})
