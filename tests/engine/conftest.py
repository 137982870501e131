"""The engine's tests drive the real `strata` CLI on a store of their own."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.fixtures import write_busybox_rootfs

STRATA = str(Path(sys.executable).with_name("strata"))


class Strata:
    """`strata` on one store root: strata("run", ...) -> CompletedProcess."""

    binary = STRATA

    def __init__(self, root: Path):
        self.env = {**os.environ, "STRATA_ROOT": str(root)}
        self.root = root

    def __call__(self, *args, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([STRATA, *map(str, args)], env=self.env, capture_output=True, text=True,
                              timeout=timeout, **kwargs)

    def inspect(self, name: str) -> dict:
        result = self("inspect", name)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]

    def remove_all_containers(self) -> None:
        ids = self("ps", "-aq").stdout.split()
        if ids:
            self("rm", "-f", *ids)


@pytest.fixture
def rootfs(tmp_path) -> Path:
    path = tmp_path / "rootfs.tar"
    write_busybox_rootfs(path)
    return path


@pytest.fixture
def strata(tmp_path, rootfs):
    """A store of its own with the busybox base imported as base:latest."""
    engine = Strata(tmp_path / "store")
    imported = engine("import", rootfs, "base:latest")
    assert imported.returncode == 0, imported.stderr
    yield engine
    engine.remove_all_containers()


@pytest.fixture
def strata_at():
    """`strata` on a store root of the test's choosing: strata_at(root)("images")."""
    return Strata
