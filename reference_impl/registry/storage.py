"""The registry's on-disk layout under its root directory.

    blobs/<alg>/<hex[:2]>/<hex>                  content, written once, by digest
    repositories/<name>/_layers/<alg>/<hex>      empty file: blob linked into <name>
    repositories/<name>/_manifests/<alg>/<hex>   manifest linked into <name>; holds its media type
    repositories/<name>/_tags/<tag>              holds the digest the tag points at
    repositories/<name>/_referrers/<alg>/<hex>/<alg>/<hex>
                                                 a manifest of <name> whose subject is the first
                                                 digest; holds its descriptor (JSON)
    uploads/<uuid>/data, uploads/<uuid>/repo     blob uploads in progress
    tmp/                                         staging for atomic writes
    gc.lock                                      garbage collection vs manifest PUT (collect.py)
    token/signing-key.pem                        token auth's RS256 key (tokens.py)

Every visible file appears through os.replace() of a complete file from tmp/ or
uploads/ (same file system), so readers in this or any other process see either
nothing or the whole thing. A blob is stored before any link to it is written,
and a manifest before any tag that names it. Name components cannot start with
"_" or ".", so "_layers" and friends never clash with a nested repository, and
no name escapes the root.
"""
import json
import os
import uuid

from reference_impl.store.digest import Digest, InvalidDigest

from . import names


