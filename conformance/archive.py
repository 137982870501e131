"""Reading what `save` writes: the docker-archive format, as a user sees it.

`saved(cli, ref, directory)` runs ``save -o <directory>/<name>.tar <ref>`` and
returns the parsed archive: manifest.json's entry, the image config (its raw
bytes and its JSON) and every layer tar (raw bytes and member names). Paths in
the manifest are followed as written, so both the classic layout
(``<id>/layer.tar``) and the OCI layout of newer engines (``blobs/sha256/<hex>``)
read the same way.

Whiteouts follow the OCI image spec: ``.wh.<name>`` marks a deleted entry,
``.wh..wh..opq`` an opaque directory (nothing below it shows through).
"""
from __future__ import annotations

import hashlib
import itertools
import io
import json
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_serial = itertools.count(1)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Layer:
    path: str  # inside the archive, as manifest.json names it
    data: bytes  # the uncompressed layer tar

    @property
    def diff_id(self) -> str:
        return sha256(self.data)

    @property
    def members(self) -> list[str]:
        """Entry names, normalised: no leading './' or '/', no trailing '/'."""
        with tarfile.open(fileobj=io.BytesIO(self.data)) as tar:
            return [_normal(m.name) for m in tar.getmembers()]

    def read(self, name: str) -> bytes:
        with tarfile.open(fileobj=io.BytesIO(self.data)) as tar:
            for member in tar.getmembers():
                if _normal(member.name) == name:
                    return tar.extractfile(member).read()
        raise KeyError(f"{name} is not in layer {self.path}")


@dataclass
class SavedImage:
    manifest: dict  # this image's entry in manifest.json
    config_path: str
    config_bytes: bytes
    layers: list[Layer]

    @property
    def config(self) -> dict:
        return json.loads(self.config_bytes)

    @property
    def diff_ids(self) -> list[str]:
        return self.config["rootfs"]["diff_ids"]

    @property
    def history(self) -> list[dict]:
        return self.config.get("history", [])


def _normal(name: str) -> str:
    name = name.removeprefix("./").lstrip("/").rstrip("/")
    return posixpath.normpath(name) if name else name


def read_archive(data: bytes) -> list[SavedImage]:
    """Every image in a docker-archive tar (one per manifest.json entry)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        files = {_normal(m.name): m for m in tar.getmembers() if m.isfile()}

        def content(path: str) -> bytes:
            member = files.get(_normal(path))
            if member is None:
                raise AssertionError(f"the archive has no {path!r}; it has {sorted(files)}")
            return tar.extractfile(member).read()

        manifest = json.loads(content("manifest.json"))
        images = []
        for entry in manifest:
            images.append(SavedImage(
                manifest=entry,
                config_path=entry["Config"],
                config_bytes=content(entry["Config"]),
                layers=[Layer(path, content(path)) for path in entry["Layers"]],
            ))
        return images


def saved(cli, ref: str, directory: Path) -> SavedImage:
    """``save -o`` one image into ``directory`` (on the CLI's host) and parse it."""
    __tracebackhide__ = True
    path = Path(directory) / f"saved-{next(_serial)}.tar"
    cli.ok("save", "-o", str(path), ref)
    images = read_archive(cli.host.file(str(path)).content)
    if len(images) != 1:
        raise AssertionError(f"save of one image wrote {len(images)} manifest entries")
    return images[0]
