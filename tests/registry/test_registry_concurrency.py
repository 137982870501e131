"""Concurrent uploads, in one server and across two server processes on one root."""
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

from conftest import start_strata
from reference_impl.registry.client import RegistryClient


def _upload(address, name, data, chunk):
    client = RegistryClient(address)
    return client.upload_blob(name, data, chunk_size=chunk)


def test_parallel_chunked_uploads(registry):
    blobs = [os.urandom(2_000_000 + i) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        digests = list(pool.map(lambda i: _upload(registry.address, f"par/r{i % 3}", blobs[i], 300_000),
                                range(8)))
    client = RegistryClient(registry.address)
    for i, (data, digest) in enumerate(zip(blobs, digests)):
        assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
        assert client.get_blob(f"par/r{i % 3}", digest) == data
    assert os.listdir(os.path.join(registry.root, "uploads")) == []
    assert os.listdir(os.path.join(registry.root, "tmp")) == []


def test_same_blob_uploaded_concurrently(registry):
    data = os.urandom(1_000_000)
    with ThreadPoolExecutor(6) as pool:
        digests = set(pool.map(lambda i: _upload(registry.address, f"same/r{i}", data, 100_000), range(6)))
    assert len(digests) == 1
    digest = digests.pop()
    client = RegistryClient(registry.address)
    assert all(client.get_blob(f"same/r{i}", digest) == data for i in range(6))


def test_two_processes_share_one_root(registry, tmp_path):
    second = start_strata(registry.root, str(tmp_path))
    try:
        a, b = RegistryClient(registry.address), RegistryClient(second.address)
        # an upload started on one process is continued and finished on the other
        location = a._start("shared/repo")
        location = a._patch(location, b"first half ", 0)
        location = b._patch(location, b"second half", len(b"first half "))
        data = b"first half second half"
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        a._finish(location, digest, b"")
        assert b.get_blob("shared/repo", digest) == data
        with ThreadPoolExecutor(6) as pool:
            blobs = [os.urandom(500_000) for _ in range(6)]
            digests = list(pool.map(lambda i: _upload((a, b)[i % 2].address, "shared/many", blobs[i],
                                                      64_000), range(6)))
        assert sorted(b.catalog()) == ["shared/many", "shared/repo"]
        assert all(a.get_blob("shared/many", d) == x for d, x in zip(digests, blobs))
    finally:
        second.stop()
