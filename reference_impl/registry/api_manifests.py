"""Manifest endpoints: PUT/GET/HEAD/DELETE by tag or by digest."""
import asyncio
import json

from aiohttp import web

from reference_impl.store.digest import SHA256, Digest

from . import manifests, names
from .collect import gc_lock
from .errors import RegistryError


def _resolve(storage, name: str, reference: str) -> str:
    """The digest a reference names in `name`, or MANIFEST_UNKNOWN."""
    if names.is_digest_like(reference):
        if not names.valid_digest(reference):
            raise RegistryError("DIGEST_INVALID", {"digest": reference[:200]})
        return reference
    if not names.valid_tag(reference):
        raise RegistryError("MANIFEST_UNKNOWN", {"Tag": reference[:200]})
    digest = storage.tag_digest(name, reference)
    if digest is None:
        raise RegistryError("MANIFEST_UNKNOWN", {"Tag": reference})
    return digest


def _negotiate(storage, name: str, digest: str, media_type: str, accept: set | None):
    """(digest, media type) to serve for a client that accepts `accept`."""
    if accept is None or media_type in accept:
        return digest, media_type
    if media_type in manifests.INDEX_TYPES and accept & set(manifests.IMAGE_TYPES):
        data = storage.read_blob(digest)
        for child in manifests.parse(data, media_type).parsed.get("manifests", []):
            platform = child.get("platform") or {}
            if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
                child_type = storage.manifest_media_type(name, child["digest"])
                if child_type in accept:
                    return child["digest"], child_type
        raise RegistryError("MANIFEST_UNKNOWN", {"Digest": digest},
                            message="Could not find a matching image for the accepted media types")
    if media_type == manifests.OCI_MANIFEST:
        raise RegistryError("MANIFEST_UNKNOWN", {"Digest": digest},
                            message="OCI manifest found, but accept header does not support OCI manifests")
    if media_type == manifests.OCI_INDEX:
        raise RegistryError("MANIFEST_UNKNOWN", {"Digest": digest},
                            message="OCI index found, but accept header does not support OCI indexes")
    return digest, media_type   # Docker schema 2 is served as stored (no schema 1 conversion)


async def get(registry, request: web.Request, name: str, reference: str) -> web.Response:
    storage = registry.storage
    digest = _resolve(storage, name, reference)
    media_type = storage.manifest_media_type(name, digest)
    if media_type is None:
        raise RegistryError("MANIFEST_UNKNOWN", {"Digest": digest} if names.is_digest_like(reference)
                            else {"Tag": reference})
    accept = manifests.accepted(request.headers.getall("Accept", []))
    digest, media_type = _negotiate(storage, name, digest, media_type, accept)
    body = storage.read_blob(digest)
    if body is None:
        raise RegistryError("MANIFEST_UNKNOWN", {"Digest": digest})
    return web.Response(body=body, headers={
        "Content-Type": media_type, "Docker-Content-Digest": digest, "ETag": f'"{digest}"'})


async def _read_body(request: web.Request) -> bytes:
    length = request.content_length
    if length is not None and length > manifests.MAX_BYTES:
        raise RegistryError("MANIFEST_INVALID", f"manifest larger than {manifests.MAX_BYTES} bytes")
    data = bytearray()
    async for chunk in request.content.iter_any():
        data += chunk
        if len(data) > manifests.MAX_BYTES:
            raise RegistryError("MANIFEST_INVALID",
                                f"manifest larger than {manifests.MAX_BYTES} bytes")
    return bytes(data)


async def put(registry, request: web.Request, name: str, reference: str) -> web.Response:
    storage = registry.storage
    by_digest = names.is_digest_like(reference)
    if by_digest and not names.valid_digest(reference):
        raise RegistryError("DIGEST_INVALID", {"digest": reference[:200]})
    if not by_digest and not names.valid_tag(reference):
        raise RegistryError("TAG_INVALID", {"Tag": reference[:200]})
    data = await _read_body(request)
    digest = Digest.of(data, Digest(reference).algorithm if by_digest else SHA256)
    if by_digest and digest != reference:
        raise RegistryError("DIGEST_INVALID", {"digest": reference})
    manifest = manifests.parse(data, request.headers.get("Content-Type"))
    await asyncio.to_thread(_store, storage, name, None if by_digest else reference,
                            digest, manifest, data)
    headers = {"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest}
    if manifest.subject:
        headers["OCI-Subject"] = manifest.subject
    return web.Response(status=201, headers=headers)


def _store(storage, name: str, tag: str | None, digest: str, manifest, data: bytes) -> None:
    """Check that what the manifest refers to is there, then link it (and tag it), under
    the shared gc lock: a garbage collection sees all of it or runs before the check."""
    with gc_lock(storage.root, exclusive=False):
        for blob in manifest.blobs:
            if not storage.has_layer(name, blob):
                raise RegistryError("MANIFEST_BLOB_UNKNOWN", blob)
        for child in manifest.manifests:
            if storage.manifest_media_type(name, child) is None:
                raise RegistryError("MANIFEST_BLOB_UNKNOWN", child)
        storage.put_manifest(name, digest, manifest.media_type, data)
        if manifest.subject:
            # the subject need not exist (yet), nor in this repository: it is listed
            # among the referrers of this repository only
            storage.add_referrer(name, manifest.subject, digest,
                                 manifest.descriptor(digest, len(data)))
        if tag:
            storage.set_tag(name, tag, digest)


async def delete(registry, request: web.Request, name: str, reference: str) -> web.Response:
    storage = registry.storage
    if names.is_digest_like(reference):
        if not names.valid_digest(reference):
            raise RegistryError("DIGEST_INVALID", {"digest": reference[:200]})
        media_type = storage.manifest_media_type(name, reference)
        if media_type is None or not storage.delete_manifest(name, reference):
            raise RegistryError("MANIFEST_UNKNOWN", {"Digest": reference})
        subject = manifests.parse(storage.read_blob(reference), media_type).subject
        if subject:
            storage.remove_referrer(name, subject, reference)
    elif not names.valid_tag(reference) or not storage.delete_tag(name, reference):
        raise RegistryError("MANIFEST_UNKNOWN", {"Tag": reference[:200]})
    return web.Response(status=202)


async def referrers(registry, request: web.Request, name: str, digest: str) -> web.Response:
    """OCI 1.1 referrers: an image index of the manifests whose subject is `digest`
    (empty for an unknown digest), filtered by `artifactType` when asked."""
    if not names.valid_digest(digest):
        raise RegistryError("DIGEST_INVALID", {"digest": digest[:200]})
    found = registry.storage.referrers(name, digest)
    headers = {"Content-Type": manifests.OCI_INDEX}
    wanted = request.query.get("artifactType")
    if wanted is not None:
        found = [d for d in found if d.get("artifactType") == wanted]
        headers["OCI-Filters-Applied"] = "artifactType"
    body = {"schemaVersion": 2, "mediaType": manifests.OCI_INDEX, "manifests": found}
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), headers=headers)
