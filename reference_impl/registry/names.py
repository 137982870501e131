"""Grammar of repository names, tags and digests (distribution reference grammar)."""
import re

from reference_impl.store.digest import Digest

# path-component := alpha-numeric (separator alpha-numeric)*
# separator      := "." | "_" | "__" | "-"+
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
NAME_MAX = 255
TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)


def valid_name(name: str) -> bool:
    return len(name) <= NAME_MAX and NAME_RE.fullmatch(name) is not None


def valid_tag(tag: str) -> bool:
    return TAG_RE.fullmatch(tag) is not None


def valid_digest(digest: str) -> bool:
    return Digest.valid(digest)


def is_digest_like(reference: str) -> bool:
    """A manifest reference that is meant as a digest (has an algorithm prefix)."""
    return ":" in reference
