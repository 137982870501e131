"""Content digests as a type: go-containerregistry's ``v1.Hash``.

A ``Digest`` is ``<algorithm>:<hex>``, parsed and validated once where it enters (a file
name, a header, a manifest, a hash just computed) and then trusted. It *is* a ``str``, so it
marshals as Docker's string form everywhere (JSON, HTTP headers, tags files) and callers
that only print or compare it need nothing new.

Which digest a name means follows ggcr's ``Layer``: a layer's ``digest`` is the hash of the
blob as stored or sent (gzipped in a registry), its ``diff_id`` the hash of the uncompressed
tar — what an image config's ``rootfs.diff_ids`` lists and what the store keys layers by.
An image's id is the digest of its config's bytes.
"""
from __future__ import annotations

import hashlib
import re
from io import BufferedIOBase
from pathlib import Path

from reference_impl.errors import InvalidInput

SHA256 = "sha256"
# the algorithms the distribution spec names, and the length of their hex
ALGORITHMS = {SHA256: 64, "sha512": 128}
_CHUNK = 1 << 20


class InvalidDigest(InvalidInput, ValueError):
    """Not `<algorithm>:<hex>` of a known algorithm: refused where it enters."""


class Digest(str):
    """``sha256:<64 lowercase hex>`` (or sha512), known to be well formed."""

    __slots__ = ()

    def __new__(cls, text: str) -> "Digest":
        if isinstance(text, Digest):
            return text
        algorithm, sep, hex_part = str(text).partition(":")
        if not sep or ALGORITHMS.get(algorithm) != len(hex_part) or not _HEX.fullmatch(hex_part):
            raise InvalidDigest(f"invalid digest: {str(text)[:200]}")
        return super().__new__(cls, text)

    @classmethod
    def valid(cls, text: str) -> bool:
        try:
            cls(text)
        except InvalidDigest:
            return False
        return True

    @classmethod
    def from_hex(cls, hex_part: str, algorithm: str = SHA256) -> "Digest":
        return cls(f"{algorithm}:{hex_part}")

    @classmethod
    def of(cls, data: bytes, algorithm: str = SHA256) -> "Digest":
        return Hasher(algorithm).update(data).digest()

    @classmethod
    def of_file(cls, path: Path | str, algorithm: str = SHA256) -> "Digest":
        with open(path, "rb") as f:
            return Hasher(algorithm).update_from(f).digest()

    @property
    def algorithm(self) -> str:
        return self.partition(":")[0]

    @property
    def hex(self) -> str:
        return self.partition(":")[2]

    @property
    def short(self) -> str:
        """The 12 hex digits Docker prints for an id."""
        return self.hex[:12]

    def hasher(self) -> "Hasher":
        """A hasher of this digest's algorithm, to check content against it."""
        return Hasher(self.algorithm)

    def matches(self, data: bytes) -> bool:
        return self.hasher().update(data).digest() == self


class Hasher:
    """A running hash whose result is a Digest (hashlib underneath)."""

    def __init__(self, algorithm: str = SHA256):
        if algorithm not in ALGORITHMS:
            raise InvalidDigest(f"unsupported digest algorithm: {algorithm}")
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm)

    def update(self, data: bytes) -> "Hasher":
        self._hash.update(data)
        return self

    def update_from(self, stream: BufferedIOBase) -> "Hasher":
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            self._hash.update(chunk)
        return self

    def digest(self) -> Digest:
        return Digest.from_hex(self._hash.hexdigest(), self.algorithm)


_HEX = re.compile(r"[0-9a-f]+")
