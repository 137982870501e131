"""OCI distribution 1.1: artifact manifests (artifactType, the empty config), `subject`
and the OCI-Subject header, the referrers API with its artifactType filter; checked
over HTTP and through strata's client."""
import json

import pytest

from reference_impl.registry.client import RegistryClient
from registry_helpers import OCI_INDEX, OCI_MANIFEST, expect_error, image_manifest, push_blob, put_manifest, sha

EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
SIGNATURE = "application/vnd.example.signature.v1"
SBOM = "application/vnd.example.sbom.v1"


def subject_of(server, name: str) -> tuple[str, int]:
    """Push an image to `name`; (its digest, its size)."""
    data = image_manifest(server, name, OCI_MANIFEST, layers=(f"layer of {name}".encode(),))
    assert put_manifest(server, name, "v1", data, OCI_MANIFEST).status_code == 201
    return sha(data), len(data)


def artifact(server, name: str, artifact_type: str, subject: tuple[str, int] | None,
             payload: bytes, **extra) -> bytes:
    """An OCI 1.1 artifact manifest: the empty config, one blob, artifactType, subject."""
    assert push_blob(server, name, b"{}") == EMPTY_DIGEST
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
           "config": {"mediaType": EMPTY_TYPE, "digest": EMPTY_DIGEST, "size": 2},
           "layers": [{"mediaType": "application/octet-stream", "size": len(payload),
                       "digest": push_blob(server, name, payload)}], **extra}
    if subject:
        doc["subject"] = {"mediaType": OCI_MANIFEST, "digest": subject[0], "size": subject[1]}
    return json.dumps(doc).encode()


