"""Image ids as implementations print them, compared in one place.

Docker prints ids as ``sha256:<64 hex>`` (inspect's ``{{.Id}}``, ``images -q --no-trunc``)
and 12 hex digits in tables and build output; Podman's ``{{.Id}}`` has no ``sha256:`` and
its build prints 11 hex digits per step. A check about *which* image (caching, layering,
parents) compares through `same`; a check about how an id is *printed* asserts the
printed text itself.
"""
from __future__ import annotations

import re

_ID = re.compile(r"(?:sha256:)?([0-9a-f]{11,64})")
# the shortest prefix an implementation prints for an image (podman's build steps)
MIN_PREFIX = 11


def hex_of(image_id: str) -> str:
    """The hex digits of an id, whatever its printed form (raises on something else)."""
    found = _ID.fullmatch(image_id.strip())
    if found is None:
        raise ValueError(f"not an image id: {image_id!r}")
    return found[1]


def full(image_id: str) -> str:
    """``sha256:<hex>``: the form every listing of an image's full id is compared in."""
    return f"sha256:{hex_of(image_id)}"


def short(image_id: str) -> str:
    """The 12 hex digits Docker's tables show."""
    return hex_of(image_id)[:12]


def same(a: str | None, b: str | None) -> bool:
    """Whether two printed ids name the same image: one's hex digits begin the other's."""
    if a is None or b is None:
        return False
    x, y = sorted((hex_of(a), hex_of(b)), key=len)
    return len(x) >= MIN_PREFIX and y.startswith(x)


def same_each(xs, ys) -> bool:
    """`same` pairwise over two equally long sequences."""
    xs, ys = list(xs), list(ys)
    return len(xs) == len(ys) and all(same(x, y) for x, y in zip(xs, ys))


def listed(image_id: str, listing) -> bool:
    """Whether an id is among a listing's ids (any printed form)."""
    return any(same(image_id, line) for line in listing)
