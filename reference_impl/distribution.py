"""pull and push: images between the store and a registry (Registry HTTP API v2).

Layers travel gzip-compressed, as Docker pushes them; the compressed blob of a layer
is made once (deterministically: no timestamp in the gzip header) and kept beside
it, so every push of a layer names the same digest. A pulled layer is verified
twice: the blob against its digest (by the client), the uncompressed tar against
the config's diff id (here), before anything enters the store.
"""
from __future__ import annotations

import gzip
import json
import secrets
import shutil
from pathlib import Path

from reference_impl import credentials, refs
from reference_impl.ownership import staging_prefix
from reference_impl.errors import EngineError, InvalidInput, NotFound
from reference_impl.fsutil import atomic_write
from reference_impl.layers import sha256_file
from reference_impl.registry import manifests
from reference_impl.registry.client import AuthenticationError, NotFoundError, RegistryAPIError, RegistryClient, Unreachable
from reference_impl.store import Store, hex_of
from reference_impl.store.digest import Digest

CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


class PlainError(EngineError):
    """Printed without the daemon prefix (what the docker CLI itself prints)."""
    from_daemon = False


STORED = object()  # auth=STORED: the credentials `login` stored (the CLI); the API passes its client's


def _client(ref: refs.Reference, auth=STORED) -> RegistryClient:
    if ref.domain is None:
        raise EngineError(f"pulling and pushing {ref.name} needs a registry address in the name "
                          "(e.g. 127.0.0.1:5000/name): Docker Hub cannot be reached from here")
    return RegistryClient(ref.domain, auth=credentials.lookup(ref.domain) if auth is STORED else auth)


def _short(digest: str) -> str:
    return hex_of(digest)[:12]


# --- push ------------------------------------------------------------------------------------

