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
import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock

# name -> "module:factory"; the factory returns an Implementation
REGISTRY = {
    "docker": "conformance.targets:docker",
    "podman": "conformance.targets:podman",
    "podman-api": "conformance.targets:podman_api",
    "strata": "conformance.targets:strata",
    "strata-api": "conformance.targets:strata_api",
}

# "<host>:<name>": implementation <name>'s record on another host, e.g. vagrant:strata
# (only when named with --impl: never part of the default "every one that answers")
HOSTS = {
    "vagrant": "vms.targets:in_vagrant",
}

CAPABILITIES = {
    "private-instance",  # can start an instance with a store of its own (whole-store checks)
    "serial-import",     # base images must be imported one at a time (a storage race in the engine)
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
    # checks expected to differ from Docker here: a file name in conformance/expectations/
    # (without .toml) or a path to a TOML file of that format
    expectations: str = "docker"
    capabilities: frozenset[str] = frozenset()
    probe: Callable[["Implementation"], str | None] | None = None
    # the CLI the harness cleans up with, when it is not `argv` (a wrapper that breaks `rmi`
    # on purpose must not make the run leak)
    cleanup_argv: tuple[str, ...] | None = None
    private_instance: Callable[["Implementation", str], contextlib.AbstractContextManager] | None = None
    # per-run set-up: given the run's tag, write what the implementation needs for this run
    # (config files under /tmp/<run>-<name>, so the leak check sees leftovers) and return the
    # record configured for it; `end_run` removes it after the session's engine leak check
    for_run: Callable[["Implementation", str], "Implementation"] | None = None
    end_run: Callable[["Implementation"], list[str] | None] | None = None
    # what must hold again before each check and the leak check, where the run's set-up
    # can lapse (strata-api's service exits after 10 idle minutes: a run's other checks,
    # or a VM's bring-up, can take longer than that before this record's next check)
    before_check: Callable[["Implementation"], None] | None = None
    # the environment fingerprint of a run: key -> CLI arguments whose stdout is the value
    fingerprint: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the registry part the implementation gives a local image's name that has none, in
    # what it prints (podman: "localhost/"; Docker prints the name as given)
    local_registry: str = ""
    # the store this record shares with another record of the run (podman-api serves
    # podman's): one storage lock for both (fixtures.storage_lock); default: its own
    store: str = ""

    def listed_name(self, ref: str) -> str:
        """An image name as this implementation lists and reports it (images, ps, history,
        build's and rmi's words): `ref` with the local registry part where it has none."""
        first, slash, _ = ref.partition("/")
        has_registry = slash and ("." in first or ":" in first or first == "localhost")
        return ref if has_registry or not self.local_registry else f"{self.local_registry}/{ref}"

    def given_name(self, listed: str) -> str:
        """`listed_name` undone: a listed local name as a check gives it."""
        return listed.removeprefix(f"{self.local_registry}/") if self.local_registry else listed

    @property
    def pytest_id(self) -> str:
        return self.name

    def missing_reason(self) -> str | None:
        """None when the implementation answers here; otherwise why not."""
        if not self.installed():
            return f"{self.argv[0]!r} is not installed"
        return self.probe(self) if self.probe else None

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def for_cleanup(self) -> "Implementation":
        return replace(self, argv=self.cleanup_argv) if self.cleanup_argv else self

    def installed(self) -> bool:
        if self.host_url != "local://":
            return True  # on another host: its probe says whether the CLI answers there
        return shutil.which(self.argv[0]) is not None or os.path.exists(self.argv[0])


def prepare(impl: Implementation, run: str) -> Implementation:
    """The record configured for one run (idempotent: the controller and every worker call it)."""
    if impl.for_run is None or not impl.installed():
        return impl
    return impl.for_run(impl, run)


def ready(impl: Implementation) -> None:
    """Make the run's set-up answer again if it lapsed (before a check, before the leak check)."""
    if impl.before_check is not None and impl.installed():
        impl.before_check(impl)


def finish(impl: Implementation) -> list[str]:
    """Undo `prepare` (called once, by the controller, after the engine leak check);
    returns what the undoing found left behind on the host (a VM's domain, say)."""
    if impl.end_run is not None and impl.installed():
        return list(impl.end_run(impl) or [])
    return []


def fingerprint(impl: Implementation) -> dict[str, str]:
    """What this implementation says about itself (versions, storage driver)."""
    env = {**os.environ, **impl.env}
    found = {}
    for key, args in sorted(impl.fingerprint.items()):
        try:
            if impl.host_url != "local://":  # asked on the implementation's host
                out = _run_on_host(impl, args)
            else:
                out = subprocess.run([*impl.argv, *args], env=env, capture_output=True, text=True, timeout=30)
            lines = out.stdout.strip().splitlines() or [""]
            found[key] = lines[0] if out.returncode == 0 else f"unknown (exit {out.returncode})"
        except (OSError, subprocess.TimeoutExpired) as exc:
            found[key] = f"unknown ({exc.__class__.__name__})"
    return found


# Implementations defined in files (--impl-file): name -> record. A file entry is
# another implementation's record with another CLI, e.g. an engine of one's own
# that speaks Docker's CLI, or a wrapper that deviates on purpose:
#   [my-engine]
#   like = "docker"                 # capabilities, messages, environment, ...
#   argv = ["./bin/my-engine"]      # relative to the file
#   env = {MY_ENGINE_ROOT = "/var/lib/my-engine"}   # added to like's environment
#   cleanup_argv = ["docker"]       # optional: the CLI the harness cleans up with
#   expectations = "./my.toml"      # optional: its known differences (default: like's)
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
        expected = entry.get("expectations", like.expectations)
        if expected.startswith(("./", "../")):
            expected = str((path.parent / expected).resolve())
        _FROM_FILES[name] = replace(like, name=name, argv=tuple(argv),
                                    env={**like.env, **entry.get("env", {})},
                                    cleanup_argv=tuple(cleanup) if cleanup else None,
                                    expectations=expected)
    return sorted(data)


def known_names() -> list[str]:
    return sorted({*REGISTRY, *_FROM_FILES})


def is_known(name: str) -> bool:
    """A known name, or a known name on a known other host (vagrant:strata)."""
    where, _, inner = name.partition(":")
    return name in known_names() or (where in HOSTS and inner in known_names())


def _run_on_host(impl: Implementation, args) -> subprocess.CompletedProcess:
    import shlex
    from conformance.fixtures import host_for
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(impl.env.items()))
    out = host_for(impl).run(f"env {envs} timeout 30 {shlex.join([*impl.argv, *args])}")
    return subprocess.CompletedProcess(args, out.rc, out.stdout, out.stderr)


