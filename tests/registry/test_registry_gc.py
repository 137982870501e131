"""`strata registry garbage-collect --root DIR [--dry-run]`: mark from every manifest,
sweep the rest; beside a running registry and a push in progress; consistent after
SIGKILL. GC runs as the command users run, against a live server's root."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

from reference_impl.registry.client import RegistryAPIError, RegistryClient
from reference_impl.registry.storage import Storage
from registry_helpers import OCI_MANIFEST, push_image, sha

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
HOURS_AGO = time.time() - 2 * 3600


def gc(root: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "reference_impl.registry", "garbage-collect",
                           "--root", root, *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc


def age_everything(root: str) -> None:
    """As if the registry had been written to hours ago (outside any grace period)."""
    for base in ("blobs", "repositories"):
        for dirpath, _, files in os.walk(os.path.join(root, base)):
            for f in files:
                os.utime(os.path.join(dirpath, f), (HOURS_AGO, HOURS_AGO))


def blob_files(root: str) -> set[str]:
    found = set()
    for dirpath, _, files in os.walk(os.path.join(root, "blobs")):
        alg = os.path.relpath(dirpath, os.path.join(root, "blobs")).split(os.sep)[0]
        found |= {f"{alg}:{f}" for f in files}
    return found


def consistent(root: str) -> None:
    """Every manifest of every repository has all its blobs (and they are linked)."""
    __tracebackhide__ = True
    storage = Storage(root)
    for name in storage.repositories():
        mdir = os.path.join(storage.repo_dir(name), "_manifests")
        for alg in os.listdir(mdir) if os.path.isdir(mdir) else []:
            for hexpart in os.listdir(os.path.join(mdir, alg)):
                digest = f"{alg}:{hexpart}"
                data = storage.read_blob(digest)
                assert data is not None, (name, digest, "manifest link without its blob")
                doc = json.loads(data)
                for desc in [doc.get("config") or {}, *(doc.get("layers") or [])]:
                    if desc:
                        assert storage.has_layer(name, desc["digest"]), (name, digest, desc["digest"])


def test_sweeps_what_no_manifest_refers_to(registry):
    client = RegistryClient(registry.address)
    kept, kept_config, kept_layer = push_image(client, "gc/kept", "v1", {"a": b"kept\n"})
    gone, gone_config, gone_layer = push_image(client, "gc/gone", "v1", {"b": b"gone\n"})
    # the same config and layer in a second repository, under a manifest that stays
    shared, _, _ = push_image(client, "gc/shared", "v1", {"b": b"gone\n"}, media_type=OCI_MANIFEST)
    client.delete_manifest("gc/gone", gone)
    orphan = client.upload_blob("gc/kept", b"uploaded, never in a manifest")
    age_everything(registry.root)
    before = blob_files(registry.root)

    dry = gc(registry.root, "--dry-run")
    assert blob_files(registry.root) == before
    eligible = {line.split(": ")[1] for line in dry.stdout.splitlines() if line.startswith("blob eligible")}
    assert eligible == {gone, orphan}
    assert "(dry run: nothing deleted)" in dry.stdout

    out = gc(registry.root).stdout
    assert "2 blobs eligible for deletion" in out and "2 blobs deleted" in out
    assert blob_files(registry.root) == before - {gone, orphan}
    assert client.blob_exists("gc/kept", orphan) is None
    assert client.get_manifest("gc/kept", "v1")[2] == kept
    assert client.get_blob("gc/kept", sha(kept_layer)) == kept_layer
    assert client.get_blob("gc/shared", sha(gone_layer)) == gone_layer   # still referenced there
    assert client.get_manifest("gc/shared", "v1")[2] == shared
    consistent(registry.root)
    assert "0 blobs eligible for deletion" in gc(registry.root).stdout


def test_index_children_and_recent_blobs_are_kept(registry):
    client = RegistryClient(registry.address)
    child, _, _ = push_image(client, "gc/multi", "child", {"c": b"child\n"})
    child_manifest = client.get_manifest("gc/multi", child)[0]
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                            "digest": child, "size": len(child_manifest),
                            "platform": {"os": "linux", "architecture": "amd64"}}]}
    client.put_manifest("gc/multi", "multi", json.dumps(index).encode())
    assert registry.call("DELETE", "/v2/gc/multi/manifests/child").status_code == 202   # untag it
    age_everything(registry.root)
    fresh = client.upload_blob("gc/multi", b"a push in progress uploaded this")
    out = gc(registry.root).stdout
    assert "0 blobs eligible for deletion" in out and "1 unreferenced blobs younger than 3600s kept" in out
    assert client.get_manifest("gc/multi", child)[2] == child
    assert client.blob_exists("gc/multi", fresh) == len(b"a push in progress uploaded this")
    gc(registry.root, "--grace", "0")
    assert client.blob_exists("gc/multi", fresh) is None
    consistent(registry.root)


def test_reading_a_blob_renews_its_grace(registry):
    client = RegistryClient(registry.address)
    digest = client.upload_blob("gc/read", b"checked by a push that will refer to it")
    age_everything(registry.root)
    assert client.blob_exists("gc/read", digest)   # a push's HEAD before it skips the upload
    gc(registry.root)
    assert client.blob_exists("gc/read", digest)


def test_push_while_collecting(registry):
    """Pushes run while collections run back to back: with the default grace every push
    completes and stays whole; with no grace at all a push may be refused (its blob
    swept before its manifest), but no manifest is ever left without its blobs."""
    client = RegistryClient(registry.address)
    old_layers = []
    for i in range(5):
        digest, _, layer = push_image(client, "gc/old", f"v{i}", {"f": f"old {i}\n".encode()})
        client.delete_manifest("gc/old", digest)
        old_layers.append(sha(layer))
    age_everything(registry.root)
    for grace in ("3600", "0"):
        stop = threading.Event()
        outcomes = []

        def pusher():
            pc = RegistryClient(registry.address)
            i = 0
            while not stop.is_set() or i < 10:
                try:
                    digest, _, layer = push_image(pc, f"gc/new-{grace}", f"t{i}",
                                                  {"f": f"new {grace} {i}\n".encode() * 2000}, chunk_size=4096)
                    outcomes.append(("ok", f"t{i}", digest, layer))
                except RegistryAPIError as exc:
                    outcomes.append((exc.code, f"t{i}", None, None))
                i += 1

        thread = threading.Thread(target=pusher)
        thread.start()
        runs = 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            gc(registry.root, "--grace", grace)
            runs += 1
        stop.set()
        thread.join(120)
        assert runs >= 3 and len(outcomes) >= 10
        consistent(registry.root)
        kinds = {o[0] for o in outcomes}
        if grace == "3600":
            assert kinds == {"ok"}, outcomes
        else:
            assert kinds <= {"ok", "MANIFEST_BLOB_UNKNOWN"}, outcomes
        for status, tag, digest, layer in outcomes:
            if status == "ok":
                assert client.get_manifest(f"gc/new-{grace}", tag)[2] == digest
                assert client.get_blob(f"gc/new-{grace}", sha(layer)) == layer
    assert all(client.blob_exists("gc/old", layer) is None for layer in old_layers)   # collected


def test_sigkill_leaves_the_store_consistent(registry):
    client = RegistryClient(registry.address)
    digest, _, layer = push_image(client, "gc/live", "v1", {"live": b"must survive\n"})
    storage = Storage(registry.root)
    garbage = []
    for i in range(3000):
        data = f"garbage {i}".encode()
        storage.put_blob_bytes(data, sha(data))
        storage.link_layer("gc/junk", sha(data))
        garbage.append(sha(data))
    age_everything(registry.root)
    proc = subprocess.Popen([sys.executable, "-m", "reference_impl.registry", "garbage-collect",
                             "--root", registry.root], stdout=subprocess.PIPE, cwd=REPO_ROOT)
    for _ in range(500):    # it prints each blob before it unlinks it, and blocks on a full pipe
        assert proc.stdout.readline().startswith(b"blob eligible for deletion")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    remaining = [g for g in garbage if storage.has_blob(g)]
    assert 0 < len(remaining) < len(garbage), "the kill was meant to land mid-sweep"
    consistent(registry.root)
    assert client.get_manifest("gc/live", "v1")[2] == digest
    assert client.get_blob("gc/live", sha(layer)) == layer
    swept = next(g for g in garbage if not storage.has_blob(g))
    assert client.blob_exists("gc/junk", swept) is None     # a link without its blob is no blob
    gc(registry.root)
    assert not any(storage.has_blob(g) for g in garbage)
    assert not os.listdir(os.path.join(storage.repo_dir("gc/junk"), "_layers", "sha256"))
    consistent(registry.root)
    assert client.get_blob("gc/live", sha(layer)) == layer


def test_refuses_a_directory_that_is_no_registry(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "reference_impl.registry", "garbage-collect",
                           "--root", str(tmp_path)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 1 and "not a registry root" in proc.stderr


def test_docker_push_while_collecting(registry, tmp_path, unique):
    """The real docker daemon pushes (then pulls back) while collections run back to back."""
    from test_registry_interop_docker import Docker, _docker_works
    assert _docker_works(), "no usable docker daemon"
    (tmp_path / "docker-config").mkdir()
    docker = Docker(str(tmp_path / "docker-config"))
    client = RegistryClient(registry.address)
    _, _, old_layer = push_image(client, f"{unique}/old", "v1", {"f": b"old\n"})
    client.delete_manifest(f"{unique}/old", client.manifest_digest(f"{unique}/old", "v1"))
    age_everything(registry.root)
    refs = [f"{registry.address}/{unique}/img{i}:1" for i in range(3)]
    try:
        for i, ref in enumerate(refs):
            docker.import_image(ref, tmp_path, os.urandom(1 << 20) + f"{unique} {i}".encode())
        stop = threading.Event()
        runs = []

        def collector():
            while not stop.is_set():
                gc(registry.root)
                runs.append(1)

        thread = threading.Thread(target=collector)
        thread.start()
        try:
            ids = {ref: docker.image_id(ref) for ref in refs}
            for ref in refs:
                docker("push", ref)
        finally:
            stop.set()
            thread.join(120)
        assert runs, "no collection ran"
        consistent(registry.root)
        for ref in refs:
            docker("rmi", ref)
            docker("pull", ref)
            assert docker.image_id(ref) == ids[ref]
        assert client.blob_exists(f"{unique}/old", sha(old_layer)) is None
    finally:
        docker.cleanup()