def referrers(server, name: str, digest: str, **params):
    r = server.get(f"/v2/{name}/referrers/{digest}", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == OCI_INDEX
    body = r.json()
    assert body["schemaVersion"] == 2 and body["mediaType"] == OCI_INDEX
    return body["manifests"], r.headers


def test_unknown_digest_has_an_empty_referrers_index(shared_registry, unique):
    found, headers = referrers(shared_registry, unique, sha(b"nothing refers to this"))
    assert found == []
    assert "OCI-Filters-Applied" not in headers


@pytest.mark.parametrize("digest", ["sha256:abc", "md5:" + "0" * 32, "sha256:" + "G" * 64, "latest"])
def test_referrers_of_a_malformed_digest_is_digest_invalid(shared_registry, unique, digest):
    expect_error(shared_registry.get(f"/v2/{unique}/referrers/{digest}"), 400, "DIGEST_INVALID")


def test_manifest_with_subject_answers_oci_subject_and_is_listed(shared_registry, unique):
    subject = subject_of(shared_registry, unique)
    sig = artifact(shared_registry, unique, SIGNATURE, subject, b"signature",
                   annotations={"org.example.signed-by": "strata"})
    r = put_manifest(shared_registry, unique, sha(sig), sig, OCI_MANIFEST)
    assert r.status_code == 201, r.text
    assert r.headers["OCI-Subject"] == subject[0]
    plain = image_manifest(shared_registry, unique, OCI_MANIFEST, layers=(b"no subject",))
    assert "OCI-Subject" not in put_manifest(shared_registry, unique, "plain", plain, OCI_MANIFEST).headers
    found, _ = referrers(shared_registry, unique, subject[0])
    assert found == [{"mediaType": OCI_MANIFEST, "digest": sha(sig), "size": len(sig),
                      "artifactType": SIGNATURE, "annotations": {"org.example.signed-by": "strata"}}]
    # the artifact itself is an ordinary manifest: by digest, with its empty config
    got = shared_registry.get(f"/v2/{unique}/manifests/{sha(sig)}", headers={"Accept": OCI_MANIFEST})
    assert got.content == sig and got.headers["Docker-Content-Digest"] == sha(sig)
    assert shared_registry.get(f"/v2/{unique}/blobs/{EMPTY_DIGEST}").content == b"{}"


def test_artifact_type_filter(shared_registry, unique):
    subject = subject_of(shared_registry, unique)
    pushed = {}
    for kind, payload in ((SIGNATURE, b"sig"), (SBOM, b"sbom")):
        data = artifact(shared_registry, unique, kind, subject, payload)
        assert put_manifest(shared_registry, unique, sha(data), data, OCI_MANIFEST).status_code == 201
        pushed[kind] = sha(data)
    everything, headers = referrers(shared_registry, unique, subject[0])
    assert sorted(d["digest"] for d in everything) == sorted(pushed.values())
    assert "OCI-Filters-Applied" not in headers
    only, headers = referrers(shared_registry, unique, subject[0], artifactType=SBOM)
    assert [d["digest"] for d in only] == [pushed[SBOM]]
    assert headers["OCI-Filters-Applied"] == "artifactType"
    none, headers = referrers(shared_registry, unique, subject[0], artifactType="application/x-none")
    assert none == [] and headers["OCI-Filters-Applied"] == "artifactType"


def test_image_manifest_without_artifact_type_is_listed_by_config_type(shared_registry, unique):
    subject = subject_of(shared_registry, unique)
    doc = json.loads(image_manifest(shared_registry, unique, OCI_MANIFEST, layers=(b"attached image",)))
    doc["subject"] = {"mediaType": OCI_MANIFEST, "digest": subject[0], "size": subject[1]}
    data = json.dumps(doc).encode()
    assert put_manifest(shared_registry, unique, sha(data), data, OCI_MANIFEST).status_code == 201
    found, _ = referrers(shared_registry, unique, subject[0])
    assert [d["artifactType"] for d in found] == ["application/vnd.oci.image.config.v1+json"]


def test_index_with_subject_and_artifact_type(shared_registry, unique):
    subject = subject_of(shared_registry, unique)
    child = artifact(shared_registry, unique, SBOM, None, b"sbom part")
    assert put_manifest(shared_registry, unique, sha(child), child, OCI_MANIFEST).status_code == 201
    index = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": SBOM,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha(child), "size": len(child)}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject[0], "size": subject[1]}}).encode()
    r = put_manifest(shared_registry, unique, "sbom-index", index, OCI_INDEX)
    assert r.status_code == 201, r.text
    assert r.headers["OCI-Subject"] == subject[0]
    found, _ = referrers(shared_registry, unique, subject[0], artifactType=SBOM)
    assert found == [{"mediaType": OCI_INDEX, "digest": sha(index), "size": len(index),
                      "artifactType": SBOM}]


def test_subject_in_another_repository_is_listed_there_only(shared_registry, unique):
    """The subject need not exist in the referrer's repository (it may come later);
    the referrer is listed in its own repository and never leaks into the subject's."""
    subject = subject_of(shared_registry, f"{unique}/images")
    sig = artifact(shared_registry, f"{unique}/signatures", SIGNATURE, subject, b"cross-repo sig")
    r = put_manifest(shared_registry, f"{unique}/signatures", sha(sig), sig, OCI_MANIFEST)
    assert r.status_code == 201 and r.headers["OCI-Subject"] == subject[0]
    assert referrers(shared_registry, f"{unique}/images", subject[0])[0] == []
    found, _ = referrers(shared_registry, f"{unique}/signatures", subject[0])
    assert [d["digest"] for d in found] == [sha(sig)]
    expect_error(shared_registry.get(f"/v2/{unique}/signatures/manifests/{subject[0]}"),
                 404, "MANIFEST_UNKNOWN")


def test_deleted_referrer_leaves_the_list(shared_registry, unique):
    subject = subject_of(shared_registry, unique)
    sig = artifact(shared_registry, unique, SIGNATURE, subject, b"to be deleted")
    assert put_manifest(shared_registry, unique, "sig", sig, OCI_MANIFEST).status_code == 201
    assert shared_registry.call("DELETE", f"/v2/{unique}/manifests/{sha(sig)}").status_code == 202
    assert referrers(shared_registry, unique, subject[0])[0] == []
    expect_error(shared_registry.call("DELETE", f"/v2/{unique}/manifests/{sha(sig)}"), 404, "MANIFEST_UNKNOWN")
    expect_error(shared_registry.call("DELETE", f"/v2/{unique}/manifests/sha256:xyz"), 400, "DIGEST_INVALID")
    expect_error(shared_registry.call("DELETE", f"/v2/{unique}/blobs/{sha(b'never pushed')}"), 404, "BLOB_UNKNOWN")
    expect_error(shared_registry.call("DELETE", f"/v2/{unique}/blobs/sha256:xyz"), 400, "DIGEST_INVALID")
    expect_error(shared_registry.call("DELETE", f"/v2/{unique}/referrers/{subject[0]}"), 405, "UNSUPPORTED")


@pytest.mark.parametrize("change", [
    {"artifactType": "not a media type"},
    {"artifactType": 7},
    {"subject": {"mediaType": OCI_MANIFEST, "digest": "sha256:short", "size": 1}},
    {"subject": "sha256:" + "0" * 64},
    {"annotations": {"key": 1}},
])
def test_bad_oci_fields_are_manifest_invalid(shared_registry, unique, change):
    doc = json.loads(artifact(shared_registry, unique, SIGNATURE, None, b"x"))
    doc.update(change)
    expect_error(put_manifest(shared_registry, unique, "bad", json.dumps(doc).encode(), OCI_MANIFEST),
                 400, "MANIFEST_INVALID")
    expect_error(shared_registry.get(f"/v2/{unique}/manifests/bad"), 404, "MANIFEST_UNKNOWN")


def test_client_lists_referrers(shared_registry, unique):
    subject = subject_of(shared_registry, unique)
    client = RegistryClient(shared_registry.address)
    sig = artifact(shared_registry, unique, SIGNATURE, subject, b"client sig")
    assert client.put_manifest(unique, sha(sig), sig, OCI_MANIFEST) == sha(sig)
    found, applied = client.referrers(unique, subject[0], artifact_type=SIGNATURE)
    assert [d["digest"] for d in found] == [sha(sig)] and applied == ["artifactType"]
    assert client.referrers(unique, subject[0], artifact_type=SBOM) == ([], ["artifactType"])


def test_oras_pushes_an_artifact_with_a_subject(registry, tmp_path):
    """oras-py (an OCI 1.1 client of its own) attaches a file to an image with `subject`:
    the registry answers OCI-Subject and lists it; oras pulls the file back."""
    import oras.client
    import oras.oci
    client = oras.client.OrasClient(hostname=registry.address, insecure=True)
    (tmp_path / "payload.txt").write_text("the image\n")
    (tmp_path / "sig.txt").write_text("its signature\n")
    target = f"{registry.address}/oras/app"
    r = client.push(target=f"{target}:v1", files=[str(tmp_path / "payload.txt")],
                    disable_path_validation=True, quiet=True)
    assert r.status_code == 201 and "OCI-Subject" not in r.headers
    subject = oras.oci.Subject.from_manifest(client.get_manifest(f"{target}:v1"))
    assert subject.digest == r.headers["Docker-Content-Digest"]
    r = client.push(target=f"{target}:sig", files=[f"{tmp_path / 'sig.txt'}:{SIGNATURE}"],
                    subject=subject, manifest_annotations={"org.example.kind": "signature"},
                    disable_path_validation=True, quiet=True)
    assert r.status_code == 201 and r.headers["OCI-Subject"] == subject.digest
    found, _ = referrers(registry, "oras/app", subject.digest)
    assert [(d["digest"], d["annotations"]) for d in found] == [
        (r.headers["Docker-Content-Digest"], {"org.example.kind": "signature"})]
    pulled = client.pull(target=f"{target}:sig", outdir=str(tmp_path / "out"))
    assert [open(p).read() for p in pulled] == ["its signature\n"]
