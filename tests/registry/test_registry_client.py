"""RegistryClient against the strata registry and against Debian's docker-registry."""
import json
import os

import pytest

from conftest import PASSWORD, USER, start_docker_registry, write_htpasswd
from reference_impl.registry.client import (AuthenticationError, NotFoundError, RegistryAPIError,
                                            RegistryClient, parse_challenge)
from registry_helpers import DOCKER_MANIFEST, OCI_MANIFEST, push_image, sha


@pytest.fixture(params=["strata", "docker-registry"])
def any_registry(request):
    return request.getfixturevalue("registry" if request.param == "strata" else "docker_registry")


@pytest.mark.parametrize("chunk_size", [None, 1000])
def test_push_and_pull_roundtrip(any_registry, tmp_path, chunk_size):
    client = RegistryClient(any_registry.address)
    assert client.ping()
    files = {"hello.txt": b"hello " * 5000, "bin/tool": os.urandom(30000)}
    digest, config, layer = push_image(client, "client/img", "v1", files, chunk_size)
    data, media_type, got_digest = client.get_manifest("client/img", "v1")
    assert media_type == DOCKER_MANIFEST and got_digest == digest == sha(data)
    manifest = json.loads(data)
    assert client.get_blob("client/img", manifest["config"]["digest"]) == config
    target = tmp_path / "layer.tgz"
    assert client.download_blob("client/img", manifest["layers"][0]["digest"], str(target)) == len(layer)
    assert target.read_bytes() == layer
    assert client.get_blob("client/img", sha(layer), byte_range=(0, 9)) == layer[:10]
    assert client.manifest_digest("client/img", "v1") == digest
    assert client.get_manifest("client/img", digest)[0] == data
    assert client.tags("client/img") == ["v1"]
    assert "client/img" in client.catalog()


def test_mount_tags_pagination_and_deletes(any_registry):
    client = RegistryClient(any_registry.address)
    digest, config, layer = push_image(client, "client/src", "v1", {"f": b"x"})
    assert client.mount_blob("client/dst", sha(layer), "client/src") is True
    assert client.mount_blob("client/dst", sha(b"nope"), "client/src") is False
    assert client.blob_exists("client/dst", sha(layer)) == len(layer)
    client.upload_blob("client/src", config, single_post=True)     # docker-registry: falls back to PUT
    for tag in ("v2", "v3", "v4"):
        client.put_manifest("client/src", tag, client.get_manifest("client/src", "v1")[0], DOCKER_MANIFEST)
    # follows Link; docker-registry 2.8 ignores n on tags lists (and does not sort them)
    assert sorted(client.tags("client/src", n=2)) == ["v1", "v2", "v3", "v4"]
    assert set(client.tags("client/src", n=2, follow=False)) <= {"v1", "v2", "v3", "v4"}
    assert client.catalog(n=1) == ["client/dst", "client/src"]
    client.delete_blob("client/dst", sha(layer))
    assert client.blob_exists("client/dst", sha(layer)) is None
    client.delete_manifest("client/src", digest)
    with pytest.raises(NotFoundError) as err:
        client.get_manifest("client/src", "v1")
    assert err.value.code == "MANIFEST_UNKNOWN"


def test_errors_carry_spec_codes(any_registry):
    client = RegistryClient(any_registry.address)
    with pytest.raises(NotFoundError) as err:
        client.get_manifest("client/none", "latest")
    assert err.value.code == "MANIFEST_UNKNOWN" and err.value.message == "manifest unknown"
    with pytest.raises(RegistryAPIError) as err:
        client.upload_blob("client/none", b"data", digest="sha256:" + "0" * 64)
    assert err.value.code == "DIGEST_INVALID" and err.value.status == 400
    with pytest.raises(RegistryAPIError) as err:
        client.put_manifest("client/none", "v1", b"{bad json", DOCKER_MANIFEST)
    assert err.value.code == "MANIFEST_INVALID"


def test_oci_manifest(any_registry):
    client = RegistryClient(any_registry.address)
    digest, _, _ = push_image(client, "client/oci", "v1", {"a": b"oci"}, media_type=OCI_MANIFEST)
    data, media_type, got = client.get_manifest("client/oci", "v1")
    assert media_type == OCI_MANIFEST and got == digest


def test_search_only_on_strata(registry, docker_registry):
    for server in (registry, docker_registry):
        push_image(RegistryClient(server.address), "findme/app", "v1", {"a": b"b"})
    assert RegistryClient(registry.address).search("findme")[0]["name"] == "findme/app"
    with pytest.raises(NotFoundError):
        RegistryClient(docker_registry.address).search("findme")


def test_login_against_docker_registry_with_htpasswd(tmp_path):
    if not __import__("shutil").which("docker-registry"):
        pytest.fail("docker-registry not installed (scripts/setup installs it)")
    server = start_docker_registry(str(tmp_path), htpasswd=write_htpasswd(str(tmp_path / "htpasswd")))
    try:
        with pytest.raises(AuthenticationError) as err:
            RegistryClient(server.address, auth=(USER, "wrong")).login()
        assert err.value.code == "UNAUTHORIZED"
        client = RegistryClient(server.address, auth=(USER, PASSWORD))
        assert client.login() == "Login Succeeded"
        digest, _, _ = push_image(client, "auth/img", "v1", {"x": b"y"}, chunk_size=10)
        assert RegistryClient(server.address, auth=(USER, PASSWORD)).manifest_digest("auth/img", "v1") == digest
    finally:
        server.stop()


def test_parse_challenge():
    assert parse_challenge('Basic realm="r"') == ("basic", {"realm": "r"})
    assert parse_challenge('Bearer realm="https://a/token",service="reg",scope="repository:x:pull"') == (
        "bearer", {"realm": "https://a/token", "service": "reg", "scope": "repository:x:pull"})