class Storage:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.tmp = os.path.join(self.root, "tmp")
        self.uploads = os.path.join(self.root, "uploads")
        self._repos = os.path.join(self.root, "repositories")

    def prepare(self) -> None:
        for d in (self.tmp, self.uploads, self._repos, os.path.join(self.root, "blobs")):
            os.makedirs(d, exist_ok=True)

    # -- atomic files -------------------------------------------------------
    def write_atomic(self, path: str, data: bytes) -> None:
        tmp = os.path.join(self.tmp, uuid.uuid4().hex)
        with open(tmp, "wb") as f:
            f.write(data)
        self.move_into_place(tmp, path)

    @staticmethod
    def move_into_place(src: str, dest: str) -> None:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(src, dest)

    @staticmethod
    def _read(path: str) -> str | None:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    # -- blobs ----------------------------------------------------------------
    # Paths come from a Digest, so a malformed one is refused (InvalidDigest) before any
    # path is made; the questions (has_blob, read_blob, has_layer…) answer "not there".
    def blob_path(self, digest: str) -> str:
        digest = Digest(digest)
        return os.path.join(self.root, "blobs", digest.algorithm, digest.hex[:2], digest.hex)

    def has_blob(self, digest: str) -> bool:
        return Digest.valid(digest) and os.path.isfile(self.blob_path(digest))

    def blob_size(self, digest: str) -> int | None:
        try:
            return os.stat(self.blob_path(digest)).st_size
        except (FileNotFoundError, InvalidDigest):
            return None

    def put_blob_file(self, src: str, digest: str) -> None:
        """Move a verified file into the blob store (idempotent: same digest, same bytes)."""
        self.move_into_place(src, self.blob_path(digest))

    def put_blob_bytes(self, data: bytes, digest: str) -> None:
        if not self.has_blob(digest):
            self.write_atomic(self.blob_path(digest), data)

    def read_blob(self, digest: str) -> bytes | None:
        try:
            with open(self.blob_path(digest), "rb") as f:
                return f.read()
        except (FileNotFoundError, InvalidDigest):
            return None

    # -- repositories -------------------------------------------------------
    def repo_dir(self, name: str) -> str:
        assert names.valid_name(name), name
        return os.path.join(self._repos, *name.split("/"))

    def _link(self, name: str, kind: str, digest: str) -> str:
        digest = Digest(digest)
        return os.path.join(self.repo_dir(name), kind, digest.algorithm, digest.hex)

    def repo_exists(self, name: str) -> bool:
        d = self.repo_dir(name)
        return any(os.path.isdir(os.path.join(d, k)) for k in ("_manifests", "_layers", "_tags"))

    def repositories(self) -> list[str]:
        """All repository names, sorted."""
        found = []
        for dirpath, dirnames, _ in os.walk(self._repos):
            if any(k in dirnames for k in ("_manifests", "_layers", "_tags")):
                found.append(os.path.relpath(dirpath, self._repos).replace(os.sep, "/"))
            dirnames[:] = [d for d in dirnames if not d.startswith("_")]
        return sorted(found)

    # -- layer links ----------------------------------------------------------
    def link_layer(self, name: str, digest: str) -> None:
        path = self._link(name, "_layers", digest)
        if os.path.exists(path):
            self.touch_layer(name, digest)
        else:
            self.write_atomic(path, b"")

    def has_layer(self, name: str, digest: str) -> bool:
        return self.has_blob(digest) and os.path.isfile(self._link(name, "_layers", digest))

    def touch_layer(self, name: str, digest: str) -> None:
        """Mark the link as just used (its mtime), which garbage collection reads."""
        try:
            os.utime(self._link(name, "_layers", digest))
        except FileNotFoundError:
            pass

    def unlink_layer(self, name: str, digest: str) -> bool:
        try:
            os.unlink(self._link(name, "_layers", digest))
            return True
        except FileNotFoundError:
            return False

    # -- manifests ------------------------------------------------------------
    def put_manifest(self, name: str, digest: str, media_type: str, data: bytes) -> None:
        self.put_blob_bytes(data, digest)
        self.write_atomic(self._link(name, "_manifests", digest), media_type.encode())

    def manifest_media_type(self, name: str, digest: str) -> str | None:
        if not self.has_blob(digest):
            return None
        return self._read(self._link(name, "_manifests", digest))

    def delete_manifest(self, name: str, digest: str) -> bool:
        try:
            os.unlink(self._link(name, "_manifests", digest))
        except FileNotFoundError:
            return False
        for tag in self.tags(name):
            if self.tag_digest(name, tag) == digest:
                self.delete_tag(name, tag)
        return True

    # -- tags -----------------------------------------------------------------
    def _tag_path(self, name: str, tag: str) -> str:
        assert names.valid_tag(tag), tag
        return os.path.join(self.repo_dir(name), "_tags", tag)

    def set_tag(self, name: str, tag: str, digest: str) -> None:
        self.write_atomic(self._tag_path(name, tag), digest.encode())

    def tag_digest(self, name: str, tag: str) -> Digest | None:
        value = self._read(self._tag_path(name, tag))
        return Digest(value) if value and names.valid_digest(value) else None

    def delete_tag(self, name: str, tag: str) -> bool:
        try:
            os.unlink(self._tag_path(name, tag))
            return True
        except FileNotFoundError:
            return False

    def tags(self, name: str) -> list[str] | None:
        """Sorted tags, or None when the repository has no tag directory."""
        try:
            return sorted(os.listdir(os.path.join(self.repo_dir(name), "_tags")))
        except (FileNotFoundError, NotADirectoryError):
            return None

    # -- referrers (OCI 1.1) ----------------------------------------------------
    def _referrers_dir(self, name: str, subject: str) -> str:
        subject = Digest(subject)
        return os.path.join(self.repo_dir(name), "_referrers", subject.algorithm, subject.hex)

    def _referrer_path(self, name: str, subject: str, digest: str) -> str:
        digest = Digest(digest)
        return os.path.join(self._referrers_dir(name, subject), digest.algorithm, digest.hex)

    def add_referrer(self, name: str, subject: str, digest: str, descriptor: dict) -> None:
        self.write_atomic(self._referrer_path(name, subject, digest),
                          json.dumps(descriptor, sort_keys=True).encode())

    def remove_referrer(self, name: str, subject: str, digest: str) -> None:
        try:
            os.unlink(self._referrer_path(name, subject, digest))
        except FileNotFoundError:
            pass

    def referrers(self, name: str, subject: str) -> list[dict]:
        """Descriptors of the manifests of `name` whose subject is `subject`, by digest."""
        found = []
        base = self._referrers_dir(name, subject)
        for alg in sorted(_listdir(base)):
            for hexpart in sorted(_listdir(os.path.join(base, alg))):
                text = self._read(os.path.join(base, alg, hexpart))
                if text and self.manifest_media_type(name, f"{alg}:{hexpart}"):
                    found.append(json.loads(text))
        return found


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
