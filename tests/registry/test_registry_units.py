"""Unit tests of the registry's pure parts: grammar, manifest validation, auth
parsing, storage layout, and the client's Bearer token flow."""
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt
import pytest

from reference_impl.registry import manifests, names
from reference_impl.registry.auth import Htpasswd, parse_basic
from reference_impl.registry.client import RegistryClient
from reference_impl.registry.errors import RegistryError
from reference_impl.registry.storage import Storage


@pytest.mark.parametrize("name,ok", [
    ("a", True), ("library/ubuntu", True), ("a.b_c__d--e/f", True), ("a" * 255, True),
    ("a" * 256, False), ("A", False), ("a/", False), ("/a", False), ("a//b", False), ("_a", False),
    ("a/_layers", False), ("..", False), ("a/../b", False), ("a_", False), ("a___b", False), ("", False)])
def test_name_grammar(name, ok):
    assert names.valid_name(name) is ok


def test_tag_and_digest_grammar():
    assert names.valid_tag("latest") and names.valid_tag("_x.y-z") and names.valid_tag("a" * 128)
    assert not names.valid_tag("a" * 129) and not names.valid_tag(".x") and not names.valid_tag("a/b")
    assert names.valid_digest("sha256:" + "a" * 64) and names.valid_digest("sha512:" + "0" * 128)
    assert not names.valid_digest("sha256:" + "A" * 64) and not names.valid_digest("md5:" + "a" * 32)


def test_error_body_is_distributions():
    err = RegistryError("BLOB_UNKNOWN", "sha256:x")
    assert err.status == 404
    assert err.body() == (b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry",'
                          b'"detail":"sha256:x"}]}\n')


def test_manifest_parse_and_accept():
    doc = {"schemaVersion": 2, "config": {"digest": "sha256:" + "1" * 64, "size": 1},
           "layers": [{"digest": "sha256:" + "2" * 64, "size": 2},
                      {"digest": "sha256:" + "3" * 64, "size": 3, "urls": ["https://x"]}]}
    m = manifests.parse(json.dumps(doc).encode(), manifests.OCI_MANIFEST)
    assert m.media_type == manifests.OCI_MANIFEST
    assert m.blobs == ["sha256:" + "1" * 64, "sha256:" + "2" * 64]     # foreign layer skipped
    assert manifests.parse(json.dumps(doc).encode(), None).media_type == manifests.OCI_MANIFEST
    with pytest.raises(RegistryError):      # Docker schema 2 needs its mediaType field
        manifests.parse(json.dumps(doc).encode(), manifests.DOCKER_MANIFEST)
    assert manifests.accepted([]) is None
    assert manifests.accepted(["a/b, c/d;q=0.5", "*/*"]) is None
    assert manifests.accepted(["a/b, c/d;q=0.5"]) == {"a/b", "c/d"}


def test_htpasswd_bcrypt_2y(tmp_path):
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$")
    path = tmp_path / "htpasswd"
    path.write_text(f"# comment\nalice:{hashed}\nbob:{{SHA}}ignored\n")
    h = Htpasswd(str(path))
    assert h.check("alice", "pw") and h.check("alice", "pw")   # second from the cache
    assert not h.check("alice", "nope") and not h.check("bob", "x") and not h.check("carol", "pw")
    assert parse_basic("Basic " + base64.b64encode(b"u:p:q").decode()) == ("u", "p:q")
    assert parse_basic("Bearer x") is None and parse_basic("Basic ???") is None


def test_storage_layout(tmp_path):
    s = Storage(str(tmp_path))
    s.prepare()
    digest = "sha256:" + "a" * 64
    s.put_blob_bytes(b"x", digest)
    assert s.blob_path(digest) == str(tmp_path / "blobs" / "sha256" / "aa" / ("a" * 64))
    s.link_layer("x/y", digest)
    assert s.has_layer("x/y", digest) and not s.has_layer("x", digest)
    s.put_manifest("x", digest, "m/t", b"x")
    s.set_tag("x", "v1", digest)
    assert s.repositories() == ["x", "x/y"]
    assert s.tags("x") == ["v1"] and s.tag_digest("x", "v1") == digest
    assert s.delete_manifest("x", digest) and s.tags("x") == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_client_bearer_token_flow():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            port = self.server.server_address[1]
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path.startswith("/token"):
                assert self.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
                body = json.dumps({"token": "tok123"}).encode()
                self.send_response(200)
            elif self.headers.get("Authorization") == "Bearer tok123":
                body = b'{"name":"a/b","tags":["t"]}'
                self.send_response(200)
            else:
                body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
                self.send_response(401)
                self.send_header("WWW-Authenticate",
                                 f'Bearer realm="http://127.0.0.1:{port}/token",service="reg"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = RegistryClient(f"127.0.0.1:{server.server_address[1]}", auth=("u", "p"))
        assert client.tags("a/b") == ["t"]
        assert seen[1][0] == "/token?service=reg&scope=repository%3Aa%2Fb%3Apull"
    finally:
        server.shutdown()
        server.server_close()
