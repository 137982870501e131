"""Malformed and hostile requests: each gets the right error, the server keeps
serving, and nothing partial becomes visible in the store."""
import base64
import json
import os

import pytest

from conftest import PASSWORD, USER, start_strata, write_htpasswd
from registry_helpers import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, raw_request, sha

ZERO = "sha256:" + "0" * 64
GOOD = sha(b"good blob")


def req(method, path, headers=None, body=b"", length=None):
    """Raw HTTP/1.1 request bytes (paths are sent exactly as given)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    headers = dict(headers or {})
    if length is not None:
        headers["Content-Length"] = str(length)
    elif "Transfer-Encoding" not in headers and (body or method in ("POST", "PUT", "PATCH")):
        headers.setdefault("Content-Length", str(len(body)))
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def manifest(**fields):
    doc = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
           "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 9,
                      "digest": GOOD}, "layers": []}
    doc.update(fields)
    return json.dumps(doc).encode()


def put_m(ref, body, ctype=DOCKER_MANIFEST, **kw):
    return req("PUT", f"/v2/hostile/manifests/{ref}", {"Content-Type": ctype}, body, **kw)


UP = "{upload}"     # replaced by the path of an upload started for the case
UP_OTHER = "{upload-other}"  # the same upload, under another repository name
CASES = [
    # -- names and path traversal ----------------------------------------------------
    ("traversal-dots", req("GET", "/v2/../../etc/passwd/tags/list"), 400, "NAME_INVALID"),
    ("traversal-encoded", req("GET", "/v2/%2e%2e/%2e%2e/tags/list"), 400, "NAME_INVALID"),
    ("traversal-inner", req("GET", "/v2/a/%2e%2e/%2e%2e/tags/list"), 400, "NAME_INVALID"),
    ("encoded-slash", req("GET", "/v2/a%2Fb/tags/list"), 400, "NAME_INVALID"),
    ("traversal-put", put_m("latest", manifest()).replace(b"/v2/hostile/", b"/v2/../hostile/"), 400,
     "NAME_INVALID"),
    ("traversal-upload", req("POST", "/v2/a/../../b/blobs/uploads/"), 400, "NAME_INVALID"),
    ("name-too-long", req("GET", f"/v2/{'a' * 256}/tags/list"), 400, "NAME_INVALID"),
    ("name-upper", req("GET", "/v2/Hostile/tags/list"), 400, "NAME_INVALID"),
    ("name-nul", req("GET", "/v2/a%00b/tags/list"), 400, "NAME_INVALID"),
    ("name-underscore-dir", req("GET", "/v2/hostile/_tags/tags/list"), 400, "NAME_INVALID"),
    ("name-absolute", req("GET", "/v2//etc/tags/list"), 400, "NAME_INVALID"),
    ("upload-id-traversal", req("GET", "/v2/hostile/blobs/uploads/..%2F..%2Fblobs"), 404,
     "BLOB_UPLOAD_UNKNOWN"),
    ("upload-id-dots", req("GET", "/v2/hostile/blobs/uploads/.."), 404, "BLOB_UPLOAD_UNKNOWN"),
    ("blob-path-traversal", req("GET", "/v2/hostile/blobs/sha256:../../../etc/passwd"), 404, None),
    ("tag-traversal", put_m("..%2F..%2Fx", manifest()), 400, "TAG_INVALID"),
    ("tag-dotdot-get", req("GET", "/v2/hostile/manifests/.."), 404, "MANIFEST_UNKNOWN"),
    # -- digests ---------------------------------------------------------------------
    ("digest-short", req("GET", "/v2/hostile/blobs/sha256:abc"), 400, "DIGEST_INVALID"),
    ("digest-md5", req("GET", "/v2/hostile/blobs/md5:" + "a" * 32), 400, "DIGEST_INVALID"),
    ("digest-upper", req("HEAD", "/v2/hostile/blobs/sha256:" + "A" * 64), 400, None),
    ("digest-delete-bad", req("DELETE", "/v2/hostile/blobs/sha256:zz"), 400, "DIGEST_INVALID"),
    ("post-digest-garbage", req("POST", "/v2/hostile/blobs/uploads/?digest=sha256:zz", body=b"x"),
     400, "DIGEST_INVALID"),
    ("post-digest-empty", req("POST", "/v2/hostile/blobs/uploads/?digest=", body=b"x"), 400,
     "DIGEST_INVALID"),
    ("post-digest-wrong", req("POST", f"/v2/hostile/blobs/uploads/?digest={ZERO}", body=b"data"),
     400, "DIGEST_INVALID"),
    ("post-digest-sha512-wrong", req("POST", "/v2/hostile/blobs/uploads/?digest=sha512:" + "0" * 128,
                                     body=b"data"), 400, "DIGEST_INVALID"),
    ("put-digest-wrong", req("PUT", f"{UP}?digest={ZERO}", body=b"abc"), 400, "DIGEST_INVALID"),
    ("put-digest-missing", req("PUT", UP, body=b"abc"), 400, "DIGEST_INVALID"),
    ("manifest-digest-wrong", put_m(ZERO, manifest()), 400, "DIGEST_INVALID"),
    ("manifest-digest-sha512-wrong", put_m("sha512:" + "1" * 128, manifest()), 400, "DIGEST_INVALID"),
    ("manifest-digest-garbage", put_m("sha256:nothex", manifest()), 400, "DIGEST_INVALID"),
    # -- lengths and ranges ----------------------------------------------------------------
    ("range-backwards", req("PATCH", UP, {"Content-Range": "10-5"}, b"abcdef"), 416, "RANGE_INVALID"),
    ("range-garbage", req("PATCH", UP, {"Content-Range": "bytes=lots"}, b"abc"), 416, "RANGE_INVALID"),
    ("range-not-at-offset", req("PATCH", UP, {"Content-Range": "100-102"}, b"abc"), 416,
     "RANGE_INVALID"),
    ("range-length-mismatch", req("PATCH", UP, {"Content-Range": "0-9"}, b"abc"), 416, "RANGE_INVALID"),
    ("put-range-wrong", req("PUT", f"{UP}?digest={sha(b'abc')}", {"Content-Range": "7-9"}, b"abc"), 416,
     "RANGE_INVALID"),
    ("length-not-number", req("PATCH", UP, {"Content-Length": "abc"}, b"abc"), 400, None),
    ("length-negative", req("POST", f"/v2/hostile/blobs/uploads/?digest={GOOD}",
                            {"Content-Length": "-5"}, b""), 400, None),
    ("length-and-chunked", req("PATCH", UP, {"Transfer-Encoding": "chunked", "Content-Length": "3"},
                               b"3\r\nabc\r\n0\r\n\r\n"), 400, None),
    ("chunked-garbage", req("PATCH", UP, {"Transfer-Encoding": "chunked"}, b"zz\r\nabc\r\n"), 400, None),
    ("monolithic-cut-short", req("POST", f"/v2/hostile/blobs/uploads/?digest={GOOD}", body=b"good",
                                 length=9), None, None),
    ("patch-cut-short", req("PATCH", UP, body=b"x" * 10, length=1000), None, None),
    ("put-cut-short", req("PUT", f"{UP}?digest={GOOD}", body=b"good", length=9), None, None),
    # -- manifests --------------------------------------------------------------------------
    ("manifest-bad-json", put_m("v1", b"{not json"), 400, "MANIFEST_INVALID"),
    ("manifest-array", put_m("v1", b"[1,2,3]"), 400, "MANIFEST_INVALID"),
    ("manifest-number", put_m("v1", b"12"), 400, "MANIFEST_INVALID"),
    ("manifest-empty", put_m("v1", b""), 400, "MANIFEST_INVALID"),
    ("manifest-not-utf8", put_m("v1", b'{"a": "\xff\xfe"}'), 400, "MANIFEST_INVALID"),
    ("manifest-deep-nesting", put_m("v1", b"[" * 100000 + b"]" * 100000), 400, "MANIFEST_INVALID"),
    ("manifest-huge-number", put_m("v1", b'{"schemaVersion": ' + b"9" * 5000 + b"}"), 400,
     "MANIFEST_INVALID"),
    ("manifest-huge", put_m("v1", manifest(annotations={"x": "y" * (5 << 20)})), 400, "MANIFEST_INVALID"),
    ("manifest-huge-claimed", put_m("v1", b"{}", length=100 << 20), 400, "MANIFEST_INVALID"),
    ("manifest-type-mismatch", put_m("v1", manifest(), OCI_MANIFEST), 400, "MANIFEST_INVALID"),
    ("manifest-unknown-type", put_m("v1", manifest(mediaType="text/html"), "text/html"), 400,
     "MANIFEST_INVALID"),
    ("manifest-layers-not-list", put_m("v1", manifest(layers={"a": 1})), 400, "MANIFEST_INVALID"),
    ("manifest-no-config", put_m("v1", json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                                                    "layers": []}).encode()), 400, "MANIFEST_INVALID"),
    ("manifest-layer-bad-digest", put_m("v1", manifest(layers=[{"digest": "sha256:../../x", "size": 1}])),
     400, "MANIFEST_INVALID"),
    ("manifest-size-string", put_m("v1", manifest(layers=[{"digest": GOOD, "size": "9"}])), 400,
     "MANIFEST_INVALID"),
    ("manifest-schema1", put_m("v1", b'{"schemaVersion": 1, "fsLayers": []}',
                               "application/vnd.docker.distribution.manifest.v1+prettyjws"), 400,
     "MANIFEST_INVALID"),
    ("manifest-schema-3", put_m("v1", manifest(schemaVersion=3)), 400, "MANIFEST_INVALID"),
    ("manifest-blob-unknown", put_m("v1", manifest(layers=[{"digest": ZERO, "size": 1}])), 400,
     "MANIFEST_BLOB_UNKNOWN"),
    ("index-child-unknown", put_m("v1", json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                     "manifests": [{"digest": ZERO, "size": 2}]}).encode(),
                                  OCI_INDEX), 400, "MANIFEST_BLOB_UNKNOWN"),
    ("index-manifests-not-list", put_m("v1", json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST,
                                                          "manifests": "x"}).encode(), DOCKER_LIST), 400,
     "MANIFEST_INVALID"),
    ("tag-too-long", put_m("t" * 129, manifest()), 400, "TAG_INVALID"),
    ("tag-leading-dash", put_m("-x", manifest()), 400, "TAG_INVALID"),
    # -- uploads and pagination --------------------------------------------------------------
    ("patch-unknown-upload", req("PATCH", "/v2/hostile/blobs/uploads/" + "0" * 8 + "-0000-0000-0000-"
                                 + "0" * 12, body=b"x"), 404, "BLOB_UPLOAD_UNKNOWN"),
    ("put-unknown-upload", req("PUT", f"/v2/hostile/blobs/uploads/nope?digest={GOOD}"), 404,
     "BLOB_UPLOAD_UNKNOWN"),
    ("delete-unknown-upload", req("DELETE", "/v2/hostile/blobs/uploads/nope"), 404, "BLOB_UPLOAD_UNKNOWN"),
    ("upload-other-repo", req("GET", UP_OTHER), 404, "BLOB_UPLOAD_UNKNOWN"),
    ("tags-n-negative", req("GET", "/v2/hostile/tags/list?n=-5"), 400, "PAGINATION_NUMBER_INVALID"),
    ("catalog-n-garbage", req("GET", "/v2/_catalog?n=1e9"), 400, "PAGINATION_NUMBER_INVALID"),
    ("search-n-garbage", req("GET", "/v1/search?q=a&n=x"), 400, "PAGINATION_NUMBER_INVALID"),
    # -- protocol ---------------------------------------------------------------------------------
    ("method-trace", req("TRACE", "/v2/hostile/manifests/v1"), 405, "UNSUPPORTED"),
    ("method-post-manifest", req("POST", "/v2/hostile/manifests/v1"), 405, "UNSUPPORTED"),
    ("garbage-request-line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 400, None),
    ("header-flood", req("GET", "/v2/", {"X-Big": "a" * 200000}), None, None),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    srv = start_strata(str(tmp / "root"), str(tmp))
    r = srv.call("POST", "/v2/hostile/blobs/uploads/", params={"digest": GOOD}, data=b"good blob")
    assert r.status_code == 201
    yield srv
    srv.stop()


def _snapshot(root):
    seen = {}
    for top in ("blobs", "repositories"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                path = os.path.join(dirpath, f)
                seen[path] = os.path.getsize(path)
    return seen


@pytest.mark.parametrize("request_bytes,status,code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_request(server, request_bytes, status, code):
    if UP.encode() in request_bytes or UP_OTHER.encode() in request_bytes:
        location = server.call("POST", "/v2/hostile/blobs/uploads/").headers["Location"]
        request_bytes = request_bytes.replace(UP.encode(), location.encode()).replace(
            UP_OTHER.encode(), location.replace("/v2/hostile/", "/v2/elsewhere/").encode())
    before = _snapshot(server.root)
    cut = status is None     # the request is cut off: the client stops sending
    got_status, headers, body = raw_request(server.address, request_bytes, timeout=10, shut_write=cut)
    if status is not None:
        assert got_status == status, (got_status, headers, body[:500])
    else:
        assert got_status == 0 or got_status >= 400, (got_status, body[:500])
    if code is not None:
        assert json.loads(body)["errors"][0]["code"] == code, body[:500]
    assert server.get("/v2/").status_code == 200                    # still serving
    assert _snapshot(server.root) == before                          # nothing stored
    assert server.get("/v2/hostile/tags/list").json()["tags"] == []


def test_there_are_at_least_fifty_cases():
    assert len(CASES) >= 50


AUTH_CASES = [
    ("none", None),
    ("wrong-password", "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()),
    ("unknown-user", "Basic " + base64.b64encode(f"mallory:{PASSWORD}".encode()).decode()),
    ("not-base64", "Basic !!!notbase64!!!"),
    ("no-colon", "Basic " + base64.b64encode(USER.encode()).decode()),
    ("bearer-garbage", "Bearer abc.def.ghi"),
    ("empty-basic", "Basic "),
    ("overlong-password", "Basic " + base64.b64encode(f"{USER}:{PASSWORD}{'x' * 100}".encode()).decode()),
    ("not-utf8", "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()),
]


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-auth")
    srv = start_strata(str(tmp / "root"), str(tmp), htpasswd=write_htpasswd(str(tmp / "htpasswd")),
                       realm="hostile")
    yield srv
    srv.stop()


@pytest.mark.parametrize("authorization", [c[1] for c in AUTH_CASES], ids=[c[0] for c in AUTH_CASES])
@pytest.mark.parametrize("path", ["/v2/", f"/v2/hostile/blobs/uploads/?digest={GOOD}"])
def test_bad_credentials(auth_server, authorization, path):
    headers = {"Authorization": authorization} if authorization else {}
    method = "GET" if path == "/v2/" else "POST"
    status, resp_headers, body = raw_request(auth_server.address,
                                             req(method, path, headers, b"good blob" if method == "POST" else b""))
    assert status == 401
    assert resp_headers["www-authenticate"] == 'Basic realm="hostile"'
    assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"
    assert not os.path.exists(os.path.join(auth_server.root, "repositories", "hostile"))
    assert auth_server.get("/v2/", auth=(USER, PASSWORD)).status_code == 200
