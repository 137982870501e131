"""Manifest media types, validation at PUT, and the choice of what GET returns."""
import json
import re

from reference_impl.store.digest import Digest

from . import names
from .errors import RegistryError

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
           "application/vnd.docker.distribution.manifest.v1+prettyjws")
IMAGE_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_LIST, OCI_INDEX)
SUPPORTED = IMAGE_TYPES + INDEX_TYPES
MAX_BYTES = 4 * 1024 * 1024
# RFC 6838 type/subtype, as artifactType and descriptor media types must be
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w!#$&^.+-]{0,126}/[A-Za-z0-9][\w!#$&^.+-]{0,126}")


class Manifest:
    """A parsed, validated manifest: its media type and the digests it refers to."""

    def __init__(self, media_type: str, blobs: list[str], manifests: list[str], parsed: dict):
        self.media_type = media_type
        self.blobs = blobs            # config and layers (must be linked in the repository)
        self.manifests = manifests    # children of an index (must be manifests of the repository)
        self.parsed = parsed

    @property
    def subject(self) -> str | None:
        """The digest of the manifest this one refers to (OCI 1.1 `subject`), if any."""
        subject = self.parsed.get("subject")
        return subject["digest"] if subject else None

    @property
    def artifact_type(self) -> str | None:
        """What the referrers API lists it as: `artifactType`, else the config's media type."""
        config = self.parsed.get("config") or {}
        return self.parsed.get("artifactType") or config.get("mediaType")

    def descriptor(self, digest: str, size: int) -> dict:
        """Its descriptor in a referrers index."""
        desc = {"mediaType": self.media_type, "digest": digest, "size": size}
        if self.artifact_type:
            desc["artifactType"] = self.artifact_type
        if self.parsed.get("annotations"):
            desc["annotations"] = self.parsed["annotations"]
        return desc


def _invalid(detail) -> RegistryError:
    return RegistryError("MANIFEST_INVALID", detail)


def _descriptor_digest(desc) -> Digest:
    if not isinstance(desc, dict):
        raise _invalid("descriptor is not an object")
    digest = desc.get("digest")
    if not isinstance(digest, str) or not names.valid_digest(digest):
        raise _invalid({"digest": str(digest)[:200]})
    if not isinstance(desc.get("size", 0), int):
        raise _invalid("descriptor size is not an integer")
    return Digest(digest)


def _check_oci_fields(doc: dict) -> None:
    """OCI 1.1: `subject` is a descriptor, `artifactType` a media type, `annotations` strings."""
    if "subject" in doc:
        _descriptor_digest(doc["subject"])
        if not _valid_media_type(doc["subject"].get("mediaType")):
            raise _invalid("subject mediaType is not a media type")
    if "artifactType" in doc and not _valid_media_type(doc["artifactType"]):
        raise _invalid(f"artifactType {str(doc['artifactType'])[:100]!r} is not a media type")
    annotations = doc.get("annotations", {})
    if not isinstance(annotations, dict) or \
            not all(isinstance(v, str) for v in annotations.values()):
        raise _invalid("annotations must map strings to strings")


def _valid_media_type(value) -> bool:
    return isinstance(value, str) and _MEDIA_TYPE.fullmatch(value) is not None


def parse(data: bytes, content_type: str | None) -> Manifest:
    """Validate a manifest as PUT; raise MANIFEST_INVALID with a detail otherwise."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:   # bad JSON, bad UTF-8, absurd nesting or numbers
        raise _invalid({"Offset": getattr(exc, "pos", 0)}) from None
    if not isinstance(doc, dict):
        raise _invalid("manifest is not a JSON object")
    field = doc.get("mediaType")
    header = (content_type or "").split(";")[0].strip()
    if header in ("", "application/json", "application/octet-stream"):
        header = ""
    media_type = header or field or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
    if header and field and field != header:
        raise _invalid(f"mediaType {field!r} does not match Content-Type {header!r}")
    if media_type in SCHEMA1 or doc.get("schemaVersion") == 1:
        raise _invalid("schema 1 manifests are not supported")
    if media_type not in SUPPORTED:
        raise _invalid(f"unsupported manifest media type {media_type!r}")
    if doc.get("schemaVersion") != 2:
        raise _invalid("schemaVersion must be 2")
    _check_oci_fields(doc)
    if media_type in INDEX_TYPES:
        children = doc.get("manifests")
        if not isinstance(children, list):
            raise _invalid("manifests must be a list")
        return Manifest(media_type, [], [_descriptor_digest(m) for m in children], doc)
    if media_type == DOCKER_MANIFEST and field != DOCKER_MANIFEST:
        raise _invalid("mediaType field is required")
    layers = doc.get("layers")
    if not isinstance(layers, list) or "config" not in doc:
        raise _invalid("config and layers are required")
    blobs = [_descriptor_digest(doc["config"])]
    for layer in layers:
        digest = _descriptor_digest(layer)
        if not layer.get("urls"):   # foreign layers live elsewhere
            blobs.append(digest)
    return Manifest(media_type, blobs, [], doc)


def accepted(accept_headers: list[str]) -> set[str] | None:
    """The media types a client accepts, or None when it accepts anything."""
    types = set()
    for header in accept_headers:
        for part in header.split(","):
            media = part.split(";")[0].strip()
            if media == "*/*":
                return None
            if media:
                types.add(media)
    return types or None
