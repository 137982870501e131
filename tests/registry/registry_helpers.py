"""Small helpers shared by the registry tests."""
import hashlib
import json

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def error_code(resp) -> str:
    __tracebackhide__ = True
    body = resp.json()
    assert set(body) == {"errors"}, body
    return body["errors"][0]["code"]


def expect_error(resp, status: int, code: str):
    __tracebackhide__ = True
    assert resp.status_code == status, (resp.status_code, resp.headers, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    assert resp.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert error_code(resp) == code, resp.text


def push_blob(server, name: str, data: bytes) -> str:
    digest = sha(data)
    r = server.call("POST", f"/v2/{name}/blobs/uploads/", params={"digest": digest}, data=data)
    assert r.status_code == 201, r.text
    return digest


def image_manifest(server, name: str, media_type: str = DOCKER_MANIFEST, layers=(b"layer-1",),
                   config: bytes = b'{"architecture":"amd64","os":"linux"}') -> bytes:
    """Push config and layers to `name`; return a manifest (bytes) referring to them."""
    cfg_type = ("application/vnd.docker.container.image.v1+json" if media_type == DOCKER_MANIFEST
                else "application/vnd.oci.image.config.v1+json")
    layer_type = ("application/vnd.docker.image.rootfs.diff.tar.gzip" if media_type == DOCKER_MANIFEST
                  else "application/vnd.oci.image.layer.v1.tar+gzip")
    doc = {"schemaVersion": 2, "mediaType": media_type,
           "config": {"mediaType": cfg_type, "size": len(config), "digest": push_blob(server, name, config)},
           "layers": [{"mediaType": layer_type, "size": len(l), "digest": push_blob(server, name, l)}
                      for l in layers]}
    return json.dumps(doc).encode()


def put_manifest(server, name, ref, data: bytes, media_type: str):
    return server.call("PUT", f"/v2/{name}/manifests/{ref}", data=data,
                       headers={"Content-Type": media_type})


def raw_request(address: str, request: bytes, timeout: float = 10, shut_write: bool = False):
    """Send raw bytes (no client-side normalisation), return (status, headers, body)."""
    import socket
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                block = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not block:
                break
            data += block
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                headers = _headers(head)
                if len(rest) >= int(headers.get("content-length", "0")):
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, _headers(head), body


def _headers(head: bytes) -> dict:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines)}


def make_image(files: dict, media_type: str = DOCKER_MANIFEST):
    """A real one-layer image: (config bytes, layer bytes (tar.gz), manifest dict)."""
    import gzip
    import io
    import tarfile
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    diff_id = sha(raw.getvalue())
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "history": [{"created_by": "strata registry test"}]}).encode()
    docker = media_type == DOCKER_MANIFEST
    manifest = {"schemaVersion": 2, "mediaType": media_type,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json" if docker
                           else "application/vnd.oci.image.config.v1+json",
                           "size": len(config), "digest": sha(config)},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip" if docker
                            else "application/vnd.oci.image.layer.v1.tar+gzip",
                            "size": len(layer), "digest": sha(layer)}]}
    return config, layer, manifest


def push_image(client, name: str, tag: str, files: dict, chunk_size=None, media_type=DOCKER_MANIFEST):
    """Push a one-layer image with a RegistryClient; return (manifest digest, config, layer)."""
    config, layer, manifest = make_image(files, media_type)
    for blob in (config, layer):
        if client.blob_exists(name, sha(blob)) is None:
            client.upload_blob(name, blob, chunk_size=chunk_size)
    digest = client.put_manifest(name, tag, json.dumps(manifest).encode(), media_type)
    return digest, config, layer
