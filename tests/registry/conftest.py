"""Fixtures: the strata registry (and Debian's docker-registry) in subprocesses on
127.0.0.1:0, the port read from their `listening on` line; docker helpers that
only ever touch images these tests create."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import bcrypt
import pytest
import requests

LISTENING = re.compile(rb"listening on (\S+):(\d+)")
USER, PASSWORD = "regtest", "s3cret-pass"


@dataclass
class Server:
    proc: subprocess.Popen
    address: str            # 127.0.0.1:PORT
    root: str
    log: str
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def get(self, path, **kw):
        return requests.get(self.url + path, timeout=30, **kw)

    def call(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return requests.request(method, self.url + path if path.startswith("/") else path, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _wait_listening(proc: subprocess.Popen, stream, log_path: str, timeout: float = 20) -> str:
    """Read lines from `stream` until the `listening on HOST:PORT` line."""
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
            continue
        seen += line
        m = LISTENING.search(line)
        if m:
            return f"{m[1].decode()}:{m[2].decode()}"
    proc.kill()
    with open(log_path, "rb") as f:
        seen += f.read()
    raise RuntimeError(f"server did not report listening: {seen[-2000:]!r}")


def start_strata(root: str, log_dir: str, htpasswd: str | None = None, realm: str | None = None,
                 addr: str = "127.0.0.1:0", auth: str | None = None, extra_args=()) -> Server:
    argv = [sys.executable, "-m", "reference_impl.registry", "serve", "--root", root,
            "--addr", addr, "--log-level", "info", *extra_args]
    if htpasswd:
        argv += ["--htpasswd", htpasswd]
    if auth:
        argv += ["--auth", auth]
    if realm:
        argv += ["--realm", realm]
    log = os.path.join(log_dir, f"strata-registry-{uuid.uuid4().hex[:8]}.log")
    with open(log, "wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    address = _wait_listening(proc, proc.stdout, log)
    return Server(proc, address, root, log)


def start_docker_registry(tmp: str, htpasswd: str | None = None) -> Server:
    os.makedirs(tmp, exist_ok=True)
    root = os.path.join(tmp, "data")
    config = os.path.join(tmp, "config.yml")
    lines = ["version: 0.1", "log: {level: info}", "storage:",
             f"  filesystem: {{rootdirectory: {root}}}", "  delete: {enabled: true}",
             "http: {addr: 127.0.0.1:0}"]
    if htpasswd:
        lines += ["auth:", f"  htpasswd: {{realm: basic-realm, path: {htpasswd}}}"]
    with open(config, "w") as f:
        f.write("\n".join(lines) + "\n")
    log = os.path.join(tmp, "docker-registry.log")
    logf = open(log, "wb+")
    proc = subprocess.Popen(["docker-registry", "serve", config], stdout=logf, stderr=subprocess.STDOUT)
    reader = open(log, "rb")
    try:
        address = _wait_listening(proc, reader, log)
    finally:
        reader.close()
        logf.close()
    return Server(proc, address, root, log)


def write_htpasswd(path: str, user: str = USER, password: str = PASSWORD) -> str:
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    with open(path, "w") as f:
        f.write(f"{user}:{hashed.replace('$2b$', '$2y$', 1)}\n")
    return path


@pytest.fixture
def registry(tmp_path):
    server = start_strata(str(tmp_path / "root"), str(tmp_path))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_registry(tmp_path_factory):
    """One server for a whole module (tests in it use names of their own)."""
    tmp = tmp_path_factory.mktemp("shared-registry")
    server = start_strata(str(tmp / "root"), str(tmp))
    yield server
    server.stop()


@pytest.fixture
def auth_registry(tmp_path):
    htpasswd = write_htpasswd(str(tmp_path / "htpasswd"))
    server = start_strata(str(tmp_path / "root"), str(tmp_path), htpasswd=htpasswd,
                          realm="strata-test-realm")
    yield server
    server.stop()


@pytest.fixture
def token_registry(tmp_path):
    """strata's registry with token auth: bearer tokens from its token service at /token."""
    htpasswd = write_htpasswd(str(tmp_path / "htpasswd"))
    server = start_strata(str(tmp_path / "root"), str(tmp_path), htpasswd=htpasswd,
                          realm="strata-test-realm", auth="token")
    yield server
    server.stop()


@pytest.fixture
def docker_registry(tmp_path):
    if not shutil.which("docker-registry"):
        pytest.fail("Debian's docker-registry is not installed (scripts/setup installs it)")
    server = start_docker_registry(str(tmp_path / "docker-registry"))
    yield server
    server.stop()


@pytest.fixture
def unique():
    """A name unique to this test: strata-regtest-<random>."""
    return f"strata-regtest-{uuid.uuid4().hex[:12]}"
