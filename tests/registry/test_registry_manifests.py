"""Manifest endpoints: schema 2, manifest list, OCI manifest and index; by tag and digest."""
import json

import pytest

from registry_helpers import (DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, expect_error,
                              image_manifest, put_manifest, sha)


@pytest.mark.parametrize("media_type", [DOCKER_MANIFEST, OCI_MANIFEST])
def test_put_get_head_by_tag_and_digest(shared_registry, media_type):
    name = f"img/{media_type.split('.')[2]}"
    data = image_manifest(shared_registry, name, media_type)
    digest = sha(data)
    r = put_manifest(shared_registry, name, "v1", data, media_type)
    assert r.status_code == 201
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Location"] == f"/v2/{name}/manifests/{digest}"
    for ref in ("v1", digest):
        r = shared_registry.get(f"/v2/{name}/manifests/{ref}", headers={"Accept": media_type})
        assert r.status_code == 200 and r.content == data
        assert r.headers["Content-Type"] == media_type
        assert r.headers["Docker-Content-Digest"] == digest
        h = shared_registry.call("HEAD", f"/v2/{name}/manifests/{ref}", headers={"Accept": media_type})
        assert h.status_code == 200 and h.content == b""
        assert h.headers["Content-Length"] == str(len(data))
        assert h.headers["Docker-Content-Digest"] == digest


def test_put_by_digest_must_match(shared_registry):
    data = image_manifest(shared_registry, "bydigest")
    assert put_manifest(shared_registry, "bydigest", sha(data), data, DOCKER_MANIFEST).status_code == 201
    expect_error(put_manifest(shared_registry, "bydigest", sha(b"other"), data, DOCKER_MANIFEST),
                 400, "DIGEST_INVALID")
    assert shared_registry.get("/v2/bydigest/tags/list").json()["tags"] == []


def test_manifest_blob_unknown(shared_registry):
    data = image_manifest(shared_registry, "has-blobs")
    r = put_manifest(shared_registry, "lacks-blobs", "v1", data, DOCKER_MANIFEST)
    expect_error(r, 400, "MANIFEST_BLOB_UNKNOWN")
    assert r.json()["errors"][0]["detail"] == json.loads(data)["config"]["digest"]
    expect_error(shared_registry.get("/v2/lacks-blobs/manifests/v1"), 404, "MANIFEST_UNKNOWN")


@pytest.mark.parametrize("body,content_type", [
    (b"{not json", DOCKER_MANIFEST),
    (b"[]", DOCKER_MANIFEST),
    (b'{"schemaVersion": 1, "name": "x", "fsLayers": []}', "application/json"),
    (b'{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}',
     DOCKER_MANIFEST),
    (b'{"schemaVersion": 2, "config": {"digest": "sha256:bad"}, "layers": []}', OCI_MANIFEST),
    (b'{"schemaVersion": 2, "mediaType": "application/x-unknown"}', "application/x-unknown"),
    (b'{"schemaVersion": 2, "mediaType": "%s", "manifests": {}}' % DOCKER_LIST.encode(), DOCKER_LIST),
])
def test_manifest_invalid(shared_registry, body, content_type):
    expect_error(put_manifest(shared_registry, "invalid", "v1", body, content_type), 400,
                 "MANIFEST_INVALID")


def test_tag_invalid(shared_registry):
    data = image_manifest(shared_registry, "tags")
    expect_error(put_manifest(shared_registry, "tags", "-bad", data, DOCKER_MANIFEST), 400, "TAG_INVALID")
    expect_error(put_manifest(shared_registry, "tags", "x" * 129, data, DOCKER_MANIFEST), 400,
                 "TAG_INVALID")


def _index(server, name, index_type):
    child_type = DOCKER_MANIFEST if index_type == DOCKER_LIST else OCI_MANIFEST
    amd = image_manifest(server, name, child_type, layers=(b"amd64 layer",))
    arm = image_manifest(server, name, child_type, layers=(b"arm64 layer",))
    for m in (amd, arm):
        assert put_manifest(server, name, sha(m), m, child_type).status_code == 201
    index = {"schemaVersion": 2, "mediaType": index_type, "manifests": [
        {"mediaType": child_type, "size": len(arm), "digest": sha(arm),
         "platform": {"architecture": "arm64", "os": "linux"}},
        {"mediaType": child_type, "size": len(amd), "digest": sha(amd),
         "platform": {"architecture": "amd64", "os": "linux"}}]}
    return json.dumps(index).encode(), amd, child_type