def load(name: str) -> Implementation:
    if name in _FROM_FILES:
        return _FROM_FILES[name]
    where, _, inner = name.partition(":")
    if inner and where in HOSTS:
        module, factory = HOSTS[where].split(":")
        return getattr(importlib.import_module(module), factory)(load(inner))
    try:
        target = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown implementation {name!r}; known: {', '.join(known_names())}") from None
    module, factory = target.split(":")
    return getattr(importlib.import_module(module), factory)()


# --- docker -------------------------------------------------------------------

def probe_cli(impl: Implementation, args: tuple[str, ...], timeout: int, failing: str) -> str | None:
    """None when `<cli> args` succeeds within timeout; else why not, starting with `failing`."""
    try:
        out = subprocess.run([*impl.argv, *args], env={**os.environ, **impl.env},
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"{failing}: no answer within {timeout} s"
    if out.returncode != 0:
        return f"{failing}: {out.stderr.strip() or out.stdout.strip()}"
    return None


def _probe_docker_server(impl: Implementation) -> str | None:
    return probe_cli(impl, ("version", "--format", "{{.Server.Version}}"), 30, "no docker daemon answers")


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
        fingerprint={"engine_version": ("version", "--format", "{{.Server.Version}}"),
                     "cli_version": ("version", "--format", "{{.Client.Version}}"),
                     "storage_driver": ("info", "--format", "{{.Driver}}")},
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
        expectations="strata",
        capabilities=frozenset({"private-instance"}),
        private_instance=private_strata,
        fingerprint={"engine_version": ("version", "--format", "{{.Server.Version}}"),
                     "cli_version": ("version", "--format", "{{.Client.Version}}")},
    )


