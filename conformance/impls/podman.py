"""podman (daemonless; configured through its environment only).

Nothing in /etc/containers is changed: the record points CONTAINERS_CONF,
CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF at files written for the run under
/tmp/<run>-podman (../shared/notes/peers.md §2 says why each setting is needed here):
  runtime = runc        crun 1.8 refuses this machine's hybrid cgroup layout
  cgroupfs, file events  no systemd
  default_ulimits       root lacks CAP_SYS_RESOURCE: podman's default nofile/nproc fail setrlimit
  registries.conf       127.0.0.1 is insecure (plain HTTP), as dockerd treats 127.0.0.0/8 by
                        default; podman's registries.conf matches "127.0.0.1" for every port
                        (c/image prefix matching), which covers push, pull, login, search and
                        the pull of `run`/`build`, also inside `{cli}` pipelines
  BUILDAH_FORMAT=docker, image_default_format = "v2s2"
                        build and commit write Docker's image format (podman's own default is
                        OCI, which drops MAINTAINER/author and changes pushed manifests)
The run's store (graphroot, runroot) is its own: the controller resets and removes it after
the engine leak check, so anything left under /tmp/<run>-podman is a leak the check reports.
The run's set-up is made on this machine (a FileLock, an API service for podman-api).
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import tarfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Iterator

from filelock import FileLock

from conformance.impls.base import Implementation
from conformance.impls.hosts import Host


def podman_files(host: Host, root: str, netns: str | None = None) -> dict[str, str]:
    """podman's configuration files for a store under `root` on `host`; their environment."""
    containers = (
        "[containers]\n"
        'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
        + (f'netns = "{netns}"\n' if netns else "") +
        "[engine]\n"
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
        f'events_logfile_path = "{root}/events.log"\n'
        f'tmp_dir = "{root}/tmp"\n'
        'runtime = "runc"\n'
        'image_default_format = "v2s2"\n'
        "[network]\n"
        f'network_config_dir = "{root}/networks"\n')
    storage = (
        "[storage]\n"
        'driver = "overlay"\n'
        f'runroot = "{root}/run"\n'
        f'graphroot = "{root}/root"\n')
    registries = (
        "unqualified-search-registries = []\n"
        'short-name-mode = "permissive"\n'
        "[[registry]]\n"
        'location = "127.0.0.1"\n'
        "insecure = true\n")
    env = {}
    for var, name, text in (("CONTAINERS_CONF", "containers.conf", containers),
                            ("CONTAINERS_STORAGE_CONF", "storage.conf", storage),
                            ("CONTAINERS_REGISTRIES_CONF", "registries.conf", registries)):
        host.write_text(f"{root}/{name}", text)  # atomic: a worker never reads half a file
        env[var] = f"{root}/{name}"
    return env


def store_root(impl: Implementation) -> Path:
    return Path(impl.env["CONTAINERS_STORAGE_CONF"]).parent


def store_config(impl: Implementation) -> dict[str, str]:
    return {k: v for k, v in impl.env.items() if k.startswith("CONTAINERS_")}


@dataclass(frozen=True)
class Podman(Implementation):
    name: str = "podman"
    argv: tuple[str, ...] = ("podman",)
    env: dict[str, str] = field(default_factory=lambda: {"BUILDAH_FORMAT": "docker", "BUILDAH_LAYERS": "true"})
    # root's podman keeps logins in $XDG_RUNTIME_DIR/containers/auth.json (else /run/containers/0)
    config_dir_env: str = "XDG_RUNTIME_DIR"
    credentials_file: str = "containers/auth.json"
    # podman build caches with --layers (its default, stated so BUILDAH_LAYERS elsewhere
    # cannot turn the cache off)
    build_flags: tuple[str, ...] = ("--layers",)
    messages: str = "podman"
    expectations: str = "podman"
    capabilities: frozenset[str] = frozenset({"private-instance", "serial-import"})
    local_registry: str = "localhost"
    fingerprint_args: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "engine_version": ("version", "--format", "{{.Client.Version}}"),
        "cli_version": ("version", "--format", "{{.Client.Version}}"),
        "storage_driver": ("info", "--format", "{{.Store.GraphDriverName}}"),
        "runtime": ("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}")})

    needs_local_run_setup: ClassVar[bool] = True

    def prepare(self, run: str) -> Implementation:
        if not self.installed():
            return self
        root = Path("/tmp") / f"{run}-{self.name}"
        configured = self.with_env(**podman_files(self.host, str(root)))
        configured.keep_network_alive(root)
        return configured

    def keep_network_alive(self, root: Path) -> None:
        """One container on podman's default network for the whole run. netavark (1.4) removes
        the network's iptables chains when its last container goes and creates them again for
        the next: a `run` racing that teardown fails with "iptables: No chain/target/match by
        that name" (seen under -n 2). With this container there, the chains stay. It is part
        of the run's store, which `finish` resets."""
        engine = self.for_cleanup()  # the whole CLI (a wrapper's argv is more than one word)
        with FileLock(str(root / "keepalive.lock")):
            if engine.run(("container", "exists", "strata-keepalive"), timeout=120).rc == 0:
                return
            rootfs = io.BytesIO()
            with tarfile.open(fileobj=rootfs, mode="w") as tar:
                tar.add(os.path.realpath(shutil.which("busybox") or "/bin/busybox"), arcname="bin/busybox")
            engine.run(("import", "-", "strata-keepalive:latest"), input=rootfs.getvalue(), timeout=120)
            engine.run(("run", "-d", "--name", "strata-keepalive", "strata-keepalive:latest",
                        "/bin/busybox", "sleep", "2147483"), timeout=120)

    def probe(self) -> str | None:
        if "CONTAINERS_STORAGE_CONF" not in self.env:
            return "podman is not configured for this run (prepare was not called)"
        return self.probe_cli(("info", "--format", "{{.Store.GraphDriverName}}"), 60,
                              "podman does not work here")

    def finish(self) -> list[str]:
        return end_run(self)

    def reset(self, root: str) -> None:
        """Remove every container through podman (frees its locks), then the store itself."""
        engine = replace(self, argv=(self.for_cleanup().argv[0],))
        engine.run(("rm", "-a", "-f", "-t", "0"), timeout=300)
        engine.run(("system", "reset", "--force"), timeout=300)
        if self.host.is_local:
            end_lingering(Path(root))
        self.host.remove_tree(root)

    @contextlib.contextmanager
    def private_instance(self, label: str) -> Iterator[Implementation]:
        """A store of its own (graphroot, runroot). Its containers get no network namespace
        with addresses: two stores would hand out the same bridge addresses (the whole-store
        checks that use it act on images and containers, not ports)."""
        root = self.host.make_temp_dir(label)
        private = self.with_env(**podman_files(self.host, root, netns="none"))
        try:
            yield private
        finally:
            private.reset(root)


def end_lingering(root: Path) -> None:
    """End the processes of this store that outlive its reset: the conmon of an exec made
    through the API service waits --exit-delay (300 s) after its session ends. Only
    processes whose command line names this run's own store directory (on this machine)."""
    mine = str(root).encode() + b"/"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mine in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def end_run(impl: Implementation) -> list[str]:
    """Stop the run's podman API service, if podman-api started one, then reset the store
    (either record, podman's or podman-api's, may end first: each step is done once)."""
    conf = impl.env.get("CONTAINERS_STORAGE_CONF")
    if conf and impl.installed() and Path(conf).exists():
        from conformance import api_service
        api_service.stop(Path(conf).parent / "api")
        engine = Podman()
        replace(engine, env={**engine.env, **impl.env}).reset(str(Path(conf).parent))
    return []
