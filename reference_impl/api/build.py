"""POST /build: the classic builder over the API.

The context arrives as a tar (chunked from the CLI, with Content-Length from the SDK;
gzip too), is spooled into the store's tmp directory, and a worker runs the engine's
builder on it, sending the classic JSON stream: {"stream"} lines, {"aux":{"ID"}},
"Successfully built <id>", and {"errorDetail"} for a failure once streaming has
begun. A failure before the first step (a parse error, no Dockerfile) is an HTTP
error, as dockerd answers it. A client that goes away stops the build.
"""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from reference_impl import layers, refs
from reference_impl.api import common, unimplemented, workers
from reference_impl.api.common import ApiError


def routes():
    return [("POST", "/build", build), ("POST", "/build/prune", prune_cache)]


def _json_map(request: web.Request, name: str) -> dict:
    text = request.query.get(name, "")
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(400, f"invalid {name}: not JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"invalid {name}: not an object")
    return {k: v for k, v in value.items() if v is not None}


def _spec(request: web.Request) -> dict:
    if request.query.get("version", "1") not in ("1", ""):
        raise ApiError(400, "only the classic builder (version=1) is served here: set DOCKER_BUILDKIT=0")
    if request.query.get("remote"):
        raise ApiError(400, "remote build contexts are not supported: send the context as the body")
    unimplemented.refuse_unapplied_build(request.query)
    tags = [common.familiar(t) for t in request.query.getall("t", [])]
    for tag in tags:
        try:
            refs.parse(tag)
        except common.InvalidInput:
            raise ApiError(400, f"invalid reference format: {tag}") from None
    return {"dockerfile": request.query.get("dockerfile") or "Dockerfile", "tags": tags,
            "nocache": common.qbool(request, "nocache"), "rm": common.qbool(request, "rm", True),
            "forcerm": common.qbool(request, "forcerm"), "quiet": common.qbool(request, "q"),
            "buildargs": _json_map(request, "buildargs"), "labels": _json_map(request, "labels"),
            "target": request.query.get("target") or None, "pull": common.qbool(request, "pull")}


async def _spool(request: web.Request, store) -> object:
    """The body, uncompressed, in a file of the store's tmp directory."""
    from reference_impl.api.images import spool_body
    raw = await spool_body(request, store.images.tmp_dir, ".build-body-")

    def uncompress():
        with open(raw, "rb") as stream:
            path, _ = layers.spool_uncompressed(stream, store.images.tmp_dir)
        return path
    try:
        return await common.blocking(request, uncompress)
    finally:
        raw.unlink(missing_ok=True)


async def build(request: web.Request) -> web.StreamResponse:
    spec = _spec(request)
    store = common.store(request)
    context_tar = await _spool(request, store)
    stream = common.JsonStream(request)
    worker = None
    try:
        worker = await workers.spawn("build", {**spec, "root": str(store.root), "context_tar": str(context_tar)})
        while True:
            if common.gone(request):
                worker.terminate()  # the client left mid-build: stop it (the worker cleans up)
                break
            try:
                message = await asyncio.wait_for(worker.next_report(), timeout=1.0)
            except asyncio.TimeoutError:
                continue
            if message is None:
                if not stream.started:
                    raise ApiError(500, "the build stopped unexpectedly")
                await stream.error("the build stopped unexpectedly")
                break
            if "done" in message:
                break
            if "error" in message:
                if not stream.started and not message.get("streamed"):
                    status = message.get("status", 500)
                    raise ApiError(404 if status == 404 else 400, message["error"])
                await stream.error(message["error"], message.get("code") or 1)
                break
            await stream.send(message)
    finally:
        if worker is not None:
            worker.close()
            if common.gone(request):
                worker.terminate()
            await worker.process.wait()
        context_tar.unlink(missing_ok=True)
    return await stream.finish()


async def prune_cache(request: web.Request) -> web.Response:
    return common.json_response({"CachesDeleted": None, "SpaceReclaimed": 0})
