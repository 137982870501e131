"""Image references as Docker parses them: [registry/]path[:tag][@digest]."""
from __future__ import annotations

import re
from dataclasses import dataclass

from reference_impl.errors import InvalidInput

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"sha256:[0-9a-f]{64}"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
ID_PREFIX = re.compile(r"^(?:sha256:)?[0-9a-f]{1,64}$")


@dataclass(frozen=True)
class Reference:
    name: str
    tag: str | None = None
    digest: str | None = None

    @property
    def domain(self) -> str | None:
        first, sep, _ = self.name.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            return first
        return None

    @property
    def path(self) -> str:
        """The repository path without the registry host."""
        return self.name.split("/", 1)[1] if self.domain else self.name

    def with_default_tag(self) -> "Reference":
        return self if (self.tag or self.digest) else Reference(self.name, "latest")

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse(text: str) -> Reference:
    match = _REFERENCE.match(text)
    first, slash, _ = (match["name"] if match else "").partition("/")
    if match and slash and first != first.lower() and not ("." in first or ":" in first):
        match = None  # not a registry host, so a path component: those are lowercase
    if not match or len(match["name"]) > 255:
        raise InvalidInput("invalid reference format" + (
            ": repository name must be lowercase" if text.lower() != text and _REFERENCE.match(text.lower())
            else ""))
    return Reference(match["name"], match["tag"], match["digest"])


def parse_tagged(text: str) -> Reference:
    """A reference with Docker's default tag: `name` means `name:latest`."""
    return parse(text).with_default_tag()
