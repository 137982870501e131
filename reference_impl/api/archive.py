"""A container's files as tar: HEAD/GET/PUT /containers/{id}/archive (what `docker cp` uses).
The path's stat travels in X-Docker-Container-Path-Stat (base64 of its JSON)."""
from __future__ import annotations

import base64
import json
import os
import tempfile

from aiohttp import web

from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.engine.copying import ArchiveService
from reference_impl.engine.records.copying import PathStat

_CHUNK = 1 << 20


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
    name, path = request.match_info["id"], _path(request)
    copy_uid_gid = common.qbool(request, "copyUIDGID")
    no_overwrite = common.qbool(request, "noOverwriteDirNonDir")
    service = ArchiveService(common.store(request))
    with tempfile.TemporaryFile() as spool:
        while chunk := await request.content.read(_CHUNK):
            await common.blocking(request, spool.write, chunk)
        spool.flush()
        os.lseek(spool.fileno(), 0, os.SEEK_SET)
        await common.blocking(request, lambda: service.extract(name, path, spool.fileno(), copy_uid_gid,
                                                               no_overwrite))
    return web.Response(status=200)
