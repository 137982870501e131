"""A `strata system service` on a store of its own, for the API tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import api_service
from conformance.fixtures import write_busybox_rootfs

STRATA = str(Path(sys.executable).with_name("strata"))


class Service:
    def __init__(self, root: Path):
        self.root = root
        self.env = {**os.environ, "STRATA_ROOT": str(root / "store")}
        self.socket = api_service.start((STRATA,), root / "api", {"STRATA_ROOT": str(root / "store")})
        self.url = f"unix://{self.socket}"
        self.rootfs = root / "rootfs.tar"
        write_busybox_rootfs(self.rootfs)

    def strata(self, *args, timeout=120, **kwargs):
        """The other face of the same engine: the `strata` CLI on the service's store."""
        return subprocess.run([STRATA, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, **kwargs)

    def docker(self, *args, timeout=120, **kwargs):
        env = {**os.environ, "DOCKER_HOST": self.url, "DOCKER_BUILDKIT": "0",
               "DOCKER_CONFIG": str(self.root / "docker-config")}
        return subprocess.run(["docker", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, **kwargs)

    def close(self):
        ids = self.strata("ps", "-aq").stdout.split()
        if ids:
            self.strata("rm", "-f", *ids)
        api_service.stop(self.root / "api")
        with open("/proc/self/mounts") as mounts:
            points = [line.split()[1] for line in mounts if line.split()[1].startswith(str(self.root))]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("api"))
    try:
        assert svc.strata("import", "--change", 'CMD ["/bin/sh"]', str(svc.rootfs), "bb:latest").returncode == 0
        yield svc
    finally:
        svc.close()


def _recv_until(sock, wanted: bytes, timeout: float = 20) -> bytes:
    """What the socket sends until `wanted` has come (an end before it fails the test)."""
    sock.settimeout(timeout)
    seen = b""
    while wanted not in seen:
        chunk = sock.recv(4096)
        assert chunk, seen
        seen += chunk
    return seen


@pytest.fixture
def recv_until():
    """Reading a hijacked attach stream: recv_until(sock, b"text")."""
    return _recv_until