def compressed_layer(store: Store, diff_id: str) -> tuple[Path, str, int]:
    """(path, digest, size) of the layer's gzip blob, made once."""
    directory = store.images.layer_path(diff_id)
    blob, digest_file = directory / "layer.tar.gz", directory / "layer.tar.gz.digest"
    if not digest_file.exists():
        # racers write apart, in tmp/ where a killed push's partial file is reclaimed
        partial = store.images.tmp_dir / f"{staging_prefix('gzip-')}{secrets.token_hex(4)}"
        try:
            with open(store.images.layer_tar(diff_id), "rb") as source, open(partial, "wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
                shutil.copyfileobj(source, out, 1 << 20)
            digest = sha256_file(partial)
            partial.replace(blob)
        finally:
            partial.unlink(missing_ok=True)
        atomic_write(digest_file, digest.encode(), durable=False, staging=store.images.tmp_dir,
                     staging_prefix=staging_prefix("write-"))
    return blob, digest_file.read_text().strip(), blob.stat().st_size


def push(store: Store, text: str, out, auth=STORED) -> None:
    ref = refs.parse_tagged(text)
    try:
        image = store.images.get(store.images.resolve(str(ref)))
    except NotFound:
        raise PlainError(f"An image does not exist locally with the tag: {ref.name}") from None
    out(f"The push refers to repository [{ref.name}]")
    client = _client(ref, auth)
    try:
        client.ping()  # as Docker: an unreachable registry is found out before any layer
        descriptors = []
        for diff_id in image.diff_ids:
            path, digest, size = compressed_layer(store, diff_id)
            descriptors.append({"mediaType": LAYER_TYPE, "size": size, "digest": digest})
        for diff_id, layer in reversed(list(zip(image.diff_ids, descriptors))):
            out(f"{_short(diff_id)}: Preparing")
        for diff_id, layer in reversed(list(zip(image.diff_ids, descriptors))):
            if client.blob_exists(ref.path, layer["digest"]) is not None:
                out(f"{_short(diff_id)}: Layer already exists")
                continue
            client.upload_blob(ref.path, compressed_layer(store, diff_id)[0], layer["digest"])
            out(f"{_short(diff_id)}: Pushed")
        if client.blob_exists(ref.path, image.id) is None:
            client.upload_blob(ref.path, image.raw, image.id)
        manifest = {"schemaVersion": 2, "mediaType": manifests.DOCKER_MANIFEST,
                    "config": {"mediaType": CONFIG_TYPE, "size": len(image.raw), "digest": image.id},
                    "layers": descriptors}
        body = json.dumps(manifest, indent=3).encode()
        digest = client.put_manifest(ref.path, ref.tag, body, manifests.DOCKER_MANIFEST)
    except Unreachable as exc:
        raise PlainError(exc.message) from None
    except AuthenticationError as exc:
        raise PlainError(exc.reason) from None
    except RegistryAPIError as exc:
        raise PlainError(f"{exc.code or exc.status}: {exc.message}") from None
    with store.lock():
        if (store.images.images_dir / hex_of(image.id) / "config.json").exists():  # not removed meanwhile
            store.images.set_tag(refs.Reference(ref.name, None, digest), image.id)
    out(f"{ref.tag}: digest: {digest} size: {len(body)}")


# --- pull ------------------------------------------------------------------------------------

def _resolve_manifest(client: RegistryClient, ref: refs.Reference) -> tuple[dict, str]:
    reference = ref.digest or ref.tag
    data, media_type, digest = client.get_manifest(ref.path, reference)
    manifest = json.loads(data)
    if media_type in (manifests.DOCKER_LIST, manifests.OCI_INDEX) or "manifests" in manifest:
        chosen = next((m for m in manifest.get("manifests", [])
                       if m.get("platform", {}).get("os") == "linux"
                       and m.get("platform", {}).get("architecture") in ("amd64", None)), None)
        if chosen is None:
            raise EngineError(f"no matching manifest for linux/amd64 in the manifest list entries")
        data, _, _ = client.get_manifest(ref.path, chosen["digest"])
        manifest = json.loads(data)
    return manifest, digest or Digest.of(data)


def pull(store: Store, text: str, out, auth=STORED) -> str:
    """Pull an image; returns its id. `out` gets the lines `docker pull` prints."""
    ref = refs.parse(text)
    if not ref.tag and not ref.digest:
        out("Using default tag: latest")
        ref = ref.with_default_tag()
    label = ref.tag if ref.tag and not ref.digest else str(ref)
    client = _client(ref, auth)
    client.ping()  # as Docker: GET /v2/ first, so an unreachable registry is named by it
    try:
        manifest, digest = _resolve_manifest(client, ref)
    except NotFoundError:
        raise EngineError(f"manifest for {ref} not found: manifest unknown: manifest unknown") from None
    except AuthenticationError as exc:
        if exc.code == "DENIED":
            raise EngineError(f"pull access denied for {ref.name}, repository does not exist or may "
                              f"require 'docker login': {exc.reason}") from None
        raise EngineError(f'Head "{client.base}/v2/{ref.path}/manifests/{ref.digest or ref.tag}": '
                          f"{exc.reason}") from None
    except RegistryAPIError as exc:
        raise EngineError(f"{exc.code or exc.status}: {exc.message}") from None
    out(f"{label}: Pulling from {ref.path}")
    image_id = manifest["config"]["digest"]
    scratch = Path(store.images.tmp_dir)
    pending: list[tuple[Path, str]] = []
    try:
        return _fetch_and_store(store, client, ref, manifest, digest, scratch, pending, out)
    finally:
        for tar_path, _ in pending:  # not adopted: a failure (a full disk) came first
            tar_path.unlink(missing_ok=True)


def _fetch_and_store(store: Store, client, ref, manifest: dict, digest: str, scratch: Path,
                     pending: list, out) -> str:
    image_id = manifest["config"]["digest"]
    try:
        raw = client.get_blob(ref.path, image_id)
        if Digest.of(raw) != image_id:
            raise InvalidInput(f"image config does not match its digest {image_id}")
        diff_ids = json.loads(raw).get("rootfs", {}).get("diff_ids", [])
        if len(diff_ids) != len(manifest.get("layers", [])):
            raise InvalidInput("invalid manifest: layers and diff ids differ in number")
        for layer, diff_id in zip(manifest["layers"], diff_ids):
            if store.images.has_layer(diff_id):
                out(f"{_short(layer['digest'])}: Already exists")
                continue
            blob = scratch / f"{staging_prefix('pull-')}{hex_of(layer['digest'])[:16]}"
            try:
                client.download_blob(ref.path, layer["digest"], str(blob))
                with open(blob, "rb") as stream:
                    tar_path, got = store.images.spool(stream)
            finally:
                blob.unlink(missing_ok=True)
            if got != diff_id:
                tar_path.unlink()
                raise InvalidInput(f"layer {layer['digest']} does not match its diff id {diff_id}")
            pending.append((tar_path, diff_id))
            out(f"{_short(layer['digest'])}: Pull complete")
    except AuthenticationError as exc:
        raise EngineError(exc.reason) from None
    except (RegistryAPIError, ValueError) as exc:
        raise EngineError(str(exc)) from None
    with store.lock():
        for tar_path, diff_id in pending:
            store.images.add_layer(tar_path, diff_id)
        was = store.images.tags().get(str(ref))
        store.images.put_image(raw)
        store.images.set_tag(refs.Reference(ref.name, None, digest), image_id)
        if ref.tag and not ref.digest:
            store.images.set_tag(ref, image_id)
    out(f"Digest: {digest}")
    fresh = was != image_id
    out(f"Status: {'Downloaded newer image' if fresh else 'Image is up to date'} for {ref}")
    return image_id


def search(term: str, limit: int = 25, auth=STORED) -> list[dict]:
    """The registry's v1 search (what `docker search addr/term` calls)."""
    try:
        domain_ref = refs.parse(term)
    except InvalidInput:
        raise EngineError(f"invalid search term {term}") from None
    if domain_ref.domain is None:
        raise EngineError("searching Docker Hub is not possible from here: give a registry address")
    client = _client(domain_ref, auth)
    try:
        results = client.search(domain_ref.path, limit)
    except RegistryAPIError as exc:
        raise EngineError(f"Unexpected status code {exc.status}") from None
    return results
