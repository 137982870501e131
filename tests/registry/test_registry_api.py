"""Base check, catalog, tags list, search and routing of the strata registry."""
import pytest

import json

from registry_helpers import DOCKER_MANIFEST, expect_error, image_manifest, put_manifest, raw_request


def test_base_check(registry):
    r = registry.get("/v2/")
    assert r.status_code == 200
    assert r.json() == {}
    assert r.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert registry.call("HEAD", "/v2/").status_code == 200


def test_unknown_paths_are_plain_404(registry):
    r = registry.get("/nothing/here")
    assert r.status_code == 404 and r.text == "404 page not found\n"
    assert registry.get("/v2/a/unknown/thing").status_code == 404


def test_wrong_method_is_unsupported(registry):
    expect_error(registry.call("POST", "/v2/a/tags/list"), 405, "UNSUPPORTED")
    expect_error(registry.call("PATCH", "/v2/a/manifests/latest"), 405, "UNSUPPORTED")


@pytest.mark.parametrize("name", ["UPPER", "a//b", "-lead", "trail-", "a/_hidden", "a..b",
                                  "a/../b", ".", "x" * 256])
def test_invalid_names(registry, name):
    request = f"GET /v2/{name}/tags/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, headers, body = raw_request(registry.address, request.encode())
    assert status == 400, (status, body)
    assert json.loads(body)["errors"][0]["code"] == "NAME_INVALID"


def _tag_all(registry, name, tags):
    manifest = image_manifest(registry, name)
    for tag in tags:
        assert put_manifest(registry, name, tag, manifest, DOCKER_MANIFEST).status_code == 201


def test_tags_list_and_pagination(registry):
    tags = ["v1", "v2", "v3", "latest", "a-tag"]
    _tag_all(registry, "lib/pager", tags)
    r = registry.get("/v2/lib/pager/tags/list")
    assert r.json() == {"name": "lib/pager", "tags": sorted(tags)}
    assert "Link" not in r.headers
    r = registry.get("/v2/lib/pager/tags/list", params={"n": 2})
    assert r.json()["tags"] == ["a-tag", "latest"]
    assert r.headers["Link"] == '</v2/lib/pager/tags/list?last=latest&n=2>; rel="next"'
    r = registry.get("/v2/lib/pager/tags/list?last=latest&n=2")
    assert r.json()["tags"] == ["v1", "v2"]
    r = registry.get("/v2/lib/pager/tags/list?last=v2&n=2")
    assert r.json()["tags"] == ["v3"] and "Link" not in r.headers
    assert registry.get("/v2/lib/pager/tags/list?n=0").json()["tags"] == []
    expect_error(registry.get("/v2/lib/pager/tags/list?n=-1"), 400, "PAGINATION_NUMBER_INVALID")
    expect_error(registry.get("/v2/lib/pager/tags/list?n=abc"), 400, "PAGINATION_NUMBER_INVALID")


def test_tags_list_unknown_repository(registry):
    r = registry.get("/v2/no/such/tags/list")
    expect_error(r, 404, "NAME_UNKNOWN")
    assert r.json()["errors"][0]["detail"] == {"name": "no/such"}


def test_catalog_with_pagination(registry):
    assert registry.get("/v2/_catalog").json() == {"repositories": []}
    names = ["alpha", "beta/one", "beta/one/nested", "gamma"]
    for name in names:
        image_manifest(registry, name)
    assert registry.get("/v2/_catalog").json() == {"repositories": names}
    r = registry.get("/v2/_catalog?n=3")
    assert r.json()["repositories"] == names[:3]
    assert r.headers["Link"] == '</v2/_catalog?last=beta%2Fone%2Fnested&n=3>; rel="next"'
    url = r.headers["Link"].split(";")[0].strip("<>")
    r = registry.get(url)
    assert r.json()["repositories"] == ["gamma"] and "Link" not in r.headers


def test_v1_search_and_ping(registry):
    for name in ("team/web-server", "team/db", "other/webapp"):
        image_manifest(registry, name)
    r = registry.get("/v1/_ping")
    assert r.status_code == 200 and r.headers["X-Docker-Registry-Standalone"] == "true"
    r = registry.get("/v1/search", params={"q": "web", "n": 25})
    body = r.json()
    assert body["num_results"] == 2 and body["query"] == "web"
    assert [x["name"] for x in body["results"]] == ["other/webapp", "team/web-server"]
    assert body["results"][0] == {"name": "other/webapp", "description": "", "star_count": 0,
                                  "is_official": False, "is_automated": False}
    r = registry.get("/v1/search", params={"q": "TEAM", "n": 1})
    assert r.json()["num_results"] == 2 and len(r.json()["results"]) == 1
    assert registry.get("/v1/search", params={"q": "nomatch"}).json()["results"] == []
