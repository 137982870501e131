"""Real docker (CLI 28, dockerd 20.10) against the strata registry: push, pull,
search, login/logout. Each test has its own DOCKER_CONFIG and removes every image
it created (only those: the daemon is shared with other people's tests)."""
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from conftest import PASSWORD, USER


def _docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                          capture_output=True, timeout=30).returncode == 0


@pytest.fixture(autouse=True)
def _require_docker():
    # scripts/setup installs and starts dockerd: a missing one is a failure, not a skip
    assert _docker_works(), "no usable docker daemon"


class Docker:
    def __init__(self, config_dir: str):
        self.env = {**os.environ, "DOCKER_CONFIG": config_dir}
        self.refs: list[str] = []

    def __call__(self, *args, input: str | None = None, check: bool = True):
        __tracebackhide__ = True
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, input=input,
                              env=self.env, timeout=120)
        if check:
            assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc

    def import_image(self, ref: str, tmp_path, content: bytes) -> str:
        """`docker import` of a tiny tar made here; returns the image id."""
        tar_path = tmp_path / "rootfs.tar"
        with tarfile.open(tar_path, "w") as tar:
            info = tarfile.TarInfo("hello.txt")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        self.refs.append(ref)
        return self("import", str(tar_path), ref).stdout.strip()

    def image_id(self, ref: str) -> str:
        return self("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()

    def cleanup(self):
        for ref in self.refs:
            self("rmi", ref, check=False)


@pytest.fixture
def docker(tmp_path):
    config = tmp_path / "docker-config"
    config.mkdir()
    d = Docker(str(config))
    yield d
    d.cleanup()


def test_push_pull_search(registry, docker, unique, tmp_path):
    ref = f"{registry.address}/{unique}/img:1"
    image_id = docker.import_image(ref, tmp_path, unique.encode() * 100)
    out = docker("push", ref).stdout
    assert f"The push refers to repository [{registry.address}/{unique}/img]" in out
    assert "1: digest: sha256:" in out
    digest = out.split("1: digest: ")[1].split()[0]
    manifest = registry.get(f"/v2/{unique}/img/manifests/1",
                            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    assert manifest.headers["Docker-Content-Digest"] == digest
    docker("rmi", ref)
    out = docker("pull", ref).stdout
    assert f"1: Pulling from {unique}/img" in out
    assert f"Digest: {digest}" in out
    assert f"Status: Downloaded newer image for {ref}" in out
    assert docker.image_id(ref) == image_id
    # by digest, too
    by_digest = f"{registry.address}/{unique}/img@{digest}"
    docker.refs.append(by_digest)
    docker("pull", by_digest)
    # docker search uses /v1/search
    out = docker("search", f"{registry.address}/{unique}").stdout.splitlines()
    assert out[0].split()[:4] == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]
    assert out[1].split()[0] == f"{unique}/img"


def test_pull_missing_tag(registry, docker, unique):
    proc = docker("pull", f"{registry.address}/{unique}/nonexist:1", check=False)
    assert proc.returncode == 1
    assert (f"manifest for {registry.address}/{unique}/nonexist:1 not found: "
            "manifest unknown: manifest unknown") in proc.stderr


def test_second_push_mounts_and_skips_layers(registry, docker, unique, tmp_path):
    first = f"{registry.address}/{unique}/a:1"
    second = f"{registry.address}/{unique}/b:1"
    docker.import_image(first, tmp_path, b"shared layer " + unique.encode())
    docker("push", first)
    docker("tag", first, second)
    docker.refs.append(second)
    out = docker("push", second).stdout
    assert "Mounted from" in out or "Layer already exists" in out, out
    assert registry.get(f"/v2/{unique}/b/tags/list").json()["tags"] == ["1"]


def test_login_push_pull_logout(auth_registry, docker, unique, tmp_path):
    host = auth_registry.address
    ref = f"{host}/{unique}/private:1"
    docker.import_image(ref, tmp_path, b"private " + unique.encode())
    proc = docker("push", ref, check=False)
    assert proc.returncode == 1 and "no basic auth credentials" in proc.stderr
    proc = docker("login", "-u", USER, "--password-stdin", host, input="wrong\n", check=False)
    assert proc.returncode == 1
    assert f"login attempt to http://{host}/v2/ failed with status: 401 Unauthorized" in proc.stderr
    proc = docker("login", "-u", USER, "--password-stdin", host, input=PASSWORD + "\n")
    assert "Login Succeeded" in proc.stdout
    config = json.loads(open(os.path.join(docker.env["DOCKER_CONFIG"], "config.json")).read())
    assert host in config["auths"]
    docker("push", ref)
    docker("rmi", ref)
    docker("pull", ref)
    out = docker("search", f"{host}/{unique}").stdout
    assert f"{unique}/private" in out
    docker("logout", host)
    docker("rmi", ref)
    proc = docker("pull", ref, check=False)
    assert proc.returncode == 1 and "no basic auth credentials" in proc.stderr
