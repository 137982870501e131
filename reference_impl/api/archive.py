"""A container's files as tar: HEAD/GET/PUT /containers/{id}/archive (what `docker cp` uses).
The path's stat travels in X-Docker-Container-Path-Stat (base64 of its JSON)."""
from __future__ import annotations

import asyncio
import base64
import json
import tempfile

from aiohttp import web

from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.engine.copying import ArchiveService, Growth
from reference_impl.engine.records.copying import PathStat

_CHUNK = 1 << 20
_SPOOL_BATCH = 1 << 20


def routes():
    return [
        ("GET", "/containers/{id}/archive", get_archive),
        ("PUT", "/containers/{id}/archive", put_archive),
    ]


def _path(request: web.Request) -> str:
    path = request.query.get("path", "")
    if not path:
        raise ApiError(400, "bad parameter: path cannot be empty")
    return path


def _stat_header(found: PathStat) -> dict:
    encoded = base64.b64encode(json.dumps(found.to_json(), separators=(",", ":")).encode()).decode()
    return {"X-Docker-Container-Path-Stat": encoded}


async def get_archive(request: web.Request) -> web.StreamResponse:
    """HEAD: the stat only. GET: the stat and the tar, spooled first (an error comes as JSON, not
    as a broken tar)."""
    name, path = request.match_info["id"], _path(request)
    service = ArchiveService(common.store(request))
    if request.method == "HEAD":
        found = await common.blocking(request, service.stat, name, path)
        return web.Response(status=200, headers=_stat_header(found))
    spool = tempfile.TemporaryFile()
    try:
        found = await common.blocking(request, service.export, name, path, spool.fileno())
        spool.seek(0)
        response = web.StreamResponse(status=200, headers={**_stat_header(found),
                                                           "Content-Type": "application/x-tar"})
        await response.prepare(request)
        while chunk := await common.blocking(request, spool.read, _CHUNK):
            await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        spool.close()


async def put_archive(request: web.Request) -> web.Response:
    """The body is spooled to a file while it is unpacked from there (a Growth): the two
    overlap, and an error in the tar or the path ends the upload at once."""
    name, path = request.match_info["id"], _path(request)
    copy_uid_gid = common.qbool(request, "copyUIDGID")
    no_overwrite = common.qbool(request, "noOverwriteDirNonDir")
    service = ArchiveService(common.store(request))
    with tempfile.TemporaryFile() as spool:
        growth = Growth()
        # not on the service's pool, whose threads write the spool: uploads enough to hold
        # all of them would each wait for a write that no thread is left to make
        extraction = asyncio.ensure_future(asyncio.to_thread(
            service.extract, name, path, spool.fileno(), copy_uid_gid, no_overwrite, growth))
        try:
            await _receive(request, spool, growth, extraction)
        except BaseException:
            growth.gave_up()
            await asyncio.gather(extraction, return_exceptions=True)
            raise
        finally:
            growth.done()
            await asyncio.wait([extraction])
            growth.close()
        extraction.result()  # the extraction's error, in its words
    return web.Response(status=200)


async def _receive(request: web.Request, spool, growth: Growth, extraction: asyncio.Future) -> None:
    """The body into the spool, in writes of _SPOOL_BATCH (the body comes in pieces of 64-128
    KiB); what comes after the extraction has ended (an error) is not kept."""
    batch: list[bytes] = []
    gathered = 0
    async for piece in request.content.iter_any():
        if extraction.done():  # read to the end all the same: the client then reads the error
            continue
        batch.append(piece)
        gathered += len(piece)
        if gathered >= _SPOOL_BATCH:
            await common.blocking(request, _append, spool, batch)
            growth.appended()
            batch, gathered = [], 0
    await common.blocking(request, _append, spool, batch)


def _append(spool, pieces: list[bytes]) -> None:
    spool.writelines(pieces)
    spool.flush()  # in the file before the reader is told
