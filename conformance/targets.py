"""Implementations the suite can check: one record each, registered by name.

What differs between implementations lives here and nowhere else: the CLI argv,
the host the CLI runs on, its environment, the flags its build needs to behave
as Docker's classic builder, where its client keeps credentials, and what it
supports (capabilities). Checks never look at an implementation's name.

Records are built lazily: importing this module runs nothing.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

# name -> "module:factory"; the factory returns an Implementation
REGISTRY = {
    "docker": "conformance.targets:docker",
    "strata": "conformance.targets:strata",
}

CAPABILITIES = {
    "private-instance",  # can start an instance with a store of its own (whole-store checks)
}


@dataclass(frozen=True)
class Implementation:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    host_url: str = "local://"
    # environment variable naming the client's config directory, and the file in it
    config_dir_env: str = "DOCKER_CONFIG"
    credentials_file: str = "config.json"
    build_flags: tuple[str, ...] = ()
    messages: str = "docker"
    capabilities: frozenset[str] = frozenset()
    probe: Callable[["Implementation"], str | None] | None = None
    # the CLI the harness cleans up with, when it is not `argv` (a wrapper that breaks `rmi`
    # on purpose must not make the run leak)
    cleanup_argv: tuple[str, ...] | None = None
    private_instance: Callable[["Implementation", str], contextlib.AbstractContextManager] | None = None

    @property
    def pytest_id(self) -> str:
        return self.name

    def missing_reason(self) -> str | None:
        """None when the implementation answers here; otherwise why not."""
        if shutil.which(self.argv[0]) is None and not os.path.exists(self.argv[0]):
            return f"{self.argv[0]!r} is not installed"
        return self.probe(self) if self.probe else None

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def for_cleanup(self) -> "Implementation":
        return replace(self, argv=self.cleanup_argv) if self.cleanup_argv else self


# Implementations defined in files (--impl-file): name -> record. A file entry is
# another implementation's record with another CLI, e.g. an engine of one's own
# that speaks Docker's CLI, or a wrapper that deviates on purpose:
#   [my-engine]
#   like = "docker"                 # capabilities, messages, environment, ...
#   argv = ["./bin/my-engine"]      # relative to the file
#   env = {MY_ENGINE_ROOT = "/var/lib/my-engine"}   # added to like's environment
#   cleanup_argv = ["docker"]       # optional: the CLI the harness cleans up with
_FROM_FILES: dict[str, "Implementation"] = {}


def add_file(path: str | os.PathLike) -> list[str]:
    """Register the implementations a TOML file defines; returns their names."""
    import tomllib
    path = Path(path).resolve()
    data = tomllib.loads(path.read_text())
    for name, entry in data.items():
        like = load(entry.get("like", "docker"))
        argv = [str((path.parent / a).resolve()) if a.startswith(("./", "../")) else a
                for a in entry["argv"]]
        cleanup = entry.get("cleanup_argv")
        _FROM_FILES[name] = replace(like, name=name, argv=tuple(argv),
                                    env={**like.env, **entry.get("env", {})},
                                    cleanup_argv=tuple(cleanup) if cleanup else None)
    return sorted(data)


def known_names() -> list[str]:
    return sorted({*REGISTRY, *_FROM_FILES})


def load(name: str) -> Implementation:
    if name in _FROM_FILES:
        return _FROM_FILES[name]
    try:
        target = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown implementation {name!r}; known: {', '.join(known_names())}") from None
    module, factory = target.split(":")
    return getattr(importlib.import_module(module), factory)()


# --- docker -------------------------------------------------------------------

def _probe_docker_server(impl: Implementation) -> str | None:
    env = {**os.environ, **impl.env}
    try:
        out = subprocess.run([*impl.argv, "version", "--format", "{{.Server.Version}}"],
                             env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "the docker daemon did not answer within 30 s"
    if out.returncode != 0:
        return f"no docker daemon answers: {out.stderr.strip() or out.stdout.strip()}"
    return None


@contextlib.contextmanager
def private_dockerd(impl: Implementation, label: str) -> Iterator[Implementation]:
    """A second dockerd with its own data root, exec root and socket.

    It runs in a network namespace of its own: a dockerd configured without a
    bridge deletes the host's docker0, and one with a bridge would fight the main
    daemon over addresses and iptables rules. The checks that use it act on the
    image store, not on ports.
    """
    root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir="/tmp"))
    sock = root / "d.sock"
    log = open(root / "dockerd.log", "wb")
    proc = subprocess.Popen(
        ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "dockerd",
         "dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
         "-H", f"unix://{sock}", "--pidfile", str(root / "dockerd.pid"),
         "--shutdown-timeout=2"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    private = replace(impl, env={**impl.env, "DOCKER_HOST": f"unix://{sock}"})
    try:
        deadline = time.monotonic() + 60
        while _probe_docker_server(private) is not None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private dockerd did not start: {(root / 'dockerd.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield private
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        _unmount_below(root)
        shutil.rmtree(root, ignore_errors=True)


def _unmount_below(root: Path) -> None:
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(str(root))]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def docker() -> Implementation:
    return Implementation(
        name="docker",
        argv=("docker",),
        # The classic builder is the reference for build behaviour (Step N/M, Using cache).
        env={"DOCKER_BUILDKIT": "0", "DOCKER_CLI_HINTS": "false"},
        config_dir_env="DOCKER_CONFIG",
        credentials_file="config.json",
        messages="docker",
        capabilities=frozenset({"private-instance"}),
        probe=_probe_docker_server,
        private_instance=private_dockerd,
    )


# --- strata (the reference engine, driven only through its CLI) ------------------------------

def strata_cli() -> str:
    """The `strata` beside this Python (the project's venv), else the one on PATH."""
    import sys
    beside = Path(sys.executable).with_name("strata")
    return str(beside) if beside.exists() else "strata"


@contextlib.contextmanager
def private_strata(impl: Implementation, label: str) -> Iterator[Implementation]:
    """strata is daemonless: a private instance is a store root of its own."""
    root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir="/tmp"))
    private = replace(impl, env={**impl.env, "STRATA_ROOT": str(root / "store")})
    try:
        yield private
    finally:
        subprocess.run(["sh", "-c", f"{impl.argv[0]} rm -f $({impl.argv[0]} ps -aq) 2>/dev/null"],
                       env={**os.environ, **private.env}, capture_output=True)
        _unmount_below(root)
        shutil.rmtree(root, ignore_errors=True)


def strata() -> Implementation:
    return Implementation(
        name="strata",
        argv=(strata_cli(),),
        env={},
        config_dir_env="STRATA_CONFIG",
        credentials_file="config.json",
        messages="strata",
        capabilities=frozenset({"private-instance"}),
        private_instance=private_strata,
    )