@pytest.mark.parametrize("index_type", [DOCKER_LIST, OCI_INDEX])
def test_index_stored_and_negotiated(shared_registry, index_type):
    name = f"multi/{index_type.split('.')[-2]}"
    index, amd, child_type = _index(shared_registry, name, index_type)
    r = put_manifest(shared_registry, name, "multi", index, index_type)
    assert r.status_code == 201, r.text
    r = shared_registry.get(f"/v2/{name}/manifests/multi",
                            headers={"Accept": f"{index_type}, {child_type}"})
    assert r.content == index and r.headers["Content-Type"] == index_type
    # a client that only takes single manifests gets the linux/amd64 one
    r = shared_registry.get(f"/v2/{name}/manifests/multi", headers={"Accept": child_type})
    assert r.content == amd and r.headers["Docker-Content-Digest"] == sha(amd)
    assert r.headers["Content-Type"] == child_type
    # no Accept: as stored
    assert shared_registry.get(f"/v2/{name}/manifests/multi").content == index


def test_index_children_must_exist(shared_registry):
    missing = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "size": 10, "digest": sha(b"nope")}]}
    r = put_manifest(shared_registry, "orphans", "v1", json.dumps(missing).encode(), OCI_INDEX)
    expect_error(r, 400, "MANIFEST_BLOB_UNKNOWN")


def test_oci_manifest_not_accepted(shared_registry):
    data = image_manifest(shared_registry, "ocionly", OCI_MANIFEST)
    put_manifest(shared_registry, "ocionly", "v1", data, OCI_MANIFEST)
    r = shared_registry.get("/v2/ocionly/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    expect_error(r, 404, "MANIFEST_UNKNOWN")


def test_delete_by_digest_and_by_tag(shared_registry):
    data = image_manifest(shared_registry, "deleting")
    digest = sha(data)
    for tag in ("a", "b"):
        put_manifest(shared_registry, "deleting", tag, data, DOCKER_MANIFEST)
    assert shared_registry.call("DELETE", "/v2/deleting/manifests/a").status_code == 202
    assert shared_registry.get("/v2/deleting/tags/list").json()["tags"] == ["b"]
    assert shared_registry.get(f"/v2/deleting/manifests/{digest}").status_code == 200
    assert shared_registry.call("DELETE", f"/v2/deleting/manifests/{digest}").status_code == 202
    assert shared_registry.get("/v2/deleting/tags/list").json()["tags"] == []
    expect_error(shared_registry.get(f"/v2/deleting/manifests/{digest}"), 404, "MANIFEST_UNKNOWN")
    expect_error(shared_registry.get("/v2/deleting/manifests/b"), 404, "MANIFEST_UNKNOWN")
    expect_error(shared_registry.call("DELETE", f"/v2/deleting/manifests/{digest}"), 404,
                 "MANIFEST_UNKNOWN")
    expect_error(shared_registry.call("DELETE", "/v2/deleting/manifests/zzz"), 404, "MANIFEST_UNKNOWN")


def test_unknown_manifest(shared_registry):
    r = shared_registry.get("/v2/never/manifests/latest")
    expect_error(r, 404, "MANIFEST_UNKNOWN")
    assert r.json()["errors"][0]["detail"] == {"Tag": "latest"}
    expect_error(shared_registry.get(f"/v2/never/manifests/{sha(b'x')}"), 404, "MANIFEST_UNKNOWN")
    expect_error(shared_registry.get("/v2/never/manifests/sha256:nothex"), 400, "DIGEST_INVALID")


def test_retag_moves_tag(shared_registry):
    one = image_manifest(shared_registry, "retag", layers=(b"one",))
    two = image_manifest(shared_registry, "retag", layers=(b"two",))
    put_manifest(shared_registry, "retag", "latest", one, DOCKER_MANIFEST)
    put_manifest(shared_registry, "retag", "latest", two, DOCKER_MANIFEST)
    assert shared_registry.get("/v2/retag/manifests/latest").content == two
    assert shared_registry.get(f"/v2/retag/manifests/{sha(one)}").content == one