# --- strata-api (the real docker CLI against strata's Engine API socket) ---------------------
#
# `strata system service` serves the Engine API on a unix socket; the docker CLI drives it
# with DOCKER_HOST. The run's service is started by the run's set-up (for_run, under a
# FileLock: the controller and every worker call it) in /tmp/<run>-strata-api/ and stopped
# after the engine leak check (end_run); it shares the store of the `strata` record.

def _api_dir(impl: Implementation) -> Path | None:
    host = impl.env.get("DOCKER_HOST", "")
    return Path(host.removeprefix("unix://")).parent if host.startswith("unix://") else None


def strata_api_for_run(impl: Implementation, run: str) -> Implementation:
    from conformance import api_service
    sock = api_service.start((strata_cli(),), Path("/tmp") / f"{run}-{impl.name}")
    return replace(impl, env={**impl.env, "DOCKER_HOST": f"unix://{sock}"})


def strata_api_ready(impl: Implementation) -> None:
    """The run's service, started again if it went away when idle (same socket)."""
    from conformance import api_service
    directory = _api_dir(impl)
    if directory is not None:
        api_service.start((strata_cli(),), directory)


def strata_api_end_run(impl: Implementation) -> None:
    from conformance import api_service
    directory = _api_dir(impl)
    if directory is not None:
        api_service.stop(directory)


def _probe_api_socket(impl: Implementation) -> str | None:
    from conformance import api_service
    directory = _api_dir(impl)
    if directory is None:
        return "no API service for this run (targets.prepare was not called)"
    return api_service.socket_answers(directory / "api.sock")


@contextlib.contextmanager
def private_strata_api(impl: Implementation, label: str) -> Iterator[Implementation]:
    """A service of its own on a store root of its own."""
    from conformance import api_service
    root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir="/tmp"))
    sock = api_service.start((strata_cli(),), root / "api", {"STRATA_ROOT": str(root / "store")})
    private = replace(impl, env={**impl.env, "DOCKER_HOST": f"unix://{sock}"})
    try:
        yield private
    finally:
        subprocess.run(["sh", "-c", f"{impl.argv[0]} rm -f $({impl.argv[0]} ps -aq) 2>/dev/null"],
                       env={**os.environ, **private.env}, capture_output=True)
        api_service.stop(root / "api")
        _unmount_below(root)
        shutil.rmtree(root, ignore_errors=True)


def strata_api() -> Implementation:
    return replace(
        docker(),
        name="strata-api",
        argv=("docker",),
        env={"DOCKER_BUILDKIT": "0", "DOCKER_CLI_HINTS": "false"},
        expectations="strata-api",
        probe=_probe_api_socket,
        private_instance=private_strata_api,
        for_run=strata_api_for_run,
        end_run=strata_api_end_run,
        before_check=strata_api_ready,
    )


# --- podman (daemonless; configured through its environment only) ---------------------------
#
# Nothing in /etc/containers is changed: the record points CONTAINERS_CONF,
# CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF at files written for the run under
# /tmp/<run>-podman (../shared/notes/peers.md §2 says why each setting is needed here):
#   runtime = runc        crun 1.8 refuses this machine's hybrid cgroup layout
#   cgroupfs, file events  no systemd
#   default_ulimits       root lacks CAP_SYS_RESOURCE: podman's default nofile/nproc fail setrlimit
#   registries.conf       127.0.0.1 is insecure (plain HTTP), as dockerd treats 127.0.0.0/8 by
#                         default; podman's registries.conf matches "127.0.0.1" for every port
#                         (c/image prefix matching), which covers push, pull, login, search and
#                         the pull of `run`/`build`, also inside `{cli}` pipelines
#   BUILDAH_FORMAT=docker, image_default_format = "v2s2"
#                         build and commit write Docker's image format (podman's own default is
#                         OCI, which drops MAINTAINER/author and changes pushed manifests)
# The run's store (graphroot, runroot) is its own: the controller resets and removes it after
# the engine leak check, so anything left under /tmp/<run>-podman is a leak the check reports.

