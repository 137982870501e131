"""podman-api: the real docker CLI against podman's Docker-compatible API.

`podman system service` on a socket of the run (/tmp/<run>-podman/api/api.sock), on the
store of the run's podman record (one podman store per run: two would hand out the same
bridge addresses), started by the run's set-up and stopped by podman's end of run.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import ClassVar

from conformance.impls import podman
from conformance.impls.base import Implementation
from conformance.impls.docker import DOCKER_CLI_ENV, DOCKER_FINGERPRINT


@dataclass(frozen=True)
class PodmanApi(Implementation):
    name: str = "podman-api"
    argv: tuple[str, ...] = ("docker",)
    env: dict[str, str] = field(default_factory=lambda: dict(DOCKER_CLI_ENV))
    messages: str = "podman-api"
    expectations: str = "podman-api"
    # podman's storage races as under its own CLI (conformance/locks.py); no private
    # instance: a second store would hand out the run's bridge addresses again
    capabilities: frozenset[str] = frozenset({"serial-import"})
    store: str = "podman"
    fingerprint_args: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DOCKER_FINGERPRINT))

    needs_local_run_setup: ClassVar[bool] = True

    def prepare(self, run: str) -> Implementation:
        from conformance import api_service
        if not self.installed() or shutil.which("podman") is None:
            return self
        engine = podman.Podman().prepare(run)
        sock = api_service.start(("podman",), podman.store_root(engine) / "api", engine.env,
                                 serve=api_service.podman_serve)
        return self.with_env(**podman.store_config(engine), DOCKER_HOST=f"unix://{sock}")

    def ready(self) -> None:
        """The run's service, started again if it went away when idle (same socket)."""
        from conformance import api_service
        if self.installed() and "CONTAINERS_STORAGE_CONF" in self.env and shutil.which("podman"):
            api_service.start(("podman",), podman.store_root(self) / "api", podman.store_config(self),
                              serve=api_service.podman_serve)

    def probe(self) -> str | None:
        from conformance import api_service
        if "CONTAINERS_STORAGE_CONF" not in self.env:
            return "no podman API service for this run (prepare was not called)"
        if shutil.which("podman") is None:
            return "'podman' is not installed"
        return api_service.socket_answers(podman.store_root(self) / "api" / "api.sock")

    def finish(self) -> list[str]:
        return podman.end_run(self)
