"""Real docker (CLI 28, dockerd 20.10) and skopeo through token auth: the daemon
answers the Bearer challenge at the token service, logs in, pushes, pulls, and
is refused in Docker Hub's words without a login."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import PASSWORD, USER
from reference_impl.registry.client import RegistryClient
from registry_helpers import push_image
from test_registry_interop_docker import Docker, _docker_works


@pytest.fixture
def docker(tmp_path):
    assert _docker_works(), "no usable docker daemon"
    config = tmp_path / "docker-config"
    config.mkdir()
    d = Docker(str(config))
    yield d
    d.cleanup()


def token_requests(server) -> list[str]:
    with open(server.log, encoding="utf-8") as f:
        return [line for line in f if '"GET /token?' in line]


def test_docker_login_push_pull_logout(token_registry, docker, unique, tmp_path):
    host = token_registry.address
    ref = f"{host}/{unique}/private:1"
    image = docker.import_image(ref, tmp_path, b"private " + unique.encode())
    proc = docker("push", ref, check=False)
    assert proc.returncode == 1
    assert "denied: requested access to the resource is denied" in proc.stderr, proc.stderr
    proc = docker("login", "-u", USER, "--password-stdin", host, input="wrong\n", check=False)
    assert proc.returncode == 1
    assert (f'Error response from daemon: Get "http://{host}/v2/": '
            "unauthorized: incorrect username or password") in proc.stderr, proc.stderr
    proc = docker("login", "-u", USER, "--password-stdin", host, input=PASSWORD + "\n")
    assert "Login Succeeded" in proc.stdout
    config = json.loads(open(os.path.join(docker.env["DOCKER_CONFIG"], "config.json")).read())
    assert host in config["auths"]
    out = docker("push", ref).stdout
    digest = out.split("1: digest: ")[1].split()[0]
    client = RegistryClient(host, auth=(USER, PASSWORD))
    assert client.manifest_digest(f"{unique}/private", "1") == digest
    docker("rmi", ref)
    out = docker("pull", ref).stdout
    assert f"Status: Downloaded newer image for {ref}" in out
    assert docker.image_id(ref) == image
    # the daemon asked the token service for exactly the repository's scopes
    asked = "".join(token_requests(token_registry))
    assert f"scope=repository%3A{unique}%2Fprivate%3Apush%2Cpull" in asked
    assert f"scope=repository%3A{unique}%2Fprivate%3Apull" in asked
    docker("logout", host)
    docker("rmi", ref)
    proc = docker("pull", ref, check=False)
    assert proc.returncode == 1
    assert (f"pull access denied for {host}/{unique}/private, repository does not exist or may "
            "require 'docker login': denied: requested access to the resource is denied") in proc.stderr


def test_skopeo_with_and_without_credentials(token_registry, tmp_path):
    assert shutil.which("skopeo"), "skopeo is not installed"
    client = RegistryClient(token_registry.address, auth=(USER, PASSWORD))
    digest, _, _ = push_image(client, "sko/src", "v1", {"etc/motd": b"hello token skopeo\n"})
    src = f"docker://{token_registry.address}/sko/src:v1"
    creds = f"{USER}:{PASSWORD}"

    def skopeo(*args):
        return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json")})

    refused = skopeo("inspect", "--tls-verify=false", src)
    assert refused.returncode != 0 and "authentication required" in refused.stderr, refused.stderr
    info = skopeo("inspect", "--tls-verify=false", "--creds", creds, src)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["Digest"] == digest
    copied = skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--src-creds", creds,
                    "--dest-creds", creds, src, f"docker://{token_registry.address}/sko/copy:v1")
    assert copied.returncode == 0, copied.stderr
    assert client.manifest_digest("sko/copy", "v1") == digest
    tags = skopeo("list-tags", "--tls-verify=false", "--creds", creds,
                  f"docker://{token_registry.address}/sko/copy")
    assert json.loads(tags.stdout)["Tags"] == ["v1"]
