"""Blob endpoints: HEAD/GET (with Range)/DELETE of blobs, and uploads
(monolithic POST, chunked POST+PATCH+PUT, status, cancel, cross-repository mount)."""
import re

from aiohttp import web

from reference_impl.store.digest import Digest, InvalidDigest

from . import names
from .errors import RegistryError

_CONTENT_RANGE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/(\d+|\*))?")


def _digest_param(request: web.Request) -> Digest:
    return _checked_digest(request.query.get("digest") or "")


def _content_length(request: web.Request) -> int | None:
    value = request.headers.get("Content-Length")
    if value is None:
        return None
    if not value.isdigit():
        raise RegistryError("SIZE_INVALID", {"Content-Length": value[:50]})
    return int(value)


def _range_header(size: int) -> str:
    return f"0-{size - 1}" if size > 0 else "0-0"


def _upload_headers(name: str, uid: str, size: int) -> dict:
    return {"Location": f"/v2/{name}/blobs/uploads/{uid}", "Range": _range_header(size),
            "Docker-Upload-UUID": uid}


def _created(name: str, digest: str) -> web.Response:
    return web.Response(status=201, headers={
        "Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})


def _checked_digest(digest: str) -> Digest:
    try:
        return Digest(digest)
    except InvalidDigest:
        raise RegistryError("DIGEST_INVALID", {"digest": digest[:200]}) from None


async def get_blob(registry, request: web.Request, name: str, digest: str) -> web.StreamResponse:
    digest = _checked_digest(digest)
    if not registry.storage.has_layer(name, digest):
        raise RegistryError("BLOB_UNKNOWN", digest)
    registry.storage.touch_layer(name, digest)   # in use: garbage collection spares it a while
    return web.FileResponse(registry.storage.blob_path(digest), headers={
        "Content-Type": "application/octet-stream", "Docker-Content-Digest": digest,
        "Cache-Control": "max-age=31536000", "Accept-Ranges": "bytes"})


async def delete_blob(registry, request: web.Request, name: str, digest: str) -> web.Response:
    digest = _checked_digest(digest)
    if not registry.storage.unlink_layer(name, digest):
        raise RegistryError("BLOB_UNKNOWN", digest)
    return web.Response(status=202)


async def start_upload(registry, request: web.Request, name: str) -> web.Response:
    storage, uploads = registry.storage, registry.uploads
    mount, source = request.query.get("mount"), request.query.get("from")
    if mount and source and names.valid_digest(mount) and names.valid_name(source) \
            and storage.has_layer(source, mount):
        storage.link_layer(name, mount)
        return _created(name, mount)
    if "digest" in request.query:
        digest = _digest_param(request)
        length = _content_length(request)
        uid = uploads.start(name)
        try:
            await uploads.append(name, uid, request.content, length=length)
            await uploads.commit(name, uid, digest)
        except BaseException:
            try:
                uploads.cancel(name, uid)
            except RegistryError:
                pass
            raise
        return _created(name, digest)
    uid = uploads.start(name)
    return web.Response(status=202, headers=_upload_headers(name, uid, 0))


async def upload_status(registry, request: web.Request, name: str, uid: str) -> web.Response:
    size = registry.uploads.size(name, uid)
    return web.Response(status=204, headers=_upload_headers(name, uid, size))


def _patch_range(request: web.Request, length: int | None) -> int | None:
    value = request.headers.get("Content-Range")
    if value is None:
        return None
    m = _CONTENT_RANGE.fullmatch(value.strip())
    if not m or int(m[2]) < int(m[1]):
        raise RegistryError("RANGE_INVALID", {"Content-Range": value[:100]})
    start, end = int(m[1]), int(m[2])
    if length is not None and length != end - start + 1:
        raise RegistryError("RANGE_INVALID", {"Content-Range": value[:100],
                                              "Content-Length": length})
    return start


async def patch_upload(registry, request: web.Request, name: str, uid: str) -> web.Response:
    length = _content_length(request)
    start = _patch_range(request, length)
    size = await registry.uploads.append(name, uid, request.content, start=start, length=length)
    return web.Response(status=202, headers=_upload_headers(name, uid, size))


async def finish_upload(registry, request: web.Request, name: str, uid: str) -> web.Response:
    registry.uploads.size(name, uid)          # BLOB_UPLOAD_UNKNOWN first
    digest = _digest_param(request)
    length = _content_length(request)
    if request.body_exists:
        start = _patch_range(request, length)
        await registry.uploads.append(name, uid, request.content, start=start, length=length)
    await registry.uploads.commit(name, uid, digest)
    return _created(name, digest)


async def cancel_upload(registry, request: web.Request, name: str, uid: str) -> web.Response:
    registry.uploads.cancel(name, uid)
    return web.Response(status=204)
