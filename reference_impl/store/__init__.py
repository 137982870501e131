"""The engine's state under one root (default /var/lib/strata; --root / STRATA_ROOT)."""
from __future__ import annotations

import os
from pathlib import Path

from reference_impl.store.containers import Container, ContainerStore
from reference_impl.store.images import Image, ImageStore, hex_of

DEFAULT_ROOT = "/var/lib/strata"


class Store:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root or os.environ.get("STRATA_ROOT") or DEFAULT_ROOT)
        self.images = ImageStore(self.root)
        self.containers = ContainerStore(self.root)

    def lock(self, shared: bool = False):
        return self.images.lock(shared)


__all__ = ["Store", "Image", "Container", "hex_of", "DEFAULT_ROOT"]