def _podman_files(root: Path, netns: str | None = None) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
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
        path = root / name
        if not path.exists() or path.read_text() != text:
            partial = path.with_name(f".{name}.{os.getpid()}")
            partial.write_text(text)
            partial.rename(path)  # atomic: a worker never reads half a file
        env[var] = str(path)
    return env


def podman_for_run(impl: Implementation, run: str) -> Implementation:
    root = Path("/tmp") / f"{run}-{impl.name}"
    configured = replace(impl, env={**impl.env, **_podman_files(root)})
    if configured.installed():
        _podman_keepalive(configured, root)
    return configured


def _podman_keepalive(impl: Implementation, root: Path) -> None:
    """One container on podman's default network for the whole run. netavark (1.4) removes
    the network's iptables chains when its last container goes and creates them again for
    the next: a `run` racing that teardown fails with "iptables: No chain/target/match by
    that name" (seen under -n 2). With this container there, the chains stay. It is part
    of the run's store, which end_run resets."""
    env = {**os.environ, **impl.env}
    argv = impl.for_cleanup().argv  # the whole CLI (a wrapper's argv is more than one word)
    with FileLock(str(root / "keepalive.lock")):
        found = subprocess.run([*argv, "container", "exists", "strata-keepalive"], env=env, capture_output=True)
        if found.returncode == 0:
            return
        rootfs = io.BytesIO()
        with tarfile.open(fileobj=rootfs, mode="w") as tar:
            tar.add(os.path.realpath(shutil.which("busybox") or "/bin/busybox"), arcname="bin/busybox")
        subprocess.run([*argv, "import", "-", "strata-keepalive:latest"], input=rootfs.getvalue(),
                       env=env, capture_output=True, timeout=120)
        subprocess.run([*argv, "run", "-d", "--name", "strata-keepalive", "strata-keepalive:latest",
                        "/bin/busybox", "sleep", "2147483"], env=env, capture_output=True, timeout=120)


def _podman_reset(impl: Implementation, root: Path) -> None:
    """Remove every container through podman (frees its locks), then the store itself."""
    env = {**os.environ, **impl.env}
    argv = (impl.for_cleanup().argv[0],)
    subprocess.run([*argv, "rm", "-a", "-f", "-t", "0"], env=env, capture_output=True, timeout=300)
    subprocess.run([*argv, "system", "reset", "--force"], env=env, capture_output=True, timeout=300)
    _end_lingering(root)
    _unmount_below(root)
    shutil.rmtree(root, ignore_errors=True)


def _end_lingering(root: Path) -> None:
    """End the processes of this store that outlive its reset: the conmon of an exec made
    through the API service waits --exit-delay (300 s) after its session ends. Only
    processes whose command line names this run's own store directory."""
    mine = str(root).encode() + b"/"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mine in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def podman_end_run(impl: Implementation) -> None:
    """Stop the run's podman API service, if podman-api started one, then reset the store
    (either record may end first: each step is done once)."""
    conf = impl.env.get("CONTAINERS_STORAGE_CONF")
    if conf and Path(conf).exists():
        from conformance import api_service
        api_service.stop(Path(conf).parent / "api")
        _podman_reset(replace(podman(), env={**podman().env, **impl.env}), Path(conf).parent)


def _probe_podman(impl: Implementation) -> str | None:
    if "CONTAINERS_STORAGE_CONF" not in impl.env:
        return "podman is not configured for this run (targets.prepare was not called)"
    return probe_cli(impl, ("info", "--format", "{{.Store.GraphDriverName}}"), 60,
                     "podman does not work here")


