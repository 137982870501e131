"""docker: the oracle. The classic builder is the reference for build behaviour."""
from __future__ import annotations

import contextlib
import shlex
import time
from dataclasses import dataclass, field
from typing import Iterator

from conformance.impls.base import Implementation

# the docker CLI's environment: the classic builder (Step N/M, Using cache), no hints
DOCKER_CLI_ENV = {"DOCKER_BUILDKIT": "0", "DOCKER_CLI_HINTS": "false"}

DOCKER_FINGERPRINT = {"engine_version": ("version", "--format", "{{.Server.Version}}"),
                      "cli_version": ("version", "--format", "{{.Client.Version}}"),
                      "storage_driver": ("info", "--format", "{{.Driver}}")}


@dataclass(frozen=True)
class Docker(Implementation):
    name: str = "docker"
    argv: tuple[str, ...] = ("docker",)
    env: dict[str, str] = field(default_factory=lambda: dict(DOCKER_CLI_ENV))
    messages: str = "docker"
    capabilities: frozenset[str] = frozenset({"private-instance"})
    fingerprint_args: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DOCKER_FINGERPRINT))

    def probe(self) -> str | None:
        return self.probe_cli(("version", "--format", "{{.Server.Version}}"), 30,
                              "no docker daemon answers")

    @contextlib.contextmanager
    def private_instance(self, label: str) -> Iterator[Implementation]:
        """A second dockerd with its own data root, exec root and socket, on this record's host.

        It runs in a network namespace of its own: a dockerd configured without a
        bridge deletes the host's docker0, and one with a bridge would fight the main
        daemon over addresses and iptables rules. The checks that use it act on the
        image store, not on ports.
        """
        host = self.host
        root = host.make_temp_dir(label)
        q = shlex.quote
        private = self.with_env(DOCKER_HOST=f"unix://{root}/d.sock")
        # the launcher's pid is dockerd's (sh execs it); in a session of its own (setsid)
        daemon = (f"echo $$ > {q(root)}/launch.pid; ip link set lo up && exec dockerd "
                  f"--data-root {q(root)}/data --exec-root {q(root)}/exec -H unix://{q(root)}/d.sock "
                  f"--pidfile {q(root)}/dockerd.pid --shutdown-timeout=2")
        try:
            host.check(f"setsid unshare --net -- sh -c {q(daemon)} >{q(root)}/dockerd.log 2>&1 </dev/null &")
            deadline = time.monotonic() + 60
            while private.probe() is not None:
                gone = host.shell(f"test -s {q(root)}/launch.pid && "
                                  f"! kill -0 $(cat {q(root)}/launch.pid) 2>/dev/null").rc == 0
                if gone or time.monotonic() > deadline:
                    log = host.shell(f"tail -c 2000 {q(root)}/dockerd.log").stdout
                    raise RuntimeError(f"private dockerd did not start on {host.url}: {log}")
                time.sleep(0.1)
            yield private
        finally:
            host.shell(f"pid=$(cat {q(root)}/launch.pid 2>/dev/null) && kill -TERM $pid && "
                       f"for i in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done; "
                       f"kill -9 -- -$pid $pid 2>/dev/null; true", timeout=60)
            host.remove_tree(root)
