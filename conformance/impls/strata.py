"""strata: the reference engine, driven only through its CLI (daemonless)."""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from conformance.impls.base import Implementation


def strata_cli() -> str:
    """The `strata` beside this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("strata")
    return str(beside) if beside.exists() else "strata"


@dataclass(frozen=True)
class Strata(Implementation):
    name: str = "strata"
    argv: tuple[str, ...] = field(default_factory=lambda: (strata_cli(),))
    config_dir_env: str = "STRATA_CONFIG"
    messages: str = "strata"
    expectations: str = "strata"
    capabilities: frozenset[str] = frozenset({"private-instance"})
    fingerprint_args: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "engine_version": ("version", "--format", "{{.Server.Version}}"),
        "cli_version": ("version", "--format", "{{.Client.Version}}")})

    @contextlib.contextmanager
    def private_instance(self, label: str) -> Iterator[Implementation]:
        """strata is daemonless: a private instance is a store root of its own."""
        root = self.host.make_temp_dir(label)
        private = self.with_env(STRATA_ROOT=f"{root}/store")
        try:
            yield private
        finally:
            private.remove_containers()
            self.host.remove_tree(root)