@contextlib.contextmanager
def private_podman(impl: Implementation, label: str) -> Iterator[Implementation]:
    """A store of its own (graphroot, runroot). Its containers get no network namespace
    with addresses: two stores would hand out the same bridge addresses (the whole-store
    checks that use it act on images and containers, not ports)."""
    root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir="/tmp"))
    private = replace(impl, env={**impl.env, **_podman_files(root, netns="none")})
    try:
        yield private
    finally:
        _podman_reset(private, root)


def podman() -> Implementation:
    return Implementation(
        name="podman",
        argv=("podman",),
        env={"BUILDAH_FORMAT": "docker", "BUILDAH_LAYERS": "true"},
        # root's podman keeps logins in $XDG_RUNTIME_DIR/containers/auth.json (else /run/containers/0)
        config_dir_env="XDG_RUNTIME_DIR",
        credentials_file="containers/auth.json",
        # podman build caches with --layers (its default, stated so BUILDAH_LAYERS elsewhere
        # cannot turn the cache off)
        build_flags=("--layers",),
        messages="podman",
        expectations="podman",
        capabilities=frozenset({"private-instance", "serial-import"}),
        local_registry="localhost",
        probe=_probe_podman,
        private_instance=private_podman,
        for_run=podman_for_run,
        end_run=podman_end_run,
        fingerprint={"engine_version": ("version", "--format", "{{.Client.Version}}"),
                     "cli_version": ("version", "--format", "{{.Client.Version}}"),
                     "storage_driver": ("info", "--format", "{{.Store.GraphDriverName}}"),
                     "runtime": ("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}")},
    )


# --- podman-api (the real docker CLI against podman's Docker-compatible API) -----------------
#
# `podman system service` on a socket of the run (/tmp/<run>-podman/api/api.sock), on the
# store of the run's podman record (one podman store per run: two would hand out the same
# bridge addresses), started by the run's set-up and stopped by podman_end_run.

def podman_api_for_run(impl: Implementation, run: str) -> Implementation:
    from conformance import api_service
    engine = podman_for_run(podman(), run)
    sock = api_service.start(("podman",), _podman_root(engine) / "api", engine.env,
                             serve=api_service.podman_serve)
    return replace(impl, env={**impl.env, **_podman_config(engine), "DOCKER_HOST": f"unix://{sock}"})


def _podman_root(impl: Implementation) -> Path:
    return Path(impl.env["CONTAINERS_STORAGE_CONF"]).parent


def _podman_config(impl: Implementation) -> dict[str, str]:
    return {k: v for k, v in impl.env.items() if k.startswith("CONTAINERS_")}


def podman_api_ready(impl: Implementation) -> None:
    """The run's service, started again if it went away when idle (same socket)."""
    from conformance import api_service
    if "CONTAINERS_STORAGE_CONF" in impl.env and shutil.which("podman"):
        api_service.start(("podman",), _podman_root(impl) / "api", _podman_config(impl),
                          serve=api_service.podman_serve)


def _probe_podman_api(impl: Implementation) -> str | None:
    from conformance import api_service
    if "CONTAINERS_STORAGE_CONF" not in impl.env:
        return "no podman API service for this run (targets.prepare was not called)"
    if shutil.which("podman") is None:
        return "'podman' is not installed"
    return api_service.socket_answers(_podman_root(impl) / "api" / "api.sock")


def podman_api() -> Implementation:
    return replace(
        docker(),
        name="podman-api",
        argv=("docker",),
        env={"DOCKER_BUILDKIT": "0", "DOCKER_CLI_HINTS": "false"},
        messages="podman-api",
        expectations="podman-api",
        # podman's storage races as under its own CLI (conformance/locks.py); no private
        # instance: a second store would hand out the run's bridge addresses again
        capabilities=frozenset({"serial-import"}),
        store="podman",
        probe=_probe_podman_api,
        private_instance=None,
        for_run=podman_api_for_run,
        end_run=podman_end_run,
        before_check=podman_api_ready,
        fingerprint={"engine_version": ("version", "--format", "{{.Server.Version}}"),
                     "cli_version": ("version", "--format", "{{.Client.Version}}"),
                     "storage_driver": ("info", "--format", "{{.Driver}}")},
    )
