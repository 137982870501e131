"""What checks are given: the implementation's CLI, a base image, registries, ports.

Run-once work (the busybox rootfs tar) happens under a FileLock beside the
session's temporary directory, so all xdist workers share it. Everything a check
creates is labelled with the run and the check and removed in its finalizer.
"""
from __future__ import annotations

import contextlib
import io
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from filelock import FileLock

from conformance import messages as message_data
from conformance import remote
from conformance.cli import Cli, HarnessError, Transcript
from conformance.locks import NoLock, StorageLock, storage_lock_at
from conformance.naming import LABEL_CHECK, LABEL_RUN, Names, run_tag

BUSYBOX = Path("/bin/busybox")
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
TRANSCRIPT = pytest.StashKey[Transcript]()
PREFIX = pytest.StashKey[str]()  # the names prefix of a check: what it made carries it


def run_uid(config) -> str:
    if hasattr(config, "workerinput"):
        return config.workerinput["testrunuid"]
    return config.option.testrunuid


# --- the base image ---------------------------------------------------------------

def write_busybox_rootfs(path: Path) -> None:
    """A deterministic rootfs tar: busybox-static, an applet link for each applet,
    /etc/passwd and /etc/group, and the usual empty directories."""
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True,
                             check=True).stdout.split()

    def info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.size, ti.linkname, ti.mtime = kind, mode, size, link, 0
        return ti

    tmp = path.with_suffix(".partial")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("bin", "etc", "root", "tmp", "var", "www"):
            tar.addfile(info(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755))
        with open(BUSYBOX, "rb") as binary:
            tar.addfile(info("bin/busybox", tarfile.REGTYPE, 0o755, BUSYBOX.stat().st_size), binary)
        for applet in sorted(set(applets) - {"busybox"}):
            tar.addfile(info(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox"))
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            data = text.encode()
            tar.addfile(info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    tmp.rename(path)


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory) -> Path:
    shared = tmp_path_factory.getbasetemp().parent
    path = shared / "busybox-rootfs.tar"
    with FileLock(str(path) + ".lock"):
        if not path.exists():
            write_busybox_rootfs(path)
    return path


@dataclass
class Image:
    ref: str
    id: str

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


def import_base(cli: Cli, rootfs: Path, names: Names) -> Image:
    ref = f"{names('base')}:latest"
    cli.ok("import",
           "--change", f"LABEL {LABEL_RUN}={names.run}",
           "--change", f"LABEL {LABEL_CHECK}={names.prefix}",
           "--change", 'CMD ["/bin/sh"]',
           "-", ref, stdin_file=rootfs)
    return Image(ref, cli.image_id(ref))


# --- per check ------------------------------------------------------------------------

@pytest.fixture
def transcript(request) -> Transcript:
    record = Transcript()
    request.node.stash[TRANSCRIPT] = record
    return record


@pytest.fixture(scope="session")
def run_name(request) -> str:
    return run_tag(run_uid(request.config))


@pytest.fixture
def names(request, run_name, worker_id) -> Names:
    made = Names(run_name, worker_id)
    request.node.stash[PREFIX] = made.prefix
    return made


def host_for(impl):
    """The testinfra host the implementation's CLI runs on (one per process and host)."""
    return impl.host.testinfra()


def storage_lock(impl, busybox_rootfs: Path) -> StorageLock | NoLock:
    """Shared by every command of a check, held alone around imports of the shared base
    layer and removals of images built on it, where the engine needs that (podman 4.3:
    conformance/locks.py)."""
    if not impl.has("serial-import"):
        return NoLock()
    return storage_lock_at(Path(str(busybox_rootfs) + f".{impl.store or impl.name}.storage.lock"))


# Pauses between cleanup attempts: an engine busy with other checks' work may refuse a
# removal or a listing for a moment (podman's storage under parallel load).
CLEANUP_PAUSES = (0, 0, 0.2, 0.5, 1, 2, 3, 5)


def _listed(cli: Cli, *args) -> tuple[list[str] | None, str]:
    """A listing's lines, or None with the engine's words when it could not list: a failed
    listing is not an empty one (podman 4.3 fails `images` when a concurrent removal takes a
    layer from under it; reading that as "nothing left" is how a base image once leaked)."""
    result = cli.run(*args)
    if result.rc != 0:
        return None, result.describe()
    return list(dict.fromkeys(result.lines)), ""


def remove_check_objects(cli: Cli, check: str, lock, known_images: list[str] = ()) -> None:
    """Remove every container, network and image labelled with this check (children first);
    images are removed holding `lock` (storage_lock) exclusive.

    Done only when the label listings succeed empty AND a full listing of the engine's
    images shows none of `known_images` (the ids the check's fixtures made, its base).
    Until then retried with growing pauses; what still stands after that is a harness
    error naming the objects and the engine's words, not a silent leak."""
    quiet = Cli(cli.impl.for_cleanup(), cli.host, Transcript(), env=cli.env, storage=cli.storage)
    label = f"label={LABEL_CHECK}={check}"
    words: list[str] = []
    left: list[str] = []
    for pause in CLEANUP_PAUSES:
        time.sleep(pause)
        containers, refused = _listed(quiet, "ps", "-a", "-q", "--no-trunc", "--filter", label)
        words.append(refused)
        if containers:
            words.append(_refusal(quiet.run("rm", "-f", *containers)))
        networks, refused = _listed(quiet, "network", "ls", "-q", "--no-trunc", "--filter", label)
        words.append(refused)
        if networks:  # after the containers: a network in use cannot be removed
            words.append(_refusal(quiet.run("network", "rm", *networks)))
        images, refused = _listed(quiet, "images", "-a", "-q", "--no-trunc", "--filter", label)
        words.append(refused)
        everything, refused = _listed(quiet, "images", "-a", "-q", "--no-trunc")
        words.append(refused)
        standing = [i for i in known_images if everything is None or _listed_id(i, everything)]
        left = [*(containers or []), *(networks or []), *dict.fromkeys([*(images or []), *standing])]
        if containers == [] and networks == [] and images == [] and everything is not None and not left:
            return
        if images or standing:
            with lock.exclusive():
                words.append(_refusal(quiet.run("rmi", "-f", *dict.fromkeys([*(images or []), *standing]))))
    said = "\n".join(w for w in words[-12:] if w) or "(every command exited 0)"
    raise HarnessError(f"cleanup of check {check} left {len(left) or 'unknown'} object(s) behind: "
                       f"{' '.join(x.removeprefix('sha256:')[:12] for x in left)}\n{said}")


def _refusal(result) -> str:
    return result.describe() if result.rc != 0 else ""


def _listed_id(image_id: str, listing: list[str]) -> bool:
    return image_id.removeprefix("sha256:") in {line.removeprefix("sha256:") for line in listing}


@pytest.fixture
def made_images() -> list[str]:
    """Ids of the images this check's fixtures made (its base): the cleanup verifies each
    is gone from the engine's full image list, not only from the label listing."""
    return []


@pytest.fixture
def cli(impl, transcript, names, tmp_path, tmp_path_factory, busybox_rootfs, made_images) -> Cli:
    """The implementation's CLI, with a client config directory of this check's own."""
    remote.share(tmp_path_factory.getbasetemp().parent)  # files a remote host needs too
    config_dir = tmp_path / "client-config"
    config_dir.mkdir()
    impl.ready()
    lock = storage_lock(impl, busybox_rootfs)
    engine = Cli(impl, host_for(impl), transcript, env={impl.config_dir_env: str(config_dir)}, storage=lock)
    yield engine
    remove_check_objects(engine, names.prefix, lock, made_images)


@pytest.fixture
def base(cli, busybox_rootfs, names, made_images) -> Image:
    """A busybox base image of this check's own: no other check builds on it, so no
    other check's build cache or containers can touch it."""
    # an engine whose storage races on the shared layer imports one base at a time
    # (storage_lock); checks still run in parallel
    with storage_lock(cli.impl, busybox_rootfs).exclusive():
        image = import_base(cli, busybox_rootfs, names)
    made_images.append(image.id)
    return image


@pytest.fixture
def messages(impl) -> dict[str, str]:
    return message_data.load(impl.messages)


@pytest.fixture
def private(impl, transcript, names, tmp_path, tmp_path_factory, busybox_rootfs):
    """A Cli on an instance with a store of its own, for checks that act on a whole store."""
    remote.share(tmp_path_factory.getbasetemp().parent)
    if not impl.has("private-instance"):
        pytest.skip(f"{impl.name} cannot start a private instance")
    with impl.private_instance(names("private")) as private_impl:
        config_dir = tmp_path / "private-client-config"
        config_dir.mkdir()
        engine = Cli(private_impl, host_for(private_impl), transcript,
                     env={private_impl.config_dir_env: str(config_dir)})
        engine.base = import_base(engine, busybox_rootfs, names)
        yield engine


# --- files ------------------------------------------------------------------------------

def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write a build context: {relative path: content}."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


@pytest.fixture
def context(tmp_path):
    """Make a build context directory: ``context({"Dockerfile": ...}, name="ctx")``."""
    counter = iter(range(1, 1000))

    def make(files: dict[str, str | bytes], name: str | None = None) -> Path:
        return write_tree(tmp_path / (name or f"ctx{next(counter)}"), files)

    return make


# --- HTTP through published ports --------------------------------------------------------

def http_get(host: str, port: int | str, path: str = "/", attempts: int = 50,
             delay: float = 0.1, via: Cli | None = None) -> requests.Response:
    """GET on a loopback address, retried while the server starts (bounded).

    The address is the loopback of the implementation's host (`via`, the check's Cli):
    for a remote host the request is made from there, through the SSH connection
    (conformance/remote.py)."""
    if not host.startswith("127.") and host != "localhost":
        raise HarnessError(f"refusing to send traffic outside loopback: {host}")
    bridge = remote.bridge(via.host) if via is not None else None
    last: Exception | None = None
    for _ in range(attempts):
        try:
            if bridge is not None:
                return bridge.http_get(host, int(port), path, timeout=5)
            return requests.get(f"http://{host}:{port}{path}", timeout=5)
        except requests.ConnectionError as exc:
            last = exc
            time.sleep(delay)
    raise AssertionError(f"no HTTP answer from {host}:{port}{path}: {last}")


# --- host ports for the -p H:C forms -------------------------------------------------------

# Below the kernel's and dockerd's ephemeral range (32768-60999): nothing else hands
# these out, and a lock-guarded counter keeps workers from ever choosing the same one.
FIXED_PORT_RANGE = (20000, 30000)


@pytest.fixture(scope="session")
def host_port_allocator(tmp_path_factory, run_name):
    import socket
    shared = tmp_path_factory.getbasetemp().parent
    counter = shared / "host-ports.next"
    span = FIXED_PORT_RANGE[1] - FIXED_PORT_RANGE[0]
    start = FIXED_PORT_RANGE[0] + int(run_name[-8:], 16) % span

    def allocate() -> int:
        with FileLock(str(counter) + ".lock"):
            n = int(counter.read_text()) if counter.exists() else 0
            for i in range(n, n + 200):
                port = FIXED_PORT_RANGE[0] + (start - FIXED_PORT_RANGE[0] + i) % span
                with socket.socket() as s:
                    try:
                        s.bind(("0.0.0.0", port))
                    except OSError:
                        continue
                counter.write_text(str(i + 1))
                return port
        raise HarnessError("no free host port in the fixed range")

    return allocate


# --- registries -----------------------------------------------------------------------------

REGISTRY_USER, REGISTRY_PASSWORD = "strata", "s3cret-pass"


class TokenAuth(requests.auth.AuthBase):
    """requests auth for a registry with token auth: a 401 Bearer challenge is answered
    by fetching a token from its realm (with the user and password) for its scope."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password

    def __call__(self, request):
        request.register_hook("response", self._answer_challenge)
        return request

    def _answer_challenge(self, response, **kwargs):
        scheme, _, rest = response.headers.get("WWW-Authenticate", "").partition(" ")
        if response.status_code != 401 or scheme.lower() != "bearer" or \
                "Authorization" in response.request.headers:
            return response
        params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        assert params.get("realm", "").startswith("http://127."), params   # loopback only
        query = {k: params[k] for k in ("service", "scope") if k in params}
        token = requests.get(params["realm"], params=query, auth=(self.user, self.password),
                             timeout=10)
        token.raise_for_status()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {token.json()['token']}"
        response.content   # release the connection
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        return again


@dataclass
class Registry:
    kind: str     # which server: "docker-registry", "strata-registry", "strata-token-registry"
    address: str  # host:port
    root: Path
    process: subprocess.Popen
    auth: tuple[str, str] | None = None
    v1_search: bool = False  # answers the v1 search endpoint `docker search` calls
    token_auth: bool = False  # answers 401 with Bearer challenges: clients fetch tokens

    def url(self, path: str) -> str:
        return f"http://{self.address}{path}"

    @property
    def http_auth(self):
        """What `requests` needs to reach the API with the registry's credentials."""
        if self.auth and self.token_auth:
            return TokenAuth(*self.auth)
        return self.auth

    def message_key(self, key: str) -> str:
        """A client's words for an auth refusal depend on the challenge: with token auth
        they are those of Docker Hub (`registry.token_<key>`), else `registry.<key>`."""
        return f"registry.token_{key}" if self.token_auth else f"registry.{key}"

    def stop(self) -> None:
        remote.withdraw(int(self.address.rsplit(":", 1)[1]))
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _htpasswd(root: Path) -> Path:
    text = subprocess.run(["htpasswd", "-Bbn", REGISTRY_USER, REGISTRY_PASSWORD],
                          capture_output=True, text=True, check=True).stdout
    path = root / "htpasswd"
    path.write_text(text)
    return path


def _wait_for_address(proc: subprocess.Popen, log_path: Path, marker: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            if marker in line:
                return line.split(marker)[1].split('"')[0].strip()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise HarnessError(f"the registry did not start: {log_path.read_text()[-2000:]}")


def start_docker_registry(label: str, auth: bool) -> Registry:
    """Debian's docker-registry (distribution 2.8) on 127.0.0.1 and a port the kernel picks."""
    root = Path(tempfile.mkdtemp(prefix=f"{label}-registry-", dir="/tmp"))
    auth_block = f"auth:\n  htpasswd: {{realm: basic-realm, path: {_htpasswd(root)}}}\n" if auth else ""
    (root / "config.yml").write_text(
        "version: 0.1\n"
        "log: {level: info}\n"
        f"storage:\n  filesystem: {{rootdirectory: {root}/data}}\n  delete: {{enabled: true}}\n"
        "http: {addr: '127.0.0.1:0', secret: strata-suite}\n" + auth_block)
    log_path = root / "registry.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    address = _wait_for_address(proc, log_path, 'msg="listening on ')
    return Registry("docker-registry", address, root, proc,
                    (REGISTRY_USER, REGISTRY_PASSWORD) if auth else None, v1_search=False)


def start_strata_registry(label: str, auth: bool, token: bool = False) -> Registry:
    """strata's registry server, run as a program (`strata registry serve`), like any peer."""
    from conformance.impls.strata import strata_cli
    root = Path(tempfile.mkdtemp(prefix=f"{label}-registry-", dir="/tmp"))
    args = [strata_cli(), "registry", "serve", "--root", str(root / "data"), "--addr", "127.0.0.1:0"]
    if auth:
        args += ["--htpasswd", str(_htpasswd(root)), "--realm", "basic-realm",
                 "--auth", "token" if token else "basic"]
    log_path = root / "registry.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    address = _wait_for_address(proc, log_path, "listening on ")
    return Registry("strata-token-registry" if token else "strata-registry", address, root, proc,
                    (REGISTRY_USER, REGISTRY_PASSWORD) if auth else None, v1_search=True,
                    token_auth=token and auth)


def start_strata_token_registry(label: str, auth: bool) -> Registry:
    """strata's registry with token auth (`serve --auth token`): Bearer challenges and a
    token service at /token, as Docker Hub and Harbor have them."""
    return start_strata_registry(label, auth, token=True)


REGISTRY_KINDS = {"docker-registry": start_docker_registry, "strata-registry": start_strata_registry,
                  "strata-token-registry": start_strata_token_registry}
# the plain registry checks run on the first two; the login and auth'd checks on all three
PLAIN_REGISTRY_KINDS = ("docker-registry", "strata-registry")


def _registry(request, run_name: str, worker_id: str, auth: bool):
    kind = request.param
    if kind == "docker-registry" and (shutil.which("docker-registry") is None or shutil.which("htpasswd") is None):
        raise HarnessError("docker-registry and htpasswd are needed (apt-get install docker-registry apache2-utils)")
    reg = REGISTRY_KINDS[kind](f"{run_name}-{worker_id}-{kind}{'-auth' if auth else ''}", auth)
    remote.expose(int(reg.address.rsplit(":", 1)[1]))  # at the same address on remote hosts
    return reg


@pytest.fixture(scope="session", params=PLAIN_REGISTRY_KINDS)
def registry(request, run_name, worker_id):
    """A plain-HTTP registry on 127.0.0.1, one per worker and kind: every registry check
    runs against Debian's docker-registry and against strata's registry."""
    reg = _registry(request, run_name, worker_id, auth=False)
    yield reg
    reg.stop()


@pytest.fixture(scope="session", params=sorted(REGISTRY_KINDS))
def auth_registry(request, run_name, worker_id):
    """A registry that wants credentials, one per worker and kind: htpasswd (bcrypt) basic
    auth (docker-registry, strata-registry) or token auth (strata-token-registry)."""
    reg = _registry(request, run_name, worker_id, auth=True)
    yield reg
    reg.stop()
