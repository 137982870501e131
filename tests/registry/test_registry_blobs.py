"""Blob endpoints: monolithic and chunked uploads, status, cancel, mount, Range, delete."""
import os
import time

from registry_helpers import expect_error, raw_request, sha

ZERO = "sha256:" + "0" * 64


def _start(server, name):
    r = server.call("POST", f"/v2/{name}/blobs/uploads/")
    assert r.status_code == 202, r.text
    assert r.headers["Range"] == "0-0"
    uid = r.headers["Docker-Upload-UUID"]
    assert r.headers["Location"] == f"/v2/{name}/blobs/uploads/{uid}"
    return r.headers["Location"]


def _visible_blobs(server):
    found = []
    for dirpath, _, files in os.walk(os.path.join(server.root, "blobs")):
        found += files
    return found


def test_monolithic_upload_then_head_get_range(shared_registry):
    data = os.urandom(10000)
    digest = sha(data)
    r = shared_registry.call("POST", "/v2/mono/blobs/uploads/", params={"digest": digest}, data=data)
    assert r.status_code == 201
    assert r.headers["Location"] == f"/v2/mono/blobs/{digest}"
    assert r.headers["Docker-Content-Digest"] == digest
    r = shared_registry.call("HEAD", f"/v2/mono/blobs/{digest}")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == "10000"
    assert r.headers["Docker-Content-Digest"] == digest
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert shared_registry.get(f"/v2/mono/blobs/{digest}").content == data
    r = shared_registry.get(f"/v2/mono/blobs/{digest}", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    assert r.headers["Content-Range"] == "bytes 100-199/10000"
    r = shared_registry.get(f"/v2/mono/blobs/{digest}", headers={"Range": "bytes=9990-"})
    assert r.status_code == 206 and r.content == data[9990:]
    r = shared_registry.get(f"/v2/mono/blobs/{digest}", headers={"Range": "bytes=20000-30000"})
    assert r.status_code == 416


def test_blob_is_per_repository(shared_registry):
    digest = sha(b"only-in-a")
    shared_registry.call("POST", "/v2/repo-a/blobs/uploads/", params={"digest": digest},
                         data=b"only-in-a")
    r = shared_registry.get(f"/v2/repo-b/blobs/{digest}")
    expect_error(r, 404, "BLOB_UNKNOWN")
    assert r.json()["errors"][0]["detail"] == digest
    r = shared_registry.call("HEAD", f"/v2/repo-b/blobs/{digest}")
    assert r.status_code == 404 and r.content == b""


def test_chunked_upload_with_status(shared_registry):
    data = os.urandom(300000)
    location = _start(shared_registry, "chunky")
    offset = 0
    for size in (100000, 150000, 50000):
        chunk = data[offset:offset + size]
        r = shared_registry.call("PATCH", location, data=chunk, headers={
            "Content-Range": f"{offset}-{offset + size - 1}",
            "Content-Type": "application/octet-stream"})
        assert r.status_code == 202, r.text
        offset += size
        assert r.headers["Range"] == f"0-{offset - 1}"
        location = r.headers["Location"]
        status = shared_registry.get(location)
        assert status.status_code == 204 and status.headers["Range"] == f"0-{offset - 1}"
    digest = sha(data)
    assert shared_registry.get(f"/v2/chunky/blobs/{digest}").status_code == 404  # not yet
    r = shared_registry.call("PUT", location, params={"digest": digest})
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == digest
    assert shared_registry.get(f"/v2/chunky/blobs/{digest}").content == data
    expect_error(shared_registry.get(location), 404, "BLOB_UPLOAD_UNKNOWN")


def test_streamed_patch_without_range_and_final_chunk_in_put(shared_registry):
    """Docker's way: one PATCH with a chunked body and no Content-Range; then PUT with a last chunk."""
    data = os.urandom(200000)
    location = _start(shared_registry, "streamed")
    r = shared_registry.call("PATCH", location, data=iter([data[:70000], data[70000:150000]]))
    assert r.status_code == 202 and r.headers["Range"] == "0-149999"
    r = shared_registry.call("PUT", r.headers["Location"], params={"digest": sha(data)},
                             data=data[150000:])
    assert r.status_code == 201
    assert shared_registry.get(f"/v2/streamed/blobs/{sha(data)}").content == data


def test_patch_out_of_order_is_range_invalid(shared_registry):
    location = _start(shared_registry, "order")
    r = shared_registry.call("PATCH", location, data=b"abc", headers={"Content-Range": "5-7"})
    expect_error(r, 416, "RANGE_INVALID")
    assert r.headers["Range"] == "0-0"
    r = shared_registry.call("PATCH", location, data=b"abc", headers={"Content-Range": "0-9"})
    expect_error(r, 416, "RANGE_INVALID")
    assert shared_registry.call("PATCH", location, data=b"abc",
                                headers={"Content-Range": "0-2"}).status_code == 202


def test_digest_mismatch_rejects_and_discards(shared_registry):
    location = _start(shared_registry, "mismatch")
    shared_registry.call("PATCH", location, data=b"some bytes")
    before = _visible_blobs(shared_registry)
    r = shared_registry.call("PUT", location, params={"digest": ZERO})
    expect_error(r, 400, "DIGEST_INVALID")
    assert _visible_blobs(shared_registry) == before
    expect_error(shared_registry.get(location), 404, "BLOB_UPLOAD_UNKNOWN")
    expect_error(shared_registry.get(f"/v2/mismatch/blobs/{ZERO}"), 404, "BLOB_UNKNOWN")
    r = shared_registry.call("POST", "/v2/mismatch/blobs/uploads/", params={"digest": ZERO}, data=b"x")
    expect_error(r, 400, "DIGEST_INVALID")
    assert _visible_blobs(shared_registry) == before


def test_put_without_digest(shared_registry):
    location = _start(shared_registry, "nodigest")
    expect_error(shared_registry.call("PUT", location), 400, "DIGEST_INVALID")
    expect_error(shared_registry.call("PUT", location, params={"digest": "sha256:xyz"}), 400,
                 "DIGEST_INVALID")
    assert shared_registry.get(location).status_code == 204    # the upload goes on


def test_cancel_upload(shared_registry):
    location = _start(shared_registry, "cancel")
    shared_registry.call("PATCH", location, data=b"partial")
    assert shared_registry.call("DELETE", location).status_code == 204
    expect_error(shared_registry.get(location), 404, "BLOB_UPLOAD_UNKNOWN")
    expect_error(shared_registry.call("PATCH", location, data=b"x"), 404, "BLOB_UPLOAD_UNKNOWN")
    expect_error(shared_registry.call("DELETE", location), 404, "BLOB_UPLOAD_UNKNOWN")


def test_upload_belongs_to_its_repository(shared_registry):
    location = _start(shared_registry, "owner")
    other = location.replace("/v2/owner/", "/v2/thief/")
    expect_error(shared_registry.get(other), 404, "BLOB_UPLOAD_UNKNOWN")
    expect_error(shared_registry.get("/v2/owner/blobs/uploads/not-a-uuid"), 404, "BLOB_UPLOAD_UNKNOWN")


def test_cross_repository_mount(shared_registry):
    data = b"mount me"
    digest = sha(data)
    shared_registry.call("POST", "/v2/src/blobs/uploads/", params={"digest": digest}, data=data)
    r = shared_registry.call("POST", "/v2/dst/blobs/uploads/", params={"mount": digest, "from": "src"})
    assert r.status_code == 201
    assert r.headers["Location"] == f"/v2/dst/blobs/{digest}"
    assert shared_registry.get(f"/v2/dst/blobs/{digest}").content == data
    # unknown blob or source: an ordinary upload starts instead
    r = shared_registry.call("POST", "/v2/dst/blobs/uploads/", params={"mount": ZERO, "from": "src"})
    assert r.status_code == 202 and "Docker-Upload-UUID" in r.headers
    r = shared_registry.call("POST", "/v2/dst2/blobs/uploads/", params={"mount": digest, "from": "BAD"})
    assert r.status_code == 202


def test_delete_blob(shared_registry):
    digest = sha(b"delete me")
    shared_registry.call("POST", "/v2/del/blobs/uploads/", params={"digest": digest}, data=b"delete me")
    assert shared_registry.call("DELETE", f"/v2/del/blobs/{digest}").status_code == 202
    expect_error(shared_registry.get(f"/v2/del/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    expect_error(shared_registry.call("DELETE", f"/v2/del/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    expect_error(shared_registry.get("/v2/del/blobs/sha256:short"), 400, "DIGEST_INVALID")


def test_interrupted_patch_leaves_offset_and_nothing_visible(shared_registry):
    location = _start(shared_registry, "cut")
    shared_registry.call("PATCH", location, data=b"A" * 1000)
    before = _visible_blobs(shared_registry)
    request = (f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
               f"Content-Type: application/octet-stream\r\n\r\n").encode() + b"B" * 5000
    raw_request(shared_registry.address, request, timeout=2, shut_write=True)
    r = shared_registry.get(location)
    assert r.status_code == 204 and r.headers["Range"] == "0-999"
    data = b"A" * 1000 + b"C" * 10
    r = shared_registry.call("PUT", location, params={"digest": sha(data)}, data=b"C" * 10)
    assert r.status_code == 201, r.text
    assert len(_visible_blobs(shared_registry)) == len(before) + 1


def test_interrupted_monolithic_upload_leaves_nothing(shared_registry):
    data = os.urandom(50000)
    before = _visible_blobs(shared_registry)
    request = (f"POST /v2/cutmono/blobs/uploads/?digest={sha(data)} HTTP/1.1\r\nHost: x\r\n"
               f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:20000]
    raw_request(shared_registry.address, request, timeout=2, shut_write=True)
    expect_error(shared_registry.get(f"/v2/cutmono/blobs/{sha(data)}"), 404, "BLOB_UNKNOWN")
    assert _visible_blobs(shared_registry) == before
    assert shared_registry.get("/v2/").status_code == 200
    # the server cleans up when it reads the cut body, which may be just after the client
    # saw the connection close: give it a bounded moment
    deadline = time.monotonic() + 10
    while _uploads_of(shared_registry, "cutmono") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _uploads_of(shared_registry, "cutmono") == []


def _uploads_of(registry, name: str) -> list[str]:
    uploads = os.path.join(registry.root, "uploads")
    owned = []
    for uid in os.listdir(uploads):
        try:
            with open(os.path.join(uploads, uid, "repo"), encoding="utf-8") as f:
                if f.read() == name:
                    owned.append(uid)
        except FileNotFoundError:
            pass                        # removed while we looked
    return owned
