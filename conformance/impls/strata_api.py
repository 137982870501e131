"""strata-api: the real docker CLI against strata's Engine API socket.

`strata system service` serves the Engine API on a unix socket; the docker CLI drives it
with DOCKER_HOST. The run's service is started by the run's set-up (`prepare`, under a
FileLock: the controller and every worker call it) in /tmp/<run>-strata-api/ and stopped
after the engine leak check (`finish`); it shares the store of the `strata` record.
The service is a process of this machine (conformance/api_service.py).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Iterator

from conformance.impls.base import Implementation
from conformance.impls.docker import DOCKER_CLI_ENV, DOCKER_FINGERPRINT
from conformance.impls.strata import strata_cli


@dataclass(frozen=True)
class StrataApi(Implementation):
    name: str = "strata-api"
    argv: tuple[str, ...] = ("docker",)
    env: dict[str, str] = field(default_factory=lambda: dict(DOCKER_CLI_ENV))
    messages: str = "docker"
    expectations: str = "strata-api"
    capabilities: frozenset[str] = frozenset({"private-instance"})
    fingerprint_args: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DOCKER_FINGERPRINT))

    needs_local_run_setup: ClassVar[bool] = True

    def _api_dir(self) -> Path | None:
        host = self.env.get("DOCKER_HOST", "")
        return Path(host.removeprefix("unix://")).parent if host.startswith("unix://") else None

    def prepare(self, run: str) -> Implementation:
        from conformance import api_service
        if not self.installed():
            return self
        sock = api_service.start((strata_cli(),), Path("/tmp") / f"{run}-{self.name}")
        return replace(self, env={**self.env, "DOCKER_HOST": f"unix://{sock}"})

    def ready(self) -> None:
        """The run's service, started again if it went away when idle (same socket)."""
        from conformance import api_service
        directory = self._api_dir()
        if directory is not None and self.installed():
            api_service.start((strata_cli(),), directory)

    def finish(self) -> list[str]:
        from conformance import api_service
        directory = self._api_dir()
        if directory is not None and self.installed():
            api_service.stop(directory)
        return []

    def probe(self) -> str | None:
        from conformance import api_service
        directory = self._api_dir()
        if directory is None:
            return "no API service for this run (prepare was not called)"
        return api_service.socket_answers(directory / "api.sock")

    @contextlib.contextmanager
    def private_instance(self, label: str) -> Iterator[Implementation]:
        """A service of its own on a store root of its own (the service runs on this machine,
        where the run's set-up runs)."""
        from conformance import api_service
        root = self.host.make_temp_dir(label)
        sock = api_service.start((strata_cli(),), Path(root) / "api", {"STRATA_ROOT": f"{root}/store"})
        private = self.with_env(DOCKER_HOST=f"unix://{sock}")
        try:
            yield private
        finally:
            private.remove_containers()
            api_service.stop(Path(root) / "api")
            self.host.remove_tree(root)
